"""Checksums of downloaded files: MD5 for OS, SHA-256 for TRUD.

The engine hashes while it writes (one pass); these helpers cover the other
cases: checking a file already on disk, and re-reading the prefix of a
``.part`` file left by an earlier run before resuming it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any, Optional

from ..errors import (
    Cancelled,
    ChecksumMismatchError,
    ConfigurationError,
    DownloadError,
    SizeMismatchError,
)
from .files import Checksum, RemoteFile

SUPPORTED_ALGORITHMS = ("md5", "sha256")
DEFAULT_ALGORITHM = "md5"  # what a file without a listed checksum is hashed with, for the record
READ_CHUNK = 1 << 20


def new_hasher(algorithm: str) -> Any:
    """A fresh hashlib object for ``algorithm`` ("md5" or "sha256")."""
    name = (algorithm or "").lower().replace("-", "")
    if name not in SUPPORTED_ALGORITHMS:
        raise ConfigurationError(f"Unsupported checksum algorithm {algorithm!r}.")
    if name == "md5":
        # Not for security: it is the integrity check the OS API publishes.
        try:
            return hashlib.md5(usedforsecurity=False)
        except TypeError:  # Python < 3.9 builds without the keyword
            return hashlib.md5()
    return hashlib.new(name)


def update_from_file(
    hasher: Any,
    path: Path,
    *,
    length: Optional[int] = None,
    cancel: Optional[threading.Event] = None,
) -> int:
    """Feed the first ``length`` bytes of ``path`` (all when None) to ``hasher``.

    Returns the number of bytes read; stops with ``Cancelled`` between chunks.
    """
    done = 0
    with open(path, "rb") as handle:
        while length is None or done < length:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            want = READ_CHUNK if length is None else min(READ_CHUNK, length - done)
            chunk = handle.read(want)
            if not chunk:
                break
            hasher.update(chunk)
            done += len(chunk)
    return done


def hash_file(
    path: Path, algorithm: str = DEFAULT_ALGORITHM, *, cancel: Optional[threading.Event] = None
) -> str:
    """The lower-case hex digest of a whole file."""
    hasher = new_hasher(algorithm)
    update_from_file(hasher, Path(path), cancel=cancel)
    return hasher.hexdigest()


def file_matches(
    path: Path, checksum: Checksum, *, cancel: Optional[threading.Event] = None
) -> bool:
    """Whether the file on disk hashes to ``checksum`` (False when it is missing)."""
    try:
        return hash_file(path, checksum.algorithm, cancel=cancel) == checksum.hexdigest.lower()
    except FileNotFoundError:
        return False


def bytes_problem(
    file: RemoteFile, expected_size: Optional[int], overflow: Optional[int], size: int, actual: str
) -> Optional[DownloadError]:
    """What is wrong with the bytes that arrived for ``file``, or None.

    ``overflow``: the bytes seen when the server sent more than expected;
    ``actual``: their digest in the listed algorithm.
    """
    if overflow is not None and expected_size is not None:
        return SizeMismatchError(file.file_name, expected_size, overflow)
    if expected_size is not None and size != expected_size:
        return SizeMismatchError(file.file_name, expected_size, size)
    expected = file.checksum.hexdigest.lower() if file.checksum is not None else None
    if expected is not None and actual != expected:
        return ChecksumMismatchError(file.file_name, file.checksum.algorithm, expected, actual)
    return None
