"""A sliding-window request counter: OS allows N transactions per minute.

Real limits are 600/min (live projects) and 50/min (development); past them
the API answers 429 until the rate falls below the limit again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Deque, Optional


class SlidingWindowLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: Deque[float] = deque()

    def allow(self, limit: Optional[int], window_seconds: float = 60.0) -> bool:
        """Count one request; False when it is over ``limit`` in the window.

        Rejected requests are not counted, as with OS: once the rate falls
        below the limit, requests succeed again.
        """
        if not limit or limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            while self._times and now - self._times[0] >= window_seconds:
                self._times.popleft()
            if len(self._times) >= limit:
                return False
            self._times.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._times.clear()
