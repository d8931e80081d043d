"""Our layer-building code runs without deprecation or future warnings from our modules.

QGIS 3.40/3.44 warn for ``QgsRectangle.setMinimal()`` and ``QgsField(name,
QVariant.Type)``; GDAL 3.10+ warns (FutureWarning) until a program chooses its
exception mode, and 3.13 prints "Warning 6" for a no-data value a Byte band cannot
hold. Here those warnings are errors, and what a user gets is checked: fields with
the right types, a map extent, one transparent-gapped mosaic per tile set, and
GDAL's exception mode left as other plugins had it. On 3.22 (the host) the
warnings do not exist yet; the same tests guard 3.40/3.44 in ``make test-matrix``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from qgis.core import QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QMetaType

from os_downloads.integration.compat import make_field, null_rectangle
from os_downloads.integration.postcode_placement import (
    MATCH_FIELD,
    PREFIX,
    prepare_placement,
    run_placement,
)
from os_downloads.ui.dock import zoom_to_layers

ROOT = Path(__file__).resolve().parents[2]
OUR_MODULES = r"os_downloads(\..*)?$"


@pytest.fixture
def strict_warnings():
    """DeprecationWarning and FutureWarning raised from our modules are errors."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category, module=OUR_MODULES)
        yield


def test_fields_are_built_with_the_type_this_qgis_wants(strict_warnings):
    field = make_field("matched", "Bool")
    assert field.name() == "matched"
    assert int(field.type()) == int(QMetaType.Type.Bool)
    assert int(make_field("n", "String").type()) == int(QMetaType.Type.QString)


def test_an_extent_grows_from_nothing(strict_warnings):
    extent = null_rectangle()
    assert extent.isNull()
    extent.combineExtentWith(QgsRectangle(400000, 100000, 401000, 102000))
    assert (extent.xMinimum(), extent.yMaximum()) == (400000, 102000)  # not from (0, 0)


def test_zoom_to_layers_fits_the_map(strict_warnings, qgis_canvas, qgis_new_project):
    from qgis.core import QgsCoordinateReferenceSystem, QgsProject

    layer = QgsVectorLayer("Point?crs=EPSG:27700", "points", "memory")
    layer.dataProvider().addFeatures([])
    layer.setExtent(QgsRectangle(400000, 100000, 410000, 110000))
    QgsProject.instance().addMapLayer(layer)
    qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
    zoom_to_layers(qgis_canvas, [layer])
    shown = qgis_canvas.extent()
    assert shown.contains(QgsRectangle(400000, 100000, 410000, 110000))


def test_placing_a_table_writes_typed_fields(strict_warnings, tmp_path, qgis_new_project):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    table = QgsVectorLayer("None?field=pcd:string(10)&field=n:integer", "table", "memory")
    row = QgsFeature(table.fields())
    row.setAttributes(["SO16 6YD", 3])
    table.dataProvider().addFeatures([row])
    points = QgsVectorLayer(
        "Point?crs=EPSG:27700&field=Postcode:string(8)&field=Quality:integer", "cpo", "memory"
    )
    point = QgsFeature(points.fields())
    point.setAttributes(["SO166YD", 10])
    point.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(439000, 115000)))
    points.dataProvider().addFeatures([point])

    job = prepare_placement(table, "pcd", points, output=tmp_path / "placed.gpkg")
    placed = run_placement(job)
    assert (placed.matched, placed.unmatched) == (1, 0)

    layer = QgsVectorLayer(f"{placed.path}|layername=placed", "placed", "ogr")
    assert layer.isValid()
    fields = {f.name(): f for f in layer.fields()}
    assert {"pcd", "n", MATCH_FIELD, PREFIX + "Quality"} <= set(fields)
    feature = next(layer.getFeatures())
    assert feature["n"] == 3 and feature[PREFIX + "Quality"] == 10
    assert feature[MATCH_FIELD] in (True, 1)
    assert feature.geometry().asPoint().x() == pytest.approx(439000)


# A fresh Python, so GDAL's one-time FutureWarning is still to come.
LAYER_BUILD = r"""
import json, sys, warnings
from pathlib import Path
from osgeo import gdal, ogr, osr

out = Path(sys.argv[1])
bng = osr.SpatialReference()
bng.ImportFromEPSG(27700)


def tile(path, west, data_type, palette):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 20, 20, 1, data_type)
    ds.SetGeoTransform((west, 50, 0, 110000, 0, -50))
    ds.SetProjection(bng.ExportToWkt())
    band = ds.GetRasterBand(1)
    if palette:
        table = gdal.ColorTable()
        for index in range(256):
            table.SetColorEntry(index, (index, 255 - index, 0, 255))
        band.SetColorTable(table)
    band.Fill(7)
    ds = None


for kind, data_type, palette in (("byte", gdal.GDT_Byte, True), ("float", gdal.GDT_Float32, False)):
    (out / kind).mkdir(parents=True)
    tile(out / kind / "SU00.tif", 400000, data_type, palette)
    tile(out / kind / "SU20.tif", 420000, data_type, palette)
(out / "gml").mkdir()
gml = ogr.GetDriverByName("GML").CreateDataSource(str(out / "gml" / "two.gml"))
for name in ("roads", "rivers"):
    layer = gml.CreateLayer(name, bng, ogr.wkbPoint)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (400000 110000)"))
    layer.CreateFeature(feature)
gml = None
before = [gdal.GetUseExceptions(), ogr.GetUseExceptions()]
# GDAL 3.10+ warns once per process: forget that writing the samples used it up.
gdal.__dict__.pop("hasWarnedAboutUserHasNotSpecifiedIfUsingExceptions", None)

from os_downloads.core.engine.discover import find_datasets
from os_downloads.integration.layer_sources import plan_layers

for category in (DeprecationWarning, FutureWarning):
    warnings.filterwarnings("error", category=category, module=r"(os_downloads|osgeo)(\..*)?$")
report = {"before": before}
for kind in ("byte", "float", "gml"):
    sources = plan_layers(find_datasets(out / kind), out / kind, title=kind)
    report[kind] = [source.name for source in sources]
    if kind != "gml":
        mosaic = gdal.Open(sources[0].uri)
        report[kind + "_nodata"] = mosaic.GetRasterBand(1).GetNoDataValue()
        mosaic = None
report["after"] = [gdal.GetUseExceptions(), ogr.GetUseExceptions()]
print(json.dumps(report))
"""


def test_layer_sources_build_without_gdal_warnings_and_leave_its_mode_alone(tmp_path):
    script = tmp_path / "build_layers.py"
    script.write_text(LAYER_BUILD, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CPL_LOG="/dev/null")
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Warning 6" not in run.stderr  # GDAL 3.13: no-data the band type cannot hold
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["byte"] == ["byte"] and report["float"] == ["float"]  # one mosaic each
    assert 0 <= report["byte_nodata"] <= 255 and report["byte_nodata"] != 7  # 7 is data
    assert report["float_nodata"] == -9999
    assert sorted(report["gml"]) == ["rivers", "roads"]
    assert report["after"] == report["before"]  # other plugins' GDAL mode untouched


def test_the_mosaic_nodata_fits_every_band_type():
    from os_downloads.integration.layer_sources import mosaic_nodata

    assert mosaic_nodata("Float32") == mosaic_nodata("Int16") == -9999
    assert mosaic_nodata("UInt16") == 65535 and mosaic_nodata("Int8") == -128
    assert mosaic_nodata("Byte", [5] * 200 + [0] * 50 + [3] * 6) == 249  # highest unused
    assert mosaic_nodata("Byte", [1] * 256) is None  # every value is data: alpha band
