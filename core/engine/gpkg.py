"""Reading GeoPackages and MBTiles without GDAL: sqlite3, read-only, checked before opening.

``gpkg_contents`` gives the layers listed in ``gpkg_contents`` and their
geometry types; a file that is not an SQLite database, or is cut short,
raises ``Unreadable`` with words for people.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import struct
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .file_reading import Unreadable

GpkgRow = Tuple[str, str, str, Optional[int]]


def gpkg_contents(path: Path) -> Tuple[List[GpkgRow], Dict[str, str]]:
    """(table, data type, CRS organisation, CRS code) per layer, and geometry types.

    Values are taken as they come (a hostile or sloppy file may hold text where
    numbers belong, NULLs, or blobs); ``code`` is ``None`` when it is no number.
    """
    check_sqlite_file(path, "GeoPackage")
    with read_only_database(path, "GeoPackage") as connection:
        try:
            rows = connection.execute(
                "SELECT c.table_name, c.data_type, s.organization, s.organization_coordsys_id "
                "FROM gpkg_contents c LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = c.srs_id "
                "ORDER BY c.table_name"
            ).fetchall()
        except sqlite3.Error as err:
            raise Unreadable(
                f"It is not a valid GeoPackage: its table of contents cannot be read ({err})."
            ) from err
        geometry_types: Dict[str, str] = {}
        with contextlib.suppress(sqlite3.Error):
            for table, name in connection.execute(
                "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"
            ):
                geometry_types[sql_text(table)] = geometry_name(sql_text(name))
    contents = [
        (sql_text(t), sql_text(d).strip().casefold(), sql_text(o).strip(), _srs_code(c))
        for t, d, o, c in rows
    ]
    return contents, geometry_types


def sql_text(value: Any) -> str:
    """A database value as text: NULL as "", bytes decoded, numbers written out."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _srs_code(value: Any) -> Optional[int]:
    """An SRS code stored as a number or as text ("27700", "EPSG:27700"); ``None`` if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    match = re.fullmatch(r"(?:[A-Za-z]+:+)?\s*(-?\d{1,9})", sql_text(value))
    return int(match.group(1)) if match else None


@contextlib.contextmanager
def read_only_database(path: Path, what: str) -> Iterator[sqlite3.Connection]:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise Unreadable(f"It is not a {what} or it is damaged ({err}).") from err
    try:
        yield connection
    finally:
        connection.close()


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_sqlite_file(path: Path, what: str) -> None:
    """Refuse a file that is no SQLite database, or shorter than its own header says.

    SQLite only notices a cut-off file when it reads a missing page, perhaps
    while a layer is drawn; the header (page size, page count) tells at once.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
        size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise Unreadable(f"It is empty (0 bytes), not a {what}.")
    if not header.startswith(_SQLITE_MAGIC):
        raise Unreadable(f"It is not a {what} (not an SQLite database), or it is damaged.")
    if len(header) < 100:
        raise Unreadable(f"It is cut off: only {size} bytes, less than a {what} header.")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    expected = page_size * page_count
    if page_count and valid_for == change_counter and size < expected:
        raise Unreadable(
            f"It is cut off: {size:,} bytes of the {expected:,} its header gives, "
            "probably an incomplete download or copy."
        )


def geometry_name(name: str) -> str:
    """GeoPackage's ``MULTILINESTRING`` -> ``MultiLineString``."""
    words = {
        "GEOMETRY": "Geometry",
        "POINT": "Point",
        "LINESTRING": "LineString",
        "POLYGON": "Polygon",
        "MULTIPOINT": "MultiPoint",
        "MULTILINESTRING": "MultiLineString",
        "MULTIPOLYGON": "MultiPolygon",
        "GEOMETRYCOLLECTION": "GeometryCollection",
        "CURVEPOLYGON": "CurvePolygon",
        "MULTISURFACE": "MultiSurface",
        "MULTICURVE": "MultiCurve",
        "COMPOUNDCURVE": "CompoundCurve",
        "CIRCULARSTRING": "CircularString",
    }
    return words.get(name.upper(), name)
