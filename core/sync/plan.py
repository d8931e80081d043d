"""The shared types of sync: what a config entry is, what a run plans, what a kind may use.

Both the run (``core/sync/run.py``) and every source's sync kind
(``core/sources/*``, through ``Source.sync``) import this module; it imports
neither, so there is no circle between sync and the sources.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..api.auth import make_auth
from ..api.client import OSDownloadsClient
from ..errors import ConfigurationError
from ..redact import get_logger

log = get_logger(__name__)

ClientFactory = Callable[["SyncConfig", Mapping[str, str]], OSDownloadsClient]


@dataclass(frozen=True)
class Entry:
    """One thing to keep current. ``key`` names it in the state file."""

    kind: str
    key: str
    label: str
    spec: Mapping[str, Any]
    extract: Optional[bool] = None  # None: the config's default


@dataclass(frozen=True)
class SyncConfig:
    path: Path
    dest_root: Path
    entries: Tuple[Entry, ...]
    api_url: Optional[str] = None
    key_env: str = "OS_API_KEY"
    secret_env: str = "OS_API_SECRET"
    extract: bool = True
    workers: int = 4
    options: Mapping[str, Any] = field(default_factory=dict)

    def extract_for(self, entry: Entry) -> bool:
        return self.extract if entry.extract is None else entry.extract


@dataclass(frozen=True)
class Step:
    """One download an entry needs: a version, said in words for the report."""

    version: str
    description: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    entry: Entry
    steps: List[Step] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # why nothing, what was skipped

    @property
    def up_to_date(self) -> bool:
        return not self.steps


@dataclass
class SyncContext:
    """What a source kind may use while checking and fetching."""

    config: SyncConfig
    env: Mapping[str, str]
    cancel: threading.Event
    job_progress: Optional[Callable[..., None]] = None
    client_factory: Optional[ClientFactory] = None
    _clients: Dict[str, Any] = field(default_factory=dict)

    @property
    def dest_root(self) -> Path:
        return self.config.dest_root

    def os_client(self) -> OSDownloadsClient:
        """One OS Downloads client for the whole run (its token is reused)."""
        factory = self.client_factory or default_client
        return self.client("os", lambda: factory(self.config, self.env))

    def client(self, name: str, make: Callable[[], Any]) -> Any:
        """One client per ``name`` for the whole run, made on first use; the run
        owns it and closes it when it ends (``close``)."""
        if name not in self._clients:
            self._clients[name] = make()
        return self._clients[name]

    def close(self) -> None:
        """Close every client this run made (their sessions' connections)."""
        clients, self._clients = list(self._clients.values()), {}
        for made in clients:
            close = getattr(made, "close", None) or getattr(
                getattr(made, "session", None), "close", None
            )
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing must not hide the run's outcome
                    log.debug("Closing a client failed", exc_info=True)


def default_client(config: SyncConfig, env: Mapping[str, str]) -> OSDownloadsClient:
    """A client from the config's API URL and the key/secret in the environment."""
    return OSDownloadsClient(base_url=config.api_url, auth=auth_from_env(config, env))


def auth_from_env(config: SyncConfig, env: Mapping[str, str]) -> Any:
    """OAuth2 with key and secret, the key header with a key alone, else None."""
    key = (env.get(config.key_env) or "").strip()
    secret = (env.get(config.secret_env) or "").strip()
    return make_auth(key, secret)


# --- helpers for the kinds' parse/check/apply ------------------------------------


def required_str(table: Mapping[str, Any], name: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: {name} is missing.")
    return value.strip()


def no_extra(table: Mapping[str, Any], allowed: Tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise ConfigurationError(
            f"{where}: unknown setting(s) {', '.join(extra)}.", hint=f"Known: {', '.join(allowed)}."
        )


def opt_bool(value: Any, name: str, where: Any, *, default: Optional[bool]) -> Optional[bool]:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}: {name} must be true or false.")
    return value


def state_str(state: Dict[str, Any], name: str, entry: Entry) -> Optional[str]:
    """A text field of an entry's state; a value of another type is dropped with a warning."""
    value = state.get(name)
    if value is None or isinstance(value, str):
        return value
    state_warning(entry, name, value)
    state.pop(name, None)
    return None


def state_warning(entry: Entry, name: str, value: Any) -> None:
    log.warning(
        "The sync state of %s has %s of the wrong type (%s); checking it afresh.",
        entry.label,
        name,
        type(value).__name__,
    )


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
