"""Big layers load from fast copies made in the task (issue 17, part 3).

Code-Point Open's headerless CSVs come through the dock's real "Download and
load" path from the replica and must load from a GeoPackage with a spatial
index, with the VRT's field names and types, recorded in the manifest and not
made again on a second load; large GeoPackages get a missing R-tree made and
large rasters get overviews.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import wait_for_task
from osgeo import gdal, ogr, osr
from qgis.core import QgsFeatureSource, QgsVectorLayer

from os_downloads.core.engine.manifest import MANIFEST_NAME
from os_downloads.integration import layer_cache
from os_downloads.integration.layer_cache import (
    LoadPreparation,
    ensure_overviews,
    ensure_spatial_index,
)
from os_downloads.integration.styling import OVERVIEW_PROPERTY, OVERVIEW_SCALE, STYLE_PROPERTY


def _load(dock, product_id: str, fmt: str):
    task = dock.download_and_load_product(product_id, fmt, "GB", None)
    assert task is not None, dock.notice.text()
    wait_for_task(task, 120)
    outcome = dock.outcomes[-1]
    assert outcome.ok and outcome.report is not None, outcome.error
    return outcome


def test_code_point_csv_loads_from_an_indexed_geopackage_with_the_vrts_fields(dock):
    outcome = _load(dock, "CodePointOpen", "CSV")
    (layer,) = outcome.report.layers
    source = layer.source()
    assert ".gpkg" in source and "layername=code_point_open" in source, source
    assert layer.hasSpatialIndex() == QgsFeatureSource.SpatialIndexPresence.SpatialIndexPresent
    vrt = next((outcome.folder / "qgis").glob("*.vrt"))
    through_vrt = QgsVectorLayer(str(vrt), "vrt", "ogr")
    assert through_vrt.isValid()
    assert layer.featureCount() == through_vrt.featureCount() > 100
    assert layer.fields().names()[1:] == through_vrt.fields().names()  # fid first
    kinds = {f.name(): f.typeName().lower() for f in layer.fields()}
    assert kinds["Positional_quality_indicator"].startswith("int")
    assert kinds["Postcode"] in ("string", "text", "varchar")
    postcodes = sorted(f["Postcode"] for f in layer.getFeatures())
    assert postcodes == sorted(f["Postcode"] for f in through_vrt.getFeatures())

    manifest = json.loads((outcome.folder / MANIFEST_NAME).read_text("utf-8"))
    made = manifest["extra"][layer_cache.MANIFEST_KEY]
    (entry,) = [v for k, v in made.items() if k.endswith(".gpkg")]
    assert entry["kind"] == "csv-geopackage" and entry["features"] == layer.featureCount()
    assert len(entry["sources"]) > 1  # the postcode-area CSVs
    gpkg = Path(source.split("|")[0])
    before = gpkg.stat().st_mtime_ns

    again = _load(dock, "CodePointOpen", "CSV")
    assert again.report.layers[0].source() == source
    assert gpkg.stat().st_mtime_ns == before  # reused, not made again
    assert not list(gpkg.parent.glob("*.partial*"))


def _points_without_index(path: Path, count: int) -> None:
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(path))
    bng = osr.SpatialReference()
    bng.ImportFromEPSG(27700)
    layer = source.CreateLayer("points", bng, ogr.wkbPoint, ["SPATIAL_INDEX=NO"])
    layer.StartTransaction()
    for index in range(count):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({index} {index})"))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None


def _has_index(path: Path) -> bool:
    source = ogr.Open(str(path))
    result = source.ExecuteSQL("SELECT HasSpatialIndex('points', 'geom')")
    value = result.GetNextFeature().GetField(0)
    source.ReleaseResultSet(result)
    return bool(value)


def test_a_large_geopackage_without_a_spatial_index_gets_one(tmp_path, monkeypatch):
    gpkg = tmp_path / "big.gpkg"
    _points_without_index(gpkg, 500)
    assert not _has_index(gpkg)
    prep = LoadPreparation()
    assert ensure_spatial_index(gpkg, prep, tmp_path) == []  # small: left alone
    monkeypatch.setattr(layer_cache, "LARGE_GEOPACKAGE_BYTES", 1)
    assert ensure_spatial_index(gpkg, prep, tmp_path) == ["points"]
    assert _has_index(gpkg)
    assert prep.made["big.gpkg"] == {"kind": "spatial-index", "layers": ["points"]}
    assert ensure_spatial_index(gpkg, LoadPreparation(), tmp_path) == []  # there now


def test_a_large_raster_gets_overviews_once_and_only_when_asked(tmp_path):
    tif = tmp_path / "map.tif"
    image = gdal.GetDriverByName("GTiff").Create(str(tif), 2048, 1024, 1, gdal.GDT_Byte)
    image.GetRasterBand(1).Fill(7)
    image = None
    assert not ensure_overviews(tif, LoadPreparation(build_overviews=False), tmp_path)
    assert not (tmp_path / "map.tif.ovr").exists()
    prep = LoadPreparation()
    assert ensure_overviews(tif, prep, tmp_path)
    assert (tmp_path / "map.tif.ovr").exists()  # beside it: the download is untouched
    assert gdal.Open(str(tif)).GetRasterBand(1).GetOverviewCount() == 3  # 2, 4, 8
    assert prep.made["map.tif"]["levels"] == [2, 4, 8]
    assert not ensure_overviews(tif, LoadPreparation(), tmp_path)  # has them now


def test_a_large_point_copy_puts_one_point_per_km_first_and_draws_only_those_zoomed_out(
    dock, monkeypatch
):
    monkeypatch.setattr(layer_cache, "OVERVIEW_MIN_FEATURES", 10)  # the sample is small
    outcome = _load(dock, "CodePointOpen", "CSV")
    (layer,) = outcome.report.layers
    overview = int(layer.customProperty(OVERVIEW_PROPERTY, 0))
    cells = {}
    for feature in layer.getFeatures():
        point = feature.geometry().asPoint()
        cells.setdefault((int(point.x() // 1000), int(point.y() // 1000)), []).append(feature.id())
    assert 0 < overview == len(cells) < layer.featureCount()
    firsts = sorted(min(fids) for fids in cells.values())
    assert firsts == list(range(1, overview + 1))  # one per cell, and they come first

    assert layer.customProperty(STYLE_PROPERTY) == "code-point-open"
    detail, zoomed_out = layer.renderer().rootRule().children()
    assert (detail.maximumScale(), detail.minimumScale()) == (0, OVERVIEW_SCALE)
    assert (zoomed_out.maximumScale(), zoomed_out.minimumScale()) == (OVERVIEW_SCALE, 0)
    assert zoomed_out.filterExpression() == f'"fid" <= {overview}'
    looks = [rule.label() for rule in detail.children()]
    assert looks and looks == [rule.label() for rule in zoomed_out.children()]
    assert "Within a building of the postcode (10)" in looks


def test_a_cancelled_job_makes_no_copy_and_the_next_load_makes_it(replica, tmp_path):
    import threading
    import zipfile

    from os_downloads.core.engine.discover import find_datasets
    from os_downloads.core.errors import Cancelled
    from os_downloads.integration.layer_sources import plan_layers

    archive = replica.data_dir / "files" / "CodePointOpen" / "codepo_gb.zip"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(tmp_path / "extracted")
    datasets = find_datasets(tmp_path / "extracted")
    stop = threading.Event()
    stop.set()
    try:
        plan_layers(datasets, tmp_path, title="Code-Point Open", prep=LoadPreparation(cancel=stop))
    except Cancelled:
        pass
    else:
        raise AssertionError("planning went on after the cancel")
    assert not list(tmp_path.rglob("*.gpkg"))
    (source,) = plan_layers(datasets, tmp_path, title="Code-Point Open")
    assert source.uri.endswith("|layername=code_point_open")
    assert [p.name for p in (tmp_path / "qgis").glob("*.gpkg")] == ["Code-Point_Open.gpkg"]
