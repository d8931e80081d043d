"""A ``requests.Session`` that goes out the way QGIS does: its proxy, its CAs.

Users behind corporate proxies configure QGIS once (Settings > Options >
Network); a plugin using ``requests`` ignores that unless told (a top
complaint about download plugins). This reads the same settings QGIS's own
network manager reads (``proxy/*`` in QgsSettings, see
``QgsNetworkAccessManager::setupDefaultProxyAndCache``) and maps them on to
the session:

- proxy off, or "Default Proxy" (the system's): requests' own environment and
  system handling (``trust_env``) stays on;
- an HTTP or SOCKS5 proxy: ``session.proxies`` with its user/password (or
  those of the ``proxy/authcfg`` entry), ``trust_env`` off so environment
  variables cannot override it;
- "no proxy" URLs and the older "excluded" URLs: those hosts go direct (an
  empty proxy entry per host survives ``core.http.copy_transport``). QGIS
  matches URL prefixes; requests can only match scheme+host, so a prefix with
  a path excludes the whole host.

TLS: the CAs QGIS trusts (system roots + CAs added in its Authentication
Manager - untrusted ones) are written to one PEM bundle used as
``session.verify``. Per-host SSL exceptions saved in QGIS: the server
certificate saved with the exception is trusted too; hosts whose exception
turns peer verification off get an adapter without verification. Not
covered: per-host TLS protocol versions. The storage session that
``core.http.copy_transport`` derives is of the same class with the same
adapters, so all of the above holds for file downloads too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

import requests
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsSettings
from qgis.PyQt.QtNetwork import QSslSocket

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


def apply_proxy(session: requests.Session, proxy: ProxySettings) -> None:
    """Point ``session`` at the QGIS proxy (see the module docstring for the rules)."""
    if not proxy.is_manual:
        session.trust_env = True
        if proxy.enabled and proxy.type not in ("DefaultProxy", "NoProxy"):
            log.warning("QGIS proxy type %s is not supported; using system settings.", proxy.type)
        return
    if proxy.type in SOCKS_PROXY_TYPES and not _has_socks_support():
        log.warning(
            "QGIS uses a SOCKS5 proxy but Python's PySocks is not installed; "
            "using the system/environment proxy settings instead."
        )
        session.trust_env = True
        return
    url = proxy_url(proxy)
    session.trust_env = False  # environment variables must not override QGIS's choice
    proxies: Dict[str, str] = {"http": url, "https": url}
    for key in _direct_keys(proxy.no_proxy_urls + proxy.excluded_urls):
        proxies[key] = ""  # an empty proxy means "connect directly" to requests
    session.proxies.update(proxies)
    log.info("Using the QGIS proxy %s:%s", proxy.host, proxy.port or "")


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
    """A PEM file with every CA QGIS trusts plus saved server exceptions.

    None when QGIS's Authentication Manager is disabled (requests' default
    CAs are used then). The file is only rewritten when its content changes.
    """
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        return None
    pem = bytes(manager.trustedCaCertsPemText())
    for config in manager.sslCertCustomConfigs():
        certificate = config.sslCertificate()
        if not certificate.isNull():
            pem += b"\n" + bytes(certificate.toPem())
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


class _NoVerifyAdapter(requests.adapters.HTTPAdapter):
    """For hosts the user told QGIS not to verify (a saved SSL exception)."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["verify"] = False
        return super().send(request, **kwargs)


def unverified_hosts() -> List[str]:
    """host:port of QGIS SSL exceptions that switch peer verification off."""
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        return []
    hosts = []
    for config in manager.sslCertCustomConfigs():
        verify_none = config.sslPeerVerifyMode() == QSslSocket.PeerVerifyMode.VerifyNone
        if verify_none or list(config.sslIgnoredErrorEnums()):
            hosts.append(config.sslHostPort())
    return hosts


def apply_tls(session: requests.Session) -> None:
    bundle = ca_bundle_path()
    if bundle:
        session.verify = bundle
    for host_port in unverified_hosts():
        host, _, port = host_port.partition(":")
        adapter = _NoVerifyAdapter()
        session.mount(f"https://{host}:{port or 443}/", adapter)
        if port in ("", "443"):
            session.mount(f"https://{host}/", adapter)
        log.info("TLS verification is off for %s (QGIS SSL exception).", host_port)


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
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    apply_proxy(session, read_proxy_settings())
    apply_tls(session)
    return session
