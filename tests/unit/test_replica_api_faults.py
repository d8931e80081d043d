"""The replica's API fault switches break answers on the wire the way they say.

Read with a raw socket so nothing in between tidies the answer up.
"""

from __future__ import annotations

import socket
import time
from typing import Optional, Tuple

import pytest

REQUEST = b"GET /downloads/v1/products HTTP/1.1\r\nHost: replica\r\nConnection: close\r\n\r\n"


def exchange(replica, wait_s: float = 3.0) -> Tuple[bytes, bytes, Optional[Exception]]:
    """(head, body, the error that ended reading) of one raw request."""
    host, port = replica.api_origin.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(REQUEST)
        time.sleep(0.2)  # let the whole broken answer arrive before reading
        received, error = b"", None
        give_up = time.monotonic() + wait_s
        for _ in range(1000):  # bounded in count and in time
            left = give_up - time.monotonic()
            if left <= 0:
                error = socket.timeout("still coming")
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except OSError as exc:
                error = exc
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body, error


def announced(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    raise AssertionError("no Content-Length")


def test_short_long_and_reset_bodies(replica):
    head, clean, error = exchange(replica)
    assert error is None and announced(head) == len(clean)

    replica.set_faults(api_short_body_count=1)
    head, body, error = exchange(replica)
    assert error is None and announced(head) == len(clean) and body == clean[: len(clean) // 2]

    replica.set_faults(api_long_body_count=1)
    head, body, error = exchange(replica)
    assert announced(head) == len(clean) and body.startswith(clean) and len(body) > len(clean)

    replica.set_faults(api_reset_count=1)
    head, body, error = exchange(replica)
    assert isinstance(error, ConnectionResetError) and len(body) < len(clean)

    head, body, error = exchange(replica)  # the switches counted down: clean again
    assert error is None and body == clean


def test_trickle_and_hold(replica):
    replica.set_faults(api_trickle_count=1, api_trickle_seconds=0.5)
    head, body, error = exchange(replica, wait_s=1.0)
    assert head.startswith(b"HTTP/1.1 200") and len(body) <= 3
    assert isinstance(error, socket.timeout)

    replica.set_faults(api_hold_count=1, api_hold_seconds=600)
    head, body, error = exchange(replica, wait_s=1.0)
    assert head == b"" and isinstance(error, socket.timeout)
    (entry,) = [e for e in replica.requests("api") if e["status"] == 0]  # logged, unanswered


@pytest.mark.parametrize("switch", ["api_hold_count", "api_trickle_count"])
def test_reset_ends_held_and_trickling_answers(replica, switch):
    replica.set_faults(**{switch: 1})
    host, port = replica.api_origin.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5.0) as sock:
        sock.sendall(REQUEST)
        time.sleep(0.2)
        replica.faults.reset()  # what the fixture does after each test
        started = time.monotonic()
        for _ in range(1000):  # bounded
            if not sock.recv(65536):
                break
        assert time.monotonic() - started < 4.0  # the server let go, well before 5 s
