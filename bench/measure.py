"""Timing helpers for the benchmarks: clean disk state, repeated runs, medians."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List


def settle_disk() -> None:
    """Write out dirty pages left by the previous run, so it cannot slow the next one."""
    if hasattr(os, "sync"):
        os.sync()


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def fsync_file(path: Path) -> None:
    handle = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@dataclass
class Timings:
    """Seconds of repeated runs of one thing."""

    seconds: List[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)

    def rate(self, size: int) -> float:
        """Bytes per second at the median time."""
        return size / self.median if self.median > 0 else 0.0

    def to_json(self) -> dict:
        return {
            "runs_s": [round(s, 4) for s in self.seconds],
            "median_s": round(self.median, 4),
            "best_s": round(self.best, 4),
        }


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def mb_per_s(rate: float) -> float:
    return round(rate / 1e6, 1)
