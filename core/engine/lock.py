"""A non-blocking, cross-process file lock, so two scheduled runs never overlap.

Why an OS lock rather than "create a file if absent": the operating system
releases the lock when the holding process ends, even if it is killed or the
machine loses power mid-run, so a crashed run never leaves a stale lock that
blocks every later night. POSIX uses ``fcntl.flock`` (per open file, so two
locks in one process conflict too, which the tests rely on); Windows uses
``msvcrt.locking`` on the file's first byte. Pure stdlib.

The sync lock file is never deleted; it holds the PID and start time of the
current holder, which the "already running" message quotes. A lock made with
``remove_on_release=True`` (the download engine's one lock per file) is
deleted by its holder, safely: whoever gets the lock afterwards checks that
the path still names the file it locked, and starts again if not, so two
processes never both hold "the" lock on two different files.

``acquire_waiting`` waits for the lock, bounded: it gives up with
``LockHeldError`` when the holder shows no sign of progress for ``patience``
seconds, and stops at once when ``cancel`` is set.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Callable, Hashable, Optional, Type

from ..errors import Cancelled, LockHeldError

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


def _same_file(handle: IO[str], path: Path) -> bool:
    """Whether ``path`` still names the file ``handle`` has open (not deleted or replaced)."""
    try:
        named = os.stat(path)
    except OSError:
        return False
    held = os.fstat(handle.fileno())
    return (named.st_ino, named.st_dev) == (held.st_ino, held.st_dev)


class FileLock:
    """``with FileLock(path):`` holds the lock or raises ``LockHeldError`` at once."""

    def __init__(
        self, path: Path, *, purpose: str = "Another run", remove_on_release: bool = False
    ) -> None:
        self.path = Path(path)
        self.purpose = purpose
        self.remove_on_release = remove_on_release
        self._handle: Optional[IO[str]] = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock without waiting; ``LockHeldError`` if someone has it."""
        holder = self.try_acquire()
        if holder is not None:
            raise LockHeldError(
                f"{self.purpose} is already in progress{holder} (lock file {self.path}).",
                hint="Wait for it to finish; the lock is released when that process ends.",
            )

    def try_acquire(self) -> Optional[str]:
        """Take the lock if free: None when taken, else " (pid … since …)" of the holder."""
        if self._handle is not None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):  # a holder removing the file between open and lock: open again
            # "a+" creates the file without truncating what the holder wrote.
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
            try:
                locked = _try_lock(handle)
            except OSError:  # the file system cannot lock (ENOLCK...): the caller decides
                handle.close()
                raise
            if not locked:
                holder = _read_holder(handle)
                handle.close()
                return holder
            if not self.remove_on_release or _same_file(handle, self.path):
                break
            _unlock(handle)
            handle.close()
        else:  # pragma: no cover - twenty removals in a row
            return " (the lock file keeps being replaced)"
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        handle.write(f"pid {os.getpid()} since {started}\n")
        handle.flush()
        self._handle = handle
        return None

    def acquire_waiting(
        self,
        *,
        patience: float,
        cancel: Optional[Callable[[], bool]] = None,
        progress: Optional[Callable[[], Hashable]] = None,
        on_wait: Optional[Callable[[str], None]] = None,
        poll: float = 0.1,
    ) -> bool:
        """Take the lock, waiting while the holder keeps working; True if it had to wait.

        ``progress()`` is a sign of the holder's work (e.g. its file's size):
        while it changes, the wait goes on; once it has not changed for
        ``patience`` seconds, ``LockHeldError``. ``on_wait(holder)`` is called
        once, when the wait starts. ``cancel()`` true: ``Cancelled``.
        """
        holder = self.try_acquire()
        if holder is None:
            return False
        if on_wait is not None:
            on_wait(holder)
        sign = progress() if progress is not None else None
        quiet_since = time.monotonic()
        while True:
            if cancel is not None and cancel():
                raise Cancelled()
            time.sleep(poll)
            holder = self.try_acquire()
            if holder is None:
                return True
            now = time.monotonic()
            if progress is not None:
                latest = progress()
                if latest != sign:
                    sign, quiet_since = latest, now
            if now - quiet_since >= patience:
                raise LockHeldError(
                    f"{self.purpose} is in progress{holder} and has made no progress "
                    f"for {patience:.0f} s; gave up waiting (lock file {self.path}).",
                    hint="Try again once the other program has finished or been closed.",
                )

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if self.remove_on_release and os.name == "posix":
            try:  # while still locked: a waiter then finds the path gone and starts again
                os.unlink(self.path)
            except OSError:
                pass
        else:
            try:
                handle.seek(0)
                handle.truncate()
                handle.flush()
            except OSError:
                pass
        _unlock(handle)
        handle.close()
        if self.remove_on_release and os.name != "posix":
            try:  # Windows: fails while a waiter has it open; then it stays, harmless
                os.unlink(self.path)
            except OSError:
                pass

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
