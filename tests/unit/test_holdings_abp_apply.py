"""AddressBase Premium versions applied in-process, both ways SQLite may update rows.

``UPDATE ... FROM`` needs SQLite 3.33; an older one (some QGIS 3.22 installs) updates
held rows from Python. Both must give the truth (records, tiles and change counts)
for the replica's packages, and re-applying a change file must change nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_holdings_replica import assert_abp_is_truth

from os_downloads.core.holdings import addressbase_apply
from os_downloads.core.holdings.holding import AppliedVersion, Holding, HoldingInfo
from os_downloads.core.holdings.update import apply_version
from os_downloads.replica.data.holdings_truth import holdings_truth


def assert_rtree_is_right(path: Path) -> None:
    """BLPU's R-tree: SQLite's own check, a box on each point and none else, and the
    GeoPackage's six triggers in place (kept by their triggers through each COU)."""
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("SELECT rtreecheck('rtree_blpu_geom')").fetchone() == ("ok",)
        held = conn.execute(
            "SELECT fid, x_coordinate, y_coordinate FROM blpu WHERE geom NOT NULL ORDER BY fid"
        ).fetchall()
        boxes = conn.execute("SELECT * FROM rtree_blpu_geom ORDER BY id").fetchall()
        triggers = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'blpu' "
            "AND name LIKE 'rtree_blpu_geom_%'"
        ).fetchone()
    finally:
        conn.close()
    assert [b[0] for b in boxes] == [h[0] for h in held]
    for (_, x, y), (_, minx, maxx, miny, maxy) in zip(held, boxes):
        assert minx <= x <= maxx and miny <= y <= maxy and maxx - minx < 0.1
    assert triggers == (6,)


PACKAGES = {
    "0040163520": ("6402201", "6402202", "6402203", "6402204"),
    "0040163538": ("6403301", "6403302", "6403303", "6403304"),  # a tile supply
}


@pytest.mark.parametrize("update_from", [True, False], ids=["update-from", "row-by-row"])
@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_version_gives_the_truth(
    replica_data_dir, tmp_path, monkeypatch, package, update_from
):
    if update_from and sqlite3.sqlite_version_info < (3, 33, 0):
        pytest.skip("this SQLite has no UPDATE ... FROM")
    monkeypatch.setattr(addressbase_apply, "UPDATE_FROM", update_from)
    info = HoldingInfo(package, "ABP", "ABP", "AddressBase Premium", "addressbase", "", "")
    path = tmp_path / "abp.gpkg"
    for number, version in enumerate(PACKAGES[package]):
        folder = replica_data_dir / "files" / "packages" / package / version
        files = sorted(folder.iterdir())
        supply = "COU" if number else "FULL"
        applied = AppliedVersion(version, "", supply, "", "", "")
        with Holding.open(path, create=True) as holding:
            outcome = apply_version(holding, info, applied, files)
        assert_abp_is_truth(path, package, version)
        assert_rtree_is_right(path)
        truth = holdings_truth(package, version)
        if number:
            for table, counts in truth.changes.items():
                mine = outcome.changes.get(table, {})
                assert {k: mine.get(k, 0) for k in counts} == counts, f"{table} in {version}"
            # The same change files again, as a new version: nothing changes.
            again = AppliedVersion(version + "-again", "", "COU", "", "", "")
            with Holding.open(path) as holding:
                repeat = apply_version(holding, info, again, files)
            assert_abp_is_truth(path, package, version)
            assert_rtree_is_right(path)
            changed = {
                table: counts
                for table, counts in repeat.changes.items()
                if table != "metadata"  # a file's metadata records replace the held ones
                and (counts["inserted"] or counts["updated"] or counts["deleted"])
            }
            assert changed == {}
