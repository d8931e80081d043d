"""The "OS Downloads" root in the QGIS Browser: products, formats, areas; local downloads."""

from __future__ import annotations

from conftest import wait_for_task, wait_until
from qgis.core import QgsApplication, QgsErrorItem, QgsLayerItem, QgsProject

from os_downloads.integration.browser import OSDownloadsDataItemProvider, children_of


def _named(items, name):
    found = [i for i in items if i.name() == name]
    assert found, [i.name() for i in items]
    return found[0]


def test_the_browser_lists_products_and_local_downloads_and_a_dataset_adds_a_layer(dock):
    task = dock.download_and_load_product("OpenRivers", "GeoPackage", "GB")
    wait_for_task(task, 60)
    wait_until(lambda: dock.outcomes, 30, "the download")
    QgsProject.instance().clear()

    started = []
    provider = OSDownloadsDataItemProvider(lambda *args: started.append(args))
    root = provider.createDataItem("", None)
    assert root.name() == "OS Downloads"
    products, packages, local = children_of(root)
    assert [products.name(), packages.name(), local.name()] == [
        "OpenData products",
        "My data packages",
        "My downloads",
    ]
    rivers = _named(children_of(products), "OS Open Rivers")
    geopackage = _named(children_of(rivers), "GeoPackage")
    (gb,) = children_of(geopackage)
    assert gb.name().startswith("GB")
    assert [a.text() for a in gb.actions(None)] == ["Download and load"]
    gb.handleDoubleClick()
    assert started == [("OpenRivers", "GeoPackage", "GB", None)]
    assert isinstance(children_of(packages)[0], QgsErrorItem)  # no key stored

    (download,) = children_of(local)
    assert download.name() == "OS Open Rivers · 2025-10 · GeoPackage · GB"
    menu = {a.text(): a for a in download.actions(None)}
    assert set(menu) == {"Open folder", "Update (download the newest version)"}
    menu["Update (download the newest version)"].trigger()
    assert started[-1] == ("OpenRivers", "GeoPackage", "GB", None)
    datasets = children_of(download)
    assert sorted(d.name() for d in datasets) == ["hydro_node", "watercourse_link"]
    links = _named(datasets, "watercourse_link")
    assert isinstance(links, QgsLayerItem)
    assert links.uri().endswith("|layername=watercourse_link") and links.providerKey() == "ogr"
    assert links.mimeUris()[0].uri == links.uri()  # what a drag onto the map carries
    assert links.handleDoubleClick()
    layers = QgsProject.instance().mapLayersByName("watercourse_link")
    assert len(layers) == 1 and layers[0].isValid() and layers[0].featureCount() > 0


def test_the_plugin_registers_and_removes_its_browser_root(qgis_iface):
    from os_downloads.plugin import OSDownloadsPlugin

    registry = QgsApplication.dataItemProviderRegistry()
    plugin = OSDownloadsPlugin(qgis_iface)
    plugin._register_browser_provider()
    assert registry.provider("OS Downloads") is not None
    QgsApplication.dataItemProviderRegistry().removeProvider(plugin.browser_provider)
    plugin.browser_provider = None
    assert registry.provider("OS Downloads") is None


def test_a_product_dragged_from_the_dock_onto_the_map_is_downloaded_and_loaded(dock):
    from qgis.core import QgsMimeDataUtils

    from os_downloads.integration.product_drop import ProductDropHandler

    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product("OpenRivers"), 20, "OpenRivers in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")
    assert tab.choose("GeoPackage", "GB")
    index = tab.list_view.currentIndex()
    data = tab.proxy.mimeData([tab.proxy.index(index.row(), 0)])
    (uri,) = QgsMimeDataUtils.decodeUriList(data)
    assert (uri.layerType, uri.providerKey, uri.name) == (
        "custom",
        "os_downloads",
        "OS Open Rivers",
    )

    handler = ProductDropHandler(dock.download_and_load_product)
    assert handler.customUriProviderKey() == uri.providerKey
    handler.handleCustomUriDrop(uri)  # what QGIS calls for the drop on the map
    wait_until(lambda: dock.outcomes, 60, "the download")
    assert dock.outcomes[-1].ok
    group = QgsProject.instance().layerTreeRoot().findGroup("OS Open Rivers 2025-10 (GeoPackage)")
    assert group is not None and len(group.findLayers()) == 2
