"""Cancelling mid-download, from the dock or from the QGIS task manager."""

from __future__ import annotations

import pytest
from conftest import wait_for_task, wait_until
from qgis.core import QgsProject, QgsTask


@pytest.mark.parametrize("where", ["dock", "task manager"])
def test_cancel_mid_way_leaves_no_layers_and_no_final_files(dock, replica, plugin_iface, where):
    replica.set_faults(slow_bytes_per_second=8_000)  # the 54 KB zip takes ~7 s
    task = dock.download_and_load_product("OpenRivers", "Vector Tiles", "GB", "(MBTiles)")
    assert task is not None
    wait_until(lambda: getattr(task.latest_progress, "bytes_done", 0) > 0, 20, "bytes arriving")
    assert dock.progress.isVisible() and dock.progress.cancel_button.isEnabled()
    if where == "dock":
        dock.progress.cancel_button.click()
    else:
        task.cancel()  # what the task manager's cancel button calls
    wait_for_task(task, 20)

    outcome = dock.outcomes[-1]
    assert outcome.cancelled and not outcome.ok
    assert task.final_status == QgsTask.TaskStatus.Terminated
    assert QgsProject.instance().layerTreeRoot().children() == []
    assert QgsProject.instance().mapLayers() == {}
    downloads = dock_download_root()
    final = [p for p in downloads.rglob("*") if p.is_file() and not p.name.endswith(".part")]
    assert final == []
    assert any("cancelled; nothing was loaded" in t for t in plugin_iface.message_texts())
    assert not dock.progress.isVisible()


def dock_download_root():
    from os_downloads.integration import settings

    return settings.load().download_root
