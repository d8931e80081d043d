"""When and how long to wait before trying again, and when to stop.

One policy for API calls and file transfers: exponential backoff with jitter,
``Retry-After`` honoured up to a cap, and a budget in attempts AND time so no
failure, however it repeats, makes an endless loop. Waits are interruptible by
a cancel event.

The interface (for the API layer in ``http.py`` and the download engine)::

    policy = RetryPolicy()                  # defaults below; tests pass small ones
    job = policy.budget()                   # or JOB_RETRY.budget(): shared by a job's files
    budget = policy.budget(parent=job)      # one per file (or per API call)
    while True:
        try:
            return one_try()
        except SomethingRetryable as problem:
            delay = budget.spend(problem.retry_after, reason=str(problem))
            wait(delay, cancel)             # or budget.wait(...), which does both

``spend()`` costs one attempt whatever the reason (a try that made progress
too) and returns the seconds to wait; it raises ``RetriesExhausted`` (typed,
with ``attempts``, ``elapsed`` and the last ``reason``) when this budget or its
parent is used up: ``max_attempts`` tries, ``max_total_wait`` seconds of
waiting, or ``max_elapsed`` seconds since the budget began (when set). A
Retry-After longer than what is left raises at once instead of sleeping in
vain. A parent budget is thread-safe (a job's workers share it).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable, Optional

from ..errors import Cancelled, RetriesExhausted

Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """Limits for one thing being retried (an API call, a file, a job).

    ``max_attempts`` counts tries, the first included (6: one try and five
    retries). ``max_delay`` caps each wait, a server's ``Retry-After`` too.
    ``max_total_wait``: seconds of waiting between tries, summed.
    ``max_elapsed``: seconds from the budget's start, tries included (None: no
    such limit).
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0
    max_elapsed: Optional[float] = None

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2 ** (max(attempt, 1) - 1))
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)

    def budget(
        self, *, parent: Optional[RetryBudget] = None, clock: Clock = time.monotonic
    ) -> RetryBudget:
        return RetryBudget(self, parent=parent, clock=clock)


# A whole job (all files of one download): a ceiling over the per-file budgets.
JOB_RETRY = RetryPolicy(max_attempts=60, max_total_wait=900.0, max_elapsed=None)


class RetryBudget:
    """What is left of a ``RetryPolicy`` for one API call, file or job."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        parent: Optional[RetryBudget] = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.policy = policy
        self.parent = parent
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.attempts = 1  # the first try is under way
        self.waited = 0.0

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def remaining_time(self) -> Optional[float]:
        """Seconds left before ``max_elapsed`` (None: no time limit), never < 0."""
        limits = []
        budget: Optional[RetryBudget] = self
        while budget is not None:
            if budget.policy.max_elapsed is not None:
                limits.append(budget.policy.max_elapsed - budget.elapsed)
            budget = budget.parent
        return max(min(limits), 0.0) if limits else None

    def spend(self, retry_after: Optional[float] = None, *, reason: str = "") -> float:
        """One more try: the seconds to wait first, or ``RetriesExhausted``."""
        with self._lock:
            delay = self.policy.delay(self.attempts, retry_after)
            self._check(delay, reason)
            if self.parent is not None:
                self.parent._take(delay, reason)
            self.attempts += 1
            self.waited += delay
            return delay

    def wait(
        self,
        retry_after: Optional[float] = None,
        *,
        reason: str = "",
        cancel: Optional[threading.Event] = None,
    ) -> float:
        """``spend`` then sleep (``Cancelled`` at once if ``cancel`` is set)."""
        delay = self.spend(retry_after, reason=reason)
        wait(delay, cancel)
        return delay

    def charge(self, delay: float = 0.0, *, reason: str = "") -> None:
        """Count one try made elsewhere (a file's own loop) against this budget, and the
        pause after it; ``RetriesExhausted`` when that is one too many."""
        self._take(delay, reason)

    def _take(self, delay: float, reason: str) -> None:
        """A child spent one try: count it here too."""
        with self._lock:
            self._check(delay, reason)
            if self.parent is not None:
                self.parent._take(delay, reason)
            self.attempts += 1
            self.waited += delay

    def _check(self, delay: float, reason: str) -> None:
        policy, elapsed = self.policy, self.elapsed
        over = (
            self.attempts >= policy.max_attempts
            or self.waited + delay > policy.max_total_wait
            or (policy.max_elapsed is not None and elapsed + delay > policy.max_elapsed)
        )
        if over:
            raise RetriesExhausted(attempts=self.attempts, elapsed=elapsed, reason=reason)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN: no advice
    try:
        from datetime import datetime, timezone

        when = parsedate_to_datetime(value)
        return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
    except (TypeError, ValueError, OverflowError):
        return None


def wait(seconds: float, cancel: Optional[threading.Event] = None) -> None:
    """Sleep, waking at once (with ``Cancelled``) if ``cancel`` is set."""
    if cancel is None:
        threading.Event().wait(seconds)
        return
    if cancel.wait(seconds):
        raise Cancelled()
