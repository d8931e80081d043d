"""Build the core API client from the plugin's settings, the auth manager and QGIS's network;
run one call with it off the main thread and close it after (``run_with_client``).

Called on the main thread (QgsSettings and the auth manager are read there);
the client is then handed to one background job and used only by it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, TypeVar

from ..core.api.client import OSDownloadsClient
from ..core.errors import ConfigurationError
from ..i18n import tr
from . import settings as plugin_settings
from .auth import load_credentials
from .background import BackgroundRunner
from .log import plugin_logger
from .network import build_session
from .settings import PluginSettings

T = TypeVar("T")
C = TypeVar("C")  # a client: OSDownloadsClient or TrudClient
log = plugin_logger("client")


def build_client(
    values: Optional[PluginSettings] = None,
    *,
    with_credentials: bool = True,
    cancel: Optional[threading.Event] = None,
) -> OSDownloadsClient:
    """An OSDownloadsClient with the QGIS proxy/TLS session and, if stored, the key."""
    values = values or plugin_settings.load()
    auth = None
    if with_credentials and values.authcfg:
        credentials = load_credentials(values.authcfg)
        if credentials is not None:
            auth = credentials.to_auth()
    return OSDownloadsClient(
        base_url=values.api_url or None, auth=auth, session=build_session(), cancel=cancel
    )


def require_credentials(client: OSDownloadsClient) -> OSDownloadsClient:
    """The client, or a ConfigurationError a person can act on when no key is stored."""
    if not client.has_credentials:
        raise ConfigurationError(
            tr("Data packages need an OS Data Hub API key."),
            hint=tr("Add your key in the OS Downloads settings."),
        )
    return client


def call_then_close(client: C, call: Callable[[C], T]) -> Callable[[], T]:
    """A no-argument callable for a background runner: ``call(client)``, then close
    the client's connections (each listing uses a client of its own)."""

    def run() -> T:
        try:
            return call(client)
        finally:
            close_client(client)

    return run


@contextmanager
def closing_client(client: OSDownloadsClient) -> Iterator[OSDownloadsClient]:
    try:
        yield client
    finally:
        close_client(client)


def close_client(client: Any) -> None:
    """Close a client's connections: an OSDownloadsClient, a TrudClient (its session) or
    a session; None is fine. Never raises: closing must not hide the call's own outcome
    (the dock's listings and Processing's algorithms alike)."""
    if client is None:
        return
    close = getattr(client, "close", None) or getattr(
        getattr(client, "session", None), "close", None
    )
    try:
        if callable(close):
            close()
    except Exception:  # noqa: BLE001
        log.debug("Closing a client failed", exc_info=True)


def run_with_client(
    runner: BackgroundRunner,
    build: Callable[[], C],
    call: Callable[[C], T],
    on_result: Callable[[T], None],
    on_error: Callable[[BaseException], None],
) -> None:
    """``call(build())`` on the runner's pool, the client closed after; the outcome
    to ``on_result``/``on_error`` on the main thread.

    ``build`` runs here, on the main thread (settings, auth manager); when it
    fails (no key, a bad API URL) ``on_error`` gets that at once, so a tab has
    one path for every failure. Each call has a client of its own: a client is
    never shared between threads."""
    try:
        client = build()
    except Exception as exc:  # noqa: BLE001 - handed to the caller's error path
        on_error(exc)
        return
    runner.submit(call_then_close(client, call), on_result, on_error)
