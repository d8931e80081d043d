"""The plugin's HTTP goes the way QGIS's does: its proxy settings and its trusted CAs."""

from __future__ import annotations

import base64
import http.client
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def test_system_proxy_leaves_environment_handling(plugin_settings):
    _use_proxy(3128)
    QgsSettings().setValue("proxy/proxyType", "DefaultProxy")
    session = build_session()
    assert session.trust_env and not session.proxies


def test_tls_uses_the_cas_qgis_trusts_and_our_user_agent(plugin_settings):
    session = build_session()
    assert isinstance(session.verify, str)
    with open(session.verify, encoding="ascii", errors="replace") as bundle:
        assert bundle.read().count("BEGIN CERTIFICATE") > 10  # the system roots QGIS trusts
    assert session.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("os_downloads/") and "QGIS/3." in user_agent()


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate no public CA signed."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=OS Downloads test CA",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"hello"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


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
