"""The main-thread stall of a large download through the dock, in its own QGIS process.

``python -m os_downloads.bench.stall_child --api-url URL --product ID --format F
--dest DIR --report FILE`` (run with ``QT_QPA_PLATFORM=offscreen`` and the
system Python's QGIS) starts a QGIS application, builds the plugin's dock the
way ``tests/qgis`` do, waits for the product list, then starts the download
with ``dock.download_and_load_product`` (the "Download and load" button's path:
download, MD5 check, extract, find datasets, load on the main thread) and
measures the longest gap between ticks of the main event loop until the task's
``finished()`` ran. As a reference it then measures the same event loop, idle,
for as long. Writes one JSON object to ``--report`` (QGIS prints to stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional


class BenchIface:
    """What the dock uses of QGIS's iface: a main window, a message bar, a canvas."""

    def __init__(self) -> None:
        from qgis.gui import QgsMapCanvas, QgsMessageBar
        from qgis.PyQt.QtWidgets import QMainWindow

        self._window = QMainWindow()
        self._bar = QgsMessageBar(self._window)
        self._canvas = QgsMapCanvas(self._window)

    def mainWindow(self) -> Any:  # noqa: N802
        return self._window

    def messageBar(self) -> Any:  # noqa: N802
        return self._bar

    def mapCanvas(self) -> Any:  # noqa: N802
        return self._canvas

    def registerOptionsWidgetFactory(self, factory: Any) -> None:  # noqa: N802
        pass


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    from qgis.core import QgsProject
    from qgis.testing import start_app

    start_app()
    from ..integration import settings
    from ..integration.stall_meter import (
        EventLoopStallMeter,
        measure_task,
        run_event_loop_until,
    )
    from ..ui.dock import OSDownloadsDock

    settings.save(
        settings.PluginSettings(
            download_folder=str(args.dest),
            api_url=args.api_url,
            extract_after_download=True,
            load_after_download=True,
        )
    )
    dock = OSDownloadsDock(BenchIface())
    dock.show()
    if not run_event_loop_until(lambda: bool(dock.opendata_tab.products), 60):
        raise RuntimeError("the dock did not list the products")
    try:
        busy = measure_task(
            lambda: dock.download_and_load_product(args.product, args.format), args.timeout
        )
        if not busy.finished or not dock.outcomes:
            raise RuntimeError("the download did not finish in time")
        outcome = dock.outcomes[-1]
        if not outcome.ok or outcome.prepared is None:
            raise RuntimeError(f"the download failed: {outcome.error!r}")
        result = outcome.prepared.result
        meter = EventLoopStallMeter()
        meter.start()
        run_event_loop_until(lambda: False, busy.duration_s)
        idle = meter.stop()
        report = outcome.report
        return {
            "download": busy.to_json(),
            "idle_same_duration": idle.to_json(),
            "bytes": sum(f.size for f in result.download.files),
            "verified": sum(1 for f in result.download.files if f.verified),
            "extracted": result.extracted_folder is not None,
            "datasets_found": len(result.datasets),
            "layers_loaded": report.layer_count if report is not None else 0,
        }
    finally:
        dock.shutdown()
        dock.deleteLater()
        QgsProject.instance().clear()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--product", required=True)
    parser.add_argument("--format", default="GeoPackage")
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    args.report.write_text(json.dumps(measure(args)) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
