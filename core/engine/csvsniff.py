"""CSV files read for loading: delimiter, encoding, header row or not, field names, geometry.

``looks_like_header(row)`` is the ONE rule for "is this first row a header?",
used by discovery (``inspect_csv``) and by TRUD's tables
(``sources/trud/tables.py``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .crs import DEFAULT_CRS
from .file_reading import SAMPLE_BYTES, decode_sample

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# A whole UK postcode, any spacing (GIR 0AA aside).
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}$", re.IGNORECASE)
_DATE_WITH_MONTH = re.compile(r"^\d{1,2}[-/ ][A-Za-z]{3,9}[-/ ]\d{2,4}$")

WKT_VALUE = re.compile(
    r"^\s*(MULTI)?(POINT|LINESTRING|POLYGON)|^\s*GEOMETRYCOLLECTION", re.IGNORECASE
)

# (x, y, crs) column pairs, in order of preference (British National Grid first).
COORDINATE_COLUMNS: Tuple[Tuple[str, str, str], ...] = (
    ("EASTING", "NORTHING", DEFAULT_CRS),
    ("EASTINGS", "NORTHINGS", DEFAULT_CRS),
    ("EA", "NO", DEFAULT_CRS),
    ("X_COORDINATE", "Y_COORDINATE", DEFAULT_CRS),
    ("GEOMETRY_X", "GEOMETRY_Y", DEFAULT_CRS),
    ("X", "Y", DEFAULT_CRS),
    ("XCOORD", "YCOORD", DEFAULT_CRS),
    ("LONGITUDE", "LATITUDE", "EPSG:4326"),
    ("LON", "LAT", "EPSG:4326"),
    ("LONG", "LAT", "EPSG:4326"),
)

WKT_COLUMNS = ("GEOMETRY", "WKT", "WKT_GEOMETRY", "GEOM", "THE_GEOM")


@dataclass(frozen=True)
class CsvOptions:
    """What a delimited-text loader needs to open one CSV.

    ``field_names``: the columns in order (from the header row, or from the
    header file when ``has_header`` is False; empty when unknown). ``encoding``
    is a Python codec name ("utf-8-sig" when the file starts with a BOM).
    """

    delimiter: str = ","
    has_header: bool = True
    field_names: Tuple[str, ...] = ()
    x_field: Optional[str] = None
    y_field: Optional[str] = None
    wkt_field: Optional[str] = None
    encoding: str = "utf-8"
    header_file: Optional[Path] = None

    def column(self, name: Optional[str]) -> Optional[int]:
        """0-based position of ``name`` (a headerless file's ``field_{n+1}``)."""
        if name is None or name not in self.field_names:
            return None
        return self.field_names.index(name)


def inspect_csv(path: Path, header_files: Sequence[Path] = ()) -> Tuple[CsvOptions, Dict[str, str]]:
    """The options to open ``path`` and its first data row by field name."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    text, encoding = decode_sample(sample)
    delimiter = _delimiter(text.split("\n", 1)[0])
    rows = _rows(text, delimiter, 2)
    first = rows[0] if rows else []
    header_file = None
    if first and looks_like_header(first):
        has_header, names = True, header_field_names(first)
        data = rows[1] if len(rows) > 1 else []
    else:
        has_header, names, data = False, (), first
        header_file, named = _names_from_header_file(path, len(first), header_files)
        if named and [n.casefold() for n in named] == [c.strip().casefold() for c in first]:
            has_header, data = True, rows[1] if len(rows) > 1 else []  # the file has it too
        names = named
    x_field, y_field, wkt_field = _geometry_columns(names, data)
    options = CsvOptions(
        delimiter, has_header, names, x_field, y_field, wkt_field, encoding, header_file
    )
    return options, dict(zip(names, data))


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", "|", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _rows(text: str, delimiter: str, count: int) -> List[List[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: List[List[str]] = []
    with contextlib.suppress(csv.Error):
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= count:
                break
    return rows


def looks_like_header(row: Sequence[str]) -> bool:
    """Whether a CSV's first row names its columns (True) or is already data (False).

    The one rule for discovery and TRUD's tables. A header is a row of names:
    every cell filled (blank cells at the end are allowed: a trailing
    delimiter), all different, and each a name: it has a letter, is at most
    64 characters, and is no value. Values are what data rows are made of:
    numbers and dates (no letter at all, or ``01-Apr-2020``), postcodes
    (``SO16 6YD``, ``AB102NU``) and codes that are mostly digits
    (``A81001``, ``E92000001``, ``osgb4000000074552466``). Identifiers with a
    digit or two (``NAME1``, ``VERSION_NUMBER_1``, ``PCD7``) and punctuation
    (``% Registered``, ``Name & Address``) are names.
    """
    cells = [c.strip() for c in row]
    while cells and not cells[-1]:
        cells.pop()
    if not cells or any(not c for c in cells):
        return False
    if len({c.casefold() for c in cells}) != len(cells):
        return False
    return all(_is_name(c) for c in cells)


def _is_name(cell: str) -> bool:
    if len(cell) > 64 or not any(ch.isalpha() for ch in cell):
        return False
    if _POSTCODE.match(cell) or _DATE_WITH_MONTH.match(cell):
        return False
    digits = sum(ch.isdigit() for ch in cell)
    alphanumerics = sum(ch.isalnum() for ch in cell)
    return not (digits >= 3 and 3 * digits >= 2 * alphanumerics)  # a code, not a name


def header_field_names(row: Sequence[str]) -> Tuple[str, ...]:
    """The names of a header row; a blank one (a trailing delimiter) is ``field_<n>``."""
    return tuple(c.strip() or f"field_{i + 1}" for i, c in enumerate(row))


def _names_from_header_file(
    path: Path, columns: int, header_files: Sequence[Path]
) -> Tuple[Optional[Path], Tuple[str, ...]]:
    """Field names for a headerless CSV from the nearest header file with as many columns."""

    def distance(candidate: Path) -> Tuple[int, str]:
        common = os.path.commonpath([str(candidate.parent), str(path.parent)])
        return -len(Path(common).parts), candidate.as_posix()

    for candidate in sorted(header_files, key=distance):
        if candidate == path:
            continue
        try:
            text = decode_sample(candidate.read_bytes()[:SAMPLE_BYTES])[0]
        except OSError:
            continue
        rows = [
            tuple(c.strip() for c in r)
            for r in _rows(text, _delimiter(text.split("\n", 1)[0]), 4)
            if len(r) == columns
        ]
        if not rows:
            continue
        identifiers = [r for r in rows if all(_IDENTIFIER.match(c) for c in r)]
        return candidate, (identifiers[-1] if identifiers else rows[0])
    return None, ()


def _geometry_columns(
    names: Sequence[str], data: Sequence[str]
) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(x, y, wkt) field names, by the columns' names (and a WKT value for the WKT column)."""
    by_upper = {n.strip().upper(): n for n in names}
    for x, y, _crs in COORDINATE_COLUMNS:
        if x in by_upper and y in by_upper:
            return by_upper[x], by_upper[y], None
    values = dict(zip(names, data))
    for candidate in WKT_COLUMNS:
        name = by_upper.get(candidate)
        if name and (not data or WKT_VALUE.match(values.get(name, ""))):
            return None, None, name
    return None, None, None


def coordinate_crs(x_field: str) -> str:
    for x, _y, crs in COORDINATE_COLUMNS:
        if x == x_field.strip().upper():
            return crs
    return DEFAULT_CRS
