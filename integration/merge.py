"""Per-tile vector downloads -> one GeoPackage, one table per feature type (GDAL).

Runs in the task's worker thread. OS puts a feature that crosses a 100 km
square's edge in both squares' files; here it is stored once, recognised by
its identifier (``toid``, ``id``, ``gml_id`` ...) or, for data without one, by
its geometry and attributes. The file is written under a temporary name and
renamed into place when complete, so a half-written merge is never found
under its final name. Each table gets the GeoPackage's spatial index.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set

from ..core.errors import Cancelled
from ..core.grid.feature_types import feature_type_table, feature_type_words
from .compat import gdal_exceptions
from .log import plugin_logger

log = plugin_logger("merge")

IDENTIFIER_FIELDS = ("toid", "identifier", "id", "gml_id", "fid_1")
_MERGEABLE_FORMATS = ("GML", "ESRI Shapefile", "GPKG", "MapInfo File")


@dataclass
class MergedTable:
    table: str
    feature_type: str  # words: "Greenspace site"
    features: int = 0
    duplicates: int = 0


@dataclass
class MergeResult:
    path: Path
    tables: List[MergedTable] = field(default_factory=list)

    def table(self, name: str) -> Optional[MergedTable]:
        return next((t for t in self.tables if t.table == name), None)


def mergeable(dataset) -> bool:
    return getattr(dataset, "kind", "") == "vector" and dataset.format in _MERGEABLE_FORMATS


def merge_vector_datasets(
    datasets: Sequence,
    out: Path,
    *,
    cancel: Optional[threading.Event] = None,
    clip_to: Optional[str] = None,
) -> MergeResult:
    """Merge the vector ``datasets`` (``core.discover.Dataset``) into the GeoPackage ``out``.

    ``clip_to``: WKT of an area on the National Grid ("Keep only my area"): only the
    features touching it are kept, cut to its outline."""
    from osgeo import ogr, osr

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".partial-{out.name}")
    if partial.exists():
        partial.unlink()
    result = MergeResult(out)
    tables: Dict[str, MergedTable] = {}
    seen: Dict[str, Set[str]] = {}
    bng = osr.SpatialReference()
    bng.ImportFromEPSG(27700)
    area = ogr.CreateGeometryFromWkt(clip_to) if clip_to else None
    if area is not None and area.GetGeometryCount() > 1:
        area = area.UnionCascaded()  # squares side by side: one outline
    with gdal_exceptions():
        target = ogr.GetDriverByName("GPKG").CreateDataSource(str(partial))
        try:
            for dataset in datasets:
                if not mergeable(dataset):
                    continue
                source = ogr.Open(str(dataset.path))
                if source is None:
                    continue
                layers = [source.GetLayerByName(dataset.layer)] if dataset.layer else None
                for layer in layers or [source.GetLayer(i) for i in range(source.GetLayerCount())]:
                    _check(cancel)
                    name = feature_type_table(layer.GetName())
                    out_layer = target.GetLayerByName(name)
                    if out_layer is None:
                        out_layer = _create_like(target, name, layer, bng)
                        tables[name] = MergedTable(name, feature_type_words(name))
                        seen[name] = set()
                    if area is not None:
                        layer.SetSpatialFilter(area)
                    _copy_features(layer, out_layer, tables[name], seen[name], cancel, area)
                source = None
        finally:
            target = None
    os.replace(partial, out)
    result.tables = sorted(tables.values(), key=lambda t: t.table)
    log.info(
        "Merged %s: %s",
        out.name,
        ", ".join(f"{t.table} {t.features} (+{t.duplicates} duplicates)" for t in result.tables),
    )
    return result


def _create_like(target, name: str, layer, default_srs):
    from osgeo import ogr

    srs = layer.GetSpatialRef() or default_srs
    geom_type = ogr.GT_Flatten(layer.GetGeomType())
    if geom_type == ogr.wkbPolygon:
        geom_type = ogr.wkbMultiPolygon
    elif geom_type == ogr.wkbLineString:
        geom_type = ogr.wkbMultiLineString
    created = target.CreateLayer(
        name, srs, geom_type, options=["SPATIAL_INDEX=YES", "GEOMETRY_NAME=geometry"]
    )
    definition = layer.GetLayerDefn()
    for i in range(definition.GetFieldCount()):
        source_field = definition.GetFieldDefn(i)
        copy = ogr.FieldDefn(source_field.GetName(), source_field.GetType())
        copy.SetSubType(source_field.GetSubType())  # no width: other tiles hold longer values
        created.CreateField(copy)
    return created


def _copy_features(layer, out_layer, table: MergedTable, seen: Set[str], cancel, area=None) -> None:
    from osgeo import ogr

    out_defn = out_layer.GetLayerDefn()
    id_field = _identifier_field(layer.GetLayerDefn())
    out_names = {out_defn.GetFieldDefn(i).GetName() for i in range(out_defn.GetFieldCount())}
    out_layer.StartTransaction()
    try:
        layer.ResetReading()
        for count, feature in enumerate(layer):
            if count % 1000 == 0:
                _check(cancel)
            key = _feature_key(feature, id_field)
            if key in seen:
                table.duplicates += 1
                continue
            seen.add(key)
            copy = ogr.Feature(out_defn)
            for i in range(feature.GetFieldCount()):
                name = feature.GetFieldDefnRef(i).GetName()
                if name in out_names and feature.IsFieldSet(i) and not feature.IsFieldNull(i):
                    copy.SetField(name, feature.GetField(i))
            geometry = feature.GetGeometryRef()
            if geometry is not None and area is not None and not area.Contains(geometry):
                geometry = geometry.Intersection(area)
                if geometry is None or geometry.IsEmpty():
                    continue
            if geometry is not None:
                flat = ogr.GT_Flatten(out_defn.GetGeomType())
                if flat == ogr.wkbMultiPolygon:
                    geometry = ogr.ForceToMultiPolygon(geometry)
                elif flat == ogr.wkbMultiLineString:
                    geometry = ogr.ForceToMultiLineString(geometry)
                copy.SetGeometry(geometry)
            out_layer.CreateFeature(copy)
            table.features += 1
        out_layer.CommitTransaction()
    except BaseException:
        out_layer.RollbackTransaction()
        raise


def _identifier_field(definition) -> Optional[str]:
    names = {
        definition.GetFieldDefn(i).GetName().lower(): definition.GetFieldDefn(i).GetName()
        for i in range(definition.GetFieldCount())
    }
    return next((names[n] for n in IDENTIFIER_FIELDS if n in names), None)


def _feature_key(feature, id_field: Optional[str]) -> str:
    if id_field is not None:
        value = feature.GetField(id_field)
        if value not in (None, ""):
            return f"id:{value}"
    digest = hashlib.sha1()
    geometry = feature.GetGeometryRef()
    if geometry is not None:
        digest.update(bytes(geometry.ExportToWkb()))
    for i in range(feature.GetFieldCount()):
        digest.update(repr(feature.GetField(i)).encode("utf-8", "replace"))
    return "hash:" + digest.hexdigest()


def _check(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Cancelled; the downloaded files were kept.")
