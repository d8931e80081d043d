"""The tabs' services and the one CSV layer path, as a user meets them."""

from __future__ import annotations

from pathlib import Path

from conftest import wait_until
from qgis.core import QgsVectorLayer

from os_downloads.core.engine.discover import CsvOptions


def test_a_bad_api_url_is_one_line_in_the_dock_not_a_traceback(dock):
    from os_downloads.integration import settings

    wait_until(lambda: dock.opendata_tab.products, 20, "the product list")
    values = settings.load()
    values.api_url = "ftp://downloads.example/v1"
    settings.save(values)
    tab = dock.opendata_tab
    tab.load_products()  # the client is built by the service: its error comes back the same way
    assert "is not an http(s) URL" in dock.notice.text()
    assert "Listing products failed" in tab.status_label.text()
    assert tab.reload_button.isEnabled()


def test_packages_without_a_key_show_the_key_prompt(dock):
    from os_downloads.ui.packages_tab import NO_KEY_PAGE

    errors = []
    assert not dock.packages_tab.service.has_key()
    dock.packages_tab.service.list_packages(lambda found: None, errors.append)
    assert errors and "API key" in str(errors[0])  # at once: no client, no request
    dock.packages_tab.refresh()
    assert dock.packages_tab.stack.currentIndex() == NO_KEY_PAGE


def test_a_windows_1252_csv_with_a_header_opens_with_its_accents_and_points(tmp_path: Path):
    from os_downloads.integration.csv_layers import CsvFile, delimited_text_uri

    path = tmp_path / "sites.csv"
    path.write_bytes("name,easting,northing\nCafé Noël,437000,115000\n".encode("cp1252"))
    options = CsvOptions(
        field_names=("name", "easting", "northing"),
        x_field="easting",
        y_field="northing",
        encoding="cp1252",
    )
    layer = QgsVectorLayer(delimited_text_uri(CsvFile(path, options)), "sites", "delimitedtext")
    assert layer.isValid()
    (feature,) = list(layer.getFeatures())
    assert feature["name"] == "Café Noël"
    point = feature.geometry().asPoint()
    assert (point.x(), point.y()) == (437000, 115000)
    assert layer.crs().authid() == "EPSG:27700"


def test_a_headerless_csv_gets_its_real_column_names_through_the_vrt(tmp_path: Path):
    from os_downloads.integration.csv_layers import CsvFile, csv_vrt_xml, write_vrt
    from os_downloads.integration.layer_sources import LayerSource
    from os_downloads.integration.layers import open_source

    path = tmp_path / "epraccur.csv"
    path.write_text('"A81001","THE DENSHAM SURGERY","TS18 1HU"\n', encoding="utf-8")
    options = CsvOptions(has_header=False, field_names=("code", "name", "postcode"))
    vrt = write_vrt(tmp_path / "qgis", "epraccur", csv_vrt_xml([CsvFile(path, options)]))
    assert write_vrt(tmp_path / "qgis", "epraccur", vrt.read_text("utf-8")) == vrt
    layer = open_source(LayerSource("epraccur", str(vrt), "ogr", "table"))
    assert layer.isValid()
    assert [f.name() for f in layer.fields()] == ["code", "name", "postcode"]
    assert next(layer.getFeatures())["postcode"] == "TS18 1HU"
