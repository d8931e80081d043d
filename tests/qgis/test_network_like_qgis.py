"""The plugin's HTTP goes the way QGIS's does: its proxy settings and its trusted CAs."""

from __future__ import annotations

import base64
import datetime
import http.client
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from conftest import wait_until
from qgis.core import QgsSettings

from os_downloads.integration.client_factory import build_client, close_client
from os_downloads.integration.network import build_session, read_proxy_settings, user_agent

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
}


class ForwardingProxy:
    """A tiny HTTP forward proxy on 127.0.0.1 that records what passes through it."""

    def __init__(self, user: str = "", password: str = "") -> None:
        self.seen: List[Tuple[str, str]] = []  # (method, absolute URL)
        self.credentials: List[str] = []  # Proxy-Authorization values received
        expected = ""
        if user:
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                given = self.headers.get("Proxy-Authorization", "")
                proxy.credentials.append(given)
                if expected and given != expected:
                    self.send_response(407)
                    self.send_header("Proxy-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.seen.append((self.command, self.path))
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path or "/", body=body, headers=headers)
                answer = upstream.getresponse()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                while True:
                    chunk = answer.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                upstream.close()
                self.close_connection = True

            do_GET = do_POST = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForwardingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _use_proxy(port: int, user: str = "", password: str = "", no_proxy: List[str] = ()) -> None:
    """What Settings > Options > Network > "Use proxy for web access" writes."""
    qs = QgsSettings()
    qs.setValue("proxy/proxyEnabled", True)
    qs.setValue("proxy/proxyType", "HttpProxy")
    qs.setValue("proxy/proxyHost", "127.0.0.1")
    qs.setValue("proxy/proxyPort", str(port))
    qs.setValue("proxy/proxyUser", user)
    qs.setValue("proxy/proxyPassword", password)
    qs.setValue("proxy/noProxyUrls", list(no_proxy))


def test_listing_in_the_dock_goes_through_the_qgis_proxy(
    plugin_settings, replica, plugin_iface, qgis_new_project
):
    from os_downloads.ui.dock import OSDownloadsDock

    with ForwardingProxy("proxyuser", "proxy-pass-123") as proxy:
        _use_proxy(proxy.port, "proxyuser", "proxy-pass-123")
        dock = OSDownloadsDock(plugin_iface)
        try:
            dock.show()
            wait_until(lambda: dock.opendata_tab.products, 20, "products through the proxy")
            assert dock.opendata_tab.select_product("OpenRivers")
            wait_until(lambda: dock.opendata_tab.format_combo.count(), 20, "formats")
        finally:
            dock.shutdown()
            dock.deleteLater()
    urls = [url for _method, url in proxy.seen]
    assert any(url.startswith(replica.api_url + "/products") for url in urls)
    assert any("/products/OpenRivers/downloads" in url for url in urls)
    assert all(cred.startswith("Basic ") for cred in proxy.credentials)


def test_downloads_from_storage_also_go_through_the_proxy(plugin_settings, replica):
    with ForwardingProxy() as proxy:
        _use_proxy(proxy.port)
        client = build_client(with_credentials=False)
        try:
            download = client.product_downloads("OpenRivers", format="GeoPackage", area="GB")[0]
            signed = client.resolve_download(download.url)
            response = client.storage_session.get(signed, timeout=30)
            assert response.status_code == 200 and len(response.content) == download.size
        finally:
            close_client(client)
    urls = [url for _method, url in proxy.seen]
    assert any(url.startswith(replica.storage_origin) for url in urls)


def test_no_proxy_urls_go_direct(plugin_settings, replica):
    with ForwardingProxy() as proxy:
        _use_proxy(proxy.port, no_proxy=[replica.api_origin])
        client = build_client(with_credentials=False)
        try:
            assert client.products()
        finally:
            close_client(client)
    assert not any(url.startswith(replica.api_origin) for _m, url in proxy.seen)


def test_proxy_off_means_requests_own_environment_handling(plugin_settings):
    QgsSettings().setValue("proxy/proxyEnabled", False)
    assert not read_proxy_settings().is_manual
    session = build_session()
    assert session.trust_env and not session.proxies


def _use_system_proxy(no_proxy: List[str] = ()) -> None:
    """Options > Network > "Use proxy for web access", type "Default Proxy" (the system's)."""
    _use_proxy(3128, no_proxy=no_proxy)  # host and port are left over: the system's win
    QgsSettings().setValue("proxy/proxyType", "DefaultProxy")


@pytest.fixture
def system_proxy_env(monkeypatch):
    """The system proxy as Linux has it (Qt reads these variables there)."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_system_proxy_setting_sends_api_and_storage_through_the_systems_proxy(
    plugin_settings, replica, system_proxy_env
):
    with ForwardingProxy("sysuser", "sys-pass-456") as proxy:
        system_proxy_env.setenv("http_proxy", f"http://sysuser:sys-pass-456@127.0.0.1:{proxy.port}")
        _use_system_proxy()
        client = build_client(with_credentials=False)
        try:
            assert not client.storage_session.trust_env  # asked per URL, not left to requests
            download = client.product_downloads("OpenRivers", format="GeoPackage", area="GB")[0]
            signed = client.resolve_download(download.url)
            response = client.storage_session.get(signed, timeout=30)
            assert response.status_code == 200 and len(response.content) == download.size
        finally:
            close_client(client)
    urls = [url for _method, url in proxy.seen]
    assert any(url.startswith(replica.api_url + "/products/OpenRivers/downloads") for url in urls)
    assert any(url.startswith(replica.storage_origin) for url in urls)
    assert proxy.credentials and all(c.startswith("Basic ") for c in proxy.credentials)


def test_system_proxy_with_qgis_no_proxy_urls_goes_direct(
    plugin_settings, replica, system_proxy_env
):
    with ForwardingProxy() as proxy:
        system_proxy_env.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
        _use_system_proxy(no_proxy=[replica.api_origin])
        client = build_client(with_credentials=False)
        try:
            assert client.products()
        finally:
            close_client(client)
    assert not any(url.startswith(replica.api_origin) for _m, url in proxy.seen)


def test_system_proxy_when_the_system_has_none_connects_directly(
    plugin_settings, replica, system_proxy_env
):
    _use_system_proxy()
    client = build_client(with_credentials=False)
    try:
        assert client.products()
    finally:
        close_client(client)


def test_tls_uses_the_cas_qgis_trusts_and_our_user_agent(plugin_settings):
    session = build_session()
    assert isinstance(session.verify, str)
    with open(session.verify, encoding="ascii", errors="replace") as bundle:
        assert bundle.read().count("BEGIN CERTIFICATE") > 10  # the system roots QGIS trusts
    assert session.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("os_downloads/") and "QGIS/3." in user_agent()


def _self_signed(folder: Path, name: str, san: str) -> Tuple[Path, Path]:
    """A self-signed certificate and key for ``san`` ("IP:127.0.0.1" or "DNS:host")."""
    key_file, cert_file = folder / f"{name}-key.pem", folder / f"{name}-cert.pem"
    try:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography module nor openssl is installed")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN=OS Downloads test {name}", "-addext", f"subjectAltName={san}",
             "-keyout", str(key_file), "-out", str(cert_file)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert_file, key_file
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"OS Downloads test {name}")])
    kind, _, value = san.partition(":")
    alt = x509.IPAddress(ipaddress.ip_address(value)) if kind == "IP" else x509.DNSName(value)
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class HelloHttps:
    """An HTTPS server on 127.0.0.1 presenting a given certificate, answering "hello"."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        class Hello(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"hello"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def https_servers(tmp_path):
    """Starts HelloHttps servers for a test: ``start(san)`` -> (server, certificate file)."""
    started: List[HelloHttps] = []

    def start(san: str = "IP:127.0.0.1", name: str = "server") -> Tuple[HelloHttps, Path]:
        cert_file, key_file = _self_signed(tmp_path, f"{name}{len(started)}", san)
        server = HelloHttps(cert_file, key_file)
        started.append(server)
        return server, cert_file

    yield start
    for server in started:
        server.close()


@pytest.fixture
def https_server(https_servers):
    """One HTTPS server on 127.0.0.1 whose certificate no public CA signed."""
    server, cert_file = https_servers("IP:127.0.0.1")
    return server.url(), cert_file


@pytest.fixture
def ssl_exceptions(master_password):
    """Saves QGIS SSL server exceptions as the "SSL Errors" dialog does; removes them after."""
    from qgis.core import QgsApplication, QgsAuthCertUtils, QgsAuthConfigSslServer
    from qgis.PyQt.QtNetwork import QSslCertificate

    manager = QgsApplication.authManager()
    saved: List[Tuple[str, str]] = []

    def save(cert_file: Path, host_port: str, accepted) -> None:
        certificate = QSslCertificate(cert_file.read_bytes())
        config = QgsAuthConfigSslServer()
        config.setSslCertificate(certificate)
        config.setSslHostPort(host_port)
        config.setSslIgnoredErrorEnums(list(accepted))
        assert manager.storeSslCertCustomConfig(config)
        saved.append((QgsAuthCertUtils.shaHexForCert(certificate), host_port))

    yield save
    for sha, host_port in saved:
        manager.removeSslCertCustomConfig(sha, host_port)


def test_a_ca_added_to_the_qgis_auth_manager_is_trusted(plugin_settings, https_server):
    from qgis.core import QgsApplication
    from qgis.PyQt.QtNetwork import QSslCertificate

    url, cert_file = https_server
    with pytest.raises(requests.exceptions.SSLError):
        build_session().get(url, timeout=10)

    manager = QgsApplication.authManager()
    certificate = QSslCertificate(cert_file.read_bytes())
    assert manager.storeCertAuthority(certificate)
    manager.rebuildCaCertsCache()
    manager.rebuildTrustedCaCertsCache()
    try:
        response = build_session().get(url, timeout=10)
        assert response.status_code == 200 and response.content == b"hello"
    finally:
        manager.removeCertAuthority(certificate)
        manager.rebuildCaCertsCache()
        manager.rebuildTrustedCaCertsCache()


def _get(url: str) -> requests.Response:
    return build_session().get(url, timeout=10)


def test_an_accepted_self_signed_certificate_works_for_its_host_and_port_only(
    plugin_settings, https_servers, ssl_exceptions
):
    from qgis.PyQt.QtNetwork import QSslError

    server, cert_file = https_servers("IP:127.0.0.1")
    other, _ = https_servers("IP:127.0.0.1")
    with pytest.raises(requests.exceptions.SSLError):
        _get(server.url())  # before the user accepted anything

    ssl_exceptions(
        cert_file, f"127.0.0.1:{server.port}", [QSslError.SslError.SelfSignedCertificate]
    )
    response = _get(server.url())
    assert response.status_code == 200 and response.content == b"hello"

    with pytest.raises(requests.exceptions.SSLError):
        _get(other.url())  # another port: another server, no exception
    with pytest.raises(requests.exceptions.SSLError):
        _get(server.url("localhost"))  # the same server by another name: no exception
    # The exception's certificate is not trusted for every host through the CA bundle.
    bundle = build_session().verify
    assert isinstance(bundle, str)
    pem = cert_file.read_text("ascii").split("-----")[2].strip()
    assert pem not in Path(bundle).read_text(encoding="ascii", errors="replace")


def test_accepting_self_signed_does_not_accept_a_wrong_host_name(
    plugin_settings, https_servers, ssl_exceptions
):
    from qgis.PyQt.QtNetwork import QSslError

    server, cert_file = https_servers("DNS:wrong.example")  # served on 127.0.0.1
    host_port = f"127.0.0.1:{server.port}"
    ssl_exceptions(cert_file, host_port, [QSslError.SslError.SelfSignedCertificate])
    with pytest.raises(requests.exceptions.SSLError):
        _get(server.url())

    # Accepting both errors QGIS reported for it is what makes it work.
    ssl_exceptions(
        cert_file,
        host_port,
        [QSslError.SslError.SelfSignedCertificate, QSslError.SslError.HostNameMismatch],
    )
    assert _get(server.url()).content == b"hello"


def test_another_certificate_on_the_excepted_host_is_refused(
    plugin_settings, https_servers, ssl_exceptions, tmp_path
):
    from qgis.PyQt.QtNetwork import QSslError

    server, _served = https_servers("IP:127.0.0.1")
    accepted_earlier, _key = _self_signed(tmp_path, "earlier", "IP:127.0.0.1")
    ssl_exceptions(
        accepted_earlier, f"127.0.0.1:{server.port}", [QSslError.SslError.SelfSignedCertificate]
    )
    with pytest.raises(requests.exceptions.SSLError):
        _get(server.url())


def test_storage_downloads_keep_the_exception(plugin_settings, https_servers, ssl_exceptions):
    """The storage session core derives (copy_transport) keeps the per-host rule."""
    from qgis.PyQt.QtNetwork import QSslError

    from os_downloads.core.net.transport import copy_transport

    server, cert_file = https_servers("IP:127.0.0.1")
    ssl_exceptions(
        cert_file, f"127.0.0.1:{server.port}", [QSslError.SslError.SelfSignedCertificate]
    )
    storage = copy_transport(build_session(), user_agent())
    assert storage.get(server.url(), timeout=10).content == b"hello"
    with pytest.raises(requests.exceptions.SSLError):
        storage.get(server.url("localhost"), timeout=10)
