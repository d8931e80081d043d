"""Files that make big layers open and draw fast, made once in the worker thread.

``layer_sources.plan_layers`` calls these while it plans a download's layers
(in the task, never on the main thread):

- ``csv_geopackage``: a headerless CSV product (Code-Point Open's 120 postcode
  area files, OS Open Names) read through its OGR VRT is copied once into a
  GeoPackage with a spatial index beside the download (``<job>/qgis/``). A
  redraw then reads an indexed SQLite table instead of re-parsing every CSV
  line. Field names and types are the VRT's. Made under a ``.partial`` name
  and renamed, so a half-made copy is never loaded; reused while it is newer
  than its CSVs and its VRT;
- ``ensure_spatial_index``: a large GeoPackage gets the R-tree of each layer
  checked, and made when missing;
- ``ensure_overviews``: a raster without overviews gets them (an external
  ``.ovr``, the downloaded file untouched), when the setting asks for it.

``LoadPreparation`` carries the settings, the cancel event and what was made,
which the download task records in the manifest's ``extra``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..core.errors import Cancelled
from .compat import gdal_exceptions
from .csv_layers import skip_vrt_schema_validation
from .log import plugin_logger

log = plugin_logger("layer_cache")

MANIFEST_KEY = "layer_cache"  # manifest.extra[MANIFEST_KEY]: what was made for loading
LARGE_GEOPACKAGE_BYTES = 50 * 10**6  # from this size a missing R-tree slows every redraw
OVERVIEW_MIN_PIXELS = 1024  # smaller rasters draw fast enough without overviews
# A point layer of at least this many rows gets its overview rows first: one point per
# OVERVIEW_CELL_M metres square, what a national view can show (``styling``).
OVERVIEW_MIN_FEATURES = 100_000
OVERVIEW_CELL_M = 1000
OVERVIEW_METADATA = "OS_DOWNLOADS_OVERVIEW_FEATURES"


@dataclass
class LoadPreparation:
    """How far to go preparing layers, and what was made (for the manifest)."""

    convert_csv: bool = True
    build_overviews: bool = True
    cancel: Optional[threading.Event] = None
    made: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # file -> what and from
    checked: set = field(default_factory=set)  # GeoPackages whose R-trees were checked

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def record(self, target: Path, work_dir: Path, **facts: Any) -> None:
        self.made[_relative(target, work_dir)] = facts


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return str(path)


def is_fresh(target: Path, sources: Sequence[Path]) -> bool:
    """True when ``target`` exists and is newer than every one of ``sources``."""
    try:
        made = target.stat().st_mtime
        return all(Path(s).stat().st_mtime <= made for s in sources)
    except OSError:
        return False


def geopackage_table(name: str) -> str:
    """A plain table name for a layer ("Code-Point® Open" -> "code_point_open")."""
    cleaned = "".join(c if c.isascii() and c.isalnum() else "_" for c in name.casefold())
    return "_".join(part for part in cleaned.split("_") if part) or "layer"


def csv_geopackage(
    vrt: Path, csvs: Sequence[Path], name: str, prep: LoadPreparation, work_dir: Path
) -> Optional[Tuple[str, int]]:
    """The ``path|layername=…`` URI of a GeoPackage copy of the CSV layer ``vrt`` and
    its overview row count (0: none); made now unless a fresh one is there. None
    when GDAL cannot make it (the VRT is then loaded as before; the log says why)."""
    table = geopackage_table(name)
    target = vrt.with_suffix(".gpkg")
    uri = f"{target}|layername={table}"
    sources = [vrt, *csvs]
    if is_fresh(target, sources):
        overview = _read_overview_count(target, table)
        if overview is not None:
            return uri, overview
    prep.check_cancel()
    staging = target.with_name(f"{target.stem}.staging.gpkg")
    partial = target.with_name(f"{target.stem}.partial.gpkg")
    started = time.monotonic()
    try:
        count, overview = _convert(vrt, staging, partial, table, prep)
    except Cancelled:
        raise
    except RuntimeError as err:
        log.warning("Could not copy %s into a GeoPackage (loading the CSVs): %s", name, err)
        return None
    finally:
        _remove(staging)
    if not partial.exists():
        return None
    os.replace(partial, target)
    seconds = time.monotonic() - started
    log.info("Copied %s (%d rows) into %s in %.1f s", name, count, target.name, seconds)
    prep.record(
        target,
        work_dir,
        kind="csv-geopackage",
        layer=table,
        features=count,
        overview_features=overview,
        sources=[_relative(s, work_dir) for s in csvs],
        seconds=round(seconds, 1),
    )
    return uri, overview


def _progress(prep: LoadPreparation) -> Callable[[float, Any, Any], int]:
    def progress(_done: float, _message: Any, _data: Any) -> int:
        return 0 if prep.cancel is not None and prep.cancel.is_set() else 1

    return progress


def _convert(
    vrt: Path, staging: Path, partial: Path, table: str, prep: LoadPreparation
) -> Tuple[int, int]:
    """VRT -> staging GeoPackage (rows as read); then, for a large point layer, the
    copy with the overview rows first (one per OVERVIEW_CELL_M cell), else the staging
    file itself, indexed. Returns (rows, overview rows)."""
    from osgeo import gdal

    skip_vrt_schema_validation()  # GDAL 3.10 was seen spinning in it (see csv_layers.py)
    _remove(staging)
    _remove(partial)
    try:
        with gdal_exceptions():
            _translate(str(vrt), staging, table, prep, spatial_index=False)
            source = gdal.OpenEx(str(staging), gdal.OF_VECTOR)
            layer = source.GetLayerByName(table)
            count = int(layer.GetFeatureCount())
            column = layer.GetGeometryColumn()
            points = layer.GetGeomType() in (1, 0x80000001)  # wkbPoint, wkbPoint25D
            source = layer = None
            if not points or count < OVERVIEW_MIN_FEATURES:
                _index(staging, table, column)
                os.replace(staging, partial)
                _write_overview_count(partial, table, 0)
                return count, 0
            cell = ", ".join(
                f"CAST(ST_Min{axis}({column}) / {OVERVIEW_CELL_M} AS INTEGER)" for axis in "XY"
            )
            firsts = f'SELECT MIN(fid) FROM "{table}" GROUP BY {cell}'
            order = f"CASE WHEN fid IN ({firsts}) THEN 0 ELSE 1 END, fid"
            sql = f'SELECT * FROM "{table}" ORDER BY {order}'
            _translate(str(staging), partial, table, prep, spatial_index=True, sql=sql)
            overview = _count(partial, f"SELECT COUNT(*) FROM ({firsts})".replace("fid", "fid"))
            _write_overview_count(partial, table, overview)
            return count, overview
    except BaseException:
        _remove(partial)
        prep.check_cancel()
        raise


def _translate(
    source: str,
    target: Path,
    table: str,
    prep: LoadPreparation,
    *,
    spatial_index: bool,
    sql: Optional[str] = None,
) -> None:
    from osgeo import gdal

    arguments = ["-gt", "100000", "-lco", "FID=fid"]
    arguments += ["-lco", f"SPATIAL_INDEX={'YES' if spatial_index else 'NO'}"]
    options = gdal.VectorTranslateOptions(
        options=arguments,
        format="GPKG",
        layerName=table,
        SQLStatement=sql,
        callback=_progress(prep),
    )
    try:
        made = gdal.VectorTranslate(str(target), source, options=options)
    except RuntimeError:
        prep.check_cancel()  # a stop asked for by the progress callback
        raise
    if made is None:
        prep.check_cancel()
        raise RuntimeError(gdal.GetLastErrorMsg() or "GDAL made no GeoPackage")
    made = None  # closing writes the file
    prep.check_cancel()


def _index(gpkg: Path, table: str, column: str) -> None:
    from osgeo import gdal

    source = gdal.OpenEx(str(gpkg), gdal.OF_VECTOR | gdal.OF_UPDATE)
    try:
        source.ExecuteSQL(f"SELECT CreateSpatialIndex('{_sql(table)}', '{_sql(column)}')")
    finally:
        source = None


def _count(gpkg: Path, sql: str) -> int:
    from osgeo import gdal

    source = gdal.OpenEx(str(gpkg), gdal.OF_VECTOR)
    try:
        result = source.ExecuteSQL(sql)
        try:
            return int(result.GetNextFeature().GetField(0))
        finally:
            source.ReleaseResultSet(result)
    finally:
        source = None


def _write_overview_count(gpkg: Path, table: str, count: int) -> None:
    from osgeo import gdal

    source = gdal.OpenEx(str(gpkg), gdal.OF_VECTOR | gdal.OF_UPDATE)
    try:
        source.GetLayerByName(table).SetMetadataItem(OVERVIEW_METADATA, str(int(count)))
    finally:
        source = None


def _read_overview_count(gpkg: Path, table: str) -> Optional[int]:
    """The overview row count a finished copy records; None when it records none."""
    from osgeo import gdal

    with gdal_exceptions():
        try:
            source = gdal.OpenEx(str(gpkg), gdal.OF_VECTOR)
            value = source.GetLayerByName(table).GetMetadataItem(OVERVIEW_METADATA)
            return int(value) if value is not None else None
        except (RuntimeError, AttributeError, ValueError):
            return None
        finally:
            source = None


def _remove(path: Path) -> None:
    for candidate in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass


def ensure_spatial_index(gpkg: Path, prep: LoadPreparation, work_dir: Path) -> List[str]:
    """Make the missing R-trees of a large GeoPackage's layers; returns their names.

    Small files draw fast without one, and are never opened for writing."""
    try:
        if gpkg.stat().st_size < LARGE_GEOPACKAGE_BYTES:
            return []
    except OSError:
        return []
    from osgeo import ogr

    made: List[str] = []
    with gdal_exceptions():
        try:
            source = ogr.Open(str(gpkg), 1)
            for index in range(source.GetLayerCount()):
                prep.check_cancel()
                layer = source.GetLayer(index)
                column = layer.GetGeometryColumn()
                if not column:
                    continue
                name = layer.GetName()
                if _has_spatial_index(source, name, column):
                    continue
                source.ExecuteSQL(f"SELECT CreateSpatialIndex('{_sql(name)}', '{_sql(column)}')")
                made.append(name)
        except RuntimeError as err:
            log.warning("Could not check the spatial index of %s: %s", gpkg.name, err)
        finally:
            source = None
    if made:
        log.info("Made the spatial index of %s in %s", ", ".join(made), gpkg.name)
        prep.record(gpkg, work_dir, kind="spatial-index", layers=made)
    return made


def _sql(text: str) -> str:
    return text.replace("'", "''")


def _has_spatial_index(source: Any, table: str, column: str) -> bool:
    result = source.ExecuteSQL(f"SELECT HasSpatialIndex('{_sql(table)}', '{_sql(column)}')")
    try:
        feature = result.GetNextFeature() if result is not None else None
        return bool(feature is not None and feature.GetField(0))
    finally:
        if result is not None:
            source.ReleaseResultSet(result)


def overview_levels(width: int, height: int) -> List[int]:
    """2, 4, 8… until the smallest overview is under 256 pixels across."""
    levels: List[int] = []
    factor = 2
    while max(width, height) // factor >= 256:
        levels.append(factor)
        factor *= 2
    return levels


def ensure_overviews(raster: Path, prep: LoadPreparation, work_dir: Path) -> bool:
    """Build overviews (external ``.ovr``) for a large raster that has none."""
    if not prep.build_overviews:
        return False
    from osgeo import gdal

    with gdal_exceptions():
        try:
            image = gdal.Open(str(raster), gdal.GA_ReadOnly)
            if max(image.RasterXSize, image.RasterYSize) < OVERVIEW_MIN_PIXELS:
                return False
            if image.GetRasterBand(1).GetOverviewCount() > 0:
                return False
            levels = overview_levels(image.RasterXSize, image.RasterYSize)
            paletted = image.GetRasterBand(1).GetColorTable() is not None

            def progress(_done: float, _message: Any, _data: Any) -> int:
                return 0 if prep.cancel is not None and prep.cancel.is_set() else 1

            image.BuildOverviews("NEAREST" if paletted else "AVERAGE", levels, callback=progress)
        except RuntimeError as err:
            prep.check_cancel()
            log.warning("Could not build overviews for %s: %s", raster.name, err)
            return False
        finally:
            image = None
    prep.check_cancel()
    log.info("Built overviews %s for %s", levels, raster.name)
    prep.record(raster, work_dir, kind="overviews", levels=levels)
    return True
