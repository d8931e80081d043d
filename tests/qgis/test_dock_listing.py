"""The OpenData tab against the replica: list, filter, details, pickers."""

from __future__ import annotations

from conftest import wait_until


def _wait_products(dock) -> None:
    wait_until(lambda: dock.opendata_tab.products, 20, "the product list")


def test_lists_products_and_filters_by_name_id_and_category(dock):
    tab = dock.opendata_tab
    _wait_products(dock)
    assert len(tab.visible_product_ids()) == len(tab.products) >= 20
    assert "OpenRivers" in tab.visible_product_ids()

    tab.filter_edit.setText("rivers")
    assert tab.visible_product_ids() == ["OpenRivers"]
    tab.filter_edit.setText("codepointopen")  # by id, any case
    assert tab.visible_product_ids() == ["CodePointOpen"]
    tab.filter_edit.setText("heights")  # by category
    assert "Terrain50" in tab.visible_product_ids()
    tab.filter_edit.setText("no such thing")
    assert tab.visible_product_ids() == []
    tab.filter_edit.clear()
    assert len(tab.visible_product_ids()) == len(tab.products)


def test_selecting_a_product_shows_details_and_real_formats_with_sizes(dock):
    tab = dock.opendata_tab
    _wait_products(dock)
    assert tab.select_product("OpenRivers")
    wait_until(lambda: tab.format_combo.count() > 0, 20, "the formats")
    text = tab.details.toPlainText()
    assert "OS Open Rivers" in text and "2025-10" in text
    formats = [tab.format_combo.itemText(i) for i in range(tab.format_combo.count())]
    assert "GeoPackage" in formats and "ESRI® Shapefile" in formats
    assert tab.format_combo.currentText() == "GeoPackage"  # offered first when there is one
    assert tab.choose("GeoPackage", "GB")
    assert tab.area_combo.currentText().startswith("GB — ")  # with its size
    assert "oprvrs_gpkg_gb.zip" in tab.files_label.text()
    assert tab.download_button.isEnabled()
    wait_until(lambda: tab.thumbnail is not None, 20, "the thumbnail")
    assert "<img" in tab.details.toHtml()


def test_tiled_product_offers_areas(dock):
    tab = dock.opendata_tab
    _wait_products(dock)
    assert tab.select_product("OpenGreenspace")
    wait_until(lambda: tab.format_combo.count(), 20, "the formats")
    tab.format_combo.setCurrentIndex(tab.format_combo.findText("GML 3"))
    areas = [tab.area_combo.itemData(i) for i in range(tab.area_combo.count())]
    assert areas[0] == "GB" and "TQ" in areas  # Great Britain first, then the tiles
