"""One progress stream for a whole job: what the dock, Processing and the command line show.

``Progress`` is a snapshot; ``ProgressTracker`` adds up every worker's bytes
and files and calls the callback at a bounded rate (about ten times a second,
plus once per finished file), never concurrently.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Optional, Tuple

PROGRESS_INTERVAL_S = 0.1

RATE_WINDOW_S = 3.0

PHASE_VERIFY = "verify"  # hashing files already on disk

PHASE_DOWNLOAD = "download"

PHASE_EXTRACT = "extract"  # used by core/jobs.py

PHASE_DISCOVER = "discover"  # used by core/jobs.py


@dataclass(frozen=True)
class Progress:
    """Where a whole job is. ``bytes_total`` is 0 while no size is known.

    ``phase`` is "verify", "download", "extract" or "discover"; during
    extraction the byte and file counts are those of the extraction.
    """

    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    current_file: str
    rate_bytes_per_s: float
    phase: str = PHASE_DOWNLOAD

    @property
    def fraction(self) -> Optional[float]:
        """0..1 when the total is known, else None."""
        if self.bytes_total > 0:
            return min(self.bytes_done / self.bytes_total, 1.0)
        if self.files_total > 0:
            return self.files_done / self.files_total
        return None


ProgressCallback = Callable[[Progress], None]


@dataclass
class ProgressTracker:
    """Adds up all workers' bytes and files; emits ``Progress`` at a bounded rate."""

    files_total: int
    callback: Optional[ProgressCallback]
    bytes_total: int = 0
    bytes_done: int = 0
    files_done: int = 0
    transferred: int = 0
    current_file: str = ""
    phase: str = PHASE_DOWNLOAD
    _samples: Deque[Tuple[float, int]] = field(default_factory=deque)
    _last_emit: float = 0.0
    _lock: Any = field(default_factory=threading.Lock)

    def set_total(self, total: int) -> None:
        with self._lock:
            self.bytes_total = total

    def add_total(self, extra: int) -> None:
        with self._lock:
            self.bytes_total += extra

    def verifying(self, name: str) -> None:
        with self._lock:
            self.phase, self.current_file = PHASE_VERIFY, name
        self.emit(force=True)

    def file_skipped(self, size: int) -> None:
        with self._lock:
            self.files_done += 1
            self.bytes_done += size
        self.emit()

    def add(self, name: str, count: int, *, transferred: bool) -> None:
        with self._lock:
            self.phase, self.current_file = PHASE_DOWNLOAD, name
            self.bytes_done += count
            if transferred:
                self.transferred += count
        self.emit()

    def file_done(self, name: str) -> None:
        with self._lock:
            self.files_done += 1
            self.current_file = name
        self.emit(force=True)

    def emit(self, force: bool = False) -> None:
        if self.callback is None:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_emit < PROGRESS_INTERVAL_S:
                return
            self._last_emit = now
            self._samples.append((now, self.transferred))
            while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
                self._samples.popleft()
            first_time, first_bytes = self._samples[0]
            span = now - first_time
            rate = (self.transferred - first_bytes) / span if span > 0 else 0.0
            snapshot = Progress(
                bytes_done=max(self.bytes_done, 0),
                bytes_total=self.bytes_total,
                files_done=self.files_done,
                files_total=self.files_total,
                current_file=self.current_file,
                rate_bytes_per_s=rate,
                phase=self.phase,
            )
            # Called under the lock: one call at a time, in order.
            self.callback(snapshot)
