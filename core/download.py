"""The download engine: verified, resumable, parallel file downloads.

``download_files`` fetches a list of ``RemoteFile`` into one folder and
promises:

- one writer per file, across processes: a lock per file (``core/partfile.py``)
  is held while its ``.part`` is written, verified and renamed. A second
  program wanting the same file waits (bounded, with a log message), then
  finds it finished (checked on disk) or takes the ``.part`` over.
- bytes stream into ``<name>.part`` and are hashed while they arrive (MD5 for
  OS, SHA-256 for TRUD; one pass, on a helper thread so hashing overlaps the
  network); size and checksum are checked, the file is fsynced, and only then
  renamed to its final name (``os.replace``). The checksum is that of the
  bytes that end under the final name: with the lock held nobody else writes
  the ``.part``, and a resumed prefix is hashed from disk. A file whose
  listing has no checksum is checked by size and reported unverified (its
  MD5 is still recorded).
- a final file already on disk whose checksum matches is skipped (hashed
  locally, no network). Without a listed checksum, a file is skipped when its
  size matches and the folder's manifest recorded it (and its digest, if any).
  One that does not match stays where it is until its replacement has been
  verified: a failed download never costs the user the file they had.
- a dropped connection resumes from the ``.part`` bytes with ``Range`` (and
  ``If-Range`` with the storage's ETag or Last-Modified date), after asking
  ``resolve`` again for a fresh URL (signed storage URLs expire); a ``200``
  answer to a range request restarts from zero. A ``.part`` left by an
  earlier run is resumed only when its sidecar says it is the start of this
  file as listed now (size, checksum, validator).
- every try costs an attempt, whatever went wrong; a try that brought no new
  byte (or was too slow) is a failure. Per file: at most ``retry.max_attempts``
  failures, ``limits.max_tries`` tries in all, and ``limits.give_up_after``
  seconds spent in failing tries and the pauses after them; pauses back off
  (``RetryPolicy``). Then ``NetworkError`` saying why. A try is abandoned when
  no byte arrives for ``limits.stall_timeout`` s, or fewer than
  ``limits.min_rate`` bytes/s arrive over ``limits.rate_window`` s.
- a wrong checksum (or size): the ``.part`` is deleted and the file fetched
  once more from scratch; still wrong raises ``ChecksumMismatchError`` (or
  ``SizeMismatchError``), leaving no ``.part`` (and any older file as it was).
- a bounded pool of workers (default 4), each with its own ``requests``
  session made like the caller's (``core/thread_sessions.py``), and one
  progress stream for the job. ``progress`` is called from worker threads
  (never concurrently, at most about ten times a second plus once per
  finished file); a GUI must marshal it to its own thread (the QGIS task does).
- cancellation (``cancel.set()``) stops every worker promptly: between chunks,
  and by shutting open connections down (also one still waiting for an
  answer); ``Cancelled`` is raised, no incomplete final file exists, and
  ``.part`` files stay for a later resume.
- the first error stops the other workers the same way (their ``.part`` files
  stay) and is raised once all have stopped.
- free space is checked before starting; a full disk mid-way raises
  ``InsufficientSpaceError`` naming the file and folder, with the ``.part``
  removed and no new final file.

Why 4 workers: OS allows 600 API requests a minute per project. Each file
costs one API request (the redirect to storage) plus one per resume; storage
requests are not counted. Four workers on real-sized files stay far below the
limit, and a 429 is honoured (``Retry-After``) by the client's retries.
"""

from __future__ import annotations

import errno
import http.client
import os
import shutil
import socket
import threading
import time
from collections import deque
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
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
from .partfile import (
    LOCK_PATIENCE_S,
    PART_SUFFIX,
    RESERVED_SUFFIXES,
    BackgroundFlush,
    FileClaim,
    PartInfo,
    StreamHasher,
    file_sign,
    part_path,
    read_part_info,
    remove_part,
    sidecar_path,
    usable_part_size,
    write_part_info,
)
from .redact import get_logger, redact
from .retry import RetryPolicy, parse_retry_after
from .retry import wait as retry_wait
from .thread_sessions import ThreadSessions

log = get_logger(__name__)

__all__ = [
    "DEFAULT_WORKERS",
    "LOCK_PATIENCE_S",
    "PART_SUFFIX",
    "DownloadResult",
    "FileResult",
    "Progress",
    "ProgressCallback",
    "TransferLimits",
    "check_free_space",
    "download_files",
    "format_bytes",
    "part_path",
]

DEFAULT_WORKERS = 4
DEFAULT_CHUNK_SIZE = 1 << 20
CONNECT_TIMEOUT_S = 10.0
STALL_TIMEOUT_S = 30.0  # no byte for this long: the try is abandoned
MIN_RATE_BYTES_PER_S = 1024.0  # slower than this over MIN_RATE_WINDOW_S: abandoned too
MIN_RATE_WINDOW_S = 30.0
GIVE_UP_AFTER_S = 60.0  # failing tries of one file (and the pauses after them) add up to this
MAX_TRIES_PER_FILE = 20  # every GET of one file counts, whatever its outcome
STORAGE_TIMEOUT: Tuple[float, float] = (CONNECT_TIMEOUT_S, STALL_TIMEOUT_S)
PROGRESS_INTERVAL_S = 0.1
RATE_WINDOW_S = 3.0
THREADED_HASH_MIN_BYTES = 8 << 20  # smaller files hash inline: a thread costs more than it saves
SPACE_MARGIN_BYTES = 16 << 20  # plus 1% of what is to come: file system overhead, the manifest

PHASE_VERIFY = "verify"  # hashing files already on disk
PHASE_DOWNLOAD = "download"
PHASE_EXTRACT = "extract"  # used by core/jobs.py
PHASE_DISCOVER = "discover"  # used by core/jobs.py

STATUS_DOWNLOADED = "downloaded"
STATUS_SKIPPED = "skipped"

Resolver = Callable[[RemoteFile], str]


@dataclass(frozen=True)
class TransferLimits:
    """The deadlines of one file's transfer: how long a try may stall, when to give up.

    ``stall_timeout``: no byte for this long (also while waiting for an answer)
    abandons the try. ``min_rate`` bytes/s averaged over ``rate_window`` s, or
    the try is abandoned (0: no minimum). A file is given up when its failing
    tries and the pauses after them add up to ``give_up_after`` s, or after
    ``max_tries`` tries in all (the failures are also capped by the
    ``RetryPolicy``'s ``max_attempts``).
    """

    connect_timeout: float = CONNECT_TIMEOUT_S
    stall_timeout: float = STALL_TIMEOUT_S
    min_rate: float = MIN_RATE_BYTES_PER_S
    rate_window: float = MIN_RATE_WINDOW_S
    give_up_after: float = GIVE_UP_AFTER_S
    max_tries: int = MAX_TRIES_PER_FILE


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
    timeout: Optional[Tuple[float, float]] = None,
    limits: Optional[TransferLimits] = None,
    lock_patience: float = LOCK_PATIENCE_S,
) -> DownloadResult:
    """Download ``files`` into ``dest``; see the module docstring for the promises.

    ``resolve(file)`` returns the URL to GET (OS: ``client.resolve_download``;
    TRUD: the file's own URL); it is called again before every resume.
    ``session`` must carry no credentials (OS: ``client.storage_session``);
    each worker uses a session made like it. ``timeout`` (connect, stall), if
    given, overrides those two ``limits``. ``lock_patience``: how long to wait
    for another program's download of the same file once it shows no progress.
    """
    chosen = limits or TransferLimits()
    if timeout is not None:
        chosen = replace(chosen, connect_timeout=timeout[0], stall_timeout=timeout[1])
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
        limits=chosen,
        lock_patience=lock_patience,
    )
    return job.run()


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
        limits: TransferLimits,
        lock_patience: float,
    ) -> None:
        self.files = files
        self.dest = dest
        self.resolve = resolve
        self.sessions = ThreadSessions(session)
        self.workers = workers
        self.cancel = cancel
        self.retry = retry
        self.chunk_size = chunk_size
        self.limits = limits
        self.lock_patience = lock_patience
        self.halted = threading.Event()  # user cancel or a failed worker: everyone stops
        self._responses: Set[requests.Response] = set()
        self._responses_lock = threading.Lock()
        self.tracker = _Tracker(len(files), progress)
        # What each file to fetch looked like when planned: changed since, look again.
        self.planned_sign: Dict[str, Any] = {}

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
            self.sessions.close()
        return DownloadResult(self.dest, tuple(results), time.monotonic() - started)

    def _run(self) -> List[FileResult]:
        self._raise_if_cancelled()
        manifest = read_manifest(self.dest)
        self.tracker.set_total(sum(f.size or 0 for f in self.files))
        results: Dict[int, FileResult] = {}
        todo: List[Tuple[int, RemoteFile]] = []
        for index, file in enumerate(self.files):
            skipped = self.already_there(file, manifest)
            if skipped is None:
                todo.append((index, file))
                self.planned_sign[file.file_name] = file_sign(self.dest / file.file_name)
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
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
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

    def already_there(self, file: RemoteFile, manifest: Optional[Manifest]) -> Optional[FileResult]:
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
        have = usable_part_size(self.dest / file.file_name, file)
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
        self.sessions.abort()  # also a request still waiting for its answer

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
            or name.endswith(RESERVED_SUFFIXES)
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


# --- how many tries one file gets ------------------------------------------------------


class _Tries:
    """The bound on one file's tries: every try counts, failures count twice over.

    Small and self-contained on purpose: a job-wide budget can replace it.
    """

    def __init__(self, policy: RetryPolicy, limits: TransferLimits) -> None:
        self.policy = policy
        self.limits = limits
        self.count = 0
        self.failures = 0
        self.failing_s = 0.0  # time spent in failed tries and the pauses after them
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def end(self, *, progressed: bool) -> None:
        self.count += 1
        if not progressed:
            self.failures += 1
            self.failing_s += time.monotonic() - self._started

    def exhausted(self) -> Optional[str]:
        """Why no further try is allowed, or None."""
        if self.failures >= self.policy.max_attempts:
            return f"{self.failures} tries that brought no new data"
        if self.count >= self.limits.max_tries:
            return f"{self.count} tries"
        if self.failing_s >= self.limits.give_up_after:
            return f"{_seconds(self.failing_s)} without progress"
        return None

    def pause(self, *, progressed: bool, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try (backing off with each failure)."""
        delay = self.policy.delay(max(self.failures, 1), retry_after)
        if not progressed:
            room = self.limits.give_up_after - self.failing_s
            delay = max(0.0, min(delay, room))
            self.failing_s += delay
        return delay

    def read_timeout(self) -> float:
        """The stall timeout, shortened to what is left of the time to give up."""
        left = self.limits.give_up_after - self.failing_s
        return max(0.1, min(self.limits.stall_timeout, left))


class _Retry(Exception):
    """A failed try worth another (after a fresh ``resolve``), if the budget allows."""

    def __init__(
        self, message: str, *, too_slow: bool = False, retry_after: Optional[float] = None
    ) -> None:
        super().__init__(message)
        self.too_slow = too_slow  # brought bytes, but too few to count as progress
        self.retry_after = retry_after


# A broken body in any form: urllib3 1.26 raises IncompleteRead/ProtocolError (and
# http.client's own IncompleteRead through read1), urllib3 2 ChunkedEncodingError.
_BODY_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
    OSError,
    ValueError,  # reading a response another thread closed
    AttributeError,  # idem, on some urllib3 versions
)
# Requests that can never work, however often tried.
_HOPELESS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


# --- one file -----------------------------------------------------------------------


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
        self.info: Optional[PartInfo] = None  # the sidecar of the .part being filled
        self.tries = _Tries(job.retry, job.limits)
        self.flusher = BackgroundFlush(None)
        self.transferred = 0
        self.resumes = 0
        self.tracked_bytes = 0  # what this file added to the job's bytes_done

    def run(self) -> FileResult:
        halted = self.job.halted_or_cancelled()
        with FileClaim(self.final, patience=self.job.lock_patience, cancel=halted.is_set) as claim:
            if claim.waited or file_sign(self.final) != self.job.planned_sign.get(self.name):
                # Another program may have finished it meanwhile: look again, on disk.
                done = self.job.already_there(self.file, read_manifest(self.job.dest))
                if done is not None:
                    log.info("%s was finished by another process; checked, not fetched", self.name)
                    self.job.tracker.file_skipped(done.size)
                    return done
            if self.final.exists():
                log.info(
                    "%s on disk does not match the listing; downloading it again "
                    "(the old file stays until the new one is verified)",
                    self.name,
                )
            return self._download()

    def _download(self) -> FileResult:
        for attempt in (1, 2):
            threaded = (self.file.size or 0) >= THREADED_HASH_MIN_BYTES
            hasher = StreamHasher(
                self.algorithm, threaded=threaded, new_hasher=lambda a: new_hasher(a)
            )
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
            if attempt == 1 and not self.tries.exhausted():
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

    def _fill_part(self, hasher: StreamHasher, *, fresh: bool) -> int:
        """Bring ``.part`` to the whole file, resuming as needed; return its size.

        The file position is the resume offset: every write advances it, every
        restart from zero rewinds it (and the hash) to the start. The data are
        on disk (fsync) before this returns.
        """
        self.overflow = None
        if fresh and self.file.size is None and self.expected_size is not None:
            self.job.tracker.add_total(-self.expected_size)  # learnt again from this fetch
            self.expected_size = None
        offset = 0 if fresh else usable_part_size(self.final, self.file)
        self.info = read_part_info(self.final) if offset else None
        try:
            if not offset:  # whatever the old sidecar said no longer holds
                sidecar_path(self.final).unlink(missing_ok=True)
            out = open(self.part, "r+b" if offset else "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise self._disk_error(exc) from None
        with out:
            if offset:
                out.seek(offset)
                out.truncate()
                update_from_file(hasher.raw, self.part, length=offset, cancel=self.job.halted)
                self._count(offset, transferred=False)
                log.info("Resuming %s from byte %d of an earlier run", self.name, offset)
            self.flusher = BackgroundFlush(out)
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

    def _transfer(self, out: BinaryIO, hasher: StreamHasher) -> None:
        """GET (and resume) until the file is whole, within the file's tries."""
        best = out.tell()  # a try that gets past the furthest byte so far made progress
        while not self._complete(out.tell()):
            self.job._raise_if_halted()
            self.tries.start()
            try:
                complete = self._fetch(out, hasher)
                if not complete:
                    raise _Retry(f"the connection ended early, at byte {out.tell()}")
            except _Retry as problem:
                if self.job.halted.is_set():
                    raise Cancelled() from None
                progressed = out.tell() > best and not problem.too_slow
                best = max(best, out.tell())
                self.tries.end(progressed=progressed)
                given_up = self.tries.exhausted()
                if given_up:
                    raise NetworkError(
                        f"{self.name}: the download did not complete: gave up after "
                        f"{given_up}; the last try: {problem}.",
                        hint="What arrived is kept, and the next run resumes from it; "
                        "try again later.",
                    ) from None
                delay = self.tries.pause(progressed=progressed, retry_after=problem.retry_after)
                log.info("%s: %s; trying again from byte %d", self.name, problem, out.tell())
                self.resumes += 1
                retry_wait(delay, self.job.halted)
                continue
            self.tries.end(progressed=True)
            return

    def _complete(self, offset: int) -> bool:
        return self.overflow is not None or (
            self.expected_size is not None and offset >= self.expected_size
        )

    def _fetch(self, out: BinaryIO, hasher: StreamHasher) -> bool:
        """One GET, ranged from the file position when it is past zero.

        Streams the body into ``out``; True when the body ended where the
        server said it would, False when it ended early without an error.
        """
        url = self.job.resolve(self.file)  # fresh every time: signed URLs expire
        offset = out.tell()
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = self.info.validator if self.info is not None else None
            if validator:
                headers["If-Range"] = validator  # changed since? then the whole file, please
        limits = self.job.limits
        read_timeout = self.tries.read_timeout()
        try:
            response = self.job.sessions.get().get(
                url,
                headers=headers,
                stream=True,
                timeout=(limits.connect_timeout, read_timeout),
            )
        except requests.exceptions.ConnectTimeout:
            raise _Retry(f"could not connect within {_seconds(limits.connect_timeout)}") from None
        except requests.exceptions.ReadTimeout:
            raise _Retry(f"no answer within {_seconds(read_timeout)}") from None
        except _HOPELESS as exc:
            raise NetworkError(f"{self.name}: the request failed: {redact(str(exc))}") from None
        except requests.RequestException as exc:
            raise _Retry(f"could not connect: {redact(str(exc))}") from None
        self.job.track(response)
        try:
            self._check_status(response, out, hasher)
            return self._stream(response, out, hasher, read_timeout)
        finally:
            self.job.untrack(response)

    def _check_status(
        self, response: requests.Response, out: BinaryIO, hasher: StreamHasher
    ) -> None:
        status = response.status_code
        offset = out.tell()
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                self._rewind(out, hasher)
                raise _Retry(f"the server resumed at byte {start}, not {offset}; starting again")
            if self.info is not None and not _same_version(self.info, response):
                self._rewind(out, hasher)  # it ignored If-Range: these bytes are of another file
                raise _Retry("the file changed on the server; starting again")
            if total is not None and self.expected_size is None:
                self._learn_size(total)
            if self.info is None:
                self._describe_part(response)
            return
        if status == 200:
            if offset:
                log.info("%s: the server sent the whole file; starting again from zero", self.name)
                self._rewind(out, hasher)
            length = _int_header(response, "Content-Length")
            if length is not None and self.expected_size is None:
                self._learn_size(length)
            self._describe_part(response)
            return
        if status == 416:
            self._rewind(out, hasher)
            raise _Retry("the server refused the range (HTTP 416); starting again")
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

    def _describe_part(self, response: requests.Response) -> None:
        """Write the sidecar before the first byte of a new ``.part`` body lands."""
        info = PartInfo.for_file(
            self.file, response.headers.get("ETag"), response.headers.get("Last-Modified")
        )
        if info != self.info:
            try:
                write_part_info(self.final, info)
            except OSError as exc:
                raise self._disk_error(exc) from None
            self.info = info

    def _stream(
        self,
        response: requests.Response,
        out: BinaryIO,
        hasher: StreamHasher,
        read_timeout: float,
    ) -> bool:
        length = _int_header(response, "Content-Length")
        limit = self.expected_size
        received = 0
        read_some = _reader(response)
        watchdog = _RateWatchdog(self.job.limits)
        while True:
            if self.job.halted.is_set():
                raise Cancelled()
            try:
                chunk = read_some(self.job.chunk_size)
            except _BODY_ERRORS as exc:
                if self.job.halted.is_set():
                    raise Cancelled() from None
                if isinstance(exc, (socket.timeout, urllib3.exceptions.ReadTimeoutError)):
                    raise _Retry(f"no data for {_seconds(read_timeout)}") from None
                raise _Retry(
                    f"the connection dropped after {received} bytes ({type(exc).__name__})"
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
            slow = watchdog.check(len(chunk))
            if slow:
                raise _Retry(slow, too_slow=True)
        complete = length is None or received >= length
        if complete:
            _release(response)
        return complete

    def _write(self, out: BinaryIO, hasher: StreamHasher, chunk: bytes) -> None:
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

    def _rewind(self, out: BinaryIO, hasher: StreamHasher) -> None:
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
            os.replace(self.part, self.final)  # atomic: the old file, or the verified new one
        except OSError as exc:
            raise self._disk_error(exc) from None
        sidecar_path(self.final).unlink(missing_ok=True)
        _fsync_folder(self.final.parent)

    def _discard_part(self) -> None:
        remove_part(self.final)
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


class _RateWatchdog:
    """Says when a body trickles: fewer than ``min_rate`` bytes/s over ``rate_window`` s."""

    def __init__(self, limits: TransferLimits) -> None:
        self.min_rate = limits.min_rate
        self.window = limits.rate_window
        self.started = time.monotonic()
        self.count = 0

    def check(self, count: int) -> Optional[str]:
        if self.min_rate <= 0:
            return None
        self.count += count
        now = time.monotonic()
        span = now - self.started
        if span < self.window:
            return None
        if self.count < self.min_rate * span:
            return (
                f"only {format_bytes(self.count)} arrived in {_seconds(span)}, "
                f"less than {format_bytes(self.min_rate)}/s"
            )
        self.started, self.count = now, 0
        return None


def _seconds(value: float) -> str:
    """3 -> "3 s", 0.44 -> "0.4 s": short, for messages."""
    return f"{value:.0f} s" if value >= 10 else f"{value:.1g} s" if value < 1 else f"{value:.1f} s"


def _same_version(info: PartInfo, response: requests.Response) -> bool:
    """Whether a 206 answer is of the file version the ``.part`` holds the start of."""
    etag = response.headers.get("ETag")
    if info.etag and etag:
        return etag == info.etag
    modified = response.headers.get("Last-Modified")
    if info.last_modified and modified:
        return modified == info.last_modified
    return True


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
