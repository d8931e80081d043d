"""Typed errors for everything core/ can detect.

Each error carries a message a person can act on (``str(err)``) and, where it
helps, a ``hint`` saying what to do next. Interfaces (dock, Processing, command
line) turn these into words in one place each: see ``describe``. No message
ever contains an API key: messages are built from redacted URLs only.
"""

from __future__ import annotations

from typing import Dict, Optional


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
    """
    if isinstance(error, OSDownloadsError):
        message = error.message.strip()
        hint = error.hint
        if key_setting and getattr(error, "about_os_key", False):
            hint = f"{hint} The key comes from {key_setting}.".strip()
        if hint and message and message[-1] not in ".!?:":
            message += "."
        return f"{message} {hint}".strip()
    return f"Unexpected error ({error.__class__.__name__}); see the log for details."


class ConfigurationError(OSDownloadsError):
    """A setting is missing or invalid (no key configured, bad URL...)."""


# --- talking to an API -------------------------------------------------------


class NetworkError(OSDownloadsError):
    """The server could not be reached, or the connection dropped."""

    hint = "Check your internet connection and proxy settings, then try again."


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


# --- other sources and automation ---------------------------------------------


class SignatureError(OSDownloadsError):
    """A PGP signature did not verify."""


class LockHeldError(OSDownloadsError):
    """Another run holds the lock (two syncs never overlap)."""
