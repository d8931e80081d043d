"""The download engine keeps its promises against the replica over real HTTP.

Each test sets a fault switch on the replica (dropped connections, 429s,
wrong or corrupted MD5s, slow bodies, expired links) and checks what a user
would find on disk and what the replica's request log says was asked.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional

import pytest
import requests

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.api.models import Checksum, RemoteFile
from os_downloads.core.engine.download import (
    PART_SUFFIX,
    STATUS_DOWNLOADED,
    STATUS_SKIPPED,
    DownloadResult,
    download_files,
)
from os_downloads.core.engine.manifest import Manifest, ManifestFile, write_manifest
from os_downloads.core.engine.partfile import PartInfo, write_part_info
from os_downloads.core.engine.progress import Progress
from os_downloads.core.engine.recorded import manifest_records
from os_downloads.core.errors import (
    Cancelled,
    ChecksumMismatchError,
    DownloadError,
    InsufficientSpaceError,
    SizeMismatchError,
)
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.replica.server.storage import etag_of

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2, max_total_wait=10)
PACKAGE_ID = "0040154231"
BIG = "terr50_gagg_gb.zip"  # the largest sample file (about 160 KB)


@pytest.fixture()
def client(replica) -> OSDownloadsClient:
    return OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key), retry=FAST_RETRY)


def terrain50(client: OSDownloadsClient) -> List[RemoteFile]:
    return [d.remote_file() for d in client.product_downloads("Terrain50")]


def one(client: OSDownloadsClient, name: str = BIG) -> RemoteFile:
    return next(f for f in terrain50(client) if f.file_name == name)


def fetch(
    client: OSDownloadsClient, files: List[RemoteFile], dest: Path, **kwargs
) -> DownloadResult:
    kwargs.setdefault("retry", FAST_RETRY)
    return download_files(
        files,
        dest,
        resolve=lambda f: client.resolve_download(f.url),
        session=client.storage_session,
        **kwargs,
    )


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def storage_gets(replica, name: str) -> list:
    return [e for e in replica.requests("storage") if e["path"].endswith("/" + name)]


def leftovers(folder: Path) -> List[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the plain path ---------------------------------------------------------------------


def test_downloads_every_file_verified_with_one_progress_stream(replica, client, tmp_path):
    files = terrain50(client)
    seen: List[Progress] = []
    result = fetch(client, files, tmp_path, workers=3, progress=seen.append)

    assert [r.name for r in result.files] == [f.file_name for f in files]
    for remote, got in zip(files, result.files):
        assert got.status == STATUS_DOWNLOADED and got.verified
        assert got.path == tmp_path / remote.file_name
        assert md5_of(got.path) == remote.checksum.hexdigest == got.checksum.hexdigest
        assert got.size == remote.size
    assert not any(name.endswith(PART_SUFFIX) for name in leftovers(tmp_path))
    last = seen[-1]
    assert (last.files_done, last.files_total) == (len(files), len(files))
    assert last.bytes_done == last.bytes_total == sum(f.size for f in files)
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen)


def test_the_key_never_reaches_storage(replica, client, tmp_path):
    version = client.data_package_version(PACKAGE_ID)
    result = fetch(client, [d.remote_file() for d in version.downloads], tmp_path)

    assert all(f.verified for f in result.files)
    storage = replica.requests("storage")
    assert len(storage) == len(version.downloads)
    for entry in storage:
        assert "key" not in entry["headers"] and "authorization" not in entry["headers"]
        assert replica.api_key not in entry["query"] and "key=" not in entry["query"]


def test_a_second_run_downloads_nothing(replica, client, tmp_path):
    files = terrain50(client)
    fetch(client, files, tmp_path)
    replica.request_log.clear()

    again = fetch(client, files, tmp_path)

    assert [f.status for f in again.files] == [STATUS_SKIPPED] * len(files)
    assert all(f.verified for f in again.files) and again.bytes_transferred == 0
    assert replica.requests("storage") == []
    assert replica.requests("api") == []  # not even a redirect was asked for


# --- resuming -----------------------------------------------------------------------------


def test_a_dropped_connection_resumes_with_a_range_and_a_fresh_link(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(drop_after_bytes=50_000, drop_count=2)

    result = fetch(client, [file], tmp_path)

    got = result.files[0]
    assert got.verified and md5_of(got.path) == file.checksum.hexdigest
    assert got.resumes == 2
    gets = storage_gets(replica, BIG)
    assert [e["headers"].get("range") for e in gets] == [None, "bytes=50000-", "bytes=100000-"]
    assert [e["status"] for e in gets] == [200, 206, 206]
    # one API redirect per attempt: signed links expire, so every resume asks again
    redirects = [e for e in replica.requests("api") if "redirect" in e["query"]]
    assert len(redirects) == 3
    for entry in gets:
        assert "key" not in entry["headers"] and "key=" not in entry["query"]


def test_a_package_file_resumes_and_its_key_goes_to_the_api_only(replica, client, tmp_path):
    version = client.data_package_version(PACKAGE_ID, "6307037")
    files = [d.remote_file() for d in version.downloads]
    replica.set_faults(drop_after_bytes=2000, drop_count=1)

    result = fetch(client, files, tmp_path, workers=1)

    assert all(f.verified for f in result.files)
    assert sum(f.resumes for f in result.files) == 1
    storage = replica.requests("storage")
    assert [e["headers"].get("range") for e in storage].count("bytes=2000-") == 1
    redirects = [e for e in replica.requests("api") if e["path"].endswith("/downloads")]
    assert len(redirects) == len(files) + 1  # the resume asked the API for a fresh link
    assert all(e["headers"].get("key") == replica.api_key for e in redirects)
    for entry in storage:
        assert "key" not in entry["headers"] and "authorization" not in entry["headers"]
        assert replica.api_key not in entry["query"] and "key=" not in entry["query"]


def served(replica, name: str = BIG) -> Path:
    return replica.data_dir / "files" / "Terrain50" / name


def earlier_part(dest: Path, file: RemoteFile, data: bytes, etag: Optional[str]) -> None:
    """A ``.part`` and its sidecar as an earlier, interrupted run leaves them."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / (file.file_name + PART_SUFFIX)).write_bytes(data)
    write_part_info(dest / file.file_name, PartInfo.for_file(file, etag=etag))


def test_a_part_file_from_an_earlier_run_is_resumed_if_range(replica, client, tmp_path):
    file = one(client)
    whole = served(replica).read_bytes()
    etag = etag_of(served(replica).stat())
    earlier_part(tmp_path, file, whole[:70_000], etag)

    result = fetch(client, [file], tmp_path)

    assert result.files[0].verified
    assert (tmp_path / BIG).read_bytes() == whole
    assert result.files[0].bytes_transferred == len(whole) - 70_000
    (get,) = storage_gets(replica, BIG)
    assert get["headers"].get("range") == "bytes=70000-"
    assert get["headers"].get("if-range") == etag
    assert leftovers(tmp_path) == [BIG]  # no .part, no sidecar, no lock file


def test_a_part_of_another_version_is_never_glued_to_this_one(replica, client, tmp_path):
    file = one(client)
    whole = served(replica).read_bytes()
    # the sidecar says the .part is the start of a file with another MD5
    other = RemoteFile(file.url, file.file_name, file.size, Checksum("md5", "0" * 32))
    earlier_part(tmp_path / "a", other, whole[:70_000], etag_of(served(replica).stat()))
    # no sidecar at all: nobody can say what it is
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / (BIG + PART_SUFFIX)).write_bytes(whole[:70_000])

    for dest in (tmp_path / "a", tmp_path / "b"):
        replica.request_log.clear()
        result = fetch(client, [file], dest)
        assert result.files[0].verified and (dest / BIG).read_bytes() == whole
        assert [e["headers"].get("range") for e in storage_gets(replica, BIG)] == [None]


def test_a_part_whose_file_changed_on_storage_is_fetched_whole(replica, client, tmp_path):
    file = one(client)
    whole = served(replica).read_bytes()
    earlier_part(tmp_path, file, b"\1" * 70_000, '"0x8D0000OLDVERSION"')

    result = fetch(client, [file], tmp_path)

    assert result.files[0].verified and (tmp_path / BIG).read_bytes() == whole
    (get,) = storage_gets(replica, BIG)  # one GET: the server honoured If-Range with a 200
    assert get["headers"].get("if-range") == '"0x8D0000OLDVERSION"'
    assert get["status"] == 200


def test_a_stale_part_file_with_wrong_bytes_is_caught_and_refetched(replica, client, tmp_path):
    file = one(client)
    earlier_part(tmp_path, file, b"\0" * 70_000, None)

    result = fetch(client, [file], tmp_path)

    assert md5_of(tmp_path / BIG) == file.checksum.hexdigest
    assert [e["headers"].get("range") for e in storage_gets(replica, BIG)] == [
        "bytes=70000-",
        None,
    ]
    assert result.files[0].verified


def test_a_429_storm_on_the_api_is_survived(replica, client, tmp_path):
    replica.set_faults(api_429_count=4, retry_after=0.05)

    result = fetch(client, terrain50(client)[:2], tmp_path)

    assert all(f.verified for f in result.files)
    assert sum(1 for e in replica.requests("api") if e["status"] == 429) == 4


def test_the_api_rate_limit_with_retry_after_is_survived(replica, client, tmp_path):
    files = terrain50(client)
    # 3 requests per 0.2 s window; a 429 says to come back after the window has passed
    replica.set_faults(rate_limit_per_minute=3, rate_limit_window_seconds=0.2, retry_after=0.25)

    result = fetch(client, files, tmp_path, workers=4)

    assert all(f.verified for f in result.files)
    limited = [e for e in replica.requests("api") if e["status"] == 429]
    assert limited, "the limit was reached, and waited out"


def test_an_expired_link_is_asked_for_again(replica, client, tmp_path):
    file = one(client)
    replica.set_faults(signed_url_ttl_seconds=0)
    resolved = []

    def resolve(f: RemoteFile) -> str:
        resolved.append(f.file_name)
        if len(resolved) == 2:
            replica.set_faults(signed_url_ttl_seconds=3600)
        return client.resolve_download(f.url)

    result = download_files(
        [file], tmp_path, resolve=resolve, session=client.storage_session, retry=FAST_RETRY
    )

    assert result.files[0].verified
    assert [e["status"] for e in storage_gets(replica, BIG)][0] == 403
    assert len(resolved) >= 2


# --- integrity ----------------------------------------------------------------------------


def test_a_wrong_md5_in_the_listing_is_caught_and_nothing_is_kept(replica, client, tmp_path):
    replica.set_faults(wrong_md5={BIG})
    file = one(client)

    with pytest.raises(ChecksumMismatchError) as caught:
        fetch(client, [file], tmp_path)

    error = caught.value
    assert error.file_name == BIG and error.algorithm == "md5"
    assert error.expected == file.checksum.hexdigest
    assert (
        error.actual
        == hashlib.md5((replica.data_dir / "files" / "Terrain50" / BIG).read_bytes()).hexdigest()
    )
    assert BIG in str(error) and error.expected in str(error) and error.actual in str(error)
    assert leftovers(tmp_path) == []  # neither the final name nor a .part
    assert len(storage_gets(replica, BIG)) == 2  # fetched once more from scratch


def test_a_body_corrupted_once_is_fetched_again(replica, client, tmp_path):
    replica.set_faults(corrupt_files={BIG: 1})

    result = fetch(client, [one(client)], tmp_path)

    assert result.files[0].verified
    assert [e["headers"].get("range") for e in storage_gets(replica, BIG)] == [None, None]


def test_a_body_corrupted_twice_fails_with_nothing_left(replica, client, tmp_path):
    replica.set_faults(corrupt_files={BIG: 2})

    with pytest.raises(ChecksumMismatchError):
        fetch(client, [one(client)], tmp_path)

    assert leftovers(tmp_path) == []


def test_a_listing_without_checksum_is_checked_by_size_and_marked_unverified(
    replica, client, tmp_path
):
    listed = one(client)
    file = RemoteFile(listed.url, listed.file_name, listed.size, None)

    result = fetch(client, [file], tmp_path)

    got = result.files[0]
    assert got.status == STATUS_DOWNLOADED and not got.verified
    assert result.unverified == [got]
    assert got.checksum.algorithm == "md5"
    assert got.checksum.hexdigest == listed.checksum.hexdigest  # recorded for later runs


class _ChangingFileHandler(BaseHTTPRequestHandler):
    """A storage server whose file grows between a dropped connection and the resume."""

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        if self.headers.get("Range"):
            body = b"b" * 1000
            self.send_response(206)
            self.send_header("Content-Range", "bytes 500-1499/1500")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"a" * 500)  # then the connection drops

    def log_message(self, *args) -> None:
        pass


def test_a_file_without_listed_size_or_checksum_is_never_kept_truncated(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChangingFileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/changing.zip"
    try:
        with pytest.raises(SizeMismatchError):
            download_files(
                [RemoteFile(url, "changing.zip", None, None)],
                tmp_path,
                resolve=lambda f: f.url,
                session=requests.Session(),
                retry=FAST_RETRY,
            )
    finally:
        server.shutdown()
        server.server_close()
    assert leftovers(tmp_path) == []


def test_an_unverified_file_is_skipped_only_when_the_manifest_knows_it(replica, client, tmp_path):
    listed = one(client)
    file = RemoteFile(listed.url, listed.file_name, listed.size, None)
    first = fetch(client, [file], tmp_path).files[0]
    replica.request_log.clear()

    again = fetch(client, [file], tmp_path, recorded=manifest_records(tmp_path))
    # no manifest: cannot trust it, fetch again
    assert again.files[0].status == STATUS_DOWNLOADED
    assert len(storage_gets(replica, BIG)) == 1

    record = ManifestFile(BIG, first.size, md5=first.checksum.hexdigest, verified=False)
    write_manifest(tmp_path, Manifest(source="os-opendata", id="Terrain50", files=[record]))
    replica.request_log.clear()
    third = fetch(client, [file], tmp_path, recorded=manifest_records(tmp_path))
    assert third.files[0].status == STATUS_SKIPPED and not third.files[0].verified
    assert replica.requests("storage") == []


def test_a_stale_final_file_is_replaced(replica, client, tmp_path):
    file = one(client)
    (tmp_path / BIG).write_bytes(b"x" * file.size)

    result = fetch(client, [file], tmp_path)

    assert result.files[0].status == STATUS_DOWNLOADED
    assert md5_of(tmp_path / BIG) == file.checksum.hexdigest


def test_file_names_that_could_escape_the_folder_are_refused(client, tmp_path):
    listed = one(client)
    for name in ("../evil.zip", "sub/evil.zip", "..", ""):
        with pytest.raises(DownloadError):
            fetch(client, [RemoteFile(listed.url, name, listed.size, None)], tmp_path / "d")
    assert not (tmp_path / "evil.zip").exists()


# --- cancelling ---------------------------------------------------------------------------


def test_cancelling_stops_all_workers_and_keeps_only_part_files(replica, client, tmp_path):
    files = terrain50(client)
    replica.set_faults(slow_bytes_per_second=40_000)
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.bytes_done > 60_000:
            cancel.set()

    with pytest.raises(Cancelled):
        fetch(client, files, tmp_path, workers=4, progress=on_progress, cancel=cancel)

    names = leftovers(tmp_path)
    assert names, "the partial downloads are kept for a resume"
    parts = [n for n in names if n.endswith(PART_SUFFIX)]
    assert parts and sorted(parts + [n + ".json" for n in parts]) == names  # no final file

    replica.set_faults(slow_bytes_per_second=0)
    replica.request_log.clear()
    result = fetch(client, files, tmp_path)
    assert all(f.verified for f in result.files)
    ranges = [e["headers"].get("range") for e in replica.requests("storage")]
    assert any(r and r.startswith("bytes=") for r in ranges)  # resumed, not restarted


def test_a_job_cancelled_before_it_starts_touches_nothing(replica, client, tmp_path):
    cancel = threading.Event()
    cancel.set()

    with pytest.raises(Cancelled):
        fetch(client, terrain50(client), tmp_path, cancel=cancel)

    assert replica.requests("storage") == []


# --- disk space ---------------------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path) -> Path:
    """A 2 MiB tmpfs: needs root (CI containers usually are); skipped otherwise."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


def published_big_file(replica, client, tmp_path) -> RemoteFile:
    """A 3 MB file served as a new data package version (bigger than ``small_disk``)."""
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3_000_000))
    version = replica.publish_package_version(PACKAGE_ID, files=[("big.zip", source)])
    listed = client.data_package_version(PACKAGE_ID, version.id).downloads[0]
    assert listed.size == 3_000_000
    return listed.remote_file()


def test_free_space_is_checked_before_anything_is_fetched(replica, client, tmp_path, small_disk):
    file = published_big_file(replica, client, tmp_path)
    replica.request_log.clear()

    with pytest.raises(InsufficientSpaceError) as caught:
        fetch(client, [file], small_disk)

    assert str(small_disk) in str(caught.value)
    assert replica.requests("storage") == [] and leftovers(small_disk) == []


def test_a_disk_filling_up_mid_way_ends_cleanly(replica, client, tmp_path, small_disk):
    listed = published_big_file(replica, client, tmp_path)
    file = RemoteFile(listed.url, listed.file_name, None, listed.checksum)  # size unknown

    with pytest.raises(InsufficientSpaceError) as caught:
        fetch(client, [file], small_disk)

    message = str(caught.value)
    assert "big.zip" in message and str(small_disk) in message
    assert leftovers(small_disk) == []  # no final file, no .part filling the disk
    assert len(storage_gets(replica, "big.zip")) == 1  # a full disk is not retried
