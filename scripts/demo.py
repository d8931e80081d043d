"""Drive the plugin inside QGIS for `make demo` (run by `qgis --code`).

Opens the dock; then, each in a new project, loads the products of the README's
pictures (``SCENES``: Zoomstack's vector tiles first, so a new project meeting
Web Mercator data is seen to stay on the British National Grid; Boundary-Line;
Open Roads with Open Rivers; Terrain 50; a MasterMap Topography data package)
and saves the styled map of each (``gallery-*.png``); last, OS Open Rivers over
Terrain 50 and a screenshot of the whole window. Every download goes through
the plugin's own code path; the demo fails when a project leaves EPSG:27700.
Writes ``result.json`` (ok, steps, screenshots or error) into
$OS_DOWNLOADS_DEMO_OUT, then quits QGIS. Any error is caught and reported
there: an uncaught one would leave QGIS running.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import qgis.utils
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.PyQt.QtWidgets import QApplication

from os_downloads.integration.compat import null_rectangle  # the plugin's folder name

PLUGIN_NAME = "os_downloads"
OUT_DIR = Path(os.environ.get("OS_DOWNLOADS_DEMO_OUT", ".build/demo")).resolve()
WINDOW_SIZE = (1600, 1000)
# (product id, format, area): the map shows the rivers over the terrain.
PRODUCTS = (
    ("Terrain50", "ASCII Grid and GML (Grid)", "GB"),
    ("OpenRivers", "GeoPackage", "GB"),
)
# The README's pictures: (file, downloads (product, format, area, subformat), map extent).
SCENES = (
    (
        "gallery-zoomstack.png",
        (("OpenZoomstack", "Vector Tiles", "GB", "(MBTiles)"),),
        (435000, 107000, 451000, 119000),
    ),
    (
        "gallery-boundary-line.png",
        (("BoundaryLine", "GeoPackage", "GB", None),),
        (426000, 102000, 454000, 126000),
    ),
    (
        "gallery-roads-rivers.png",
        (("OpenRoads", "GeoPackage", "GB", None), ("OpenRivers", "GeoPackage", "GB", None)),
        (438500, 109500, 446500, 116500),
    ),
    (
        "gallery-terrain-50.png",
        (
            ("Terrain50", "ASCII Grid and GML (Grid)", "GB", None),
            ("Terrain50", "GeoPackage", "GB", None),
        ),
        (437000, 109000, 453000, 131000),
    ),
)
MASTERMAP = ("gallery-mastermap.png", "0040154231", "6307037", (440000, 110000, 442000, 112000))
BNG = "EPSG:27700"
START_DELAY_MS = 3000
TASK_TIMEOUT_S = 150
WHOLE_DEMO_TIMEOUT_MS = 480_000


class DemoFailure(Exception):
    """A step failed; the message is what make demo prints."""


class Demo:
    def __init__(self) -> None:
        self.steps: List[str] = []
        self.screenshots: List[str] = []
        self.bar_before: set = set()
        self.finished = False

    # -------------------------------------------------------------- helpers

    def step(self, text: str) -> None:
        self.steps.append(text)
        print(f"[demo.py] {text}", flush=True)

    @staticmethod
    def pump(seconds: float) -> None:
        """Let QGIS work (events, task callbacks, rendering) for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if DEMO.finished:  # the overall time limit fired meanwhile
                raise DemoFailure("stopped: the demo's time limit passed")
            QCoreApplication.processEvents()
            time.sleep(0.02)

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = condition()
            if value:
                return value
            self.pump(0.1)
        raise DemoFailure(f"timed out after {timeout:.0f} s waiting for {what}")

    def screenshot(self, name: str) -> None:
        window = qgis.utils.iface.mainWindow()
        self.pump(0.5)
        path = OUT_DIR / name
        if not window.grab().save(str(path)):
            raise DemoFailure(f"could not save the screenshot {path}")
        self.screenshots.append(str(path))
        self.step(f"screenshot {path}")

    # -------------------------------------------------------------- steps

    def run(self) -> None:
        window = qgis.utils.iface.mainWindow()
        window.move(0, 0)
        window.resize(*WINDOW_SIZE)
        window.show()
        plugin = self.wait_for(
            f"the plugin {PLUGIN_NAME} to load",
            lambda: qgis.utils.plugins.get(PLUGIN_NAME),
            30,
        )
        active = PLUGIN_NAME in qgis.utils.active_plugins
        self.step(f"plugin loaded: {type(plugin).__name__} (active: {active})")
        if not hasattr(plugin, "show_dock"):
            self.step("the plugin has no dock yet: showing its toolbar button")
            self.pump(1)
            self.screenshot("plugin.png")
            return
        dock = self.open_dock(plugin)
        self.screenshot("dock.png")
        if not hasattr(dock, "download_and_load_product"):
            self.step("the dock cannot download yet (no download_and_load_product)")
            return
        for name, downloads, extent in SCENES:
            self.new_project()
            for product_id, fmt, area, sub in downloads:
                self.download(dock, product_id, fmt, area, sub)
            self.map_picture(name, extent)
        self.mastermap_picture(*MASTERMAP)
        self.new_project()
        for product_id, fmt, area in PRODUCTS:
            self.download(dock, product_id, fmt, area)
        self.show_whole_data()
        self.check_bng("the main map")
        self.screenshot("map.png")

    def open_dock(self, plugin: Any) -> Any:
        plugin.show_dock()
        dock = self.wait_for("the dock", lambda: getattr(plugin, "dock", None), 10)
        self.wait_for("the dock to be visible", dock.isVisible, 10)
        tab = getattr(dock, "opendata_tab", None)
        if tab is not None and hasattr(tab, "visible_product_ids"):
            ids = self.wait_for("the product list", tab.visible_product_ids, 60)
            self.step(f"dock open, listing {len(ids)} OpenData products")
            product_id, fmt, area = PRODUCTS[-1]
            if hasattr(tab, "select_product") and tab.select_product(product_id):
                # Its details, formats and thumbnail load in the background.
                if hasattr(tab, "choose"):
                    self.wait_for(f"the {product_id} formats", lambda: tab.choose(fmt, area), 30)
                self.pump(2)
                self.step(f"selected {product_id}, {fmt}, {area} in the dock")
        else:
            self.step("dock open")
            self.pump(3)
        return dock

    def new_project(self) -> None:
        """File > New, as a user starts: QGIS's own rules for a new project's CRS apply."""
        qgis.utils.iface.newProject(False)
        qgis.utils.iface.messageBar().clearWidgets()
        self.pump(0.5)
        # QGIS's own File > New may warn about the transform its 4326 canvas needs:
        # not ours. The loads that follow must add no such warning.
        self.bar_before = set(self.bar_texts())

    def check_bng(self, what: str) -> None:
        crs = QgsProject.instance().crs().authid()
        if crs != BNG:
            raise DemoFailure(f"{what}: the project left the British National Grid ({crs})")
        texts = [t for t in self.bar_texts() if t not in self.bar_before]
        warnings = [t for t in texts if "transform" in t.lower()]
        if warnings:
            raise DemoFailure(f"{what}: loading showed a transform warning: {warnings}")
        self.step(f"{what}: project in {crs}; new messages: {texts or 'none'}")

    @staticmethod
    def bar_texts() -> List[str]:
        bar = qgis.utils.iface.messageBar()
        return [f"{item.title()}: {item.text()}" for item in bar.items()]

    def map_picture(self, name: str, extent: Any) -> None:
        """The map canvas alone, at ``extent`` (British National Grid metres)."""
        from qgis.core import QgsRectangle

        self.check_bng(name)
        canvas = qgis.utils.iface.mapCanvas()
        self.pump(1)  # QGIS's own set-up for a new project's first layers, first
        canvas.setExtent(QgsRectangle(*extent))
        canvas.refreshAllLayers()
        self.pump(1)
        self.wait_for("the map to draw", lambda: not canvas.isDrawing(), 60)
        self.pump(1)
        path = OUT_DIR / name
        if not canvas.grab().save(str(path)):
            raise DemoFailure(f"could not save the picture {path}")
        self.screenshots.append(str(path))
        self.step(f"picture {path} at 1:{canvas.scale():,.0f}")

    def mastermap_picture(self, name: str, package_id: str, version: str, extent: Any) -> None:
        """A MasterMap Topography package, fetched with the replica's demo key by the
        jobs the dock's task runs and loaded by the same loader (the demo profile keeps
        no key in the auth manager: storing one would ask for a master password)."""
        from os_downloads.core.api.auth import ApiKeyAuth
        from os_downloads.core.api.client import OSDownloadsClient
        from os_downloads.core.sources.os_packages import fetch_package_version
        from os_downloads.integration import settings
        from os_downloads.integration.layers import add_layers, group_name_for, plan_layers
        from os_downloads.replica import DEMO_API_KEY

        self.new_project()
        self.step(f"download and load data package {package_id} version {version} (MasterMap)")
        client = OSDownloadsClient(auth=ApiKeyAuth(DEMO_API_KEY))
        try:
            result = fetch_package_version(
                client, package_id, version, dest_root=settings.load().download_root
            )
        finally:
            client.close()
        sources = plan_layers(result.datasets, result.folder, title=result.manifest.name)
        report = add_layers(sources, group_name_for(result.manifest), manifest=result.manifest)
        styles = sorted(
            {str(lyr.customProperty("os_downloads/style", "")) for lyr in report.layers}
        )
        self.step(f"MasterMap: {report.layer_count} layer(s), styles {styles}")
        self.map_picture(name, extent)

    def download(
        self, dock: Any, product_id: str, fmt: str, area: str, sub: Optional[str] = None
    ) -> None:
        project = QgsProject.instance()
        before = set(project.mapLayers())
        outcomes = getattr(dock, "outcomes", None)
        seen = len(outcomes) if outcomes is not None else 0
        self.step(f"download and load {product_id} ({fmt}, {area})")
        task = dock.download_and_load_product(product_id, fmt, area, sub)
        if task is None:
            raise DemoFailure(f"the dock did not start a download of {product_id}")
        if outcomes is not None:
            # The dock records an outcome once the files are verified and the layers loaded.
            self.wait_for(f"{product_id} to finish", lambda: len(outcomes) > seen, TASK_TIMEOUT_S)
            outcome = outcomes[-1]
            if not outcome.ok:
                raise DemoFailure(f"{product_id}: {outcome_message(outcome)}")
            self.step(f"{product_id}: {outcome_message(outcome)}")
        else:
            # QGIS deletes the C++ task after finished(): read the Python-side flags.
            self.wait_for(f"the {product_id} task", lambda: task.ended, TASK_TIMEOUT_S)
            if not task.ok:
                raise DemoFailure(f"the {product_id} download failed: {task.error}")
        new = self.wait_for(
            f"{product_id} layers in the project",
            lambda: set(project.mapLayers()) - before,
            20,
        )
        names = sorted(project.mapLayer(i).name() for i in new)
        self.step(f"{product_id}: {len(names)} layer(s) in the project: {', '.join(names)}")

    def show_whole_data(self) -> None:
        canvas = qgis.utils.iface.mapCanvas()
        project = QgsProject.instance()
        extent = null_rectangle()
        for layer in project.mapLayers().values():
            if layer.isValid() and not layer.extent().isEmpty():
                extent.combineExtentWith(layer.extent())
        if not extent.isEmpty():
            extent.scale(1.05)
            canvas.setExtent(extent)
        canvas.refreshAllLayers()
        self.pump(1)
        self.wait_for("the map to draw", lambda: not canvas.isDrawing(), 60)
        self.pump(1)
        crs = project.crs().authid()
        self.step(f"map drawn in {crs}, {len(project.mapLayers())} layer(s)")

    # -------------------------------------------------------------- end

    def finish(self, error: Optional[str]) -> None:
        if self.finished:
            return
        self.finished = True
        result: Dict[str, Any] = {
            "ok": error is None,
            "steps": self.steps,
            "screenshots": self.screenshots,
        }
        if error:
            result["error"] = error
            try:  # what the screen showed when it failed
                path = OUT_DIR / "failure.png"
                qgis.utils.iface.mainWindow().grab().save(str(path))
                result["failure_screenshot"] = str(path)
            except Exception:  # noqa: BLE001 - best effort while reporting another error
                pass
        (OUT_DIR / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        QTimer.singleShot(0, quit_qgis)


def quit_qgis() -> None:
    """Empty the project, then quit. QGIS 3.40/3.44 segfault in their own teardown
    when the project still holds layers at exit (the layer tree view is gone by the
    time the project removes them); cleared first, they have nothing left to remove."""
    project = QgsProject.instance()
    project.clear()
    project.setDirty(False)  # no "save changes?" prompt on exit
    QApplication.instance().exit(0)


def outcome_message(outcome: Any) -> str:
    """The line the plugin's message bar shows for a finished download."""
    try:
        from os_downloads.ui.dock import outcome_text
    except ImportError:  # QGIS imports the plugin under its folder name
        return str(getattr(outcome, "error", "") or "done")
    return outcome_text(outcome)


DEMO = Demo()


def _start() -> None:
    try:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        DEMO.run()
        DEMO.finish(None)
    except DemoFailure as err:
        DEMO.finish(str(err))
    except Exception as err:  # noqa: BLE001 - must never leave QGIS running
        DEMO.finish(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")


def _give_up() -> None:
    DEMO.finish(f"the demo did not finish within {WHOLE_DEMO_TIMEOUT_MS // 1000} s")


OUT_DIR.mkdir(parents=True, exist_ok=True)
(OUT_DIR / "started").write_text("scripts/demo.py is running\n", encoding="utf-8")
QTimer.singleShot(START_DELAY_MS, _start)
QTimer.singleShot(WHOLE_DEMO_TIMEOUT_MS, _give_up)
