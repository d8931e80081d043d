"""An API's answer read for people: its JSON body, and the typed error for a failed one.

``os_api_error`` is the OS APIs' error shape (the default ``error_factory`` of
``HttpClient``); TRUD brings its own factory.
"""

from __future__ import annotations

from typing import Any

import requests

from ..errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from ..redact import redact
from .json_body import parse_json


def response_json(response: requests.Response) -> Any:
    """The body as JSON, or None (not JSON, nested too deeply, non-finite numbers)."""
    try:
        return parse_json(response.content)
    except ValueError:  # json_body.Invalid is one too
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
