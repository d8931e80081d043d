"""One ``requests.Session`` per worker thread, made like the caller's.

``requests.Session`` is not documented as thread-safe (psf/requests#2766);
pip and huggingface_hub give each thread its own. Each worker's session has
the caller's class, proxies, TLS settings (``verify``, ``cert``), headers and
``trust_env``, and fresh connection pools of its own; adapters of a special
kind (the QGIS bridge's per-host SSL exceptions) are shared as they are, since
they cannot be rebuilt from outside. ``close()`` closes what was made here and
never the caller's session or its adapters.

A short-lived thread (one range of a large file) calls ``forget()`` when it
ends: its session and connections are closed then, not at the job's end.

``abort()`` shuts down every connection the workers' own pools opened, also
one still waiting for a server's answer (a read that would otherwise block
until its timeout), so cancelling is instant even against a server that never
answers.
"""

from __future__ import annotations

import socket
import threading
import weakref
from typing import Any, List, MutableSet, Tuple

import requests
from requests.adapters import HTTPAdapter

from . import ratelimit

WORKER_POOL_SIZE = 2  # connections one worker keeps open (one per host, plus a spare)


class _AbortableAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that remembers the connections its pools open, to abort them."""

    def __init__(self, **kwargs: Any) -> None:
        self._connections: MutableSet[Any] = weakref.WeakSet()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        manager = self.poolmanager
        manager.pool_classes_by_scheme = {
            scheme: _tracking(pool_class, self._connections)
            for scheme, pool_class in manager.pool_classes_by_scheme.items()
        }

    def abort(self) -> None:
        for connection in list(self._connections):
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _tracking(pool_class: Any, connections: MutableSet[Any]) -> Any:
    class TrackingPool(pool_class):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> Any:
            connection = super()._new_conn()
            connections.add(connection)
            return connection

    TrackingPool.__name__ = f"Tracking{pool_class.__name__}"
    return TrackingPool


class ThreadSessions:
    """``sessions.get()``: the calling thread's session (made on first use)."""

    def __init__(self, base: requests.Session) -> None:
        self.base = base
        self._local = threading.local()
        self._lock = threading.Lock()
        self._owned_adapters: List[_AbortableAdapter] = []
        self._made: List[requests.Session] = []

    def get(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session, self._local.owned = self._make()
            self._local.session = session
        return session

    def forget(self) -> None:
        """Close the calling thread's session and its connections (the thread is done)."""
        session = getattr(self._local, "session", None)
        owned: List[_AbortableAdapter] = getattr(self._local, "owned", [])
        self._local.session, self._local.owned = None, []
        if session is None:
            return
        with self._lock:
            self._owned_adapters = [a for a in self._owned_adapters if a not in owned]
            self._made = [s for s in self._made if s is not session]
        for adapter in owned:
            adapter.close()

    def abort(self) -> None:
        """Shut down the workers' connections (from any thread); they see a dropped link."""
        with self._lock:
            adapters = list(self._owned_adapters)
        for adapter in adapters:
            adapter.abort()

    def close(self) -> None:
        with self._lock:
            adapters, self._owned_adapters = self._owned_adapters, []
            self._made = []
        for adapter in adapters:
            adapter.close()

    def _make(self) -> Tuple[requests.Session, List[_AbortableAdapter]]:
        base = self.base
        try:
            session = type(base)()
        except TypeError:  # a subclass that needs arguments: a plain session, same settings
            session = requests.Session()
        session.trust_env = base.trust_env
        session.proxies = dict(base.proxies)
        session.verify = base.verify
        session.cert = base.cert
        session.headers.clear()
        session.headers.update(base.headers)
        session.max_redirects = base.max_redirects
        owned: List[_AbortableAdapter] = []
        for adapter in session.adapters.values():  # the defaults the constructor mounted
            adapter.close()
        session.adapters.clear()
        for prefix, mounted in base.adapters.items():
            # the base's adapters may be paced by the process's rate limiter: keep the
            # pacing, but give each worker its own abortable connection pool under it
            adapter = ratelimit.unwrap(mounted)
            if type(adapter) is HTTPAdapter:
                adapter = _AbortableAdapter(
                    pool_connections=WORKER_POOL_SIZE,
                    pool_maxsize=WORKER_POOL_SIZE,
                    max_retries=adapter.max_retries,
                )
                owned.append(adapter)
            limiter = getattr(mounted, "limiter", None) if adapter is not mounted else None
            session.mount(
                prefix, ratelimit.RateLimitedAdapter(adapter, limiter) if limiter else adapter
            )
        with self._lock:
            self._owned_adapters.extend(owned)
            self._made.append(session)
        return session, owned
