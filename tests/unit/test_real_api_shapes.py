"""The API as it really answers (issue 11 §1), against the replica over real HTTP.

supplyType spellings, bare (unzipped) downloads, every redirect form, keys
echoed into returned URLs, partner details and the replica's fidelity points.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient, strip_key_param
from os_downloads.core.api.models import (
    SUPPLY_COU,
    SUPPLY_FULL,
    DataPackageVersionSummary,
    normalise_supply_type,
)
from os_downloads.core.engine.manifest import read_manifest
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.sources.os_packages import fetch_package_version
from os_downloads.core.sources.os_products import fetch_product
from os_downloads.core.sync import run as sync

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=2.0)
TOPOGRAPHY = "0040154231"  # supplyType FULL / COU
ADDRESSES = "0040156306"  # supplyType Full / Change Only Update (production's spelling)


@pytest.fixture
def keyed(replica):
    with OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key), retry=FAST) as c:
        yield c


@pytest.fixture
def opendata(replica):
    with OSDownloadsClient(replica.api_url, retry=FAST) as c:
        yield c


# --- supplyType ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said, meant",
    [
        ("FULL", SUPPLY_FULL),
        ("Full", SUPPLY_FULL),
        ("full", SUPPLY_FULL),
        ("full supply", SUPPLY_FULL),
        ("Full Supply", SUPPLY_FULL),
        ("COU", SUPPLY_COU),
        ("cou", SUPPLY_COU),
        ("Change Only Update", SUPPLY_COU),
        ("change-only", SUPPLY_COU),
        ("Change-Only Update", SUPPLY_COU),
        (" CHANGE ONLY UPDATE ", SUPPLY_COU),
    ],
)
def test_every_spelling_of_supply_type_means_one_thing(said, meant):
    assert normalise_supply_type(said) == meant
    version = DataPackageVersionSummary.from_json({"id": "1", "supplyType": said})
    assert version.supply_type == meant
    assert version.is_change_only == (meant == SUPPLY_COU)


def test_an_unknown_supply_type_is_kept_and_counts_as_no_update():
    version = DataPackageVersionSummary.from_json({"id": "1", "supplyType": "Resupply"})
    assert version.supply_type == "Resupply" and not version.is_change_only


def test_the_replica_spells_supply_type_per_package_and_the_client_reads_both(replica, keyed):
    raw = requests.get(
        f"{replica.api_url}/dataPackages/{ADDRESSES}/versions",
        headers={"key": replica.api_key},
        timeout=10,
    ).json()
    assert {v["supplyType"] for v in raw} == {"Full", "Change Only Update"}
    for package in (TOPOGRAPHY, ADDRESSES):
        versions = keyed.data_package_versions(package)
        assert [v.supply_type for v in versions] == [SUPPLY_COU, SUPPLY_COU, SUPPLY_FULL]


def test_sync_of_full_then_change_only_updates_fetches_the_base_then_each_update(tmp_path, replica):
    config_path = tmp_path / "sync.toml"
    config_path.write_text(
        f'dest_root = "{(tmp_path / "data").as_posix()}"\napi_url = "{replica.api_url}"\n'
        f'[[packages]]\nid = "{ADDRESSES}"\n',
        encoding="utf-8",
    )
    report = sync.run_sync(sync.load_config(config_path), env={"OS_API_KEY": replica.api_key})
    assert report.exit_code == sync.EXIT_UPDATED
    fetched = [f["version"] for f in report.entries[0].fetched]
    assert fetched == ["6308811", "6309904", "6310988"]  # the Full base, then every update
    text = (tmp_path / "data" / sync.REPORT_TEXT).read_text(encoding="utf-8")
    assert "6308811 (FULL" in text and "6309904 (COU" in text


def test_a_change_only_version_is_recorded_as_cou_in_its_manifest(keyed, tmp_path):
    result = fetch_package_version(keyed, ADDRESSES, "6309904", dest_root=tmp_path)
    assert result.manifest.supply_type == SUPPLY_COU
    assert read_manifest(result.folder).supply_type == SUPPLY_COU


# --- downloads that are not zips -----------------------------------------------------------


def test_zoomstack_has_its_real_file_names(opendata):
    names = {d.format: d.file_name for d in opendata.product_downloads("OpenZoomstack")}
    assert names == {
        "GeoPackage": "OS_Open_Zoomstack.zip",
        "Vector Tiles": "OS_Open_Zoomstack.mbtiles",
    }


def test_a_bare_mbtiles_download_is_found_as_a_dataset_with_extract_on(opendata, tmp_path):
    result = fetch_product(
        opendata, "OpenZoomstack", "Vector Tiles", subformat="(MBTiles)", dest_root=tmp_path
    )
    assert [p.name for p in result.files] == ["OS_Open_Zoomstack.mbtiles"]
    (dataset,) = result.datasets
    assert (dataset.path.name, dataset.format, dataset.kind) == (
        "OS_Open_Zoomstack.mbtiles",
        "MBTiles",
        "vector",
    )
    assert read_manifest(result.folder).datasets == ["OS_Open_Zoomstack.mbtiles"]
    # The zipped GeoPackage beside it is still extracted and found.
    gpkg = fetch_product(opendata, "OpenZoomstack", "GeoPackage", dest_root=tmp_path)
    assert gpkg.datasets and all(d.format == "GPKG" for d in gpkg.datasets)


# --- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["varied", "json", "empty", "302"])
def test_every_redirect_form_resolves_for_products_and_packages(replica, keyed, form):
    replica.set_faults(redirect_form=form)
    product_url = keyed.product_downloads("OpenUSRN")[0].url
    version = keyed.data_package_version(TOPOGRAPHY)
    for url in (product_url, version.downloads[0].url):
        target = keyed.resolve_download(url)
        assert target.startswith(replica.storage_origin)
        assert requests.get(target, timeout=10).status_code == 200


def test_the_replica_sends_each_redirect_form(replica):
    url = f"{replica.api_url}/products/OpenUSRN/downloads?format=GeoPackage&redirect"
    expected = {"json": (307, True), "empty": (307, False), "302": (302, True)}
    for form, (status, has_body) in expected.items():
        replica.set_faults(redirect_form=form)
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == status and answer.headers["Location"]
        assert bool(answer.content) == has_body
        if form == "json":
            assert answer.headers["X-XSS-Protection"] == "1 ; mode=block"
            assert answer.headers["Access-Control-Max-Age"] == "3628800"
            assert len(answer.content) == int(answer.headers["Content-Length"])
        if form == "empty":
            assert answer.headers["Content-Length"] == "0"


# --- keys echoed into URLs -----------------------------------------------------------------


def test_the_replica_echoes_a_query_key_into_every_url(replica):
    answer = requests.get(
        f"{replica.api_url}/dataPackages/{TOPOGRAPHY}/versions/latest",
        params={"key": replica.api_key},
        timeout=10,
    ).json()
    urls = [answer["url"], answer["dataPackageUrl"], answer["previousVersionUrl"]]
    urls += [d["url"] for d in answer["downloads"]]
    assert all(f"key={replica.api_key}" in u for u in urls)
    assert answer["downloads"][0]["url"].count("?") == 1  # "&key=" after fileName
    header_only = requests.get(
        f"{replica.api_url}/dataPackages/{TOPOGRAPHY}", headers={"key": replica.api_key}, timeout=10
    )
    assert "key=" not in header_only.text


def test_the_client_strips_echoed_keys_and_never_sends_or_logs_one(
    replica, keyed, tmp_path, caplog
):
    replica.set_faults(echo_key=True)  # echo the header key too, as a ?key= request would get
    caplog.set_level(logging.DEBUG)
    packages = keyed.data_packages()
    version = keyed.data_package_version(TOPOGRAPHY)
    urls = [p.url for p in packages] + [v.url for p in packages for v in p.versions]
    urls += [version.url, version.data_package_url or "", version.previous_version_url or ""]
    urls += [d.url for d in version.downloads]
    assert urls and all("key=" not in u for u in urls)
    result = fetch_package_version(keyed, TOPOGRAPHY, dest_root=tmp_path)
    assert result.files
    sent = [e for e in replica.requests() if "key=" in (e["query"] or "")]
    assert sent == []
    assert replica.api_key not in caplog.text
    for path in tmp_path.rglob("*.json"):
        assert replica.api_key not in path.read_text(encoding="utf-8")


def test_strip_key_param_keeps_everything_else():
    assert strip_key_param("https://a/x?fileName=a+b.zip&key=K") == "https://a/x?fileName=a+b.zip"
    assert strip_key_param("https://a/x?key=K") == "https://a/x"
    assert strip_key_param("https://a/x?KEY=K&redirect") == "https://a/x?redirect"
    assert strip_key_param("https://a/x?monkey=1") == "https://a/x?monkey=1"


def test_a_download_url_carrying_a_key_is_resolved_without_it(replica, keyed):
    url = keyed.data_package_version(TOPOGRAPHY).downloads[0].url + "&key=" + replica.api_key
    replica.request_log.clear()
    assert keyed.resolve_download(url).startswith(replica.storage_origin)
    assert all("key=" not in (e["query"] or "") for e in replica.requests("api"))


# --- partner details -----------------------------------------------------------------------


def test_partner_details_and_supporting_links_are_kept(opendata):
    geocoast = opendata.product("GeoCoast_Open")
    info = geocoast.third_party_info
    assert info is not None and info.data_provider is not None
    assert (info.data_provider.name, info.data_provider.short_name) == (
        "British Geological Survey",
        "BGS",
    )
    assert info.data_provider.homepage == "https://www.bgs.ac.uk/"
    assert info.data_provider.logo_url and info.support_email == "enquiries@bgs.ac.uk"
    assert [link.name for link in geocoast.supporting_info] == ["User Guide"]
    roads = opendata.product("OpenRoads")
    assert roads.third_party_info is None
    assert roads.supporting_info[0].name == "Technical Specification"


# --- replica fidelity ----------------------------------------------------------------------


def test_json_is_compact_and_areas_alphabetical(replica):
    answer = requests.get(f"{replica.api_url}/products/OpenMapLocal", timeout=10)
    assert answer.text.startswith('{"id":"OpenMapLocal","name":')
    assert ", " not in answer.text.split('"description"')[0] and '": ' not in answer.text
    areas = answer.json()["areas"]
    assert areas == sorted(areas) and "OV" in areas


def test_a_bad_key_gets_the_real_401_body(replica):
    answer = requests.get(
        f"{replica.api_url}/dataPackages", headers={"key": "wrong-key"}, timeout=10
    )
    assert answer.status_code == 401 and answer.json() == {"message": "Invalid APIKey"}


def test_404s_carry_the_documented_fields(replica):
    none = requests.get(f"{replica.api_url}/products/NoSuch/downloads", timeout=10)
    assert none.status_code == 404
    assert {"message", "dataPackagesUrl", "downloadCatalogueUrl"} <= set(none.json())
    unmatched = requests.get(
        f"{replica.api_url}/products/OpenUSRN/downloads?format=CSV&redirect", timeout=10
    ).json()
    assert set(unmatched) == {
        "message",
        "dataPackagesUrl",
        "downloadCatalogueUrl",
        "productUrl",
        "productDownloadsUrl",
    }


def test_no_invented_end_of_life(replica):
    record = requests.get(f"{replica.api_url}/products/GeoClimate_UKCP18_Open", timeout=10).json()
    assert "endOfLife" not in record and "warning" not in record


def test_partner_details_reach_product_json(replica, tmp_path):
    import subprocess
    import sys

    pythonpath = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
    out = subprocess.run(
        [sys.executable, "-m", "os_downloads", "--api-url", replica.api_url, "product"]
        + ["GeoCoast_Open", "--json"],
        env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    provider = data["third_party_info"]["data_provider"]
    assert provider["name"] == "British Geological Survey"
    assert data["third_party_info"]["support_email"] == "enquiries@bgs.ac.uk"
    assert data["supporting_info"][0]["name"] == "User Guide"
