"""AddressBase Premium's batch reader (a full build's) against its record reader.

``read_batches`` must give a full build the same records as ``read_records``, in
the same order, and refuse the same files with the same words (the same line).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import List

import pytest
from holding_samples import abp_blpu, abp_descriptor, abp_dpa, abp_header, abp_trailer

from os_downloads.core.holdings.addressbase import CsvFile, read_records
from os_downloads.core.holdings.addressbase_batches import read_batches
from os_downloads.core.holdings.errors import BadSupplyError
from os_downloads.core.holdings.holding import AppliedVersion, Holding, HoldingInfo
from os_downloads.core.holdings.update import apply_version

ABP = HoldingInfo("PKG2", "ABP", "ABP", "AddressBase Premium", "addressbase", "", "")


def records(count: int) -> List[str]:
    """BLPUs, DPAs and street descriptors in turn, each with its own key."""
    out = []
    for n in range(count):
        if n % 3 == 0:
            out.append(abp_blpu("I", n, 1000 + n, 440000 + n, 110000 + n))
        elif n % 3 == 1:
            out.append(abp_dpa("I", n, 1000 + n, 5000 + n, "HIGH STREET"))
        else:
            out.append(abp_descriptor("I", n, 100 + n, "HIGH STREET"))
    return out


def write(path: Path, lines: List[str]) -> CsvFile:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return CsvFile(path)


def by_records(source: CsvFile):
    out = []
    for record in read_records(source, []):
        out.append((record.type.code, list(record.fields)))
    return out


def by_batches(source: CsvFile, size: int):
    out = []
    for batch in read_batches(source, [], size=size):
        # Within a batch, records keep their file order per type; compare per type.
        for code, rows in batch.items():
            out.extend((code, list(fields)) for fields in rows)
    return out


def per_type(items):
    grouped = {}
    for code, fields in items:
        grouped.setdefault(code, []).append(fields)
    return grouped


def outcome(reader, *args):
    try:
        return "ok", per_type(reader(*args))
    except BadSupplyError as err:
        return "error", str(err)


BODY = records(11)
CASES = {
    "good": [abp_header("F"), *BODY, abp_trailer(len(BODY))],
    "good, counted with header and trailer": [abp_header("F"), *BODY, abp_trailer(len(BODY) + 2)],
    "blank lines": [abp_header("F"), "", *BODY[:5], "", *BODY[5:], abp_trailer(len(BODY)), ""],
    "a field with a line break": [
        abp_header("F"),
        *BODY[:4],
        abp_dpa("I", 90, 1090, 5090, "HIGH\r\nSTREET"),
        *BODY[4:],
        abp_blpu("I", 91, 1091, 1, 1) + ",extra",
        abp_trailer(len(BODY) + 2),
    ],
    "too many fields, first batch": [
        abp_header("F"),
        abp_blpu("I", 1, 1, 1, 1) + ",x",
        *BODY,
        abp_trailer(12),
    ],
    "too few fields, later batch": [
        abp_header("F"),
        *BODY[:8],
        abp_blpu("I", 1, 1, 1, 1).rsplit(",", 1)[0],
        *BODY[8:],
        abp_trailer(12),
    ],
    "too many fields, beside the trailer": [
        abp_header("F"),
        *BODY,
        abp_blpu("I", 1, 1, 1, 1) + ",x",
        abp_trailer(12),
    ],
    "unknown record type": [abp_header("F"), *BODY[:6], "77,I,1", *BODY[6:], abp_trailer(12)],
    "a record type with spaces": [
        abp_header("F"),
        *BODY[:6],
        " " + BODY[0],
        *BODY[6:],
        abp_trailer(12),
    ],
    "a record after the trailer": [abp_header("F"), *BODY, abp_trailer(11), BODY[0]],
    "a second header": [abp_header("F"), *BODY[:7], abp_header("F"), *BODY[7:], abp_trailer(11)],
    "no header": [*BODY, abp_trailer(11)],
    "no trailer": [abp_header("F"), *BODY],
    "a wrong count": [abp_header("F"), *BODY, abp_trailer(5)],
    "a count that is not a number": [
        abp_header("F"),
        *BODY,
        abp_trailer(11).replace(",11,", ",eleven,"),
    ],
    "not a file type": [abp_header("X"), *BODY, abp_trailer(11)],
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("size", [1, 2, 3, 5, 250])
def test_batches_give_what_records_give(tmp_path, case, size):
    source = write(tmp_path / "AddressBasePremium_FULL_2026-01-01_001.csv", CASES[case])
    expected = outcome(by_records, source)
    assert outcome(by_batches, source, size) == expected
    good = case.startswith("good") or case in ("blank lines", "a record type with spaces")
    assert expected[0] == ("ok" if good else "error")


def test_a_wrong_field_count_in_a_full_supply_names_the_line(tmp_path):
    lines = [abp_header("F"), *records(600)]
    lines.insert(400, abp_blpu("I", 1, 99999, 1, 1) + ",extra")
    lines.append(abp_trailer(601))
    source = write(tmp_path / "AddressBasePremium_FULL_2026-01-01_001.csv", lines)
    full = AppliedVersion("1", "", "FULL", "", "", "")
    with (
        Holding.open(tmp_path / "abp.gpkg", create=True) as holding,
        pytest.raises(BadSupplyError) as caught,
    ):
        apply_version(holding, ABP, full, [source.path])
    assert str(caught.value) == (
        "AddressBasePremium_FULL_2026-01-01_001.csv: line 401: a BLPU record (type 21) has "
        "23 fields; that type has 22."
    )
    assert not (tmp_path / ".abp.gpkg.building").exists()


def test_a_change_record_in_a_full_supply_names_the_line(tmp_path):
    lines = [abp_header("F"), *records(600)]
    lines[300] = lines[300].replace('"I"', '"U"', 1)
    lines[500] = lines[500].replace('"I"', '"D"', 1)
    lines.append(abp_trailer(600))
    source = write(tmp_path / "AddressBasePremium_FULL_2026-01-01_001.csv", lines)
    full = AppliedVersion("1", "", "FULL", "", "", "")
    with (
        Holding.open(tmp_path / "abp.gpkg", create=True) as holding,
        pytest.raises(BadSupplyError) as caught,
    ):
        apply_version(holding, ABP, full, [source.path])
    assert str(caught.value) == (
        "AddressBasePremium_FULL_2026-01-01_001.csv: line 301: change type 'U' in a full "
        "supply (only I is expected)."
    )


def test_a_full_build_stores_every_record_as_read(tmp_path):
    """Many rows a statement: every record stored once, in file order, "" as NULL."""
    body = records(1000)
    body.append(abp_blpu("I", 5000, 99999, 1, 1).replace(",1.00,1.00,", ",,,"))  # no point
    source = write(
        tmp_path / "AddressBasePremium_FULL_2026-01-01_001.csv",
        [abp_header("F"), *body, abp_trailer(len(body))],
    )
    with Holding.open(tmp_path / "abp.gpkg", create=True) as holding:
        outcome = apply_version(
            holding, ABP, AppliedVersion("1", "", "FULL", "", "", ""), [source.path]
        )
    conn = sqlite3.connect(str(tmp_path / "abp.gpkg"))
    try:
        uprns = [r[0] for r in conn.execute("SELECT uprn FROM blpu ORDER BY fid")]
        assert uprns == [1000 + n for n in range(0, 1000, 3)] + [99999]
        assert conn.execute("SELECT count(*) FROM delivery_point").fetchone() == (333,)
        assert conn.execute("SELECT count(*) FROM street_descriptor").fetchone() == (333,)
        assert conn.execute(
            "SELECT geom IS NULL, x_coordinate IS NULL, parent_uprn IS NULL FROM blpu "
            "WHERE uprn = 99999"
        ).fetchone() == (1, 1, 1)
        assert conn.execute("SELECT count(*) FROM rtree_blpu_geom").fetchone() == (334,)
    finally:
        conn.close()
    assert outcome.changes["blpu"]["inserted"] == 335
