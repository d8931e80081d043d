""" "Choose on map": pick 100 km squares by clicking, dragging a box, the map view,
a layer's extent or a layer's selected features.

``AreaPicker`` keeps the choice and the grid layer (``integration.grid_squares``)
in step; ``SquarePickTool`` is the map tool: a click toggles the square under
the mouse, a drag adds every square the box touches (with Shift held, removes
them). Only squares offered in the chosen format can be chosen.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence

from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY, QgsRectangle, QgsWkbTypes
from qgis.gui import QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from ..core.grid import bng
from ..integration import grid_squares as grid
from ..integration.grid_squares import AVAILABLE, CHOSEN, DOWNLOADED, NOT_OFFERED

DRAG_PIXELS = 4  # a press and release closer than this is a click


class AreaPicker(QObject):
    """The squares chosen for one product and format."""

    changed = pyqtSignal(list)  # the chosen squares, sorted

    def __init__(
        self,
        canvas,
        product_id: str,
        offered: Dict[str, int],
        listed: Iterable[str] = (),
        downloaded: Iterable[str] = (),
        parent: Optional[QObject] = None,
    ) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.product_id = product_id
        self.offered = {k.upper(): v for k, v in offered.items() if bng.is_square_name(k)}
        self.downloaded = {a.upper() for a in downloaded}
        self.chosen: List[str] = [a for a in grid.remembered_areas(product_id) if a in self.offered]
        names = set(self.offered) | {a.upper() for a in listed if bng.is_square_name(a)}
        self.layer = grid.GridSquaresLayer(names)
        self.tool = SquarePickTool(canvas, self)
        self._previous_tool = canvas.mapTool()
        self._redraw()

    # --- choosing ---------------------------------------------------------------------

    def toggle(self, name: str) -> None:
        name = name.upper()
        if name not in self.offered:
            return
        if name in self.chosen:
            self.chosen.remove(name)
        else:
            self.chosen.append(name)
        self._changed()

    def choose(self, names: Iterable[str], *, add: bool = True, replace: bool = False) -> None:
        wanted = [n.upper() for n in names if n.upper() in self.offered]
        if replace:
            self.chosen = []
        for name in wanted:
            if add and name not in self.chosen:
                self.chosen.append(name)
            elif not add and name in self.chosen:
                self.chosen.remove(name)
        self._changed()

    def choose_rectangle(
        self, rectangle: QgsRectangle, crs: QgsCoordinateReferenceSystem, *, add: bool = True
    ) -> None:
        self.choose(grid.squares_in_rectangle(rectangle, crs, self.offered), add=add)

    def choose_map_view(self) -> None:
        """Exactly the offered squares the map currently shows."""
        crs = self.canvas.mapSettings().destinationCrs()
        self.choose(
            grid.squares_in_rectangle(self.canvas.extent(), crs, self.offered), replace=True
        )

    def choose_layer_extent(self, layer) -> None:
        self.choose(
            grid.squares_in_rectangle(layer.extent(), layer.crs(), self.offered), replace=True
        )

    def choose_selected_features(self, layer) -> None:
        self.choose(grid.squares_of_features(layer, self.offered), replace=True)

    def clear(self) -> None:
        self.choose([], replace=True)

    @property
    def chosen_size(self) -> int:
        return sum(self.offered.get(n, 0) for n in self.chosen)

    def state_of(self, name: str) -> str:
        name = name.upper()
        if name in self.chosen:
            return CHOSEN
        if name not in self.offered:
            return NOT_OFFERED
        return DOWNLOADED if name in self.downloaded else AVAILABLE

    # --- the map ----------------------------------------------------------------------

    def activate(self) -> None:
        self._previous_tool = self.canvas.mapTool()
        self.canvas.setMapTool(self.tool)

    def finish(self) -> None:
        """Stop picking: the tool goes, the grid layer goes, the choice is remembered."""
        grid.remember_areas(self.product_id, sorted(self.chosen))
        if self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)
            if self._previous_tool is not None and self._previous_tool is not self.tool:
                self.canvas.setMapTool(self._previous_tool)
        self.tool.clear_band()
        self.layer.remove()
        self.canvas.refresh()

    def _changed(self) -> None:
        self._redraw()
        grid.remember_areas(self.product_id, sorted(self.chosen))
        self.changed.emit(sorted(self.chosen))

    def _redraw(self) -> None:
        self.layer.update({n: self.state_of(n) for n in self.layer.names}, self.offered)


class SquarePickTool(QgsMapTool):
    """Click: toggle a square. Drag: add the squares the box touches (Shift: remove)."""

    def __init__(self, canvas, picker: AreaPicker) -> None:
        super().__init__(canvas)
        self.picker = picker
        self._start = None
        self._start_map: Optional[QgsPointXY] = None
        self._band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
        colour = QColor(232, 115, 26, 60)
        self._band.setFillColor(colour)
        self._band.setStrokeColor(QColor(232, 115, 26))
        self._band.setWidth(2)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def canvasPressEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._start = event.pos()
        self._start_map = self.toMapCoordinates(event.pos())

    def canvasMoveEvent(self, event) -> None:  # noqa: N802
        if self._start is None or not self._dragged(event.pos()):
            return
        end = self.toMapCoordinates(event.pos())
        self._band.setToGeometry(_rectangle_geometry(self._start_map, end), None)

    def canvasReleaseEvent(self, event) -> None:  # noqa: N802
        if self._start is None or event.button() != Qt.MouseButton.LeftButton:
            return
        end = self.toMapCoordinates(event.pos())
        crs = self.canvas().mapSettings().destinationCrs()
        if self._dragged(event.pos()):
            rectangle = QgsRectangle(self._start_map, end)
            remove = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.picker.choose_rectangle(rectangle, crs, add=not remove)
        else:
            box = grid.to_bng(QgsRectangle(end, end), crs)
            square = bng.square_at(box[0], box[1])
            if square is not None:
                self.picker.toggle(square.name)
        self._start = None
        self.clear_band()

    def deactivate(self) -> None:
        self.clear_band()
        super().deactivate()

    def clear_band(self) -> None:
        self._band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)

    def _dragged(self, pos) -> bool:
        return (pos - self._start).manhattanLength() >= DRAG_PIXELS


def _rectangle_geometry(a: QgsPointXY, b: QgsPointXY):
    from qgis.core import QgsGeometry

    return QgsGeometry.fromRect(QgsRectangle(a, b))


def offered_sizes(downloads: Sequence, format: str, subformat: Optional[str]) -> Dict[str, int]:
    """Square -> bytes of its files in the format (GB and other areas left out)."""
    sizes: Dict[str, int] = {}
    for d in downloads:
        if (d.format, d.subformat) == (format, subformat) and bng.is_square_name(d.area):
            sizes[d.area.upper()] = sizes.get(d.area.upper(), 0) + (d.size or 0)
    return sizes
