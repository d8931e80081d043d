"""Find what a GIS can open in an extracted folder, without GDAL.

``find_datasets(folder)`` walks the folder and returns one ``Dataset`` per
loadable thing, in a stable order: each GeoPackage layer (read from
``gpkg_contents`` with sqlite3), Shapefile, MapInfo table, GML file, CSV,
ASCII grid, GeoTIFF and MBTiles file. Documentation and licence files are left
out (anything in a ``Doc``/``doc`` folder, and every other suffix).

CRS: EPSG:27700 where the data carry none (OS data are British National Grid);
otherwise what the ``.prj``, the GeoPackage's ``gpkg_spatial_ref_sys``, a
GeoTIFF's GeoKeys or a GML ``srsName`` say. ``crs`` is ``None`` for tables and
for data whose own CRS core cannot name (the loader then keeps the file's).

CSV: OS ships some CSVs without a header row and the names in a separate file
(Code-Point Open: ``Doc/Code-Point_Open_Column_Headers.csv``, row 1 short codes,
row 2 long names; OS Open Names: ``Doc/OS_Open_Names_Header.csv``). When the
first row looks like data and such a file has the same number of columns, its
names are used: the long names when they are all plain identifiers (they say
what a column is in the attribute table and need no quoting in expressions),
else the first row. Coordinate columns (``EA``/``NO``, ``X_COORDINATE``,
``GEOMETRY_X``, ``EASTING``...) make a point layer; a WKT column a geometry
layer; neither, a table.

_Unreadable files: discovery never fails for one bad file. A dataset that is
clearly damaged (a GeoPackage that is not a database or is cut short, a
GeoTIFF whose header or image data run past its end, a file the handler
cannot make sense of) is still listed, with ``problem`` saying in plain words
what is wrong, so the rest of the product is kept and loaded and the manifest
records which file could not be read. Everything read from a file is bounded
(GeoKeys, TIFF directories, samples), so no file can make discovery run out
of memory.

Tiles: datasets that are one of a set of same-kind siblings (ASCII-grid or
GeoTIFF tiles named like OS grid squares, e.g. Terrain 50's ``SU41.asc``; CSVs
sharing a header file, e.g. Code-Point Open's postcode areas) carry the same
``tile_group`` so the loader can mosaic or merge them (``group_tiles``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import sqlite3
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ..redact import get_logger

log = get_logger(__name__)

VECTOR, RASTER, TABLE = "vector", "raster", "table"
DEFAULT_CRS = "EPSG:27700"
MBTILES_CRS = "EPSG:3857"  # the MBTiles specification's only CRS
_SAMPLE_BYTES = 64 * 1024
_DOC_FOLDERS = {"doc", "docs", "documentation", "documents"}
_SKIPPED_FOLDERS = {"__macosx"}
_NOT_DATA_CSV = ("header", "licence", "license", "readme", "metadata", "versions", "codelist")
_GRID_SQUARE = re.compile(r"^[A-Za-z]{2}(\d\d){0,4}$")  # NY, TQ28, SU4010: OS grid references
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_WKT = re.compile(r"^\s*(MULTI)?(POINT|LINESTRING|POLYGON)|^\s*GEOMETRYCOLLECTION", re.IGNORECASE)
_EPSG_IN_URI = re.compile(r"EPSG(?::|/\d+/|::|\.xml#|:\d*:)(\d{4,6})\s*$", re.IGNORECASE)

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


@dataclass(frozen=True)
class Dataset:
    """One loadable layer.

    ``kind``: "vector", "raster" or "table". ``format``: the GDAL driver name
    ("GPKG", "ESRI Shapefile", "MapInfo File", "GML", "CSV", "AAIGrid",
    "GTiff", "MBTiles"). ``layer``: the GeoPackage table, else ``None``.
    ``world_file``: a ``.tfw`` found elsewhere in the tree for an image that
    has no georeferencing of its own (MiniScale ships them in a separate
    folder; GDAL only looks beside the image). ``problem``: why the file
    cannot be loaded, one sentence for a person (``None`` when it can).
    """

    path: Path
    kind: str
    format: str
    name: str
    layer: Optional[str] = None
    crs: Optional[str] = DEFAULT_CRS
    geometry_type: Optional[str] = None
    csv_options: Optional[CsvOptions] = None
    tile_group: Optional[str] = None
    world_file: Optional[Path] = None
    problem: Optional[str] = None

    @property
    def uri(self) -> str:
        """The OGR/GDAL-style source: ``path`` or ``path|layername=layer``."""
        return f"{self.path}|layername={self.layer}" if self.layer else str(self.path)


def find_datasets(folder: Path, *, product_name: Optional[str] = None) -> List[Dataset]:
    """Every loadable dataset under ``folder``, sorted by path then layer.

    ``product_name`` (e.g. "Code-Point Open") prefixes the names of tile-group
    members: "Code-Point Open: se".
    """
    folder = Path(folder)
    files = sorted(_data_files(folder), key=lambda p: _sort_key(folder, p))
    context = _Context(folder, files)
    found: List[Dataset] = []
    for path in files:
        found.extend(_datasets_of(path, context))
    found = _assign_tile_groups(folder, found, product_name)
    found.sort(key=lambda d: (_sort_key(folder, d.path), (d.layer or "").casefold()))
    return found


class _Unreadable(Exception):
    """A file is damaged or not what its name says; the message is for people."""


def _datasets_of(path: Path, context: _Context) -> List[Dataset]:
    """What one file holds; a file that cannot be read is one dataset with a ``problem``.

    Any error of one file is caught here on purpose: it must never cost the
    user the rest of the product.
    """
    handler, kind, driver = _HANDLERS[path.suffix.lower()]
    try:
        return handler(path, context)
    except _Unreadable as err:
        problem = str(err)
    except OSError as err:
        problem = f"It cannot be opened: {err.strerror or err}."
    except Exception as err:  # noqa: BLE001 - one bad file must not sink the others
        log.debug("Reading %s failed", path, exc_info=True)
        detail = " ".join(str(err).split())[:160]
        problem = (
            f"It could not be read ({err.__class__.__name__}{': ' if detail else ''}{detail})."
        )
        problem += " The file may be damaged."
    log.warning("%s cannot be loaded: %s", path, problem)
    return [Dataset(path, kind, driver, path.stem, None, None, problem=problem)]


def datasets_of_files(paths: Sequence[Path], *, folder: Path) -> List[Dataset]:
    """The datasets that downloaded files are themselves, not archives to unpack.

    OS Open Zoomstack's vector tiles download as a bare ``OS_Open_Zoomstack.mbtiles``:
    with extraction on, ``find_datasets`` only looks in the extracted tree, so
    the job layer asks this for the downloaded files that were not extracted.
    """
    files = sorted((Path(p) for p in paths if Path(p).suffix.lower() in _HANDLERS), key=str)
    if not files:
        return []
    context = _Context(Path(folder), files)
    found: List[Dataset] = []
    for path in files:
        found.extend(_datasets_of(path, context))
    return found


def group_tiles(datasets: Sequence[Dataset]) -> Dict[str, List[Dataset]]:
    """Datasets by ``tile_group`` (those without one are left out), in order."""
    groups: Dict[str, List[Dataset]] = {}
    for dataset in datasets:
        if dataset.tile_group:
            groups.setdefault(dataset.tile_group, []).append(dataset)
    return groups


# --- walking the folder ----------------------------------------------------------------


def _sort_key(folder: Path, path: Path) -> Tuple[str, str]:
    relative = path.relative_to(folder).as_posix() if path != folder else ""
    return relative.casefold(), relative


def _in_doc_folder(folder: Path, path: Path) -> bool:
    parts = path.relative_to(folder).parts[:-1]
    return any(part.casefold() in _DOC_FOLDERS for part in parts)


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d.casefold() not in _SKIPPED_FOLDERS
            and ".partial-" not in d
        )
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(root) / name


def _data_files(folder: Path) -> Iterator[Path]:
    for path in _walk(folder):
        if path.suffix.lower() in _HANDLERS and not _in_doc_folder(folder, path):
            yield path


class _Context:
    """What handlers need to know about the rest of the tree."""

    def __init__(self, folder: Path, data_files: Sequence[Path]) -> None:
        self.folder = folder
        self.header_files = [
            p for p in _walk(folder) if p.suffix.lower() == ".csv" and "header" in p.stem.casefold()
        ]
        self.world_files: Dict[str, List[Path]] = {}
        for p in _walk(folder):
            if p.suffix.lower() in (".tfw", ".tifw", ".tiffw"):
                self.world_files.setdefault(p.stem.casefold(), []).append(p)
        self.lower_names = {p.parent / p.name.casefold() for p in data_files}

    def has_sibling(self, path: Path, suffix: str) -> bool:
        return path.parent / (path.stem + suffix).casefold() in self.lower_names


def _sibling(path: Path, suffix: str) -> Optional[Path]:
    """``path`` with another suffix, matched without regard to case (``.PRJ`` too)."""
    wanted = (path.stem + suffix).casefold()
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.casefold() == wanted and entry.is_file():
                return Path(entry.path)
    return None


def _read_text(path: Path, limit: int = _SAMPLE_BYTES) -> str:
    with open(path, "rb") as handle:
        data = handle.read(limit)
    return _decode(data)[0]


def _decode(data: bytes) -> Tuple[str, str]:
    """(text, codec): UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(data) - 3:  # a character cut by the sample's end
            return data[: err.start].decode("utf-8"), "utf-8"
    return data.decode("cp1252", "replace"), "cp1252"


# --- CRS ---------------------------------------------------------------------------------


def crs_from_wkt(wkt: str) -> Optional[str]:
    """An authority id for a ``.prj`` (ESRI or OGC WKT); ``None`` when unknown."""
    codes = re.findall(r'(?:AUTHORITY|ID)\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]', wkt, re.IGNORECASE)
    if codes:
        return f"EPSG:{codes[-1]}"  # the outermost (the projected CRS) comes last
    text = wkt.casefold().replace(" ", "_")
    if "british_national_grid" in text or (
        "osgb" in text and "transverse_mercator" in text and "400000" in text
    ):
        return DEFAULT_CRS
    for marker, code in (
        ("irish_transverse_mercator", "EPSG:2157"),
        ("tm75_irish_grid", "EPSG:29903"),
        ("tm65_irish_grid", "EPSG:29902"),
        ("irish_grid", "EPSG:29903"),
    ):
        if marker in text:
            return code
    if text.startswith("geogcs") and "wgs_1984" in text:
        return "EPSG:4326"
    return None


def _crs_from_prj(path: Path) -> Optional[str]:
    """The CRS of ``path``'s ``.prj``: 27700 when there is none, ``None`` when unknown."""
    prj = _sibling(path, ".prj")
    if prj is None:
        return DEFAULT_CRS
    crs = crs_from_wkt(_read_text(prj))
    if crs is None:
        log.info("%s: CRS not recognised; the loader will read it from the file", prj.name)
    return crs


def _crs_from_srs_name(text: str) -> Optional[str]:
    match = re.search(r'srsName\s*=\s*"([^"]+)"', text)
    if not match:
        return None
    code = _EPSG_IN_URI.search(match.group(1))
    return f"EPSG:{code.group(1)}" if code else None


# --- handlers: one per suffix -----------------------------------------------------------


def _geopackage(path: Path, context: _Context) -> List[Dataset]:
    rows, geometry_types = _gpkg_contents(path)
    found = []
    for table, data_type, organization, code in rows:
        kind = {"features": VECTOR, "tiles": RASTER, "2d-gridded-coverage": RASTER}.get(
            data_type, TABLE if data_type == "attributes" else ""
        )
        if not table or not kind:
            log.info("%s: layer %r has unknown data type %r; skipped", path.name, table, data_type)
            continue
        crs: Optional[str] = DEFAULT_CRS
        if kind == TABLE:
            crs = None
        elif organization.casefold() in ("", "none", "undefined"):
            crs = DEFAULT_CRS  # "undefined" in a GeoPackage of OS data: British National Grid
        elif code is None:
            crs = None  # a code core cannot read: the loader keeps the file's own
            log.info("%s: layer %s has an unreadable CRS code; left to the loader", path, table)
        elif organization.casefold() == "epsg":
            crs = f"EPSG:{code}" if code > 0 else DEFAULT_CRS
        elif code:
            crs = f"{organization.upper()}:{code}"
        found.append(Dataset(path, kind, "GPKG", table, table, crs, geometry_types.get(table)))
    return found


_GpkgRow = Tuple[str, str, str, Optional[int]]


def _gpkg_contents(path: Path) -> Tuple[List[_GpkgRow], Dict[str, str]]:
    """(table, data type, CRS organisation, CRS code) per layer, and geometry types.

    Values are taken as they come (a hostile or sloppy file may hold text where
    numbers belong, NULLs, or blobs); ``code`` is ``None`` when it is no number.
    """
    _check_sqlite_file(path, "GeoPackage")
    with _read_only_database(path, "GeoPackage") as connection:
        try:
            rows = connection.execute(
                "SELECT c.table_name, c.data_type, s.organization, s.organization_coordsys_id "
                "FROM gpkg_contents c LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = c.srs_id "
                "ORDER BY c.table_name"
            ).fetchall()
        except sqlite3.Error as err:
            raise _Unreadable(
                f"It is not a valid GeoPackage: its table of contents cannot be read ({err})."
            ) from err
        geometry_types: Dict[str, str] = {}
        with contextlib.suppress(sqlite3.Error):
            for table, name in connection.execute(
                "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"
            ):
                geometry_types[_text(table)] = _geometry_name(_text(name))
    contents = [
        (_text(t), _text(d).strip().casefold(), _text(o).strip(), _srs_code(c))
        for t, d, o, c in rows
    ]
    return contents, geometry_types


def _text(value: Any) -> str:
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
    match = re.fullmatch(r"(?:[A-Za-z]+:+)?\s*(-?\d{1,9})", _text(value))
    return int(match.group(1)) if match else None


@contextlib.contextmanager
def _read_only_database(path: Path, what: str) -> Iterator[sqlite3.Connection]:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise _Unreadable(f"It is not a {what} or it is damaged ({err}).") from err
    try:
        yield connection
    finally:
        connection.close()


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_sqlite_file(path: Path, what: str) -> None:
    """Refuse a file that is no SQLite database, or shorter than its own header says.

    SQLite only notices a cut-off file when it reads a missing page, perhaps
    while a layer is drawn; the header (page size, page count) tells at once.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
        size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise _Unreadable(f"It is empty (0 bytes), not a {what}.")
    if not header.startswith(_SQLITE_MAGIC):
        raise _Unreadable(f"It is not a {what} (not an SQLite database), or it is damaged.")
    if len(header) < 100:
        raise _Unreadable(f"It is cut off: only {size} bytes, less than a {what} header.")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    expected = page_size * page_count
    if page_count and valid_for == change_counter and size < expected:
        raise _Unreadable(
            f"It is cut off: {size:,} bytes of the {expected:,} its header gives, "
            "probably an incomplete download or copy."
        )


def _geometry_name(name: str) -> str:
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


_SHAPE_TYPES = {1: "Point", 3: "LineString", 5: "Polygon", 8: "MultiPoint"}


def _shapefile(path: Path, context: _Context) -> List[Dataset]:
    with open(path, "rb") as handle:
        header = handle.read(36)
    geometry = None
    if len(header) >= 36 and struct.unpack(">i", header[:4])[0] == 9994:
        shape_type = struct.unpack("<i", header[32:36])[0]
        if shape_type != 31:  # 11, 13... (Z) and 21, 23... (M) are the same shapes
            geometry = _SHAPE_TYPES.get(shape_type % 10)
    return [Dataset(path, VECTOR, "ESRI Shapefile", path.stem, None, _crs_from_prj(path), geometry)]


def _mapinfo(path: Path, context: _Context) -> List[Dataset]:
    text = _read_text(path, 8192)
    if re.search(r'Type\s+"?RASTER', text, re.IGNORECASE):
        return []  # a raster's registration, not a vector table
    crs: Optional[str] = DEFAULT_CRS
    coordsys = re.search(r"CoordSys\s+Earth\s+Projection\s+(\d+)\s*,\s*(\d+)", text)
    if coordsys:
        crs = {("8", "79"): DEFAULT_CRS, ("1", "104"): "EPSG:4326"}.get(coordsys.groups())
    return [Dataset(path, VECTOR, "MapInfo File", path.stem, None, crs)]


def _gml(path: Path, context: _Context) -> List[Dataset]:
    if context.has_sibling(path, ".asc"):
        return []  # Terrain 50's grid in GML: the same heights as the ASCII grid beside it
    crs = _crs_from_srs_name(_read_text(path, 16384)) or DEFAULT_CRS
    return [Dataset(path, VECTOR, "GML", path.stem, None, crs)]


def _ascii_grid(path: Path, context: _Context) -> List[Dataset]:
    head = _read_text(path, 256).lstrip().lower()
    if not head.startswith(("ncols", "nrows", "xllcorner", "xllcenter")):
        return []  # not an ESRI ASCII grid (e.g. a PGP signature, also .asc)
    return [Dataset(path, RASTER, "AAIGrid", path.stem, None, _crs_from_prj(path))]


def _geotiff(path: Path, context: _Context) -> List[Dataset]:
    crs, georeferenced = _geotiff_crs(path)
    prj_crs = _crs_from_prj(path) if _sibling(path, ".prj") else None
    world_file = None
    if not georeferenced and not _sibling(path, ".tfw") and not _sibling(path, ".tifw"):
        candidates = context.world_files.get(path.stem.casefold(), [])
        world_file = candidates[0] if candidates else None
    return [
        Dataset(
            path,
            RASTER,
            "GTiff",
            path.stem,
            None,
            prj_crs or crs or DEFAULT_CRS,
            world_file=world_file,
        )
    ]


def _mbtiles(path: Path, context: _Context) -> List[Dataset]:
    kind, crs = VECTOR, MBTILES_CRS
    _check_sqlite_file(path, "MBTiles file")
    with _read_only_database(path, "MBTiles file") as connection:
        try:
            metadata = {
                _text(k): _text(v)
                for k, v in connection.execute("SELECT name, value FROM metadata").fetchall()
            }
        except sqlite3.Error as err:
            log.warning("%s: cannot read its metadata (%s)", path.name, err)
            metadata = {}
    if metadata.get("format", "pbf").lower() in ("png", "jpg", "jpeg", "webp"):
        kind = RASTER
    return [Dataset(path, kind, "MBTiles", path.stem, None, crs)]


def _csv(path: Path, context: _Context) -> List[Dataset]:
    stem = path.stem.casefold()
    if any(word in stem for word in _NOT_DATA_CSV):
        return []
    options, first_values = inspect_csv(path, context.header_files)
    if options.wkt_field:
        value = first_values.get(options.wkt_field, "")
        match = _WKT.match(value)
        geometry = _geometry_name(value.split("(")[0].strip()) if match else None
        return [Dataset(path, VECTOR, "CSV", path.stem, None, DEFAULT_CRS, geometry, options)]
    if options.x_field and options.y_field:
        crs = _coordinate_crs(options.x_field)
        return [Dataset(path, VECTOR, "CSV", path.stem, None, crs, "Point", options)]
    return [Dataset(path, TABLE, "CSV", path.stem, None, None, None, options)]


# suffix: (handler, kind and GDAL driver of a file the handler could not read)
_HANDLERS: Dict[str, Tuple[Callable[[Path, _Context], List[Dataset]], str, str]] = {
    ".gpkg": (_geopackage, VECTOR, "GPKG"),
    ".shp": (_shapefile, VECTOR, "ESRI Shapefile"),
    ".tab": (_mapinfo, VECTOR, "MapInfo File"),
    ".gml": (_gml, VECTOR, "GML"),
    ".csv": (_csv, TABLE, "CSV"),
    ".asc": (_ascii_grid, RASTER, "AAIGrid"),
    ".tif": (_geotiff, RASTER, "GTiff"),
    ".tiff": (_geotiff, RASTER, "GTiff"),
    ".mbtiles": (_mbtiles, VECTOR, "MBTiles"),
}


# --- CSV ---------------------------------------------------------------------------------


def inspect_csv(path: Path, header_files: Sequence[Path] = ()) -> Tuple[CsvOptions, Dict[str, str]]:
    """The options to open ``path`` and its first data row by field name."""
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    text, encoding = _decode(sample)
    delimiter = _delimiter(text.split("\n", 1)[0])
    rows = _rows(text, delimiter, 2)
    first = rows[0] if rows else []
    header_file = None
    if first and _looks_like_header(first):
        has_header, names = True, tuple(first)
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


def _looks_like_header(row: Sequence[str]) -> bool:
    """Names, not values: every cell filled, none a number, all different, name-like."""
    cells = [c.strip() for c in row]
    if not cells or any(not c for c in cells) or len(set(cells)) != len(cells):
        return False
    if any(_NUMBER.match(c) for c in cells):
        return False
    return all(re.match(r"^[A-Za-z_][A-Za-z0-9_ .()/-]*$", c) and len(c) <= 64 for c in cells)


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
            text = _decode(candidate.read_bytes()[:_SAMPLE_BYTES])[0]
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
        if name and (not data or _WKT.match(values.get(name, ""))):
            return None, None, name
    return None, None, None


def _coordinate_crs(x_field: str) -> str:
    for x, _y, crs in COORDINATE_COLUMNS:
        if x == x_field.strip().upper():
            return crs
    return DEFAULT_CRS


# --- GeoTIFF GeoKeys ---------------------------------------------------------------------


_GEOREFERENCING_TAGS = (33550, 33922, 34264)  # pixel scale, tie points, transformation
_GEOKEY_DIRECTORY = 34735
_DATA_TAGS = ((273, 279), (324, 325))  # (strip offsets, byte counts), (tile offsets, counts)
_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8
_MAX_TAGS = 4096  # real TIFFs have a few dozen
_MAX_GEOKEY_SHORTS = 4 + 4 * 65535  # the directory's header and at most 65535 keys


def _geotiff_crs(path: Path) -> Tuple[Optional[str], bool]:
    """(EPSG id from the GeoKeys or None, whether the file has georeferencing tags).

    Raises ``_Unreadable`` for a file that is no TIFF, or whose first directory
    or image data run past its end (a cut-off download).
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            return _TiffReader(handle, size).geokeys()
        except struct.error as err:  # a read came back short
            raise _Unreadable("It is cut off or damaged: its TIFF header is incomplete.") from err


class _TiffReader:
    """Reads only the first image directory of a TIFF, every read bounded by the file's size."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self.handle = handle
        self.size = size
        self.order = {b"II": "<", b"MM": ">"}.get(handle.read(2), "")
        if not self.order:
            raise _Unreadable("It is not a TIFF image, or it is damaged.")

    def unpack(self, fmt: str, data: bytes) -> Tuple[Any, ...]:
        return struct.unpack(self.order + fmt, data)

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset + size > self.size:
            raise _Unreadable(
                f"It is cut off or damaged: its TIFF directory points to byte {offset:,}, "
                f"past the end of the file ({self.size:,} bytes)."
            )
        self.handle.seek(offset)
        return self.handle.read(size)

    def geokeys(self) -> Tuple[Optional[str], bool]:
        (magic,) = self.unpack("H", self.handle.read(2))
        if magic == 42:
            (offset,) = self.unpack("I", self.handle.read(4))
            count_fmt, entry_fmt, inline = "H", "HHI4s", 4
        elif magic == 43:  # BigTIFF
            self.handle.read(4)
            (offset,) = self.unpack("Q", self.handle.read(8))
            count_fmt, entry_fmt, inline = "Q", "HHQ8s", 8
        else:
            raise _Unreadable("It is not a TIFF image, or it is damaged.")
        self.inline = inline
        count_size, entry_size = struct.calcsize(count_fmt), struct.calcsize(entry_fmt)
        (count,) = self.unpack(count_fmt, self.read_at(offset, count_size))
        if not 0 < count <= _MAX_TAGS:
            raise _Unreadable(f"It is damaged: its TIFF directory says it has {count:,} entries.")
        table = self.read_at(offset + count_size, count * entry_size)
        georeferenced = False
        keys: Tuple[int, ...] = ()
        data: Dict[int, Tuple[int, int, bytes]] = {}
        for index in range(count):
            entry = table[index * entry_size : (index + 1) * entry_size]
            tag, kind, n, value = self.unpack(entry_fmt, entry)
            if tag in _GEOREFERENCING_TAGS:
                georeferenced = True
            elif tag == _GEOKEY_DIRECTORY and kind == 3:
                keys = self._geokey_values(n, value)
            elif kind in _TIFF_TYPES and any(tag in pair for pair in _DATA_TAGS):
                data[tag] = (kind, n, value)
        self._check_image_data(data)
        return _crs_from_geokeys(keys), georeferenced

    def _last_value(self, kind: int, n: int, value: bytes) -> int:
        fmt, width = _TIFF_TYPES[kind]
        if n * width <= self.inline:
            return int(self.unpack(fmt, value[(n - 1) * width : n * width])[0])
        (offset,) = self.unpack("I" if self.inline == 4 else "Q", value)
        return int(self.unpack(fmt, self.read_at(offset + (n - 1) * width, width))[0])

    def _check_image_data(self, data: Dict[int, Tuple[int, int, bytes]]) -> None:
        """The last strip or tile (written last) must end inside the file."""
        for offsets_tag, counts_tag in _DATA_TAGS:
            offsets, counts = data.get(offsets_tag), data.get(counts_tag)
            if not offsets or not counts or not offsets[1] or offsets[1] != counts[1]:
                continue
            end = self._last_value(*offsets) + self._last_value(*counts)
            if end > self.size:
                raise _Unreadable(
                    f"It is cut off: its image data run to byte {end:,} but the file has "
                    f"{self.size:,} bytes, probably an incomplete download or copy."
                )

    def _geokey_values(self, n: int, value: bytes) -> Tuple[int, ...]:
        """The GeoKey directory's SHORTs; none when its count is absurd (it is then ignored)."""
        if not 4 <= n <= _MAX_GEOKEY_SHORTS:
            log.info("Ignoring a GeoKey directory of %d values (damaged)", n)
            return ()
        if 2 * n <= self.inline:
            raw = value[: 2 * n]
        else:
            (offset,) = self.unpack("I" if self.inline == 4 else "Q", value)
            raw = self.read_at(offset, 2 * n)
        return self.unpack(f"{n}H", raw)


def _crs_from_geokeys(keys: Sequence[int]) -> Optional[str]:
    if len(keys) < 4:
        return None
    values = {}
    for index in range(min(keys[3], (len(keys) - 4) // 4)):
        key_id, location, _count, value = keys[4 + 4 * index : 8 + 4 * index]
        if location == 0:
            values[key_id] = value
    for key in (3072, 2048):  # ProjectedCSTypeGeoKey, GeographicTypeGeoKey
        code = values.get(key)
        if code and code != 32767:
            return f"EPSG:{code}"
        if code == 32767:
            return None
    return None


# --- tile groups --------------------------------------------------------------------------


def _assign_tile_groups(
    folder: Path, datasets: List[Dataset], product_name: Optional[str]
) -> List[Dataset]:
    keys: Dict[int, str] = {}
    for index, dataset in enumerate(datasets):
        key = None if dataset.problem else _tile_key(folder, dataset)
        if key:
            keys[index] = key
    sizes: Dict[str, int] = {}
    for key in keys.values():
        sizes[key] = sizes.get(key, 0) + 1
    out = []
    for index, dataset in enumerate(datasets):
        key = keys.get(index)
        if key and sizes[key] > 1:
            name = f"{product_name}: {dataset.name}" if product_name else dataset.name
            dataset = replace(dataset, tile_group=key, name=name)
        out.append(dataset)
    return out


def _tile_key(folder: Path, dataset: Dataset) -> Optional[str]:
    if dataset.format == "CSV" and dataset.csv_options is not None:
        options = dataset.csv_options
        if options.header_file is not None:
            source = options.header_file.relative_to(folder).as_posix()
        else:
            source = dataset.path.parent.relative_to(folder).as_posix()
        return f"CSV:{source}:{'|'.join(options.field_names)}"
    if dataset.format in ("AAIGrid", "GTiff") and _GRID_SQUARE.match(dataset.path.stem):
        return f"{dataset.format}:{_tile_root(folder, dataset.path)}:{dataset.crs}"
    return None


def _tile_root(folder: Path, path: Path) -> str:
    """The tile set's folder: the nearest ``data`` folder above the tile, else its own."""
    relative = path.relative_to(folder).parts[:-1]
    for depth in range(len(relative), 0, -1):
        if relative[depth - 1].casefold() == "data":
            return "/".join(relative[:depth])
    return "/".join(relative) or "."


__all__ = [
    "COORDINATE_COLUMNS",
    "DEFAULT_CRS",
    "RASTER",
    "TABLE",
    "VECTOR",
    "CsvOptions",
    "Dataset",
    "crs_from_wkt",
    "find_datasets",
    "group_tiles",
    "inspect_csv",
]
