"""Choosing 100 km squares on the map, several in one task, merged into one layer per type."""

from __future__ import annotations

from typing import Dict, List, Set

from conftest import wait_for_task, wait_until
from osgeo import ogr
from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY, QgsProject, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtWidgets import QPushButton

from os_downloads.core.grid import bng
from os_downloads.integration import task as tasks
from os_downloads.integration.grid_squares import AVAILABLE, CHOSEN, NOT_OFFERED

PRODUCT = "OpenGreenspace"
THREE = ["TL", "TQ", "TR"]


def _open_greenspace_gml(tab) -> None:
    wait_until(lambda: tab.select_product(PRODUCT), 20, "the product in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")
    index = tab.format_combo.findText("GML 3")
    assert index >= 0, [tab.format_combo.itemText(i) for i in range(tab.format_combo.count())]
    tab.format_combo.setCurrentIndex(index)


def _on_bng(canvas, extent) -> None:
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
    canvas.setExtent(QgsRectangle(*extent))
    canvas.refresh()


def _pixel(canvas, easting: float, northing: float) -> QPoint:
    point = canvas.getCoordinateTransform().transform(QgsPointXY(easting, northing))
    return QPoint(round(point.x()), round(point.y()))


def _mouse(tool, canvas, kind, pos: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    buttons = (
        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    )
    event = QgsMapMouseEvent(canvas, kind, pos, Qt.MouseButton.LeftButton, buttons, modifiers)
    {
        QEvent.Type.MouseButtonPress: tool.canvasPressEvent,
        QEvent.Type.MouseMove: tool.canvasMoveEvent,
        QEvent.Type.MouseButtonRelease: tool.canvasReleaseEvent,
    }[kind](event)


def _click(tool, canvas, square: str) -> None:
    pos = _pixel(canvas, *bng.square(square).centre)
    _mouse(tool, canvas, QEvent.Type.MouseButtonPress, pos)
    _mouse(tool, canvas, QEvent.Type.MouseButtonRelease, pos)


def _ids_per_tile(folders) -> Dict[str, List[str]]:
    """Greenspace site ids in each tile's GML, read with OGR (not our merge)."""
    found: Dict[str, List[str]] = {}
    for folder in folders:
        for gml in folder.rglob("*.gml"):
            source = ogr.Open(str(gml))
            layer = source.GetLayerByName("GreenspaceSite")
            found[folder.name] = [f.GetField("id") for f in layer]
            source = None
    return found


def test_three_squares_clicked_on_the_map_load_as_one_layer_per_feature_type(dock, plugin_iface):
    tab = dock.opendata_tab
    _open_greenspace_gml(tab)
    canvas = plugin_iface.mapCanvas()
    canvas.resize(600, 600)
    _on_bng(canvas, (350000, 0, 750000, 400000))
    assert tab.map_button.isEnabled()
    picker = tab.choose_on_map()
    assert canvas.mapTool() is picker.tool
    picker.clear()
    assert picker.layer.state_of("TQ") == AVAILABLE
    for square in THREE:
        _click(picker.tool, canvas, square)
    assert sorted(picker.chosen) == THREE
    assert all(picker.layer.state_of(s) == CHOSEN for s in THREE)
    assert picker.layer.state_of("SU") == AVAILABLE
    _click(picker.tool, canvas, "SU")  # and again: chosen, then not
    _click(picker.tool, canvas, "SU")
    assert sorted(picker.chosen) == THREE
    assert "TL, TQ, TR" in tab.area_combo.currentText()
    assert "3 square(s) chosen: TL, TQ, TR" in tab.pick_panel.label.text()

    before = len(dock.outcomes)
    tab.download_button.click()
    running = tasks.running_tasks()
    assert len(running) == 1
    wait_for_task(running[0], 120)
    wait_until(lambda: len(dock.outcomes) > before, 30, "the outcome")
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    results = outcome.prepared.results
    assert sorted(r.manifest.area for r in results) == THREE
    assert sum(r.downloaded_count for r in results) == 3

    group = (
        QgsProject.instance()
        .layerTreeRoot()
        .findGroup("OS Open Greenspace 2025-10 (GML 3, TL, TQ, TR)")
    )
    assert group is not None, [g.name() for g in QgsProject.instance().layerTreeRoot().children()]
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert sorted(layers) == ["Access point", "Greenspace site"]

    per_tile = _ids_per_tile(r.folder for r in results)
    everything = [i for ids in per_tile.values() for i in ids]
    across_the_edge: Set[str] = set(per_tile["TL"]) & set(per_tile["TQ"])
    assert across_the_edge, "the replica puts a site across the TL/TQ edge in both files"
    sites = layers["Greenspace site"]
    loaded = [f["id"] for f in sites.getFeatures()]
    assert sorted(loaded) == sorted(set(everything))
    assert len(loaded) < len(everything)
    assert sites.dataProvider().name() == "ogr" and ".gpkg" in sites.source()
    assert sites.crs().authid() == "EPSG:27700"

    grid_layer_id = picker.layer.layer.id()
    tab.finish_choosing()
    assert QgsProject.instance().mapLayer(grid_layer_id) is None
    assert canvas.mapTool() is not picker.tool


def test_the_current_map_view_and_a_dragged_box_choose_the_squares_they_touch(dock, plugin_iface):
    tab = dock.opendata_tab
    _open_greenspace_gml(tab)
    canvas = plugin_iface.mapCanvas()
    canvas.resize(600, 600)
    _on_bng(canvas, (540000, 190000, 560000, 210000))  # across the TQ/TL edge
    picker = tab.choose_on_map()
    picker.choose_map_view()
    assert sorted(picker.chosen) == ["TL", "TQ"]

    _on_bng(canvas, (350000, 0, 750000, 400000))
    picker.clear()
    start = _pixel(canvas, 450000, 150000)  # SU, to TQ and TL
    end = _pixel(canvas, 550000, 250000)
    _mouse(picker.tool, canvas, QEvent.Type.MouseButtonPress, start)
    _mouse(picker.tool, canvas, QEvent.Type.MouseMove, end)
    _mouse(picker.tool, canvas, QEvent.Type.MouseButtonRelease, end)
    assert sorted(picker.chosen) == ["SP", "SU", "TL", "TQ"]
    # The choice is remembered for the product.
    tab.finish_choosing()
    picker = tab.choose_on_map()
    assert sorted(picker.chosen) == ["SP", "SU", "TL", "TQ"]
    tab.finish_choosing()
    # Shapefiles come for TQ only: the other squares are drawn as not offered.
    tab.format_combo.setCurrentIndex(tab.format_combo.findText("ESRI® Shapefile"))
    picker = tab.choose_on_map()
    assert picker.chosen == ["TQ"]  # of the remembered choice, what this format offers
    picker.clear()
    assert picker.layer.state_of("TL") == NOT_OFFERED
    assert picker.layer.state_of("TQ") == AVAILABLE
    picker.toggle("TL")
    assert picker.chosen == []
    tab.finish_choosing()


def test_a_second_click_shows_the_running_download_instead_of_starting_another(dock):
    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product("OpenRivers"), 20, "OpenRivers in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")
    assert tab.choose("GeoPackage", "GB")
    tab.download_button.click()
    first = tasks.running_tasks()
    assert len(first) == 1
    assert tab.download_button.text().startswith("Running")
    tab.download_button.click()
    assert tasks.running_tasks() == first
    assert tab.start_download("OpenRivers", "GeoPackage", "GB") is first[0]
    wait_for_task(first[0], 60)
    wait_until(lambda: dock.outcomes, 30, "the outcome")
    assert len(dock.outcomes) == 1 and dock.outcomes[0].ok
    assert tab.download_button.text() == "Download and load"


def test_loading_the_same_download_again_adds_no_second_group(dock, plugin_iface):
    for _ in range(2):
        task = dock.download_and_load_product("OpenRivers", "GeoPackage", "GB")
        wait_for_task(task, 60)
    wait_until(lambda: len(dock.outcomes) == 2, 30, "both outcomes")
    root = QgsProject.instance().layerTreeRoot()
    names = [g.name() for g in root.findGroups()]
    assert names.count("OS Open Rivers 2025-10 (GeoPackage)") == 1, names
    assert dock.outcomes[1].report.already_loaded
    assert len(QgsProject.instance().mapLayers()) == 2
    texts = plugin_iface.message_texts()
    assert any("Already in the project" in t for t in texts), texts
    item = plugin_iface.messageBar().items()[0]
    buttons = {b.text(): b for b in item.findChildren(QPushButton)}
    buttons["Add again"].click()  # asked for: a second copy
    names = [g.name() for g in root.findGroups()]
    assert names.count("OS Open Rivers 2025-10 (GeoPackage)") == 2, names


def test_keep_only_my_area_cuts_a_gb_download_to_the_chosen_squares(dock, plugin_iface):
    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product("BoundaryLine"), 20, "Boundary-Line in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")
    assert tab.choose("GeoPackage", "GB")
    assert tab.map_button.isEnabled() and not tab.keep_only_check.isVisible()
    canvas = plugin_iface.mapCanvas()
    _on_bng(canvas, (350000, 0, 750000, 400000))
    picker = tab.choose_on_map()
    picker.clear()
    _click(picker.tool, canvas, "TQ")
    assert picker.chosen == ["TQ"]
    assert tab.keep_only_check.isVisible() and tab.keep_only_check.isChecked()
    assert tab.area_combo.currentData() == "GB"
    tab.finish_choosing()
    tab.download_button.click()
    wait_until(lambda: dock.outcomes, 60, "the download")
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    group = (
        QgsProject.instance()
        .layerTreeRoot()
        .findGroup("Boundary-Line™ 2025-10 (GeoPackage, only TQ)")
    )
    assert group is not None, [g.name() for g in QgsProject.instance().layerTreeRoot().children()]
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert "District borough unitary" in layers
    tq = QgsRectangle(*bng.square("TQ").bbox)
    (extracted,) = (outcome.folder / "extracted").rglob("*.gpkg")
    full = ogr.Open(str(extracted))
    kept = everything = 0
    for name, layer in layers.items():
        assert ".gpkg" in layer.source() and "clipped" in layer.source()
        if layer.featureCount():
            assert tq.contains(layer.extent()), (name, layer.extent().toString())
        kept += layer.featureCount()
        everything += full.GetLayerByName(name.lower().replace(" ", "_")).GetFeatureCount()
    full = None
    assert 0 < kept < everything  # Hampshire (SU) left out
    assert (outcome.folder / "bdline_gpkg_gb.zip").is_file()  # the full download stays
