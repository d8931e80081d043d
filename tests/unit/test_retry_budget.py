"""The retry budget: every retry costs an attempt, and attempts and time both run out."""

from __future__ import annotations

import threading

import pytest

from os_downloads.core.errors import Cancelled, RetriesExhausted, describe
from os_downloads.core.net.retry import RetryBudget, RetryPolicy, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_with_jitter_and_stops_after_max_attempts():
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=100.0, max_total_wait=1000.0)
    budget = policy.budget()
    delays = [budget.spend(reason="flaky") for _ in range(4)]  # tries 2..5
    for number, delay in enumerate(delays):
        assert 0.5 * 2**number <= delay <= 2**number
    with pytest.raises(RetriesExhausted) as caught:
        budget.spend(reason="HTTP 503")
    assert caught.value.attempts == 5 and caught.value.reason == "HTTP 503"
    assert "5 tries" in describe(caught.value) and "HTTP 503" in describe(caught.value)


def test_a_retry_that_made_progress_still_costs_an_attempt():
    budget = RetryPolicy(max_attempts=3, base_delay=0.0).budget()
    budget.spend(reason="cut at 60 %")
    budget.spend(reason="cut at 60 %")
    with pytest.raises(RetriesExhausted):
        budget.spend(reason="cut at 60 %")  # however much the tries brought


def test_retry_after_is_honoured_up_to_the_cap():
    budget = RetryPolicy(max_attempts=10, max_delay=20.0, max_total_wait=1000).budget()
    assert budget.spend(retry_after=7) == 7
    assert budget.spend(retry_after=3600) == 20
    assert parse_retry_after("nan") is None and parse_retry_after("inf") == float("inf")


def test_the_time_budget_counts_waits_and_elapsed_time():
    clock = FakeClock()
    waits = RetryPolicy(max_attempts=100, base_delay=10, max_delay=10, max_total_wait=25)
    budget = waits.budget(clock=clock)
    budget.spend(retry_after=10)
    budget.spend(retry_after=10)
    with pytest.raises(RetriesExhausted):
        budget.spend(retry_after=10)  # 30 s of waiting > 25

    elapsed = RetryPolicy(max_attempts=100, max_total_wait=1e9, max_elapsed=60).budget(clock=clock)
    assert elapsed.remaining_time() == 60
    clock.now += 50
    assert elapsed.spend(retry_after=5) == 5
    with pytest.raises(RetriesExhausted):
        elapsed.spend(retry_after=30)  # would end past the 60 s: give up now, not after waiting


def test_a_job_budget_caps_all_its_files_together_across_threads():
    job = RetryPolicy(max_attempts=21, base_delay=0.0, max_total_wait=1e9).budget()
    per_file = RetryPolicy(max_attempts=1000, base_delay=0.0, max_total_wait=1e9)
    spent, refused = [], []
    lock = threading.Lock()

    def worker() -> None:
        budget = RetryBudget(per_file, parent=job)
        for _ in range(50):  # bounded
            try:
                budget.spend(reason="dropped")
            except RetriesExhausted:
                with lock:
                    refused.append(1)
                return
            with lock:
                spent.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(spent) == 20 and len(refused) == 4  # 20 retries for the whole job, no more


def test_waiting_is_cancellable():
    cancel = threading.Event()
    cancel.set()
    budget = RetryPolicy(base_delay=30, max_delay=30).budget()
    with pytest.raises(Cancelled):
        budget.wait(cancel=cancel)
