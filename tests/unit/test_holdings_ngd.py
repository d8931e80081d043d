"""An OS NGD holding against the replica: real HTTP, real files, the model's truth.

The replica's NGD package (0040163546) has four feature types, a FULL and three
COUs with every change type, several versions of one feature in one file, moves
between feature types and a blank file; the truth comes from the generator's
model (``replica.data.sample_ngd``), never from our reader.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Dict, List

from osgeo import ogr
from test_holdings_replica import (
    assert_changes_are_truth,
    holding_cli,
    kill_update_mid_apply,
    place_of,
    update,
)
from test_holdings_replica import holding_place as holding_place  # the fixture

from os_downloads.replica.data.holdings_truth import holdings_truth
from os_downloads.replica.data.sample_ngd import (
    FEATURE_TYPES,
    KEYS,
    SCHEMAS,
    NgdSpec,
    NgdSupply,
    NgdWorld,
    supply_files,
)

NGD = "0040163546"
NGD_VERSIONS = ("6404401", "6404402", "6404403", "6404404")
SQL_TYPES = {
    "String": "TEXT",
    "Integer": "INTEGER",
    "Float": "REAL",
    "Boolean": "BOOLEAN",
    "Date": "DATE",
    "DateTime": "DATETIME",
}


def _wkt(blob: bytes) -> str:
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return ogr.CreateGeometryFromWkb(bytes(blob[8 + envelope :])).ExportToIsoWkt()


def ngd_holding(path: Any) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """Per feature type: key (as text) -> the row in the truth's shape."""
    place = place_of(path)
    out: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for name in FEATURE_TYPES:
        table = {}
        for row in place.rows(name):
            record: Dict[str, Any] = {}
            for column, kind in SCHEMAS[name]:
                if column == "geometry":
                    record[column] = _wkt(row["geom"])
                elif kind == "Boolean" and row[column] is not None:
                    record[column] = bool(row[column])
                else:
                    record[column] = row[column]
            table[str(record[KEYS[name]])] = record
        out[name] = table
    return out


def assert_ngd_is_truth(path: Any, version: str) -> None:
    truth = holdings_truth(NGD, version)
    held = ngd_holding(path)
    for name in FEATURE_TYPES:
        expected = {
            key: dict(row, geometry=ogr.CreateGeometryFromWkt(row["geometry"]).ExportToIsoWkt())
            for key, row in truth.features[name].items()
        }
        assert sorted(held[name]) == sorted(expected), f"{name} keys after {version}"
        for key, want in expected.items():
            assert held[name][key] == want, f"{name} {key} after {version}"


def test_full_then_each_cou_gives_the_truth(replica, holding_place) -> None:
    holding = holding_place
    for number, version in enumerate(NGD_VERSIONS):
        report = update(replica, NGD, holding, "--to", version)
        assert [a["version"] for a in report["applied"]] == [version]
        assert report["versions"] == list(NGD_VERSIONS[: number + 1])
        assert_ngd_is_truth(holding, version)
        if number:
            assert_changes_are_truth(report["applied"][0], NGD, {})
    blank = report["applied"][0]["changes"]["trn_ntwk_roadlink"]
    assert blank == {"inserted": 0, "updated": 0, "deleted": 0, "ignored": 0}  # a blank file


def test_tables_are_typed_from_the_type_file_and_open_in_gdal(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    update(replica, NGD, holding, "--to", NGD_VERSIONS[1])
    conn = sqlite3.connect(str(holding))
    try:
        for name in FEATURE_TYPES:
            declared = {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({name})")}
            for column, kind in SCHEMAS[name]:
                if column != "geometry":
                    assert declared[column] == SQL_TYPES[kind], f"{name}.{column}"
            srs = conn.execute(
                "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
            ).fetchone()
            assert srs == (27700,)
            rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            assert conn.execute(f"SELECT count(*) FROM rtree_{name}_geom").fetchone()[0] == rows
    finally:
        conn.close()
    source = ogr.Open(str(holding))
    try:
        layers = {source.GetLayer(i).GetName(): source.GetLayer(i) for i in range(4)}
        assert sorted(layers) == sorted(FEATURE_TYPES)
        parts = layers["bld_fts_buildingpart"]
        assert parts.GetSpatialRef().GetAuthorityCode(None) == "27700"
        truth = holdings_truth(NGD, NGD_VERSIONS[1]).features["bld_fts_buildingpart"]
        assert parts.GetFeatureCount() == len(truth)
        kinds = {f.GetGeometryRef().GetGeometryName() for f in parts}
        assert kinds == {"POLYGON", "MULTIPOLYGON"}
    finally:
        source = None


def test_a_whole_update_then_again_changes_nothing(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    first = holding_cli(replica, "update", NGD, "--into", str(holding))
    assert first.returncode == 0, first.stderr
    assert f"holds {', '.join(NGD_VERSIONS)}" in first.stdout
    before = ngd_holding(holding)
    again = holding_cli(replica, "update", NGD, "--into", str(holding))
    assert again.returncode == 10, again.stderr
    assert ngd_holding(holding) == before
    assert_ngd_is_truth(holding, NGD_VERSIONS[-1])
    status = json.loads(holding_cli(replica, "status", str(holding), "--json").stdout)
    assert status["product"] == "OSNGD" and status["pending"] == []


def test_a_missing_link_in_the_chain_is_refused(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    update(replica, NGD, holding, "--to", NGD_VERSIONS[1])
    before = holding.read_bytes()
    replica.set_faults(withdrawn_versions={NGD_VERSIONS[2]})
    result = holding_cli(replica, "update", NGD, "--into", str(holding))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: Change-only update {NGD_VERSIONS[3]} applies on top of version "
        f"{NGD_VERSIONS[2]}, which is not in this holding (it holds up to {NGD_VERSIONS[1]})."
    ), result.stderr
    assert holding.read_bytes() == before


def _publish(replica, tmp_path: Path, supply: NgdSupply, product_version: str, skip=()):
    folder = tmp_path / "published" / product_version
    folder.mkdir(parents=True)
    files: List[Path] = []
    for name, content in supply_files(supply):
        if not any(name.startswith(f"{s}_") for s in skip):
            (folder / name).write_bytes(content)
            files.append(folder / name)
    return replica.publish_package_version(
        NGD, files=[(f.name, f) for f in files], product_version=product_version
    )


def test_supplies_apply_in_product_version_order_and_whole(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    update(replica, NGD, holding)
    before = ngd_holding(holding)
    # A blank update (every feature type's file empty) is a valid supply: nothing changes.
    blank = _publish(replica, tmp_path, NgdSupply(False, "2027-01-01"), "2027-01-01")
    report = update(replica, NGD, holding)
    assert [a["version"] for a in report["applied"]] == [blank.id]
    assert report["applied"][0]["totals"] == {
        "inserted": 0,
        "updated": 0,
        "deleted": 0,
        "ignored": 0,
    }
    assert ngd_holding(holding) == before
    # One dated before the holding's newest supply is refused, the holding untouched.
    snapshot = holding.read_bytes()
    _publish(replica, tmp_path, NgdSupply(False, "2026-12-15"), "2026-12-15")
    late = holding_cli(replica, "update", NGD, "--into", str(holding))
    assert late.returncode == 1
    assert "productVersion date order" in late.stderr and "2027-01-01" in late.stderr
    assert holding.read_bytes() == snapshot


def test_a_supply_missing_a_feature_type_is_refused(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    update(replica, NGD, holding)
    snapshot = holding.read_bytes()
    supply = NgdSupply(False, "2027-01-01")
    _publish(replica, tmp_path, supply, "2027-01-01", skip=("trn_ntwk_roadlink",))
    result = holding_cli(replica, "update", NGD, "--into", str(holding))
    assert result.returncode == 1
    assert "no file for trn_ntwk_roadlink" in result.stderr and "incomplete" in result.stderr
    assert holding.read_bytes() == snapshot
    assert_ngd_is_truth(holding, NGD_VERSIONS[-1])


def test_kill_9_mid_apply_then_rerun_gives_the_truth(replica, tmp_path: Path) -> None:
    holding = tmp_path / "exeter_ngd.gpkg"
    update(replica, NGD, holding)
    before = ngd_holding(holding)
    world = NgdWorld(NgdSpec(0, 0, 0, 0))
    world.serial = 10**7  # keys the holding has never seen
    added = [world.new_feature("bld_fts_buildingpart", "2027-01-05") for _ in range(60000)]
    supply = NgdSupply(False, "2027-01-05", {"bld_fts_buildingpart": added})
    published = _publish(replica, tmp_path, supply, "2027-01-05")
    downloaded = tmp_path / "exeter_ngd_downloads" / "packages" / NGD / published.id
    kill_update_mid_apply(replica, NGD, holding, downloaded)
    assert ngd_holding(holding) == before  # SQLite rolled the journal back
    again = holding_cli(replica, "update", NGD, "--into", str(holding), "--json")
    assert again.returncode == 0, again.stderr
    after = ngd_holding(holding)
    parts = after.pop("bld_fts_buildingpart")
    old = before.pop("bld_fts_buildingpart")
    assert after == before
    assert {k: v for k, v in parts.items() if k in old} == old
    assert sorted(k for k in parts if k not in old) == sorted(r["osid"] for r in added)
    counts = json.loads(again.stdout)["applied"][0]["changes"]["bld_fts_buildingpart"]
    assert counts == {"inserted": len(added), "updated": 0, "deleted": 0, "ignored": 0}


def test_the_package_has_every_change_type_and_the_truth_follows_from_os_rules() -> None:
    from os_downloads.replica.data.sample_holdings import holding_package, package_versions
    from os_downloads.replica.data.sample_ngd import CHANGE_TYPES, REMOVES, newest

    seen = set()
    held: Dict[str, Dict[str, Any]] = {}
    for number, data in enumerate(package_versions(holding_package(NGD))):
        supply = data.supply
        names = [n for n, _ in data.files]
        kind = "FULL" if supply.full else "COU"
        assert names == [f"{t}_{kind}_{supply.date}.zip" for t in FEATURE_TYPES]  # one each
        if supply.full:
            held = {t: {str(r[KEYS[t]]): r for r in supply.rows[t]} for t in FEATURE_TYPES}
        for name in FEATURE_TYPES:
            rows = supply.rows[name]
            if not supply.full:
                by_key: Dict[str, List[Any]] = {}
                for row in rows:
                    by_key.setdefault(str(row[KEYS[name]]), []).append(row)
                assert any(len(v) > 1 for v in by_key.values()) or not rows
                for key, versions in by_key.items():
                    last = newest(versions)
                    seen.add(last["changetype"])
                    seen.update(r["changetype"] for r in versions)
                    if last["changetype"] in REMOVES:
                        held[name].pop(key, None)
                    else:
                        held[name][key] = last
            assert held[name] == data.truth["ngd"][name], f"{name} in {data.spec.id}"
        if number == 3:
            assert supply.rows["trn_ntwk_roadlink"] == []  # the blank file
    assert seen == set(CHANGE_TYPES)


def test_a_malformed_ngd_file_is_refused_with_its_line(tmp_path: Path) -> None:
    import zipfile

    import pytest

    from os_downloads.core.holdings import gpkg
    from os_downloads.core.holdings.errors import BadSupplyError
    from os_downloads.core.holdings.gpkg_store import GpkgStore
    from os_downloads.core.holdings.ngd_apply import NgdApplier

    def supply(name: str, body: str) -> Path:
        path = tmp_path / name / "trn_ntwk_roadlink.zip"
        path.parent.mkdir()
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("trn_ntwk_roadlink.csv", body)
            archive.writestr("trn_ntwk_roadlink.csvt", '"String","Boolean","Geometry"\r\n')
        return path

    header = "osid,isobscured,geometry\r\n"
    store = GpkgStore(tmp_path / "x.gpkg")
    conn = store.conn
    try:
        conn.execute("BEGIN")
        gpkg.init_geopackage(conn)
        short = supply("short", header + 'a,true,"POINT (1 2)"\r\nb,true\r\n')
        with pytest.raises(BadSupplyError, match=r"line 3: 2 fields, the header has 3"):
            NgdApplier(store).apply([short], full=True)
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        gpkg.init_geopackage(conn)
        odd = supply("odd", header + 'a,maybe,"POINT (1 2)"\r\n')
        with pytest.raises(BadSupplyError, match=r"line 2: isobscured = 'maybe' is not a boolean"):
            NgdApplier(store).apply([odd], full=True)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
