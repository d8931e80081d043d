"""Jobs: one call downloads, extracts, finds datasets and writes the manifest.

Against the replica over real HTTP.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import List

import pytest

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.engine.folders import safe_folder_name
from os_downloads.core.engine.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestFile,
    read_manifest,
    write_manifest,
)
from os_downloads.core.engine.progress import (
    PHASE_DISCOVER,
    PHASE_DOWNLOAD,
    PHASE_EXTRACT,
    Progress,
)
from os_downloads.core.errors import Cancelled, ConfigurationError
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.sources.os_packages import fetch_package_version
from os_downloads.core.sources.os_products import fetch_product

PACKAGE_ID = "0040154231"
GRID = "ASCII Grid and GML (Grid)"


@pytest.fixture()
def client(replica) -> OSDownloadsClient:
    return OSDownloadsClient(
        replica.api_url,
        auth=ApiKeyAuth(replica.api_key),
        retry=RetryPolicy(base_delay=0.01, max_delay=0.1),
    )


def test_the_nested_zip_product_is_downloaded_extracted_and_described(replica, client, tmp_path):
    phases: List[str] = []
    result = fetch_product(
        client, "Terrain50", GRID, dest_root=tmp_path, progress=lambda p: phases.append(p.phase)
    )

    assert result.folder == tmp_path / "Terrain50" / "2025-07" / GRID / "GB"
    assert result.version == "2025-07" and result.downloaded_count == 1
    assert result.files == (result.folder / "terr50_gagg_gb.zip",)
    # the per-tile zips inside the zip were unpacked too: one ASCII grid per tile
    grids = [d for d in result.datasets if d.format == "AAIGrid"]
    assert len(grids) >= 2 and all(d.path.is_file() for d in grids)
    assert all(d.path.is_relative_to(result.folder / "extracted") for d in grids)
    assert {PHASE_DOWNLOAD, PHASE_EXTRACT, PHASE_DISCOVER} <= set(phases)
    assert phases.index(PHASE_EXTRACT) > phases.index(PHASE_DOWNLOAD)

    manifest = json.loads((result.folder / MANIFEST_NAME).read_text("utf-8"))
    assert manifest["source"] == "os-opendata" and manifest["id"] == "Terrain50"
    assert (manifest["version"], manifest["format"], manifest["area"]) == ("2025-07", GRID, "GB")
    listed = client.product_downloads("Terrain50", format=GRID)[0]
    assert manifest["files"] == [
        {
            "name": "terr50_gagg_gb.zip",
            "size": listed.size,
            "md5": listed.md5,
            "sha256": None,
            "verified": True,
        }
    ]
    assert manifest["extracted_folder"] == "extracted"
    assert len(manifest["datasets"]) == len(result.datasets)
    assert all((result.folder / ref).is_file() for ref in manifest["datasets"])
    assert manifest["created_at"].endswith("Z")


def test_running_the_same_job_again_fetches_and_extracts_nothing(replica, client, tmp_path):
    first = fetch_product(client, "Terrain50", GRID, dest_root=tmp_path)
    grid = next(d.path for d in first.datasets if d.format == "AAIGrid")
    before = grid.stat().st_mtime_ns
    replica.request_log.clear()

    again = fetch_product(client, "Terrain50", GRID, dest_root=tmp_path)

    assert (again.downloaded_count, again.skipped_count) == (0, 1)
    assert replica.requests("storage") == []
    assert grid.stat().st_mtime_ns == before  # the extraction was not redone
    assert [d.path for d in again.datasets] == [d.path for d in first.datasets]


def test_filters_match_without_regard_to_case(client, tmp_path):
    result = fetch_product(
        client, "OpenRoads", "geopackage", area="gb", dest_root=tmp_path, extract=False
    )

    assert result.folder == tmp_path / "OpenRoads" / "2025-10" / "GeoPackage" / "GB"
    assert result.manifest.format == "GeoPackage" and result.extracted_folder is None
    assert result.datasets == ()


def test_a_format_the_product_lacks_names_the_ones_it_has(client, tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        fetch_product(client, "OpenRoads", "DXF", dest_root=tmp_path)

    text = f"{caught.value.message} {caught.value.hint}"
    assert "DXF" in text and "GeoPackage (GB)" in text and "Vector Tiles (MBTiles) (GB)" in text
    assert not any(tmp_path.iterdir())


def test_several_subformats_ask_for_one(client, tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        fetch_product(client, "VectorMapDistrict", "GeoTIFF", dest_root=tmp_path)

    assert "Backdrop" in caught.value.message and "Full Colour" in caught.value.message
    assert "subformat" in caught.value.hint


def test_a_package_version_lands_in_its_own_folder_with_its_supply_type(client, tmp_path):
    versions = client.data_package_versions(PACKAGE_ID)
    newest, oldest = versions[0], versions[-1]

    latest = fetch_package_version(client, PACKAGE_ID, dest_root=tmp_path)
    full = fetch_package_version(client, PACKAGE_ID, oldest.id, dest_root=tmp_path)

    assert latest.folder == tmp_path / "packages" / PACKAGE_ID / newest.id
    assert full.folder == tmp_path / "packages" / PACKAGE_ID / oldest.id
    manifest = read_manifest(full.folder)
    assert manifest is not None
    assert (manifest.source, manifest.id, manifest.version) == ("os-package", PACKAGE_ID, oldest.id)
    assert (manifest.supply_type, manifest.reason) == (oldest.supply_type, oldest.reason)
    assert manifest.product_id == "MMTOPO"
    assert all(f.verified and f.md5 for f in manifest.files)
    assert full.datasets and all(d.path.is_file() for d in full.datasets)


def test_a_cancelled_job_writes_no_manifest(replica, client, tmp_path):
    cancel = threading.Event()
    replica.set_faults(slow_bytes_per_second=50_000)

    def on_progress(p: Progress) -> None:
        if p.bytes_done > 20_000:
            cancel.set()

    with pytest.raises(Cancelled):
        fetch_product(
            client, "Terrain50", GRID, dest_root=tmp_path, progress=on_progress, cancel=cancel
        )

    assert not list(tmp_path.rglob(MANIFEST_NAME))
    assert not list(tmp_path.rglob("*.zip"))  # only the resumable .part
    assert list(tmp_path.rglob("*.zip.part"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ESRI® Shapefile", "ESRI Shapefile"),
        ("Vector Tiles-(MBTiles)", "Vector Tiles-(MBTiles)"),
        ("Version 3 (GB); Version 1 (NI)", "Version 3 (GB)_ Version 1 (NI)"),
        ("a/b\\c:d*e?f", "a_b_c_d_e_f"),
        ("..", "_"),
        ("", "_"),
        ("CON", "CON_"),
        ("  trailing. ", "trailing"),
    ],
)
def test_folder_names_are_safe_everywhere(text: str, expected: str):
    assert safe_folder_name(text) == expected


def test_the_manifest_round_trips_and_tolerates_what_it_does_not_know(tmp_path: Path):
    manifest = Manifest(
        source="trud",
        id="341",
        version="2026-01",
        files=[ManifestFile("a.zip", 10, sha256="ab" * 32, verified=True)],
        extra={"signature": "checked"},
    )
    path = write_manifest(tmp_path, manifest)
    assert path == tmp_path / MANIFEST_NAME
    assert read_manifest(tmp_path) == manifest
    assert read_manifest(path) == manifest

    data = json.loads(path.read_text("utf-8"))
    data["someday"] = {"new": "field"}
    data["files"][0]["extra"] = 1
    path.write_text(json.dumps(data), "utf-8")
    assert read_manifest(tmp_path) == manifest

    path.write_text("{not json", "utf-8")
    assert read_manifest(tmp_path) is None
    assert read_manifest(tmp_path / "elsewhere") is None
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST_NAME]  # no temp files left
