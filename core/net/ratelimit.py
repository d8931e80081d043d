"""One request pace for the whole process: under the OS API's limit, always.

OS allows a project 600 requests a minute (50 in development mode); past that
it answers 429 until the rate falls. Retries, resumes and parallel workers can
all add up, so every request this process sends (API, storage, TRUD; every
thread) passes one ``RateLimiter`` first: at most ``per_minute`` requests are
sent in any ``window_seconds``, and a request over it waits (cancellably)
until the oldest one leaves the window.

Where it applies: ``install(session)`` wraps every adapter mounted on a
session in a ``RateLimitedAdapter``; ``HttpClient`` installs it on the
session it is given or makes, and ``copy_transport`` on the storage sessions
it derives, so QGIS's sessions and the workers' are covered too.

The limit: ``OS_DOWNLOADS_RATE_LIMIT`` (requests per minute, or
``development`` for 50), read when the process limiter is first used, else
600; ``configure(per_minute)`` changes it at run time (a setting).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Deque, Iterator, Optional

import requests

from ..errors import Cancelled, ConfigurationError

LIVE_PER_MINUTE = 600
DEVELOPMENT_PER_MINUTE = 50
RATE_LIMIT_ENV = "OS_DOWNLOADS_RATE_LIMIT"
WAIT_SLICE_S = 0.1  # how often a waiting request looks at its cancel event


class RateLimiter:
    """At most ``per_minute`` acquisitions in any ``window_seconds`` (a sliding log)."""

    def __init__(self, per_minute: int = LIVE_PER_MINUTE, window_seconds: float = 60.0) -> None:
        if int(per_minute) < 1 or window_seconds <= 0:
            raise ConfigurationError(f"A rate limit must be at least 1 request (got {per_minute}).")
        self.per_minute = int(per_minute)
        self.window_seconds = float(window_seconds)
        self._lock = threading.Lock()
        self._sent: Deque[float] = deque()
        self.requests = 0  # sent through this limiter, for logs and tests
        self.waited_seconds = 0.0  # in all, by requests that had to wait for a slot

    def configure(self, per_minute: int, window_seconds: Optional[float] = None) -> None:
        if int(per_minute) < 1:
            raise ConfigurationError(f"A rate limit must be at least 1 request (got {per_minute}).")
        with self._lock:
            self.per_minute = int(per_minute)
            if window_seconds is not None:
                self.window_seconds = float(window_seconds)

    def acquire(self, cancel: Optional[threading.Event] = None) -> float:
        """Take one slot, waiting until there is one; the seconds waited."""
        started = time.monotonic()
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window_seconds:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    self.requests += 1
                    self.waited_seconds += now - started
                    return now - started
                pause = self._sent[0] + self.window_seconds - now
            pause = min(max(pause, 0.001), WAIT_SLICE_S)
            if cancel is not None:
                if cancel.wait(pause):
                    raise Cancelled()
            else:
                time.sleep(pause)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()


def per_minute_from_env(value: Optional[str] = None) -> int:
    """The limit ``OS_DOWNLOADS_RATE_LIMIT`` asks for (600 when unset)."""
    text = (os.environ.get(RATE_LIMIT_ENV, "") if value is None else value).strip().lower()
    if not text:
        return LIVE_PER_MINUTE
    if text in ("development", "dev"):
        return DEVELOPMENT_PER_MINUTE
    if text in ("live", "production"):
        return LIVE_PER_MINUTE
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigurationError(
            f"{RATE_LIMIT_ENV}={text!r} is not a number of requests per minute.",
            hint=f"Use a whole number such as {LIVE_PER_MINUTE}, or 'development' for "
            f"{DEVELOPMENT_PER_MINUTE}.",
        )
    return number


_process_limiter: Optional[RateLimiter] = None
_process_lock = threading.Lock()


def process_limiter() -> RateLimiter:
    """The limiter every session of this process shares."""
    global _process_limiter
    with _process_lock:
        if _process_limiter is None:
            _process_limiter = RateLimiter(per_minute_from_env())
        return _process_limiter


def configure(per_minute: int) -> None:
    """Set the process-wide limit (e.g. 50 for a development-mode project)."""
    process_limiter().configure(per_minute)


# --- the cancel event of the request this thread is sending ---------------------

_local = threading.local()


@contextmanager
def cancel_scope(
    cancel: Optional[threading.Event], on_slot: Optional[Callable[[], None]] = None
) -> Iterator[None]:
    """Requests this thread sends inside the block stop waiting when ``cancel`` is set.

    ``on_slot`` is called each time one of them has its slot and goes out
    (``HttpClient`` starts its deadline clock then: pacing is not the server's fault).
    """
    previous = getattr(_local, "scope", None)
    _local.scope = (cancel, on_slot)
    try:
        yield
    finally:
        _local.scope = previous


class RateLimitedAdapter(requests.adapters.BaseAdapter):
    """Takes a slot of the limiter, then sends with the adapter it wraps."""

    def __init__(self, inner: requests.adapters.BaseAdapter, limiter: RateLimiter) -> None:
        super().__init__()
        self.inner = inner
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        cancel, on_slot = getattr(_local, "scope", None) or (None, None)
        self.limiter.acquire(cancel)
        if on_slot is not None:
            on_slot()
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:  # pool settings etc. of the wrapped adapter
        if name in ("inner", "limiter"):
            raise AttributeError(name)
        return getattr(self.inner, name)


def unwrap(adapter: requests.adapters.BaseAdapter) -> requests.adapters.BaseAdapter:
    while isinstance(adapter, RateLimitedAdapter):
        adapter = adapter.inner
    return adapter


def install(session: requests.Session, limiter: Optional[RateLimiter] = None) -> requests.Session:
    """Route every adapter of ``session`` through ``limiter`` (the process's by default).

    Idempotent: an adapter already wrapped gets the given limiter instead.
    """
    chosen = limiter or process_limiter()
    for prefix, adapter in list(session.adapters.items()):
        session.adapters[prefix] = RateLimitedAdapter(unwrap(adapter), chosen)
    return session


def limiter_of(session: requests.Session) -> Optional[RateLimiter]:
    """The limiter installed on ``session``, if any."""
    for adapter in session.adapters.values():
        if isinstance(adapter, RateLimitedAdapter):
            return adapter.limiter
    return None
