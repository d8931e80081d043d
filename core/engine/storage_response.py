"""Asking storage and reading its answer: ranges, validators, prompt body reads, keep-alive.

Small helpers of ``engine/transfer.py`` and ``engine/ranged.py``: ``storage_get``
(one GET, its failures typed) and what only looks at a ``requests`` response.
"""

from __future__ import annotations

import http.client
import socket
from typing import Callable, Dict, Optional, Tuple

import requests
import urllib3

from ..errors import DownloadError, NetworkError, connection_failure
from ..net.retry import parse_retry_after
from ..redact import redact
from .partfile import PartInfo
from .tries import TransferLimits, TryFailed, seconds_text


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

    Reading with ``read1`` bypasses the bookkeeping by which urllib3 notices
    the end of a body; one more (empty) ``read`` lets it see the end and
    release the connection, so the next file reuses it (no new TLS handshake).
    """
    try:
        response.raw.read(1, decode_content=False)
    except Exception:  # noqa: BLE001 - the body is complete; a connection not reused is fine
        pass


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
