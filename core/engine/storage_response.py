"""Asking storage and reading its answer: ranges, validators, prompt body reads, keep-alive.

Small helpers of ``engine/transfer.py`` and ``engine/ranged.py``: ``storage_get``
(one GET, its failures typed) and what only looks at a ``requests`` response.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from typing import Callable, Dict, Optional, Tuple

import requests
import urllib3

from ..errors import DownloadError, NetworkError, connection_failure
from ..net.retry import parse_retry_after
from ..redact import redact
from .partfile import PartInfo
from .tries import TransferLimits, TryFailed, seconds_text

HANDOFF_S = 0.1  # a part-filled buffer is handed on after this long (slow links)


def storage_get(
    session: requests.Session,
    url: str,
    headers: Dict[str, str],
    limits: TransferLimits,
    read_timeout: float,
    name: str,
) -> requests.Response:
    """One streaming GET; ``TryFailed`` when another try may work, ``NetworkError`` if none can."""
    timeout = (limits.connect_timeout, read_timeout)
    try:
        return session.get(url, headers=headers, stream=True, timeout=timeout)
    except requests.exceptions.ConnectTimeout:
        raise TryFailed(
            f"could not connect within {seconds_text(limits.connect_timeout)}"
        ) from None
    except requests.exceptions.ReadTimeout:
        raise TryFailed(f"no answer within {seconds_text(read_timeout)}") from None
    except HOPELESS_REQUESTS as exc:
        failure = connection_failure(exc, redact(url), timeout=timeout)
        raise NetworkError(f"{name}: {failure.message}", hint=failure.hint) from None
    except requests.RequestException as exc:
        failure = connection_failure(exc, redact(url), timeout=timeout)
        raise TryFailed(failure.message.rstrip(".")) from None


def same_version(info: PartInfo, response: requests.Response) -> bool:
    """Whether a 206 answer is of the file version the ``.part`` holds the start of."""
    etag = response.headers.get("ETag")
    if info.etag and etag:
        return etag == info.etag
    modified = response.headers.get("Last-Modified")
    if info.last_modified and modified:
        return modified == info.last_modified
    return True


class BodyReader:
    """A storage answer's body read into the caller's buffers, never decoded.

    ``fill(view, halted)`` reads until ``view`` is full, the body ends, the job
    is halted or ``HANDOFF_S`` has passed since the first byte (so progress,
    cancellation and the rate watchdog stay prompt on slow links). Each read
    returns what has arrived (``read1`` semantics: a plain ``read(4 MiB)``
    would wait for all of it). A body with a ``Content-Length`` that is not
    chunked is read straight from the socket into the buffer (``readinto1`` of
    the buffered socket under ``http.client``): no bytes object per read, no
    copy; ``http.client``'s count of what is left is kept, so the end of the
    body is seen as usual. Other bodies come through ``read1`` and are copied.
    We asked for ``identity`` and hash raw bytes.
    """

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.received = 0
        raw = response.raw
        inner = getattr(raw, "_fp", None)  # the http.client response, urllib3 1.26 and 2
        readinto1 = getattr(getattr(inner, "fp", None), "readinto1", None)
        plain = isinstance(getattr(inner, "length", None), int) and not getattr(
            inner, "chunked", True
        )
        self.direct = callable(readinto1) and plain and not response.headers.get("Content-Encoding")
        self._inner = inner
        self._readinto1 = readinto1
        self._read_some = None if self.direct else body_reader(response)

    def fill(
        self, view: memoryview, halted: threading.Event
    ) -> Tuple[int, Optional[BaseException]]:
        """(bytes read into ``view``, the error that ended the body early or None)."""
        readinto = self._from_socket if self.direct else self._copied
        filled, want = 0, len(view)
        started = time.monotonic()
        try:
            while filled < want:
                count = readinto(view[filled:])
                if not count:
                    break
                filled += count
                if halted.is_set() or time.monotonic() - started >= HANDOFF_S:
                    break
        except BODY_ERRORS as exc:
            self.received += filled
            return filled, exc
        self.received += filled
        return filled, None

    def _from_socket(self, view: memoryview) -> int:
        inner = self._inner
        left = inner.length
        if left < len(view):
            if left <= 0:
                return 0
            view = view[:left]
        count = self._readinto1(view)
        inner.length = left - count
        return count

    def _copied(self, view: memoryview) -> int:
        assert self._read_some is not None
        chunk = self._read_some(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def release(self) -> None:
        """Hand the fully read connection back to the pool (``release_connection``).

        urllib3 did not see the bytes read from under it: its count is set right first.
        """
        raw = self.response.raw
        remaining = getattr(raw, "length_remaining", None)
        if self.direct and isinstance(remaining, int):
            raw.length_remaining = max(0, remaining - self.received)
        release_connection(self.response)


def body_reader(response: requests.Response) -> Callable[[int], bytes]:
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


def release_connection(response: requests.Response) -> None:
    """Hand a fully read connection back to the pool (keep-alive across files).

    Reading with ``read1`` (or from under urllib3) bypasses the bookkeeping by
    which urllib3 notices the end of a body; one more (empty) ``read`` lets it
    see the end and release the connection, so the next file reuses it (no new
    TLS handshake).
    """
    try:
        response.raw.read(1, decode_content=False)
    except Exception:  # noqa: BLE001 - the body is complete; a connection not reused is fine
        pass


def broken_body(error: BaseException, received: int, read_timeout: float) -> TryFailed:
    """The failed try for a body that broke off with ``error`` (a ``BODY_ERRORS``)."""
    if isinstance(error, (socket.timeout, urllib3.exceptions.ReadTimeoutError)):
        return TryFailed(f"no data for {seconds_text(read_timeout)}")
    return TryFailed(f"the connection dropped after {received} bytes ({type(error).__name__})")


def content_range(value: str) -> Tuple[Optional[int], Optional[int]]:
    """(first byte, total size) from ``bytes 100-199/1000``; None where unknown."""
    try:
        unit, _, rest = value.strip().partition(" ")
        span, _, total = rest.partition("/")
        first = int(span.split("-", 1)[0]) if unit.lower() == "bytes" else None
        return first, (int(total) if total.strip().isdigit() else None)
    except ValueError:
        return None, None


def range_span(value: str) -> Tuple[Optional[int], Optional[int], Optional[int]]:
    """(first, last, total) from ``bytes 100-199/1000``; None where unknown."""
    first, total = content_range(value)
    try:
        last = int(value.strip().partition(" ")[2].partition("/")[0].split("-", 1)[1])
    except (IndexError, ValueError):
        last = None
    return first, last, total


def offers_ranges(response: requests.Response) -> bool:
    """Whether the answer says ``Accept-Ranges: bytes``."""
    return "bytes" in response.headers.get("Accept-Ranges", "").lower().split(",")[0]


def int_header(response: requests.Response, name: str) -> Optional[int]:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# A broken body in any form: urllib3 1.26 raises IncompleteRead/ProtocolError (and
# http.client's own IncompleteRead through read1), urllib3 2 ChunkedEncodingError.
BODY_ERRORS = (
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
HOPELESS_REQUESTS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


def refusal(response: requests.Response, name: str) -> Exception:
    """The error for a storage answer that brings no body: worth another try, or not."""
    status = response.status_code
    if status in (401, 403):  # an expired or refused signed URL: ask the API for a new one
        return TryFailed(f"storage refused the link (HTTP {status})")
    if status == 429 or status >= 500:
        return TryFailed(
            f"storage answered HTTP {status}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 404:
        return DownloadError(f"{name}: the file is not on the storage server (HTTP 404).")
    return DownloadError(f"{name}: unexpected HTTP {status} from the storage server.")
