"""When and how long to wait before trying again.

One policy for API calls and file transfers: exponential backoff with jitter,
``Retry-After`` honoured when the server sends it, and a bounded total wait so
a 429 storm ends in a clear error instead of an endless spinner. Waits are
interruptible by a cancel event.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Optional

from .errors import Cancelled


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2 ** (attempt - 1))
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        from datetime import datetime, timezone

        when = parsedate_to_datetime(value)
        return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def wait(seconds: float, cancel: Optional[threading.Event] = None) -> None:
    """Sleep, waking at once (with ``Cancelled``) if ``cancel`` is set."""
    if cancel is None:
        threading.Event().wait(seconds)
        return
    if cancel.wait(seconds):
        raise Cancelled()
