"""``os_downloads:checkupdates`` under ``qgis_process`` in a fresh profile checks TRUD downloads.

Before the sources were listed in one registry (``core/sources/registry.py``),
TRUD's update check was added only when something imported the TRUD modules;
``qgis_process`` never did, so a TRUD folder came back as "not checked". This
runs the real ``qgis_process.bin`` with the plugin enabled in a new profile,
as a scheduled job would, against the replica over real HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from os_downloads.core.sources.base import CURRENT, NOT_CHECKED, UPDATE
from os_downloads.core.sources.trud.client import TrudClient
from os_downloads.core.sources.trud.fetch import fetch_trud_release
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url

ROOT = Path(__file__).resolve().parents[2]
ITEM = 58


def _fresh_profile(root: Path, env: dict) -> Path:
    """A new profile with the plugin folder linked in, enabled by ``plugins enable``."""
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "os_downloads").symlink_to(ROOT, target_is_directory=True)
    done = subprocess.run(
        ["qgis_process.bin", "plugins", "enable", "os_downloads"],
        env=dict(env, QGIS_CUSTOM_CONFIG_PATH=str(root)),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return root


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qgis_process.bin") is None, reason="needs qgis_process.bin")
def test_qgis_process_check_updates_checks_a_trud_download(replica, tmp_path: Path) -> None:
    data = tmp_path / "data"
    client = TrudClient(TRUD_API_KEY, api_url(replica))
    try:
        fetched = fetch_trud_release(client, ITEM, dest_root=data, verify_signature=False)
    finally:
        client.session.close()
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = dict(
        os.environ,
        OS_DOWNLOADS_API_URL=replica.api_url,
        TRUD_API_URL=api_url(replica),
        TRUD_API_KEY=TRUD_API_KEY,
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
    )
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(_fresh_profile(tmp_path / "qgis", env))
    report = tmp_path / "updates.json"
    done = subprocess.run(
        [
            "qgis_process.bin",
            "--json",
            "run",
            "os_downloads:checkupdates",
            "--",
            f"FOLDER={data}",
            f"OUTPUT={report}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout[done.stdout.index("{") :])["results"]
    rows = json.loads(report.read_text("utf-8"))
    trud_rows = [r for r in rows if r["source"] == "trud"]
    assert len(trud_rows) == 1, rows
    row = trud_rows[0]
    assert row["status"] != NOT_CHECKED, row
    assert row["status"] in (CURRENT, UPDATE), row
    # the newest release was just downloaded: up to date, and said so in the counts
    assert row["status"] == CURRENT and row["held_version"] == fetched.release.id
    assert row["folders"] == [str(fetched.folder)]
    assert results["CHECKED"] == 1 and results["ERRORS"] == 0 and results["UPDATES"] == 0
