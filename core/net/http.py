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

import os
import socket
import threading
import time
from typing import Any, Callable, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests
import urllib3

from .. import __version__
from ..api.validate import Invalid, parse_json
from ..errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    Cancelled,
    ConfigurationError,
    ForbiddenError,
    NetworkError,
    NetworkTimeout,
    NotFoundError,
    OSDownloadsError,
    RateLimitedError,
    RetriesExhausted,
    ServerError,
    ServerNotAnswering,
    UnexpectedResponse,
    connection_failure,
)
from ..formatting import format_duration
from ..redact import get_logger, redact
from ..safe_text import safe_line
from . import ratelimit
from .retry import RetryBudget, RetryPolicy, parse_retry_after, wait

log = get_logger(__name__)

Timeout = Union[float, Tuple[float, float]]
CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds of silence (no byte) that fail one try
REQUEST_DEADLINE = 60.0  # seconds for one call: every try, wait and the whole body
DEFAULT_TIMEOUT: Tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
MAX_BODY_BYTES = 64 << 20  # an answer read into memory (JSON, thumbnails) is never bigger
BODY_CHUNK = 64 << 10
WATCH_SLICE_S = 0.05  # how often a waiting caller looks at cancel and the deadline
RETRYABLE_5XX = frozenset({500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# Builds the typed error for a failed response; APIs with their own error
# shapes (TRUD) pass their own.
ErrorFactory = Callable[[requests.Response, str], ApiError]


def default_user_agent() -> str:
    return f"os_downloads/{__version__}"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower case, for same-origin checks."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def resolve_base_url(
    explicit: Optional[str], *, env_var: str, default: str, name: str = "API"
) -> str:
    """An API's base URL: the explicit setting, else the ``env_var`` override, else
    ``default``; refused unless it is http(s). ``name`` says which API in the error."""
    url = (explicit or "").strip() or os.environ.get(env_var, "").strip() or default
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"The {name} URL {redact(url)!r} is not an http(s) URL.")
    return url.rstrip("/")


def response_json(response: requests.Response) -> Any:
    """The body as JSON, or None (not JSON, nested too deeply, non-finite numbers)."""
    try:
        return parse_json(response.content)
    except ValueError:  # validate.Invalid is one too
        return None


def _api_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
        fault = body.get("fault")
        if isinstance(fault, dict) and isinstance(fault.get("faultstring"), str):
            return fault["faultstring"]
    return ""


def os_api_error(response: requests.Response, url: str) -> ApiError:
    """The typed error for an OS API error response (``url`` already redacted)."""
    status = response.status_code
    body = response_json(response)
    said = redact(_api_message(body))
    detail = f" The API said: {said}" if said else ""
    if status == 401:
        error = AuthenticationError(
            f"The API key or access token was missing or not accepted (HTTP 401).{detail}",
            status=status,
            url=url,
            hint="Check the OS Data Hub API key you configured, and that its project "
            "includes the OS Downloads API.",
        )
        error.about_os_key = True
        return error
    if status == 403:
        return ForbiddenError(f"Access was refused (HTTP 403).{detail}", status=status, url=url)
    if status == 404:
        links = {}
        if isinstance(body, dict):
            links = {k: v for k, v in body.items() if k.endswith("Url") and isinstance(v, str)}
        hint = ""
        if links:
            hint = "Start again from: " + ", ".join(redact(v) for v in links.values())
        return NotFoundError(
            f"Not found (HTTP 404): {url}.{detail}", status=status, url=url, hint=hint, links=links
        )
    if status == 429:
        return RateLimitedError(
            "The API's request limit was reached (HTTP 429) and retrying did not help.",
            status=status,
            url=url,
        )
    if status >= 500:
        return ServerError(f"The server failed (HTTP {status}).{detail}", status=status, url=url)
    if status == 400:
        return BadRequestError(
            f"The request was rejected (HTTP 400).{detail}", status=status, url=url
        )
    return ApiError(f"Unexpected HTTP {status} from {url}.{detail}", status=status, url=url)


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
        clock = _Deadline(self.deadline)
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
        clock: _Deadline,
    ) -> requests.Response:
        """One request on a helper thread; this thread watches cancel and the deadline."""
        connect, read = _split_timeout(self.timeout)
        left = clock.remaining()
        if left is not None:
            read = min(read, max(left, 0.001))
        paced = isinstance(self.session.get_adapter(url), ratelimit.RateLimitedAdapter)
        attempt = _Try(paced)
        worker = threading.Thread(
            target=self._run_try,
            args=(attempt, method, url, params, dict(headers), data, stream, (connect, read)),
            name="os_downloads-http",
            daemon=True,
        )
        worker.start()
        host = _host(redact(url))
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

    def _watch(self, attempt: _Try, clock: _Deadline, host: str) -> None:
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
        attempt: _Try,
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
                _read_body(response, attempt.stop)
        except BaseException as exc:  # handed to the watching thread
            attempt.error = exc
            if response is not None:
                response.close()
            response = None
        finally:
            attempt.finish(response)

    def _failure(
        self, error: BaseException, url: str, timeout: Tuple[float, float], clock: _Deadline
    ) -> BaseException:
        """The typed error (inside a ``_TryFailed`` when worth a retry) for a failed try."""
        safe_url = redact(url)
        host = _host(safe_url)
        if isinstance(error, Cancelled):
            return error
        if isinstance(error, _BodyTooLarge):
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
        if isinstance(error, _ShortBody):
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
        clock: _Deadline,
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
        log.warning(
            "%s from %s; trying again in %s",
            reason,
            safe_url,
            format_duration(delay),
            # for interfaces that show the wait (the dock's task status)
            extra={
                "retry_reason": reason,
                "retry_wait_s": delay,
                "retry_number": budget.attempts - 1,
                "retry_limit": budget.policy.max_attempts - 1,
            },
        )
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


class _ShortBody(Exception):
    def __init__(self, received: int, announced: int) -> None:
        super().__init__(f"{received} of {announced} bytes")
        self.received = received
        self.announced = announced


class _BodyTooLarge(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Deadline:
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


class _Try:
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


def _read_body(response: requests.Response, stop: threading.Event) -> None:
    """Read the whole body into ``response`` (capped; a short one is an error)."""
    raw = response.raw
    chunks: List[bytes] = []
    total = 0
    while True:
        if stop.is_set():
            raise Cancelled()
        chunk = raw.read(BODY_CHUNK, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _BodyTooLarge(response.status_code)
        chunks.append(chunk)
    missing = getattr(raw, "length_remaining", None)
    if missing:
        received = int(raw.tell())
        raise _ShortBody(received, received + int(missing))
    response._content = b"".join(chunks)
    response._content_consumed = True


def shutdown_connection(response: requests.Response) -> None:
    """Shut the socket under a streaming response down: a blocked read ends at once."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _split_timeout(timeout: Timeout) -> Tuple[float, float]:
    if isinstance(timeout, tuple):
        return float(timeout[0]), float(timeout[1])
    return float(timeout), float(timeout)


def _host(url: str) -> str:
    """host[:port] for messages (no user info)."""
    return urlsplit(url).netloc.rpartition("@")[2] or url


def location(response: requests.Response) -> str:
    """The absolute redirect target of a 3xx response."""
    target = response.headers.get("Location", "")
    return requests.compat.urljoin(response.url or "", target) if target else ""


def copy_transport(session: requests.Session, user_agent: str) -> requests.Session:
    """A new session with the same proxy and TLS set-up and no other state.

    Used for storage origins: nothing that authenticates to the API (headers,
    cookies, auth) is carried over. The session's class and its mounted
    adapters are (the QGIS bridge keeps its CA bundle and per-host SSL
    exceptions there); plain adapters get a pool big enough for the workers.
    The new session is paced by the same rate limiter as ``session``.
    """
    try:
        fresh = type(session)()
    except TypeError:
        fresh = requests.Session()
    fresh.trust_env = session.trust_env
    fresh.proxies = dict(session.proxies)
    fresh.verify = session.verify
    fresh.cert = session.cert
    fresh.headers["User-Agent"] = user_agent
    for prefix, adapter in session.adapters.items():
        inner = ratelimit.unwrap(adapter)
        if type(inner) is requests.adapters.HTTPAdapter:
            inner = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        fresh.mount(prefix, inner)
    return ratelimit.install(fresh, ratelimit.limiter_of(session))
