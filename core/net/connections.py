"""Sockets under responses, and reading a capped body: the low-level pieces of a request.

``shutdown_connection`` wakes a thread blocked reading a response (cancel,
deadlines: ``net/http.py``, the download engine); ``read_body`` reads an
answer into memory, capped at ``MAX_BODY_BYTES`` and never silently short.
"""

from __future__ import annotations

import socket
import threading
from typing import List

import requests

from ..errors import Cancelled

MAX_BODY_BYTES = 64 << 20  # an answer read into memory (JSON, thumbnails) is never bigger
BODY_CHUNK = 64 << 10


class ShortBody(Exception):
    def __init__(self, received: int, announced: int) -> None:
        super().__init__(f"{received} of {announced} bytes")
        self.received = received
        self.announced = announced


class BodyTooLarge(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def read_body(response: requests.Response, stop: threading.Event) -> None:
    """Read the whole body into ``response`` (capped; a short one is an error)."""
    raw = response.raw
    chunks: List[bytes] = []
    total = 0
    while True:
        if stop.is_set():
            raise Cancelled()
        chunk = raw.read(BODY_CHUNK, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise BodyTooLarge(response.status_code)
        chunks.append(chunk)
    missing = getattr(raw, "length_remaining", None)
    if missing:
        received = int(raw.tell())
        raise ShortBody(received, received + int(missing))
    response._content = b"".join(chunks)
    response._content_consumed = True


def shutdown_connection(response: requests.Response) -> None:
    """Shut the socket under a streaming response down: a blocked read ends at once."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
