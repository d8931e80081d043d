"""The holding engine on small hand-written supplies: OS's rules, one transaction per version."""

from __future__ import annotations

import gzip
import re
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path
from typing import List

import pytest
from holding_samples import (
    abp_blpu,
    abp_descriptor,
    abp_dpa,
    abp_file,
    abp_street,
    gml2_area,
    gml2_chunk,
    gml2_departed,
    gml2_line,
    gml2_text,
    gml32_area,
    gml32_chunk,
    square,
    write_gz,
)

from os_downloads.core.api.models import DataPackageVersionSummary
from os_downloads.core.holdings.chain import plan_chain
from os_downloads.core.holdings.errors import (
    BadSupplyError,
    MissingVersionError,
    NotAHoldingError,
    OtherPackageError,
)
from os_downloads.core.holdings.gpkg import decode_blob
from os_downloads.core.holdings.holding import AppliedVersion, Holding, HoldingInfo
from os_downloads.core.holdings.mastermap import read_chunk
from os_downloads.core.holdings.update import apply_version

TOPO = HoldingInfo("PKG1", "Topo", "MMTOPO", "OS MasterMap Topography Layer", "mastermap", "", "")
ABP = HoldingInfo("PKG2", "ABP", "ABP", "AddressBase Premium", "addressbase", "", "")


def version(vid: str, supply: str = "COU", previous: str = "") -> AppliedVersion:
    return AppliedVersion(vid, f"2026-0{vid}-01", supply, "UPDATE", "v", previous)


def rows(path: Path, sql: str) -> List[tuple]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- MasterMap -----------------------------------------------------------------------


@pytest.fixture
def topo_full(tmp_path: Path) -> List[Path]:
    first = write_gz(
        tmp_path / "full" / "5000-SU4010.gz",
        gml2_chunk(
            [
                gml2_area("osgb1", 3, square(0, 0), hole=[(2, 2), (4, 2), (4, 4), (2, 2)]),
                gml2_area("osgb2", 2, square(20, 0), group=("Building", "Inland Water")),
                gml2_line("osgb3", 1, [(0, 0), (5, 5), (9, 1)]),
                gml2_text("osgb4", 1, (1.5, 2.5), "Ppg Sta"),
            ]
        ),
    )
    # The next chunk repeats osgb2 (chunks overlap) and is GML 3.2.
    second = write_gz(
        tmp_path / "full" / "5000-SU4011.gz",
        gml32_chunk([gml32_area("osgb2", 2, square(20, 0)), gml32_area("osgb5", 1, square(40, 0))]),
    )
    return [first, second]


def build(path: Path, info: HoldingInfo, files: List[Path]) -> None:
    with Holding.open(path, create=True) as holding:
        apply_version(holding, info, version("1", "FULL"), files)


def test_full_supply_one_table_per_class_repeated_features_once(tmp_path, topo_full):
    holding = tmp_path / "topo.gpkg"
    build(holding, TOPO, topo_full)
    assert rows(holding, "SELECT toid, version FROM topographic_area ORDER BY toid") == [
        ("osgb1", 3),
        ("osgb2", 2),
        ("osgb5", 1),
    ]
    area = rows(
        holding,
        "SELECT feature_code, theme, descriptive_group, change_date, reason_for_change, make, "
        "physical_level, calculated_area_value, geom FROM topographic_area WHERE toid = 'osgb2'",
    )[0]
    assert area[:8] == (
        10021,
        "Buildings",
        "Building, Inland Water",  # multi-valued: joined with ", "
        "2001-03-09, 2004-05-01",
        "New, Modified",
        "Manmade",
        50,
        100.5,
    )
    kind, rings = decode_blob(
        rows(holding, "SELECT geom FROM topographic_area WHERE toid='osgb1'")[0][0]
    )
    assert kind == "Polygon" and len(rings) == 2 and rings[0][1] == (10.0, 0.0)
    text = rows(
        holding,
        "SELECT text_string, font, height, orientation, anchor_position, geom "
        "FROM cartographic_text",
    )[0]
    assert text[:5] == ("Ppg Sta", 2, 1.5, 900, 4)
    assert decode_blob(text[5]) == ("Point", (1.5, 2.5))
    line = rows(holding, "SELECT physical_presence, descriptive_term, geom FROM topographic_line")[
        0
    ]
    assert line[:2] == ("Obstructing", "Outline")
    assert decode_blob(line[2])[1] == [(0.0, 0.0), (5.0, 5.0), (9.0, 1.0)]
    tables = [r[0] for r in rows(holding, "SELECT table_name FROM gpkg_contents ORDER BY 1")]
    assert tables == [
        "boundary_line",
        "cartographic_symbol",
        "cartographic_text",
        "topographic_area",
        "topographic_line",
        "topographic_point",
    ]


def test_gdal_reads_the_holding_with_its_spatial_index(tmp_path, topo_full):
    ogr = pytest.importorskip("osgeo.ogr")
    holding = tmp_path / "topo.gpkg"
    build(holding, TOPO, topo_full)
    ds = ogr.Open(str(holding))
    layer = ds.GetLayerByName("topographic_area")
    assert layer.GetFeatureCount() == 3
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "27700"
    layer.SetSpatialFilterRect(35, -1, 60, 20)
    assert [f.GetField("toid") for f in layer] == ["osgb5"]
    assert ds.GetLayerByName("topographic_area").TestCapability(ogr.OLCFastSpatialFilter)


def test_cou_version_rule_and_departures(tmp_path, topo_full):
    holding = tmp_path / "topo.gpkg"
    build(holding, TOPO, topo_full)
    cou = write_gz(
        tmp_path / "cou" / "5001-SU4010.gz",
        gml2_chunk(
            [
                gml2_area("osgb1", 4, square(100, 100)),  # higher: replaces
                gml2_area("osgb2", 1, square(999, 999)),  # lower: ignored
                gml2_area("osgb5", 1, square(888, 888)),  # equal: ignored
                gml2_area("osgb6", 1, square(60, 0)),  # new
                gml2_departed("osgb3"),  # held: deleted
                gml2_departed("osgb404"),  # never held: not an error
            ]
        ),
    )
    with Holding.open(holding) as h:
        outcome = apply_version(h, TOPO, version("2", previous="1"), [cou])
    assert outcome.changes["topographic_area"] == {
        "inserted": 1,
        "updated": 1,
        "deleted": 0,
        "ignored": 2,
    }
    assert outcome.changes["topographic_line"]["deleted"] == 1
    held = dict(rows(holding, "SELECT toid, version FROM topographic_area"))
    assert held == {"osgb1": 4, "osgb2": 2, "osgb5": 1, "osgb6": 1}
    assert rows(holding, "SELECT count(*) FROM topographic_line") == [(0,)]
    blob = rows(holding, "SELECT geom FROM topographic_area WHERE toid = 'osgb1'")[0][0]
    assert decode_blob(blob)[1][0][0] == (100.0, 100.0)
    extent = rows(
        holding, "SELECT max_x, max_y FROM gpkg_contents WHERE table_name = 'topographic_area'"
    )[0]
    assert extent[0] >= 110 and extent[1] >= 110  # grown to osgb1's new place
    # The R-tree follows: the old position of osgb1 finds nothing any more.
    assert rows(holding, "SELECT count(*) FROM rtree_topographic_area_geom WHERE maxx < 15") == [
        (0,)
    ]


def test_a_bad_chunk_leaves_the_holding_as_it_was(tmp_path, topo_full):
    holding = tmp_path / "topo.gpkg"
    build(holding, TOPO, topo_full)
    before = rows(holding, "SELECT toid, version, geom FROM topographic_area ORDER BY toid")
    good = write_gz(
        tmp_path / "cou" / "5001-SU4010.gz", gml2_chunk([gml2_area("osgb1", 9, square(5, 5))])
    )
    cut = gzip.compress(gml2_chunk([gml2_area("osgb2", 9, square(5, 5))]))[:-30]
    bad = tmp_path / "cou" / "5001-SU4011.gz"
    bad.write_bytes(cut)
    with Holding.open(holding) as h, pytest.raises(BadSupplyError, match="5001-SU4011.gz"):
        apply_version(h, TOPO, version("2", previous="1"), [good, bad])
    assert rows(holding, "SELECT toid, version, geom FROM topographic_area ORDER BY toid") == before
    assert [r[0] for r in rows(holding, "SELECT version_id FROM os_holding_versions")] == ["1"]


def test_reading_a_large_chunk_keeps_memory_flat(tmp_path):
    # A whole tree of 4000 features would take tens of MB; the stream keeps a few.
    members = (gml2_area(f"osgb{n}", 1, square(n % 1000, n // 1000)) for n in range(4000))
    chunk = write_gz(tmp_path / "big.gz", gml2_chunk(members))
    tracemalloc.start()
    count = sum(1 for _ in read_chunk(chunk))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 4000
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes for a {chunk.stat().st_size}-byte chunk"


# --- AddressBase Premium -------------------------------------------------------------


@pytest.fixture
def abp_full(tmp_path: Path) -> Path:
    csv = abp_file(
        tmp_path / "AddressBasePremium_FULL_2026-01-22_001.csv",
        "F",
        [
            abp_street("I", 1, 100),
            abp_descriptor("I", 2, 100, "HIGH STREET"),
            abp_descriptor("I", 3, 100, "STRYD FAWR", "CYM"),
            abp_blpu("I", 4, 1001, 440001.5, 110002.25),
            abp_blpu("I", 5, 1002, 440005, 110005),
            abp_dpa("I", 6, 1001, 5001, "HIGH STREET"),
        ],
    )
    archive = tmp_path / "AB76GB_CSV.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(csv, csv.name)
    csv.unlink()
    return archive


def test_abp_full_one_table_per_record_type_blpu_as_points(tmp_path, abp_full):
    holding = tmp_path / "abp.gpkg"
    build(holding, ABP, [abp_full])
    blpu = rows(
        holding, "SELECT uprn, x_coordinate, y_coordinate, postcode_locator, geom FROM blpu"
    )
    assert [r[:4] for r in blpu] == [
        (1001, 440001.5, 110002.25, "SO14 1AA"),
        (1002, 440005.0, 110005.0, "SO14 1AA"),
    ]
    assert decode_blob(blpu[0][4]) == ("Point", (440001.5, 110002.25))
    assert rows(holding, "SELECT usrn, language FROM street_descriptor ORDER BY language") == [
        (100, "CYM"),
        (100, "ENG"),
    ]
    dpa = rows(holding, "SELECT udprn, thoroughfare, post_town, postcode FROM delivery_point")
    assert dpa == [(5001, "HIGH STREET", "SOUTHAMPTON", "SO14 1AA")]
    columns = [r[1] for r in rows(holding, "PRAGMA table_info(street)")]
    assert columns[:5] == ["fid", "record_identifier", "change_type", "pro_order", "usrn"]
    assert len(columns) == 1 + 24  # fid + every column of the record
    tables = {r[0] for r in rows(holding, "SELECT table_name FROM gpkg_contents")}
    assert {"street", "street_descriptor", "blpu", "xref", "lpi", "delivery_point"} <= tables
    assert {"organisation", "classification", "successor", "metadata"} <= tables


def test_abp_cou_applied_by_key_in_pro_order(tmp_path, abp_full):
    holding = tmp_path / "abp.gpkg"
    build(holding, ABP, [abp_full])
    cou = abp_file(
        tmp_path / "AddressBasePremium_COU_2026-02-19_001.csv",
        "C",
        [  # out of PRO_ORDER in the file, as OS allows
            abp_blpu("U", 3, 1001, 440009, 110009),
            abp_blpu("I", 2, 1002, 440007, 110007),
            abp_blpu("D", 1, 1002, 0, 0),  # PRO_ORDER 1: before the I above
            abp_blpu("D", 4, 1003, 0, 0),  # never held
            abp_blpu("I", 5, 1004, 440100, 110100),
            abp_descriptor("D", 6, 100, "STRYD FAWR", "CYM"),  # key USRN + LANGUAGE
        ],
    )
    with Holding.open(holding) as h:
        outcome = apply_version(h, ABP, version("2", previous="1"), [cou])
    assert outcome.changes["blpu"] == {"inserted": 1, "updated": 2, "deleted": 0, "ignored": 1}
    assert outcome.changes["street_descriptor"]["deleted"] == 1
    assert rows(holding, "SELECT uprn, change_type, x_coordinate FROM blpu ORDER BY uprn") == [
        (1001, "U", 440009.0),
        (1002, "I", 440007.0),
        (1004, "I", 440100.0),
    ]
    assert rows(holding, "SELECT usrn, language FROM street_descriptor") == [(100, "ENG")]
    point = rows(holding, "SELECT geom FROM blpu WHERE uprn = 1001")[0][0]
    assert decode_blob(point) == ("Point", (440009.0, 110009.0))


def test_abp_record_with_wrong_field_count_names_file_and_line(tmp_path, abp_full):
    holding = tmp_path / "abp.gpkg"
    build(holding, ABP, [abp_full])
    before = rows(holding, "SELECT * FROM blpu ORDER BY uprn")
    cou = abp_file(
        tmp_path / "AddressBasePremium_COU_2026-02-19_001.csv",
        "C",
        [abp_blpu("U", 1, 1001, 1, 1), abp_blpu("U", 2, 1002, 2, 2) + ",extra"],
    )
    with Holding.open(holding) as h, pytest.raises(BadSupplyError) as caught:
        apply_version(h, ABP, version("2", previous="1"), [cou])
    assert str(caught.value) == (
        "AddressBasePremium_COU_2026-02-19_001.csv: line 3: a BLPU record (type 21) has "
        "23 fields; that type has 22."
    )
    assert rows(holding, "SELECT * FROM blpu ORDER BY uprn") == before


@pytest.mark.parametrize(
    "file_type, count, message",
    [
        ("F", -1, "the header says a full supply (F), but this version is a change-only update"),
        ("X", -1, "FILE_TYPE is 'X'; it must be F (full) or C (change)"),
        ("C", 7, "the trailer says 7 records, the file holds 1"),
    ],
)
def test_abp_header_and_trailer_are_checked(tmp_path, abp_full, file_type, count, message):
    holding = tmp_path / "abp.gpkg"
    build(holding, ABP, [abp_full])
    cou = abp_file(
        tmp_path / "AddressBasePremium_COU_2026-02-19_001.csv",
        file_type,
        [abp_blpu("U", 1, 1001, 1, 1)],
        count=count,
    )
    with Holding.open(holding) as h, pytest.raises(BadSupplyError, match=re.escape(message)):
        apply_version(h, ABP, version("2", previous="1"), [cou])
    assert rows(holding, "SELECT x_coordinate FROM blpu WHERE uprn = 1001") == [(440001.5,)]


def test_a_first_full_build_is_built_aside_and_appears_only_when_whole(tmp_path, abp_full):
    holding = tmp_path / "abp.gpkg"
    aside = tmp_path / ".abp.gpkg.building"
    bad = abp_file(
        tmp_path / "bad" / "AddressBasePremium_FULL_2026-01-22_001.csv",
        "F",
        [abp_blpu("I", 1, 1001, 1, 1), abp_blpu("I", 2, 1002, 2, 2) + ",extra"],
    )
    with Holding.open(holding, create=True) as h, pytest.raises(BadSupplyError):
        apply_version(h, ABP, version("1", "FULL"), [bad])
    assert not aside.exists()  # the half-built file is gone
    with Holding.open(holding) as h:  # still the empty holding it was, no half of the build
        assert h.is_empty() and h.info is None
    build(holding, ABP, [abp_full])
    assert not aside.exists()
    assert rows(holding, "SELECT uprn FROM blpu ORDER BY uprn") == [(1001,), (1002,)]
    assert rows(holding, "PRAGMA journal_mode") == [("delete",)]  # a COU keeps the journal
    with Holding.open(holding) as h, pytest.raises(BadSupplyError):  # a rebuild: in place
        apply_version(h, ABP, version("2", "FULL"), [bad])
    assert rows(holding, "SELECT uprn FROM blpu ORDER BY uprn") == [(1001,), (1002,)]


# --- the file itself -------------------------------------------------------------------


def test_a_geopackage_of_other_data_is_refused_untouched(tmp_path):
    ogr = pytest.importorskip("osgeo.ogr")
    other = tmp_path / "roads.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(other))
    ds.CreateLayer("roads", geom_type=ogr.wkbLineString)
    ds = None
    before = other.read_bytes()
    with pytest.raises(NotAHoldingError, match="GeoPackage with other data"):
        Holding.open(other)
    assert other.read_bytes() == before


def test_a_holding_of_another_package_is_refused(tmp_path, abp_full):
    holding = tmp_path / "abp.gpkg"
    build(holding, ABP, [abp_full])
    with Holding.open(holding) as h, pytest.raises(OtherPackageError) as caught:
        h.check_package("9999")
    assert "holds data package PKG2, not 9999" in str(caught.value)


# --- the chain ------------------------------------------------------------------------


def summary(vid: str, created: str, supply: str) -> DataPackageVersionSummary:
    return DataPackageVersionSummary(vid, "", created, "UPDATE", supply, "", "CSV")


VERSIONS = [
    summary("10", "2026-01-01", "FULL"),
    summary("11", "2026-02-01", "COU"),
    summary("12", "2026-03-01", "COU"),
    summary("13", "2026-04-01", "COU"),
]


def test_chain_starts_from_the_newest_full_and_continues_after_the_last_applied():
    assert [v.id for v in plan_chain(VERSIONS, []).to_apply] == ["10", "11", "12", "13"]
    assert [v.id for v in plan_chain(VERSIONS, ["10", "11"]).to_apply] == ["12", "13"]
    assert plan_chain(VERSIONS, ["10", "11", "12", "13"]).to_apply == []
    newer = VERSIONS + [summary("14", "2026-05-01", "FULL"), summary("15", "2026-06-01", "COU")]
    plan = plan_chain(newer, ["10", "11"])
    assert [v.id for v in plan.to_apply] == ["14", "15"] and plan.rebuild
    assert [v.id for v in plan_chain(VERSIONS, ["10"], rebuild=True).to_apply][0] == "10"


def test_chain_refuses_a_cou_whose_predecessor_is_missing():
    links = {"11": "10", "12": "11", "13": "12"}
    listed = [v for v in VERSIONS if v.id != "12"]  # 12 no longer listed
    with pytest.raises(MissingVersionError) as caught:
        plan_chain(listed, ["10", "11"], predecessor=lambda v: links[v.id])
    text = str(caught.value) + " " + caught.value.hint
    assert "Change-only update 13 applies on top of version 12" in text
    assert "not in this holding (it holds up to 11)" in text
    assert "ask OS for a re-supply" in text  # rebuilding from 10 would meet the same gap


def test_chain_offers_a_rebuild_when_the_chain_from_the_full_supply_is_whole():
    links = {"11": "10", "12": "11", "13": "12"}
    with pytest.raises(MissingVersionError) as caught:  # 99: from another chain, not listed
        plan_chain(VERSIONS, ["10", "99"], predecessor=lambda v: links[v.id])
    assert "Start again from the newest full supply (10)" in caught.value.hint
    assert "--rebuild" in caught.value.hint
    plan = plan_chain(VERSIONS, ["10", "99"], rebuild=True, predecessor=lambda v: links[v.id])
    assert [v.id for v in plan.to_apply] == ["10", "11", "12", "13"] and plan.rebuild


def test_chain_follows_the_links_when_the_last_applied_is_no_longer_listed():
    links = {"11": "10", "12": "11", "13": "12"}
    listed = [v for v in VERSIONS if v.id != "11"]
    plan = plan_chain(listed, ["10", "11"], predecessor=lambda v: links[v.id])
    assert [v.id for v in plan.to_apply] == ["12", "13"]


def test_the_same_supply_applied_again_changes_nothing(tmp_path, topo_full, abp_full):
    """OS's rules make a COU safe to re-apply (how OS says to repair a holding)."""
    cou = write_gz(
        tmp_path / "cou" / "5001-SU4010.gz",
        gml2_chunk([gml2_area("osgb1", 4, square(100, 100)), gml2_departed("osgb3")]),
    )
    topo = tmp_path / "topo.gpkg"
    build(topo, TOPO, topo_full)
    abp = tmp_path / "abp.gpkg"
    build(abp, ABP, [abp_full])
    abp_cou = abp_file(
        tmp_path / "AddressBasePremium_COU_2026-02-19_001.csv",
        "C",
        [abp_blpu("U", 2, 1001, 440009, 110009), abp_blpu("D", 1, 1002, 0, 0)],
    )
    for path, info, files, table in (
        (topo, TOPO, [cou], "topographic_area"),
        (abp, ABP, [abp_cou], "blpu"),
    ):
        with Holding.open(path) as h:
            apply_version(h, info, version("2", previous="1"), files)
        once = rows(path, f"SELECT * FROM {table} ORDER BY fid")
        with Holding.open(path) as h:
            again = apply_version(h, info, version("3", previous="2"), files)
            assert apply_version(h, info, version("3"), files) is None  # already in the holding
        assert rows(path, f"SELECT * FROM {table} ORDER BY fid") == once
        totals = again.totals()
        assert totals["inserted"] == 0 and totals["deleted"] == 0


def test_cancel_mid_apply_rolls_the_version_back(tmp_path, topo_full):
    import threading

    from os_downloads.core.errors import Cancelled

    holding = tmp_path / "topo.gpkg"
    build(holding, TOPO, topo_full)
    before = rows(holding, "SELECT * FROM topographic_area ORDER BY fid")
    members = (gml2_area(f"osgb7{n:09d}", 1, square(n, n)) for n in range(5000))
    big = write_gz(tmp_path / "cou" / "5002-SU4010.gz", gml2_chunk(members))
    cancel = threading.Event()
    seen = []

    def progress(p) -> None:
        seen.append(p.phase)
        cancel.set()  # the user presses Cancel as soon as the apply starts

    with Holding.open(holding) as h, pytest.raises(Cancelled):
        apply_version(h, TOPO, version("2", previous="1"), [big], progress=progress, cancel=cancel)
    assert seen and seen[0] == "apply"
    assert rows(holding, "SELECT * FROM topographic_area ORDER BY fid") == before
    assert rows(holding, "SELECT version_id FROM os_holding_versions") == [("1",)]


def test_which_products_a_holding_reads(tmp_path, abp_full, topo_full):
    from os_downloads.core.holdings.errors import UnsupportedSupplyError
    from os_downloads.core.holdings.update import detect_kind, product_kind

    assert product_kind("MMTOPO") == "mastermap"
    assert product_kind("XYZ", "AddressBase Premium") == "addressbase"
    assert product_kind("ABPOSTSLA", "AddressBase") == ""  # flat AddressBase: not these readers
    assert product_kind("ABFLATSLA", "AddressBase Plus") == ""
    assert detect_kind("", [abp_full]) == "addressbase"  # told by the files: a 10 header
    assert detect_kind("", topo_full) == "mastermap"
    flat = tmp_path / "AddressBase_FULL_2026-01-01_001.csv"
    flat.write_text('UPRN,UDPRN\n"1","2"\n', encoding="utf-8")
    with pytest.raises(UnsupportedSupplyError, match="AddressBase Premium"):
        detect_kind("ABPOSTSLA", [flat], "AddressBase")
