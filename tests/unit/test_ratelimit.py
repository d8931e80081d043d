"""The client-side rate limiter: every request of the process stays under the API's limit.

Checked from the replica's request log (arrival times), over real HTTP.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.errors import Cancelled, ConfigurationError
from os_downloads.core.net.http import HttpClient
from os_downloads.core.net.ratelimit import (
    DEVELOPMENT_PER_MINUTE,
    LIVE_PER_MINUTE,
    RateLimiter,
    cancel_scope,
    limiter_of,
    per_minute_from_env,
    process_limiter,
)
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.net.transport import copy_transport

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=2.0)
LIMIT, WINDOW = 5, 1.0


def most_in_any_window(times, window):
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_burst_from_several_threads_on_api_and_storage_stays_under_the_limit(replica):
    limiter = RateLimiter(LIMIT, window_seconds=WINDOW)
    client = OSDownloadsClient(replica.api_url, retry=FAST, rate_limiter=limiter)
    replica.request_log.clear()

    def one(index: int) -> None:
        if index % 3 == 0:
            client.product_image("OpenRivers", 0)  # an API redirect, then storage
        else:
            client.product("OpenRivers")

    with client, ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(12)))

    log = replica.requests_log
    assert {e["origin"] for e in log} == {"api", "storage"}
    assert len(log) == 16  # 12 calls, 4 of them with a storage request: nothing dropped
    # Arrival times spread a little against send times: judge windows slightly shorter.
    assert most_in_any_window([e["time"] for e in log], WINDOW * 0.9) <= LIMIT
    assert max(e["time"] for e in log) - min(e["time"] for e in log) >= 2 * WINDOW * 0.9


def test_every_session_made_or_derived_is_paced(replica):
    limiter = RateLimiter(LIMIT, window_seconds=WINDOW)
    client = OSDownloadsClient(replica.api_url, rate_limiter=limiter)
    assert limiter_of(client.http.session) is limiter
    assert limiter_of(client.storage_session) is limiter  # copy_transport keeps it
    client.close()
    plain = HttpClient()  # a session made here gets the process's limiter
    assert limiter_of(plain.session) is process_limiter()
    assert limiter_of(copy_transport(plain.session, "x")) is process_limiter()
    plain.session.close()

    class OwnAdapter(requests.adapters.HTTPAdapter):
        pass

    session = requests.Session()
    session.mount("http://127.0.0.1", OwnAdapter())  # as the QGIS bridge mounts its own
    HttpClient(session, limiter=limiter)
    adapter = session.get_adapter(replica.api_url)
    assert limiter_of(session) is limiter and isinstance(adapter.inner, OwnAdapter)


def test_a_request_waiting_for_its_slot_is_cancelled_at_once(replica):
    limiter = RateLimiter(1, window_seconds=60.0)
    cancel = threading.Event()
    client = OSDownloadsClient(replica.api_url, retry=FAST, cancel=cancel, rate_limiter=limiter)
    client.product("OpenRivers")  # takes the only slot for a minute
    threading.Timer(0.2, cancel.set).start()
    with client, pytest.raises(Cancelled):
        client.product("OpenRivers")
    assert len(replica.requests("api")) == 1
    with cancel_scope(cancel), pytest.raises(Cancelled):
        limiter.acquire(cancel)


def test_the_limit_setting():
    assert per_minute_from_env("") == LIVE_PER_MINUTE == 600
    assert per_minute_from_env("development") == DEVELOPMENT_PER_MINUTE == 50
    assert per_minute_from_env("120") == 120
    with pytest.raises(ConfigurationError):
        per_minute_from_env("fast")
    with pytest.raises(ConfigurationError):
        RateLimiter(0)
