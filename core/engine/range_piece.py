"""One piece of a ranged download: what to ask, whether the answer will do, reading and writing it.

Helpers of ``ranged.py``. An answer to a range request is the asked-for
bytes of the version the ``.part`` holds, or it says why not: ``Fallback``
(the storage does not do ranges as it must: one stream instead), ``Changed``
(another version of the blob: start again), ``TryFailed`` (worth another try).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable, Dict, Optional

import requests
import urllib3

from .partfile import PartInfo
from .range_plan import Piece
from .storage_response import BODY_ERRORS, offers_ranges, range_span, refusal, same_version
from .tries import TryFailed, seconds_text


class Fallback(Exception):
    """The storage does not do ranges as they must be: fetch in one stream."""


class Changed(Exception):
    """The blob changed on the storage: the ``.part`` holds another version."""


class Stopped(Exception):
    """Another range of this file stopped them all."""


class FirstStreamProbe:
    """Whether a file's first connection is fast enough to keep the file to itself.

    Judged on the first ``PROBE_BYTES`` or ``PROBE_S`` of its body, whichever comes
    first: on a link that is not the limit (loopback, a LAN), more connections only
    share the cores with the MD5; over distance, each connection adds its own rate
    (TCP's slow start makes the first judgement err towards ranges, which is safe).
    """

    PROBE_BYTES = 8 << 20
    PROBE_S = 0.5

    def __init__(self, fast_bytes_per_s: float) -> None:
        self.fast = fast_bytes_per_s
        self.decided = fast_bytes_per_s <= 0
        self.rate = 0.0
        self._bytes = 0
        self._started = time.monotonic()

    def observe(self, count: int, *, ended: bool = False) -> Optional[bool]:
        """After ``count`` more bytes: None (not yet), True (fast: one stream), False (ranges)."""
        if self.decided:
            return None
        self._bytes += count
        elapsed = max(time.monotonic() - self._started, 1e-6)
        if not ended and self._bytes < self.PROBE_BYTES and elapsed < self.PROBE_S:
            return None
        self.decided = True
        self.rate = self._bytes / elapsed
        return self.rate >= self.fast


class SharedUrl:
    """A file's signed URL, shared by its ranges; asked for again after a failed try."""

    def __init__(self, resolve: Callable[[], str]) -> None:
        self._resolve = resolve
        self._url: Optional[str] = None
        self._lock = threading.Lock()

    def current(self) -> str:
        with self._lock:  # one resolve for all the ranges that need it
            if self._url is None:
                self._url = self._resolve()
            return self._url

    def refresh(self, stale: str) -> None:
        """``stale`` failed: the next ``current()`` asks again (unless another range did)."""
        with self._lock:
            if self._url == stale:
                self._url = None


def range_headers(piece: Piece, info: Optional[PartInfo]) -> Dict[str, str]:
    headers = {"Accept-Encoding": "identity", "Range": f"bytes={piece.next_byte}-{piece.end - 1}"}
    if info is not None and info.validator:
        headers["If-Range"] = info.validator  # changed since? then the whole file, please
    return headers


def check_answer(
    response: requests.Response, piece: Piece, size: int, info: Optional[PartInfo], name: str
) -> None:
    """Return when the answer brings the rest of ``piece`` of the version ``info`` describes."""
    status = response.status_code
    if status == 206:
        asked = (piece.next_byte, piece.end - 1, size)
        got = range_span(response.headers.get("Content-Range", ""))
        if got != asked:
            raise Fallback(f"asked for bytes {asked}, the storage answered {got}")
        if not offers_ranges(response):
            raise Fallback("the storage does not say Accept-Ranges: bytes")
        if info is not None and not same_version(info, response):
            raise Changed()
        return
    if status == 200:
        if info is not None and not same_version(info, response):
            raise Changed()
        raise Fallback("the storage answered a range request with the whole file")
    if status == 416:
        raise TryFailed("the storage refused the range (HTTP 416)")
    raise refusal(response, name)


def read_chunk(
    read_some: Callable[[int], bytes], count: int, at: int, read_timeout: float
) -> bytes:
    """Up to ``count`` body bytes; a broken or silent body is a ``TryFailed``."""
    try:
        return read_some(count)
    except BODY_ERRORS as exc:
        if isinstance(exc, (socket.timeout, urllib3.exceptions.ReadTimeoutError)):
            raise TryFailed(f"no data for {seconds_text(read_timeout)}") from None
        raise TryFailed(f"the connection dropped at byte {at} ({type(exc).__name__})") from None


def pause(
    seconds: float, stop: threading.Event, check_stop: Callable[[], None], wake: float
) -> None:
    """Wait ``seconds`` between tries; ``check_stop`` (every ``wake`` s) raises when stopped."""
    deadline = time.monotonic() + seconds
    while True:
        check_stop()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, wake))


def write_all(out: Any, chunk: bytes, disk_error: Callable[[OSError], Exception]) -> None:
    """Write all of ``chunk`` through an unbuffered handle (which may write less at once)."""
    view = memoryview(chunk)
    try:
        while view:
            view = view[out.write(view) :]
    except OSError as exc:
        raise disk_error(exc) from None
