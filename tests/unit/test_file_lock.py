"""The per-file lock: bounded waits, instant cancel, and a lock file removed safely.

Real files and the operating system's locks (two ``FileLock`` objects on one
path conflict even in one process, as they would across processes).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import List

import pytest

from os_downloads.core.engine.lock import FileLock
from os_downloads.core.errors import Cancelled, LockHeldError


def test_a_waiter_gives_up_when_the_holder_makes_no_progress(tmp_path: Path) -> None:
    path = tmp_path / "x.zip.lock"
    told: List[str] = []
    with FileLock(path, remove_on_release=True):
        started = time.monotonic()
        with pytest.raises(LockHeldError) as caught:
            FileLock(path, purpose="A download of x.zip").acquire_waiting(
                patience=0.3, progress=lambda: 0, on_wait=told.append, poll=0.02
            )
        assert time.monotonic() - started < 10
    assert f"pid {os.getpid()}" in str(caught.value) and "no progress" in str(caught.value)
    assert len(told) == 1 and f"pid {os.getpid()}" in told[0]


def test_a_waiter_keeps_waiting_while_the_holder_progresses(tmp_path: Path) -> None:
    path = tmp_path / "x.zip.lock"
    holder = FileLock(path, remove_on_release=True)
    holder.acquire()
    ticks = iter(range(1000))
    timer = threading.Timer(0.6, holder.release)  # longer than the patience below
    timer.start()
    try:
        waiter = FileLock(path, remove_on_release=True)
        assert waiter.acquire_waiting(patience=0.2, progress=lambda: next(ticks), poll=0.02)
        assert waiter.held
        waiter.release()
    finally:
        timer.cancel()
        holder.release()


def test_cancel_stops_the_wait_at_once(tmp_path: Path) -> None:
    path = tmp_path / "x.zip.lock"
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    with FileLock(path, remove_on_release=True):
        started = time.monotonic()
        with pytest.raises(Cancelled):
            FileLock(path).acquire_waiting(patience=60, cancel=cancel.is_set, poll=0.02)
        assert time.monotonic() - started < 5


@pytest.mark.skipif(os.name != "posix", reason="Windows keeps a lock file someone has open")
def test_the_lock_file_is_removed_and_never_held_twice(tmp_path: Path) -> None:
    path = tmp_path / "x.zip.lock"
    first = FileLock(path, remove_on_release=True)
    first.acquire()
    second = FileLock(path, remove_on_release=True)
    got: List[bool] = []
    waiting = threading.Thread(
        target=lambda: got.append(second.acquire_waiting(patience=10, poll=0.02))
    )
    waiting.start()
    time.sleep(0.1)  # the second has the old file open and waits on it
    first.release()  # removes the file while holding it: the second must lock a new one
    waiting.join(timeout=10)

    assert got == [True] and second.held and path.exists()
    third = FileLock(path, remove_on_release=True)
    assert third.try_acquire() is not None  # the second really holds the lock at the path
    second.release()
    assert not path.exists()
    assert third.try_acquire() is None
    third.release()
