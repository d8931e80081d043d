"""One call's clock and one try in flight: what the caller's watcher and the try's thread share.

``HttpClient`` (``net/http.py``) runs each try on a helper thread and watches
its ``Deadline`` and the cancel event from the calling thread; ``TryInFlight``
is what they share, and ``abandon`` ends a try at once (the socket is shut
down, ``net/connections.py``).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

import requests

from .connections import shutdown_connection


class Deadline:
    """Seconds a call may spend on the network and in retry waits (not in pacing)."""

    def __init__(self, seconds: Optional[float]) -> None:
        self.seconds = seconds
        self.used = 0.0

    def spend(self, seconds: float) -> None:
        self.used += max(seconds, 0.0)

    def remaining(self) -> Optional[float]:
        return None if self.seconds is None else max(self.seconds - self.used, 0.0)

    def passed(self, in_flight: float) -> bool:
        return self.seconds is not None and self.used + in_flight >= self.seconds


class TryInFlight:
    """What the helper thread of one try and its watcher share."""

    def __init__(self, paced: bool) -> None:
        self.done = threading.Event()
        self.stop = threading.Event()  # the watcher gave up: stop waiting, reading
        self.response: Optional[requests.Response] = None  # once the headers arrived
        self.error: Optional[BaseException] = None
        # Without our pacing adapter the request is under way at once.
        self.sent_at: Optional[float] = None if paced else time.monotonic()
        self._lock = threading.Lock()
        self._abandoned = False

    def mark_sent(self) -> None:
        self.sent_at = time.monotonic()

    def capture(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.response = response
        if self.sent_at is None:
            self.sent_at = time.monotonic()

    def finish(self, response: Optional[requests.Response]) -> None:
        with self._lock:
            self.response = response if response is not None else self.response
            if self.error is not None:
                self.response = None
            abandoned = self._abandoned
            self.done.set()
        if abandoned and response is not None:
            response.close()

    def abandon(self) -> None:
        """Stop this try: its thread ends soon and cleans up after itself."""
        with self._lock:
            self._abandoned = True
            self.stop.set()
            response, finished = self.response, self.done.is_set()
        if response is None:
            return
        if finished:
            response.close()
        else:
            shutdown_connection(response)
