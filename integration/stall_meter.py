"""Measure how long the QGIS main thread stops answering while something runs.

A 10 ms QTimer ticks on the main event loop; the longest gap between two
ticks is the worst freeze a user would feel (the target for a download is
under 100 ms: the map stays usable). Used by ``make bench`` and by hand:

    from os_downloads.integration.stall_meter import measure_task
    report = measure_task(lambda: dock.download_and_load_product("OpenRivers", "GeoPackage"))
    print(report.longest_gap_ms, report.to_json())

It runs a real ``QEventLoop`` (not a processEvents polling loop, which would
add its own sleeps to the gaps) until the task's ``finished()`` has run, so
layer loading on the main thread is measured too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional

from qgis.PyQt.QtCore import QEventLoop, QObject, QTimer

TICK_MS = 10
SLOW_GAP_MS = 100.0


@dataclass
class StallReport:
    """Gaps between event-loop ticks, in milliseconds."""

    duration_s: float
    ticks: int
    longest_gap_ms: float
    slow_gaps: int  # gaps over SLOW_GAP_MS
    worst_gaps_ms: List[float] = field(default_factory=list)  # the five longest
    finished: bool = True  # False when the timeout ended the measurement
    worst_gaps_end_s: List[float] = field(default_factory=list)  # when each ended, from start

    def to_json(self) -> dict:
        return {
            "duration_s": round(self.duration_s, 3),
            "ticks": self.ticks,
            "longest_gap_ms": round(self.longest_gap_ms, 1),
            f"gaps_over_{int(SLOW_GAP_MS)}ms": self.slow_gaps,
            "worst_gaps_ms": [round(g, 1) for g in self.worst_gaps_ms],
            "finished": self.finished,
            "worst_gaps_end_s": [round(t, 3) for t in self.worst_gaps_end_s],
        }


class EventLoopStallMeter(QObject):
    """``start()``, let the event loop run, ``stop()`` -> StallReport."""

    def __init__(self, interval_ms: int = TICK_MS, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._gaps: List[float] = []
        self._ends: List[float] = []
        self._last = 0.0
        self._started = 0.0

    def start(self) -> None:
        self._gaps = []
        self._ends = []
        self._started = self._last = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self._gaps.append((now - self._last) * 1000.0)
        self._ends.append(now - self._started)
        self._last = now

    def stop(self, finished: bool = True) -> StallReport:
        self._timer.stop()
        self._tick()  # the time since the last tick counts too
        order = sorted(range(len(self._gaps)), key=lambda i: self._gaps[i], reverse=True)
        gaps = [self._gaps[i] for i in order]
        return StallReport(
            duration_s=time.perf_counter() - self._started,
            ticks=len(self._gaps),
            longest_gap_ms=gaps[0] if gaps else 0.0,
            slow_gaps=sum(1 for g in gaps if g > SLOW_GAP_MS),
            worst_gaps_ms=gaps[:5],
            finished=finished,
            worst_gaps_end_s=[self._ends[i] for i in order[:5]],
        )


def run_event_loop_until(done: Callable[[], bool], timeout_s: float) -> bool:
    """Run a real event loop until ``done()`` (checked every 20 ms) or the timeout."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    check = QTimer()
    check.setInterval(20)

    def poll() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    check.timeout.connect(poll)
    check.start()
    if not done():
        loop.exec()
    check.stop()
    return bool(done())


def measure_task(start: Callable[[], Any], timeout_s: float = 600.0) -> StallReport:
    """Start a task with ``start()`` (e.g. the dock's download_and_load_product) and
    measure the main thread's longest stall until the task's ``finished()`` ran."""
    meter = EventLoopStallMeter()
    meter.start()
    task = start()
    if task is None:
        raise RuntimeError("The task did not start (see the dock's message).")
    ended = run_event_loop_until(lambda: bool(getattr(task, "ended", False)), timeout_s)
    return meter.stop(finished=ended)
