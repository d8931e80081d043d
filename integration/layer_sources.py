"""Where each layer of a download comes from: decided in the worker thread.

``plan_layers`` turns the datasets ``core.discover`` found into
``LayerSource``s (a URI and a provider) and writes the small helper files
some need, under ``<job folder>/qgis/``:

- headerless CSVs (Code-Point Open, OS Open Names): an OGR VRT
  (``csv_layers``, shared with the TRUD tables). The CSV
  driver reads the rows with ``HEADERS=NO`` (columns ``field_1``...), the VRT
  renames them to the names from the product's header file, casts the
  coordinates and makes points in EPSG:27700. All CSVs of one tile group (the
  120 postcode-area files) are one union layer. Why not the delimited-text
  provider: with ``useHeader=no`` it names fields ``field_N`` and cannot be
  told the real names (a ``.csvt`` only sets types); the VRT keeps real names,
  so expressions and joins read naturally, and works on GDAL 2 to 3.x.
  A layer with points is then copied once into a GeoPackage with a spatial
  index beside it (``layer_cache``; 1.7 million Code-Point rows redraw from
  an index instead of re-parsing 120 CSVs), and that copy is what loads;
- CSVs with a header row: the delimited-text provider (types detected, a
  spatial index), with x/y or WKT columns when there are some;
- raster tiles (Terrain 50's ASCII grids, 1:250 000 GeoTIFFs): one GDAL
  virtual raster, the gaps between tiles transparent;
- per-tile vector files (Terrain 50 contours ``SU41_line.shp``): one OGR VRT
  union per feature type, so thousands of tiles are one layer;
- large GeoPackages: their spatial index checked (made when missing); large
  rasters and mosaics: overviews built when they have none (a setting);
- a GML file with several feature types: one source per layer (without
  ``layername`` QGIS would open only the first).

All of it reads or writes files (thousands of tiles, for Terrain 50), hence
the worker thread; ``integration/layers.py`` opens the sources on the main
thread.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape, quoteattr

from ..core.engine.discover import CsvOptions, Dataset, group_tiles
from .compat import gdal_exceptions
from .csv_layers import (
    DEFAULT_CRS,
    CsvFile,
    csv_vrt_xml,
    delimited_text_uri,
    file_stem,
    has_geometry,
    write_vrt,
)
from .layer_cache import LoadPreparation, csv_geopackage, ensure_overviews, ensure_spatial_index

HELPER_FOLDER = "qgis"  # beside the extracted files: VRTs made for loading

VECTOR, RASTER, VECTOR_TILES, TABLE = "vector", "raster", "vectortiles", "table"


@dataclass(frozen=True)
class LayerSource:
    """How to open one layer: decided in the worker, opened on the main thread."""

    name: str
    uri: str
    provider: str  # "ogr", "gdal", "delimitedtext", "vectortile"
    kind: str  # VECTOR, RASTER, VECTOR_TILES, TABLE
    crs: str = ""  # authid the data are in, when known; else DEFAULT_CRS is set
    origin: str = ""  # the file it came from, for messages
    overview_features: int = 0  # leading rows drawn when zoomed out (layer_cache), or 0


def plan_layers(
    datasets: Sequence[Dataset],
    work_dir: Path,
    *,
    title: str = "",
    prep: Optional[LoadPreparation] = None,
) -> List[LayerSource]:
    """Layer sources for ``datasets`` (from ``core.discover``); helper files go under
    ``work_dir/qgis``. A set of tiles becomes one layer, named ``title`` (the product).
    Datasets discovery marked unreadable (``problem``) are left out: their reason is
    reported with the job, never handed to a QGIS provider. ``prep`` (default: all on)
    says whether headerless CSVs become GeoPackages and rasters get overviews
    (``layer_cache``), and collects what was made."""
    prep = prep if prep is not None else LoadPreparation()
    helper_dir = Path(work_dir) / HELPER_FOLDER
    datasets = _with_vector_tile_groups([d for d in datasets if not getattr(d, "problem", None)])
    groups = group_tiles(datasets)
    # Several raster/CSV tile sets in one download: tell them apart by folder.
    several = sum(not key.startswith(VECTOR_TILE_GROUP) for key in groups) > 1
    sources: List[LayerSource] = []
    for dataset in datasets:
        if dataset.tile_group:
            members = groups.pop(dataset.tile_group, None)
            if members:  # the first member stands for its whole group
                vector = dataset.tile_group.startswith(VECTOR_TILE_GROUP)
                name = _group_layer_name(members, title, several=several and not vector)
                sources.extend(_tile_group_sources(members, helper_dir, name, prep))
        else:
            sources.extend(_single_sources(dataset, helper_dir, prep))
    return sources


# Per-tile vector files: Terrain 50 contours "SU41_line.shp", OpenMap Local "TQ_Road.shp".
_SQUARE_PREFIX = re.compile(r"^[A-Za-z]{2}\d{0,8}(?=$|[_ .-])")
VECTOR_TILE_GROUP = "vector-tiles:"
_VECTOR_TILE_FORMATS = ("ESRI Shapefile", "GML", "MapInfo File")


def _vector_tile_key(dataset: Dataset) -> Optional[str]:
    if dataset.kind != "vector" or dataset.format not in _VECTOR_TILE_FORMATS or dataset.layer:
        return None
    match = _SQUARE_PREFIX.match(dataset.path.stem)
    if not match:
        return None
    return f"{VECTOR_TILE_GROUP}{dataset.format}:{dataset.path.stem[match.end() :].casefold()}"


def _tile_square(path: Path) -> str:
    match = _SQUARE_PREFIX.match(path.stem)
    return match.group(0) if match else ""


def _with_vector_tile_groups(datasets: Sequence[Dataset]) -> List[Dataset]:
    """Mark sets of per-tile vector files as one tile group (discover groups rasters
    and CSVs; thousands of contour tiles must not become thousands of layers)."""
    keys = [None if d.tile_group else _vector_tile_key(d) for d in datasets]
    counts = {k: keys.count(k) for k in set(keys) if k}
    return [replace(d, tile_group=k) if k and counts[k] > 1 else d for d, k in zip(datasets, keys)]


def _group_layer_name(members: List[Dataset], title: str, *, several: bool) -> str:
    """The product's name for its tile group; with several groups, plus their folder."""
    base = title or members[0].name.split(":")[0]
    return f"{base} ({members[0].path.parent.name})" if several else base


def _single_sources(dataset: Dataset, helper_dir: Path, prep: LoadPreparation) -> List[LayerSource]:
    """One source, or one per layer for a multi-layer file (a GML with several
    feature types: without ``layername`` QGIS would open only the first)."""
    if dataset.format == "GML" and dataset.layer is None:
        names = _ogr_layer_names(Path(dataset.path))
        if len(names) > 1:
            crs = dataset.crs or ""
            return [
                LayerSource(
                    name, f"{dataset.path}|layername={name}", "ogr", VECTOR, crs, str(dataset.path)
                )
                for name in names
            ]
    return [_single_source(dataset, helper_dir, prep)]


def _ogr_layer_names(path: Path) -> List[str]:
    """The file's layer names; none when OGR cannot read it (QGIS then says why)."""
    from osgeo import ogr

    with gdal_exceptions():
        try:
            source = ogr.Open(str(path))
            return [source.GetLayer(i).GetName() for i in range(source.GetLayerCount())]
        except RuntimeError:
            return []
        finally:
            source = None


def _single_source(dataset: Dataset, helper_dir: Path, prep: LoadPreparation) -> LayerSource:
    path, crs = Path(dataset.path), dataset.crs or ""
    prep.check_cancel()
    if dataset.format == "MBTiles" and dataset.kind == "vector":
        uri = f"type=mbtiles&url={path.as_posix()}"
        return LayerSource(dataset.name, uri, "vectortile", VECTOR_TILES, crs, str(path))
    if dataset.kind == "raster":
        if dataset.world_file is not None:
            _place_world_file(path, Path(dataset.world_file))
        ensure_overviews(path, prep, helper_dir.parent)
        return LayerSource(dataset.name, str(path), "gdal", RASTER, crs, str(path))
    if dataset.format == "CSV" and dataset.csv_options is not None:
        if dataset.csv_options.has_header:
            return _delimited_text_source(dataset, dataset.csv_options)
        vrt = _write_csv_vrt([dataset], helper_dir, dataset.name)
        kind = TABLE if dataset.kind == "table" else VECTOR
        uri, overview = _csv_layer_uri(vrt, [dataset], dataset.name, helper_dir, prep)
        return LayerSource(dataset.name, uri, "ogr", kind, crs, str(path), overview)
    kind = TABLE if dataset.kind == "table" else VECTOR
    if dataset.format == "GPKG" and str(path) not in prep.checked:
        prep.checked.add(str(path))
        ensure_spatial_index(path, prep, helper_dir.parent)
    return LayerSource(dataset.name, dataset.uri, "ogr", kind, crs, str(path))


def _csv_layer_uri(
    vrt: Path, members: Sequence[Dataset], name: str, helper_dir: Path, prep: LoadPreparation
) -> Tuple[str, int]:
    """The GeoPackage copy of a headerless CSV layer with points (``layer_cache``)
    and its overview row count, or its VRT: tables stay VRTs (no geometry to index),
    as does every layer when the copy is turned off or GDAL cannot make it."""
    first = members[0]
    geometry = first.csv_options is not None and has_geometry(first.csv_options)
    if not prep.convert_csv or first.kind == "table" or not geometry:
        return str(vrt), 0
    csvs = [Path(m.path) for m in members]
    return csv_geopackage(vrt, csvs, name, prep, helper_dir.parent) or (str(vrt), 0)


def _tile_group_sources(
    members: List[Dataset], helper_dir: Path, name: str, prep: LoadPreparation
) -> List[LayerSource]:
    first = members[0]
    crs = first.crs or ""
    prep.check_cancel()
    if first.format == "CSV":
        vrt = _write_csv_vrt(members, helper_dir, name)
        kind = TABLE if first.kind == "table" else VECTOR
        uri, overview = _csv_layer_uri(vrt, members, name, helper_dir, prep)
        return [LayerSource(name, uri, "ogr", kind, crs, str(vrt), overview)]
    if first.kind == "vector":
        return _vector_union_sources(members, helper_dir, name)
    vrt = _write_mosaic(members, helper_dir, name)
    ensure_overviews(vrt, prep, helper_dir.parent)
    return [LayerSource(name, str(vrt), "gdal", RASTER, first.crs or DEFAULT_CRS, str(vrt))]


def _vector_union_sources(members: List[Dataset], helper_dir: Path, name: str) -> List[LayerSource]:
    """Per-tile vector files -> one OGR VRT union per feature type.

    Only the first tile is opened to learn its layers (tiles share a schema;
    opening thousands of GML tiles would take minutes)."""
    first = Path(members[0].path)
    layers = _ogr_layer_names(first) if members[0].format == "GML" else [first.stem]
    crs = members[0].crs or DEFAULT_CRS
    sources = []
    helper_dir.mkdir(parents=True, exist_ok=True)
    square = _tile_square(first)
    for layer in layers:
        suffix = _SQUARE_PREFIX.sub("", layer).strip("_ .-") if layer.startswith(square) else layer
        parts = []
        for member in members:
            path = Path(member.path)
            # GML tiles name their layers after the tile too ("SU41_line" in SU41.gml).
            own = _tile_square(path) + layer[len(square) :] if layer.startswith(square) else layer
            parts.append((path, own))
        label = f"{name}: {suffix}" if suffix else name
        vrt = helper_dir / f"{file_stem(label)}.vrt"
        vrt.write_text(union_vrt_xml(parts, crs), encoding="utf-8")
        sources.append(LayerSource(label, str(vrt), "ogr", VECTOR, crs, str(vrt)))
    return sources


def union_vrt_xml(parts: Sequence[Tuple[Path, str]], crs: str) -> str:
    """An OGR VRT union of (file, layer) pairs with the same schema."""
    body = "\n".join(
        f"    <OGRVRTLayer name={quoteattr(f'{path.stem}_{index}')}>\n"
        f"      <SrcDataSource>{escape(str(path.resolve()))}</SrcDataSource>\n"
        f"      <SrcLayer>{escape(layer)}</SrcLayer>\n"
        f"      <LayerSRS>{escape(crs)}</LayerSRS>\n"
        "    </OGRVRTLayer>"
        for index, (path, layer) in enumerate(parts)
    )
    return (
        '<OGRVRTDataSource>\n  <OGRVRTUnionLayer name="merged">\n'
        "    <FieldStrategy>Union</FieldStrategy>\n"
        f"{body}\n  </OGRVRTUnionLayer>\n</OGRVRTDataSource>\n"
    )


def _place_world_file(image: Path, world_file: Path) -> None:
    """GDAL reads a world file only beside the image (MiniScale ships them apart)."""
    target = image.with_suffix(world_file.suffix.lower() or ".tfw")
    if not target.exists():
        shutil.copyfile(world_file, target)


def _delimited_text_source(dataset: Dataset, options: CsvOptions) -> LayerSource:
    """A CSV with a header row: the delimited-text provider (spatial index, types)."""
    csv = CsvFile(Path(dataset.path), options, dataset.crs or DEFAULT_CRS)
    kind = VECTOR if has_geometry(options) else TABLE
    return LayerSource(
        dataset.name, delimited_text_uri(csv), "delimitedtext", kind, csv.crs, str(dataset.path)
    )


def _write_csv_vrt(members: Sequence[Dataset], helper_dir: Path, name: str) -> Path:
    files = [
        CsvFile(Path(m.path), m.csv_options or CsvOptions(), m.crs or DEFAULT_CRS) for m in members
    ]
    return write_vrt(helper_dir, name, csv_vrt_xml(files))


MOSAIC_NODATA = -9999.0  # Terrain 50's own no-data value; heights never reach it
_GDAL_INT_RANGES = {  # GDAL data type name -> (lowest, highest) value it holds
    "Byte": (0, 255),
    "Int8": (-128, 127),
    "UInt16": (0, 65535),
    "Int16": (-32768, 32767),
    "UInt32": (0, 2**32 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "UInt64": (0, 2**64 - 1),
    "Int64": (-(2**63), 2**63 - 1),
}


def mosaic_nodata(type_name: str, used_values: Optional[Sequence[int]] = None) -> Optional[float]:
    """A no-data value the band type can hold, for the gaps between tiles.

    -9999 where it fits (floats, Int16, Int32); for a Byte band (a colour-table
    map) the highest value the tile does not use, given its histogram
    ``used_values`` (counts per value); other unsigned types their maximum.
    None when no value is free (the caller adds an alpha band instead)."""
    bounds = _GDAL_INT_RANGES.get(type_name)
    if bounds is None or bounds[0] <= MOSAIC_NODATA <= bounds[1]:
        return MOSAIC_NODATA
    if used_values is not None:
        free = [value for value, count in enumerate(used_values) if count == 0]
        return float(free[-1]) if free else None
    return float(bounds[0] if bounds[0] < 0 else bounds[1])


def _gap_options(first_tile: str) -> dict:
    """Keep the space between tiles transparent (tiles far apart otherwise show as a
    black 0-valued block): a no-data value for grids that declare none, an alpha
    band for colour images."""
    from osgeo import gdal

    with gdal_exceptions():
        try:
            tile = gdal.Open(first_tile)
            band = tile.GetRasterBand(1)
            if tile.RasterCount >= 3:
                return {"addAlpha": True}
            if band.GetNoDataValue() is not None:
                return {}
            type_name = gdal.GetDataTypeName(band.DataType)
            used = None
            if type_name == "Byte":
                used = band.GetHistogram(-0.5, 255.5, 256, include_out_of_range=0, approx_ok=0)
            nodata = mosaic_nodata(type_name, used)
            return {"addAlpha": True} if nodata is None else {"VRTNodata": nodata}
        except RuntimeError:
            return {}  # BuildVRT then reports what is wrong with the tiles
        finally:
            tile = band = None


def _write_mosaic(members: Sequence[Dataset], helper_dir: Path, name: str) -> Path:
    """Raster tiles (Terrain 50's ASCII grids, 1:250 000 GeoTIFFs) -> one GDAL VRT."""
    from osgeo import gdal

    helper_dir.mkdir(parents=True, exist_ok=True)
    vrt = helper_dir / f"{file_stem(name)}_mosaic.vrt"
    paths = sorted(str(Path(m.path).resolve()) for m in members)
    crs = members[0].crs or DEFAULT_CRS
    gaps = _gap_options(paths[0])
    with gdal_exceptions():
        try:
            options = gdal.BuildVRTOptions(outputSRS=crs, resolution="highest", **gaps)
            mosaic = gdal.BuildVRT(str(vrt), paths, options=options)
            mosaic.FlushCache()
        except RuntimeError as err:
            raise OSError(
                f"GDAL could not build a virtual raster from {len(paths)} tiles: {err}"
            ) from err
        finally:
            mosaic = None  # closing writes the file
    return vrt
