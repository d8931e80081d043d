"""Sync against odd local input: a dest_root that is a file, a state file of the
wrong shape, and the clients a run makes (closed when it ends).

Runs go through the real command line (a subprocess, as a scheduler starts it)
against the replica, and read what a person would: exit code, stderr, files.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.sync import run as sync

PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
PRODUCT = "OpenRoads"
PACKAGE = "0040154231"


def config_file(tmp_path: Path, replica, dest_root: Path, *, packages: bool = False) -> Path:
    lines = [f'dest_root = "{dest_root.as_posix()}"', f'api_url = "{replica.api_url}"']
    lines += ["[[products]]", f'id = "{PRODUCT}"', 'format = "GeoPackage"']
    if packages:
        lines += ["[[packages]]", f'id = "{PACKAGE}"']
    path = tmp_path / "sync.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(config: Path, replica, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH), OS_API_KEY=replica.api_key)
    env.pop("OS_API_SECRET", None)
    return subprocess.run(
        [sys.executable, "-m", "os_downloads", "sync", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_stderr_contract(err: str, *, errors: int) -> None:
    lines = err.splitlines()
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), err
    assert sum(line.startswith("error: ") for line in lines) == errors, err
    assert "Traceback" not in err and "nexpected" not in err


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_a_dest_root_that_is_a_file_is_one_clear_error(tmp_path, replica, dry_run):
    dest = tmp_path / "not-a-folder"
    dest.write_text("keep me", encoding="utf-8")
    config = config_file(tmp_path, replica, dest)

    done = run_cli(config, replica, *(["--dry-run"] if dry_run else []))

    assert done.returncode == sync.EXIT_FAILED, done.stderr
    assert_stderr_contract(done.stderr, errors=1)
    assert f"dest_root {dest} is a file, not a folder" in done.stderr
    assert dest.read_text(encoding="utf-8") == "keep me"
    assert replica.requests("storage") == []


@pytest.mark.parametrize(
    "state",
    [
        "[]",
        '{"format": 1, "entries": []}',
        '{"entries": {"products/OpenRoads/GeoPackage/-/GB": ["not", "a", "dict"]}}',
        '{"entries": {"products/OpenRoads/GeoPackage/-/GB": {"version": 7, "folder": [1]}}}',
        '{"entries": {"packages/0040154231": {"fetched": ["6307037"]}}}',
    ],
    ids=["list", "entries-list", "entry-list", "wrong-types", "fetched-list"],
)
def test_a_state_file_of_the_wrong_shape_is_reset_with_a_warning(tmp_path, replica, state):
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / sync.STATE_FILE).write_text(state, encoding="utf-8")
    config = config_file(tmp_path, replica, dest, packages=True)

    done = run_cli(config, replica)

    assert done.returncode == sync.EXIT_UPDATED, done.stdout + done.stderr
    assert_stderr_contract(done.stderr, errors=0)
    assert "warning: The sync state" in done.stderr and "afresh" in done.stderr
    saved = json.loads((dest / sync.STATE_FILE).read_text(encoding="utf-8"))
    assert isinstance(saved["entries"][f"products/{PRODUCT}/GeoPackage/-/GB"]["version"], str)
    assert isinstance(saved["entries"][f"packages/{PACKAGE}"]["fetched"], dict)


def test_a_truncated_state_file_is_one_clear_error_and_is_kept(tmp_path, replica):
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / sync.STATE_FILE).write_text('{"entries": {"products/Op', encoding="utf-8")
    config = config_file(tmp_path, replica, dest)

    done = run_cli(config, replica)

    assert done.returncode == sync.EXIT_FAILED
    assert_stderr_contract(done.stderr, errors=1)
    assert "The sync state file" in done.stderr and "cannot be read" in done.stderr
    assert (dest / sync.STATE_FILE).read_text(encoding="utf-8") == '{"entries": {"products/Op'


def test_a_run_closes_the_clients_it_made(tmp_path, replica):
    made = []

    def factory(config, env):
        client = OSDownloadsClient(base_url=config.api_url)
        made.append(client)
        return client

    config = sync.load_config(config_file(tmp_path, replica, tmp_path / "data"))
    report = sync.run_sync(config, env={}, client_factory=factory)

    assert report.exit_code == sync.EXIT_UPDATED
    (client,) = made
    for session in (client.http.session, client.storage_session):
        for adapter in session.adapters.values():
            assert len(adapter.poolmanager.pools) == 0  # every connection closed


def test_a_run_leaves_no_unclosed_socket_behind(tmp_path, replica):
    config = sync.load_config(config_file(tmp_path, replica, tmp_path / "data"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        report = sync.run_sync(config, env={})
        gc.collect()

    assert report.exit_code == sync.EXIT_UPDATED
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def test_server_text_in_the_sync_report_cannot_forge_lines(tmp_path, replica):
    versions = [
        {
            "id": "900",
            "url": "u",
            "createdOn": "2026-01-01",
            "reason": "INITIAL",
            "supplyType": "FULL",
            "productVersion": "E1\nOutcome: nothing new (forged)\x1b[2J",
            "format": "GML",
        }
    ]
    replica.set_faults(body_override={f"/dataPackages/{PACKAGE}/versions": json.dumps(versions)})
    config = config_file(tmp_path, replica, tmp_path / "data", packages=True)

    done = run_cli(config, replica, "--dry-run")

    assert done.returncode == sync.EXIT_UPDATED, done.stderr
    assert "\x1b" not in done.stdout
    assert not any(line.startswith("Outcome: nothing new") for line in done.stdout.splitlines())
    assert "would fetch version 900 (FULL, INITIAL, 2026-01-01) E1\\x0aOutcome" in done.stdout
