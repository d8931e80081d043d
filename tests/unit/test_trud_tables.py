"""TRUD release content as tables: ODS headerless files, headed CSVs, ODS XML flattened, windows."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from os_downloads.core.sources.trud.ods_xml import COLUMNS, flatten_to_csv, iter_organisations
from os_downloads.core.sources.trud.tables import (
    ODS_27_FIELDS,
    describe_table,
    find_tables,
    looks_like_postcode,
    normalise_postcode,
)
from os_downloads.core.sources.trud.window import (
    _UkRule,
    describe_wait,
    in_window,
    next_window_start,
    seconds_until_window,
    uk_zone,
)
from os_downloads.replica.data.sample_trud import (
    NEW_BUILD_POSTCODE,
    _practices_in_release,
    epraccur,
    nicip_csv,
    ods_xml,
)


@pytest.mark.parametrize("written", ["SO16 6YD", "so166yd", " SO16  6YD ", "SO166YD"])
def test_postcodes_normalise_to_one_join_key(written):
    assert normalise_postcode(written) == "SO166YD"


def test_code_point_and_ods_forms_meet():
    assert normalise_postcode("E1  6AN") == normalise_postcode("E1 6AN") == "E16AN"
    assert looks_like_postcode("SE1 7EH") and not looks_like_postcode("J82001")


def test_a_headerless_ods_file_gets_the_standard_columns(tmp_path: Path):
    path = tmp_path / "epraccur.csv"
    path.write_bytes(epraccur(_practices_in_release(2)))
    table = describe_table(path)
    assert table.columns == ODS_27_FIELDS and not table.has_header
    assert table.postcode_column == "postcode" and table.postcode_index == 9
    assert table.title == "GP practices"


def test_a_headed_csv_and_a_headerless_unknown_one(tmp_path: Path):
    headed = tmp_path / "nicip_30.0.0.csv"
    headed.write_bytes(nicip_csv(1))
    info = describe_table(headed)
    assert info.has_header and info.columns[0] == "NICIP Code" and info.postcode_column is None
    sites = tmp_path / "sites.csv"
    sites.write_text("Site,Post Code\nA,SO16 6YD\nB,SE1 7EH\n")
    assert describe_table(sites).postcode_column == "Post Code"
    unknown = tmp_path / "mystery.csv"
    unknown.write_text('"X1","Somewhere","SO16 6YD"\n"X2","Elsewhere","SE1 7EH"\n')
    info = describe_table(unknown)
    assert not info.has_header and info.postcode_column == "field_3"
    assert [t.name for t in find_tables(tmp_path)] == ["mystery", "nicip_30.0.0", "sites"]


def test_ods_xml_flattens_to_one_row_per_top_level_organisation(tmp_path: Path):
    xml = tmp_path / "HSCOrgRefData_Full_20260501.xml"
    practices = _practices_in_release(2)
    xml.write_bytes(ods_xml("Full", "2026-05-01", practices))
    rows = list(iter_organisations(xml))
    assert len(rows) == len(practices) + 4  # four trusts
    trust = rows[0]
    assert trust["ods_code"] == "RHM" and trust["postcode"] == "SO16 6YD"
    assert trust["primary_role"] == "NHS TRUST" and trust["status"] == "Active"
    closed = next(r for r in rows if r["end_date"])
    assert closed["status"] == "Inactive"
    assert any(r["postcode"] == NEW_BUILD_POSTCODE for r in rows)
    out = flatten_to_csv(xml)
    assert out.name == "HSCOrgRefData_Full_20260501_organisations.csv"
    header = out.read_text("utf-8").splitlines()[0]
    assert header == ",".join(COLUMNS)
    assert describe_table(out).postcode_column == "postcode"


# --- TRUD's windows for automated downloads ----------------------------------------------


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "moment,allowed",
    [
        ("2026-03-09T10:00", True),  # Monday 10:00 GMT
        ("2026-03-09T05:59", True),
        ("2026-03-09T06:00", False),  # maintenance 06:00-09:00
        ("2026-03-09T18:00", False),
        ("2026-03-07T10:00", False),  # Saturday
        ("2026-07-01T05:30", False),  # 06:30 BST
        ("2026-07-01T08:30", True),  # 09:30 BST
    ],
)
def test_windows_are_weekdays_in_uk_time(moment, allowed):
    assert in_window(utc(moment)) is allowed


def test_the_next_window_and_the_wait_in_words():
    friday_evening = utc("2026-03-13T18:30")
    opens = next_window_start(friday_evening)
    assert (opens.strftime("%a %H:%M"), opens.date().isoformat()) == ("Mon 00:00", "2026-03-16")
    assert seconds_until_window(friday_evening) == 53.5 * 3600
    assert describe_wait(friday_evening) == (
        "now Fri 18:30 UK time; the next window opens Mon 00:00 (in 53 h 30 min)"
    )
    assert seconds_until_window(utc("2026-03-09T10:00")) == 0


def test_a_wait_across_the_clock_change_counts_real_hours():
    # Friday 27 March 2026 19:00 GMT -> Monday 30 March 00:00 BST (clocks went forward on Sunday).
    assert seconds_until_window(utc("2026-03-27T19:00")) == (53 - 1) * 3600


def test_the_uk_rule_matches_the_time_zone_database():
    rule = _UkRule()
    zone = uk_zone()
    for moment in ("2026-03-29T00:59", "2026-03-29T01:00", "2026-10-25T00:30", "2026-10-25T01:30"):
        when = utc(moment)
        assert when.astimezone(rule).utcoffset() == when.astimezone(zone).utcoffset()
        assert when.astimezone(rule).replace(tzinfo=None) == when.astimezone(zone).replace(
            tzinfo=None
        )
