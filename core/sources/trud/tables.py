"""The CSV tables of a TRUD release: their columns and which one holds postcodes.

NHS reference tables come two ways: with a header row (most), or in the ODS
"standard 27-field" format with no header at all (``epraccur.csv`` GP
practices, ``ebranchs.csv``, ``egpcur.csv`` GPs, ...), where column 10 is the
postcode. Analysts place these tables on a map by joining the postcode to OS
Code-Point Open, whose postcodes are written differently ("SO166YD",
"SE1 7EH", "E1  6AN" vs ODS's "SO16 6YD", "SE1 7EH", "E1 6AN"), so the join
key is the normalised postcode: upper case, no spaces.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from ...engine.csvsniff import header_field_names, looks_like_header

# The ODS standard 27-field layout (NHS Digital ODS "file layout" documents).
ODS_27_FIELDS: Tuple[str, ...] = (
    "organisation_code",
    "name",
    "national_grouping",
    "high_level_health_geography",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "address_line_5",
    "postcode",
    "open_date",
    "close_date",
    "status_code",
    "organisation_sub_type_code",
    "parent_organisation_code",
    "join_parent_date",
    "left_parent_date",
    "contact_telephone_number",
    "null_19",
    "null_20",
    "null_21",
    "amended_record_indicator",
    "null_23",
    "current_care_organisation",
    "null_25",
    "prescribing_setting",
    "null_27",
)
# Headerless ODS files known to use that layout (file stem, lower case).
ODS_27_FILES = frozenset(
    {
        "epraccur",
        "ebranchs",
        "egpcur",
        "egparc",
        "epharmacyhq",
        "edispensary",
        "etrust",
        "ets",
        "ecsu",
        "ecsusite",
        "eccg",
        "eccgsite",
        "ephp",
        "ephpsite",
        "eother",
        "enurse",
        "eauth",
        "eplab",
    }
)
# What a table is, in words, for the known ODS files.
ODS_TITLES = {
    "epraccur": "GP practices",
    "ebranchs": "Branch surgeries",
    "egpcur": "General practitioners",
    "egparc": "General practitioners (archive)",
    "epharmacyhq": "Pharmacy headquarters",
    "edispensary": "Dispensaries",
    "etrust": "NHS trusts",
    "ets": "NHS trust sites",
}
_POSTCODE_NAMES = re.compile(
    r"^(post[\s_]?code|postcode[\s_]?\d?|pcds?|pcd[78]|pc|post_code|postal[\s_]?code)$", re.I
)
# A whole UK postcode, any spacing (GIR 0AA aside).
POSTCODE_PATTERN = re.compile(r"^\s*[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\s*$", re.I)
_SAMPLE_ROWS = 50


def normalise_postcode(value: object) -> str:
    """The join key for a postcode: upper case, every space removed ("" for none)."""
    return re.sub(r"\s+", "", str(value or "")).upper()


def looks_like_postcode(value: object) -> bool:
    return bool(POSTCODE_PATTERN.match(str(value or "")))


@dataclass(frozen=True)
class TableInfo:
    """One CSV table of a release, as the loader needs to know it."""

    path: Path
    columns: Tuple[str, ...]
    has_header: bool
    postcode_column: Optional[str] = None
    title: str = ""
    encoding: str = "utf-8"

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def postcode_index(self) -> Optional[int]:
        """0-based position of the postcode column."""
        return self.columns.index(self.postcode_column) if self.postcode_column else None


def _read_rows(path: Path, count: int) -> Tuple[List[List[str]], str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with open(path, newline="", encoding=encoding) as handle:
                rows = []
                for row in csv.reader(handle):
                    rows.append(row)
                    if len(rows) >= count:
                        break
                return rows, "utf-8" if encoding == "utf-8-sig" else encoding
        except UnicodeDecodeError:
            continue
    return [], "utf-8"


def _postcode_by_content(rows: Sequence[Sequence[str]], width: int) -> Optional[int]:
    best, best_share = None, 0.5
    for index in range(width):
        values = [r[index] for r in rows if index < len(r) and r[index].strip()]
        if not values:
            continue
        share = sum(looks_like_postcode(v) for v in values) / len(values)
        if share > best_share:
            best, best_share = index, share
    return best


def describe_table(path: Path) -> TableInfo:
    """Columns and postcode column of a CSV, from ODS knowledge, its header or its values."""
    path = Path(path)
    stem = path.stem.lower()
    rows, encoding = _read_rows(path, _SAMPLE_ROWS + 1)
    if stem in ODS_27_FILES and (not rows or len(rows[0]) == len(ODS_27_FIELDS)):
        return TableInfo(path, ODS_27_FIELDS, False, "postcode", ODS_TITLES.get(stem, ""), encoding)
    if not rows:
        return TableInfo(path, (), True, None, "", encoding)
    width = max(len(r) for r in rows)
    if looks_like_header(rows[0]):  # the one rule, shared with discovery
        columns = header_field_names(rows[0])
        named = next((c for c in columns if _POSTCODE_NAMES.match(c)), None)
        if named is None:
            index = _postcode_by_content(rows[1:], len(columns))
            named = columns[index] if index is not None else None
        return TableInfo(path, columns, True, named, "", encoding)
    columns = tuple(f"field_{i + 1}" for i in range(width))
    index = _postcode_by_content(rows, width)
    return TableInfo(
        path, columns, False, columns[index] if index is not None else None, "", encoding
    )


def find_tables(folder: Path) -> List[TableInfo]:
    """Every CSV table under ``folder`` (sorted by path), described."""
    found = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    return [describe_table(p) for p in found]
