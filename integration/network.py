"""A ``requests.Session`` that goes out the way QGIS does: its proxy, its CAs.

Users behind corporate proxies configure QGIS once (Settings > Options >
Network); a plugin using ``requests`` ignores that unless told (a top
complaint about download plugins). This reads the same settings QGIS's own
network manager reads (``proxy/*`` in QgsSettings, see
``QgsNetworkAccessManager::setupDefaultProxyAndCache``) and maps them on to
the session:

- proxy off: requests' own environment handling (``trust_env``) stays on;
- "Default Proxy" (QGIS's "use the system proxy"): the system's proxy for each
  URL, asked from Qt (``SystemProxyResolver``: Windows/macOS settings with PAC
  where Qt provides it, the proxy variables on Linux), else the environment;
  QGIS's "no proxy" URLs go direct;
- an HTTP or SOCKS5 proxy: ``session.proxies`` with its user/password (or
  those of the ``proxy/authcfg`` entry), ``trust_env`` off so environment
  variables cannot override it. Proxy authentication is Basic only (requests
  has no NTLM/Negotiate; the README says what to do);
- "no proxy" URLs and the older "excluded" URLs: those hosts go direct (an
  empty proxy entry per host survives ``core.http.copy_transport``). QGIS
  matches URL prefixes; requests can only match scheme+host, so a prefix with
  a path excludes the whole host.

TLS: the CAs QGIS trusts (system roots + CAs added in its Authentication
Manager - untrusted ones) are written to one PEM bundle used as
``session.verify`` for every host. A per-host SSL exception saved in QGIS
applies to its own host:port only, and only to the certificate saved with it
(pinned by SHA-256) when every error QGIS finds with that certificate for that
host was accepted: an accepted "self-signed" does not also accept a wrong host
name. Not covered: per-host TLS protocol versions and verify depth. The
storage session that ``core.http.copy_transport`` derives shares the adapters,
so all of the above holds for file downloads too.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple
from urllib.parse import quote, urlsplit

import requests
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsSettings
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtNetwork import (
    QNetworkProxy,
    QNetworkProxyFactory,
    QNetworkProxyQuery,
    QSslCertificate,
    QSslError,
    QSslSocket,
)
from requests.utils import get_environ_proxies, select_proxy

from ..core import __version__
from ..core.redact import register_secret
from .compat import auth_manager, qgis_version_label
from .log import plugin_logger

log = plugin_logger("network")

HTTP_PROXY_TYPES = ("HttpProxy", "HttpCachingProxy")
SOCKS_PROXY_TYPES = ("Socks5Proxy",)


@dataclass(frozen=True)
class ProxySettings:
    """QGIS's proxy settings as the Options dialog stores them."""

    enabled: bool = False
    type: str = "DefaultProxy"
    host: str = ""
    port: int = 0
    user: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    authcfg: str = ""
    no_proxy_urls: Tuple[str, ...] = ()
    excluded_urls: Tuple[str, ...] = ()

    @property
    def is_manual(self) -> bool:
        """A proxy given by host and port (not "off", not the system's)."""
        return (
            self.enabled
            and self.type in HTTP_PROXY_TYPES + SOCKS_PROXY_TYPES
            and bool(self.host.strip())
        )


def _str_list(value: object) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split("|") if "|" in value else [value]
    return tuple(str(v).strip() for v in value if str(v).strip())  # type: ignore[union-attr]


def read_proxy_settings() -> ProxySettings:
    qs = QgsSettings()
    port_text = str(qs.value("proxy/proxyPort", "") or "").strip()
    return ProxySettings(
        enabled=bool(qs.value("proxy/proxyEnabled", False, type=bool)),
        type=str(qs.value("proxy/proxyType", "") or "DefaultProxy"),
        host=str(qs.value("proxy/proxyHost", "") or ""),
        port=int(port_text) if port_text.isdigit() else 0,
        user=str(qs.value("proxy/proxyUser", "") or ""),
        password=str(qs.value("proxy/proxyPassword", "") or ""),
        authcfg=str(qs.value("proxy/authcfg", "") or ""),
        no_proxy_urls=_str_list(qs.value("proxy/noProxyUrls", [])),
        excluded_urls=_str_list(qs.value("proxy/proxyExcludedUrls", [])),
    )


def _proxy_credentials(proxy: ProxySettings) -> Tuple[str, str]:
    """User/password: the proxy's authcfg entry wins over the plain settings."""
    user, password = proxy.user, proxy.password
    manager = auth_manager()
    if proxy.authcfg and manager is not None and proxy.authcfg in manager.configIds():
        config = QgsAuthMethodConfig()
        result = manager.loadAuthenticationConfig(proxy.authcfg, config, True)
        ok, config = result if isinstance(result, tuple) else (bool(result), config)
        if ok:
            user = config.config("username", "") or user
            password = config.config("password", "") or password
    register_secret(password)
    return user, password


def proxy_url(proxy: ProxySettings) -> str:
    """The proxy as requests wants it: ``http://`` (or ``socks5h://``), then the
    URL-quoted user and password with ``@`` when QGIS has them, then host and port."""
    scheme = "socks5h" if proxy.type in SOCKS_PROXY_TYPES else "http"
    user, password = _proxy_credentials(proxy)
    credentials = ""
    if user:
        credentials = quote(user, safe="")
        if password:
            credentials += ":" + quote(password, safe="")
        credentials += "@"
    port = f":{proxy.port}" if proxy.port else ""
    return f"{scheme}://{credentials}{proxy.host.strip()}{port}"


def _direct_keys(prefixes: Tuple[str, ...]) -> List[str]:
    """requests proxy-map keys (scheme://host) for URL prefixes that go direct."""
    keys: List[str] = []
    for prefix in prefixes:
        parts = urlsplit(prefix if "://" in prefix else f"//{prefix}")
        host = (parts.hostname or "").lower()
        if not host:
            continue
        schemes = [parts.scheme.lower()] if parts.scheme else ["http", "https"]
        keys.extend(f"{scheme}://{host}" for scheme in schemes)
    return keys


def apply_proxy(session: requests.Session, proxy: ProxySettings) -> Optional[SystemProxyResolver]:
    """Point ``session`` at the QGIS proxy (see the module docstring for the rules).

    Returns the per-URL resolver when QGIS says "use the system proxy" (the
    transport adapters consult it for every request).
    """
    if proxy.enabled and proxy.type == "DefaultProxy":
        session.trust_env = False  # the resolver falls back to the environment itself
        log.info("Using the system proxy settings (QGIS: Default Proxy).")
        return SystemProxyResolver(_direct_keys(proxy.no_proxy_urls))
    if not proxy.is_manual:
        session.trust_env = True
        if proxy.enabled and proxy.type != "NoProxy":
            log.warning("QGIS proxy type %s is not supported; using system settings.", proxy.type)
        return None
    if proxy.type in SOCKS_PROXY_TYPES and not _has_socks_support():
        log.warning(
            "QGIS uses a SOCKS5 proxy but Python's PySocks is not installed; "
            "using the system/environment proxy settings instead."
        )
        session.trust_env = True
        return None
    url = proxy_url(proxy)
    session.trust_env = False  # environment variables must not override QGIS's choice
    proxies: Dict[str, str] = {"http": url, "https": url}
    for key in _direct_keys(proxy.no_proxy_urls + proxy.excluded_urls):
        proxies[key] = ""  # an empty proxy means "connect directly" to requests
    session.proxies.update(proxies)
    log.info("Using the QGIS proxy %s:%s", proxy.host, proxy.port or "")
    return None


class SystemProxyResolver:
    """The system's proxy for each URL, as QGIS's "Default Proxy" setting uses it.

    Asks Qt (``QNetworkProxyFactory.systemProxyForQuery``: the Windows and
    macOS settings including PAC scripts and WPAD where Qt supports them, the
    ``http_proxy``/``https_proxy``/``no_proxy`` variables on Linux); when Qt
    names no proxy, the environment variables as requests reads them. Answers
    are cached per scheme, host and port (a PAC lookup can be slow).
    """

    def __init__(self, direct_keys: Iterable[str] = ()) -> None:
        self.direct_keys = frozenset(key.lower() for key in direct_keys)
        self._cache: Dict[Tuple[str, str, Optional[int]], Dict[str, str]] = {}
        self._lock = threading.Lock()

    def proxies_for(self, url: str) -> Dict[str, str]:
        """A requests proxy map for ``url``: ``{}`` means connect directly."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        if f"{scheme}://{host}" in self.direct_keys:
            return {}
        key = (scheme, host, parts.port)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        proxies = self._query(url, scheme)
        with self._lock:
            self._cache[key] = proxies
        return proxies

    def _query(self, url: str, scheme: str) -> Dict[str, str]:
        try:
            answers = QNetworkProxyFactory.systemProxyForQuery(QNetworkProxyQuery(QUrl(url)))
        except Exception:  # noqa: BLE001 - a broken system setting must not stop a download
            log.warning("Could not ask the system for its proxy; using the environment.")
            answers = []
        for answer in answers:
            kind = answer.type()
            if kind == QNetworkProxy.ProxyType.NoProxy:
                break
            if kind in (
                QNetworkProxy.ProxyType.HttpProxy,
                QNetworkProxy.ProxyType.HttpCachingProxy,
            ):
                proxy_scheme = "http"
            elif kind == QNetworkProxy.ProxyType.Socks5Proxy and _has_socks_support():
                proxy_scheme = "socks5h"
            else:
                continue
            register_secret(answer.password())
            credentials = ""
            if answer.user():
                credentials = quote(answer.user(), safe="")
                if answer.password():
                    credentials += ":" + quote(answer.password(), safe="")
                credentials += "@"
            port = f":{answer.port()}" if answer.port() > 0 else ""
            log.debug("System proxy for %s: %s%s", urlsplit(url).hostname, answer.hostName(), port)
            return {scheme: f"{proxy_scheme}://{credentials}{answer.hostName()}{port}"}
        return dict(get_environ_proxies(url))


class QgisTransportAdapter(requests.adapters.HTTPAdapter):
    """The plugin's adapter: asks the system proxy resolver when QGIS says so.

    Living on the adapter (not the session) keeps the per-URL proxy lookup on
    the storage session too: ``core.http.copy_transport`` carries adapters over.
    """

    def __init__(self, system_proxy: Optional[SystemProxyResolver] = None, **kwargs: Any) -> None:
        self.system_proxy = system_proxy
        super().__init__(**kwargs)

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        if (
            self.system_proxy is not None
            and select_proxy(request.url, kwargs.get("proxies")) is None
        ):
            kwargs["proxies"] = self.system_proxy.proxies_for(request.url)
        return super().send(request, **kwargs)


def _has_socks_support() -> bool:
    try:
        import socks  # noqa: F401
    except ImportError:
        return False
    return True


# --- TLS ---------------------------------------------------------------------


def _bundle_dir() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / "os_downloads" / "tls"


def ca_bundle_path() -> Optional[str]:
    """A PEM file with every CA QGIS trusts (system roots + Authentication Manager CAs).

    None when QGIS's Authentication Manager is disabled (requests' default
    CAs are used then). Certificates saved with SSL server exceptions are NOT
    added: they are trusted only for their own host and port (``SslException``).
    The file is only rewritten when its content changes.
    """
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        return None
    pem = bytes(manager.trustedCaCertsPemText())
    if b"BEGIN CERTIFICATE" not in pem:
        return None
    digest = hashlib.sha256(pem).hexdigest()[:16]
    path = _bundle_dir() / f"qgis-trusted-{digest}.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.replace(path)
    return str(path)


@dataclass(frozen=True)
class SslException:
    """A QGIS SSL server exception: one host:port, one saved certificate, the errors accepted.

    QGIS ignores the listed errors only for that certificate on that host:port
    (its ignored-errors cache is keyed by certificate digest and host:port).
    ``errors`` are what QGIS's verification finds wrong with the saved
    certificate for this host today; the exception applies only when every
    one of them was accepted (or the user set peer verification to "none").
    """

    host: str
    port: int
    fingerprint: str  # SHA-256 of the saved certificate (DER), hex
    accepted: FrozenSet[int]  # QSslError.SslError values the user accepted
    errors: FrozenSet[int]  # QSslError.SslError values of the saved certificate here
    verify_none: bool = False

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def not_accepted(self) -> FrozenSet[int]:
        return frozenset() if self.verify_none else self.errors - self.accepted

    @property
    def applies(self) -> bool:
        return not self.not_accepted


def ssl_error_text(codes: Iterable[int]) -> str:
    """QGIS's (Qt's) wording for SSL error codes, for log lines."""
    texts = [QSslError(QSslError.SslError(code)).errorString() for code in sorted(codes)]
    return "; ".join(texts) or "none"


def _split_host_port(host_port: str) -> Tuple[str, int]:
    host, _, port = host_port.strip().rpartition(":")
    if not host or not port.isdigit():
        return host_port.strip().strip("[]").lower(), 443
    return host.strip("[]").lower(), int(port)


def read_ssl_exceptions() -> List[SslException]:
    """The SSL server exceptions saved in QGIS's Authentication Manager. Main thread."""
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        return []
    found = []
    for config in manager.sslCertCustomConfigs():
        certificate = config.sslCertificate()
        if certificate.isNull() or not config.sslHostPort():
            continue
        host, port = _split_host_port(config.sslHostPort())
        errors = QSslCertificate.verify([certificate], host)
        found.append(
            SslException(
                host=host,
                port=port,
                fingerprint=hashlib.sha256(bytes(certificate.toDer())).hexdigest(),
                accepted=frozenset(int(e) for e in config.sslIgnoredErrorEnums()),
                errors=frozenset(int(e.error()) for e in errors),
                verify_none=config.sslPeerVerifyMode() == QSslSocket.PeerVerifyMode.VerifyNone,
            )
        )
    return found


class PinnedCertificateAdapter(QgisTransportAdapter):
    """HTTPS to one host:port that QGIS has an SSL exception for.

    The connection is accepted when the server presents exactly the saved
    certificate (its SHA-256 pinned; the TLS handshake proves the server holds
    its key), whose errors for this host the user accepted. Any other
    certificate gets the normal verification against the CAs QGIS trusts, so
    a server that later gets a proper certificate keeps working and a
    different self-signed one is refused.
    """

    def __init__(self, exception: SslException, **kwargs: Any) -> None:
        self.exception = exception
        super().__init__(**kwargs)
        self._verified = QgisTransportAdapter(
            system_proxy=kwargs.get("system_proxy"),
            pool_connections=kwargs.get("pool_connections", 4),
            pool_maxsize=kwargs.get("pool_maxsize", 32),
        )

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self.exception.fingerprint
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any):  # type: ignore[no-untyped-def]
        proxy_kwargs["assert_fingerprint"] = self.exception.fingerprint
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def _is_for(self, url: str) -> bool:
        parts = urlsplit(url)
        try:
            port = parts.port or 443
        except ValueError:
            return False
        return (
            parts.scheme.lower() == "https"
            and (parts.hostname or "").lower() == self.exception.host
            and port == self.exception.port
        )

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        if not self._is_for(request.url):
            return self._verified.send(request, **kwargs)
        pinned = dict(kwargs, verify=False)  # no CA check: the fingerprint check replaces it
        try:
            return super().send(request, **pinned)
        except requests.exceptions.SSLError as exc:
            if "Fingerprints did not match" not in str(exc):
                raise
        return self._verified.send(request, **kwargs)

    def close(self) -> None:
        super().close()
        self._verified.close()


def _mount_for_host(session: requests.Session, host: str, port: int, adapter: Any) -> None:
    netloc = f"[{host}]" if ":" in host else host
    session.mount(f"https://{netloc}:{port}/", adapter)
    if port == 443:
        session.mount(f"https://{netloc}/", adapter)


def apply_tls(
    session: requests.Session, system_proxy: Optional[SystemProxyResolver] = None
) -> None:
    """QGIS's trusted CAs for every host; its saved SSL exceptions for their own host only."""
    bundle = ca_bundle_path()
    if bundle:
        session.verify = bundle
    for exception in read_ssl_exceptions():
        if not exception.applies:
            log.warning(
                "The QGIS SSL exception for %s is not used: its saved certificate also has "
                "errors that were not accepted (%s). Edit the exception in QGIS "
                "(Options > Authentication > SSL Server Exceptions) if they are expected.",
                exception.host_port,
                ssl_error_text(exception.not_accepted),
            )
            continue
        adapter = PinnedCertificateAdapter(
            exception, system_proxy=system_proxy, pool_connections=4, pool_maxsize=32
        )
        _mount_for_host(session, exception.host, exception.port, adapter)
        log.info(
            "TLS for %s: the certificate saved with its QGIS SSL exception is accepted "
            "(accepted errors: %s); any other certificate is verified as usual.",
            exception.host_port,
            "all (peer verification off)"
            if exception.verify_none
            else ssl_error_text(exception.errors),
        )


def user_agent() -> str:
    return f"os_downloads/{__version__} QGIS/{qgis_version_label()}"


class QgisLikeSession(requests.Session):
    """Keeps the QGIS CA bundle even when the environment names another.

    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override
    ``session.verify`` whenever ``trust_env`` is on (psf/requests#3829); QGIS
    ignores those variables, and so do we once the bundle is QGIS's.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and isinstance(self.verify, str):
            merged["verify"] = self.verify
        return merged


def build_session() -> requests.Session:
    """A session configured like QGIS's network manager. Call on the main thread."""
    session = QgisLikeSession()
    session.headers["User-Agent"] = user_agent()
    system_proxy = apply_proxy(session, read_proxy_settings())
    adapter = QgisTransportAdapter(system_proxy, pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    apply_tls(session, system_proxy)
    return session
