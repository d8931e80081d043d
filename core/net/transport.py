"""Origins, base URLs, redirects and the storage session: where requests go, and how.

``origin`` is the same-origin check behind "credentials only to the API";
``copy_transport`` makes the session for storage origins (same proxy and TLS,
no auth, same pacing).
"""

from __future__ import annotations

import os
from typing import Optional
from urllib.parse import urlsplit

import requests

from .. import __version__
from ..errors import ConfigurationError
from ..redact import redact
from . import ratelimit


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


def host_of(url: str) -> str:
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
