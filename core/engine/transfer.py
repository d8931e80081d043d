"""One file's transfer: tries, deadlines, resumes, verification, the move into place.

``FileTransfer(job, file).run()`` is what each worker of ``download_files``
(``engine/download.py``) does for one file, under the file's lock
(``engine/partfile.py``): look again whether another program finished it,
else fill the ``.part`` (resuming from a described ``.part`` with ``Range`` and
``If-Range``), check size and checksum, and ``os.replace`` it over the final
name. The ``job`` gives the shared parts: ``dest``, ``resolve``, ``sessions``
(one per worker thread), ``retry`` and ``limits``, ``chunk_size`` (ranged reads),
``halted`` (stop now; ``stopped_by_user``, ``cancel``), ``track``/``untrack``
(open responses, aborted on a halt), ``tracker`` (the progress stream),
``already_there``, ``planned_sign`` and ``lock_patience``. How many tries a
file gets: ``engine/tries.py``; storage answers read: ``storage_response.py``.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO, Optional

import requests

from ..errors import (
    Cancelled,
    DownloadError,
    InsufficientSpaceError,
    OSDownloadsError,
)
from ..net.retry import wait as retry_wait
from ..redact import get_logger
from .checksums import (
    DEFAULT_ALGORITHM,
    StreamHasher,
    bytes_problem,
    new_hasher,
    update_from_file,
)
from .files import Checksum, RemoteFile
from .free_space import closing_on_disk_error, disk_write_error
from .partfile import (
    BackgroundFlush,
    FileClaim,
    PartInfo,
    file_sign,
    fsync_folder,
    part_path,
    read_part_info,
    remove_part,
    sidecar_path,
    usable_part_size,
    write_part,
    write_part_info,
)
from .ranged import RangedFill
from .results import STATUS_DOWNLOADED, FileResult
from .storage_response import (
    BodyReader,
    broken_body,
    content_range,
    int_header,
    refusal,
    same_version,
    storage_get,
)
from .tries import RateWatchdog, Tries, TryFailed, gave_up

log = get_logger(__name__)

# --- one file -----------------------------------------------------------------------


class FileTransfer:
    """Fetch one file into its ``.part``, verify, and move it into place."""

    def __init__(self, job: Any, file: RemoteFile) -> None:
        self.job = job
        self.file = file
        self.name = file.file_name
        self.final = job.dest / file.file_name
        self.part = part_path(self.final)
        self.algorithm = file.checksum.algorithm if file.checksum else DEFAULT_ALGORITHM
        self.expected_size = file.size  # learnt from the server when the listing has none
        self.overflow: Optional[int] = None  # bytes seen when the server sent too many
        self.info: Optional[PartInfo] = None  # the sidecar of the .part being filled
        self.tries = Tries(job.retry, job.limits, job.job_budget)
        self.flusher = BackgroundFlush(None)
        self.transferred = 0
        self.resumes = 0
        self.tracked_bytes = 0  # what this file added to the job's bytes_done
        self.ranged = RangedFill(self)  # a large file over parallel ranges (ranged.py)
        self.signed_url: Optional[str] = None  # a URL just resolved and still good: used once

    def run(self) -> FileResult:
        halted = self.job.halted_or_cancelled()
        with FileClaim(self.final, patience=self.job.lock_patience, cancel=halted.is_set) as claim:
            if claim.waited or file_sign(self.final) != self.job.planned_sign.get(self.name):
                # Another program may have finished it meanwhile: look again, on disk.
                done = self.job.already_there(self.file)
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
            hasher = StreamHasher.for_size(self.algorithm, self.file.size, lambda a: new_hasher(a))
            try:
                filled = self.ranged.fill(fresh=attempt > 1)  # parallel ranges, or None
                if filled is None:
                    size = self._fill_part(hasher, fresh=attempt > 1)
                    actual = hasher.hexdigest()
                else:
                    size, actual = filled
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
        return bytes_problem(self.file, expected, self.overflow, size, actual)

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
        self.job._raise_if_halted()  # stopped while waiting for the lock: leave no empty .part
        try:
            if not offset:  # whatever the old sidecar said no longer holds
                sidecar_path(self.final).unlink(missing_ok=True)
            out = open(self.part, "r+b" if offset else "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise self._disk_error(exc) from None
        try:
            return self._fill_open_part(out, hasher, offset)
        except Cancelled:
            cancel = self.job.cancel
            by_user = self.job.stopped_by_user or (cancel is not None and cancel.is_set())
            if not by_user and not self.part.stat().st_size:
                # Stopped because another file failed, before a byte arrived: nothing to
                # resume (a user's cancel keeps every .part, as promised).
                remove_part(self.final)
            raise

    def _fill_open_part(self, out: BinaryIO, hasher: StreamHasher, offset: int) -> int:
        """``_fill_part`` once the ``.part`` is open; closes it."""
        with closing_on_disk_error(out, self._disk_error):
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
                    raise TryFailed(f"the connection ended early, at byte {out.tell()}")
            except TryFailed as problem:
                if self.job.halted.is_set():
                    raise Cancelled() from None
                progressed = out.tell() > best and not problem.too_slow
                best = max(best, out.tell())
                self.tries.end(progressed=progressed)
                delay = self.tries.pause(progressed=progressed, retry_after=problem.retry_after)
                given_up = self.tries.exhausted()  # the file's budget, then the job's
                if given_up:
                    raise gave_up(self.name, given_up, problem) from None
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
        url = self.signed_url or self.job.resolve(self.file)  # fresh: signed URLs expire
        self.signed_url = None
        offset = out.tell()
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = self.info.validator if self.info is not None else None
            if validator:
                headers["If-Range"] = validator  # changed since? then the whole file, please
        read_timeout = self.tries.read_timeout()
        session = self.job.sessions.get()
        response = storage_get(session, url, headers, self.job.limits, read_timeout, self.name)
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
            start, total = content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                self._rewind(out, hasher)
                raise TryFailed(f"the server resumed at byte {start}, not {offset}; starting again")
            if self.info is not None and not same_version(self.info, response):
                self._rewind(out, hasher)  # it ignored If-Range: these bytes are of another file
                raise TryFailed("the file changed on the server; starting again")
            if total is not None and self.expected_size is None:
                self._learn_size(total)
            if self.info is None:
                self._describe_part(response)
            return
        if status == 200:
            if offset:
                log.info("%s: the server sent the whole file; starting again from zero", self.name)
                self._rewind(out, hasher)
            length = int_header(response, "Content-Length")
            if length is not None and self.expected_size is None:
                self._learn_size(length)
            self._describe_part(response)
            return
        if status == 416:
            self._rewind(out, hasher)
            raise TryFailed("the server refused the range (HTTP 416); starting again")
        raise refusal(response, self.name)

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
        """Copy the body into ``out`` and the hash, a block at a time (``BodyReader``)."""
        length = int_header(response, "Content-Length")
        limit = self.expected_size
        body = BodyReader(response)
        watchdog = RateWatchdog(self.job.limits)
        halted = self.job.halted
        while True:
            if halted.is_set():
                raise Cancelled()
            block = hasher.block()
            if length is not None:
                block = block[: max(0, length - body.received)]
            count, error = body.fill(block, halted)
            if count:
                position = out.tell()
                if limit is not None and position + count > limit:
                    # More than the listing says: keep nothing past it and stop reading.
                    self.overflow = position + count
                    return True
                self._write(out, hasher, block[:count])
            if error is not None:
                if halted.is_set():
                    raise Cancelled() from None
                raise broken_body(error, body.received, read_timeout)
            if not count or (length is not None and body.received >= length):
                break  # the end, or all there: finished even if the job is stopping
            slow = watchdog.check(count)
            if slow:
                raise TryFailed(slow, too_slow=True)
        complete = length is None or body.received >= length
        if complete:
            body.release()
        return complete

    def _write(self, out: BinaryIO, hasher: StreamHasher, data: memoryview) -> None:
        try:
            write_part(out, data)
        except OSError as exc:
            raise self._disk_error(exc) from None
        count = len(data)
        hasher.update(data)
        self.flusher.wrote(count)
        self.transferred += count
        self._count(count, transferred=True)

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
        fsync_folder(self.final.parent)

    def _discard_part(self) -> None:
        remove_part(self.final)
        self._count(-self.tracked_bytes, transferred=False)

    def _disk_error(self, exc: OSError) -> OSDownloadsError:
        return disk_write_error(exc, self.name, self.job.dest)
