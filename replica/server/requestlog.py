"""The record of every request the replica's origins received.

Tests read it to prove what a client sent where: that the API key never
reached the storage origin, never appeared in a URL, that a resume asked for a
``Range``, how many connections were open at once (``time``, ``ended``: when
the request came and its answer was out; ``peer``: the client's port, one per
connection). Control requests (``/__replica__/...``) are not recorded.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

Entry = Dict[str, Any]


class RequestLog:
    """A thread-safe list of ``{origin, method, path, query, headers, status}``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: List[Entry] = []

    def record(
        self, origin: str, method: str, path: str, query: str, headers: Dict[str, str]
    ) -> Entry:
        """Add one request (the path still percent-encoded); its entry, to fill in later."""
        entry: Entry = {
            "origin": origin,
            "method": method,
            "path": path,
            "query": query,
            "headers": dict(headers),
            "status": None,  # filled in once the answer is known
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, origin: Optional[str] = None) -> List[Entry]:
        """A snapshot (copies), optionally only one origin's requests."""
        with self._lock:
            chosen = [e for e in self._entries if origin is None or e["origin"] == origin]
            return [dict(e, headers=dict(e["headers"])) for e in chosen]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
