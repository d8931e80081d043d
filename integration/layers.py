"""Turn the datasets a job found into QGIS layers, in one group per download.

Two steps, split by thread:

``plan_layers`` (worker thread, inside the task): decides each layer's
source and writes the small helper files some need - an OGR VRT for
headerless CSVs (the field names come from the product's header file; the
CSV driver's ``HEADERS=NO`` open option reads the rows, the VRT renames
``field_N`` to the real names, casts the coordinates and makes points in
EPSG:27700; all CSVs sharing a header become one union layer, e.g. the 120
Code-Point Open postcode-area files become one "Code-Point Open" layer), and
a GDAL virtual raster mosaicking ASCII-grid tiles (Terrain 50's tiles load as
one seamless raster). Opening thousands of tiles must not stall the map,
hence the worker thread.

``add_layers`` (main thread, in ``finished()``): builds the layers with CRS
validation skipped, sets EPSG:27700 wherever the data carry no valid CRS
(so the "unknown CRS" prompt never appears), adds them to the project without
the legend (``addMapLayer(layer, False)``) and then to a group named after
the product, version and format. Points sit above lines above polygons above
rasters. Invalid layers are skipped with a logged warning.

Why a VRT rather than the delimited-text provider for headerless CSVs: with
``useHeader=no`` that provider names fields ``field_1``..., and it has no
option to name them; a ``.csvt`` only sets types. The OGR VRT keeps real
field names (and expressions using them) and works on GDAL 2 to 3.x.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape, quoteattr

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)

from ..core.manifest import SOURCE_PACKAGE
from ..i18n import tr
from .log import plugin_logger

log = plugin_logger("layers")

DEFAULT_CRS = "EPSG:27700"
HELPER_FOLDER = "qgis"  # beside the extracted files: VRTs made for loading
RASTER_SUFFIXES = (".asc", ".tif", ".tiff", ".vrt", ".jp2", ".png", ".jpg")
GRID_SUFFIXES = (".asc",)

VECTOR, RASTER, VECTOR_TILES = "vector", "raster", "vectortiles"


@dataclass(frozen=True)
class LayerSource:
    """How to open one layer: decided in the worker, opened on the main thread."""

    name: str
    uri: str
    provider: str  # "ogr", "gdal", "delimitedtext", "vectortile"
    kind: str  # VECTOR, RASTER, VECTOR_TILES
    crs: str = ""  # authid the data are in, when known; else DEFAULT_CRS is set
    origin: str = ""  # the file it came from, for messages


@dataclass
class LoadReport:
    """What ``add_layers`` did, for the message bar and the tests."""

    group_name: str
    group: Optional[QgsLayerTreeGroup] = None
    layers: List[QgsMapLayer] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def layer_count(self) -> int:
        return len(self.layers)


# --- planning (worker thread) ----------------------------------------------------------


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    """The first present attribute (or dict key) of ``names``: tolerant of Dataset shapes."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _csv_options(dataset: Any) -> Any:
    return _attr(dataset, "csv_options", "csv", default=None)


def _field_names(options: Any) -> List[str]:
    names = _attr(options, "field_names", "fields", "columns", "header", default=()) or ()
    return [str(n) for n in names]


def _has_header(options: Any) -> bool:
    value = _attr(options, "has_header", "header_row", "use_header", default=None)
    if value is None:
        return not _field_names(options)  # names given from elsewhere: the file has none
    return bool(value)


def _kind_of(dataset: Any) -> str:
    path = Path(str(_attr(dataset, "path")))
    kind = str(_attr(dataset, "kind", default="") or "").lower()
    suffix = path.suffix.lower()
    if suffix == ".mbtiles" or "tile" in kind:
        return VECTOR_TILES
    if kind == RASTER or suffix in RASTER_SUFFIXES:
        return RASTER
    return VECTOR


def _dataset_name(dataset: Any) -> str:
    name = _attr(dataset, "name", default="") or _attr(dataset, "layer", default="")
    return str(name or Path(str(_attr(dataset, "path"))).stem)


def _crs_of(dataset: Any) -> str:
    return str(_attr(dataset, "crs", default="") or "")


def plan_layers(datasets: Sequence[Any], work_dir: Path, *, title: str = "") -> List[LayerSource]:
    """Layer sources for ``datasets``; writes helper VRTs under ``work_dir/qgis``.

    ``title`` names merged layers (all CSVs of one header -> one layer).
    """
    helper_dir = Path(work_dir) / HELPER_FOLDER
    sources: List[LayerSource] = []
    grids: List[Any] = []
    headerless: Dict[Tuple[str, ...], List[Any]] = {}
    for dataset in datasets:
        path = Path(str(_attr(dataset, "path")))
        options = _csv_options(dataset)
        if path.suffix.lower() in GRID_SUFFIXES:
            grids.append(dataset)
        elif options is not None and path.suffix.lower() in (".csv", ".txt"):
            if _has_header(options):
                sources.append(_header_csv_source(dataset, options))
            else:
                headerless.setdefault(tuple(_field_names(options)), []).append(dataset)
        else:
            sources.append(_plain_source(dataset))
    for group in headerless.values():
        sources.append(_csv_union_source(group, helper_dir, title))
    if len(grids) == 1:
        sources.append(_plain_source(grids[0]))
    elif grids:
        sources.append(_grid_mosaic_source(grids, helper_dir, title))
    return sources


def _plain_source(dataset: Any) -> LayerSource:
    path = Path(str(_attr(dataset, "path")))
    kind = _kind_of(dataset)
    name = _dataset_name(dataset)
    if kind == VECTOR_TILES:
        return LayerSource(
            name, f"type=mbtiles&url={path.as_posix()}", "vectortile", kind, DEFAULT_CRS, str(path)
        )
    if kind == RASTER:
        return LayerSource(name, str(path), "gdal", kind, _crs_of(dataset), str(path))
    layer = _attr(dataset, "layer", "layer_name", default="")
    uri = f"{path}|layername={layer}" if layer else str(path)
    return LayerSource(name, uri, "ogr", kind, _crs_of(dataset), str(path))


def _header_csv_source(dataset: Any, options: Any) -> LayerSource:
    """A CSV with a header row: the delimited-text provider, points if it has x/y."""
    from urllib.parse import quote

    path = Path(str(_attr(dataset, "path")))
    params = {
        "type": "csv",
        "delimiter": str(_attr(options, "delimiter", default=",") or ","),
        "useHeader": "yes",
        "detectTypes": "yes",
        "spatialIndex": "yes",
    }
    x, y = _attr(options, "x_field", "x"), _attr(options, "y_field", "y")
    crs = _crs_of(dataset) or DEFAULT_CRS
    if x and y:
        params.update(xField=str(x), yField=str(y), crs=crs)
    else:
        params["geomType"] = "none"
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    uri = f"{path.as_uri()}?{query}"
    kind = VECTOR
    return LayerSource(_dataset_name(dataset), uri, "delimitedtext", kind, crs, str(path))


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_stem(text: str) -> str:
    return _SAFE.sub("_", text).strip("_") or "layer"


def _csv_union_source(datasets: List[Any], helper_dir: Path, title: str) -> LayerSource:
    """Headerless CSVs sharing a header file -> one OGR VRT (union) point layer."""
    options = _csv_options(datasets[0])
    names = _field_names(options)
    x = str(_attr(options, "x_field", "x", default="") or "")
    y = str(_attr(options, "y_field", "y", default="") or "")
    crs = _crs_of(datasets[0]) or DEFAULT_CRS
    name = title or _dataset_name(datasets[0])
    if len(datasets) == 1:
        name = _dataset_name(datasets[0]) if not title else name
    helper_dir.mkdir(parents=True, exist_ok=True)
    vrt = helper_dir / f"{_file_stem(name)}.vrt"
    vrt.write_text(csv_vrt_xml([Path(str(_attr(d, "path"))) for d in datasets], names, x, y, crs))
    return LayerSource(name, str(vrt), "ogr", VECTOR, crs, str(vrt))


def csv_vrt_xml(paths: Sequence[Path], names: Sequence[str], x: str, y: str, crs: str) -> str:
    """The OGR VRT text for headerless CSVs (``field_N`` renamed to ``names``)."""
    layers = []
    for path in paths:
        fields = []
        for index, name in enumerate(names, start=1):
            kind = "Real" if name in (x, y) else "String"
            fields.append(
                f'      <Field name={quoteattr(name)} src="field_{index}" type="{kind}"/>'
            )
        geometry = ""
        if x in names and y in names:
            gx, gy = f"field_{names.index(x) + 1}", f"field_{names.index(y) + 1}"
            geometry = (
                "      <GeometryType>wkbPoint</GeometryType>\n"
                f"      <LayerSRS>{escape(crs)}</LayerSRS>\n"
                f'      <GeometryField encoding="PointFromColumns" x="{gx}" y="{gy}"/>\n'
            )
        layers.append(
            f"    <OGRVRTLayer name={quoteattr(path.stem)}>\n"
            f"      <SrcDataSource>{escape(str(path.resolve()))}</SrcDataSource>\n"
            '      <OpenOptions><OOI key="HEADERS">NO</OOI></OpenOptions>\n'
            f"      <SrcLayer>{escape(path.stem)}</SrcLayer>\n"
            f"{geometry}" + "\n".join(fields) + "\n    </OGRVRTLayer>"
        )
    body = "\n".join(layers)
    if len(paths) > 1:
        body = f'  <OGRVRTUnionLayer name="merged">\n{body}\n  </OGRVRTUnionLayer>'
    return f"<OGRVRTDataSource>\n{body}\n</OGRVRTDataSource>\n"


def _grid_mosaic_source(datasets: List[Any], helper_dir: Path, title: str) -> LayerSource:
    """ASCII-grid tiles -> one GDAL virtual raster (EPSG:27700 unless they say otherwise)."""
    from osgeo import gdal

    paths = sorted(str(_attr(d, "path")) for d in datasets)
    crs = _crs_of(datasets[0]) or DEFAULT_CRS
    name = title or tr("Height grid")
    helper_dir.mkdir(parents=True, exist_ok=True)
    vrt = helper_dir / f"{_file_stem(name)}_mosaic.vrt"
    options = gdal.BuildVRTOptions(outputSRS=crs, resolution="highest")
    result = gdal.BuildVRT(str(vrt), paths, options=options)
    if result is None:
        raise OSError(f"GDAL could not build a virtual raster from {len(paths)} tiles.")
    result.FlushCache()
    result = None  # closes and writes the VRT
    return LayerSource(name, str(vrt), "gdal", RASTER, crs, str(vrt))


# --- adding (main thread) -------------------------------------------------------------


def _open(source: LayerSource) -> QgsMapLayer:
    if source.kind == RASTER:
        options = QgsRasterLayer.LayerOptions()
        options.skipCrsValidation = True
        return QgsRasterLayer(source.uri, source.name, source.provider, options)
    if source.kind == VECTOR_TILES:
        return QgsVectorTileLayer(source.uri, source.name)
    options = QgsVectorLayer.LayerOptions(QgsProject.instance().transformContext())
    options.skipCrsValidation = True
    return QgsVectorLayer(source.uri, source.name, source.provider, options)


def _ensure_crs(layer: QgsMapLayer, source: LayerSource) -> None:
    """EPSG:27700 (or the dataset's stated CRS) when the layer has no valid CRS."""
    if layer.crs().isValid():
        return
    crs = QgsCoordinateReferenceSystem(source.crs or DEFAULT_CRS)
    if not crs.isValid():
        crs = QgsCoordinateReferenceSystem(DEFAULT_CRS)
    layer.setCrs(crs)


def _stacking_key(layer: QgsMapLayer) -> int:
    """Points on top, then lines, polygons, tables, vector tiles, rasters at the bottom."""
    if isinstance(layer, QgsVectorLayer):
        order = {
            QgsWkbTypes.GeometryType.PointGeometry: 0,
            QgsWkbTypes.GeometryType.LineGeometry: 1,
            QgsWkbTypes.GeometryType.PolygonGeometry: 2,
        }
        return order.get(layer.geometryType(), 3)
    if isinstance(layer, QgsVectorTileLayer):
        return 4
    return 5


def add_layers(
    sources: Iterable[LayerSource], group_name: str, project: Optional[QgsProject] = None
) -> LoadReport:
    """Open ``sources`` and add the valid ones to a new top group ``group_name``."""
    project = project or QgsProject.instance()
    report = LoadReport(group_name)
    for source in sources:
        layer = _open(source)
        if not layer.isValid():
            why = tr("QGIS could not open it")
            log.warning("Skipped %s (%s): %s", source.name, source.origin or source.uri, why)
            report.skipped.append((source.name, why))
            continue
        _ensure_crs(layer, source)
        report.layers.append(layer)
    if not report.layers:
        return report
    report.layers.sort(key=lambda lyr: (_stacking_key(lyr), lyr.name().lower()))
    group = project.layerTreeRoot().insertGroup(0, group_name)
    for layer in report.layers:
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    report.group = group
    log.info("Loaded %d layer(s) into group %r", len(report.layers), group_name)
    return report


def group_name_for(manifest: Any) -> str:
    """ "OS Open Rivers 2025-10 (GeoPackage)"; data packages: name, date, supply."""
    name = _attr(manifest, "name", default="") or _attr(manifest, "id", default="")
    if _attr(manifest, "source", default="") == SOURCE_PACKAGE:
        extra = _attr(manifest, "extra", default={}) or {}
        created = extra.get("created_on", "") if isinstance(extra, dict) else ""
        supply = _attr(manifest, "supply_type", default="") or ""
        label = tr("change-only") if supply.upper() == "COU" else ""
        fmt = _attr(manifest, "format", default="") or ""
        parts = [p for p in (created or _attr(manifest, "version", default=""), label) if p]
        return f"{name} {' '.join(parts)}" + (f" ({fmt})" if fmt else "")
    version = _attr(manifest, "version", default="") or ""
    fmt = _attr(manifest, "format", default="") or ""
    sub = _attr(manifest, "subformat", default="") or ""
    area = _attr(manifest, "area", default="") or ""
    label = " ".join(p for p in (fmt, sub) if p)
    if area and area.upper() != "GB":
        label = f"{label}, {area}" if label else area
    return f"{name} {version}".strip() + (f" ({label})" if label else "")
