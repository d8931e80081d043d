"""`make demo` fails when QGIS crashes, even after the demo script reported success.

QGIS 3.40/3.44 segfault at exit with layers loaded, after every step passed: the
demo must not call that a success. run_demo.py runs, in place of scripts/demo.py,
a script (OS_DOWNLOADS_DEMO_SCRIPT) that writes a successful result.json and then
either quits QGIS normally or kills it with SIGSEGV, the way the real crash does.
"""

from __future__ import annotations

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

SCRIPT = """
import json, os, signal
from pathlib import Path
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication

out = Path(os.environ["OS_DOWNLOADS_DEMO_OUT"])
out.mkdir(parents=True, exist_ok=True)
(out / "started").write_text("running", encoding="utf-8")
shot = out / "window.png"


def finish():
    import qgis.utils

    qgis.utils.iface.mainWindow().grab().save(str(shot))
    result = {{"ok": True, "steps": ["every step passed"], "screenshots": [str(shot)]}}
    (out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    if {crash}:
        os.kill(os.getpid(), signal.SIGSEGV)
    QApplication.instance().exit(0)


QTimer.singleShot(500, finish)
"""


def _run_demo(tmp_path: Path, crash: bool) -> subprocess.CompletedProcess:
    script = tmp_path / "end_of_demo.py"
    script.write_text(SCRIPT.format(crash=crash), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        OS_DOWNLOADS_DEMO_HEADLESS="1",
        OS_DOWNLOADS_DEMO_DIR=str(tmp_path / "demo"),
        OS_DOWNLOADS_DEMO_SCRIPT=str(script),
    )
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_qgis_crash_after_a_successful_script_fails_the_demo(tmp_path):
    run = _run_demo(tmp_path, crash=True)
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode != 0, output
    assert "make demo failed: every step passed, but then QGIS" in run.stderr, output
    # QGIS's crash handler turns the segfault into an abort, and says which signal it was.
    assert "QGIS died on signal 11" in run.stderr, output


def test_a_clean_qgis_exit_after_a_successful_script_passes(tmp_path):
    run = _run_demo(tmp_path, crash=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "window.png" in run.stdout
