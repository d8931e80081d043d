"""How long and how often one file may be tried: the limits, the count, the slow-body watchdog.

Every try counts (``Tries``): a try that brought no new byte, or brought them
too slowly (``RateWatchdog``), is a failure; the failures, all tries, and the
time spent failing are bounded (``TransferLimits``, ``RetryPolicy``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Optional

from ..errors import NetworkError, RetriesExhausted
from ..net.retry import RetryBudget, RetryPolicy

CONNECT_TIMEOUT_S = 10.0

STALL_TIMEOUT_S = 30.0  # no byte for this long: the try is abandoned

MIN_RATE_BYTES_PER_S = 1024.0  # slower than this over MIN_RATE_WINDOW_S: abandoned too

MIN_RATE_WINDOW_S = 30.0

GIVE_UP_AFTER_S = 60.0  # failing tries of one file (and the pauses after them) add up to this

MAX_TRIES_PER_FILE = 20  # every GET of one file counts, whatever its outcome

# Parallel ranges of one large file (``engine/ranged.py``); the environment can change them.
RANGES_PER_FILE = 4  # connections one file may use (1: always one stream)
RANGED_MIN_BYTES = 64 << 20  # smaller files come in one stream
RANGE_PIECE_BYTES = 16 << 20  # one GET of a ranged file asks for this much
# A first connection this fast keeps the file to itself: the link is not what limits it
# (the disk and the MD5 are), and more connections would only share the cores.
ONE_STREAM_BYTES_PER_S = 64 << 20
RANGES_ENV = "OS_DOWNLOADS_RANGES"
RANGED_MIN_MB_ENV = "OS_DOWNLOADS_RANGED_MIN_MB"
ONE_STREAM_MB_S_ENV = "OS_DOWNLOADS_ONE_STREAM_MB_S"


def _env_int(name: str, default: int, scale: int = 1) -> int:
    try:
        value = int(os.environ.get(name, "").strip())
    except ValueError:  # unset or not a number: the default
        return default
    return max(value, 0) * scale


@dataclass(frozen=True)
class TransferLimits:
    """The deadlines of one file's transfer: how long a try may stall, when to give up.

    ``stall_timeout``: no byte for this long (also while waiting for an answer)
    abandons the try. ``min_rate`` bytes/s averaged over ``rate_window`` s, or
    the try is abandoned (0: no minimum). A file is given up when its failing
    tries and the pauses after them add up to ``give_up_after`` s, or after
    ``max_tries`` tries in all (the failures are also capped by the
    ``RetryPolicy``'s ``max_attempts``). A file of at least ``ranged_min_bytes``
    whose storage offers ranges comes over up to ``ranges_per_file`` connections
    (taken from the job's ``workers``), ``range_piece_bytes`` per request, unless
    its first connection alone brings ``one_stream_bytes_per_s`` (0: never judged);
    defaults from ``OS_DOWNLOADS_RANGES``, ``OS_DOWNLOADS_RANGED_MIN_MB`` and
    ``OS_DOWNLOADS_ONE_STREAM_MB_S``.
    """

    connect_timeout: float = CONNECT_TIMEOUT_S
    stall_timeout: float = STALL_TIMEOUT_S
    min_rate: float = MIN_RATE_BYTES_PER_S
    rate_window: float = MIN_RATE_WINDOW_S
    give_up_after: float = GIVE_UP_AFTER_S
    max_tries: int = MAX_TRIES_PER_FILE
    ranges_per_file: int = field(default_factory=lambda: _env_int(RANGES_ENV, RANGES_PER_FILE))
    ranged_min_bytes: int = field(
        default_factory=lambda: _env_int(RANGED_MIN_MB_ENV, RANGED_MIN_BYTES, 1 << 20)
    )
    range_piece_bytes: int = RANGE_PIECE_BYTES
    one_stream_bytes_per_s: int = field(
        default_factory=lambda: _env_int(ONE_STREAM_MB_S_ENV, ONE_STREAM_BYTES_PER_S, 1 << 20)
    )


class Tries:
    """The bound on one file's tries.

    Every try counts toward ``limits.max_tries``; a failed one (no new byte,
    or too slow) also toward ``policy.max_attempts`` and, with the pause after
    it, toward ``limits.give_up_after``; all pauses toward
    ``policy.max_total_wait``. Small and self-contained on purpose: a job-wide
    budget can replace it.
    """

    def __init__(
        self, policy: RetryPolicy, limits: TransferLimits, job: Optional[RetryBudget] = None
    ) -> None:
        self.policy = policy
        self.limits = limits
        self.job = job  # the whole job's budget (``JOB_RETRY``): every file's retries count
        self.job_spent = ""
        self.count = 0
        self.failures = 0
        self.failing_s = 0.0  # time spent in failed tries and the pauses after them
        self.paused_s = 0.0  # all pauses between tries (RetryPolicy.max_total_wait)
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def end(self, *, progressed: bool) -> None:
        self.count += 1
        if not progressed:
            self.failures += 1
            self.failing_s += time.monotonic() - self._started

    def exhausted(self) -> Optional[str]:
        """Why no further try is allowed, or None."""
        if self.job_spent:
            return self.job_spent
        if self.failures >= self.policy.max_attempts:
            return f"{self.failures} tries that brought no new data"
        if self.count >= self.limits.max_tries:
            return f"{self.count} tries"
        if self.failing_s >= self.limits.give_up_after:
            return f"{seconds_text(self.failing_s)} without progress"
        if self.paused_s >= self.policy.max_total_wait:
            return f"{seconds_text(self.paused_s)} of pauses between tries"
        return None

    def pause(self, *, progressed: bool, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try (backing off with each failure)."""
        delay = self.policy.delay(max(self.failures, 1), retry_after)
        if not progressed:
            room = self.limits.give_up_after - self.failing_s
            delay = max(0.0, min(delay, room))
            self.failing_s += delay
        self.paused_s += delay
        if self.job is not None:
            try:
                self.job.charge(delay, reason="a file's retry")
            except RetriesExhausted as spent:
                self.job_spent = f"the job's {spent.attempts} retries"
        return delay

    def read_timeout(self) -> float:
        """The stall timeout, shortened to what is left of the time to give up."""
        left = self.limits.give_up_after - self.failing_s
        return max(0.1, min(self.limits.stall_timeout, left))


class RateWatchdog:
    """Says when a body trickles: fewer than ``min_rate`` bytes/s over ``rate_window`` s."""

    def __init__(self, limits: TransferLimits) -> None:
        self.min_rate = limits.min_rate
        self.window = limits.rate_window
        self.started = time.monotonic()
        self.count = 0

    def check(self, count: int) -> Optional[str]:
        if self.min_rate <= 0:
            return None
        self.count += count
        now = time.monotonic()
        span = now - self.started
        if span < self.window:
            return None
        if self.count < self.min_rate * span:
            return (
                f"only {self.count} bytes arrived in {seconds_text(span)}, "
                f"less than {self.min_rate:.0f} bytes/s"
            )
        self.started, self.count = now, 0
        return None


def seconds_text(value: float) -> str:
    """3 -> "3 s", 0.44 -> "0.4 s": short, for messages."""
    return f"{value:.0f} s" if value >= 10 else f"{value:.1g} s" if value < 1 else f"{value:.1f} s"


class TryFailed(Exception):
    """A failed try worth another (after a fresh ``resolve``), if the budget allows."""

    def __init__(
        self, message: str, *, too_slow: bool = False, retry_after: Optional[float] = None
    ) -> None:
        super().__init__(message)
        self.too_slow = too_slow  # brought bytes, but too few to count as progress
        self.retry_after = retry_after


def gave_up(name: str, why: str, last_try: object) -> NetworkError:
    """The error when a file's tries are spent (``why``: what ``Tries.exhausted`` said)."""
    return NetworkError(
        f"{name}: the download did not complete: gave up after {why}; the last try: {last_try}.",
        hint="What arrived is kept, and the next run resumes from it; try again later.",
    )
