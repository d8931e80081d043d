"""``os-downloads holding`` against the replica: real HTTP, real files, the model's truth.

The truth (``replica.holdings_truth``) comes from the generator's own model,
never from our parser, so a holding equal to it is right by OS's rules.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import pytest
from holding_places import HoldingPlace, gpkg_place, postgis_place
from holding_samples import gml2_area, gml2_chunk, gml2_departed, square, write_gz

from os_downloads.core.holdings.addressbase import RECORD_TYPES
from os_downloads.core.holdings.gpkg import decode_blob
from os_downloads.core.holdings.mastermap import FEATURE_CLASSES, MULTI_SEPARATOR
from os_downloads.core.holdings.topography import table_name
from os_downloads.replica.data.holdings_truth import holdings_truth, publish_next_update

PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
TOPO = "0040163512"
TOPO_VERSIONS = ("6401101", "6401102", "6401103", "6401104")
ABP = "0040163520"
ABP_VERSIONS = ("6402201", "6402202", "6402203", "6402204")
# Our names for the street descriptor's columns where OS's splitter spells them otherwise.
ABP_NAMES = {"locality": "LOCALITY_NAME", "administrative_area": "ADMINSTRATIVE_AREA"}


def kill_update_mid_apply(replica, package: str, holding: Path, downloaded: Path) -> None:
    """``holding update`` in its own process, killed (-9) while its apply's transaction
    writes (the version downloaded, the journal there); the journal is left behind."""
    journal = holding.with_name(holding.name + "-journal")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "os_downloads",
            "holding",
            "update",
            package,
            "--into",
            str(holding),
        ],
        env=cli_env(replica),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if downloaded.exists() and journal.exists():  # the apply's transaction is writing
                break
            time.sleep(0.005)
        time.sleep(0.3)
        assert process.poll() is None, "the update ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert journal.exists()  # killed inside the transaction


def cli_env(replica) -> Dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(PYTHONPATH),
        OS_DOWNLOADS_API_URL=replica.api_url,
        OS_API_KEY=replica.api_key,
    )


def holding_cli(replica, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "os_downloads", "holding", *args],
        env=cli_env(replica),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


Place = Union[Path, HoldingPlace]


@pytest.fixture(params=["gpkg", "postgis"])
def holding_place(request, tmp_path: Path) -> HoldingPlace:
    """A GeoPackage file, or a new PostGIS database (skipped when no server can start)."""
    if request.param == "gpkg":
        return gpkg_place(tmp_path)
    return postgis_place(request.getfixturevalue("postgis_database"), tmp_path)


def place_of(holding: Place) -> HoldingPlace:
    return (
        holding if isinstance(holding, HoldingPlace) else gpkg_place(holding.parent, holding.name)
    )


def into(holding: Place) -> List[str]:
    """``--into`` and what the place needs with it."""
    place = place_of(holding)
    return ["--into", place.into, *place.args]


def update(replica, package: str, holding: Place, *args: str) -> Dict[str, Any]:
    result = holding_cli(replica, "update", package, *into(holding), "--json", *args)
    assert result.returncode in (0, 10), result.stderr
    return json.loads(result.stdout)


# --- the holding in the truth's shape --------------------------------------------------


def _coords(geometry: Tuple[str, Any]) -> Any:
    kind, coords = geometry
    if kind == "Point":
        return kind, [tuple(round(c, 6) for c in coords)]
    if kind == "LineString":
        return kind, [tuple(round(c, 6) for c in p) for p in coords]
    return kind, [[tuple(round(c, 6) for c in p) for p in ring] for ring in coords]


def _wkt_coords(wkt: str) -> Any:
    kind = wkt.split("(", 1)[0].strip().title().replace("string", "String")
    rings = re.findall(r"\(([^()]+)\)", wkt)
    parsed = [[tuple(round(float(v), 6) for v in p.split()) for p in r.split(",")] for r in rings]
    if kind == "Point":
        return kind, parsed[0]
    if kind == "LineString":
        return kind, parsed[0]
    return kind, parsed


def _listed(value: Any) -> List[str]:
    return [] if value is None else str(value).split(MULTI_SEPARATOR)


def mastermap_holding(path: Place) -> Dict[str, Dict[str, Any]]:
    place = place_of(path)
    return {
        feature_class: {r["toid"]: r for r in place.rows(table_name(feature_class))}
        for feature_class in FEATURE_CLASSES
    }


def assert_mastermap_is_truth(path: Place, package: str, version: str) -> None:
    truth = holdings_truth(package, version)
    held = mastermap_holding(path)
    for feature_class in FEATURE_CLASSES:
        expected = truth.features.get(feature_class, {})
        mine = held[feature_class]
        assert sorted(mine) == sorted(expected), f"{feature_class} TOIDs after {version}"
        for toid, want in expected.items():
            row = mine[toid]
            got: Dict[str, Any] = {
                "version": row["version"],
                "version_date": row["version_date"],
                "geometry": _coords(decode_blob(row["geom"])),
            }
            attributes = {}
            for name, value in want["attributes"].items():
                if name == "change_history":
                    attributes[name] = [
                        {"change_date": d, "reason_for_change": r}
                        for d, r in zip(
                            _listed(row["change_date"]), _listed(row["reason_for_change"])
                        )
                    ]
                elif isinstance(value, list):
                    attributes[name] = _listed(row[name])
                else:
                    attributes[name] = row[name]
            got["attributes"] = attributes
            expected_row = dict(want, geometry=_wkt_coords(want["geometry"]))
            assert got == expected_row, f"{feature_class} {toid} after {version}"


def abp_holding(path: Place) -> Dict[str, Dict[Any, Dict[str, Any]]]:
    place = place_of(path)
    out: Dict[str, Dict[Any, Dict[str, Any]]] = {}
    for kind in RECORD_TYPES.values():
        if not kind.table:
            continue
        table: Dict[Any, Dict[str, Any]] = {}
        for row in place.rows(kind.table):
            record = {
                ABP_NAMES.get(c, c.upper()): row[c] for c in kind.columns
            }  # every column of the record, none else
            key = tuple(row[k] for k in kind.key)
            table[key[0] if len(key) == 1 else key] = record
        out[kind.table] = table
    return out


def assert_abp_is_truth(path: Place, package: str, version: str) -> None:
    truth = holdings_truth(package, version)
    held = abp_holding(path)
    metadata = held.pop("metadata")
    for table, expected in truth.records.items():
        assert held[table] == expected, f"{table} after {version}"
    assert list(metadata.values()) == ([truth.metadata] if truth.metadata else [])


def assert_changes_are_truth(outcome: Dict[str, Any], package: str, names: Dict[str, str]):
    truth = holdings_truth(package, outcome["version"])
    for name, counts in truth.changes.items():
        mine = outcome["changes"].get(names.get(name, name), {})
        assert {k: mine.get(k, 0) for k in counts} == counts, f"{name} in {outcome['version']}"


CLASS_TABLES = {c: table_name(c) for c in FEATURE_CLASSES}


# --- the tests ------------------------------------------------------------------------


def test_mastermap_full_then_each_cou_gives_the_truth(replica, holding_place) -> None:
    holding = holding_place
    for number, version in enumerate(TOPO_VERSIONS):
        report = update(replica, TOPO, holding, "--to", version)
        assert [a["version"] for a in report["applied"]] == [version]
        assert report["versions"] == list(TOPO_VERSIONS[: number + 1])
        assert_mastermap_is_truth(holding, TOPO, version)
        if number:
            assert_changes_are_truth(report["applied"][0], TOPO, CLASS_TABLES)
    published = publish_next_update(replica, TOPO)
    report = update(replica, TOPO, holding)
    assert [a["version"] for a in report["applied"]] == [published.version.id]
    assert_mastermap_is_truth(holding, TOPO, published.version.id)
    assert_changes_are_truth(report["applied"][0], TOPO, CLASS_TABLES)


def test_abp_full_then_each_cou_gives_the_truth(replica, holding_place) -> None:
    holding = holding_place
    for number, version in enumerate(ABP_VERSIONS):
        report = update(replica, ABP, holding, "--to", version)
        assert [a["version"] for a in report["applied"]] == [version]
        assert_abp_is_truth(holding, ABP, version)
        if number:
            assert_changes_are_truth(report["applied"][0], ABP, {})
    published = publish_next_update(replica, ABP)
    report = update(replica, ABP, holding)
    assert_abp_is_truth(holding, ABP, published.version.id)
    assert_changes_are_truth(report["applied"][0], ABP, {})


def test_a_whole_update_in_one_run_then_again_changes_nothing(replica, holding_place) -> None:
    holding = holding_place
    first = holding_cli(replica, "update", TOPO, *into(holding))
    assert first.returncode == 0, first.stderr
    assert f"holds {', '.join(TOPO_VERSIONS)}" in first.stdout
    before = mastermap_holding(holding)
    again = holding_cli(replica, "update", TOPO, *into(holding))
    assert again.returncode == 10, again.stderr
    assert "up to date: version 6401104 is the newest" in again.stdout
    assert mastermap_holding(holding) == before
    assert_mastermap_is_truth(holding, TOPO, TOPO_VERSIONS[-1])
    status = holding_cli(replica, "status", *holding.status_args, "--json")
    data = json.loads(status.stdout)
    assert data["package"] == TOPO and data["product"] == "MMTOPO"
    assert data["tables"]["topographic_area"] == len(before["TopographicArea"])
    assert [v["version"] for v in data["versions"]] == list(TOPO_VERSIONS)
    assert all(v["files"] and v["files"][0]["md5"] for v in data["versions"])
    assert data["pending"] == []
    publish_next_update(replica, TOPO)
    status = holding_cli(replica, "status", *holding.status_args)
    assert status.returncode == 0
    assert "Pending:  version 6401105 (COU, " in status.stdout


def test_a_wrong_md5_cou_leaves_the_holding_untouched(replica, holding_place) -> None:
    holding = holding_place
    update(replica, ABP, holding, "--to", ABP_VERSIONS[1])
    before = holding.snapshot()
    bad = [p.name for p in (replica.data_dir / "files" / "packages" / ABP / "6402203").iterdir()]
    zipped = [n for n in bad if n.endswith(".zip")]
    replica.set_faults(wrong_md5=set(zipped))
    result = holding_cli(replica, "update", ABP, *into(holding))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "MD5 mismatch" in errors[0], result.stderr
    assert holding.snapshot() == before
    assert_abp_is_truth(holding, ABP, ABP_VERSIONS[1])
    replica.set_faults(wrong_md5=set(), corrupt_files={zipped[0]: 5})
    result = holding_cli(replica, "update", ABP, *into(holding))
    assert result.returncode == 1 and "MD5" in result.stderr
    assert holding.snapshot() == before
    replica.set_faults(corrupt_files={})
    assert holding_cli(replica, "update", ABP, *into(holding)).returncode == 0
    assert_abp_is_truth(holding, ABP, ABP_VERSIONS[-1])


def test_a_geopackage_holding_another_package_is_refused(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter.gpkg"
    update(replica, TOPO, holding, "--to", TOPO_VERSIONS[0])
    before = holding.read_bytes()
    result = holding_cli(replica, "update", ABP, "--into", str(holding))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {holding} holds data package {TOPO}, not {ABP}. "
        "Choose another file for this package (one GeoPackage per data package)."
    )
    assert holding.read_bytes() == before


def test_usage_errors_exit_2(replica, tmp_path: Path) -> None:
    assert holding_cli(replica, "update", TOPO).returncode == 2  # no --into
    assert holding_cli(replica, "frobnicate").returncode == 2
    missing = holding_cli(replica, "status", str(tmp_path / "none.gpkg"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")


def test_a_missing_link_in_the_chain_is_refused_with_the_way_out(replica, tmp_path: Path) -> None:
    holding = tmp_path / "cardiff.gpkg"
    update(replica, ABP, holding, "--to", ABP_VERSIONS[1])
    before = holding.read_bytes()
    replica.set_faults(withdrawn_versions={ABP_VERSIONS[2]})  # the API lists it no more
    result = holding_cli(replica, "update", ABP, "--into", str(holding))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: Change-only update 6402204 applies on top of version 6402203, which is not "
        "in this holding (it holds up to 6402202). The API no longer lists version 6402203, "
        "so even the newest full supply (6402201) cannot be brought up to date: ask OS for a "
        "re-supply (a new full supply) of the package; the next update starts again from it."
    )
    assert holding.read_bytes() == before
    status = holding_cli(replica, "status", str(holding))
    assert "Pending:  unknown (Change-only update 6402204 applies on top of" in status.stdout
    # The holding's own last version no longer listed is no gap: the links say what follows.
    replica.set_faults(withdrawn_versions={ABP_VERSIONS[1]})
    assert holding_cli(replica, "update", ABP, "--into", str(holding)).returncode == 0
    assert_abp_is_truth(holding, ABP, ABP_VERSIONS[-1])


def test_kill_9_mid_apply_then_rerun_gives_the_truth(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter.gpkg"
    update(replica, TOPO, holding)
    before = mastermap_holding(holding)
    gone = sorted(before["TopographicArea"])[0]
    added = [f"osgb8{n:012d}" for n in range(40000)]  # big enough to take seconds to apply
    members = [gml2_departed(gone)]
    members += (
        gml2_area(t, 1, square(290000 + n % 500 * 4, 90000 + n // 500 * 4, 3))
        for n, t in enumerate(added)
    )
    chunk = write_gz(tmp_path / "cou" / "5499001-SX9292.gz", gml2_chunk(members))
    published = replica.publish_package_version(TOPO, files=[(chunk.name, chunk)])
    downloaded = tmp_path / "exeter_downloads" / "packages" / TOPO / published.id / chunk.name
    kill_update_mid_apply(replica, TOPO, holding, downloaded)
    assert mastermap_holding(holding) == before  # SQLite rolled the journal back
    assert_mastermap_is_truth(holding, TOPO, TOPO_VERSIONS[-1])
    again = holding_cli(replica, "update", TOPO, "--into", str(holding), "--json")
    assert again.returncode == 0, again.stderr
    after = mastermap_holding(holding)
    areas = after.pop("TopographicArea")
    expected = dict(before["TopographicArea"])
    del expected[gone]
    assert {t: r for t, r in areas.items() if t in expected} == expected
    assert sorted(t for t in areas if t not in expected) == added
    assert all(areas[t]["version"] == 1 for t in added)
    assert after == {c: rows for c, rows in before.items() if c != "TopographicArea"}
    report = json.loads(again.stdout)["applied"][0]
    assert report["changes"]["topographic_area"] == {
        "inserted": len(added),
        "updated": 0,
        "deleted": 1,
        "ignored": 0,
    }


def test_sync_keeps_a_holding_current_and_reports_each_cous_changes(replica, tmp_path) -> None:
    config = tmp_path / "sync.toml"
    config.write_text(
        f'dest_root = "data"\napi_url = "{replica.api_url}"\n'
        f'[[packages]]\nid = "{TOPO}"\nholding = "exeter.gpkg"\n',
        encoding="utf-8",
    )
    holding = tmp_path / "data" / "exeter.gpkg"

    def sync(*args: str) -> subprocess.CompletedProcess:
        env = dict(cli_env(replica))
        env.pop("OS_DOWNLOADS_API_URL")
        return subprocess.run(
            [sys.executable, "-m", "os_downloads", "sync", str(config), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    first = sync("--json")
    assert first.returncode == 0, first.stderr
    entry = json.loads(first.stdout)["entries"][0]
    assert [f["version"] for f in entry["fetched"]] == list(TOPO_VERSIONS)
    for item in entry["fetched"][1:]:
        assert_changes_are_truth(dict(item, version=item["version"]), TOPO, CLASS_TABLES)
        assert item["holding"] == str(holding)
    assert_mastermap_is_truth(holding, TOPO, TOPO_VERSIONS[-1])
    assert sync().returncode == 10
    published = publish_next_update(replica, TOPO)
    third = sync()
    assert third.returncode == 0, third.stderr
    text = (tmp_path / "data" / "os_downloads_sync_report.txt").read_text("utf-8")
    counts = published.truth.changes["TopographicArea"]
    assert (
        f"topographic_area: {counts['inserted']} inserted, {counts['updated']} updated, "
        f"{counts['deleted']} deleted"
    ) in text
    assert_mastermap_is_truth(holding, TOPO, published.version.id)


def test_abp_tile_supply_change_chunks_replace_whole_tiles(replica, tmp_path: Path) -> None:
    package = "0040163538"
    holding = tmp_path / "cardiff-tiles.gpkg"
    for number, version in enumerate(("6403301", "6403302", "6403303", "6403304")):
        report = update(replica, package, holding, "--to", version)
        assert [a["version"] for a in report["applied"]] == [version]
        assert_abp_is_truth(holding, package, version)
        truth = holdings_truth(package, version)
        conn = sqlite3.connect(str(holding))
        try:
            for table, tiles in truth.tiles.items():
                kind = next(k for k in RECORD_TYPES.values() if k.table == table)
                keys = ", ".join(kind.key)
                held = {
                    (row[0] if len(kind.key) == 1 else tuple(row[:-1])): row[-1]
                    for row in conn.execute(f"SELECT {keys}, tile FROM {table}")
                }
                assert held == tiles, f"{table} tiles after {version}"
        finally:
            conn.close()
        if number:
            assert_changes_are_truth(report["applied"][0], package, {})


def test_rebuild_starts_again_from_the_newest_full_supply(replica, holding_place) -> None:
    holding = holding_place
    update(replica, ABP, holding, "--to", ABP_VERSIONS[1])
    report = update(replica, ABP, holding, "--rebuild")
    assert [a["version"] for a in report["applied"]] == list(ABP_VERSIONS)
    assert report["versions"] == list(ABP_VERSIONS)
    assert_abp_is_truth(holding, ABP, ABP_VERSIONS[-1])
