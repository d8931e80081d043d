"""One rule for "is the first row of this CSV a header?", for discovery and TRUD's tables alike.

Before, discovery (``engine/discover.py``) and TRUD's tables
(``sources/trud/tables.py``) each had a check of their own, and on the first
four files below they disagreed (one of them wrong): the same CSV loaded with
its first row as field names in the Downloads tab and as a data row in the TRUD
tab, or the other way round. The last two (an ODS file, a plain header) are the
shapes both always got right. Each is a shape real NHS and OS files come in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from os_downloads.core.engine.csvsniff import inspect_csv, looks_like_header
from os_downloads.core.sources.trud.tables import describe_table

# One ODS "standard 27-field" row (headerless), as in epraccur.csv: codes, words,
# blank address lines, a postcode with a space, dates as eight digits.
ODS_ROW = (
    '"J82001","ABOVE BAR STREET SURGERY","Y59","QRL","202 ABOVE BAR STREET","","",'
    '"SOUTHAMPTON","HAMPSHIRE","SO14 7DU","19740401","","A","B","D81001","20130401","",'
    '"023 8022 3456","","","","0","","4","","",""'
)

CASES = {
    # An Excel export: a trailing delimiter leaves the header's last cell blank.
    "trailing_delimiter_header.csv": (
        "Practice Code,Practice Name,Postcode,\nJ82001,ABOVE BAR STREET SURGERY,SO14 7DU,\n",
        True,
    ),
    # Header names with punctuation: names all the same.
    "punctuation_header.csv": (
        "Organisation Code,Name & Address,% Registered\nJ82001,ABOVE BAR STREET,12.5\n",
        True,
    ),
    # Headerless: a practice code and its postcode (every cell is "name-like" text).
    "practice_postcodes.csv": ("J82001,SO14 7DU\nJ82002,SO15 2AB\n", False),
    # Headerless: ISO dates are values, not names.
    "practice_openings.csv": (
        "J82001,ABOVE BAR STREET SURGERY,1974-04-01\nJ82002,BRANCH,1980-01-01\n",
        False,
    ),
    # The ODS layout under a name the TRUD tables do not know (no layout shortcut).
    "gp_practices_copy.csv": (ODS_ROW + "\n" + ODS_ROW + "\n", False),
    # A plain header above plain data.
    "plain_header.csv": ("UPRN,X_COORDINATE,Y_COORDINATE\n100,437000.5,115000.25\n", True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_discovery_and_trud_tables_agree_on_the_first_row(tmp_path: Path, name: str) -> None:
    text, has_header = CASES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    options, _first = inspect_csv(path)
    table = describe_table(path)

    assert options.has_header is has_header
    assert table.has_header is has_header
    if has_header:
        assert list(options.field_names) == list(table.columns)  # the same names, both ways


def test_a_blank_header_cell_from_a_trailing_delimiter_gets_a_field_name(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"
    path.write_text("Code,Name,\nA1,B,\n", encoding="utf-8")

    assert inspect_csv(path)[0].field_names == ("Code", "Name", "field_3")


@pytest.mark.parametrize(
    "row, expected",
    [
        (["NAME1", "VERSION_NUMBER_1", "PCD7"], True),  # identifiers with a digit or two
        (["E92000001", "England"], False),  # a code that is mostly digits
        (["osgb4000000074552466", "Southampton"], False),
        (["AB102NU", "Aberdeen"], False),  # a postcode without its space
        (["01-Apr-2020", "Opened"], False),  # a date with a month name
        (["Name", "name"], False),  # the same name twice (as Windows compares)
        (["Code", "", "Name"], False),  # a blank cell inside the row: data
        ([], False),
    ],
)
def test_the_rule_on_single_rows(row, expected) -> None:
    assert looks_like_header(row) is expected
