"""My downloads: what is on disk, loaded again without the network, verified, deleted."""

from __future__ import annotations

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
