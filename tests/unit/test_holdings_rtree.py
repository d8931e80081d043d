"""An R-tree filled at once (``gpkg.fill_rtree``) against one filled by SQLite's INSERTs.

Same stored boxes (32-bit, rounded outwards as SQLite rounds), the same answers
to window queries, SQLite's own ``rtreecheck()`` content, and INSERTs, UPDATEs
and DELETEs afterwards keep it so.
"""

from __future__ import annotations

import random
import sqlite3
from typing import List, Tuple

import pytest

from os_downloads.core.holdings import gpkg

Box = Tuple[int, float, float, float, float]


def make_boxes(count: int, seed: int, points: bool) -> List[Box]:
    rng = random.Random(seed)
    boxes = []
    for n in range(count):
        x = rng.uniform(-1000.0, 700000.0)
        y = rng.uniform(-50.0, 1300000.0)
        w, h = (0.0, 0.0) if points else (rng.uniform(0, 500), rng.uniform(0, 500))
        boxes.append((n * 3 + 1, x, x + w, y, y + h))
    return boxes


def two_trees(boxes: List[Box]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for name in ("by_insert", "at_once"):
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")
    conn.executemany("INSERT INTO by_insert VALUES (?, ?, ?, ?, ?)", boxes)
    gpkg.fill_rtree(conn, "at_once", list(boxes))
    return conn


def check(conn: sqlite3.Connection, seed: int) -> None:
    for name in ("by_insert", "at_once"):
        assert conn.execute("SELECT rtreecheck(?)", (name,)).fetchone() == ("ok",)
    stored = "SELECT id, minx, maxx, miny, maxy FROM {} ORDER BY id"
    assert (
        conn.execute(stored.format("at_once")).fetchall()
        == conn.execute(stored.format("by_insert")).fetchall()
    )
    rng = random.Random(seed)
    window = (
        "SELECT id FROM {} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ? ORDER BY id"
    )
    for _ in range(30):
        x, y = rng.uniform(-2000, 700000), rng.uniform(-100, 1300000)
        size = rng.choice([1.0, 100.0, 20000.0, 400000.0])
        args = (x, x + size, y, y + size)
        assert (
            conn.execute(window.format("at_once"), args).fetchall()
            == conn.execute(window.format("by_insert"), args).fetchall()
        )


@pytest.mark.parametrize("count", [0, 1, 50, 51, 52, 103, 2601, 2602, 6000])
@pytest.mark.parametrize("points", [True, False])
def test_a_tree_filled_at_once_answers_as_one_filled_by_inserts(count, points):
    boxes = make_boxes(count, count, points)
    conn = two_trees(boxes)
    check(conn, count)
    depth = conn.execute("SELECT substr(data, 1, 2) FROM at_once_node WHERE nodeno = 1").fetchone()
    levels = 0 if count <= 51 else (1 if count <= 51 * 51 else 2)
    assert depth == (levels.to_bytes(2, "big"),)


def test_coordinates_that_no_32_bit_float_holds_are_rounded_outwards():
    boxes = [(-1, 0.1, 0.1, -0.1, -0.1), (-2, 440001.37, 440001.37, 110002.91, 110002.91)]
    boxes += [(-3, -123456.789, 98765.4321, -0.3, 1e-9), (-4, 16777217.0, 16777217.0, 5, 5)]
    boxes += make_boxes(200, 7, True)
    conn = two_trees(boxes)
    check(conn, 7)
    for box_id, minx, maxx, miny, maxy in boxes:
        stored = conn.execute(
            "SELECT minx, maxx, miny, maxy FROM at_once WHERE id = ?", (box_id,)
        ).fetchone()
        assert stored[0] <= minx and stored[1] >= maxx and stored[2] <= miny and stored[3] >= maxy


def test_inserts_updates_and_deletes_after_keep_the_tree_right():
    boxes = make_boxes(5000, 11, True)
    conn = two_trees(boxes)
    for name in ("by_insert", "at_once"):
        edits = random.Random(12)
        for box in make_boxes(800, 13, False):
            conn.execute(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", (box[0] + 1, *box[1:]))
        for box_id in edits.sample([b[0] for b in boxes], 2500):
            conn.execute(f"DELETE FROM {name} WHERE id = ?", (box_id,))
        for box_id in edits.sample([b[0] for b in boxes], 300):
            x = edits.uniform(0, 700000)
            conn.execute(
                f"UPDATE {name} SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = ?",
                (x, x + 1, x / 2, x / 2 + 1, box_id),
            )
    check(conn, 12)


@pytest.mark.parametrize("at_once", [True, False], ids=["filled-at-once", "by-inserts"])
def test_an_abp_holding_keeps_its_rtree_through_a_change_only_update(
    tmp_path, monkeypatch, at_once
):
    """The BLPU R-tree of a full build (filled at once, or by SQLite's inserts when the
    table holds more points than memory should), then a COU (the triggers)."""
    if not at_once:
        monkeypatch.setattr(gpkg, "FILL_AT_ONCE_MAX", 100)
    from holding_samples import abp_blpu, abp_file

    from os_downloads.core.holdings.holding import AppliedVersion, Holding, HoldingInfo
    from os_downloads.core.holdings.update import apply_version

    info = HoldingInfo("PKG2", "ABP", "ABP", "AddressBase Premium", "addressbase", "", "")
    blpus = [abp_blpu("I", n, 1000 + n, 440000 + 3.1 * n, 110000 - 2.7 * n) for n in range(3000)]
    blpus[7] = blpus[7].replace(",440021.70,109981.10,", ",,,")  # no coordinates, no point
    full = abp_file(tmp_path / "AddressBasePremium_FULL_2026-01-01_001.csv", "F", blpus)
    cou = abp_file(
        tmp_path / "cou" / "AddressBasePremium_COU_2026-02-01_001.csv",
        "C",
        [abp_blpu("U", 1, 1000 + n, 450000.5 + n, 120000.25) for n in range(0, 3000, 7)]
        + [abp_blpu("D", 2, 1000 + n, 0, 0) for n in range(3, 3000, 11)]
        + [abp_blpu("I", 3, 9000 + n, 430000 + n, 100000) for n in range(40)],
    )
    path = tmp_path / "abp.gpkg"
    for number, supply, files in (("1", "FULL", [full]), ("2", "COU", [cou])):
        with Holding.open(path, create=True) as holding:
            apply_version(holding, info, AppliedVersion(number, "", supply, "", "", ""), files)
        conn = gpkg.connect(path)
        try:
            assert conn.execute("SELECT rtreecheck('rtree_blpu_geom')").fetchone() == ("ok",)
            held = conn.execute(
                "SELECT fid, x_coordinate, y_coordinate FROM blpu WHERE geom NOT NULL ORDER BY fid"
            ).fetchall()
            boxes = conn.execute(
                "SELECT id, minx, maxx, miny, maxy FROM rtree_blpu_geom ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        assert [b[0] for b in boxes] == [h[0] for h in held]
        # The COU: 273 deleted, 40 inserted, and the BLPU without coordinates gets some.
        assert len(held) == (2999 if supply == "FULL" else 2999 - 273 + 40 + 1)
        for (_, x, y), (_, minx, maxx, miny, maxy) in zip(held, boxes):
            assert minx <= x <= maxx and miny <= y <= maxy and maxx - minx < 0.1
