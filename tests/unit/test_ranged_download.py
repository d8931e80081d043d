"""One large file over parallel ranges: exact bytes, every fault survived, never two versions mixed.

Real HTTP against the replica, with a small threshold (1 MiB), small pieces
(256 KiB) and files of a few MiB so each test is quick. What a user gets is
checked (the file, or one clear error and nothing under the final name), and
the replica's request log shows what was asked: ``Range`` headers, which
connection (``peer``), and when each answer was out (``time``, ``ended``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.api.models import Checksum, RemoteFile
from os_downloads.core.engine.download import TransferLimits, download_files
from os_downloads.core.engine.progress import Progress
from os_downloads.core.errors import Cancelled, ChecksumMismatchError
from os_downloads.core.net.retry import RetryPolicy

MIB = 1 << 20
PIECE = 256 << 10
PACKAGE_ID = "0040154231"
NAME = "big.zip"
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2, max_total_wait=10)
RANGED = TransferLimits(
    stall_timeout=5.0,
    min_rate=0,
    give_up_after=20.0,
    ranges_per_file=4,
    ranged_min_bytes=1 * MIB,
    range_piece_bytes=PIECE,
    one_stream_bytes_per_s=0,  # loopback is fast: ranges all the same (the probe: below)
)


@pytest.fixture()
def client(replica) -> OSDownloadsClient:
    return OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key), retry=FAST_RETRY)


def publish(replica, client, tmp_path: Path, size: int) -> Tuple[RemoteFile, bytes]:
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    version = replica.publish_package_version(PACKAGE_ID, files=[(NAME, source)])
    listed = client.data_package_version(PACKAGE_ID, version.id).downloads[0].remote_file()
    replica.request_log.clear()
    return listed, data


def fetch(client, files: List[RemoteFile], dest: Path, **kwargs: Any):
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("limits", RANGED)
    kwargs.setdefault("resolve", lambda f: client.resolve_download(f.url))
    return download_files(files, dest, session=client.storage_session, **kwargs)


def gets(replica, name: str = NAME) -> List[Dict[str, Any]]:
    return [
        e
        for e in replica.requests("storage")
        if e["method"] == "GET" and e["path"].endswith("/" + name)
    ]


def asked(entry: Dict[str, Any]) -> Any:
    """(first, last) of the entry's ``Range`` header (last None: to the end), or None."""
    value = entry["headers"].get("range")
    if not value:
        return None
    first, last = value.split("=", 1)[1].split("-")
    return int(first), int(last) if last else None


def most_open_at_once(entries: List[Dict[str, Any]], slack: float = 0.02) -> int:
    """The most answers under way at one time. The replica notes an answer's end a moment
    after the client has it all (and may send the next request): ``slack`` s are forgiven."""
    ends = [max(e["time"], e["ended"] - slack) for e in entries]
    events = sorted([(e["time"], 1) for e in entries] + [(end, -1) for end in ends])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def wait_for_answers(replica, count: int) -> None:
    """The replica notes when an answer was out just after sending it: wait for that."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(1 for e in gets(replica) if "ended" in e) >= count:
            return
        time.sleep(0.02)


def sidecar(dest: Path) -> Dict[str, Any]:
    return json.loads((dest / (NAME + ".part.json")).read_text("utf-8"))


# --- the good path ------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_large_file_comes_in_ranges_over_several_connections(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 3 * MIB + 12345)
    replica.set_faults(slow_bytes_per_second=1 * MIB)  # each connection: pieces overlap
    seen: List[Progress] = []

    result = fetch(client, [file], tmp_path / "out", progress=seen.append)

    assert (tmp_path / "out" / NAME).read_bytes() == data
    got = result.files[0]
    assert got.verified and got.bytes_transferred == len(data)
    assert sorted(os.listdir(tmp_path / "out")) == [NAME]  # no .part, no sidecar
    entries = gets(replica)
    wait_for_answers(replica, len(entries))
    spans = sorted(asked(e) for e in entries)
    assert all(e["status"] == 206 for e in entries)
    # every byte asked for exactly once, in pieces of at most 256 KiB, a round per connection
    assert spans[0][0] == 0 and spans[-1][1] == len(data) - 1
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:]))
    assert len(spans) % 4 == 0 and all(last - first < PIECE for first, last in spans)
    assert 2 <= len({e["peer"] for e in entries}) <= 4
    assert 2 <= most_open_at_once(gets(replica)) <= 4
    # one progress for the file, counting every range
    assert seen[-1].bytes_done == seen[-1].bytes_total == len(data)
    assert max(p.bytes_done for p in seen) == len(data)


@pytest.mark.timeout(60)
def test_a_first_connection_fast_enough_keeps_the_file_to_itself(replica, client, tmp_path):
    """Loopback: one connection is not what limits the download; more would only share
    the cores with the MD5. The first piece's GET goes on as one stream from its end."""
    file, data = publish(replica, client, tmp_path, 3 * MIB + 12345)
    fast = replace(RANGED, one_stream_bytes_per_s=1 * MIB)

    result = fetch(client, [file], tmp_path / "out", limits=fast)

    assert (tmp_path / "out" / NAME).read_bytes() == data
    assert result.files[0].verified
    assert sorted(os.listdir(tmp_path / "out")) == [NAME]
    spans = [asked(e) for e in gets(replica)]
    assert len(spans) == 2, spans  # the probe's piece, then the rest in one stream
    assert spans[0][0] == 0 and spans[1] == (spans[0][1] + 1, None)


@pytest.mark.timeout(60)
def test_a_slow_first_connection_gets_help_from_more_ranges(replica, client, tmp_path):
    """A link pacing each connection: the first connection's rate says ranges will help."""
    file, data = publish(replica, client, tmp_path, 3 * MIB)
    replica.set_faults(slow_bytes_per_second=1 * MIB)
    judged = replace(RANGED, one_stream_bytes_per_s=8 * MIB)

    result = fetch(client, [file], tmp_path / "out", limits=judged)

    assert (tmp_path / "out" / NAME).read_bytes() == data
    assert result.files[0].verified
    entries = gets(replica)
    assert all(e["status"] == 206 for e in entries)
    assert 2 <= len({e["peer"] for e in entries}) <= 4


@pytest.mark.timeout(60)
def test_the_job_shares_one_connection_budget_between_files_and_ranges(replica, client, tmp_path):
    sources = []
    for index in range(3):
        path = tmp_path / f"source{index}.bin"
        path.write_bytes(os.urandom(2 * MIB))
        sources.append((f"big{index}.zip", path))
    version = replica.publish_package_version(PACKAGE_ID, files=sources)
    files = [d.remote_file() for d in client.data_package_version(PACKAGE_ID, version.id).downloads]
    replica.request_log.clear()
    replica.set_faults(slow_bytes_per_second=2 * MIB)

    result = fetch(client, files, tmp_path / "out", workers=2)

    assert all(f.verified for f in result.files) and len(result.files) == 3
    for name, path in sources:
        assert (tmp_path / "out" / name).read_bytes() == path.read_bytes()
    storage = [e for e in replica.requests("storage") if e["method"] == "GET"]
    deadline = time.monotonic() + 10
    while any("ended" not in e for e in storage) and time.monotonic() < deadline:
        time.sleep(0.02)
        storage = [e for e in replica.requests("storage") if e["method"] == "GET"]
    assert all(asked(e) is not None for e in storage)  # ranged, all of them
    assert most_open_at_once(storage) <= 2  # 2 workers x 4 ranges is still 2 connections


# --- faults -----------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_drop_in_one_range_is_resumed_on_its_own(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 3 * MIB)
    cut = 5 * PIECE + 1000  # in the middle of the sixth piece
    replica.set_faults(drop_at_offset=cut, drop_count=1)

    result = fetch(client, [file], tmp_path / "out")

    assert (tmp_path / "out" / NAME).read_bytes() == data
    assert result.files[0].verified and result.files[0].resumes == 1
    spans = [asked(e) for e in gets(replica)]
    # the cut piece alone is asked again, from the byte where it broke
    assert (cut, 6 * PIECE - 1) in spans
    assert sum(1 for s in spans if s[0] <= cut <= s[1]) == 2
    assert len(spans) == len(data) // PIECE + 1


@pytest.mark.timeout(60)
def test_an_expired_link_mid_way_is_asked_for_again(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 3 * MIB)
    replica.set_faults(slow_bytes_per_second=256 << 10)  # about 3 s in all
    resolved: List[float] = []

    def resolve(f: RemoteFile) -> str:
        # the first link lives 1-2 s (the expiry is in whole seconds), later ones an hour
        replica.set_faults(signed_url_ttl_seconds=2 if not resolved else 3600)
        resolved.append(time.monotonic())
        return client.resolve_download(f.url)

    result = fetch(client, [file], tmp_path / "out", resolve=resolve)

    assert (tmp_path / "out" / NAME).read_bytes() == data
    assert result.files[0].verified
    statuses = [e["status"] for e in gets(replica)]
    assert statuses[0] == 206 and 403 in statuses  # it expired mid-way
    refused = statuses.count(403)
    assert 2 <= len(resolved) <= 1 + refused  # a fresh link, shared by the ranges


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"ignore_range": True, "no_accept_ranges": True}, id="no-range-support"),
        pytest.param({"ignore_range": True}, id="range-ignored"),
        pytest.param({"no_accept_ranges": True}, id="ranges-not-offered"),
    ],
)
def test_a_storage_without_ranges_gets_one_stream(replica, client, tmp_path, faults, caplog):
    file, data = publish(replica, client, tmp_path, 2 * MIB)
    replica.set_faults(**faults)
    caplog.set_level(logging.DEBUG, logger="os_downloads")

    result = fetch(client, [file], tmp_path / "out")

    assert (tmp_path / "out" / NAME).read_bytes() == data
    assert result.files[0].verified
    entries = gets(replica)
    # one ranged question, then the whole file in one stream
    assert len(entries) == 2
    assert asked(entries[0]) == (0, PIECE - 1) and asked(entries[1]) is None
    assert any("in one stream" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(60)
def test_a_wrong_md5_is_still_refused_and_nothing_is_kept(replica, client, tmp_path):
    replica.set_faults(wrong_md5={NAME})
    file, _ = publish(replica, client, tmp_path, 2 * MIB)

    with pytest.raises(ChecksumMismatchError):
        fetch(client, [file], tmp_path / "out")

    assert os.listdir(tmp_path / "out") == []  # no final file, no .part, no sidecar
    spans = [asked(e) for e in gets(replica)]
    assert all(spans) and spans.count((0, PIECE - 1)) == 2  # ranged, and once more from scratch


@pytest.mark.timeout(60)
def test_a_blob_changed_mid_way_never_mixes_two_versions(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 2 * MIB)
    newer = bytes(255 - b for b in data)  # what the replica serves once the blob changed
    # the listing already names the new version's checksum: mixed bytes would fail it
    file = replace(file, checksum=Checksum("md5", hashlib.md5(newer).hexdigest()))
    replica.set_faults(changed_files={NAME: 3})

    result = fetch(client, [file], tmp_path / "out")

    assert (tmp_path / "out" / NAME).read_bytes() == newer
    assert result.files[0].verified
    entries = gets(replica)
    changed_at = next(i for i, e in enumerate(entries) if e["status"] == 200)
    assert entries[changed_at]["headers"].get("if-range")  # the old validator, refused
    restart = [i for i, e in enumerate(entries) if asked(e) == (0, PIECE - 1)]
    assert len(restart) == 2 and restart[1] > changed_at  # started again from scratch


# --- cancel and resume ------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_cancel_stops_every_range_and_the_next_run_fetches_only_the_rest(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 2 * MIB)
    replica.set_faults(slow_bytes_per_second=96 << 10)  # a piece takes ~2.7 s
    cancel = threading.Event()
    cancelled_at: List[float] = []

    def progress(p: Progress) -> None:
        if p.bytes_done >= 512 << 10 and not cancel.is_set():
            cancelled_at.extend((time.monotonic(), time.time()))
            cancel.set()

    dest = tmp_path / "out"
    with pytest.raises(Cancelled):
        fetch(client, [file], dest, progress=progress, cancel=cancel)
    stopped = time.monotonic() - cancelled_at[0]

    assert stopped < 2.0  # not waiting for the pieces under way to finish
    assert not any(t.name.startswith("download-") and t.is_alive() for t in threading.enumerate())
    first_run = gets(replica)
    wait_for_answers(replica, len(first_run))
    # the storage saw every range's connection close at once
    assert max(e["ended"] for e in gets(replica)) - cancelled_at[1] < 1.5
    assert not (dest / NAME).exists()
    assert (dest / (NAME + ".part")).stat().st_size == len(data)  # pre-allocated
    recorded = sidecar(dest)["ranges"]
    kept = sum(filled for _, _, filled in recorded)
    assert 512 << 10 <= kept < len(data)

    replica.set_faults(slow_bytes_per_second=0)
    replica.request_log.clear()
    result = fetch(client, [file], dest)

    assert (dest / NAME).read_bytes() == data
    assert result.files[0].verified and result.files[0].bytes_transferred == len(data) - kept
    second_run = [asked(e) for e in gets(replica)]
    assert sum(last - first + 1 for first, last in second_run) == len(data) - kept
    done = {(start, end) for start, end, filled in recorded if filled == end - start}
    assert not any(start <= first < end for first, _ in second_run for start, end in done)


@pytest.mark.timeout(60)
def test_one_stream_resumes_a_ranged_part_from_its_prefix(replica, client, tmp_path):
    file, data = publish(replica, client, tmp_path, 2 * MIB)
    replica.set_faults(slow_bytes_per_second=128 << 10)
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.bytes_done >= 768 << 10:
            cancel.set()

    dest = tmp_path / "out"
    with pytest.raises(Cancelled):
        fetch(client, [file], dest, progress=progress, cancel=cancel)
    recorded = sidecar(dest)["ranges"]
    prefix = 0
    for start, end, filled in recorded:
        prefix = start + filled
        if filled < end - start:
            break
    assert prefix > 0
    replica.set_faults(slow_bytes_per_second=0)
    replica.request_log.clear()

    result = fetch(client, [file], dest, limits=replace(RANGED, ranges_per_file=1))

    assert (dest / NAME).read_bytes() == data
    assert result.files[0].verified
    assert [asked(e) for e in gets(replica)] == [(prefix, None)]  # one stream, from the prefix


@pytest.mark.timeout(60)
def test_a_part_with_every_piece_in_is_verified_without_fetching(replica, client, tmp_path):
    """An earlier run stopped while hashing the last bytes: only the check is left."""
    file, data = publish(replica, client, tmp_path, 2 * MIB)
    head = client.storage_session.head(client.resolve_download(file.url))
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / (NAME + ".part")).write_bytes(data)
    described = {
        "file_name": NAME,
        "size": len(data),
        "checksum": f"md5:{file.checksum.hexdigest}",
        "etag": head.headers["ETag"],
        "last_modified": head.headers["Last-Modified"],
        "ranges": [[0, MIB, MIB], [MIB, len(data), MIB]],
    }
    (dest / (NAME + ".part.json")).write_text(json.dumps(described), "utf-8")
    replica.request_log.clear()

    result = fetch(client, [file], dest)

    assert (dest / NAME).read_bytes() == data
    assert result.files[0].verified and result.files[0].bytes_transferred == 0
    assert gets(replica) == [] and sorted(os.listdir(dest)) == [NAME]


# --- two programs ----------------------------------------------------------------------------

GRID = "ASCII Grid and GML (Grid)"
TERRAIN = "terr50_gagg_gb.zip"  # about 160 KB: 4 pieces when every file is ranged


def start_cli(replica, dest: Path) -> subprocess.Popen:
    """``os-downloads download`` in its own process, every file ranged (the environment)."""
    env = dict(
        os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / ".build" / "pythonpath")
    )
    env.update({"OS_DOWNLOADS_RANGED_MIN_MB": "0", "OS_DOWNLOADS_RANGES": "4"})
    env["OS_DOWNLOADS_ONE_STREAM_MB_S"] = "0"  # loopback is fast: ranges all the same
    env.pop("OS_API_KEY", None)
    command = ["--api-url", replica.api_url, "download", "Terrain50", "--format", GRID]
    return subprocess.Popen(
        [sys.executable, "-m", "os_downloads", *command, "--dest", str(dest)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(90)
@pytest.mark.skipif(os.name != "posix", reason="kills a process with SIGKILL")
def test_a_second_program_takes_over_a_killed_ranged_download(replica, tmp_path):
    served = (replica.data_dir / "files" / "Terrain50" / TERRAIN).read_bytes()
    replica.set_faults(slow_bytes_per_second=16_000)  # 4 connections: about 2.5 s
    folder = tmp_path / "Terrain50" / "2025-07" / GRID / "GB"
    record = folder / (TERRAIN + ".part.json")

    first = start_cli(replica, tmp_path)
    waited = len(served) // 4
    deadline = time.monotonic() + 20
    kept = 0
    while kept < waited and time.monotonic() < deadline:  # the sidecar's checkpoints
        time.sleep(0.05)
        try:
            kept = sum(f for _, _, f in json.loads(record.read_text("utf-8"))["ranges"])
        except (OSError, ValueError, KeyError, TypeError):
            kept = 0
    assert kept >= waited, "the first program recorded no progress"
    second = start_cli(replica, tmp_path)
    time.sleep(0.3)  # waiting for the first one's lock by now
    killed_at = time.time()
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    _, err = second.communicate(timeout=60)

    assert second.returncode == 0, err
    assert (folder / TERRAIN).read_bytes() == served
    assert not record.exists() and not (folder / (TERRAIN + ".part")).exists()
    taken_over = [
        asked(e) for e in gets(replica, TERRAIN) if e["time"] > killed_at and asked(e) is not None
    ]
    assert taken_over, "the second program fetched the rest"
    # only what the first one had not recorded
    assert sum(last - first + 1 for first, last in taken_over) <= len(served) - waited


@pytest.mark.timeout(120)
@pytest.mark.skipif(os.name != "posix", reason="kills processes with SIGKILL")
def test_two_ranged_programs_killed_at_random_moments_never_leave_a_wrong_byte(replica, tmp_path):
    served = (replica.data_dir / "files" / "Terrain50" / TERRAIN).read_bytes()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for round_number in range(6):
        replica.set_faults(slow_bytes_per_second=60_000)  # a piece takes about 0.7 s
        dest = tmp_path / f"round{round_number}"
        folder = dest / "Terrain50" / "2025-07" / GRID / "GB"
        first = start_cli(replica, dest)
        time.sleep(rng.uniform(0.0, 0.3))
        second = start_cli(replica, dest)
        victim = rng.choice((first, second))
        time.sleep(rng.uniform(0.2, 1.0))
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=10)
        survivor = second if victim is first else first
        _, err = survivor.communicate(timeout=60)
        where = f"seed {seed}, round {round_number}"
        assert survivor.returncode == 0, f"{where}: {err}"
        assert (folder / TERRAIN).read_bytes() == served, where
        assert not (folder / (TERRAIN + ".part")).exists(), where
