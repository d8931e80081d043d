"""Typed errors for everything core/ can detect.

Each error carries a message a person can act on (``str(err)``) and, where it
helps, a ``hint`` saying what to do next. Interfaces (dock, Processing, command
line) turn these into words in one place each: see ``describe``. No message
ever contains an API key: messages are built from redacted URLs only.
"""

from __future__ import annotations

import errno
import socket
from typing import Dict, Iterator, Optional
from urllib.parse import urlsplit

from .safe_text import safe_line


class OSDownloadsError(Exception):
    """Base of every error the plugin raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


def describe(error: BaseException, *, key_setting: str = "") -> str:
    """One line for a person: the message, then the hint when there is one.

    ``key_setting`` is where this interface sets the OS API key ("--key or
    OS_API_KEY", "the OS Downloads settings"); errors about that key name it.
    Unknown exceptions get a generic line; their details belong in the log.
    The line is made safe to show (``safe_line``): messages carry server text.
    """
    if isinstance(error, OSDownloadsError):
        message = error.message.strip()
        hint = error.hint
        if key_setting and getattr(error, "about_os_key", False):
            hint = f"{hint} The key comes from {key_setting}.".strip()
        if hint and message and message[-1] not in ".!?:":
            message += "."
        return safe_line(f"{message} {hint}".strip())
    return f"Unexpected error ({error.__class__.__name__}); see the log for details."


class ConfigurationError(OSDownloadsError):
    """A setting is missing or invalid (no key configured, bad URL...)."""


# --- talking to an API -------------------------------------------------------


class NetworkError(OSDownloadsError):
    """The server could not be reached, or the connection dropped."""

    hint = "Check your internet connection and proxy settings, then try again."


def connection_failure(exc: BaseException, url: str, *, timeout: object = None) -> NetworkError:
    """The error for a request that got no answer, in words (never urllib3's internals).

    ``url`` is already redacted; ``timeout`` is the request's (seconds, or a
    (connect, read) pair) so a timeout can say how long was waited. The cause
    is found by walking the exception chain down to the socket-level error
    that ``requests`` and urllib3 wrap.
    """
    parts = urlsplit(url)
    host = parts.hostname or url
    if parts.port:
        host = f"{host}:{parts.port}"
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    reason, hint = _connection_reason(exc)
    if reason == _CONNECT_TIMEOUT and isinstance(connect, (int, float)):
        reason = f"no answer to the connection request within {connect:g} s"
    if reason == _READ_TIMEOUT:
        if isinstance(read, (int, float)):
            return NetworkError(
                f"{host} timed out after {read:g} s with no data.",
                hint="The server accepted the connection but sent nothing; try again later.",
            )
        return NetworkError(f"{host} timed out with no data.", hint=_RETRY_LATER)
    return NetworkError(f"Could not connect to {host}: {reason}.", hint=hint)


_RETRY_LATER = "Check your internet connection and proxy settings, then try again."
_NAME_HINT = "Check your internet connection, the API URL setting and your DNS or proxy."
_CONNECT_TIMEOUT = "no answer to the connection request (timed out)"
_READ_TIMEOUT = "the server stopped sending data (timed out)"


def _connection_reason(exc: BaseException) -> tuple[str, str]:
    causes = list(_chain(exc))
    names = " ".join(type(c).__name__ for c in causes)
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return "name not found", _NAME_HINT
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return (
                "connection refused",
                "Check your internet connection, proxy settings and the API URL, "
                "or try again later.",
            )
        if isinstance(cause, ConnectionResetError):
            return "the connection was reset", _RETRY_LATER
    text = " ".join(str(c) for c in causes)
    if "Failed to resolve" in text or "Name or service not known" in text:
        return "name not found", _NAME_HINT
    if "SSL" in names or "CERTIFICATE" in text.upper():
        return (
            "the secure connection failed (certificate or TLS problem)",
            "Check the proxy and SSL settings.",
        )
    if "ConnectTimeout" in names or "ConnectTimeoutError" in names:
        return _CONNECT_TIMEOUT, _RETRY_LATER
    if "Timeout" in names or "timeout" in names or isinstance(exc, TimeoutError):
        return _READ_TIMEOUT, _RETRY_LATER
    if "RemoteDisconnected" in names or "ProtocolError" in names:
        return "the server closed the connection without an answer", _RETRY_LATER
    return "the connection failed", _RETRY_LATER


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, urllib3's ``reason`` and ``args``."""
    seen: set = set()
    todo = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nested, BaseException):
                todo.append(nested)
        todo.extend(a for a in current.args if isinstance(a, BaseException))


class NetworkTimeout(NetworkError):
    """A deadline passed: the answer came too slowly, or a transfer stalled."""

    hint = "The server or the network is very slow; try again later."

    def __init__(
        self, message: str, *, host: str = "", seconds: float = 0.0, hint: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.host = host
        self.seconds = seconds


class ServerNotAnswering(NetworkTimeout):
    """The server took the connection but sent no answer before the deadline."""

    hint = "The service may be down or overloaded; try again later."


class RetriesExhausted(OSDownloadsError):
    """A retry budget (attempts or time) is used up; ``reason`` is the last problem."""

    hint = "Try again later."

    def __init__(self, *, attempts: int, elapsed: float, reason: str = "") -> None:
        said = f": {reason}" if reason else ""
        super().__init__(f"Gave up after {attempts} tries in {elapsed:.0f} s{said}")
        self.attempts = attempts
        self.elapsed = elapsed
        self.reason = reason


class ApiError(OSDownloadsError):
    """The API answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str = "",
        hint: str = "",
        links: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.url = url  # always redacted
        self.links = dict(links or {})


class UnexpectedResponse(ApiError):
    """The API answered 200 with something that does not fit its documented shape
    (wrong types, absurd numbers, nesting too deep, a bad file name)."""

    hint = (
        "This is a problem on the server side or with the API URL setting; "
        "try again later, and report it if it persists."
    )

    @classmethod
    def for_path(cls, path: str, problem: str, *, status: int = 200) -> UnexpectedResponse:
        return cls(
            f"The API answered with something unexpected for {path}: {problem}",
            status=status,
            url=path,
        )


class BadRequestError(ApiError):
    """400: the request was malformed (or, for TRUD, the key is invalid)."""


class AuthenticationError(ApiError):
    """401: the key (or OAuth2 token) is missing or invalid."""

    hint = "Check the API key."
    about_os_key = False  # True when the OS Data Hub key is meant (not TRUD's)


class ForbiddenError(ApiError):
    """403: authenticated, but this account may not use this resource."""

    hint = "Check that your OS Data Hub project includes the OS Downloads API."


class NotFoundError(ApiError):
    """404: no such product, package, version or file."""


class RateLimitedError(ApiError):
    """429 still coming after the bounded retries."""

    hint = "The API's request limit was reached; wait a minute and try again."


class ServerError(ApiError):
    """5xx still coming after the bounded retries."""

    hint = "The service is having trouble; try again later."


# --- downloading -------------------------------------------------------------


class DownloadError(OSDownloadsError):
    """A file could not be downloaded intact."""


class ChecksumMismatchError(DownloadError):
    """The bytes on disk do not match the checksum in the listing."""

    def __init__(self, file_name: str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{file_name}: {algorithm.upper()} mismatch (expected {expected}, got {actual}).",
            hint="The file was not kept. Try again later; "
            "if it persists, report it to the data provider.",
        )
        self.file_name = file_name
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class SizeMismatchError(DownloadError):
    """The server sent a different number of bytes than the listing says."""

    def __init__(self, file_name: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{file_name}: expected {expected} bytes, got {actual}.",
            hint="The file was not kept. Try again.",
        )
        self.file_name = file_name
        self.expected = expected
        self.actual = actual


class InsufficientSpaceError(DownloadError):
    """Not enough free disk space, found before starting or when the disk filled up."""

    hint = "Free some disk space or choose another download folder."


class Cancelled(OSDownloadsError):
    """The user (or a scheduler) asked to stop. Not a failure to report loudly."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


# --- extracting --------------------------------------------------------------


class ExtractionError(OSDownloadsError):
    """An archive could not be extracted."""


class UnsafeArchiveError(ExtractionError):
    """The archive tries to escape the folder, holds links, or is a zip bomb."""

    hint = "The archive was not extracted; nothing was written outside the download folder."


class UnsupportedCompressionError(ExtractionError):
    """A member uses a compression method Python cannot read (e.g. Deflate64)."""


class ZipBombError(UnsafeArchiveError):
    """The archive tree unpacks to far more than the archive's size, or to too many entries.

    Counted over the whole tree (nested zips and .gz included) as bytes are written.
    """

    hint = (
        "Nothing of it was kept. Download the file again; if this happens again, "
        "report the file to its provider."
    )


class ArchiveNameClashError(UnsafeArchiveError):
    """Two entries of one archive would be written under the same name (one would be lost)."""

    hint = "Nothing of it was kept. The archive was built wrongly; report the file to its provider."


# --- other sources and automation ---------------------------------------------


class SignatureError(OSDownloadsError):
    """A PGP signature did not verify."""


class LockHeldError(OSDownloadsError):
    """Another run holds the lock (two syncs never overlap)."""
