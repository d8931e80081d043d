"""The real QGIS desktop: the plugin in a fresh profile loads a product into the map.

Runs what ``make demo`` runs headless (QGIS under Xvfb, the replica, the dock
driven by scripts/demo.py) in its own folder, and checks what a user would
see: the layers in the project and two screenshots that are not blank.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("qgis")), reason="needs the QGIS desktop and Xvfb"
)


def _png_colours(path: Path) -> int:
    """How many distinct colours a screenshot has (a blank or black one has 1)."""
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not an image"
    step = max(image.width() // 80, 1)
    colours = {
        image.pixel(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }
    return len(colours)


def test_the_desktop_loads_a_product_into_the_map_and_saves_screenshots(tmp_path):
    env = dict(os.environ)
    env.update(OS_DOWNLOADS_DEMO_HEADLESS="1", OS_DOWNLOADS_DEMO_DIR=str(tmp_path))
    env.pop("QT_QPA_PLATFORM", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert result["ok"], result
    steps = "\n".join(result["steps"])
    assert "OpenRivers: 2 layer(s) in the project: hydro_node, watercourse_link" in steps
    assert "map drawn in EPSG:27700" in steps
    shots = {Path(p).name: Path(p) for p in result["screenshots"]}
    gallery = {f"gallery-{name}.png" for name in GALLERY}
    assert set(shots) == {"dock.png", "map.png"} | gallery
    for path in shots.values():
        colours = 20 if path.name in ("dock.png", "map.png") else 4  # styled maps, not blank
        assert _png_colours(path) > colours, f"{path.name} looks blank"
    # every picture's project stayed on the British National Grid, no transform warning
    for name in gallery:
        assert f"{name}: project in EPSG:27700" in steps, steps
    assert "MasterMap: 4 layer(s), styles ['mastermap-topographic-area']" in steps


GALLERY = ("zoomstack", "boundary-line", "roads-rivers", "terrain-50", "mastermap")
