"""Reading OS NGD supplies: one zip per feature type, a CSV with WKT geometry and its
type file.

Research (change-only-updates.md §5): every NGD feature type comes as its own
zip of CSV (header row; geometry as WKT in the ``geometry`` column, EPSG:27700);
OS publishes a ``.csvt`` type file per feature type (one line of quoted type
names in column order: String, Integer, Float, Boolean, Date, DateTime, Array,
Geometry). We read the type file from beside the CSV (in the zip or the
folder); without one every column but ``geometry`` is text. A feature's key is
``osid`` where the feature type has one, else ``uprn``, else ``usrn``.

Geometry is parsed by GDAL (``osgeo.ogr``, shipped with QGIS): any WKT type,
multi-part ones included, becomes ISO WKB (the store wraps it: ``from_wkb``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from osgeo import ogr

from .errors import BadSupplyError

GEOMETRY_COLUMN = "geometry"
KEY_COLUMNS = ("osid", "uprn", "usrn")
VERSION_ORDER = ("versiondate", "versionavailablefromdate")  # the newest edit wins
CHANGE_COLUMN = "changetype"
DELETES = ("End Of Life", "Moved To A Different Feature Type")
UPSERTS = (
    "New",
    "Moved From A Different Feature Type",
    "Modified Attributes",
    "Modified Geometry",
    "Modified Geometry And Attributes",
)
# OS's CSVT type names -> GeoPackage column types.
SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "integer64": "INTEGER",
    "float": "REAL",
    "real": "REAL",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
    "array": "TEXT",
}


@dataclass
class NgdFile:
    """One feature type's file of a supply: its columns (name, CSVT type) and rows."""

    feature_type: str
    name: str  # for messages: zip!member
    columns: List[Tuple[str, str]]
    opener: Callable[[], io.TextIOBase]

    @property
    def key(self) -> str:
        names = [n for n, _ in self.columns]
        for key in KEY_COLUMNS:
            if key in names:
                return key
        raise BadSupplyError(f"{self.name}: no osid, uprn or usrn column to key its features by.")

    def rows(self) -> Iterator[Tuple[int, List[str]]]:
        """(line number, fields) per data row; the header is checked, not returned."""
        with self.opener() as text:
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                return  # a blank COU file: nothing changed
            if [h.strip().lower() for h in header] != [n for n, _ in self.columns]:
                raise BadSupplyError(f"{self.name}: its header changed within the file.")
            width = len(header)
            for line, fields in enumerate(reader, start=2):
                if len(fields) != width:
                    if not fields:
                        continue
                    raise BadSupplyError(
                        f"{self.name}, line {line}: {len(fields)} fields, the header has {width}."
                    )
                yield line, fields


def _types(text: str, width: int, name: str) -> List[str]:
    types = next(csv.reader([text.strip()]), [])
    if len(types) != width:
        raise BadSupplyError(f"{name}: its type file gives {len(types)} types for {width} columns.")
    return [t.strip().split("(")[0].lower() for t in types]


def _header(opener: Callable[[], io.TextIOBase]) -> List[str]:
    with opener() as text:
        return [h.strip().lower() for h in next(csv.reader(text), [])]


def ngd_files(paths: Sequence[Path]) -> List[NgdFile]:
    """The supply's feature-type files, in name order (zips and plain CSVs)."""
    out: List[NgdFile] = []
    for path in sorted(paths, key=lambda p: p.name):
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            for member in sorted(n for n in names if n.lower().endswith(".csv")):
                csvt = next((n for n in names if n.lower() == member.lower() + "t"), None)
                out.append(_zip_member(path, member, csvt))
        elif path.suffix.lower() == ".csv":
            type_file = path.with_suffix(".csvt")
            csvt = type_file.read_text("utf-8-sig") if type_file.exists() else None
            opener = lambda p=path: open(p, encoding="utf-8-sig", newline="")  # noqa: E731, SIM115
            out.append(_described(path.stem, path.name, opener, csvt))
    return out


def _zip_member(path: Path, member: str, csvt: Optional[str]) -> NgdFile:
    def opener() -> io.TextIOBase:
        archive = zipfile.ZipFile(path)
        raw = archive.open(member)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        close = text.close

        def close_all() -> None:
            close()
            archive.close()

        text.close = close_all  # type: ignore[method-assign]
        return text

    types = None
    if csvt is not None:
        with zipfile.ZipFile(path) as archive:
            types = archive.read(csvt).decode("utf-8-sig")
    return _described(Path(member).stem, f"{path.name}!{member}", opener, types)


def _described(feature_type: str, name: str, opener: Callable, csvt: Optional[str]) -> NgdFile:
    try:
        header = _header(opener)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise BadSupplyError(f"{name} cannot be read ({err}).") from None
    if csvt is None:
        types = ["geometry" if h == GEOMETRY_COLUMN else "string" for h in header]
    else:
        types = _types(csvt, len(header), name)
    return NgdFile(feature_type.lower(), name, list(zip(header, types)), opener)


# --- values ------------------------------------------------------------------------------


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "t", "1", "yes", "y"):
        return True
    if value in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


_CONVERT = {"INTEGER": int, "REAL": float, "BOOLEAN": _boolean}


def converters(columns: Sequence[Tuple[str, str]]) -> List[Optional[Callable]]:
    """Per non-geometry column: the function that types its text (None: kept as text)."""
    return [_CONVERT.get(sql_type(t)) for n, t in columns if n != GEOMETRY_COLUMN]


def sql_type(csvt_type: str) -> str:
    return SQL_TYPES.get(csvt_type.lower(), "TEXT")


def geometry_from_wkt(text: str, where: str) -> Tuple[Optional[bytes], Optional[Tuple]]:
    """ISO WKB (2D) from WKT (EPSG:27700) and its envelope (minx, maxx, miny, maxy);
    (None, None) for an empty field."""
    if not text:
        return None, None
    geometry = ogr.CreateGeometryFromWkt(text)
    if geometry is None:
        raise BadSupplyError(f"{where}: the geometry is not WKT ({text[:40]}…).")
    if geometry.Is3D():
        geometry.FlattenTo2D()
    envelope = geometry.GetEnvelope()
    return geometry.ExportToIsoWkb(ogr.wkbNDR), envelope
