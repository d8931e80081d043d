"""The whole path a user takes: "Download and load" -> task -> files -> layer group."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from conftest import wait_for_task, wait_until
from osgeo import gdal
from qgis.core import QgsProject, QgsRasterLayer, QgsTask, QgsVectorLayer, QgsWkbTypes
from qgis.PyQt.QtWidgets import QPushButton

BNG = "EPSG:27700"


def _group(name: str):
    group = QgsProject.instance().layerTreeRoot().findGroup(name)
    assert group is not None, [g.name() for g in QgsProject.instance().layerTreeRoot().children()]
    return group


def _layers(group) -> List:
    return [node.layer() for node in group.findLayers()]


def _assert_loaded(layers) -> None:
    for layer in layers:
        assert layer.isValid(), layer.name()
        assert layer.crs().authid() == BNG, (layer.name(), layer.crs().authid())
        if isinstance(layer, QgsVectorLayer):
            assert layer.featureCount() > 0, layer.name()
            assert next(layer.getFeatures()).hasGeometry(), layer.name()


def _run(dock, product_id: str, fmt: str, area: str = "GB"):
    task = dock.download_and_load_product(product_id, fmt, area)
    assert task is not None, dock.notice.text()
    wait_for_task(task)
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    return task, outcome


def test_geopackage_open_rivers_through_the_dock_button(dock, plugin_iface):
    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product("OpenRivers"), 20, "OpenRivers in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")
    assert tab.choose("GeoPackage", "GB")
    tasks_before = set(dock.progress._tasks)
    tab.download_button.click()
    wait_until(lambda: dock.outcomes, 60, "the download to end")
    outcome = dock.outcomes[-1]
    assert outcome.ok and not tasks_before
    assert outcome.task.final_status == QgsTask.TaskStatus.Complete

    group = _group("OS Open Rivers 2025-10 (GeoPackage)")
    layers = _layers(group)
    assert sorted(layer.name() for layer in layers) == ["hydro_node", "watercourse_link"]
    _assert_loaded(layers)
    # points above lines
    assert [layer.geometryType() for layer in layers] == [
        QgsWkbTypes.GeometryType.PointGeometry,
        QgsWkbTypes.GeometryType.LineGeometry,
    ]
    assert (outcome.folder / "oprvrs_gpkg_gb.zip").is_file()
    texts = plugin_iface.message_texts()
    assert any(t.endswith(': 2 layers in "OS Open Rivers 2025-10 (GeoPackage)".') for t in texts)
    assert not any(str(outcome.folder) in t for t in texts), texts  # behind "Open folder"
    item = plugin_iface.messageBar().items()[0]
    buttons = {b.text(): b for b in item.findChildren(QPushButton)}
    assert {"Zoom to", "Open folder"} <= set(buttons)
    canvas = plugin_iface.mapCanvas()
    canvas.setDestinationCrs(layers[0].crs())
    buttons["Zoom to"].click()
    assert canvas.extent().contains(layers[1].extent())
    assert not dock.progress.isVisible()


def test_shapefiles_boundary_line(dock):
    _task, outcome = _run(dock, "BoundaryLine", "ESRI® Shapefile")
    layers = _layers(_group("Boundary-Line™ 2025-10 (ESRI® Shapefile)"))
    assert len(layers) == len(list(outcome.folder.rglob("*.shp"))) >= 3
    assert "county_region" in {layer.name() for layer in layers}
    _assert_loaded(layers)


def test_headerless_csv_code_point_open_is_one_point_layer_with_real_names(dock):
    _task, outcome = _run(dock, "CodePointOpen", "CSV")
    layers = _layers(_group("Code-Point® Open 2026-02 (CSV)"))
    assert [layer.name() for layer in layers] == ["Code-Point® Open"]
    layer = layers[0]
    _assert_loaded(layers)
    assert layer.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
    names = layer.fields().names()
    assert "Postcode" in names and "Eastings" in names and "field_1" not in names
    pqi = layer.fields().field("Positional_quality_indicator")
    assert pqi.typeName().lower().startswith("int"), pqi.typeName()  # as the data define it
    assert isinstance(next(layer.getFeatures())["Positional_quality_indicator"], int)
    csv_rows = sum(len(p.read_text().splitlines()) for p in outcome.folder.rglob("Data/CSV/*.csv"))
    assert layer.featureCount() == csv_rows  # every postcode area file, merged
    feature = next(layer.getFeatures())
    assert feature.geometry().asPoint().x() == pytest.approx(float(feature["Eastings"]))
    # GDAL's schema check of the VRT is off: renders spun in it for ever on GDAL 3.10.
    assert gdal.GetConfigOption("GDAL_XML_VALIDATION") == "NO"


def test_nested_ascii_grid_terrain_50_is_one_mosaic(dock):
    _task, outcome = _run(dock, "Terrain50", "ASCII Grid and GML (Grid)")
    layers = _layers(_group("OS Terrain® 50 2025-07 Grid (ASCII Grid and GML)"))
    # the mosaic, and the hillshade of the same mosaic its style adds above it
    assert [layer.name() for layer in layers] == ["OS Terrain® 50 (hillshade)", "OS Terrain® 50"]
    assert all(isinstance(layer, QgsRasterLayer) for layer in layers)
    assert layers[0].source() == layers[1].source()
    _assert_loaded(layers)
    layers = layers[1:]
    tiles = list(outcome.folder.rglob("*.asc"))
    assert len(tiles) > 1
    raster = layers[0]
    assert raster.width() >= 400 and raster.height() >= 200  # several 200x200 tiles
    stats = raster.dataProvider().bandStatistics(1)
    assert stats.maximumValue > stats.minimumValue


def test_data_package_version_through_the_task(dock, stored_key):
    task = dock.download_and_load_package_version("0040156306", "latest")
    assert task is not None
    wait_for_task(task)
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    assert outcome.folder == Path(dock.outcomes[-1].prepared.result.folder)
    assert any(p.name.endswith(".zip") for p in outcome.folder.iterdir())
    group = _group(outcome.prepared.group_name)
    assert "AB Prem (Full)" in group.name() and "change-only" in group.name()
    assert _layers(group)


def test_per_tile_contours_become_one_layer_and_multi_layer_gml_splits(dock):
    _task, outcome = _run(dock, "Terrain50", "ESRI® Shapefile")
    assert len(list(outcome.folder.rglob("*_line.shp"))) > 1
    layers = _layers(_group("OS Terrain® 50 2025-07 Contours (ESRI® Shapefile)"))
    assert [layer.name() for layer in layers] == ["OS Terrain® 50: line"]
    _assert_loaded(layers)

    _task, outcome = _run(dock, "OpenRivers", "GML")
    layers = _layers(_group("OS Open Rivers 2025-10 (GML 3)"))
    assert sorted(layer.name() for layer in layers) == ["HydroNode", "WatercourseLink"]
    _assert_loaded(layers)


def test_every_format_of_every_product_loads_without_skips(dock):
    """A sweep over the replica's catalogue: each format's GB (or first) download."""
    from os_downloads.integration.client_factory import build_client, close_client

    client = build_client(with_credentials=False)
    try:
        wanted = {}
        for product in client.products():
            for d in client.product_downloads(product.id):
                key = (product.id, d.format, d.subformat)
                if key not in wanted or d.area == "GB":
                    wanted[key] = d.area
    finally:
        close_client(client)
    problems = []
    for (product_id, fmt, sub), area in sorted(wanted.items(), key=str):
        task = dock.download_and_load_product(product_id, fmt, area, sub)
        wait_for_task(task)
        outcome = dock.outcomes[-1]
        report = outcome.report
        if not outcome.ok or report is None or not report.layers or report.skipped:
            problems.append((product_id, fmt, sub, outcome.error, report and report.skipped))
            continue
        for layer in report.layers:
            if not layer.isValid() or not (layer.crs().isValid() or _is_table(layer)):
                problems.append((product_id, fmt, sub, layer.name(), layer.crs().authid()))
    assert len(wanted) > 50
    assert problems == []


def _is_table(layer) -> bool:
    return isinstance(layer, QgsVectorLayer) and not layer.isSpatial()
