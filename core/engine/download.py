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
  size and digest match what the caller recorded of it earlier (``recorded``:
  for jobs, the folder's manifest; the engine never reads the manifest itself).
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
- a large file (``limits.ranged_min_bytes``) whose storage offers ranges comes
  over up to ``limits.ranges_per_file`` connections, pieces written in place
  (``engine/ranged.py``); ``workers`` is the job's whole connection budget,
  files first (``engine/connection_budget.py``).
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

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import requests

from ..errors import (
    Cancelled,
    DownloadError,
)
from ..net.connections import shutdown_connection
from ..net.retry import JOB_RETRY, RetryPolicy
from ..net.thread_sessions import ThreadSessions
from ..redact import get_logger
from .checksums import file_matches
from .connection_budget import ConnectionBudget
from .files import Recorded, RemoteFile
from .free_space import check_free_space
from .partfile import (
    LOCK_PATIENCE_S,
    PART_SUFFIX,
    check_file_names,
    file_sign,
    part_path,
    usable_part_size,
)
from .progress import ProgressCallback, ProgressTracker
from .results import STATUS_DOWNLOADED, STATUS_SKIPPED, DownloadResult, FileResult
from .transfer import FileTransfer
from .tries import (
    CONNECT_TIMEOUT_S,
    GIVE_UP_AFTER_S,
    MAX_TRIES_PER_FILE,
    MIN_RATE_BYTES_PER_S,
    MIN_RATE_WINDOW_S,
    STALL_TIMEOUT_S,
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
    "ProgressCallback",
    "TransferLimits",
    "download_files",
    "part_path",
]

DEFAULT_WORKERS = 4
DEFAULT_CHUNK_SIZE = 1 << 20  # a ranged piece's read (one stream: checksums.BLOCK_BYTES)
WAKE_S = 0.25  # the waiting thread wakes this often to let Ctrl-C in


Resolver = Callable[[RemoteFile], str]


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
    recorded: Optional[Recorded] = None,
    job_retry: RetryPolicy = JOB_RETRY,
) -> DownloadResult:
    """Download ``files`` into ``dest``; see the module docstring for the promises.

    ``resolve(file)`` returns the URL to GET (OS: ``client.resolve_download``;
    TRUD: the file's own URL); it is called again before every resume.
    ``session`` must carry no credentials (OS: ``client.storage_session``);
    each worker uses a session made like it. ``timeout`` (connect, stall), if
    given, overrides those two ``limits``. ``lock_patience``: how long to wait
    for another program's download of the same file once it shows no progress.
    ``recorded(name)``: what an earlier run recorded of a file (jobs pass
    ``engine.recorded.manifest_records(dest)``); without it, a file whose
    listing has no checksum is always fetched again. ``job_retry``: the retries and
    pauses all files of the job share (``JOB_RETRY``: 60 retries, 15 minutes).
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
        recorded=recorded,
    )
    job.job_budget = job_retry.budget()
    return job.run()


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
        recorded: Optional[Recorded] = None,
    ) -> None:
        self.files = files
        self.dest = dest
        self.resolve = resolve
        self.sessions = ThreadSessions(session)
        self.workers = workers
        self.connections = ConnectionBudget(workers)  # files and their extra ranges
        self.cancel = cancel
        self.retry = retry
        self.job_budget = JOB_RETRY.budget()  # shared by every file (download_files sets it)
        self.chunk_size = chunk_size
        self.limits = limits
        self.lock_patience = lock_patience
        self.recorded = recorded
        self.halted = threading.Event()  # user cancel or a failed worker: everyone stops
        self.stopped_by_user = False  # cancel or Ctrl-C (not another file's failure)
        self._responses: Set[requests.Response] = set()
        self._responses_lock = threading.Lock()
        self.tracker = ProgressTracker(len(files), progress)
        # What each file to fetch looked like when planned: changed since, look again.
        self.planned_sign: Dict[str, Any] = {}

    # --- running -------------------------------------------------------------

    def run(self) -> DownloadResult:
        started = time.monotonic()
        check_file_names(self.files)
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
        self.tracker.set_total(sum(f.size or 0 for f in self.files))
        results: Dict[int, FileResult] = {}
        todo: List[Tuple[int, RemoteFile]] = []
        for index, file in enumerate(self.files):
            skipped = self.already_there(file)
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
            ended = threading.Event()
            for future in futures:
                future.add_done_callback(lambda _future: ended.set())
            while pending:
                # Short waits on a plain event: Ctrl-C reaches this thread within
                # WAKE_S even where an untimed wait cannot be interrupted (Windows).
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
        with self.connections.slot(self.halted_or_cancelled()):  # a file's ranges share them
            return FileTransfer(self, file).run()

    # --- what is already there -------------------------------------------------

    def already_there(self, file: RemoteFile) -> Optional[FileResult]:
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
        recorded = self.recorded(file.file_name) if self.recorded is not None else None
        if recorded is None or recorded.size != size or recorded.checksum is None:
            return None
        if not file_matches(final, recorded.checksum, cancel=self.halted_or_cancelled()):
            self._raise_if_cancelled()
            return None
        return FileResult(file, final, STATUS_SKIPPED, False, size, recorded.checksum)

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


def _abort(response: requests.Response) -> None:
    """Wake a thread blocked reading ``response``: shut its socket down, then close it."""
    shutdown_connection(response)
    try:
        response.close()
    except Exception:  # noqa: BLE001 - closing from another thread may race; it is closed
        pass
