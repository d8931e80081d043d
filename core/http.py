"""HTTP for every API the plugin talks to: retries, timeouts, typed errors.

Why a layer of our own over ``requests``:
- 429 and 5xx are retried with backoff (``Retry-After`` honoured) within a
  bounded total wait, and network errors on GETs are retried too;
- redirects are never followed here, so a credential header can never be
  carried to another origin (``requests`` strips ``Authorization`` on a
  cross-host redirect but not the OS ``key`` header);
- every URL that reaches a message or a log line is redacted first.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests

from . import __version__
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnexpectedResponse,
    connection_failure,
)
from .redact import get_logger, redact
from .retry import RetryPolicy, parse_retry_after, wait
from .validate import Invalid, parse_json

log = get_logger(__name__)

Timeout = Union[float, Tuple[float, float]]
DEFAULT_TIMEOUT: Tuple[float, float] = (15.0, 60.0)  # connect, read (between bytes)
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
    """A ``requests.Session`` with our retry, timeout and error policy.

    The session is the caller's (the QGIS bridge configures proxies and TLS on
    it); we only add a User-Agent when it has none of ours.
    """

    def __init__(
        self,
        session: Optional[requests.Session] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        cancel: Optional[threading.Event] = None,
        user_agent: Optional[str] = None,
        error_factory: ErrorFactory = os_api_error,
    ) -> None:
        self.session = session or requests.Session()
        agent = user_agent or default_user_agent()
        current = self.session.headers.get("User-Agent", "")
        if "os_downloads/" not in current:
            self.session.headers["User-Agent"] = agent
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
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

        Retries 429 (any method), 5xx and connection errors (idempotent
        methods only). ``on_unauthorized`` may return fresh headers once (an
        expired OAuth2 token) for a single retry after a 401.
        """
        method = method.upper()
        headers = dict(headers or {})
        safe_url = redact(url)
        attempt, waited, refreshed = 0, 0.0, False
        while True:
            attempt += 1
            self._check_cancel()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    data=data,
                    stream=stream,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if method in IDEMPOTENT and self._can_retry(attempt, waited):
                    delay = self.retry.delay(attempt)
                    log.info("Network error on %s (%s); retrying in %.1fs", safe_url, exc, delay)
                    waited += self._wait(delay)
                    continue
                raise connection_failure(exc, safe_url, timeout=self.timeout) from None
            except requests.RequestException as exc:
                raise NetworkError(f"Request to {safe_url} failed: {redact(str(exc))}") from None

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
            if retryable and self._can_retry(attempt, waited):
                delay = self.retry.delay(
                    attempt, parse_retry_after(response.headers.get("Retry-After"))
                )
                log.info("HTTP %s from %s; retrying in %.1fs", status, safe_url, delay)
                response.close()
                waited += self._wait(delay)
                continue
            try:
                raise self.error_factory(response, safe_url)
            finally:
                response.close()

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

    def _can_retry(self, attempt: int, waited: float) -> bool:
        return attempt < self.retry.max_attempts and waited < self.retry.max_total_wait

    def _wait(self, delay: float) -> float:
        wait(delay, self.cancel)
        return delay

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            wait(0, self.cancel)  # raises Cancelled


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
        if type(adapter) is requests.adapters.HTTPAdapter:
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        fresh.mount(prefix, adapter)
    return fresh
