"""One large file over parallel ranges, written in place into its pre-allocated ``.part``.

``RangedFill(transfer).fill(fresh=...)`` fills a ``FileTransfer``'s ``.part`` and
returns ``(size, digest)``, or None: one stream then (a small file, no listed size,
one connection, a storage that does not do ranges properly; said at debug level).

- Pieces (``range_plan.py``) in file order over ``ranges_per_file`` connections of the job's.
- The first GET runs alone and must be a ``206`` with ``Accept-Ranges: bytes``,
  the asked-for ``Content-Range`` of the listed size and an ETag or
  Last-Modified; only then is the ``.part`` pre-allocated and described. If it
  alone is fast (``FirstStreamProbe``), the file stays with it: one stream.
- Every later GET sends ``If-Range`` and every answer's validator is compared:
  a changed blob discards the ``.part`` and starts again (``MAX_RESTARTS``).
- Each piece is retried on its own (``Tries``, the file's failed GETs capped at
  ``max_tries``, pauses charged to the job), after a fresh URL.
- The sidecar records each piece's filled bytes (every ``CHECKPOINT_S`` after
  an fdatasync, and when stopping): a later run fetches only what is missing.
- One pass of the checksum: ``PrefixHasher`` follows the contiguous prefix.
- Every range's connection is the job's (``job.track``, the worker sessions):
  ``job.halt()`` stops them all at once; the ``.part`` and sidecar stay.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import Any, List, Optional, Set, Tuple

import requests

from ..errors import Cancelled, NetworkError, OSDownloadsError
from ..net.connections import shutdown_connection
from ..redact import get_logger
from .partfile import PartInfo, part_path, read_part_info, remove_part, write_part_info
from .prefix_hasher import PrefixHasher
from .range_piece import (
    Changed,
    Fallback,
    FirstStreamProbe,
    SharedUrl,
    Stopped,
    check_answer,
    pause,
    range_headers,
    read_chunk,
    write_all,
)
from .range_plan import Piece, RangePlan, piece_size, wants_ranges
from .storage_response import body_reader, release_connection, storage_get
from .tries import RateWatchdog, Tries, TryFailed, gave_up

log = get_logger(__name__)

MAX_RESTARTS = 2  # the blob changed on the storage this often: give up
CHECKPOINT_S = 1.0  # the sidecar records the pieces' progress this often
WAKE_S = 0.1  # waiting threads look this often whether they were stopped


class RangedFill:
    """The ranged way of filling one file's ``.part``; None from ``fill``: use one stream."""

    def __init__(self, transfer: Any) -> None:
        self.transfer = transfer
        self.one_stream = False  # fell back once: this file stays with one stream

    def fill(self, *, fresh: bool) -> Optional[Tuple[int, str]]:
        transfer, job = self.transfer, self.transfer.job
        size, limits = transfer.file.size, job.limits
        budget = getattr(job, "connections", None)  # the job's ConnectionBudget
        connections = budget.total if budget is not None else 1
        wanted = wants_ranges(size, limits.ranged_min_bytes, limits.ranges_per_file, connections)
        if self.one_stream or not wanted:
            return None
        for restart in range(MAX_RESTARTS + 1):
            try:
                return _RangedRun(transfer, budget, fresh=fresh or restart > 0).run()
            except Fallback as why:
                log.debug("%s: %s; fetching it in one stream", transfer.name, why)
                self.one_stream = True
                return None
            except Changed:
                log.info(
                    "%s changed on the storage while downloading; starting again", transfer.name
                )
        raise NetworkError(
            f"{transfer.name}: the file kept changing on the storage server while downloading.",
            hint="It is probably being republished; try again later.",
        )


class _RangedRun:
    """One go at the file with one plan: the pieces, their threads, the hasher, the sidecar."""

    def __init__(self, transfer: Any, budget: Any, *, fresh: bool) -> None:
        self.t = transfer
        self.job = transfer.job
        self.limits = transfer.job.limits
        self.budget = budget
        self.size: int = transfer.file.size
        self.part = part_path(transfer.final)
        self.urls = SharedUrl(lambda: transfer.job.resolve(transfer.file))
        self.lock = threading.Lock()
        self.stop = threading.Event()  # this file's ranges stop (a failure, a change, a fallback)
        self.problem: Optional[BaseException] = None
        self.responses: Set[requests.Response] = set()
        self.helpers: List[threading.Thread] = []
        self.failed_gets = 0
        self.ready = False  # the .part is allocated and described: ranges may run
        self.hasher: Optional[PrefixHasher] = None
        self.sync_fd: Optional[int] = None
        self.checkpointer: Optional[threading.Thread] = None
        self.sidecar_lock = threading.Lock()
        self.info, self.plan = self._load(fresh)
        fast = self.limits.one_stream_bytes_per_s if self.info is None else 0  # not on resume
        self.probe = FirstStreamProbe(fast)

    def _load(self, fresh: bool) -> Tuple[Optional[PartInfo], RangePlan]:
        """The plan to follow: the sidecar's (resume), else a new one (``info`` None: learn)."""
        step = piece_size(self.size, self.limits.ranges_per_file, self.limits.range_piece_bytes)
        info = None if fresh else read_part_info(self.t.final)
        if info is None or not info.describes(self.t.file) or not info.validator:
            return None, RangePlan.split(self.size, step)
        try:
            on_disk = self.part.stat().st_size
        except OSError:
            on_disk = 0
        plan = RangePlan.from_record(self.size, info.ranges, on_disk)
        if plan is None:  # a one-stream .part (or an unfit record): keep its prefix
            plan = RangePlan.split(self.size, step)
            plan.mark_prefix(on_disk if info.ranges is None else 0)
        if not plan.filled_bytes():
            return None, plan
        return replace(info, ranges=None), plan

    # --- the run ----------------------------------------------------------------

    def run(self) -> Tuple[int, str]:
        resumed = self.plan.filled_bytes()
        if resumed:
            self._count(resumed, transferred=False)
            log.info(
                "Resuming %s: %d of %d bytes from an earlier run", self.t.name, resumed, self.size
            )
        try:
            try:
                if self.plan.complete():  # all in; an earlier run stopped while hashing
                    self._prepare(None)
                self._work(helper=False)
            except Stopped:
                pass
            except BaseException as exc:  # noqa: BLE001 - handled below, with the helpers'
                self._fail(exc)
            self._join_helpers()
            self.stop.set()
            if self.checkpointer is not None:
                self.checkpointer.join()  # no sidecar written after this
            if self.problem is None and self.job.halted.is_set():
                self.problem = Cancelled()
            if self.problem is not None:
                if self.hasher is not None:
                    self.hasher.stop()
                try:
                    self._after_problem(self.problem)
                except OSDownloadsError as exc:
                    log.warning("%s: %s", self.t.name, exc)
                raise self.problem
            assert self.hasher is not None and self.sync_fd is not None
            self._checkpoint()  # complete, should the final hashing be cancelled
            digest = self.hasher.digest(self.job.halted)
            try:
                os.fsync(self.sync_fd)
            except OSError as exc:
                raise self.t._disk_error(exc) from None
            return self.size, digest
        finally:
            self.stop.set()
            if self.hasher is not None:
                self.hasher.stop()
            self._close_fd()

    def _close_fd(self) -> None:
        if self.sync_fd is not None:
            fd, self.sync_fd = self.sync_fd, None
            os.close(fd)

    def _after_problem(self, problem: BaseException) -> None:
        """Leave the ``.part`` as the next step needs it."""
        if isinstance(problem, (Fallback, Changed)):
            self._count(-self.t.tracked_bytes, transferred=False)
            self._close_fd()  # Windows deletes or truncates no file held open
            if isinstance(problem, Changed):
                remove_part(self.t.final)
            elif self.ready:  # one stream resumes from the contiguous prefix
                try:
                    with open(self.part, "r+b") as handle:
                        handle.truncate(self.plan.contiguous_end())
                    write_part_info(self.t.final, replace(self.info, ranges=None))
                except OSError as exc:
                    raise self.t._disk_error(exc) from None
            return
        if not self.ready:
            return
        self._checkpoint()  # what arrived is kept for the next run
        by_user = self.job.stopped_by_user or (
            self.job.cancel is not None and self.job.cancel.is_set()
        )
        if isinstance(problem, Cancelled) and not by_user and not self.plan.filled_bytes():
            self._close_fd()
            remove_part(self.t.final)  # stopped by another file's failure before a byte came

    def _fail(self, exc: BaseException) -> None:
        """Stop every range of this file; the first real problem is the one raised."""
        with self.lock:
            if self.problem is None or (
                isinstance(self.problem, Cancelled) and not isinstance(exc, Cancelled)
            ):
                self.problem = exc
            responses = list(self.responses)
        self.stop.set()
        for response in responses:
            shutdown_connection(response)
        self.plan.wake()

    def _check_stop(self) -> None:
        if self.job.halted.is_set():
            raise Cancelled()
        if self.stop.is_set():
            raise Stopped()

    # --- the threads ------------------------------------------------------------

    def _work(self, *, helper: bool) -> None:
        """Fill pieces, lowest first, until none is left to take."""
        while True:
            self._check_stop()
            piece = self.plan.claim()
            if piece is None:
                return
            try:
                self._fill_piece(piece)
            finally:
                self.plan.release(piece)
            if helper and self.budget.files_waiting():
                return  # a file is waiting for a connection: it comes first
            self._spawn_helpers()

    def _spawn_helpers(self) -> None:
        with self.lock:
            if not self.ready or self.stop.is_set() or not self.probe.decided:
                return
            alive = [thread for thread in self.helpers if thread.is_alive()]
            wanted = min(self.limits.ranges_per_file - 1, self.plan.unclaimed())
            while len(alive) < wanted and self.budget.try_extra():
                thread = threading.Thread(target=self._helper, name="download-range", daemon=True)
                alive.append(thread)
                thread.start()
            self.helpers = alive

    def _helper(self) -> None:
        try:
            self._work(helper=True)
        except (Stopped, Cancelled):
            pass
        except BaseException as exc:  # noqa: BLE001 - raised by the file's own thread
            self._fail(exc)
        finally:
            self.job.sessions.forget()
            self.budget.release()

    def _join_helpers(self) -> None:
        while True:
            with self.lock:
                alive = [thread for thread in self.helpers if thread.is_alive()]
            if not alive:
                return
            alive[0].join(WAKE_S)

    # --- one piece ------------------------------------------------------------------

    def _fill_piece(self, piece: Piece) -> None:
        """GET (and resume) one piece until it is whole, within its tries."""
        tries = Tries(self.job.retry, self.limits, self.job.job_budget)
        best = piece.filled
        while not piece.done:
            self._check_stop()
            tries.start()
            url = self.urls.current()
            try:
                self._fetch(piece, url, tries.read_timeout())
                if not piece.done:
                    raise TryFailed(f"the connection ended early, at byte {piece.next_byte}")
            except TryFailed as problem:
                self._check_stop()  # stopping shows up as a dropped connection
                progressed = piece.filled > best and not problem.too_slow
                best = max(best, piece.filled)
                tries.end(progressed=progressed)
                delay = tries.pause(progressed=progressed, retry_after=problem.retry_after)
                with self.lock:
                    self.failed_gets += 1
                    self.t.resumes += 1
                    failed = self.failed_gets
                given_up = tries.exhausted() or (
                    f"{failed} failed tries" if failed >= self.limits.max_tries else None
                )
                if given_up:
                    raise gave_up(self.t.name, given_up, problem) from None
                at = f"bytes {piece.next_byte}-{piece.end - 1}"
                log.info("%s: %s; trying %s again", self.t.name, problem, at)
                self.urls.refresh(url)
                pause(delay, self.stop, self._check_stop, WAKE_S)

    def _fetch(self, piece: Piece, url: str, read_timeout: float) -> None:
        headers = range_headers(piece, self.info)
        session = self.job.sessions.get()
        response = storage_get(session, url, headers, self.limits, read_timeout, self.t.name)
        with self.lock:
            self.responses.add(response)
        self.job.track(response)
        try:
            if self.stop.is_set():
                raise Stopped()
            check_answer(response, piece, self.size, self.info, self.t.name)
            if not self.ready:
                self._prepare(response)
            self._spawn_helpers()
            self._stream(response, piece, read_timeout)
        finally:
            with self.lock:
                self.responses.discard(response)
            self.job.untrack(response)

    def _prepare(self, response: Optional[requests.Response]) -> None:
        """After the first good answer: pre-allocate and describe the ``.part``, start hashing."""
        if self.info is None and response is not None:
            info = PartInfo.for_file(
                self.t.file, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
            if not info.validator:
                raise Fallback("the storage gives no ETag or Last-Modified to check ranges by")
            self.info = info
        resumed = self.plan.filled_bytes() > 0
        try:
            with open(self.part, "r+b" if resumed else "wb") as handle:
                handle.truncate(self.size)
            self.sync_fd = os.open(str(self.part), os.O_RDWR | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise self.t._disk_error(exc) from None
        self._checkpoint()
        self.hasher = PrefixHasher(self.part, self.t.algorithm, self.size, self.plan)
        self.hasher.start()
        self.checkpointer = threading.Thread(
            target=self._checkpoints, name="download-checkpoint", daemon=True
        )
        self.checkpointer.start()
        self.ready = True
        log.debug(
            "%s: fetching %d bytes in %d ranges", self.t.name, self.size, len(self.plan.pieces)
        )

    def _stream(self, response: requests.Response, piece: Piece, read_timeout: float) -> None:
        """Write the body at the piece's offset until the piece is whole or the body ends."""
        read_some = body_reader(response)
        watchdog = RateWatchdog(self.limits)
        try:
            out = open(self.part, "r+b", buffering=0)  # noqa: SIM115 - closed below
        except OSError as exc:
            raise self.t._disk_error(exc) from None
        with out:
            out.seek(piece.next_byte)
            while not piece.done:
                self._check_stop()
                if self.hasher is not None:
                    self.hasher.hold_back(self._check_stop)
                want = min(self.job.chunk_size, piece.end - piece.next_byte)
                chunk = read_chunk(read_some, want, piece.next_byte, read_timeout)
                if not chunk:
                    return
                write_all(out, chunk, self.t._disk_error)
                self.plan.advance(piece, len(chunk))
                self._count(len(chunk), transferred=True)
                self._judge(response, self.probe.observe(len(chunk), ended=piece.done))
                slow = watchdog.check(len(chunk))
                if slow:
                    raise TryFailed(slow, too_slow=True)
        release_connection(response)

    def _judge(self, response: requests.Response, fast: Optional[bool]) -> None:
        """The first connection judged: alone if fast (the rest in one stream), else helped."""
        if fast:
            response.close()
            self.t.signed_url = self.urls.current()  # the one stream goes on with it
            raise Fallback(f"one connection brings {self.probe.rate / 1e6:.0f} MB/s")
        if fast is not None:
            self._spawn_helpers()

    def _count(self, count: int, *, transferred: bool) -> None:
        with self.lock:  # the transfer's counters are not thread-safe on their own
            if transferred:
                self.t.transferred += count
            self.t._count(count, transferred=transferred)

    def _checkpoints(self) -> None:
        while not self.stop.wait(CHECKPOINT_S):
            try:
                self._checkpoint()
            except Exception:  # noqa: BLE001 - the final checkpoint reports a disk problem
                log.debug("%s: a checkpoint failed", self.t.name, exc_info=True)

    def _checkpoint(self) -> None:
        """Record each piece's progress; only bytes already on disk (fdatasync first)."""
        with self.sidecar_lock:
            record = self.plan.record()
            try:
                if self.sync_fd is not None:
                    getattr(os, "fdatasync", os.fsync)(self.sync_fd)
                write_part_info(self.t.final, replace(self.info, ranges=record))
            except OSError as exc:
                raise self.t._disk_error(exc) from None
