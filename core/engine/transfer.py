"""One file's transfer: tries, deadlines, resumes, verification, the move into place.

``FileTransfer(job, file).run()`` is what each worker of ``download_files``
(``core/download.py``) does for one file, under the file's lock
(``core/partfile.py``): look again whether another program finished it,
else fill the ``.part`` (resuming from a described ``.part`` with ``Range`` and
``If-Range``), check size and checksum, and ``os.replace`` it over the final
name. The ``job`` gives the shared parts: ``dest``, ``resolve``, ``sessions``
(one per worker thread), ``retry`` and ``limits``, ``chunk_size``,
``halted`` (stop now; ``stopped_by_user``, ``cancel``), ``track``/``untrack``
(open responses, aborted on a halt), ``tracker`` (the progress stream),
``already_there``, ``planned_sign`` and ``lock_patience``.

Every try counts (``_Tries``): a try that brought no new byte, or brought
them too slowly (``_RateWatchdog``), is a failure; the failures, all tries,
and the time spent failing are bounded (``TransferLimits``, ``RetryPolicy``).
"""

from __future__ import annotations

import errno
import http.client
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional, Tuple

import requests
import urllib3

from ..api.models import Checksum, RemoteFile
from ..errors import (
    Cancelled,
    ChecksumMismatchError,
    DownloadError,
    InsufficientSpaceError,
    NetworkError,
    OSDownloadsError,
    SizeMismatchError,
    connection_failure,
)
from ..net.retry import RetryPolicy, parse_retry_after
from ..net.retry import wait as retry_wait
from ..redact import get_logger, redact
from .checksums import DEFAULT_ALGORITHM, new_hasher, update_from_file
from .manifest import read_manifest
from .partfile import (
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

log = get_logger(__name__)

CONNECT_TIMEOUT_S = 10.0
STALL_TIMEOUT_S = 30.0  # no byte for this long: the try is abandoned
MIN_RATE_BYTES_PER_S = 1024.0  # slower than this over MIN_RATE_WINDOW_S: abandoned too
MIN_RATE_WINDOW_S = 30.0
GIVE_UP_AFTER_S = 60.0  # failing tries of one file (and the pauses after them) add up to this
MAX_TRIES_PER_FILE = 20  # every GET of one file counts, whatever its outcome
THREADED_HASH_MIN_BYTES = 8 << 20  # smaller files hash inline: a thread costs more than it saves

STATUS_DOWNLOADED = "downloaded"
STATUS_SKIPPED = "skipped"


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


# --- how many tries one file gets ------------------------------------------------------


class _Tries:
    """The bound on one file's tries.

    Every try counts toward ``limits.max_tries``; a failed one (no new byte,
    or too slow) also toward ``policy.max_attempts`` and, with the pause after
    it, toward ``limits.give_up_after``; all pauses toward
    ``policy.max_total_wait``. Small and self-contained on purpose: a job-wide
    budget can replace it.
    """

    def __init__(self, policy: RetryPolicy, limits: TransferLimits) -> None:
        self.policy = policy
        self.limits = limits
        self.count = 0
        self.failures = 0
        self.failing_s = 0.0  # time spent in failed tries and the pauses after them
        self.paused_s = 0.0  # all pauses between tries (RetryPolicy.max_total_wait)
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
        if self.paused_s >= self.policy.max_total_wait:
            return f"{_seconds(self.paused_s)} of pauses between tries"
        return None

    def pause(self, *, progressed: bool, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try (backing off with each failure)."""
        delay = self.policy.delay(max(self.failures, 1), retry_after)
        if not progressed:
            room = self.limits.give_up_after - self.failing_s
            delay = max(0.0, min(delay, room))
            self.failing_s += delay
        self.paused_s += delay
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
            failure = connection_failure(
                exc, redact(url), timeout=(limits.connect_timeout, read_timeout)
            )
            raise NetworkError(f"{self.name}: {failure.message}", hint=failure.hint) from None
        except requests.RequestException as exc:
            failure = connection_failure(
                exc, redact(url), timeout=(limits.connect_timeout, read_timeout)
            )
            raise _Retry(failure.message.rstrip(".")) from None
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
            if length is not None and received >= length:
                break  # all there: finished even if the job is stopping
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
                f"only {self.count} bytes arrived in {_seconds(span)}, "
                f"less than {self.min_rate:.0f} bytes/s"
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
