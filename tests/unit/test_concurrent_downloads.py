"""Two programs downloading into one folder: one writer per file, never a wrong byte.

Real processes (``python -m os_downloads download`` and ``sync``) against the
replica over real HTTP, killed at random moments. After every round a person
would find, under each final name, exactly the bytes storage serves, and no
manifest entry that says "verified" for bytes that do not match. Each round is
bounded (small file, throttled body, timeouts on every wait).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import pytest

from os_downloads.core.engine.manifest import read_manifest
from os_downloads.replica.server.storage import etag_of

PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
GRID = "ASCII Grid and GML (Grid)"
BIG = "terr50_gagg_gb.zip"  # about 160 KB
ROUND_TIMEOUT_S = 30.0

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kills processes with SIGKILL")


def served_bytes(replica) -> bytes:
    return (replica.data_dir / "files" / "Terrain50" / BIG).read_bytes()


def job_folder(dest: Path) -> Path:
    return dest / "Terrain50" / "2025-07" / GRID / "GB"


def start(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
    env.pop("OS_API_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "os_downloads", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_download(replica, dest: Path) -> subprocess.Popen:
    return start(
        "--api-url", replica.api_url, "download", "Terrain50", "--format", GRID, "--dest", str(dest)
    )


def start_sync(replica, dest: Path) -> subprocess.Popen:
    config = dest.parent / f"{dest.name}-sync.json"
    config.write_text(
        json.dumps(
            {
                "dest_root": str(dest),
                "extract": False,
                "products": [{"id": "Terrain50", "format": GRID, "area": "GB"}],
            }
        ),
        encoding="utf-8",
    )
    return start("--api-url", replica.api_url, "sync", str(config))


def finish(process: subprocess.Popen, timeout: float = ROUND_TIMEOUT_S) -> str:
    try:
        _, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    return err


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)


def wait_for_part(folder: Path, at_least: int, timeout: float = 10.0) -> None:
    """Until the ``.part`` in ``folder`` holds ``at_least`` bytes (bounded)."""
    part = folder / (BIG + ".part")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if part.stat().st_size >= at_least:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"no .part of {at_least} bytes appeared in {timeout} s")


def assert_nothing_wrong(folder: Path, served: bytes) -> Optional[bytes]:
    """The promise: a final file is the served bytes; "verified" means they match."""
    final = folder / BIG
    on_disk = final.read_bytes() if final.exists() else None
    if on_disk is not None:
        assert len(on_disk) == len(served)
        assert on_disk == served, f"{wrong_blocks(on_disk, served)} wrong 4 KiB blocks"
    manifest = read_manifest(folder)
    for entry in manifest.files if manifest is not None else []:
        if entry.verified:
            assert on_disk is not None, "verified in the manifest, but no file"
            assert entry.md5 == hashlib.md5(on_disk).hexdigest()
            assert entry.size == len(on_disk)
    return on_disk


def wrong_blocks(got: bytes, want: bytes) -> int:
    return sum(1 for i in range(0, len(want), 4096) if got[i : i + 4096] != want[i : i + 4096])


# --- the report ---------------------------------------------------------------------


def test_a_second_run_joining_and_killed_while_storage_ignores_range(replica, tmp_path):
    served = served_bytes(replica)
    replica.set_faults(ignore_range=True, slow_bytes_per_second=120_000)
    folder = job_folder(tmp_path)

    first = start_download(replica, tmp_path)
    wait_for_part(folder, len(served) // 3)
    second = start_download(replica, tmp_path)
    time.sleep(random.uniform(0.2, 0.6))
    kill(second)
    err = finish(first)

    assert first.returncode == 0, err
    assert assert_nothing_wrong(folder, served) == served
    manifest = read_manifest(folder)
    assert manifest is not None and manifest.file(BIG).verified

    # A later run on the same folder finds the file there and valid.
    replica.set_faults(ignore_range=False, slow_bytes_per_second=0)
    again = start_download(replica, tmp_path)
    err = finish(again)
    assert again.returncode == 0, err
    assert "Traceback" not in err and "No such file" not in err
    assert assert_nothing_wrong(folder, served) == served


def test_a_second_run_waits_for_the_first_then_finds_the_file_done(replica, tmp_path):
    served = served_bytes(replica)
    replica.set_faults(slow_bytes_per_second=40_000)  # about 4 s: the second starts well before
    folder = job_folder(tmp_path)

    first = start_download(replica, tmp_path)
    wait_for_part(folder, 20_000)
    second = start_download(replica, tmp_path)
    err_second = finish(second)
    err_first = finish(first)

    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "another process" in err_second  # it said why it waited
    assert assert_nothing_wrong(folder, served) == served
    gets = [e for e in replica.requests("storage") if e["path"].endswith("/" + BIG)]
    assert len(gets) == 1, "the second program downloaded nothing"


def test_a_second_run_takes_over_the_part_of_a_killed_first(replica, tmp_path):
    served = served_bytes(replica)
    replica.set_faults(slow_bytes_per_second=50_000)
    folder = job_folder(tmp_path)

    first = start_download(replica, tmp_path)
    wait_for_part(folder, 30_000)
    second = start_download(replica, tmp_path)
    time.sleep(0.3)  # the second is waiting for the first's lock by now
    kill(first)
    err = finish(second)

    assert second.returncode == 0, err
    assert assert_nothing_wrong(folder, served) == served
    gets = [e for e in replica.requests("storage") if e["path"].endswith("/" + BIG)]
    assert len(gets) == 2
    resumed = gets[1]["headers"]
    assert resumed.get("range", "").startswith("bytes=") and resumed["range"] != "bytes=0-"
    served_file = replica.data_dir / "files" / "Terrain50" / BIG
    assert resumed.get("if-range") == etag_of(served_file.stat())


# --- the loop: two programs, killed at random moments ----------------------------------------


def test_two_programs_killed_at_random_moments_never_leave_a_wrong_byte(replica, tmp_path):
    served = served_bytes(replica)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"random seed {seed}")
    started = time.monotonic()
    rounds: List[str] = []
    for round_number in range(20):
        honour_range = round_number % 2 == 0
        with_sync = round_number % 4 >= 2
        replica.set_faults(ignore_range=not honour_range, slow_bytes_per_second=400_000)
        dest = tmp_path / f"round{round_number}"
        folder = job_folder(dest)
        first = start_download(replica, dest)
        time.sleep(rng.uniform(0.0, 0.3))
        second = start_sync(replica, dest) if with_sync else start_download(replica, dest)
        victim = rng.choice((first, second))
        time.sleep(rng.uniform(0.0, 0.8))
        kill(victim)
        survivor = second if victim is first else first
        err = finish(survivor)
        rounds.append(f"round {round_number}: exit {survivor.returncode}")
        assert survivor.returncode in (0, 10), f"seed {seed}, round {round_number}: {err}"
        assert_nothing_wrong(folder, served)
        # and a run after the storm completes whatever the kill left
        replica.set_faults(ignore_range=False, slow_bytes_per_second=0)
        after = start_download(replica, dest)
        err = finish(after)
        assert after.returncode == 0, f"seed {seed}, round {round_number}: {err}"
        assert assert_nothing_wrong(folder, served) == served
        assert not (folder / (BIG + ".part")).exists()
    assert time.monotonic() - started < 120, rounds  # generous: a hang is a failure
