"""The National Grid's 100 km squares as a temporary map layer, coloured by state.

Drawn over the user's map while they choose an area: each square labelled
with its letters and the download size in the chosen format, coloured as
available, chosen, already downloaded or not offered in this format. The
squares come from ``core.grid.bng`` (no grid file). The layer is a memory
layer kept out of the saved project's data; ``remove()`` takes it away.

Also here: turning a map rectangle, a layer's extent or selected features into
the squares they touch (in EPSG:27700, whatever the map's CRS), and the
choice remembered per product.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Set

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsPalLayerSettings,
    QgsProject,
    QgsRectangle,
    QgsRendererCategory,
    QgsSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor

from ..core.formatting import format_bytes
from ..core.grid import bng
from ..i18n import tr

AVAILABLE, CHOSEN, DOWNLOADED, NOT_OFFERED = "available", "chosen", "downloaded", "not offered"
COLOURS = {
    AVAILABLE: ("#5b8fd6", 60),
    CHOSEN: ("#e8731a", 150),
    DOWNLOADED: ("#3a9a4a", 110),
    NOT_OFFERED: ("#9a9a9a", 40),
}
LAYER_PROPERTY = "os_downloads/grid_squares"
BNG = "EPSG:27700"
SETTINGS_KEY = "os_downloads/areas/"


def state_words() -> Dict[str, str]:
    return {
        AVAILABLE: tr("available"),
        CHOSEN: tr("chosen"),
        DOWNLOADED: tr("already downloaded"),
        NOT_OFFERED: tr("not offered in this format"),
    }


class GridSquaresLayer:
    """A memory layer of squares; ``update(states, sizes)`` recolours and relabels them."""

    def __init__(self, squares: Iterable[str], project: Optional[QgsProject] = None) -> None:
        self.project = project or QgsProject.instance()
        self.names = sorted({n.upper() for n in squares if bng.is_square_name(n)})
        self.layer = QgsVectorLayer(
            f"Polygon?crs={BNG}&field=name:string(2)&field=state:string(16)&field=label:string(40)",
            tr("National Grid squares (choose an area)"),
            "memory",
        )
        self.layer.setCustomProperty(LAYER_PROPERTY, True)
        self._fids: Dict[str, int] = {}
        provider = self.layer.dataProvider()
        features = []
        for name in self.names:
            feature = QgsFeature(self.layer.fields())
            feature.setGeometry(QgsGeometry.fromWkt(bng.square(name).wkt()))
            feature.setAttributes([name, AVAILABLE, name])
            features.append(feature)
        provider.addFeatures(features)
        for feature in self.layer.getFeatures():
            self._fids[feature["name"]] = feature.id()
        self._style()
        self.project.addMapLayer(self.layer, False)
        self.project.layerTreeRoot().insertLayer(0, self.layer)

    def _style(self) -> None:
        words = state_words()
        categories = []
        for state, (colour, alpha) in COLOURS.items():
            fill = QColor(colour)
            fill.setAlpha(alpha)
            symbol = QgsFillSymbol.createSimple(
                {"color": fill.name(QColor.NameFormat.HexArgb), "outline_color": "#303030"}
            )
            symbol.setColor(fill)
            categories.append(QgsRendererCategory(state, symbol, words[state]))
        self.layer.setRenderer(QgsCategorizedSymbolRenderer("state", categories))
        settings = QgsPalLayerSettings()
        settings.fieldName = "label"
        settings.placement = QgsPalLayerSettings.Placement.OverPoint
        text = QgsTextFormat()
        text.setSize(9)
        text.setColor(QColor("#101010"))
        settings.setFormat(text)
        self.layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
        self.layer.setLabelsEnabled(True)

    def update(self, states: Dict[str, str], sizes: Dict[str, int]) -> None:
        changes = {}
        state_index = self.layer.fields().indexOf("state")
        label_index = self.layer.fields().indexOf("label")
        for name, fid in self._fids.items():
            size = sizes.get(name)
            label = f"{name}\n{format_bytes(size)}" if size else name
            changes[fid] = {state_index: states.get(name, NOT_OFFERED), label_index: label}
        self.layer.dataProvider().changeAttributeValues(changes)
        self.layer.triggerRepaint()

    def state_of(self, name: str) -> str:
        feature = self.layer.getFeature(self._fids[name])
        return str(feature["state"])

    def remove(self) -> None:
        try:
            if self.project.mapLayer(self.layer.id()) is not None:
                self.project.removeMapLayer(self.layer.id())
        except RuntimeError:  # already deleted with the project
            pass


def to_bng(rectangle: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> bng.BBox:
    """A rectangle in ``crs`` as (west, south, east, north) on the National Grid."""
    target = QgsCoordinateReferenceSystem(BNG)
    if crs.isValid() and crs != target:
        transform = QgsCoordinateTransform(crs, target, QgsProject.instance())
        rectangle = transform.transformBoundingBox(rectangle)
    return (rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum())


def squares_in_rectangle(
    rectangle: QgsRectangle, crs: QgsCoordinateReferenceSystem, among: Iterable[str]
) -> List[str]:
    return [sq.name for sq in bng.squares_in_bbox(to_bng(rectangle, crs), among=among)]


def squares_of_features(layer: QgsVectorLayer, among: Iterable[str]) -> List[str]:
    """The squares (of ``among``) the layer's selected features touch."""
    wanted = {a.upper() for a in among}
    target = QgsCoordinateReferenceSystem(BNG)
    transform = None
    if layer.crs().isValid() and layer.crs() != target:
        transform = QgsCoordinateTransform(layer.crs(), target, QgsProject.instance())
    found: Set[str] = set()
    squares = [bng.square(n) for n in sorted(wanted)]
    for feature in layer.selectedFeatures():
        geometry = QgsGeometry(feature.geometry())
        if geometry.isEmpty():
            continue
        if transform is not None:
            geometry.transform(transform)
        for sq in squares:
            if sq.name not in found and geometry.intersects(QgsGeometry.fromWkt(sq.wkt())):
                found.add(sq.name)
    return sorted(found)


def remembered_areas(product_id: str) -> List[str]:
    value = QgsSettings().value(SETTINGS_KEY + product_id, "", type=str) or ""
    return [a for a in value.split(",") if bng.is_square_name(a)]


def remember_areas(product_id: str, areas: Sequence[str]) -> None:
    QgsSettings().setValue(SETTINGS_KEY + product_id, ",".join(areas))
