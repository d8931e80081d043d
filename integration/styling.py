"""Give every layer we load a cartographic style of our own (main thread).

The styles themselves are a table (``integration/style_catalogue.py``): for
each kind of layer, the layer names and fields it needs and the classes it
draws. This module turns an entry into QGIS objects:

- vector layers: a rule-based renderer, one rule per class (values of the
  layer's own field, whichever of the pre- and post-2023 or shapefile-truncated
  names it carries), an ELSE rule for the rest, scale-dependent labels;
- vector tiles (MBTiles): a ``QgsVectorTileBasicRenderer`` with one style per
  source layer and class, from the same entries;
- Terrain 50's height grid: a hypsometric colour ramp, plus a hillshade layer
  blended over it (``companions``).

A style applies only when the layer has every field it needs; otherwise QGIS's
default stays. ``STYLE_PROPERTY`` records which style a layer got (tests and
``save_style_to_geopackage`` read it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from qgis.core import (
    QgsBilinearRasterResampler,
    QgsColorRampShader,
    QgsExpression,
    QgsFillSymbol,
    QgsHillshadeRenderer,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRuleBasedRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsVectorTileBasicLabeling,
    QgsVectorTileBasicLabelingStyle,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QColor, QPainter

from ..i18n import tr
from .log import plugin_logger
from .style_catalogue import STYLES
from .style_types import LINE, POINT, POLYGON, Label, Look, Style

log = plugin_logger("styling")

STYLE_PROPERTY = "os_downloads/style"
STACK_PROPERTY = "os_downloads/stack"  # lower draws higher in the group; see layers.py
# How many leading rows of a point layer are its overview (``layer_cache``), set by
# ``layers.add_layers`` from the planned source; and the scale from which all show.
OVERVIEW_PROPERTY = "os_downloads/overview_features"
OVERVIEW_SCALE = 1_000_000
_GEOMETRY = {
    POINT: QgsWkbTypes.GeometryType.PointGeometry,
    LINE: QgsWkbTypes.GeometryType.LineGeometry,
    POLYGON: QgsWkbTypes.GeometryType.PolygonGeometry,
}


@dataclass
class Styled:
    """What ``style_layer`` did: the style's id (or "" for QGIS's default) and any
    extra layers the style adds (Terrain 50's hillshade)."""

    style_id: str = ""
    companions: List[QgsMapLayer] = field(default_factory=list)


# --- matching ----------------------------------------------------------------------------


def find_field(names: Sequence[str], spellings: Sequence[str]) -> Optional[str]:
    """The layer's own name for the first spelling it has (case-insensitive)."""
    lowered = {name.casefold(): name for name in names}
    for spelling in spellings:
        found = lowered.get(spelling.casefold())
        if found is not None:
            return found
    return None


def _geometry_of(layer: QgsVectorLayer) -> str:
    kinds = {value: key for key, value in _GEOMETRY.items()}
    return kinds.get(layer.geometryType(), "")


def choose_style(
    styles: Sequence[Style],
    layer_name: str,
    geometry: str,
    field_names: Sequence[str],
    product: str,
) -> Optional[Tuple[Style, List[str]]]:
    """The first style fitting the layer, with the layer's names of its fields."""
    for style in styles:
        if style.geometry != geometry:
            continue
        if style.products and product and product not in style.products:
            continue
        if style.names and not any(re.search(p, layer_name, re.IGNORECASE) for p in style.names):
            continue
        found = [find_field(field_names, spellings) for spellings in style.requires]
        if all(found):
            return style, [str(name) for name in found]
    return None


# --- vector layers -----------------------------------------------------------------------


def make_symbol(geometry: str, properties: Dict[str, str]):
    maker = {POINT: QgsMarkerSymbol, LINE: QgsLineSymbol, POLYGON: QgsFillSymbol}[geometry]
    return maker.createSimple(dict(properties))


def class_filter(look: Look, field_name: str, match: str = "equals") -> str:
    """The rule's expression: the field's value is one of the class's values."""
    if look.expression:
        return look.expression.format(field=QgsExpression.quotedColumnRef(field_name))
    if not look.values:
        return "ELSE"
    column = f"lower(to_string({QgsExpression.quotedColumnRef(field_name)}))"
    quoted = [QgsExpression.quotedString(v.casefold()) for v in look.values]
    if match == "contains":
        return " OR ".join(f"strpos({column}, {q}) > 0" for q in quoted)
    if match == "prefix":
        return " OR ".join(f"left({column}, {len(v)}) = {q}" for v, q in zip(look.values, quoted))
    return f"{column} IN ({', '.join(quoted)})"


def _look_rules(style: Style, field_name: str, parent: QgsRuleBasedRenderer.Rule) -> None:
    for look in style.looks:
        symbol = make_symbol(style.geometry, look.symbol)
        expression = class_filter(look, field_name, style.match)
        rule = QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, look.label)
        if expression == "ELSE":
            rule.setIsElse(True)
        parent.appendChild(rule)


def rule_renderer(
    style: Style, field_name: str, overview_features: int = 0
) -> QgsRuleBasedRenderer:
    """One rule per look. With ``overview_features`` (a point layer's GeoPackage copy
    whose first N rows are one point per map cell, ``layer_cache``): every point
    drawn from 1:OVERVIEW_SCALE in, those N only when zoomed further out, where the
    others would land on the same pixels (a national view of 1.7 million
    postcodes then reads thousands of rows, not millions)."""
    root = QgsRuleBasedRenderer.Rule(None)
    if overview_features <= 0:
        _look_rules(style, field_name, root)
        return QgsRuleBasedRenderer(root)
    detail = QgsRuleBasedRenderer.Rule(None, 0, OVERVIEW_SCALE, "", tr("Every point"))
    overview = QgsRuleBasedRenderer.Rule(
        None,
        OVERVIEW_SCALE,
        0,
        f"{QgsExpression.quotedColumnRef('fid')} <= {int(overview_features)}",
        tr("Zoomed out: one point per map cell"),
    )
    for parent in (detail, overview):
        _look_rules(style, field_name, parent)
        root.appendChild(parent)
    return QgsRuleBasedRenderer(root)


def label_settings(label: Label, field_name: str, geometry: str) -> QgsPalLayerSettings:
    settings = QgsPalLayerSettings()
    settings.fieldName = field_name
    settings.isExpression = False
    text = QgsTextFormat()
    font = text.font()
    font.setBold(label.bold)
    text.setFont(font)
    text.setSize(label.size)
    text.setColor(QColor(label.colour))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor("#ffffff"))
    text.setBuffer(buffer)
    settings.setFormat(text)
    if geometry == LINE and label.along_lines:
        settings.placement = QgsPalLayerSettings.Placement.Line
    elif geometry == POINT:
        settings.placement = QgsPalLayerSettings.Placement.OverPoint
        settings.yOffset = -2.5
    else:
        settings.placement = QgsPalLayerSettings.Placement.Horizontal
    settings.scaleVisibility = True
    settings.minimumScale = label.max_scale  # QGIS: the most zoomed-out scale shown
    settings.maximumScale = 0
    return settings


UNIQUE_LIMIT = 80  # more distinct values than this: one colour for the rest


def unique_looks(layer: QgsVectorLayer, field_name: str, base: Look) -> Tuple[Look, ...]:
    """One class per value (sorted), a pastel colour derived from the value itself, so a
    unit keeps its colour from one download to the next; ``base`` for the others."""
    index = layer.fields().indexOf(field_name)
    values = sorted(str(v) for v in layer.uniqueValues(index, UNIQUE_LIMIT + 1) if v is not None)
    looks = []
    for value in values[:UNIQUE_LIMIT]:
        hue = sum((i + 1) * ord(c) for i, c in enumerate(value)) % 360
        colour = QColor.fromHsv(hue, 70, 235).name()
        looks.append(Look(value, (value,), dict(base.symbol, color=colour)))
    return tuple(looks) + (base,)


def apply_vector_style(layer: QgsVectorLayer, style: Style, fields: List[str]) -> None:
    if style.match == "unique" and fields:
        style = replace(
            style, looks=unique_looks(layer, fields[0], style.looks[-1]), match="equals"
        )
    overview = 0
    if style.geometry == POINT and "fid" in layer.fields().names():
        try:
            overview = int(layer.customProperty(OVERVIEW_PROPERTY, 0) or 0)
        except (TypeError, ValueError):
            overview = 0
    layer.setRenderer(rule_renderer(style, fields[0] if fields else "", overview))
    if style.label is not None:
        name = find_field(layer.fields().names(), style.label.fields)
        if name:
            layer.setLabeling(
                QgsVectorLayerSimpleLabeling(label_settings(style.label, name, style.geometry))
            )
            layer.setLabelsEnabled(True)


# --- vector tiles ------------------------------------------------------------------------


def tile_renderer(styles: Sequence[Style]) -> Tuple[QgsVectorTileBasicRenderer, int]:
    """One basic-renderer style per (source layer, class) of the styles that name
    tile layers: areas first, then lines, then points, so points draw on top."""
    entries = []
    order = {POLYGON: 0, LINE: 1, POINT: 2}
    for style in styles:
        for tile_layer in style.tile_layers:
            field_name = style.requires[0][0] if style.requires else ""
            for look in style.looks:
                entry = QgsVectorTileBasicRendererStyle(
                    f"{tile_layer}: {look.label}", tile_layer, _GEOMETRY[style.geometry]
                )
                entry.setSymbol(make_symbol(style.geometry, look.symbol))
                expression = class_filter(look, field_name, style.match) if field_name else ""
                if expression and expression != "ELSE":
                    entry.setFilterExpression(expression)
                elif expression == "ELSE":
                    others = [
                        class_filter(o, field_name, style.match) for o in style.looks if o.values
                    ]
                    if others:
                        entry.setFilterExpression(f"NOT ({' OR '.join(others)})")
                entries.append((order[style.geometry], entry))
    entries.sort(key=lambda pair: pair[0])
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles([entry for _order, entry in entries])
    return renderer, len(entries)


def tile_labeling(styles: Sequence[Style]) -> Optional[QgsVectorTileBasicLabeling]:
    entries = []
    for style in styles:
        if style.label is None:
            continue
        for tile_layer in style.tile_layers:
            entry = QgsVectorTileBasicLabelingStyle()
            entry.setStyleName(f"{tile_layer}: labels")
            entry.setLayerName(tile_layer)
            entry.setGeometryType(_GEOMETRY[style.geometry])
            entry.setLabelSettings(
                label_settings(style.label, style.label.fields[0], style.geometry)
            )
            entries.append(entry)
    if not entries:
        return None
    labeling = QgsVectorTileBasicLabeling()
    labeling.setStyles(entries)
    return labeling


# --- Terrain 50's height grid ------------------------------------------------------------

# Heights (m) and colours: sea blue, lowland greens, upland ochres and browns, summits pale.
HYPSOMETRIC: Tuple[Tuple[float, str], ...] = (
    (-5.0, "#7fb2d9"),
    (0.0, "#5e9e5a"),
    (50.0, "#8cc17a"),
    (100.0, "#bcd88f"),
    (200.0, "#e4e0a0"),
    (350.0, "#dcbf82"),
    (500.0, "#c49a66"),
    (700.0, "#a3795a"),
    (900.0, "#8f7566"),
    (1100.0, "#c9c0b8"),
    (1345.0, "#f7f5f2"),
)
HILLSHADE_SUFFIX = " (hillshade)"


def hypsometric_renderer(layer: QgsRasterLayer) -> QgsSingleBandPseudoColorRenderer:
    ramp = QgsColorRampShader(HYPSOMETRIC[0][0], HYPSOMETRIC[-1][0])
    ramp.setColorRampType(QgsColorRampShader.Type.Interpolated)
    ramp.setColorRampItemList(
        [QgsColorRampShader.ColorRampItem(h, QColor(c), f"{h:g} m") for h, c in HYPSOMETRIC]
    )
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(HYPSOMETRIC[0][0])
    renderer.setClassificationMax(HYPSOMETRIC[-1][0])
    return renderer


def hillshade_layer(layer: QgsRasterLayer) -> QgsRasterLayer:
    """A second view of the grid: light from the north-west, multiplied over the colours."""
    options = QgsRasterLayer.LayerOptions()
    options.skipCrsValidation = True
    shade = QgsRasterLayer(
        layer.source(), layer.name() + HILLSHADE_SUFFIX, layer.providerType(), options
    )
    shade.setCrs(layer.crs())
    renderer = QgsHillshadeRenderer(shade.dataProvider(), 1, 315.0, 45.0)
    renderer.setZFactor(2.0)
    renderer.setOpacity(0.45)
    shade.setRenderer(renderer)
    shade.setBlendMode(QPainter.CompositionMode.CompositionMode_Multiply)
    shade.setCustomProperty(STYLE_PROPERTY, "terrain-hillshade")
    shade.setCustomProperty(STACK_PROPERTY, -1)
    return shade


def smooth_when_zoomed_out(layer: QgsRasterLayer) -> None:
    """Averaged pixels when zoomed out (no shimmering text and lines), crisp ones close up."""
    resampler = layer.resampleFilter()
    if resampler is not None:
        resampler.setZoomedOutResampler(QgsBilinearRasterResampler())
        resampler.setMaxOversampling(2.0)


def is_height_grid(layer: QgsRasterLayer, product: str) -> bool:
    """One band of heights: Terrain 50's ASCII grids (or their mosaic)."""
    return product == "Terrain50" and layer.bandCount() == 1


# --- applying ----------------------------------------------------------------------------


def style_layer(layer: QgsMapLayer, product: str = "") -> Styled:
    """Our style for ``layer`` of ``product`` (a product or package product id), if one
    fits; else the layer keeps QGIS's default and the result's ``style_id`` is ""."""
    result = Styled()
    if isinstance(layer, QgsVectorTileLayer):
        fitting = [s for s in STYLES if s.tile_layers and (not product or _for(s, product))]
        renderer, count = tile_renderer(fitting)
        if count:
            layer.setRenderer(renderer)
            labeling = tile_labeling(fitting)
            if labeling is not None:
                layer.setLabeling(labeling)
            result.style_id = "vector-tiles"
    elif isinstance(layer, QgsRasterLayer):
        if is_height_grid(layer, product):
            layer.setRenderer(hypsometric_renderer(layer))
            result.style_id = "terrain-hypsometric"
            result.companions.append(hillshade_layer(layer))
        else:  # a pre-rendered map (colours or a colour table): keep its colours
            smooth_when_zoomed_out(layer)
            result.style_id = "raster-map"
    elif isinstance(layer, QgsVectorLayer) and layer.isSpatial():
        chosen = choose_style(
            STYLES, layer.name(), _geometry_of(layer), layer.fields().names(), product
        )
        if chosen is not None:
            style, fields = chosen
            apply_vector_style(layer, style, fields)
            result.style_id = style.id
            if style.stack:
                layer.setCustomProperty(STACK_PROPERTY, style.stack)
    if result.style_id:
        layer.setCustomProperty(STYLE_PROPERTY, result.style_id)
        log.debug("Styled %s as %s", layer.name(), result.style_id)
    return result


def _for(style: Style, product: str) -> bool:
    return not style.products or product in style.products


def save_style_to_geopackage(layer: QgsVectorLayer, name: str = "OS Downloads") -> None:
    """Write the layer's current style into its GeoPackage's ``layer_styles`` table as the
    default, so the data open styled in any QGIS. For GeoPackages we write ourselves
    (holdings, merged tiles); raises OSError when QGIS could not save it."""
    if layer.providerType() != "ogr" or ".gpkg" not in layer.source().lower():
        raise OSError(f"{layer.name()} is not a GeoPackage layer")
    description = f"Style {layer.customProperty(STYLE_PROPERTY, '') or 'default'} by OS Downloads"
    answer = layer.saveStyleToDatabase(name, description, True, "")
    error = answer if isinstance(answer, str) else (answer[-1] if answer else "")
    if error:
        raise OSError(f"QGIS could not save the style of {layer.name()}: {error}")
