"""A non-blocking, cross-process file lock, so two scheduled runs never overlap.

Why an OS lock rather than "create a file if absent": the operating system
releases the lock when the holding process ends, even if it is killed or the
machine loses power mid-run, so a crashed run never leaves a stale lock that
blocks every later night. POSIX uses ``fcntl.flock`` (per open file, so two
locks in one process conflict too, which the tests rely on); Windows uses
``msvcrt.locking`` on the file's first byte. Pure stdlib.

The lock file is never deleted (deleting it would let a third run lock a new
file while a second still waits on the old one); it holds the PID and start
time of the current holder, which the "already running" message quotes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Optional, Type

from .errors import LockHeldError

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class FileLock:
    """``with FileLock(path):`` holds the lock or raises ``LockHeldError`` at once."""

    def __init__(self, path: Path, *, purpose: str = "Another run") -> None:
        self.path = Path(path)
        self.purpose = purpose
        self._handle: Optional[IO[str]] = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock without waiting; ``LockHeldError`` if someone has it."""
        if self._handle is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" creates the file without truncating what the holder wrote.
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        if not _try_lock(handle):
            holder = _read_holder(handle)
            handle.close()
            raise LockHeldError(
                f"{self.purpose} is already in progress{holder} (lock file {self.path}).",
                hint="Wait for it to finish; the lock is released when that process ends.",
            )
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        handle.write(f"pid {os.getpid()} since {started}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.flush()
        except OSError:
            pass
        _unlock(handle)
        handle.close()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.release()


def _read_holder(handle: IO[str]) -> str:
    """ " (pid 123 since …)" from the lock file, or "" when unreadable."""
    try:
        handle.seek(0)
        text = handle.read(200).strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""
