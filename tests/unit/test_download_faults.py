"""A hostile storage server: every download ends, verified or with one clear error.

The storage rows of the fault matrix, and the classes around them: bodies
that are short, long, cut, chunked and cut, trickled or never sent; links
that expire; ranges refused or ignored; wrong checksums. Each case runs over
real HTTP against the replica with small files and short deadlines (passed
as parameters), and checks what a user gets (the file or one typed error),
how long it took (a generous bound, so a hang fails) and how many requests
reached the replica (a bound, so a retry storm fails).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Type

import pytest
import requests

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.api.models import RemoteFile
from os_downloads.core.engine.download import (
    DownloadResult,
    TransferLimits,
    download_files,
)
from os_downloads.core.errors import (
    Cancelled,
    ChecksumMismatchError,
    NetworkError,
    OSDownloadsError,
    SizeMismatchError,
)
from os_downloads.core.net.retry import RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2, max_total_wait=10)
# Short deadlines for tests; the defaults are 30 s stall, 1 KB/s over 30 s, 60 s to give up.
QUICK = TransferLimits(stall_timeout=0.5, min_rate=2000, rate_window=0.5, give_up_after=2.0)
PACKAGE_ID = "0040154231"
BIG = "terr50_gagg_gb.zip"  # about 160 KB
MAX_REQUESTS = 30  # storage + API requests for one file, whatever the fault
MAX_SECONDS = 30.0  # generous: only a hang or a retry storm gets near it


@pytest.fixture()
def client(replica) -> OSDownloadsClient:
    return OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key), retry=FAST_RETRY)


def one(client: OSDownloadsClient, name: str = BIG) -> RemoteFile:
    return next(
        d.remote_file() for d in client.product_downloads("Terrain50") if d.file_name == name
    )


def fetch(client: OSDownloadsClient, files: List[RemoteFile], dest: Path, **kwargs: Any):
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("limits", QUICK)
    return download_files(
        files,
        dest,
        resolve=lambda f: client.resolve_download(f.url),
        session=client.storage_session,
        **kwargs,
    )


def served(replica, name: str = BIG) -> bytes:
    return (replica.data_dir / "files" / "Terrain50" / name).read_bytes()


def request_count(replica) -> int:
    return len(replica.requests("storage")) + len(replica.requests("api"))


def published_file(replica, client, tmp_path: Path, size: int) -> RemoteFile:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(size))
    version = replica.publish_package_version(PACKAGE_ID, files=[("big.zip", source)])
    return client.data_package_version(PACKAGE_ID, version.id).downloads[0].remote_file()


# --- retries that always end ---------------------------------------------------------------


@pytest.mark.timeout(60)
def test_the_files_of_one_job_share_one_retry_budget(replica, client, tmp_path):
    """Each file may retry 6 times, but all of a job's files together only as often as
    the job's budget allows: many failing files never multiply the requests."""
    files = [d.remote_file() for d in client.product_downloads("Terrain50")][:4]
    assert len(files) == 4
    replica.set_faults(short_body_bytes=1)
    replica.request_log.clear()
    job = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=10)

    with pytest.raises(NetworkError) as caught:
        fetch(client, files, tmp_path, limits=TransferLimits(), workers=1, job_retry=job)

    assert "the job's" in str(caught.value)
    # one try per file before the budget (3) is spent, never 4 files x 6 tries
    assert len(replica.requests("storage")) <= job.max_attempts + 1
    assert not any((tmp_path / f.file_name).exists() for f in files)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"short_body_bytes": 1}, id="one-byte-short"),
        pytest.param({"ignore_range": True, "cut_body_percent": 60}, id="no-range-cut-at-60"),
    ],
)
def test_a_storage_that_never_sends_the_whole_file_is_given_up(replica, client, tmp_path, faults):
    file = one(client)
    replica.set_faults(**faults)
    replica.request_log.clear()
    started = time.monotonic()

    # the default deadlines: the bound comes from counting tries, not from a clock
    with pytest.raises(NetworkError) as caught:
        fetch(client, [file], tmp_path, limits=TransferLimits())

    assert time.monotonic() - started < MAX_SECONDS
    assert "gave up after" in str(caught.value) and BIG in str(caught.value)
    assert not (tmp_path / BIG).exists()
    assert request_count(replica) < MAX_REQUESTS
    gets = replica.requests("storage")
    assert FAST_RETRY.max_attempts <= len(gets) <= FAST_RETRY.max_attempts + 2


# --- deadlines --------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_trickled_body_is_abandoned_by_the_watchdog(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(trickle_seconds_per_byte=0.02)  # 50 bytes/s: bytes keep coming, slowly
    replica.request_log.clear()
    started = time.monotonic()

    with pytest.raises(NetworkError) as caught:
        fetch(client, [file], tmp_path)

    assert time.monotonic() - started < MAX_SECONDS
    assert "bytes/s" in str(caught.value)  # "only 26 bytes arrived in 0.5 s, less than …"
    assert request_count(replica) < MAX_REQUESTS


@pytest.mark.timeout(60)
def test_a_storage_that_never_answers_is_given_up(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(storage_hang_seconds=30)
    replica.request_log.clear()
    started = time.monotonic()

    with pytest.raises(NetworkError) as caught:
        fetch(client, [file], tmp_path)

    assert time.monotonic() - started < QUICK.give_up_after + 5
    assert "no answer" in str(caught.value)
    assert request_count(replica) < MAX_REQUESTS


@pytest.mark.timeout(60)
def test_cancel_is_instant_while_storage_never_answers(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(storage_hang_seconds=30)
    cancel = threading.Event()
    outcome: List[BaseException] = []

    def run() -> None:
        try:  # the default deadlines: 30 s before a stall is noticed
            fetch(client, [file], tmp_path, limits=TransferLimits(), cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not replica.requests("storage") and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # the GET is waiting for its answer now
    cancel.set()
    worker.join(timeout=5)

    assert not worker.is_alive(), "cancel did not stop a GET waiting for its answer"
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


# --- a chunked body cut mid-chunk ----------------------------------------------------------


def test_a_chunked_body_cut_mid_chunk_resumes(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(chunked_cut_count=1)
    replica.request_log.clear()

    result = fetch(client, [file], tmp_path)

    got = result.files[0]
    assert got.verified and (tmp_path / BIG).read_bytes() == served(replica)
    first, second = replica.requests("storage")
    assert first["headers"].get("range") is None
    assert second["headers"].get("range", "").startswith("bytes=")
    assert second["headers"]["range"] != "bytes=0-"


# --- the old file stays until a verified replacement exists --------------------------------


@pytest.mark.parametrize(
    "faults, error",
    [
        pytest.param({"corrupt_files": {BIG: 2}}, ChecksumMismatchError, id="corrupt"),
        pytest.param({"short_body_bytes": 1}, NetworkError, id="short"),
    ],
)
def test_a_stale_file_stays_until_its_replacement_is_verified(
    replica, client, tmp_path, faults, error
):
    file = one(client)
    old = b"an older version of the file".ljust(file.size, b".")
    (tmp_path / BIG).write_bytes(old)
    replica.set_faults(**faults)

    with pytest.raises(error):
        fetch(client, [file], tmp_path)
    assert (tmp_path / BIG).read_bytes() == old  # the user still has what they had

    replica.reset()
    result = fetch(client, [file], tmp_path)
    assert result.files[0].verified and (tmp_path / BIG).read_bytes() == served(replica)


# --- per-thread sessions -----------------------------------------------------------------------


class RecordingSession(requests.Session):
    """A caller's session that notes which session object sent from which thread."""

    sent: List[Any] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        RecordingSession.sent.append((self, threading.get_ident()))
        return super().request(method, url, *args, **kwargs)


def test_each_worker_thread_has_its_own_session_made_like_the_callers(replica, client, tmp_path):
    files = [d.remote_file() for d in client.product_downloads("Terrain50")]
    caller = RecordingSession()
    caller.headers["User-Agent"] = "os_downloads/test"
    caller.proxies = {"ftp": "http://127.0.0.1:9"}  # carried over (and unused for http)
    caller.verify = False
    RecordingSession.sent = []

    result = download_files(
        files,
        tmp_path,
        resolve=lambda f: client.resolve_download(f.url),
        session=caller,
        workers=3,
        retry=FAST_RETRY,
    )

    assert all(f.verified for f in result.files)
    sessions_by_thread: Dict[int, set] = {}
    for session, thread in RecordingSession.sent:
        sessions_by_thread.setdefault(thread, set()).add(session)
    used = [s for group in sessions_by_thread.values() for s in group]
    assert caller not in used  # the workers never share the caller's session
    assert all(len(group) == 1 for group in sessions_by_thread.values())
    assert len(set(used)) == len(sessions_by_thread) <= 3
    for session in used:
        assert type(session) is RecordingSession
        assert session.headers["User-Agent"] == "os_downloads/test"
        assert session.proxies == caller.proxies and session.verify is False
        # closed at the end: their own connection pools are empty
        assert all(not a.poolmanager.pools for a in session.adapters.values())
    assert all(
        a is not b for a in caller.adapters.values() for s in used for b in s.adapters.values()
    )


# --- the storage rows of the fault matrix --------------------------------------------------


MATRIX = [
    ("short body", {"short_body_bytes": 1}, NetworkError),
    ("long body", {"long_body_bytes": 100}, SizeMismatchError),
    ("reset every 1 MB", {"drop_after_bytes": 1_000_000, "drop_count": 99}, None),
    ("trickle", {"trickle_seconds_per_byte": 0.02}, NetworkError),
    ("never answers", {"storage_hang_seconds": 30}, NetworkError),
    ("403 expired link", {"signed_url_ttl_seconds": 0}, NetworkError),
    ("416", {"storage_416_count": 99}, NetworkError),
    ("200 to a Range", {"ignore_range": True, "drop_after_bytes": 400_000, "drop_count": 1}, None),
    ("wrong MD5", {"wrong_md5": {"big.zip"}}, ChecksumMismatchError),
]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("faults, expected", [pytest.param(f, e, id=name) for name, f, e in MATRIX])
def test_storage_fault_matrix(
    replica,
    client,
    tmp_path,
    faults: Dict[str, Any],
    expected: Optional[Type[OSDownloadsError]],
):
    file = published_file(replica, client, tmp_path, 3_000_000)
    if "wrong_md5" in faults:  # the listing itself is wrong: ask for it with the fault on
        replica.set_faults(**faults)
        file = client.data_package_version(PACKAGE_ID, "latest").downloads[0].remote_file()
    source = (tmp_path / "source.bin").read_bytes()
    dest = tmp_path / "dest"
    replica.set_faults(**faults)
    replica.request_log.clear()
    started = time.monotonic()

    outcome: Optional[BaseException] = None
    result: Optional[DownloadResult] = None
    try:
        result = fetch(client, [file], dest)
    except OSDownloadsError as exc:
        outcome = exc

    elapsed = time.monotonic() - started
    count = request_count(replica)
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
    assert count < MAX_REQUESTS, f"{count} requests"
    final = dest / "big.zip"
    if expected is None:
        assert outcome is None, outcome
        assert result is not None and result.files[0].verified
        assert hashlib.md5(final.read_bytes()).digest() == hashlib.md5(source).digest()
    else:
        assert isinstance(outcome, expected), repr(outcome)
        assert "big.zip" in str(outcome)
        assert not final.exists()  # nothing under the final name
