"""The API rows of the fault matrix, and deadlines: over real HTTP to the replica.

Each broken way of answering ends with the right answer or one clear typed
error, within a bounded time and a bounded number of requests (counted in the
replica's request log): never a retry loop, never a hang.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict

import pytest

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.errors import (
    Cancelled,
    NetworkError,
    NetworkTimeout,
    RateLimitedError,
    ServerError,
    ServerNotAnswering,
    describe,
)
from os_downloads.core.net.http import (
    CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    READ_TIMEOUT,
    REQUEST_DEADLINE,
)
from os_downloads.core.net.ratelimit import RateLimiter
from os_downloads.core.net.retry import RetryPolicy

TOPOGRAPHY = "0040154231"
ATTEMPTS = 4
FAST = RetryPolicy(max_attempts=ATTEMPTS, base_delay=0.01, max_delay=0.05, max_total_wait=5.0)
READ_S, DEADLINE_S = 0.5, 1.5
HANG_GUARD_S = 20.0  # a generous bound so a regression fails instead of hanging
ALWAYS = 10_000

ENDPOINTS: Dict[str, Callable[[OSDownloadsClient], Any]] = {
    "product list": lambda c: sorted(p.id for p in c.products()),
    "downloads listing": lambda c: [d.file_name for d in c.product_downloads("OpenRivers")],
    "package versions": lambda c: [v.id for v in c.data_package_versions(TOPOGRAPHY)],
}

# (faults, the error expected or None for the right answer, how many API requests)
CASES = {
    "short body once": (dict(api_short_body_count=1), None, 2),
    "short body always": (dict(api_short_body_count=ALWAYS), NetworkError, ATTEMPTS),
    "long body": (dict(api_long_body_count=ALWAYS), None, 1),
    "reset mid-body once": (dict(api_reset_count=1), None, 2),
    "reset mid-body always": (dict(api_reset_count=ALWAYS), NetworkError, ATTEMPTS),
    "trickle": (dict(api_trickle_count=ALWAYS, api_trickle_seconds=0.2), NetworkTimeout, 1),
    "stall": (dict(api_trickle_count=ALWAYS, api_trickle_seconds=2.0), NetworkTimeout, 3),
    "never answers once": (dict(api_hold_count=1), None, 2),
    "never answers": (dict(api_hold_count=ALWAYS), ServerNotAnswering, 3),
    "429 storm": (dict(api_429_count=ALWAYS, retry_after=0), RateLimitedError, ATTEMPTS),
    "5xx twice": (dict(api_5xx_count=2), None, 3),
    "5xx always": (dict(api_5xx_count=ALWAYS), ServerError, ATTEMPTS),
}


def make_client(replica, **kwargs: Any) -> OSDownloadsClient:
    settings: Dict[str, Any] = dict(
        auth=ApiKeyAuth(replica.api_key),
        retry=FAST,
        timeout=(2.0, READ_S),
        deadline=DEADLINE_S,
        rate_limiter=RateLimiter(10_000),
    )
    settings.update(kwargs)
    return OSDownloadsClient(replica.api_url, **settings)


def api_requests(replica) -> int:
    return sum(1 for e in replica.requests("api") if e["path"].startswith("/downloads/v1"))


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("case", list(CASES))
def test_api_fault_matrix(replica, case, endpoint):
    faults, expected_error, expected_requests = CASES[case]
    ask = ENDPOINTS[endpoint]
    with make_client(replica) as client:
        right_answer = ask(client)
        replica.request_log.clear()
        replica.set_faults(**faults)
        started = time.monotonic()
        if expected_error is None:
            assert ask(client) == right_answer
        else:
            with pytest.raises(expected_error) as caught:
                ask(client)
            line = describe(caught.value)
            assert "urllib3" not in line and "Unexpected error" not in line
        took = time.monotonic() - started
    assert api_requests(replica) == expected_requests
    assert took < HANG_GUARD_S


def test_a_server_that_never_answers_is_given_up_with_a_clear_message(replica):
    replica.set_faults(api_hold_count=ALWAYS)
    started = time.monotonic()
    patient = make_client(replica, timeout=(2.0, 30.0), deadline=1.0)
    with patient, pytest.raises(ServerNotAnswering) as caught:
        patient.products()
    assert time.monotonic() - started < HANG_GUARD_S
    host = replica.api_origin.split("//", 1)[1]
    assert str(caught.value) == f"Timed out after 1 s with no answer from {host}."
    assert api_requests(replica) == 1  # the deadline came before the 30 s read timeout


def test_a_429_asking_to_wait_past_the_deadline_ends_at_once(replica):
    replica.set_faults(api_429_count=ALWAYS, retry_after=120)
    patient = RetryPolicy(max_attempts=ATTEMPTS, max_delay=30.0, max_total_wait=100.0)
    started = time.monotonic()
    with make_client(replica, retry=patient) as client, pytest.raises(RateLimitedError):
        client.products()  # waiting even the capped 30 s would pass the 1.5 s deadline
    assert time.monotonic() - started < HANG_GUARD_S
    assert api_requests(replica) == 1


def test_the_default_deadlines():
    assert CONNECT_TIMEOUT == 10.0 and DEFAULT_TIMEOUT == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert REQUEST_DEADLINE == 60.0  # one call, all tries: about a minute at most


@pytest.mark.parametrize(
    "faults", [dict(api_hold_count=ALWAYS), dict(api_trickle_count=ALWAYS, api_trickle_seconds=5)]
)
def test_cancel_is_instant_while_waiting_for_an_answer(replica, faults):
    replica.set_faults(**faults)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    client = make_client(replica, cancel=cancel, timeout=(10.0, 30.0), deadline=60.0)
    with client, pytest.raises(Cancelled):
        client.products()
    assert time.monotonic() - started < 5.0  # generous: cancel lands within a poll
    assert api_requests(replica) == 1


def test_a_job_budget_bounds_the_retries_of_many_calls_together(replica):
    replica.set_faults(api_5xx_count=ALWAYS)
    with make_client(replica) as client:
        client.http.job_budget = RetryPolicy(max_attempts=6, max_total_wait=100.0).budget()
        for _ in range(10):  # a sync asking for ten packages while the API is down
            with pytest.raises(ServerError):
                client.data_package_versions(TOPOGRAPHY)
    # 5 retries for the whole job, then each call fails at its first answer
    assert api_requests(replica) == 10 + 5
