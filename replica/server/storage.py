"""The storage origin: signed blob URLs, like the Azure Blob host OS uses.

``GET``/``HEAD /downloads/<ProductId>/<version>/<allGB|100kmSquares>/<format>/
<fileName>?sv=&se=&sr=b&sp=r&sig=`` serves a file when the signature is good
and unexpired (else 403 with an Azure XML error), with ``Range`` support (206,
416), ``Content-Length`` always, an ETag and a Last-Modified date, ``If-Range``
honoured (either validator; a mismatch gets the whole file, 200), and no rate
limit. Clean bodies go out with ``sendfile``; the fault switches (dropped,
short, long, cut or chunked-and-cut bodies, flipped bytes, slow or trickled
bodies, ignored ranges, 416s, no answer at all, a blob replaced mid-download;
see ``faults.py``) take a buffered path. ``file_response`` is reusable by any
origin that serves files (TRUD).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
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
_INVERTED = bytes(255 - value for value in range(256))  # a changed blob's bytes
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


def etag_of(stat: os.stat_result) -> str:
    """The strong ETag a served file gets (Azure style; changes when the file does)."""
    return f'"0x8D{stat.st_mtime_ns:X}"'


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
    etag = etag_of(stat)
    modified = stat.st_mtime
    changed = faults is not None and request.method == "GET" and faults.take_new_version(file_name)
    if changed:  # another version of the blob: new validators, inverted bytes
        etag, modified = etag[:-1] + 'V2"', modified + 86400
    headers: Dict[str, str] = {
        "Content-Type": content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(modified, usegmt=True),
        "x-ms-blob-type": "BlockBlob",
        "x-ms-version": "2020-04-08",
    }
    if faults is not None and faults.no_accept_ranges:
        del headers["Accept-Ranges"]
    if faults is not None and _hang(faults):
        return azure_error(503, "ServerBusy", "The server did not answer in time.")
    if faults is not None and faults.take_count("storage_416_count"):
        return _range_refused(size)
    wanted = request.header("Range")
    if faults is not None and faults.ignore_range:
        wanted = None
    if_range = request.header("If-Range")
    if if_range and if_range.strip() not in (etag, headers["Last-Modified"]):
        wanted = None  # the file changed since the client's partial copy: send all of it
    try:
        span = parse_range(wanted, size)
    except Unsatisfiable:
        return _range_refused(size)
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
    plan = _body_plan(faults, file_name, first, length, changed) if faults is not None else None
    if plan is None:
        return Response(status, headers, stream=lambda sock: _send_file(sock, path, first, length))
    if plan.extra:
        headers["Content-Length"] = str(length + plan.extra)
    if plan.chunked:
        del headers["Content-Length"]
        headers["Transfer-Encoding"] = "chunked"
    return Response(
        status, headers, stream=lambda sock: _copy_with_faults(sock, path, first, length, plan)
    )


def _range_refused(size: int) -> Response:
    response = azure_error(
        416, "InvalidRange", "The range specified is invalid for the current size of the resource."
    )
    response.headers["Content-Range"] = f"bytes */{size}"
    return response


def _hang(faults: Faults) -> bool:
    """Wait ``storage_hang_seconds`` before answering (in steps, so a reset ends it)."""
    started = time.monotonic()
    hung = False
    while time.monotonic() - started < faults.storage_hang_seconds:
        hung = True
        time.sleep(0.05)
    return hung


@dataclass(frozen=True)
class _BodyPlan:
    """How one faulty body goes out: where it is cut, what is flipped or added, how fast."""

    cut_at: Optional[int]  # body bytes sent before the connection is closed
    corrupt_at: Optional[int]  # absolute file offset of the flipped byte
    extra: int  # junk bytes after the file's bytes (announced in Content-Length)
    rate: int  # bytes per second, 0: unthrottled
    seconds_per_byte: float  # trickle: one byte, then this pause
    chunked: bool  # Transfer-Encoding: chunked (cut mid-chunk)
    inverted: bool = False  # every byte inverted: a changed blob (``changed_files``)


def _body_plan(
    faults: Faults, file_name: str, first: int, length: int, inverted: bool = False
) -> Optional[_BodyPlan]:
    """The faults that apply to this body, or None for a clean ``sendfile``."""
    cuts = []
    drop_after = faults.take_drop(first, length)
    if drop_after is not None:
        cuts.append(drop_after)
    if faults.short_body_bytes > 0:
        cuts.append(max(0, length - faults.short_body_bytes))
    if faults.cut_body_percent > 0:
        cuts.append(length * faults.cut_body_percent // 100)
    chunked = faults.take_count("chunked_cut_count")
    if chunked:
        cuts.append(length // 2)
    corrupt = first + length // 2 if length and faults.take_corruption(file_name) else None
    plan = _BodyPlan(
        cut_at=min(cuts) if cuts else None,
        corrupt_at=corrupt,
        extra=max(0, faults.long_body_bytes),
        rate=faults.slow_bytes_per_second,
        seconds_per_byte=faults.trickle_seconds_per_byte,
        chunked=chunked,
        inverted=inverted,
    )
    if plan == _BodyPlan(None, None, 0, 0, 0.0, False):
        return None
    return plan


def _send_file(sock: socket.socket, path: Path, offset: int, count: int) -> None:
    if count <= 0:
        return
    with open(path, "rb") as handle:
        sock.sendfile(handle, offset, count)


def _copy_with_faults(
    sock: socket.socket, path: Path, offset: int, count: int, plan: _BodyPlan
) -> None:
    """Send ``count`` bytes from ``offset`` as ``plan`` says: throttled, flipped, cut, padded."""
    rate = plan.rate
    chunk = _COPY_CHUNK if rate <= 0 else max(1024, min(64 * 1024, rate // 10))
    if plan.seconds_per_byte > 0:
        chunk = 1
    elif plan.chunked:
        chunk = min(chunk, 16 * 1024)
    total = count + plan.extra
    limit = total if plan.cut_at is None else min(total, plan.cut_at)
    started = time.monotonic()
    sent = 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        while sent < limit:
            want = min(chunk, (total if plan.chunked else limit) - sent)
            data = bytearray(handle.read(want))
            if plan.inverted:
                data = bytearray(data.translate(_INVERTED))
            if len(data) < want:  # past the file's end: the junk a long body adds
                data += b"\xa5" * (want - len(data))
            at = plan.corrupt_at
            if at is not None and offset + sent <= at < offset + sent + len(data):
                data[at - offset - sent] ^= 0xFF
            if plan.chunked:  # a whole chunk announced; the one with the cut is left unfinished
                sock.sendall(b"%x\r\n" % len(data) + bytes(data[: limit - sent]))
                if sent + len(data) > limit:
                    break
                sock.sendall(b"\r\n")
            else:
                sock.sendall(data)
            sent += len(data)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            if plan.seconds_per_byte > 0 and sent < limit:
                time.sleep(plan.seconds_per_byte)
    if limit < total:
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
