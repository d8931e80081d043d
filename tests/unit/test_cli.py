"""The command line: output scripts can parse, exit codes they can rely on, one-line errors.

Most tests call ``cli.main`` in-process (fast); the ones about the real program
(``python -m os_downloads``, Ctrl-C) run it as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Optional, Tuple

import pytest

from os_downloads.core.cli import context, output
from os_downloads.core.cli import main as cli
from os_downloads.core.engine.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = ROOT / ".build" / "pythonpath"
GRID = "ASCII Grid and GML (Grid)"


def run(
    replica, *args: str, env: Optional[Dict[str, str]] = None, api: bool = True
) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = (["--api-url", replica.api_url] if api else []) + list(args)
    code = cli.main(argv, stdout=out, stderr=err, env=env or {})
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


# --- listing ----------------------------------------------------------------------------


def test_products_json_lists_every_product(replica):
    code, out, err = run(replica, "products", "--json")

    assert code == context.EXIT_OK and err == ""
    products = json.loads(out)
    assert {"OpenRoads", "Terrain50"} <= {p["id"] for p in products}
    assert all({"id", "name", "version"} <= set(p) for p in products)


def test_products_table_for_people(replica):
    code, out, _ = run(replica, "products")

    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "NAME", "VERSION"]
    assert any(row.startswith("OpenRoads ") and "2025-10" in row for row in rows)


def test_global_options_work_after_the_command_too(replica):
    code, out, _ = run(replica, "product", "OpenRoads", "--json", "--api-url", replica.api_url)

    assert code == 0 and json.loads(out)["name"] == "OS Open Roads"


def test_files_json_with_filters(replica):
    code, out, _ = run(replica, "files", "Terrain50", "--format", GRID, "--json")

    assert code == 0
    (listed,) = json.loads(out)
    assert listed["file_name"] == "terr50_gagg_gb.zip" and len(listed["md5"]) == 32


def test_packages_and_versions_with_the_key_from_the_environment(replica):
    env = {context.KEY_ENV: replica.api_key}
    code, out, _ = run(replica, "packages", "--json", env=env)
    assert code == 0 and "0040154231" in {p["id"] for p in json.loads(out)}

    code, out, _ = run(replica, "versions", "0040154231", "--json", env=env)
    versions = json.loads(out)
    assert code == 0 and [v["supply_type"] for v in versions][-1] == "FULL"
    assert versions == sorted(versions, key=lambda v: v["created_on"], reverse=True)


def test_packages_over_oauth2_when_a_secret_is_given(replica):
    env = {context.KEY_ENV: replica.api_key, context.SECRET_ENV: replica.api_secret}
    code, out, _ = run(replica, "packages", "--json", env=env)

    assert code == 0 and json.loads(out)
    assert any(e["path"].endswith("/oauth2/token/v1") for e in replica.requests("api"))


# --- downloading ------------------------------------------------------------------------


def test_download_extract_json_and_a_second_run_that_fetches_nothing(replica, tmp_path):
    args = ("download", "Terrain50", "--format", GRID, "--dest", str(tmp_path), "--extract")
    code, out, err = run(replica, *args, "--json")

    assert code == 0 and err == ""
    result = json.loads(out)
    folder = Path(result["folder"])
    assert folder == tmp_path / "Terrain50" / "2025-07" / GRID / "GB"
    assert Path(result["manifest"]).is_file()
    assert result["downloaded"] == 1 and result["files"][0]["verified"] is True
    assert result["datasets"] and all((folder / d).is_file() for d in result["datasets"])

    code, out, _ = run(replica, *args)
    assert code == 0
    assert out.splitlines()[0].startswith("0 downloaded (0 bytes), 1 already there")


def test_download_package_latest(replica, tmp_path):
    env = {context.KEY_ENV: replica.api_key}
    code, out, _ = run(
        replica, "download-package", "0040154231", "--dest", str(tmp_path), "--json", env=env
    )

    assert code == 0
    result = json.loads(out)
    newest = run(replica, "versions", "0040154231", "--json", env=env)[1]
    assert result["version"] == json.loads(newest)[0]["id"]
    assert Path(result["folder"]).parent == tmp_path / "packages" / "0040154231"


# --- errors -----------------------------------------------------------------------------


def test_a_bad_key_is_one_line_without_the_key(replica):
    key = "not-the-right-key-123"
    code, out, err = run(replica, "packages", env={context.KEY_ENV: key})

    assert code == context.EXIT_ERROR and out == ""
    assert_one_line_error(err)
    assert "401" in err and "OS_API_KEY" in err and key not in err


def test_packages_without_a_key_say_how_to_give_one(replica):
    code, _, err = run(replica, "packages")

    assert code == context.EXIT_ERROR
    assert_one_line_error(err)
    assert "--key" in err and "OS_API_KEY" in err


def test_an_unknown_product_is_one_line(replica):
    code, _, err = run(replica, "product", "NoSuchProduct")

    assert code == context.EXIT_ERROR
    assert_one_line_error(err)
    assert "404" in err and "NoSuchProduct" in err


def test_a_missing_format_lists_what_there_is(replica, tmp_path):
    code, _, err = run(replica, "download", "OpenRoads", "--format", "DXF", "--dest", str(tmp_path))

    assert code == context.EXIT_ERROR
    assert_one_line_error(err)
    assert "GeoPackage (GB)" in err


def test_usage_errors_exit_2(replica):
    code, _, err = run(replica, "download", "OpenRoads", "--dest", "x")  # no --format
    assert code == context.EXIT_USAGE
    assert "--format" in err  # on the stream main() was given
    assert run(replica, "no-such-command")[0] == context.EXIT_USAGE
    assert run(replica, "--workers", "0", "products")[0] == context.EXIT_USAGE


def test_an_unexpected_error_is_one_line_unless_debugging(replica, monkeypatch):
    def register(commands) -> None:
        sub = commands.add_parser("explode", parents=[context.ctx_parent()])
        sub.set_defaults(handler=lambda ctx: 1 / 0)

    # One more command module in the table, for this test only.
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, SimpleNamespace(register=register)))
    code, _, err = run(replica, "explode")
    assert code == context.EXIT_ERROR
    assert_one_line_error(err)
    assert "ZeroDivisionError" in err and "--debug" in err

    code, _, err = run(replica, "explode", "--debug")
    assert code == context.EXIT_ERROR and "Traceback" in err


# --- the real program -------------------------------------------------------------------


def program(*args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
    env.pop(context.KEY_ENV, None)
    return subprocess.Popen(
        [sys.executable, "-m", "os_downloads", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_python_m_os_downloads_runs_the_command_line(replica):
    done = program("--api-url", replica.api_url, "product", "NoSuchProduct")
    out, err = done.communicate(timeout=60)

    assert done.returncode == context.EXIT_ERROR and out == ""
    assert_one_line_error(err)


def _part_with_bytes(folder: Path) -> bool:
    for part in folder.rglob("*.zip.part"):
        with contextlib.suppress(OSError):
            if part.stat().st_size > 0:
                return True
    return False


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_exits_130_and_leaves_only_the_resumable_part(replica, tmp_path):
    replica.set_faults(slow_bytes_per_second=20_000)
    running = program(
        "--api-url",
        replica.api_url,
        "download",
        "Terrain50",
        "--format",
        GRID,
        "--dest",
        str(tmp_path),
    )
    try:
        # Ctrl-C once the body is arriving: a .part with bytes in it. Never
        # before, and not at all when that moment does not come (the program's
        # own errors are then what the assertion below shows).
        deadline = time.monotonic() + 60
        while not _part_with_bytes(tmp_path) and running.poll() is None:
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        if running.poll() is None:
            running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()

    assert running.returncode == context.EXIT_CANCELLED, err
    assert err.strip() == "Cancelled." and "Traceback" not in err
    assert list(tmp_path.rglob("*.zip.part")) and not list(tmp_path.rglob("*.zip"))


def test_the_progress_bar_draws_one_line():
    stream = io.StringIO()
    bar = output.ProgressBar(stream)

    bar(Progress(500_000, 1_000_000, 1, 2, "terr50_gagg_gb.zip", 2_000_000.0))
    bar.close()

    drawn = stream.getvalue()
    assert "\n" not in drawn
    assert "50.0%" in drawn and "500.0 KB/1.0 MB" in drawn and "2.0 MB/s" in drawn
    assert "1/2 files" in drawn and "terr50_gagg_gb.zip" in drawn
