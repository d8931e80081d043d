"""My downloads: what is on disk, loaded again without the network, verified, deleted."""

from __future__ import annotations

from pathlib import Path

from conftest import wait_for_task, wait_until
from qgis.core import QgsProject

from os_downloads.core.local.inventory import STATE_DAMAGED, STATE_UNCHECKED
from os_downloads.integration import settings
from os_downloads.replica.server.replica_server import ReplicaServer


def test_with_the_replica_stopped_my_downloads_loads_an_earlier_download(
    dock, replica_data_dir, plugin_settings
):
    with ReplicaServer(replica_data_dir) as own:
        values = settings.load()
        values.api_url = own.api_url
        settings.save(values)
        task = dock.download_and_load_product("OpenRivers", "GeoPackage", "GB")
        wait_for_task(task, 60)
        wait_until(lambda: dock.outcomes, 30, "the outcome")
        assert dock.outcomes[-1].ok, dock.outcomes[-1].error
        folder = dock.outcomes[-1].folder
    # The API is gone now; take the layers out of the project.
    QgsProject.instance().clear()

    tab = dock.my_downloads_tab
    dock.tabs.setCurrentWidget(tab)  # lists, and would check for updates in the background
    wait_until(lambda: tab.tree.topLevelItemCount() == 1, 20, "the download listed")
    row = tab.tree.topLevelItem(0)
    assert row.text(0) == "OS Open Rivers"
    assert [row.text(c) for c in (2, 3, 4, 7)] == ["2025-10", "GeoPackage", "GB", "yes"]
    assert tab.select(folder)

    reports = []
    tab.loaded.connect(reports.append)
    tab.load_selected()
    wait_until(lambda: reports, 20, "the layers loaded")
    group = QgsProject.instance().layerTreeRoot().findGroup("OS Open Rivers 2025-10 (GeoPackage)")
    assert group is not None
    names = sorted(node.layer().name() for node in group.findLayers())
    assert names == ["hydro_node", "watercourse_link"]
    assert all(node.layer().isValid() for node in group.findLayers())

    tab.load_selected()  # again: no second group
    wait_until(lambda: len(reports) == 2, 20, "the second load")
    assert reports[1].already_loaded
    groups = [g.name() for g in QgsProject.instance().layerTreeRoot().findGroups()]
    assert groups.count("OS Open Rivers 2025-10 (GeoPackage)") == 1

    # A file changed on disk (same size): found by "Verify again", which re-hashes.
    archive = folder / "oprvrs_gpkg_gb.zip"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert tab.selected().state == STATE_UNCHECKED
    tab.verify_selected()
    wait_until(lambda: tab.selected() and tab.selected().state == STATE_DAMAGED, 20, "verify")
    assert "modified" in tab.tree.currentItem().text(1)
    assert "oprvrs_gpkg_gb.zip" in tab.tree.currentItem().toolTip(1)

    QgsProject.instance().clear()
    assert tab.delete_selected(confirm=False)
    assert not folder.exists()
    assert tab.tree.topLevelItemCount() == 0


def test_my_downloads_lists_holdings_and_loads_one(dock, replica, plugin_settings, tmp_path):
    from qgis.core import QgsSettings

    from os_downloads.core.api.auth import ApiKeyAuth
    from os_downloads.core.api.client import OSDownloadsClient
    from os_downloads.core.holdings.update import update_holding
    from os_downloads.integration.holdings import SETTINGS_KEY, remember_path

    inside = Path(plugin_settings.download_folder) / "holdings" / "topo.gpkg"
    inside.parent.mkdir(parents=True)
    remembered = tmp_path / "elsewhere" / "abp.gpkg"
    remembered.parent.mkdir()
    with OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key)) as client:
        update_holding(client, "0040163512", inside, to_version="6401101")
        update_holding(client, "0040163520", remembered, to_version="6402201")
    remember_path("0040163520", str(remembered))
    try:
        tab = dock.my_downloads_tab
        dock.tabs.setCurrentWidget(tab)

        def holding_rows():
            rows = [tab.tree.topLevelItem(i) for i in range(tab.tree.topLevelItemCount())]
            return [r for r in rows if r.text(3) == "holding"]

        wait_until(lambda: len(holding_rows()) == 2, 30, "both holdings listed")
        rows = holding_rows()
        assert sorted(r.text(2) for r in rows) == ["6401101", "6402201"]
        assert {r.text(1) for r in rows} == {"not checked for updates"}

        assert tab.select(inside.resolve())
        assert tab.load_button.isEnabled() and tab.update_button.isEnabled()
        assert not tab.delete_button.isEnabled() and "holding" in tab.delete_button.toolTip()
        reports = []
        tab.loaded.connect(reports.append)
        tab.load_selected()
        wait_until(lambda: reports, 20, "the holding's layers loaded")
        group = QgsProject.instance().layerTreeRoot().findGroup(reports[0].group_name)
        assert group is not None and "topo.gpkg" in group.name()
        layers = [node.layer() for node in group.findLayers()]
        assert layers and all(layer.isValid() for layer in layers)
        assert any(layer.featureCount() > 0 for layer in layers)
    finally:
        QgsSettings().remove(SETTINGS_KEY.format(package="0040163520"))
