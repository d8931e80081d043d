"""HTTP for every API the plugin talks to: retries, deadlines, pacing, typed errors.

Why a layer of our own over ``requests``:
- 429 and 5xx are retried with backoff (``Retry-After`` honoured up to a cap),
  and network errors on GETs too, within a ``RetryBudget`` (``retry.py``):
  every retry costs an attempt, whatever the reason;
- deadlines, not only timeouts: connecting may take ``CONNECT_TIMEOUT``, a
  silence between bytes ``READ_TIMEOUT``, and one call (all its tries, waits
  and the whole body) ``REQUEST_DEADLINE`` in total, so a server that never
  answers, or trickles its answer a byte at a time, ends in a clear
  ``ServerNotAnswering`` / ``NetworkTimeout`` within about a minute. Each try
  runs on a helper thread while the caller watches the deadline and the cancel
  event, so cancelling is instant too;
- every request of the process is paced under the API's limit
  (``ratelimit.py``), installed on each session made or derived here;
- an answer read into memory is capped (``MAX_BODY_BYTES``), and one shorter
  than its ``Content-Length`` is an error, never a silently cut answer;
- redirects are never followed here, so a credential header can never be
  carried to another origin (``requests`` strips ``Authorization`` on a
  cross-host redirect but not the OS ``key`` header);
- every URL that reaches a message or a log line is redacted first.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests
import urllib3

from ..errors import (
    ApiError,
    Cancelled,
    NetworkError,
    NetworkTimeout,
    OSDownloadsError,
    RetriesExhausted,
    ServerNotAnswering,
    UnexpectedResponse,
    connection_failure,
)
from ..formatting import format_duration
from ..redact import get_logger, redact
from ..safe_text import safe_line
from . import ratelimit
from .connections import MAX_BODY_BYTES, BodyTooLarge, ShortBody, read_body
from .deadline import Deadline, TryInFlight
from .json_body import Invalid, parse_json
from .responses import os_api_error
from .retry import RetryBudget, RetryPolicy, parse_retry_after, wait
from .transport import default_user_agent, host_of

log = get_logger(__name__)

Timeout = Union[float, Tuple[float, float]]
CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds of silence (no byte) that fail one try
REQUEST_DEADLINE = 60.0  # seconds for one call: every try, wait and the whole body
DEFAULT_TIMEOUT: Tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
WATCH_SLICE_S = 0.05  # how often a waiting caller looks at cancel and the deadline
RETRYABLE_5XX = frozenset({500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# Builds the typed error for a failed response; APIs with their own error
# shapes (TRUD) pass their own.
ErrorFactory = Callable[[requests.Response, str], ApiError]


class HttpClient:
    """A ``requests.Session`` with our retry, deadline, pacing and error policy.

    The session is the caller's (the QGIS bridge configures proxies and TLS on
    it); we add a User-Agent when it has none of ours, and route its adapters
    through the process's rate limiter (or ``limiter``).
    ``deadline``: seconds one call may take in all (None: only the timeouts).
    ``job_budget``: when set (``JOB_RETRY.budget()`` for one user action), every
    call's retries are also spent from it, so many calls cannot add up to an
    unbounded number of retries.
    """

    def __init__(
        self,
        session: Optional[requests.Session] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        deadline: Optional[float] = REQUEST_DEADLINE,
        cancel: Optional[threading.Event] = None,
        user_agent: Optional[str] = None,
        error_factory: ErrorFactory = os_api_error,
        limiter: Optional[ratelimit.RateLimiter] = None,
    ) -> None:
        self.session = session or requests.Session()
        agent = user_agent or default_user_agent()
        current = self.session.headers.get("User-Agent", "")
        if "os_downloads/" not in current:
            self.session.headers["User-Agent"] = agent
        ratelimit.install(self.session, limiter or ratelimit.limiter_of(self.session))
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.deadline = deadline
        self.job_budget: Optional[RetryBudget] = None
        self.cancel = cancel
        self.error_factory = error_factory

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        data: Any = None,
        stream: bool = False,
        ok: Tuple[int, ...] = (200,),
        on_unauthorized: Optional[Callable[[], Optional[Mapping[str, str]]]] = None,
    ) -> requests.Response:
        """Send a request; return the response when its status is in ``ok``.

        Retries 429 (any method), 5xx and network failures (idempotent
        methods only) within the retry budget and the deadline. Without
        ``stream`` the body is read here, under the deadline; with it, only
        the headers are. ``on_unauthorized`` may return fresh headers once (an
        expired OAuth2 token) for a single retry after a 401.
        """
        method = method.upper()
        headers = dict(headers or {})
        safe_url = redact(url)
        budget = self.retry.budget(parent=self.job_budget)
        clock = Deadline(self.deadline)
        refreshed = False
        while True:
            self._check_cancel()
            try:
                response = self._try_once(method, url, params, headers, data, stream, clock)
            except _TryFailed as failed:
                if method not in IDEMPOTENT:
                    raise failed.error from None
                self._pause(budget, clock, failed.error, None, failed.reason, safe_url)
                continue

            status = response.status_code
            log.debug("%s %s -> %s", method, safe_url, status)
            if status in ok:
                return response
            if status == 401 and on_unauthorized is not None and not refreshed:
                fresh = on_unauthorized()
                refreshed = True
                if fresh is not None:
                    response.close()
                    headers.update(fresh)
                    continue
            retryable = status == 429 or (status in RETRYABLE_5XX and method in IDEMPOTENT)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            try:
                error = self.error_factory(response, safe_url)
            finally:
                response.close()
            if not retryable:
                raise error
            self._pause(budget, clock, error, retry_after, f"HTTP {status}", safe_url)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        response = self.request("GET", url, **kwargs)
        try:
            return parse_json(response.content)
        except Invalid as problem:
            raise UnexpectedResponse.for_path(
                urlsplit(redact(url)).path, str(problem), status=response.status_code
            ) from None
        except ValueError:
            raise ApiError(
                f"The server sent something that is not JSON from {redact(url)}.",
                status=response.status_code,
                url=redact(url),
                hint="Check the API URL setting.",
            ) from None
        finally:
            response.close()

    # --- one try, watched -----------------------------------------------------

    def _try_once(
        self,
        method: str,
        url: str,
        params: Optional[Mapping[str, Any]],
        headers: Mapping[str, str],
        data: Any,
        stream: bool,
        clock: Deadline,
    ) -> requests.Response:
        """One request on a helper thread; this thread watches cancel and the deadline."""
        connect, read = _split_timeout(self.timeout)
        left = clock.remaining()
        if left is not None:
            read = min(read, max(left, 0.001))
        paced = isinstance(self.session.get_adapter(url), ratelimit.RateLimitedAdapter)
        attempt = TryInFlight(paced)
        worker = threading.Thread(
            target=self._run_try,
            args=(attempt, method, url, params, dict(headers), data, stream, (connect, read)),
            name="os_downloads-http",
            daemon=True,
        )
        worker.start()
        host = host_of(redact(url))
        try:
            self._watch(attempt, clock, host)
        except BaseException:  # the deadline, cancel, Ctrl-C: the try's thread stops too
            attempt.abandon()
            raise
        if attempt.sent_at is not None:
            clock.spend(time.monotonic() - attempt.sent_at)
        if attempt.error is not None:
            raise self._failure(attempt.error, url, (connect, read), clock) from None
        assert attempt.response is not None
        return attempt.response

    def _watch(self, attempt: TryInFlight, clock: Deadline, host: str) -> None:
        """Wait for the try to end; raise at once on cancel or when the deadline passes."""
        while not attempt.done.wait(WATCH_SLICE_S):
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled()
            sent_at = attempt.sent_at
            if sent_at is None or not clock.passed(time.monotonic() - sent_at):
                continue
            seconds = clock.seconds or 0.0
            if attempt.response is None:
                raise ServerNotAnswering(
                    f"Timed out after {seconds:.0f} s with no answer from {host}.",
                    host=host,
                    seconds=seconds,
                )
            raise NetworkTimeout(
                f"Timed out after {seconds:.0f} s: {host} sent its answer too slowly.",
                host=host,
                seconds=seconds,
            )

    def _run_try(
        self,
        attempt: TryInFlight,
        method: str,
        url: str,
        params: Optional[Mapping[str, Any]],
        headers: Mapping[str, str],
        data: Any,
        stream: bool,
        timeout: Tuple[float, float],
    ) -> None:
        response: Optional[requests.Response] = None
        try:
            with ratelimit.cancel_scope(attempt.stop, on_slot=attempt.mark_sent):
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    data=data,
                    stream=True,
                    timeout=timeout,
                    allow_redirects=False,
                    hooks={"response": [attempt.capture]},
                )
            if not stream:
                read_body(response, attempt.stop)
        except BaseException as exc:  # handed to the watching thread
            attempt.error = exc
            if response is not None:
                response.close()
            response = None
        finally:
            attempt.finish(response)

    def _failure(
        self, error: BaseException, url: str, timeout: Tuple[float, float], clock: Deadline
    ) -> BaseException:
        """The typed error (inside a ``_TryFailed`` when worth a retry) for a failed try."""
        safe_url = redact(url)
        host = host_of(safe_url)
        if isinstance(error, Cancelled):
            return error
        if isinstance(error, BodyTooLarge):
            return ApiError(
                f"The answer from {safe_url} is larger than {MAX_BODY_BYTES >> 20} MB; "
                "that is not an answer the API sends.",
                status=error.status,
                url=safe_url,
                hint="Check the API URL setting.",
            )
        if isinstance(error, requests.ConnectTimeout):
            problem: NetworkError = NetworkTimeout(
                f"Could not connect to {host}: no answer within {timeout[0]:.0f} s.",
                host=host,
                seconds=timeout[0],
            )
            return _TryFailed(problem, "could not connect in time")
        if isinstance(error, requests.ReadTimeout):
            waited = clock.used
            return _TryFailed(
                ServerNotAnswering(
                    f"Timed out after {waited:.0f} s with no answer from {host}.",
                    host=host,
                    seconds=waited,
                ),
                f"no answer within {timeout[1]:.0f} s",
            )
        if isinstance(error, urllib3.exceptions.ReadTimeoutError):
            return _TryFailed(
                NetworkTimeout(
                    f"{host} stopped sending its answer for {timeout[1]:.0f} s.",
                    host=host,
                    seconds=timeout[1],
                ),
                "the answer stalled",
            )
        if isinstance(error, requests.ConnectionError):
            return _TryFailed(connection_failure(error, safe_url, timeout=timeout), "network error")
        if isinstance(error, requests.RequestException):
            return connection_failure(error, safe_url, timeout=timeout)
        if isinstance(error, ShortBody):
            return _TryFailed(
                NetworkError(
                    f"The connection to {host} closed before the whole answer arrived "
                    f"({error.received} of {error.announced} bytes)."
                ),
                "the answer was cut short",
            )
        if isinstance(error, (urllib3.exceptions.HTTPError, OSError)):
            return _TryFailed(
                NetworkError(
                    f"The connection to {host} broke while the answer arrived: "
                    f"{safe_line(redact(str(error)))}"
                ),
                "the connection broke mid-answer",
            )
        return error

    def _pause(
        self,
        budget: RetryBudget,
        clock: Deadline,
        error: BaseException,
        retry_after: Optional[float],
        reason: str,
        safe_url: str,
    ) -> None:
        """Wait before the next try, or raise ``error`` when no try is left."""
        try:
            delay = budget.spend(retry_after, reason=reason)
        except RetriesExhausted:
            raise error from None
        left = clock.remaining()
        if left is not None and delay >= left:
            raise error
        log.warning("%s from %s; trying again in %s", reason, safe_url, format_duration(delay))
        wait(delay, self.cancel)
        clock.spend(delay)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            wait(0, self.cancel)  # raises Cancelled


class _TryFailed(Exception):
    """A try failed in a way another try may mend; ``error`` is raised if none is left."""

    def __init__(self, error: OSDownloadsError, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def _split_timeout(timeout: Timeout) -> Tuple[float, float]:
    if isinstance(timeout, tuple):
        return float(timeout[0]), float(timeout[1])
    return float(timeout), float(timeout)
