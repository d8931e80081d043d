"""The storage origin: signed blob URLs, like the Azure Blob host OS uses.

``GET``/``HEAD /downloads/<ProductId>/<version>/<allGB|100kmSquares>/<format>/
<fileName>?sv=&se=&sr=b&sp=r&sig=`` serves a file when the signature is good
and unexpired (else 403 with an Azure XML error), with ``Range`` support (206,
416), ``Content-Length`` always, an ETag, and no rate limit. Clean bodies go
out with ``sendfile``; the fault switches (dropped connections, flipped bytes,
slow bodies) take a buffered path. ``file_response`` is reusable by any origin
that serves files (TRUD).
"""

from __future__ import annotations

import socket
import time
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from pathlib import Path
from typing import Dict, Optional, Tuple
from xml.sax.saxutils import escape

from .faults import Faults
from .inventory import Inventory
from .routing import Request, Response, Router
from .signing import UrlSigner

_COPY_CHUNK = 1024 * 1024
AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization "
    "header is formed correctly including the signature."
)


class Unsatisfiable(ValueError):
    """The range starts beyond the end of the file."""


def parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """(first, last) byte of a single ``bytes=`` range, or None for the whole file.

    Malformed or multi-part ranges are ignored (the whole file is served), as
    RFC 9110 allows; a range that starts past the end raises ``Unsatisfiable``.
    """
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.strip()[6:].strip()
    if "," in spec or "-" not in spec:
        return None
    first_text, last_text = (part.strip() for part in spec.split("-", 1))
    try:
        if not first_text:  # suffix: the last N bytes
            count = int(last_text)
            if count <= 0 or size == 0:
                raise Unsatisfiable(spec)
            return max(0, size - count), size - 1
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return None
    if first < 0 or last < first and last_text:
        return None
    if first >= size:
        raise Unsatisfiable(spec)
    return first, min(last, size - 1)


def azure_error(status: int, code: str, message: str, detail: str = "") -> Response:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{code}</Code><Message>{escape(message)}\nRequestId:{uuid.uuid4()}\nTime:{now}"
        "</Message>"
        + (
            f"<AuthenticationErrorDetail>{escape(detail)}</AuthenticationErrorDetail>"
            if detail
            else ""
        )
        + "</Error>"
    )
    headers = {"Content-Type": "application/xml", "x-ms-error-code": code}
    return Response(status, headers, body.encode("utf-8"))


def file_response(
    request: Request,
    path: Path,
    *,
    file_name: str,
    content_type: str = "application/octet-stream",
    faults: Optional[Faults] = None,
) -> Response:
    """The file (or the asked-for range of it), subject to the storage faults."""
    try:
        stat = path.stat()
    except OSError:
        return azure_error(404, "BlobNotFound", "The specified blob does not exist.")
    size = stat.st_size
    etag = f'"0x8D{stat.st_mtime_ns:X}"'
    headers: Dict[str, str] = {
        "Content-Type": content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "x-ms-blob-type": "BlockBlob",
        "x-ms-version": "2020-04-08",
    }
    wanted = request.header("Range")
    if_range = request.header("If-Range")
    if if_range and if_range.strip() != etag:
        wanted = None  # the file changed since the client's partial copy: send all of it
    try:
        span = parse_range(wanted, size)
    except Unsatisfiable:
        response = azure_error(
            416,
            "InvalidRange",
            "The range specified is invalid for the current size of the resource.",
        )
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    status = 200
    first, last = 0, size - 1
    if span is not None:
        status = 206
        first, last = span
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = max(0, last - first + 1)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status, headers, stream=lambda sock: None)
    drop_after = corrupt = None
    rate = 0
    if faults is not None:
        drop_after = faults.take_drop()
        corrupt = first + length // 2 if length and faults.take_corruption(file_name) else None
        rate = faults.slow_bytes_per_second
    if drop_after is None and corrupt is None and rate <= 0:
        return Response(status, headers, stream=lambda sock: _send_file(sock, path, first, length))
    return Response(
        status,
        headers,
        stream=lambda sock: _copy_with_faults(
            sock, path, first, length, drop_after=drop_after, corrupt_at=corrupt, rate=rate
        ),
    )


def _send_file(sock: socket.socket, path: Path, offset: int, count: int) -> None:
    if count <= 0:
        return
    with open(path, "rb") as handle:
        sock.sendfile(handle, offset, count)


def _copy_with_faults(
    sock: socket.socket,
    path: Path,
    offset: int,
    count: int,
    *,
    drop_after: Optional[int],
    corrupt_at: Optional[int],
    rate: int,
) -> None:
    """Send ``count`` bytes from ``offset``: throttled, one byte flipped, or cut short."""
    chunk = _COPY_CHUNK if rate <= 0 else max(1024, min(64 * 1024, rate // 10))
    limit = count if drop_after is None else min(count, drop_after)
    started = time.monotonic()
    sent = 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        while sent < limit:
            data = bytearray(handle.read(min(chunk, limit - sent)))
            if not data:
                break
            if corrupt_at is not None and offset + sent <= corrupt_at < offset + sent + len(data):
                data[corrupt_at - offset - sent] ^= 0xFF
            sock.sendall(data)
            sent += len(data)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    if drop_after is not None and drop_after < count:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def build_storage_router(inventory: Inventory, signer: UrlSigner, faults: Faults) -> Router:
    router = Router()
    router.not_found = lambda request: azure_error(
        404, "ResourceNotFound", "The specified resource does not exist."
    )

    @router.route("GET", "/{blob*}")
    def get_blob(request: Request, blob: str) -> Response:
        params = dict(request.query)
        problem = signer.check(blob, params)
        if problem is not None:
            return azure_error(403, "AuthenticationFailed", AUTH_FAILED, problem)
        stored = inventory.blob(blob)
        if stored is None:
            return azure_error(404, "BlobNotFound", "The specified blob does not exist.")
        return file_response(
            request,
            stored.path,
            file_name=stored.file_name,
            content_type=stored.content_type,
            faults=faults,
        )

    return router
