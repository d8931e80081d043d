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
  (``RetryPolicy``) and add up to at most ``retry.max_total_wait``. Then
  ``NetworkError`` saying why. A try is abandoned when no byte arrives for
  ``limits.stall_timeout`` s, or fewer than ``limits.min_rate`` bytes/s
  arrive over ``limits.rate_window`` s.
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

import shutil
import socket
import threading
import time
from collections import deque
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple

import requests

from ..api.models import Checksum, RemoteFile
from ..errors import (
    Cancelled,
    DownloadError,
    InsufficientSpaceError,
)
from ..formatting import format_bytes
from ..net.retry import RetryPolicy
from ..net.thread_sessions import ThreadSessions
from ..redact import get_logger
from .checksums import file_matches
from .manifest import MANIFEST_NAME, Manifest, read_manifest
from .partfile import (
    LOCK_PATIENCE_S,
    PART_SUFFIX,
    RESERVED_SUFFIXES,
    file_sign,
    part_path,
    usable_part_size,
)
from .transfer import (
    CONNECT_TIMEOUT_S,
    GIVE_UP_AFTER_S,
    MAX_TRIES_PER_FILE,
    MIN_RATE_BYTES_PER_S,
    MIN_RATE_WINDOW_S,
    STALL_TIMEOUT_S,
    STATUS_DOWNLOADED,
    STATUS_SKIPPED,
    FileResult,
    FileTransfer,
    TransferLimits,
)

log = get_logger(__name__)

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_WORKERS",
    "GIVE_UP_AFTER_S",
    "LOCK_PATIENCE_S",
    "MAX_TRIES_PER_FILE",
    "MIN_RATE_BYTES_PER_S",
    "MIN_RATE_WINDOW_S",
    "PART_SUFFIX",
    "STALL_TIMEOUT_S",
    "STATUS_DOWNLOADED",
    "STATUS_SKIPPED",
    "DownloadResult",
    "FileResult",
    "Progress",
    "ProgressCallback",
    "TransferLimits",
    "check_free_space",
    "download_files",
    "part_path",
]

DEFAULT_WORKERS = 4
DEFAULT_CHUNK_SIZE = 1 << 20
STORAGE_TIMEOUT: Tuple[float, float] = (CONNECT_TIMEOUT_S, STALL_TIMEOUT_S)
PROGRESS_INTERVAL_S = 0.1
RATE_WINDOW_S = 3.0
SPACE_MARGIN_BYTES = 16 << 20  # plus 1% of what is to come: file system overhead, the manifest

PHASE_VERIFY = "verify"  # hashing files already on disk
PHASE_DOWNLOAD = "download"
PHASE_EXTRACT = "extract"  # used by core/jobs.py
PHASE_DISCOVER = "discover"  # used by core/jobs.py


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
        self.stopped_by_user = False  # cancel or Ctrl-C (not another file's failure)
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
            self.halt(by_user=True)
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
        return FileTransfer(self, file).run()

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

    def halt(self, *, by_user: bool = False) -> None:
        """Stop every worker: set the flag and shut open connections down."""
        if by_user:
            self.stopped_by_user = True
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
                self.halt(by_user=True)
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
