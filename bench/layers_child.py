"""A product with real layers through the dock, to the first rendered map, in a QGIS process.

``python -m os_downloads.bench.layers_child --api-url URL --product ID --format F
--dest DIR --report FILE [--compare-vrt]`` (``QT_QPA_PLATFORM=offscreen``)
builds the plugin's dock like ``stall_child``, presses "Download and load"
(download, MD5, extract, the GeoPackage copy of CSVs or the spatial-index
check, adding and styling the layers), then renders the loaded layers at full
extent (``QgsMapRendererParallelJob``, as the canvas does) and renders them
again (a redraw: nothing cached). The stall meter runs from the button to the
end of the first render. ``--compare-vrt`` then opens the same data through
the OGR VRT the plugin used to load (styled alike) and times its opening,
first render and redraw. Writes one JSON object to ``--report``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional


def render(layers: List[Any], extent: Any, timeout_s: float) -> float:
    """Seconds to render ``layers`` over ``extent`` into a 1600 x 1200 image."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    from ..integration.stall_meter import run_event_loop_until

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
    settings.setOutputSize(QSize(1600, 1200))
    settings.setExtent(extent)
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    done: List[bool] = []
    job.finished.connect(lambda: done.append(True))
    started = time.perf_counter()
    job.start()
    if not run_event_loop_until(lambda: bool(done), timeout_s):
        job.cancel()
        raise RuntimeError("the render did not finish in time")
    return time.perf_counter() - started


def full_extent(layers: List[Any]) -> Any:
    from ..integration.compat import null_rectangle

    extent = null_rectangle()
    for layer in layers:
        extent.combineExtentWith(layer.extent())
    return extent


def through_vrt(folder: Path, product: str, extent: Any, timeout_s: float) -> Dict[str, Any]:
    """Today's way: the CSV VRT, styled the same, opened, rendered, redrawn."""
    from qgis.core import QgsProject, QgsVectorLayer

    from ..integration.csv_layers import skip_vrt_schema_validation
    from ..integration.styling import style_layer

    vrt = next((folder / "qgis").glob("*.vrt"))
    skip_vrt_schema_validation()
    started = time.perf_counter()
    options = QgsVectorLayer.LayerOptions(QgsProject.instance().transformContext())
    options.skipCrsValidation = True
    layer = QgsVectorLayer(str(vrt), "vrt", "ogr", options)
    if not layer.isValid():
        raise RuntimeError(f"the VRT {vrt} did not open")
    style_layer(layer, product)
    layer.extent()  # what adding it to a project and zooming to it costs
    opened = time.perf_counter() - started
    first = render([layer], extent, timeout_s)
    again = render([layer], extent, timeout_s)
    return {
        "open_s": round(opened, 3),
        "first_render_s": round(first, 3),
        "redraw_s": round(again, 3),
    }


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    from qgis.core import QgsProject
    from qgis.testing import start_app

    start_app()
    from ..core.engine.manifest import read_manifest
    from ..integration import settings
    from ..integration.layer_cache import MANIFEST_KEY
    from ..integration.stall_meter import EventLoopStallMeter, run_event_loop_until
    from ..ui.dock import OSDownloadsDock
    from .stall_child import BenchIface

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
        meter = EventLoopStallMeter()
        meter.start()
        started = time.perf_counter()
        task = dock.download_and_load_product(args.product, args.format)
        if task is None:
            raise RuntimeError("the download did not start")
        if not run_event_loop_until(lambda: bool(getattr(task, "ended", False)), args.timeout):
            raise RuntimeError("the download did not finish in time")
        loaded = time.perf_counter() - started  # the layers are in the project
        outcome = dock.outcomes[-1]
        if not outcome.ok or outcome.report is None or not outcome.report.layers:
            raise RuntimeError(f"the download failed or loaded nothing: {outcome.error!r}")
        layers = outcome.report.layers
        extent = full_extent(layers)
        first = render(layers, extent, args.timeout)
        total = time.perf_counter() - started
        stall = meter.stop()
        again = render(layers, extent, args.timeout)
        result = outcome.prepared.result
        manifest = read_manifest(result.manifest_path.parent)
        made = dict(manifest.extra.get(MANIFEST_KEY) or {}) if manifest else {}
        prepared_s = sum(float(m.get("seconds", 0) or 0) for m in made.values())
        report: Dict[str, Any] = {
            "product": args.product,
            "bytes": sum(f.size for f in result.download.files),
            "layers": [layer.source() for layer in layers],
            "features": sum(layer.featureCount() for layer in layers),
            "loaded_s": round(loaded, 3),
            "conversion_s": prepared_s,
            "first_render_s": round(first, 3),
            "total_s": round(total, 3),
            "redraw_s": round(again, 3),
            "stall": stall.to_json(),
            "made": made,
        }
        if args.compare_vrt:
            vrt = through_vrt(result.folder, args.product, extent, args.timeout)
            # The same download and extraction, the VRT opened instead of the copy made.
            vrt["total_s"] = round(loaded - prepared_s + vrt["open_s"] + vrt["first_render_s"], 3)
            report["vrt"] = vrt
        return report
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
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--compare-vrt", action="store_true")
    args = parser.parse_args(argv)
    args.report.write_text(json.dumps(measure(args)) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
