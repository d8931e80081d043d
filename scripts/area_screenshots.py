"""Pictures of "Choose on map" and "My downloads" for the README (run by `qgis --code`).

Run through the demo launcher, which starts the replica on free ports, a fresh
profile and Xvfb::

    OS_DOWNLOADS_DEMO_SCRIPT=scripts/area_screenshots.py \
    OS_DOWNLOADS_DEMO_DIR=.build/area-demo OS_DOWNLOADS_DEMO_HEADLESS=1 \
    .venv/bin/python scripts/run_demo.py

Writes ``area-picker.png`` and ``my-downloads.png`` and ``result.json`` into
$OS_DOWNLOADS_DEMO_OUT, then quits QGIS.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.PyQt.QtWidgets import QApplication

OUT_DIR = Path(os.environ.get("OS_DOWNLOADS_DEMO_OUT", ".build/demo")).resolve()
STEPS = []
SHOTS = []


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        time.sleep(0.02)


def wait_for(what, condition, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        pump(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def shot(name: str) -> None:
    pump(1.5)
    path = OUT_DIR / name
    if not qgis.utils.iface.mainWindow().grab().save(str(path)):
        raise RuntimeError(f"could not save {path}")
    SHOTS.append(str(path))


def download(dock, *args) -> None:
    before = len(dock.outcomes)
    dock.download_and_load_product(*args)
    wait_for(f"{args}", lambda: len(dock.outcomes) > before)
    outcome = dock.outcomes[-1]
    if not outcome.ok:
        raise RuntimeError(f"{args}: {outcome.error}")
    STEPS.append(f"downloaded {args}")


def run() -> None:
    window = qgis.utils.iface.mainWindow()
    window.move(0, 0)
    window.resize(1600, 1000)
    window.show()
    plugin = wait_for("the plugin", lambda: qgis.utils.plugins.get("os_downloads"), 30)
    dock = plugin.show_dock()
    tab = dock.opendata_tab
    wait_for("the product list", tab.visible_product_ids, 60)
    canvas = qgis.utils.iface.mapCanvas()
    download(dock, "BoundaryLine", "GeoPackage", "GB")
    download(dock, "OpenGreenspace", "GML", "SU", "3")
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
    canvas.setExtent(QgsRectangle(330000, 20000, 720000, 330000))
    canvas.refresh()
    wait_for("OpenGreenspace selected", lambda: tab.select_product("OpenGreenspace"), 20)
    wait_for("formats", lambda: tab.format_combo.count(), 30)
    tab.format_combo.setCurrentIndex(tab.format_combo.findText("GML 3"))
    picker = tab.choose_on_map()
    picker.choose(["TL", "TQ", "TR"], replace=True)
    STEPS.append("chose TL, TQ, TR on the map")
    shot("area-picker.png")
    before = len(dock.outcomes)
    tab.download_button.click()
    wait_for("the three squares", lambda: len(dock.outcomes) > before)
    tab.finish_choosing()
    dock.tabs.setCurrentWidget(dock.my_downloads_tab)
    wait_for("my downloads", lambda: dock.my_downloads_tab.tree.topLevelItemCount() >= 5, 60)
    mine = dock.my_downloads_tab
    mine.check_updates(force=True)
    wait_for("the update check", lambda: "Checking" not in mine.status_label.text(), 60)
    mine.tree.setCurrentItem(mine.tree.topLevelItem(0))
    STEPS.append("listed my downloads")
    shot("my-downloads.png")


def finish(error=None) -> None:
    result = {"ok": error is None, "steps": STEPS, "screenshots": SHOTS}
    if error:
        result["error"] = error
    (OUT_DIR / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    project = QgsProject.instance()
    project.clear()
    project.setDirty(False)
    QTimer.singleShot(0, lambda: QApplication.instance().exit(0))


def start() -> None:
    try:
        run()
        finish()
    except Exception as err:  # noqa: BLE001 - must never leave QGIS running
        finish(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")


OUT_DIR.mkdir(parents=True, exist_ok=True)
(OUT_DIR / "started").write_text("scripts/area_screenshots.py is running\n", encoding="utf-8")
QTimer.singleShot(3000, start)
