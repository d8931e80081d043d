"""The dock with the API's real shapes: a bare .mbtiles, partner details, supplyType spellings."""

from __future__ import annotations

from conftest import wait_for_task, wait_until
from qgis.core import QgsProject, QgsVectorTileLayer


def test_zoomstack_vector_tiles_a_bare_mbtiles_load_as_a_vector_tile_layer(dock):
    task = dock.download_and_load_product("OpenZoomstack", "Vector Tiles", "GB", "(MBTiles)")
    assert task is not None, dock.notice.text()
    wait_for_task(task)
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    assert (outcome.folder / "OS_Open_Zoomstack.mbtiles").is_file()
    layers = [layer for layer in outcome.report.layers]
    assert len(layers) == 1 and isinstance(layers[0], QgsVectorTileLayer)
    assert layers[0].isValid() and "type=mbtiles" in layers[0].source()
    assert "OS_Open_Zoomstack.mbtiles" in layers[0].source()
    assert QgsProject.instance().mapLayer(layers[0].id()) is not None


def test_partner_details_show_provider_support_and_links(dock):
    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product("GeoCoast_Open"), 20, "GeoCoast in the list")
    wait_until(lambda: "enquiries@bgs.ac.uk" in tab.details.toPlainText(), 20, "the details")
    text, markup = tab.details.toPlainText(), tab.details.toHtml()
    assert "British Geological Survey (BGS)" in text
    assert "https://www.bgs.ac.uk/" in markup and "mailto:enquiries@bgs.ac.uk" in markup
    assert "User Guide" in text


def test_production_supply_type_spellings_get_the_same_labels(dock, stored_key):
    tab = dock.packages_tab
    tab.refresh()
    wait_until(lambda: tab.packages_tree.topLevelItemCount() == 6, 20, "the packages")
    row = next(
        tab.packages_tree.topLevelItem(i)
        for i in range(6)
        if tab.packages_tree.topLevelItem(i).text(0) == "AB Prem (Full)"
    )
    tab.packages_tree.setCurrentItem(row)  # its versions say "Full" / "Change Only Update"
    wait_until(lambda: tab.versions_tree.topLevelItemCount() == 3, 20, "the versions")
    labels = [tab.versions_tree.topLevelItem(i).text(1) for i in range(3)]
    assert labels == ["Change-only (COU)", "Change-only (COU)", "Full"]
    wait_until(lambda: tab.files_tree.topLevelItemCount() >= 1, 20, "the latest version's files")
    assert "change-only" in tab.status_label.text()
