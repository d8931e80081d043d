"""The replica behaves like the OS Downloads API where our client depends on it.

Most tests run against a replica over the tiny hand-made catalogue
(``replica.data.minidata``) so they can assert exact strings; the last ones run
against the generated sample data the rest of the suite uses.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from http.client import HTTPConnection, IncompleteRead
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
import requests

from os_downloads.replica import DEMO_API_KEY, DEMO_API_SECRET
from os_downloads.replica.data.minidata import (
    BGS_VERSION,
    BIG_FILE,
    PACKAGE_ID,
    PACKAGE_VERSIONS,
    write_tiny_catalogue,
)
from os_downloads.replica.server import ReplicaServer

TERRAIN50_URL_QUERY = "area=GB&format=ASCII+Grid+and+GML+%28Grid%29&redirect"


@pytest.fixture(scope="module")
def mini_server(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("mini-replica")
    write_tiny_catalogue(data_dir)
    with ReplicaServer(data_dir) as server:
        yield server


@pytest.fixture()
def mini(mini_server: ReplicaServer):
    yield mini_server
    mini_server.reset()


@pytest.fixture()
def http():
    with requests.Session() as session:
        yield session


def key_header(server: ReplicaServer) -> dict:
    return {"key": server.api_key}


def terrain50_grid(server: ReplicaServer, http: requests.Session) -> dict:
    listing = http.get(f"{server.api_url}/products/Terrain50/downloads").json()
    return next(d for d in listing if d["fileName"] == BIG_FILE)


# --- OpenData ---------------------------------------------------------------------


def test_landing_and_openapi(mini, http):
    links = http.get(mini.api_url).json()["links"]
    assert {"href": mini.api_url + "/products"}.items() <= links[1].items()
    assert any(link["rel"] == "documentation" for link in links)
    spec = http.get(mini.api_url + "/openapi.yaml")
    assert spec.headers["Content-Type"].startswith("application/yaml")
    assert "/dataPackages/{dataPackageId}/versions/{versionId}" in spec.text


def test_product_summaries_and_expanded_details_keep_the_quirks(mini, http):
    summaries = http.get(mini.api_url + "/products").json()
    assert set(summaries[0]) == {"id", "name", "description", "version", "url"}
    expanded = {p["id"]: p for p in http.get(mini.api_url + "/products?expanded").json()}
    terrain = expanded["Terrain50"]
    assert terrain["name"] == "OS Terrain® 50"
    assert isinstance(terrain["description"], list)
    assert terrain["imageTemplate"] == mini.api_url + "/products/Terrain50/images/{index}"
    assert terrain["downloadsUrl"] == mini.api_url + "/products/Terrain50/downloads"
    assert expanded["Radon_Indicative_Atlas"]["version"] == BGS_VERSION
    assert expanded["Radon_Indicative_Atlas"]["areas"] == ["GB", "NI"]
    assert expanded["LIDS"]["dataStructures"] == ["Identifier"]
    # Every URL the API hands out leads back to the same thing.
    for product in summaries:
        assert http.get(product["url"]).json() == expanded[product["id"]]


def test_download_urls_have_the_real_form_and_round_trip_to_a_signed_storage_url(mini, http):
    entry = terrain50_grid(mini, http)
    assert list(entry) == ["md5", "size", "fileName", "url", "format", "area"]
    assert entry["url"] == f"{mini.api_url}/products/Terrain50/downloads?{TERRAIN50_URL_QUERY}"
    answer = http.get(entry["url"], allow_redirects=False)
    assert answer.status_code == 307
    assert answer.json() == entry
    location = answer.headers["Location"]
    assert location.startswith(mini.storage_origin + "/downloads/Terrain50/2025-07/allGB/")
    assert {"sv", "se", "sr", "sp", "sig"} <= dict(parse_qsl(urlsplit(location).query)).keys()
    body = http.get(location).content
    assert len(body) == entry["size"]
    assert hashlib.md5(body).hexdigest() == entry["md5"]


def test_subformat_and_registered_sign_are_encoded_like_the_real_api(mini, http):
    terrain = http.get(f"{mini.api_url}/products/Terrain50/downloads").json()
    mbtiles = next(d for d in terrain if d.get("subformat") == "(MBTiles)")
    assert mbtiles["url"].endswith("?area=GB&format=Vector+Tiles&subformat=%28MBTiles%29&redirect")
    boundary = http.get(f"{mini.api_url}/products/BoundaryLine/downloads").json()
    shapefile = next(d for d in boundary if d["format"] == "ESRI® Shapefile")
    assert shapefile["url"].endswith("?area=GB&format=ESRI%C2%AE+Shapefile&redirect")
    assert http.get(shapefile["url"], allow_redirects=False).status_code == 307


@pytest.mark.parametrize("flag", ["redirect", "redirect=", "redirect=true"])
def test_redirect_flag_forms(mini, http, flag):
    url = f"{mini.api_url}/products/OpenGreenspace/downloads?area=TQ&{flag}"
    answer = http.get(url, allow_redirects=False)
    assert answer.status_code == 307
    assert answer.json()["fileName"] == "opgrsp_gml3_tq.zip"


def test_filters_and_redirect_with_several_matches_lists_them(mini, http):
    url = f"{mini.api_url}/products/OpenGreenspace/downloads"
    several = http.get(url + "?format=GML&redirect", allow_redirects=False)
    assert several.status_code == 200
    assert [d["area"] for d in several.json()] == ["GB", "TQ", "TL"]
    only = http.get(url, params={"fileName": "opgrsp_gml3_tl.zip"}).json()
    assert [d["fileName"] for d in only] == ["opgrsp_gml3_tl.zip"]
    assert http.get(url, params={"subformat": "3.2"}).json() == []


def test_images_redirect_to_storage(mini, http):
    image = http.get(f"{mini.api_url}/products/Terrain50/images/0?large", allow_redirects=False)
    assert image.status_code == 307
    assert image.headers["Location"].startswith(mini.storage_origin)
    assert http.get(image.headers["Location"]).headers["Content-Type"] == "image/jpeg"
    missing = http.get(f"{mini.api_url}/products/Terrain50/images/5")
    assert missing.status_code == 404
    assert missing.json()["productUrl"] == mini.api_url + "/products/Terrain50"


def test_not_found_bodies_carry_helper_links(mini, http):
    product = http.get(mini.api_url + "/products/NoSuchThing")
    assert product.status_code == 404
    assert product.json()["downloadCatalogueUrl"] == mini.api_url + "/products"
    package = http.get(mini.api_url + "/dataPackages/999", headers=key_header(mini))
    assert package.status_code == 404
    assert package.json()["dataPackagesUrl"] == mini.api_url + "/dataPackages"
    assert "message" in package.json()


# --- storage ------------------------------------------------------------------------


def test_storage_refuses_tampered_and_expired_signatures(mini, http):
    location = http.get(terrain50_grid(mini, http)["url"], allow_redirects=False).headers[
        "Location"
    ]
    parts = urlsplit(location)
    other_file = urlunsplit(parts._replace(path=parts.path.replace(BIG_FILE, "other.zip")))
    for url in (location.replace("sig=", "sig=x"), other_file):
        refused = http.get(url)
        assert refused.status_code == 403
        assert "<Code>AuthenticationFailed</Code>" in refused.text
    mini.set_faults(signed_url_ttl_seconds=-1)
    expired = http.get(
        http.get(terrain50_grid(mini, http)["url"], allow_redirects=False).headers["Location"]
    )
    assert expired.status_code == 403
    assert "Signed expiry time" in expired.text


def test_storage_serves_ranges_and_head(mini, http):
    entry = terrain50_grid(mini, http)
    location = http.get(entry["url"], allow_redirects=False).headers["Location"]
    whole = http.get(location).content
    tail = http.get(location, headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes 1000-{entry['size'] - 1}/{entry['size']}"
    assert tail.content == whole[1000:]
    middle = http.get(location, headers={"Range": "bytes=10-19"})
    assert (middle.status_code, middle.content) == (206, whole[10:20])
    beyond = http.get(location, headers={"Range": f"bytes={entry['size']}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{entry['size']}"
    head = http.head(location)
    assert head.headers["Content-Length"] == str(entry["size"])
    assert head.content == b""


# --- data packages and credentials ---------------------------------------------------------


def test_data_packages_need_a_key_or_token(mini, http):
    url = mini.api_url + "/dataPackages"
    missing = http.get(url)
    assert missing.status_code == 401
    assert missing.json()["message"]
    assert http.get(url, headers={"key": "not-a-key"}).status_code == 401
    assert http.get(url, headers={"key": DEMO_API_KEY}).status_code == 200
    assert http.get(url, params={"key": DEMO_API_KEY}).status_code == 200
    assert http.get(mini.api_url + "/products").status_code == 200  # OpenData: no key


def test_oauth2_token_flow(mini, http):
    answer = http.post(
        mini.token_url,
        auth=(DEMO_API_KEY, DEMO_API_SECRET),
        data={"grant_type": "client_credentials"},
    )
    token = answer.json()
    assert set(token) == {"access_token", "expires_in", "issued_at", "token_type"}
    assert (token["expires_in"], token["token_type"]) == (299, "Bearer")
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert http.get(mini.api_url + "/dataPackages", headers=bearer).status_code == 200
    mini.expire_tokens()
    expired = http.get(mini.api_url + "/dataPackages", headers=bearer)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]
    wrong = http.post(
        mini.token_url, auth=(DEMO_API_KEY, "nope"), data={"grant_type": "client_credentials"}
    )
    assert wrong.status_code == 401


def test_versions_newest_first_with_latest_and_neighbour_links(mini, http):
    base = f"{mini.api_url}/dataPackages/{PACKAGE_ID}"
    versions = http.get(base + "/versions", headers=key_header(mini)).json()
    assert [v["id"] for v in versions] == list(reversed(PACKAGE_VERSIONS))
    latest = http.get(base + "/versions/latest", headers=key_header(mini)).json()
    assert latest["id"] == PACKAGE_VERSIONS[-1]
    assert "nextVersionUrl" not in latest
    assert latest["previousVersionUrl"] == f"{base}/versions/{PACKAGE_VERSIONS[1]}"
    oldest = http.get(base + f"/versions/{PACKAGE_VERSIONS[0]}", headers=key_header(mini)).json()
    assert "previousVersionUrl" not in oldest
    assert oldest["nextVersionUrl"] == f"{base}/versions/{PACKAGE_VERSIONS[1]}"
    download = latest["downloads"][0]
    assert list(download) == ["md5", "size", "fileName", "url"]
    assert (
        download["url"]
        == f"{base}/versions/{latest['id']}/downloads?fileName={download['fileName']}"
    )
    redirect = http.get(download["url"], headers=key_header(mini), allow_redirects=False)
    assert redirect.status_code == 307
    body = requests.get(redirect.headers["Location"]).content
    assert hashlib.md5(body).hexdigest() == download["md5"]
    assert http.get(download["url"], allow_redirects=False).status_code == 401


def test_publishing_a_package_version_then_reset(mini, http):
    new = mini.publish_package_version(PACKAGE_ID)
    latest = http.get(
        f"{mini.api_url}/dataPackages/{PACKAGE_ID}/versions/latest", headers=key_header(mini)
    ).json()
    assert (latest["id"], latest["reason"], latest["supplyType"]) == (new.id, "UPDATE", "COU")
    assert latest["downloads"][0]["fileName"] not in {
        f"add_isl_royalmailaddress_{v}.zip" for v in PACKAGE_VERSIONS
    }
    mini.reset()
    again = http.get(
        f"{mini.api_url}/dataPackages/{PACKAGE_ID}/versions/latest", headers=key_header(mini)
    ).json()
    assert again["id"] == PACKAGE_VERSIONS[-1]


def test_publishing_a_product_version(mini, http):
    mini.publish_product_version("Terrain50", "2026-01")
    assert http.get(mini.api_url + "/products/Terrain50").json()["version"] == "2026-01"
    location = http.get(terrain50_grid(mini, http)["url"], allow_redirects=False).headers[
        "Location"
    ]
    assert "/Terrain50/2026-01/" in location
    assert http.get(location).status_code == 200


# --- rate limit and faults -----------------------------------------------------------------------


def test_rate_limit_answers_429_with_or_without_retry_after(mini, http):
    mini.set_faults(rate_limit_per_minute=2, retry_after=7)
    statuses = [http.get(mini.api_url + "/products").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = http.get(mini.api_url + "/products")
    assert limited.headers["Retry-After"] == "7"
    assert "Rate limit" in limited.json()["fault"]["faultstring"]
    mini.set_faults(retry_after=None)
    assert "Retry-After" not in http.get(mini.api_url + "/products").headers


def test_every_nth_api_request_fails_with_503(mini, http):
    mini.set_faults(api_5xx_every=2)
    statuses = [http.get(mini.api_url + "/products").status_code for _ in range(4)]
    assert statuses == [200, 503, 200, 503]


def body_until_closed(url: str) -> tuple[int, int]:
    """(Content-Length announced, body bytes that arrived) for one GET.

    Read with http.client, so the answer is what the server sent and not what
    a given urllib3 makes of it.
    """
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", urlunsplit(("", "", parts.path, parts.query, "")))
        response = connection.getresponse()
        announced = int(response.headers["Content-Length"])
        try:
            return announced, len(response.read())
        except IncompleteRead as short:
            return announced, len(short.partial)
    finally:
        connection.close()


def test_dropped_connection_then_a_good_one(mini, http):
    entry = terrain50_grid(mini, http)
    location = http.get(entry["url"], allow_redirects=False).headers["Location"]
    mini.set_faults(drop_after_bytes=5000, drop_count=1)
    assert body_until_closed(location) == (entry["size"], 5000)
    assert len(requests.get(location).content) == entry["size"]


def test_a_dropped_body_is_short_or_an_error_in_requests(mini, http):
    """What a client of the replica sees depends on urllib3: 1.26 hands over
    the short body without complaint (so clients must compare it with
    Content-Length themselves), 2.x raises ChunkedEncodingError, which is a
    RequestException but not a ConnectionError."""
    entry = terrain50_grid(mini, http)
    location = http.get(entry["url"], allow_redirects=False).headers["Location"]
    mini.set_faults(drop_after_bytes=5000, drop_count=1)
    try:
        received: Optional[int] = len(requests.get(location).content)
    except requests.RequestException:
        received = None
    assert received in (None, 5000)
    assert len(requests.get(location).content) == entry["size"]


def test_wrong_md5_and_corrupt_bodies(mini, http):
    true_md5 = terrain50_grid(mini, http)["md5"]
    mini.set_faults(wrong_md5={BIG_FILE})
    assert terrain50_grid(mini, http)["md5"] != true_md5
    mini.set_faults(wrong_md5=(), corrupt_files={BIG_FILE: 1})
    location = http.get(terrain50_grid(mini, http)["url"], allow_redirects=False).headers[
        "Location"
    ]
    assert hashlib.md5(http.get(location).content).hexdigest() != true_md5
    assert hashlib.md5(http.get(location).content).hexdigest() == true_md5


def test_slow_bodies_arrive_intact(mini, http):
    mini.set_faults(slow_bytes_per_second=1_000_000)
    entry = terrain50_grid(mini, http)
    location = http.get(entry["url"], allow_redirects=False).headers["Location"]
    assert hashlib.md5(http.get(location).content).hexdigest() == entry["md5"]


def test_control_endpoints_for_other_processes(mini, http):
    control = mini.api_origin + "/__replica__"
    assert http.post(control + "/faults", json={"api_5xx_every": 1}).json()["api_5xx_every"] == 1
    assert http.get(mini.api_url + "/products").status_code == 503
    assert http.post(control + "/faults", json={"no_such_switch": 1}).status_code == 400
    logged = http.get(control + "/requests").json()["requests"]
    assert [(e["origin"], e["path"], e["status"]) for e in logged] == [
        ("api", "/downloads/v1/products", 503)
    ]
    http.post(control + "/reset")
    assert http.get(mini.api_url + "/products").status_code == 200


def test_request_log_shows_the_key_stays_on_the_api_origin(mini, http):
    version = http.get(
        f"{mini.api_url}/dataPackages/{PACKAGE_ID}/versions/latest", headers=key_header(mini)
    ).json()
    location = http.get(
        version["downloads"][0]["url"], headers=key_header(mini), allow_redirects=False
    ).headers["Location"]
    http.get(location)
    storage = mini.requests("storage")
    assert len(storage) == 1
    assert "key" not in storage[0]["headers"]
    assert DEMO_API_KEY not in location
    assert all(DEMO_API_KEY not in e["query"] for e in mini.requests_log)


# --- the shared fixture over the generated sample data ----------------------------------


def test_every_listed_download_redirects_to_a_file_of_the_listed_size(replica, http):
    products = http.get(replica.api_url + "/products").json()
    assert products
    for summary in products:
        for entry in http.get(summary["url"] + "/downloads").json():
            redirect = http.get(entry["url"], allow_redirects=False)
            assert redirect.status_code == 307, entry["url"]
            head = http.head(redirect.headers["Location"])
            if "size" in entry:  # an unverified download is listed without one
                assert head.headers["Content-Length"] == str(entry["size"]), entry["fileName"]


def test_command_line_serves_until_terminated(tmp_path: Path):
    write_tiny_catalogue(tmp_path)
    pythonpath = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
    command = [sys.executable, "-m", "os_downloads.replica", "serve", "--data-dir", str(tmp_path)]
    command += ["--api-port", "0", "--storage-port", "0", "--trud-port", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(pythonpath)},
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl+C" in line:
                break
        api_url = next(line.split()[-1] for line in lines if line.strip().startswith("API:"))
        assert any(DEMO_API_KEY in line for line in lines)
        assert requests.get(api_url + "/products", timeout=10).status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
