"""The job's connections to storage: one number for whole files and the extra ranges of one.

``download_files(workers=N)`` allows N connections in all. Each file being
fetched holds one (``slot``); a large file fetched in ranges (``ranged.py``)
borrows more only while some are free and no file is waiting for one
(``try_extra``), and gives each back when its piece is done. So 4 workers
and 4 ranges per file never make 16 connections: files come first, spare
connections split the big ones (the last big file of a job gets them all).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from ..errors import Cancelled

WAKE_S = 0.1  # a waiting file looks this often whether the job was stopped


class ConnectionBudget:
    def __init__(self, total: int) -> None:
        self.total = max(1, int(total))
        self._used = 0
        self._waiting = 0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, stop: threading.Event) -> Iterator[None]:
        """Hold one connection for a file (waits while ranges hold them all)."""
        with self._changed:
            self._waiting += 1
            try:
                while self._used >= self.total:
                    if stop.is_set():
                        raise Cancelled("Download cancelled.")
                    self._changed.wait(WAKE_S)
            finally:
                self._waiting -= 1
            self._used += 1
        try:
            yield
        finally:
            self.release()

    def try_extra(self) -> bool:
        """Take one more connection for a range, if one is free and no file waits."""
        with self._changed:
            if self._used >= self.total or self._waiting:
                return False
            self._used += 1
            return True

    def files_waiting(self) -> bool:
        with self._changed:
            return self._waiting > 0

    def release(self) -> None:
        with self._changed:
            self._used -= 1
            self._changed.notify_all()
