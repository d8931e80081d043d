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

Unreadable files: discovery never fails for one bad file. A dataset that is
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

import os
import re
import sqlite3
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ..redact import get_logger
from .crs import DEFAULT_CRS, MBTILES_CRS, crs_from_prj, crs_from_srs_name
from .csvsniff import WKT_VALUE, CsvOptions, coordinate_crs, inspect_csv
from .file_reading import Unreadable, read_text, sibling
from .geotiff import geotiff_crs
from .gpkg import check_sqlite_file, geometry_name, gpkg_contents, read_only_database, sql_text

log = get_logger(__name__)

VECTOR, RASTER, TABLE = "vector", "raster", "table"
_DOC_FOLDERS = {"doc", "docs", "documentation", "documents"}
_SKIPPED_FOLDERS = {"__macosx"}
_NOT_DATA_CSV = ("header", "licence", "license", "readme", "metadata", "versions", "codelist")
_GRID_SQUARE = re.compile(r"^[A-Za-z]{2}(\d\d){0,4}$")  # NY, TQ28, SU4010: OS grid references


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


def _datasets_of(path: Path, context: _Context) -> List[Dataset]:
    """What one file holds; a file that cannot be read is one dataset with a ``problem``.

    Any error of one file is caught here on purpose: it must never cost the
    user the rest of the product.
    """
    handler, kind, driver = _HANDLERS[path.suffix.lower()]
    try:
        return handler(path, context)
    except Unreadable as err:
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


# --- CRS ---------------------------------------------------------------------------------


# --- handlers: one per suffix -----------------------------------------------------------


def _geopackage(path: Path, context: _Context) -> List[Dataset]:
    rows, geometry_types = gpkg_contents(path)
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


_SHAPE_TYPES = {1: "Point", 3: "LineString", 5: "Polygon", 8: "MultiPoint"}


def _shapefile(path: Path, context: _Context) -> List[Dataset]:
    with open(path, "rb") as handle:
        header = handle.read(36)
    geometry = None
    if len(header) >= 36 and struct.unpack(">i", header[:4])[0] == 9994:
        shape_type = struct.unpack("<i", header[32:36])[0]
        if shape_type != 31:  # 11, 13... (Z) and 21, 23... (M) are the same shapes
            geometry = _SHAPE_TYPES.get(shape_type % 10)
    return [Dataset(path, VECTOR, "ESRI Shapefile", path.stem, None, crs_from_prj(path), geometry)]


def _mapinfo(path: Path, context: _Context) -> List[Dataset]:
    text = read_text(path, 8192)
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
    crs = crs_from_srs_name(read_text(path, 16384)) or DEFAULT_CRS
    return [Dataset(path, VECTOR, "GML", path.stem, None, crs)]


def _ascii_grid(path: Path, context: _Context) -> List[Dataset]:
    head = read_text(path, 256).lstrip().lower()
    if not head.startswith(("ncols", "nrows", "xllcorner", "xllcenter")):
        return []  # not an ESRI ASCII grid (e.g. a PGP signature, also .asc)
    return [Dataset(path, RASTER, "AAIGrid", path.stem, None, crs_from_prj(path))]


def _geotiff(path: Path, context: _Context) -> List[Dataset]:
    crs, georeferenced = geotiff_crs(path)
    prj_crs = crs_from_prj(path) if sibling(path, ".prj") else None
    world_file = None
    if not georeferenced and not sibling(path, ".tfw") and not sibling(path, ".tifw"):
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
    check_sqlite_file(path, "MBTiles file")
    with read_only_database(path, "MBTiles file") as connection:
        try:
            metadata = {
                sql_text(k): sql_text(v)
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
        match = WKT_VALUE.match(value)
        geometry = geometry_name(value.split("(")[0].strip()) if match else None
        return [Dataset(path, VECTOR, "CSV", path.stem, None, DEFAULT_CRS, geometry, options)]
    if options.x_field and options.y_field:
        crs = coordinate_crs(options.x_field)
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


# --- GeoTIFF GeoKeys ---------------------------------------------------------------------


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


__all__ = [  # CsvOptions and DEFAULT_CRS: part of every Dataset; used by the loaders
    "DEFAULT_CRS",
    "RASTER",
    "TABLE",
    "VECTOR",
    "CsvOptions",
    "Dataset",
    "datasets_of_files",
    "find_datasets",
    "group_tiles",
]
