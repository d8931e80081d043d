"""The advisory lock that makes a second updater of a PostGIS holding wait for the first.

Taken at the start of each version's transaction (``pg_try_advisory_xact_lock``,
released by its commit or rollback, or by the server when the updater dies),
on a key from the holding's schema and package. The wait is bounded
(``LOCK_PATIENCE``) and watches the cancel event; the log and the error say
who holds the lock (program, user, address, server process, since when).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Optional

from ..errors import Cancelled
from ..redact import get_logger
from .store import StoreFailure

log = get_logger(__name__)

LOCK_PATIENCE = 900.0  # seconds a second updater waits for the first
POLL_SECONDS = 0.25


def advisory_key(schema: str, key: str) -> int:
    """The advisory lock of one holding: from its schema and package (a signed bigint)."""
    digest = hashlib.sha256(f"os-downloads holding {schema} {key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def wait_for_lock(store: Any, number: int, cancel: Optional[threading.Event] = None) -> None:
    """Inside a transaction of ``store``: take the lock ``number``, waiting for its holder."""
    deadline = time.monotonic() + LOCK_PATIENCE
    told = False
    while not store.execute("SELECT pg_try_advisory_xact_lock(?)", (number,)).fetchone()[0]:
        holder = lock_holder(store, number)
        if cancel is not None and cancel.is_set():
            raise Cancelled("Cancelled while waiting for another update of the holding.")
        if time.monotonic() > deadline:
            raise StoreFailure(
                f"another update of {store.label} has been running for over "
                f"{LOCK_PATIENCE / 60:.0f} minutes ({holder})",
                hint="Wait for it to finish, or stop it, then run the update again.",
            )
        if not told:
            log.warning("holding %s: waiting for another update (%s)", store.label, holder)
            told = True
        if cancel is not None:
            cancel.wait(POLL_SECONDS)
        else:
            time.sleep(POLL_SECONDS)


def lock_holder(store: Any, number: int) -> str:
    """Who holds the lock, for people."""
    unsigned = number & 0xFFFFFFFFFFFFFFFF
    row = store.execute(
        "SELECT a.application_name, a.usename, a.client_addr, a.pid, a.xact_start "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ? "
        "AND l.objid::bigint = ? LIMIT 1",
        (unsigned >> 32, unsigned & 0xFFFFFFFF),
    ).fetchone()
    if not row:
        return "held by another session"
    name, user, address, pid, since = row
    where = f" from {address}" if address else ""
    started = f", since {since:%Y-%m-%d %H:%M:%S}" if since else ""
    return f"{name or 'a program'} of user {user}{where}, server process {pid}{started}"
