"""Answers written straight to the socket, broken on purpose (API fault switches).

A well-behaved ``Response`` becomes a ``takeover`` that writes the status line
and headers itself, then the body the way a failing server or link would:

- ``short_body``: half the announced bytes, then the connection closes;
- ``long_body``: the whole body, then junk past its ``Content-Length``;
- ``reset``: half the body, then a TCP reset;
- ``trickle``: one byte every ``seconds_per_byte``;

and ``held_answer`` reads the request and never answers at all. Every one of
them ends: when the client leaves, when its time is up, or when ``stop()`` says
so (the fault switches were reset).
"""

from __future__ import annotations

import select
import socket
import time
from http import HTTPStatus
from typing import Callable

from .routing import Response

Stop = Callable[[], bool]
LONG_BODY_JUNK = b'{"junk": "' + b"x" * 8192 + b'"}\r\n'
POLL_S = 0.05


def _head(response: Response) -> bytes:
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {response.status} {phrase}".rstrip()]
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "connection"):
            lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {len(response.body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def broken_answer(
    response: Response, kind: str, *, seconds_per_byte: float, stop: Stop
) -> Response:
    """``response`` as a takeover that breaks its body the ``kind`` way."""
    body = response.body
    head = _head(response)

    def write(sock: socket.socket) -> None:
        if kind == "short_body":
            sock.sendall(head + body[: len(body) // 2])
        elif kind == "long_body":
            sock.sendall(head + body + LONG_BODY_JUNK)
        elif kind == "reset":
            sock.sendall(head + body[: len(body) // 2])
        elif kind == "trickle":
            sock.sendall(head)
            for index in range(len(body)):
                if _pause(sock, seconds_per_byte, stop):
                    return
                sock.sendall(body[index : index + 1])
        else:
            raise ValueError(f"Unknown body fault {kind!r}")

    return Response(
        response.status, dict(response.headers), body, takeover=write, abort=kind == "reset"
    )


def held_answer(seconds: float, stop: Stop) -> Response:
    """A takeover that answers nothing, for ``seconds`` at most."""

    def hold(sock: socket.socket) -> None:
        _pause(sock, seconds, stop)

    return Response(0, {}, b"", takeover=hold)


def _pause(sock: socket.socket, seconds: float, stop: Stop) -> bool:
    """Wait ``seconds``; True (stop now) if the client left or ``stop()`` says so."""
    end = time.monotonic() + max(seconds, 0.0)
    while True:
        if stop():
            return True
        left = end - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([sock], [], [], min(left, POLL_S))
        if readable:
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    return True  # the client closed its side
            except OSError:
                return True
            # More request bytes (a pipelined request): keep waiting for the time.
            time.sleep(min(left, POLL_S))
