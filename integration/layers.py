"""Add a download's layers to the project, in one group per download (main thread).

``add_layers`` opens the ``LayerSource``s that ``layer_sources.plan_layers``
prepared in the worker thread, with CRS validation skipped, sets EPSG:27700
wherever the data carry no valid CRS (so the "unknown CRS" prompt never
appears), adds them to the project without the legend
(``addMapLayer(layer, False)``) and then to a group named after the product,
version and format (``group_name_for``). Boundaries sit on top, then points,
lines, polygons, vector tiles and rasters. Invalid layers are skipped with a
logged warning.

Given the download's manifest, each layer also gets its licence and
attribution (``attribution.py``) and, unless the "style layers" setting is
off, our cartographic style (``styling.py``). An empty project is put on the
British National Grid before the first layer arrives and kept there
(``project_crs.py``), whatever CRS the data come in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

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

from ..core.api.models import SUPPLY_COU, normalise_supply_type
from ..core.engine.manifest import SOURCE_PACKAGE, Manifest
from ..i18n import tr
from . import project_crs
from . import settings as plugin_settings
from .attribution import apply_attribution, attribution_for, update_project_variable
from .csv_layers import skip_vrt_schema_validation
from .layer_sources import (  # plan_layers etc. re-exported for Processing and TRUD
    DEFAULT_CRS,
    HELPER_FOLDER,
    RASTER,
    VECTOR_TILES,
    LayerSource,
    plan_layers,
)
from .log import plugin_logger
from .styling import OVERVIEW_PROPERTY, STACK_PROPERTY, style_layer

log = plugin_logger("layers")


@dataclass
class LoadReport:
    """What ``add_layers`` did, for the message bar and the tests."""

    group_name: str
    group: Optional[QgsLayerTreeGroup] = None
    layers: List[QgsMapLayer] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (name, why)
    already_loaded: bool = False  # the same layers were in the project: no second group

    @property
    def layer_count(self) -> int:
        return len(self.layers)


def open_source(source: LayerSource) -> QgsMapLayer:
    """The layer for ``source`` (not yet in the project): every layer we load opens here."""
    if source.provider == "ogr" and source.uri.lower().endswith(".vrt"):
        skip_vrt_schema_validation()
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
    if layer.crs().isValid() or (isinstance(layer, QgsVectorLayer) and not layer.isSpatial()):
        return
    crs = QgsCoordinateReferenceSystem(source.crs or DEFAULT_CRS)
    if not crs.isValid():
        crs = QgsCoordinateReferenceSystem(DEFAULT_CRS)
    layer.setCrs(crs)


def _stack(layer: QgsMapLayer) -> int:
    try:
        return int(layer.customProperty(STACK_PROPERTY, 0) or 0)
    except (TypeError, ValueError):
        return 0


def _stacking_key(layer: QgsMapLayer) -> Tuple[int, int, int]:
    """Boundaries (vector layers a style raises) on top, then points, lines, polygons,
    tables, vector tiles, rasters at the bottom (a hillshade over its colours)."""
    stack = _stack(layer)
    raised = 0 if stack < 0 and isinstance(layer, QgsVectorLayer) else 1
    return raised, _kind_rank(layer), stack


def _kind_rank(layer: QgsMapLayer) -> int:
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
    sources: Iterable[LayerSource],
    group_name: str,
    project: Optional[QgsProject] = None,
    manifest: Optional[Manifest] = None,
    *,
    style: Optional[bool] = None,
    names: Optional[Dict[str, str]] = None,
    again: bool = False,
) -> LoadReport:
    """Open ``sources`` and add the valid ones to a new top group ``group_name``.

    ``manifest``: what was downloaded (the layers' attribution and styles);
    ``style``: None follows the setting; ``names``: source uri -> the layer's name
    (styles are chosen by the source's own name first). A group of that name
    already holding these sources is not added twice (``again`` to add anyway):
    the report gives it with ``already_loaded``."""
    project = project or QgsProject.instance()
    sources = list(sources)
    report = LoadReport(group_name)
    existing = None if again else loaded_group(project, group_name, sources)
    if existing is not None:
        report.group = existing
        report.already_loaded = True
        report.layers = [node.layer() for node in existing.findLayers() if node.layer() is not None]
        log.info("Already in the project: %r; not added again", group_name)
        return report
    if style is None:
        style = plugin_settings.load().style_layers
    attribution = attribution_for(manifest)
    product = _product_of(manifest)
    project_crs.prefer_transforms(project)  # before any layer or CRS change needs one
    on_bng = project_crs.pin_bng(project)
    for source in sources:
        layer = open_source(source)
        if not layer.isValid():
            why = tr("QGIS could not open it")
            log.warning("Skipped %s (%s): %s", source.name, source.origin or source.uri, why)
            report.skipped.append((source.name, why))
            continue
        _ensure_crs(layer, source)
        if source.overview_features:
            layer.setCustomProperty(OVERVIEW_PROPERTY, source.overview_features)
        report.layers.append(layer)
        extra = style_layer(layer, product).companions if style else []
        if names and source.uri in names:
            layer.setName(names[source.uri])
        for companion in [layer] + extra:
            apply_attribution(companion, attribution)
        report.layers.extend(extra)
    if not report.layers:
        return report
    report.layers.sort(key=lambda lyr: (_stacking_key(lyr), lyr.name().lower()))
    group = project.layerTreeRoot().insertGroup(0, group_name)
    for layer in report.layers:
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    # Every new group alike, its layers in view. The layer tree view follows a
    # node's expandedChanged signal; a group it saw empty stays folded in it
    # otherwise, whatever the node says (seen in the desktop demo on 3.22).
    group.setExpanded(False)
    group.setExpanded(True)
    report.group = group
    if on_bng:
        project_crs.keep_bng(project)
    update_project_variable(project)
    count = len(report.layers)
    log.info("Loaded %d %s into %s", count, "layer" if count == 1 else "layers", group_name)
    return report


def loaded_group(
    project: QgsProject, group_name: str, sources: Sequence[LayerSource]
) -> Optional[QgsLayerTreeGroup]:
    """The top group named ``group_name`` whose layers come from the same files, if any."""
    wanted = {_normal_uri(s.uri) for s in sources}
    if not wanted:
        return None
    for group in project.layerTreeRoot().findGroups():
        if group.name() != group_name:
            continue
        held = {
            _normal_uri(node.layer().source())
            for node in group.findLayers()
            if node.layer() is not None
        }
        if wanted <= held:
            return group
    return None


def _normal_uri(uri: str) -> str:
    return uri.replace("\\", "/").strip().casefold()


def _product_of(manifest: Optional[Manifest]) -> str:
    """The product id styles are chosen by (a data package: its product's)."""
    if manifest is None:
        return ""
    if manifest.source == SOURCE_PACKAGE:
        return str(manifest.product_id or "")
    return str(manifest.id or "")


_BRACKETED = re.compile(r"\s*\(([^()]*)\)")


def split_format(text: str) -> Tuple[str, str]:
    """ "ESRI® Shapefile (Contours)" -> ("Contours", "ESRI® Shapefile"): the part in
    brackets tells two downloads of one product apart, so it leads the group name,
    and the format keeps the only brackets (they never nest)."""
    inner = " ".join(m.strip() for m in _BRACKETED.findall(text or "") if m.strip())
    outer = " ".join(_BRACKETED.sub("", text or "").split())
    return inner, outer


def group_name_for(manifest: Manifest) -> str:
    """ "OS Open Rivers 2025-10 (GeoPackage)", "OS Terrain® 50 2025-07 Contours
    (ESRI® Shapefile)"; data packages: name, date, supply, format."""
    name = manifest.name or manifest.id
    kind, fmt = split_format(" ".join(p for p in (manifest.format, manifest.subformat) if p))
    if manifest.source == SOURCE_PACKAGE:
        created = str((manifest.extra or {}).get("created_on", "") or manifest.version)
        change_only = normalise_supply_type(manifest.supply_type) == SUPPLY_COU
        parts = [name, created, kind] + ([tr("change-only")] if change_only else [])
        return " ".join(p for p in parts if p) + (f" ({fmt})" if fmt else "")
    if manifest.area and manifest.area.upper() != "GB":
        fmt = f"{fmt}, {manifest.area}" if fmt else manifest.area
    head = " ".join(p for p in (name, manifest.version, kind) if p)
    return head + (f" ({fmt})" if fmt else "")


__all__ = [
    "HELPER_FOLDER",
    "LayerSource",
    "LoadReport",
    "add_layers",
    "group_name_for",
    "open_source",
    "plan_layers",
]
