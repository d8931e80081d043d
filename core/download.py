"""The download engine: verified, resumable, parallel file downloads.

``download_files`` fetches a list of ``RemoteFile`` into one folder and
promises:

- bytes stream into ``<name>.part`` and are hashed while they arrive (MD5 for
  OS, SHA-256 for TRUD; one pass, on a helper thread so hashing overlaps the
  network); size and checksum are checked, the file is fsynced, and only then
  renamed to its final name. A file whose listing has no checksum is checked
  by size and reported unverified (its MD5 is still recorded).
- a final file already on disk whose checksum matches is skipped (hashed
  locally, no network). Without a listed checksum, a file is skipped when its
  size matches and the folder's manifest recorded it (and its digest, if any).
- a dropped connection resumes from the ``.part`` bytes with ``Range``, after
  asking ``resolve`` again for a fresh URL (signed storage URLs expire); a
  ``200`` answer to a range request restarts from zero. Failures are retried
  with backoff (``RetryPolicy``), the count starting again after progress.
- a wrong checksum (or size): the ``.part`` is deleted and the file fetched
  once more from scratch; still wrong raises ``ChecksumMismatchError`` (or
  ``SizeMismatchError``), leaving neither a final file nor a ``.part``.
- a bounded pool of workers (default 4) and one progress stream for the job.
  ``progress`` is called from worker threads (never concurrently, at most
  about ten times a second plus once per finished file); a GUI must marshal it
  to its own thread (the QGIS task does).
- cancellation (``cancel.set()``) stops every worker promptly: between chunks,
  and by shutting open connections down; ``Cancelled`` is raised, no
  incomplete final file exists, and ``.part`` files stay for a later resume.
- the first error stops the other workers the same way (their ``.part`` files
  stay) and is raised once all have stopped.
- free space is checked before starting; a full disk mid-way raises
  ``InsufficientSpaceError`` naming the file and folder, with the ``.part``
  removed and no final file.

Why 4 workers: OS allows 600 API requests a minute per project. Each file
costs one API request (the redirect to storage) plus one per resume; storage
requests are not counted. Four workers on real-sized files stay far below the
limit, and a 429 is honoured (``Retry-After``) by the client's retries.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import shutil
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple

import requests
import urllib3

from .checksums import DEFAULT_ALGORITHM, file_matches, new_hasher, update_from_file
from .errors import (
    Cancelled,
    ChecksumMismatchError,
    DownloadError,
    InsufficientSpaceError,
    NetworkError,
    OSDownloadsError,
    SizeMismatchError,
)
from .manifest import MANIFEST_NAME, Manifest, read_manifest
from .models import Checksum, RemoteFile
from .redact import get_logger, redact
from .retry import RetryPolicy, parse_retry_after
from .retry import wait as retry_wait

log = get_logger(__name__)

PART_SUFFIX = ".part"
DEFAULT_WORKERS = 4
DEFAULT_CHUNK_SIZE = 1 << 20
STORAGE_TIMEOUT: Tuple[float, float] = (15.0, 60.0)  # connect, read (between bytes)
PROGRESS_INTERVAL_S = 0.1
RATE_WINDOW_S = 3.0
WAKE_S = 0.25  # the waiting thread wakes this often to let Ctrl-C in
THREADED_HASH_MIN_BYTES = 8 << 20  # smaller files hash inline: a thread costs more than it saves
HASH_QUEUE_CHUNKS = 8
FLUSH_EVERY_BYTES = 32 << 20  # written data pushed to disk while downloading (see _BackgroundFlush)
SPACE_MARGIN_BYTES = 16 << 20  # plus 1% of what is to come: file system overhead, the manifest

PHASE_VERIFY = "verify"  # hashing files already on disk
PHASE_DOWNLOAD = "download"
PHASE_EXTRACT = "extract"  # used by core/jobs.py
PHASE_DISCOVER = "discover"  # used by core/jobs.py

STATUS_DOWNLOADED = "downloaded"
STATUS_SKIPPED = "skipped"

Resolver = Callable[[RemoteFile], str]


@dataclass(frozen=True)
class Progress:
    """Where a whole job is. ``bytes_total`` is 0 while no size is known.

    ``phase`` is "verify", "download", "extract" or "discover"; during
    extraction the byte and file counts are those of the extraction.
    """

    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    current_file: str
    rate_bytes_per_s: float
    phase: str = PHASE_DOWNLOAD

    @property
    def fraction(self) -> Optional[float]:
        """0..1 when the total is known, else None."""
        if self.bytes_total > 0:
            return min(self.bytes_done / self.bytes_total, 1.0)
        if self.files_total > 0:
            return self.files_done / self.files_total
        return None


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file.

    ``status``: "downloaded" or "skipped" (already on disk and checked).
    ``verified``: the checksum was listed and matched (False: size only).
    ``checksum``: what the bytes hash to (the listed algorithm, else MD5).
    ``bytes_transferred``: body bytes received for it in this run.
    """

    file: RemoteFile
    path: Path
    status: str
    verified: bool
    size: int
    checksum: Checksum
    bytes_transferred: int = 0
    resumes: int = 0

    @property
    def name(self) -> str:
        return self.file.file_name


@dataclass(frozen=True)
class DownloadResult:
    dest: Path
    files: Tuple[FileResult, ...]
    elapsed_s: float = 0.0

    @property
    def downloaded(self) -> List[FileResult]:
        return [f for f in self.files if f.status == STATUS_DOWNLOADED]

    @property
    def skipped(self) -> List[FileResult]:
        return [f for f in self.files if f.status == STATUS_SKIPPED]

    @property
    def unverified(self) -> List[FileResult]:
        return [f for f in self.files if not f.verified]

    @property
    def downloaded_count(self) -> int:
        return len(self.downloaded)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    @property
    def bytes_transferred(self) -> int:
        return sum(f.bytes_transferred for f in self.files)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


def download_files(
    files: Sequence[RemoteFile],
    dest: Path,
    *,
    resolve: Resolver,
    session: requests.Session,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
    retry: Optional[RetryPolicy] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    timeout: Tuple[float, float] = STORAGE_TIMEOUT,
) -> DownloadResult:
    """Download ``files`` into ``dest``; see the module docstring for the promises.

    ``resolve(file)`` returns the URL to GET (OS: ``client.resolve_download``;
    TRUD: the file's own URL); it is called again before every resume.
    ``session`` must carry no credentials (OS: ``client.storage_session``).
    """
    job = _Job(
        list(files),
        Path(dest),
        resolve=resolve,
        session=session,
        workers=max(1, int(workers)),
        progress=progress,
        cancel=cancel,
        retry=retry or RetryPolicy(),
        chunk_size=max(4096, int(chunk_size)),
        timeout=timeout,
    )
    return job.run()


def part_path(final: Path) -> Path:
    return final.with_name(final.name + PART_SUFFIX)


def check_free_space(dest: Path, needed: int) -> None:
    """Raise ``InsufficientSpaceError`` unless ``dest``'s disk has ``needed`` bytes + margin."""
    if needed <= 0:
        return
    wanted = needed + SPACE_MARGIN_BYTES + needed // 100
    try:
        free = shutil.disk_usage(str(dest)).free
    except OSError as exc:  # some network shares cannot say; a full disk is still caught later
        log.info("Cannot tell the free space in %s (%s); not checking it", dest, exc)
        return
    if free < wanted:
        raise InsufficientSpaceError(
            f"Not enough free disk space in {dest}: the download needs {format_bytes(wanted)} "
            f"(with a small margin) and {format_bytes(free)} is free."
        )


def format_bytes(count: float) -> str:
    """1536 -> '1.5 KB' (decimal units, as file managers and OS listings show)."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


# --- the job ------------------------------------------------------------------------


class _Job:
    """One call of ``download_files``: the plan, the pool, cancellation, errors."""

    def __init__(
        self,
        files: List[RemoteFile],
        dest: Path,
        *,
        resolve: Resolver,
        session: requests.Session,
        workers: int,
        progress: Optional[ProgressCallback],
        cancel: Optional[threading.Event],
        retry: RetryPolicy,
        chunk_size: int,
        timeout: Tuple[float, float],
    ) -> None:
        self.files = files
        self.dest = dest
        self.resolve = resolve
        self.session = session
        self.workers = workers
        self.cancel = cancel
        self.retry = retry
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.halted = threading.Event()  # user cancel or a failed worker: everyone stops
        self._responses: Set[requests.Response] = set()
        self._responses_lock = threading.Lock()
        self.tracker = _Tracker(len(files), progress)

    # --- running -------------------------------------------------------------

    def run(self) -> DownloadResult:
        started = time.monotonic()
        _check_names(self.files)
        try:
            self.dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(
                f"Cannot use {self.dest} as the download folder: {exc.strerror or exc}."
            ) from None
        finished = threading.Event()
        watcher = None
        if self.cancel is not None:
            watcher = threading.Thread(
                target=self._watch_cancel, args=(finished,), name="download-cancel", daemon=True
            )
            watcher.start()
        try:
            results = self._run()
        finally:
            finished.set()
            if watcher is not None:
                watcher.join()
        return DownloadResult(self.dest, tuple(results), time.monotonic() - started)

    def _run(self) -> List[FileResult]:
        self._raise_if_cancelled()
        manifest = read_manifest(self.dest)
        self.tracker.set_total(sum(f.size or 0 for f in self.files))
        results: Dict[int, FileResult] = {}
        todo: List[Tuple[int, RemoteFile]] = []
        for index, file in enumerate(self.files):
            skipped = self._already_there(file, manifest)
            if skipped is None:
                todo.append((index, file))
            else:
                results[index] = skipped
                self.tracker.file_skipped(skipped.size)
        self._raise_if_cancelled()
        check_free_space(self.dest, sum(self._bytes_to_come(f) for _, f in todo))
        if todo:
            for index, result in self._download_all(todo):
                results[index] = result
        self.tracker.emit(force=True)
        return [results[i] for i in range(len(self.files))]

    def _download_all(self, todo: List[Tuple[int, RemoteFile]]) -> List[Tuple[int, FileResult]]:
        errors: List[BaseException] = []
        done: List[Tuple[int, FileResult]] = []
        pool = ThreadPoolExecutor(
            max_workers=min(self.workers, len(todo)), thread_name_prefix="download"
        )
        try:
            futures = {pool.submit(self._download_one, file): index for index, file in todo}
            pending = set(futures)
            ended = threading.Event()
            for future in futures:
                future.add_done_callback(lambda _future: ended.set())
            while pending:
                # Short waits on a plain event, again and again: Ctrl-C reaches this
                # thread within WAKE_S even where an untimed wait cannot be
                # interrupted (Windows), and no future's lock is ever held here.
                ended.wait(WAKE_S)
                ended.clear()
                finished = {future for future in pending if future.done()}
                pending -= finished
                for future in finished:
                    error = future.exception()
                    if error is None:
                        done.append((futures[future], future.result()))
                    else:
                        errors.append(error)
                        self.halt()
        except BaseException:  # Ctrl-C in the waiting thread: stop the workers before waiting
            self.halt()
            raise
        finally:
            pool.shutdown(wait=True)
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Download cancelled; partial files were kept to resume later.")
        if errors:
            # The first real failure, not the Cancelled it caused in the other workers.
            raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
        return done

    def _download_one(self, file: RemoteFile) -> FileResult:
        self._raise_if_halted()
        return _FileDownload(self, file).run()

    # --- what is already there -------------------------------------------------

    def _already_there(
        self, file: RemoteFile, manifest: Optional[Manifest]
    ) -> Optional[FileResult]:
        """A "skipped" result when the final file is present and checks out."""
        final = self.dest / file.file_name
        try:
            size = final.stat().st_size
        except FileNotFoundError:
            return None
        if file.size is not None and size != file.size:
            return None
        self.tracker.verifying(file.file_name)
        if file.checksum is not None:
            if not file_matches(final, file.checksum, cancel=self.halted_or_cancelled()):
                self._raise_if_cancelled()
                return None
            return FileResult(file, final, STATUS_SKIPPED, True, size, file.checksum)
        recorded = manifest.file(file.file_name) if manifest is not None else None
        if recorded is None or recorded.size != size:
            return None
        digest = recorded.md5 or recorded.sha256
        algorithm = "md5" if recorded.md5 else "sha256"
        if digest:
            checksum = Checksum(algorithm, digest.lower())
            if not file_matches(final, checksum, cancel=self.halted_or_cancelled()):
                self._raise_if_cancelled()
                return None
            return FileResult(file, final, STATUS_SKIPPED, False, size, checksum)
        return None

    def _bytes_to_come(self, file: RemoteFile) -> int:
        if file.size is None:
            return 0
        try:
            have = part_path(self.dest / file.file_name).stat().st_size
        except OSError:
            have = 0
        return max(file.size - min(have, file.size), 0)

    # --- stopping --------------------------------------------------------------

    def halted_or_cancelled(self) -> threading.Event:
        if self.cancel is not None and self.cancel.is_set():
            self.halted.set()
        return self.halted

    def halt(self) -> None:
        """Stop every worker: set the flag and shut open connections down."""
        self.halted.set()
        with self._responses_lock:
            responses = list(self._responses)
        for response in responses:
            _abort(response)

    def _watch_cancel(self, finished: threading.Event) -> None:
        assert self.cancel is not None
        while not finished.is_set():
            if self.cancel.wait(0.05):
                self.halt()
                return

    def _raise_if_cancelled(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Download cancelled.")

    def _raise_if_halted(self) -> None:
        if self.halted.is_set() or (self.cancel is not None and self.cancel.is_set()):
            raise Cancelled("Download cancelled.")

    def track(self, response: requests.Response) -> None:
        with self._responses_lock:
            self._responses.add(response)
        if self.halted.is_set():
            _abort(response)

    def untrack(self, response: requests.Response) -> None:
        with self._responses_lock:
            self._responses.discard(response)
        response.close()


def _check_names(files: List[RemoteFile]) -> None:
    seen: Set[str] = set()
    for file in files:
        name = file.file_name
        bad = (
            not name
            or name in (".", "..", MANIFEST_NAME)
            or any(c in name for c in "/\\:\0")
            or name.endswith(PART_SUFFIX)
        )
        if bad:
            raise DownloadError(
                f"Refusing to download a file named {name!r}: not a plain file name."
            )
        if name in seen:
            raise DownloadError(f"The file list names {name!r} twice.")
        seen.add(name)


def _abort(response: requests.Response) -> None:
    """Wake a thread blocked reading ``response``: shut its socket down, then close it."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        response.close()
    except Exception:  # noqa: BLE001 - closing from another thread may race; it is closed
        pass


# --- one file -----------------------------------------------------------------------


class _Retry(Exception):
    """A failed attempt worth another try (after a fresh ``resolve``)."""

    def __init__(
        self, message: str, *, progressed: bool = False, retry_after: Optional[float] = None
    ) -> None:
        super().__init__(message)
        self.progressed = progressed
        self.retry_after = retry_after


_BODY_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    socket.timeout,
    OSError,
    ValueError,  # reading a response another thread closed
    AttributeError,  # idem, on some urllib3 versions
)


class _FileDownload:
    """Fetch one file into its ``.part``, verify, and move it into place."""

    def __init__(self, job: _Job, file: RemoteFile) -> None:
        self.job = job
        self.file = file
        self.name = file.file_name
        self.final = job.dest / file.file_name
        self.part = part_path(self.final)
        self.algorithm = file.checksum.algorithm if file.checksum else DEFAULT_ALGORITHM
        self.expected_size = file.size  # learnt from the server when the listing has none
        self.overflow: Optional[int] = None  # bytes seen when the server sent too many
        self.flusher = _BackgroundFlush(None)
        self.transferred = 0
        self.resumes = 0
        self.tracked_bytes = 0  # what this file added to the job's bytes_done

    def run(self) -> FileResult:
        if self.final.exists():
            log.info("%s on disk does not match the listing; downloading it again", self.name)
            self.final.unlink()
        for attempt in (1, 2):
            threaded = (self.file.size or 0) >= THREADED_HASH_MIN_BYTES
            hasher = _StreamHasher(self.algorithm, threaded=threaded)
            try:
                size = self._fill_part(hasher, fresh=attempt > 1)
                actual = hasher.hexdigest()
            except InsufficientSpaceError:
                self._discard_part()  # the file is closed by now (Windows cannot delete it open)
                raise
            finally:
                hasher.close()
            problem = self._problem(size, actual)
            if problem is None:
                self._commit()
                self.job.tracker.file_done(self.name)
                return FileResult(
                    self.file,
                    self.final,
                    STATUS_DOWNLOADED,
                    self.file.checksum is not None,
                    size,
                    Checksum(self.algorithm, actual),
                    self.transferred,
                    self.resumes,
                )
            self._discard_part()
            if attempt == 1:
                log.warning("%s Fetching it once more from the start.", problem.message)
                continue
            raise problem
        raise AssertionError("unreachable")

    def _problem(self, size: int, actual: str) -> Optional[DownloadError]:
        # Without a listed size, the size the server announced is the one to meet.
        expected = self.file.size if self.file.size is not None else self.expected_size
        if self.overflow is not None and expected is not None:
            return SizeMismatchError(self.name, expected, self.overflow)
        if expected is not None and size != expected:
            return SizeMismatchError(self.name, expected, size)
        if self.file.checksum is not None and actual != self.file.checksum.hexdigest.lower():
            return ChecksumMismatchError(
                self.name, self.algorithm, self.file.checksum.hexdigest.lower(), actual
            )
        return None

    # --- filling the .part -----------------------------------------------------

    def _fill_part(self, hasher: _StreamHasher, *, fresh: bool) -> int:
        """Bring ``.part`` to the whole file, resuming as needed; return its size.

        The file position is the resume offset: every write advances it, every
        restart from zero rewinds it (and the hash) to the start. The data are
        on disk (fsync) before this returns.
        """
        self.overflow = None
        if fresh and self.file.size is None and self.expected_size is not None:
            self.job.tracker.add_total(-self.expected_size)  # learnt again from this fetch
            self.expected_size = None
        offset = 0 if fresh else self._usable_part_size()
        try:
            out = open(self.part, "r+b" if offset else "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise self._disk_error(exc) from None
        with _closing(out, self._disk_error):
            if offset:
                out.seek(offset)
                out.truncate()
                update_from_file(hasher.raw, self.part, length=offset, cancel=self.job.halted)
                self._count(offset, transferred=False)
                log.info("Resuming %s from byte %d of an earlier run", self.name, offset)
            self.flusher = _BackgroundFlush(out)
            try:
                self._transfer(out, hasher)
            finally:
                self.flusher.close()
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise self._disk_error(exc) from None
            return out.tell()

    def _transfer(self, out: BinaryIO, hasher: _StreamHasher) -> None:
        """GET (and resume) until the file is whole, within the retry policy."""
        failures, waited = 0, 0.0
        while not self._complete(out.tell()):
            self.job._raise_if_halted()
            try:
                if self._fetch(out, hasher):
                    return  # the body ended where the server said it would
                raise _Retry("the connection ended early", progressed=True)
            except _Retry as problem:
                failures = 0 if problem.progressed else failures + 1
                policy = self.job.retry
                if failures >= policy.max_attempts or waited >= policy.max_total_wait:
                    raise NetworkError(
                        f"{self.name}: the download failed after {failures} tries ({problem})."
                    ) from None
                delay = 0.0 if problem.progressed else policy.delay(failures, problem.retry_after)
                log.info("%s: %s; trying again from byte %d", self.name, problem, out.tell())
                self.resumes += 1
                retry_wait(delay, self.job.halted)
                waited += delay

    def _complete(self, offset: int) -> bool:
        return self.overflow is not None or (
            self.expected_size is not None and offset >= self.expected_size
        )

    def _usable_part_size(self) -> int:
        """Bytes of an earlier run's ``.part`` worth keeping (0: start again)."""
        try:
            have = self.part.stat().st_size
        except FileNotFoundError:
            return 0
        if self.file.size is not None and have > self.file.size:
            return 0
        return have

    def _fetch(self, out: BinaryIO, hasher: _StreamHasher) -> bool:
        """One GET, ranged from the file position when it is past zero.

        Streams the body into ``out``; True when the body ended where the
        server said it would, False when it ended early without an error.
        """
        url = self.job.resolve(self.file)  # fresh every time: signed URLs expire
        offset = out.tell()
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = self.job.session.get(
                url, headers=headers, stream=True, timeout=self.job.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retry(f"could not connect: {redact(str(exc))}") from None
        except requests.RequestException as exc:
            raise NetworkError(f"{self.name}: the request failed: {redact(str(exc))}") from None
        self.job.track(response)
        try:
            self._check_status(response, out, hasher)
            return self._stream(response, out, hasher)
        finally:
            self.job.untrack(response)

    def _check_status(
        self, response: requests.Response, out: BinaryIO, hasher: _StreamHasher
    ) -> None:
        status = response.status_code
        offset = out.tell()
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                self._rewind(out, hasher)
                raise _Retry(f"the server resumed at byte {start}, not {offset}; starting again")
            if total is not None and self.expected_size is None:
                self._learn_size(total)
            return
        if status == 200:
            if offset:
                log.info("%s: the server ignored the range; starting again from zero", self.name)
                self._rewind(out, hasher)
            length = _int_header(response, "Content-Length")
            if length is not None and self.expected_size is None:
                self._learn_size(length)
            return
        if status == 416:
            self._rewind(out, hasher)
            raise _Retry("the server refused the range; starting again")
        if status in (401, 403):  # an expired or refused signed URL: ask the API for a new one
            raise _Retry(f"storage refused the link (HTTP {status})")
        if status == 429 or status >= 500:
            raise _Retry(
                f"storage answered HTTP {status}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 404:
            raise DownloadError(f"{self.name}: the file is not on the storage server (HTTP 404).")
        raise DownloadError(f"{self.name}: unexpected HTTP {status} from the storage server.")

    def _stream(self, response: requests.Response, out: BinaryIO, hasher: _StreamHasher) -> bool:
        length = _int_header(response, "Content-Length")
        limit = self.expected_size
        received = 0
        read_some = _reader(response)
        while True:
            if self.job.halted.is_set():
                raise Cancelled()
            try:
                chunk = read_some(self.job.chunk_size)
            except _BODY_ERRORS as exc:
                if self.job.halted.is_set():
                    raise Cancelled() from None
                raise _Retry(
                    f"the connection dropped after {received} bytes ({type(exc).__name__})",
                    progressed=received > 0,
                ) from None
            if not chunk:
                break
            position = out.tell()
            if limit is not None and position + len(chunk) > limit:
                # More than the listing says: keep nothing past it and stop reading.
                self.overflow = position + len(chunk)
                return True
            self._write(out, hasher, chunk)
            received += len(chunk)
        complete = length is None or received >= length
        if complete:
            _release(response)
        return complete

    def _write(self, out: BinaryIO, hasher: _StreamHasher, chunk: bytes) -> None:
        if not chunk:
            return
        try:
            out.write(chunk)
        except OSError as exc:
            raise self._disk_error(exc) from None
        hasher.update(chunk)
        self.flusher.wrote(len(chunk))
        self.transferred += len(chunk)
        self._count(len(chunk), transferred=True)

    def _rewind(self, out: BinaryIO, hasher: _StreamHasher) -> None:
        out.seek(0)
        out.truncate()
        hasher.reset()
        self._count(-self.tracked_bytes, transferred=False)

    def _learn_size(self, size: int) -> None:
        self.expected_size = size
        if self.file.size is None:
            self.job.tracker.add_total(size)

    def _count(self, count: int, *, transferred: bool) -> None:
        self.tracked_bytes += count
        self.job.tracker.add(self.name, count, transferred=transferred)

    # --- finishing -------------------------------------------------------------

    def _commit(self) -> None:
        try:
            os.replace(self.part, self.final)
        except OSError as exc:
            raise self._disk_error(exc) from None
        _fsync_folder(self.final.parent)

    def _discard_part(self) -> None:
        try:
            self.part.unlink()
        except FileNotFoundError:
            pass
        self._count(-self.tracked_bytes, transferred=False)

    def _disk_error(self, exc: OSError) -> OSDownloadsError:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return InsufficientSpaceError(
                f"The disk filled up while writing {self.name} to {self.job.dest}; "
                "the incomplete file was removed."
            )
        return DownloadError(
            f"Could not write {self.name} in {self.job.dest}: {exc.strerror or exc}."
        )


@contextlib.contextmanager
def _closing(out: BinaryIO, disk_error: Callable[[OSError], Exception]) -> Any:
    """Close ``out`` at the end of the block, never hiding why the block failed.

    Closing flushes what is still buffered. On a full disk that fails again
    (Python 3.14 keeps the bytes a failed write could not store), and a plain
    ``with`` would then replace the clear "disk filled up" error with a bare
    OSError; a failed close after a successful block is a disk error too.
    """
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        raise
    try:
        out.close()
    except OSError as exc:
        raise disk_error(exc) from None


def _reader(response: requests.Response) -> Callable[[int], bytes]:
    """``read(n)``: up to ``n`` body bytes, returning as soon as some have arrived.

    ``read1`` semantics keep progress and cancellation prompt on slow links
    (a plain ``read(1 MiB)`` blocks until a whole MiB is in). urllib3 2 has
    ``read1``; with urllib3 1.26 the underlying ``http.client`` response has
    it. The body is never decoded: we asked for ``identity`` and hash raw bytes.
    """
    raw = response.raw
    public = getattr(raw, "read1", None)
    if callable(public):
        return lambda n: public(n, decode_content=False)
    inner = getattr(getattr(raw, "_fp", None), "read1", None)
    if callable(inner) and not response.headers.get("Content-Encoding"):
        return inner
    return lambda n: raw.read(n, decode_content=False)


def _release(response: requests.Response) -> None:
    """Hand a fully read connection back to the pool (keep-alive across files).

    Reading with ``read1`` bypasses the bookkeeping by which urllib3 notices
    the end of a body; one more (empty) ``read`` lets it see the end and
    release the connection, so the next file reuses it (no new TLS handshake).
    """
    try:
        response.raw.read(1, decode_content=False)
    except Exception:  # noqa: BLE001 - the body is complete; a connection not reused is fine
        pass


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable too (POSIX); harmless to skip where unsupported."""
    if os.name != "posix":
        return
    try:
        handle = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _content_range(value: str) -> Tuple[Optional[int], Optional[int]]:
    """(first byte, total size) from ``bytes 100-199/1000``; None where unknown."""
    try:
        unit, _, rest = value.strip().partition(" ")
        span, _, total = rest.partition("/")
        first = int(span.split("-", 1)[0]) if unit.lower() == "bytes" else None
        return first, (int(total) if total.strip().isdigit() else None)
    except ValueError:
        return None, None


def _int_header(response: requests.Response, name: str) -> Optional[int]:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- writing to disk beside the network ----------------------------------------------


class _BackgroundFlush:
    """Push written data to disk every ``FLUSH_EVERY_BYTES`` on a helper thread.

    The fsync before the rename then has little left to do, so durability
    costs almost nothing on a big file instead of seconds at the end; and
    dirty pages never pile up in memory. Errors are left to that final fsync,
    which reports them.
    """

    def __init__(self, handle: Optional[BinaryIO]) -> None:
        self._fd = handle.fileno() if handle is not None else None
        self._pending = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None

    def wrote(self, count: int) -> None:
        self._pending += count
        if self._fd is None or self._pending < FLUSH_EVERY_BYTES:
            return
        self._pending = 0
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="download-flush", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        sync = getattr(os, "fdatasync", os.fsync)
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                sync(self._fd)
            except OSError:
                pass


# --- hashing beside the network ------------------------------------------------------


class _StreamHasher:
    """Hash chunks as they arrive; on a helper thread for big files.

    hashlib releases the GIL on large updates, so MD5 runs on one core while
    the worker reads the socket and writes the disk on another. The queue is
    bounded (a few chunks), so memory stays flat whatever the file size.
    """

    _STOP = object()

    def __init__(self, algorithm: str, *, threaded: bool) -> None:
        self.algorithm = algorithm
        self.raw = new_hasher(algorithm)
        self._threaded = threaded
        self._queue: Optional[queue.Queue] = None
        self._thread: Optional[threading.Thread] = None

    def update(self, chunk: bytes) -> None:
        if not self._threaded:
            self.raw.update(chunk)
            return
        if self._thread is None:
            self._queue = queue.Queue(maxsize=HASH_QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._work, name="download-hash", daemon=True)
            self._thread.start()
        assert self._queue is not None
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self._drain()
        return self.raw.hexdigest()

    def reset(self) -> None:
        self._drain()
        self.raw = new_hasher(self.algorithm)

    def close(self) -> None:
        self._drain()

    def _drain(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(self._STOP)
            self._thread.join()
        self._thread, self._queue = None, None

    def _work(self) -> None:
        assert self._queue is not None
        work_queue = self._queue
        while True:
            chunk = work_queue.get()
            if chunk is self._STOP:
                return
            self.raw.update(chunk)


# --- one progress stream ---------------------------------------------------------------


@dataclass
class _Tracker:
    """Adds up all workers' bytes and files; emits ``Progress`` at a bounded rate."""

    files_total: int
    callback: Optional[ProgressCallback]
    bytes_total: int = 0
    bytes_done: int = 0
    files_done: int = 0
    transferred: int = 0
    current_file: str = ""
    phase: str = PHASE_DOWNLOAD
    _samples: Deque[Tuple[float, int]] = field(default_factory=deque)
    _last_emit: float = 0.0
    _lock: Any = field(default_factory=threading.Lock)

    def set_total(self, total: int) -> None:
        with self._lock:
            self.bytes_total = total

    def add_total(self, extra: int) -> None:
        with self._lock:
            self.bytes_total += extra

    def verifying(self, name: str) -> None:
        with self._lock:
            self.phase, self.current_file = PHASE_VERIFY, name
        self.emit(force=True)

    def file_skipped(self, size: int) -> None:
        with self._lock:
            self.files_done += 1
            self.bytes_done += size
        self.emit()

    def add(self, name: str, count: int, *, transferred: bool) -> None:
        with self._lock:
            self.phase, self.current_file = PHASE_DOWNLOAD, name
            self.bytes_done += count
            if transferred:
                self.transferred += count
        self.emit()

    def file_done(self, name: str) -> None:
        with self._lock:
            self.files_done += 1
            self.current_file = name
        self.emit(force=True)

    def emit(self, force: bool = False) -> None:
        if self.callback is None:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_emit < PROGRESS_INTERVAL_S:
                return
            self._last_emit = now
            self._samples.append((now, self.transferred))
            while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
                self._samples.popleft()
            first_time, first_bytes = self._samples[0]
            span = now - first_time
            rate = (self.transferred - first_bytes) / span if span > 0 else 0.0
            snapshot = Progress(
                bytes_done=max(self.bytes_done, 0),
                bytes_total=self.bytes_total,
                files_done=self.files_done,
                files_total=self.files_total,
                current_file=self.current_file,
                rate_bytes_per_s=rate,
                phase=self.phase,
            )
            # Called under the lock: one call at a time, in order.
            self.callback(snapshot)
