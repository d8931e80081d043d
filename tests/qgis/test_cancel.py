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
    kept = (".part", ".part.json")  # the partial file and its sidecar, for a resume
    final = [p for p in downloads.rglob("*") if p.is_file() and not p.name.endswith(kept)]
    assert final == []
    assert any("cancelled; nothing was loaded" in t for t in plugin_iface.message_texts())
    assert not dock.progress.isVisible()


def dock_download_root():
    from os_downloads.integration import settings

    return settings.load().download_root


def test_a_failed_download_says_why_and_loads_nothing(dock, replica, plugin_iface, monkeypatch):
    import sys

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: hooked.append(info))
    replica.set_faults(wrong_md5={"oprvrs_gpkg_gb.zip"})
    task = dock.download_and_load_product("OpenRivers", "GeoPackage")
    wait_for_task(task, 30)
    outcome = dock.outcomes[-1]
    assert not outcome.ok and not outcome.cancelled
    assert QgsProject.instance().mapLayers() == {}
    texts = plugin_iface.message_texts()
    assert any("download failed:" in t and "MD5 mismatch" in t for t in texts), texts
    assert not any("Traceback" in t for t in texts) and hooked == []
    final = [p for p in dock_download_root().rglob("*.zip")]
    assert final == []
