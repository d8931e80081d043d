"""The OS Downloads API client against the replica, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import socket

import pytest

from os_downloads.core import __version__
from os_downloads.core.api.auth import ApiKeyAuth, OAuth2ClientCredentials
from os_downloads.core.api.client import BASE_URL_ENV, DEFAULT_BASE_URL, OSDownloadsClient
from os_downloads.core.errors import (
    AuthenticationError,
    ConfigurationError,
    DownloadError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    describe,
)
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.net.transport import origin

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total_wait=2.0)
TOPOGRAPHY = "0040154231"


@pytest.fixture
def opendata(replica):
    return OSDownloadsClient(replica.api_url, retry=FAST)


@pytest.fixture
def keyed(replica):
    return OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key), retry=FAST)


def test_lists_every_product_and_keeps_the_quirks(opendata):
    products = {p.id: p for p in opendata.products()}
    assert {"OpenRivers", "Terrain50", "CodePointOpen", "BoundaryLine"} <= set(products)
    radon = opendata.product("Radon_Indicative_Atlas")
    assert radon.version == "Version 3 (GB); Version 1 (NI)"
    assert "NI" in radon.areas
    assert opendata.product("LIDS").data_structures == ("Identifier",)
    expanded = {p.id: p for p in opendata.products(expanded=True)}
    assert expanded["OpenRivers"].formats and expanded["OpenRivers"].downloads_url


def test_downloads_filter_by_the_real_format_strings(opendata):
    grids = opendata.product_downloads("Terrain50", format="ASCII Grid and GML (Grid)", area="GB")
    assert [d.file_name for d in grids] == ["terr50_gagg_gb.zip"]
    assert grids[0].md5 and grids[0].size
    shapes = opendata.product_downloads("BoundaryLine", format="ESRI® Shapefile")
    assert [d.file_name for d in shapes] == ["bdline_essh_gb.zip"]
    tiles = {d.area for d in opendata.product_downloads("OpenGreenspace", format="GML")}
    assert {"GB", "TQ", "TL"} <= tiles


def test_a_download_url_resolves_to_a_signed_url_on_the_storage_origin(replica, opendata):
    (download,) = opendata.product_downloads("OpenRivers", format="GeoPackage", area="GB")
    signed = opendata.resolve_download(download.url)
    assert origin(signed) == replica.storage_origin and "sig=" in signed
    response = opendata.storage_session.get(signed, timeout=10)
    assert response.status_code == 200 and len(response.content) == download.size


def test_product_thumbnail_follows_the_redirect(opendata):
    assert opendata.product_image("OpenRivers", 0)[:3] == b"\xff\xd8\xff"  # JPEG


def test_data_packages_with_a_key_in_the_header(keyed):
    packages = {p.id: p for p in keyed.data_packages()}
    assert TOPOGRAPHY in packages
    versions = keyed.data_package_versions(TOPOGRAPHY)
    assert versions[0].created_on >= versions[-1].created_on
    latest = keyed.data_package_version(TOPOGRAPHY)
    assert latest.id == versions[0].id and latest.next_version_url is None
    assert latest.previous_version_url and latest.downloads
    first = keyed.data_package_version(TOPOGRAPHY, versions[-1].id)
    assert first.supply_type == "FULL" and not first.is_change_only


def test_the_key_never_leaves_the_api_origin_nor_enters_a_url_or_log(replica, keyed, caplog):
    caplog.set_level(logging.DEBUG)
    version = keyed.data_package_version(TOPOGRAPHY)
    signed = keyed.resolve_download(version.downloads[0].url)
    keyed.storage_session.get(signed, timeout=10).close()

    log = replica.requests_log
    storage = [e for e in log if e["origin"] == "storage"]
    assert storage, "the file was fetched from storage"
    for entry in storage:
        lowered = {k.lower(): v for k, v in entry["headers"].items()}
        assert "key" not in lowered and "authorization" not in lowered
    for entry in log:
        assert replica.api_key not in entry["path"] + entry["query"]
    assert replica.api_key not in signed
    assert replica.api_key not in caplog.text


def test_the_key_is_not_sent_to_a_host_that_is_not_the_api(keyed):
    with pytest.raises(DownloadError, match="not the API's origin"):
        keyed.resolve_download("http://127.0.0.2:9/dataPackages/1/versions/2/downloads?fileName=x")


def test_opendata_requests_carry_no_key(replica, keyed):
    keyed.products()
    (entry,) = [e for e in replica.requests_log if e["path"].endswith("/products")]
    assert "key" not in {k.lower() for k in entry["headers"]}
    assert entry["headers"].get("user-agent", "").startswith(f"os_downloads/{__version__}")


def test_oauth2_token_is_fetched_once_and_renewed_after_expiry(replica):
    auth = OAuth2ClientCredentials(replica.api_key, replica.api_secret)
    client = OSDownloadsClient(replica.api_url, auth=auth, retry=FAST)
    client.data_packages()
    client.data_packages()
    tokens = [e for e in replica.requests_log if e["path"].endswith("/oauth2/token/v1")]
    assert len(tokens) == 1
    replica.expire_tokens()
    assert client.data_packages()  # a 401 for the expired token, then a fresh one
    tokens = [e for e in replica.requests_log if e["path"].endswith("/oauth2/token/v1")]
    assert len(tokens) == 2
    packages = [e for e in replica.requests_log if e["path"].endswith("/dataPackages")]
    assert all("key" not in {k.lower() for k in e["headers"]} for e in packages)


def test_a_bad_key_says_what_to_fix_without_revealing_it(replica):
    client = OSDownloadsClient(replica.api_url, auth=ApiKeyAuth("not-the-right-key"), retry=FAST)
    with pytest.raises(AuthenticationError) as caught:
        client.data_packages()
    line = describe(caught.value)
    assert "API key" in line and "not-the-right-key" not in line
    assert "Traceback" not in line


def test_data_packages_without_a_key_is_a_configuration_error(opendata):
    with pytest.raises(ConfigurationError) as caught:
        opendata.data_packages()
    assert "key" in describe(caught.value)


def test_not_found_carries_the_helper_links(opendata):
    with pytest.raises(NotFoundError) as caught:
        opendata.product("NoSuchProduct")
    assert caught.value.status == 404
    assert caught.value.links and "Start again from" in caught.value.hint


def test_a_429_storm_is_survived_and_a_long_one_ends_in_a_clear_error(replica, opendata):
    replica.set_faults(api_429_count=2, retry_after=0)
    assert opendata.product("OpenRivers").id == "OpenRivers"
    replica.set_faults(api_429_count=50, retry_after=0)
    with pytest.raises(RateLimitedError) as caught:
        opendata.product("OpenRivers")
    assert "limit" in describe(caught.value)


def test_server_errors_on_gets_are_retried(replica, opendata):
    replica.set_faults(api_5xx_every=2)
    for _ in range(4):
        assert opendata.product("Terrain50").name


def test_an_unreachable_api_is_a_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    client = OSDownloadsClient(f"http://127.0.0.1:{port}/downloads/v1", retry=FAST)
    with pytest.raises(NetworkError) as caught:
        client.products()
    assert "internet connection" in describe(caught.value)


def test_base_url_comes_from_setting_then_environment_then_default(monkeypatch):
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    assert OSDownloadsClient().base_url == DEFAULT_BASE_URL
    monkeypatch.setenv(BASE_URL_ENV, "http://127.0.0.1:1/downloads/v1/")
    assert OSDownloadsClient().base_url == "http://127.0.0.1:1/downloads/v1"
    assert OSDownloadsClient("https://example.test/v1").base_url == "https://example.test/v1"
    with pytest.raises(ConfigurationError):
        OSDownloadsClient("ftp://nowhere")
