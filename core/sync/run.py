"""Keep a set of products and data packages current, fetching only what is new.

``os-downloads sync CONFIG`` (and ``os_downloads:sync`` in Processing) read a
small config file, ask the API what each entry's newest version is, download
only what was not fetched by an earlier run, and write a run report. Built for
cron and Windows Task Scheduler: a lock so runs never overlap, exit codes that
say what happened, no prompts.

Config file (TOML, or JSON with the same structure; chosen by extension)::

    dest_root = "/data/os"        # relative paths are relative to the config file
    # api_url = "https://api.os.uk/downloads/v1"   # default: env OS_DOWNLOADS_API_URL, then OS
    # key_env = "OS_API_KEY"      # env var holding the project API key (packages only)
    # secret_env = "OS_API_SECRET"  # env var holding its secret: OAuth2 when set
    # extract = true              # default for every entry
    # workers = 4

    [[products]]                  # OpenData: refetched when the product's version changes
    id = "OpenRoads"
    format = "GeoPackage"
    # area = "GB"                 # default GB
    # subformat = "(MBTiles)"
    # extract = false             # per-entry override

    [[packages]]                  # premium data packages: every new version id
    id = "0040154231"
    # holding = "topo.gpkg"       # also keep one GeoPackage current (MasterMap, ABP):
    #                             # each COU applied in order (core/holdings); relative
    #                             # to dest_root; the report counts what each changed

A key or secret in the file itself is refused: keys live in the environment.

State: ``dest_root/os_downloads_sync_state.json`` records, per entry, the
product version last fetched, or the package version ids fetched. Packages
are fetched oldest to newest; the newest full supply (FULL) is the base, and
change-only updates (COU) after it are applied in order; versions before the
newest full supply are superseded and skipped. Each version lands in its own
folder (the engine's layout under ``dest_root``).

Report: ``dest_root/os_downloads_sync_report.json`` and ``.txt`` (last run),
also printed by the command line. Exit codes (``SyncReport.exit_code``):

    0  EXIT_UPDATED      something new was downloaded, nothing failed
    10 EXIT_NOTHING_NEW  every entry was already current
    1  EXIT_FAILED       at least one entry failed (the others still ran)
    11 EXIT_LOCKED       another run holds the lock; nothing was done
    2  EXIT_USAGE        bad command line or config file
    (130: interrupted with Ctrl-C, from core/cli.py; what was fetched is in the state)

A dry run (``--dry-run``) asks the API but downloads and writes nothing; it
exits 0 when something would be fetched, 10 when nothing would.

Adding a source kind (e.g. NHS TRUD): write a class with ``name`` (the config
table, e.g. ``"trud"`` for ``[[trud]]``), ``options`` (top-level config keys
it accepts, e.g. ``("trud_key_env",)``) and three methods::

    parse(raw: Mapping, where: str) -> Entry          # validate one [[name]] table
    check(entry, state: dict, ctx: SyncContext) -> Plan   # ask what is new; no downloads
    apply(entry, step: Step, state: dict, ctx: SyncContext) -> str  # fetch one step;
        # update ``state`` (the entry's JSON-able dict) and return the folder written
        # (or a dict with "folder" and more for the report, e.g. a holding's changes)

and register it with ``register_source_kind(Kind())`` when its module is
imported. ``KIND_MODULES`` maps a kind to the module that registers it, so
the module is imported only when a config names that kind ("trud" ->
``core/trud_sync.py``). ``check`` raising ends that entry as failed; so does
``apply``, after which later steps of the entry are not tried (a COU needs
the versions before it). ``ctx.env`` is the environment, ``ctx.cancel`` the
cancel event, ``ctx.job_progress`` the engine's progress callback.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..api.auth import make_auth
from ..api.client import OSDownloadsClient
from ..api.models import DataPackageVersionSummary, sort_versions_newest_first
from ..engine.lock import FileLock
from ..engine.pipeline import fetch_package_version, fetch_product
from ..errors import Cancelled, ConfigurationError, LockHeldError, OSDownloadsError, describe
from ..redact import get_logger
from ..safe_text import safe_line

log = get_logger(__name__)

EXIT_UPDATED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOTHING_NEW = 10
EXIT_LOCKED = 11

STATE_FILE = "os_downloads_sync_state.json"
LOCK_FILE = "os_downloads_sync.lock"
REPORT_JSON = "os_downloads_sync_report.json"
REPORT_TEXT = "os_downloads_sync_report.txt"
STATE_FORMAT = 1

GENERAL_KEYS = ("dest_root", "api_url", "key_env", "secret_env", "extract", "workers")
SECRET_KEYS = frozenset(
    {"key", "api_key", "apikey", "secret", "api_secret", "password", "token", "access_token"}
)
KIND_MODULES: Dict[str, str] = {"trud": ".trud_sync"}

ClientFactory = Callable[["SyncConfig", Mapping[str, str]], OSDownloadsClient]


# --- config ------------------------------------------------------------------


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


def load_config(path: Path) -> SyncConfig:
    """Read and validate a TOML or JSON sync config. ``ConfigurationError`` if bad."""
    path = Path(path)
    raw = _read_config_file(path)
    _refuse_secrets(raw, "")
    for name in raw:
        if name not in GENERAL_KEYS and name not in SOURCE_KINDS:
            _load_kind(name)  # a plugged kind, or a clear error for a typo
    allowed = set(GENERAL_KEYS) | set(SOURCE_KINDS)
    for kind in SOURCE_KINDS.values():
        allowed.update(kind.options)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown setting(s) {', '.join(unknown)}.",
            hint=f"Known: {', '.join(sorted(allowed))}.",
        )
    if not raw.get("dest_root"):
        raise ConfigurationError(f"{path}: dest_root is missing (the folder to download into).")
    dest_root = Path(os.path.expandvars(str(raw["dest_root"]))).expanduser()
    if not dest_root.is_absolute():
        dest_root = path.resolve().parent / dest_root
    entries: List[Entry] = []
    seen: Dict[str, str] = {}
    for name, kind in SOURCE_KINDS.items():
        tables = raw.get(name, [])
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list):
            raise ConfigurationError(f"{path}: {name} must be a list of tables ([[{name}]]).")
        for index, table in enumerate(tables, 1):
            where = f"{path}: [[{name}]] #{index}"
            if not isinstance(table, dict):
                raise ConfigurationError(f"{where} is not a table.")
            entry = kind.parse(table, where)
            if entry.key in seen:
                raise ConfigurationError(f"{where} repeats {seen[entry.key]}.")
            seen[entry.key] = where
            entries.append(entry)
    if not entries:
        raise ConfigurationError(
            f"{path}: nothing to keep current.", hint="Add [[products]] or [[packages]] tables."
        )
    options = {k: v for k, v in raw.items() if k not in GENERAL_KEYS and k not in SOURCE_KINDS}
    return SyncConfig(
        path=path.resolve(),
        dest_root=dest_root,
        entries=tuple(entries),
        api_url=_opt_str(raw.get("api_url"), "api_url", path),
        key_env=_opt_str(raw.get("key_env"), "key_env", path) or "OS_API_KEY",
        secret_env=_opt_str(raw.get("secret_env"), "secret_env", path) or "OS_API_SECRET",
        extract=_opt_bool(raw.get("extract"), "extract", path, default=True),
        workers=_workers(raw.get("workers", 4), path),
        options=options,
    )


def _read_config_file(path: Path) -> Dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigurationError(f"Cannot read the sync config {path}: {err.strerror}.") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(data.decode("utf-8-sig"))
        elif suffix == ".toml":
            raw = _toml_loads(data.decode("utf-8-sig"))
        else:
            raise ConfigurationError(f"{path}: a sync config must end in .toml or .json.")
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path} is not valid {suffix[1:].upper()}: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: the top level must be a table/object.")
    return raw


def _toml_loads(text: str) -> Dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.9/3.10 (QGIS 3.22 on Windows)
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ConfigurationError(
                "Reading TOML needs Python 3.11 or later.",
                hint="Write the same settings as a .json file instead.",
            ) from None
    return tomllib.loads(text)


def _refuse_secrets(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            if str(name).lower() in SECRET_KEYS:
                raise ConfigurationError(
                    f"The sync config must not hold a key or secret ('{name}'{where}).",
                    hint="Put it in the environment (OS_API_KEY / OS_API_SECRET), or name the "
                    'variables with key_env = "NAME" and secret_env = "NAME".',
                )
            _refuse_secrets(inner, where or f" in {name}")
    elif isinstance(value, list):
        for inner in value:
            _refuse_secrets(inner, where)


def _opt_str(value: Any, name: str, path: Path) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{path}: {name} must be a string.")
    return value.strip()


def _opt_bool(value: Any, name: str, where: Any, *, default: Optional[bool]) -> Optional[bool]:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}: {name} must be true or false.")
    return value


def _workers(value: Any, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise ConfigurationError(f"{path}: workers must be a whole number from 1 to 16.")
    return value


def _required_str(table: Mapping[str, Any], name: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: {name} is missing.")
    return value.strip()


def _no_extra(table: Mapping[str, Any], allowed: Tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise ConfigurationError(
            f"{where}: unknown setting(s) {', '.join(extra)}.", hint=f"Known: {', '.join(allowed)}."
        )


# --- plans and the source kinds ------------------------------------------------


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


class OpenDataProducts:
    """``[[products]]``: an OpenData product in one format and area."""

    name = "products"
    options: Tuple[str, ...] = ()
    fields = ("id", "format", "area", "subformat", "extract")

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry:
        _no_extra(raw, self.fields, where)
        product_id = _required_str(raw, "id", where)
        fmt = _required_str(raw, "format", where)
        area = str(raw.get("area") or "GB").strip()
        subformat = str(raw["subformat"]).strip() if raw.get("subformat") else None
        label = f"{product_id} {fmt}{' ' + subformat if subformat else ''} ({area})"
        return Entry(
            kind=self.name,
            key=f"products/{product_id}/{fmt}/{subformat or '-'}/{area}",
            label=label,
            spec={"id": product_id, "format": fmt, "area": area, "subformat": subformat},
            extract=_opt_bool(raw.get("extract"), "extract", where, default=None),
        )

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan:
        product = ctx.os_client().product(entry.spec["id"])
        plan = Plan(entry)
        had = _state_str(state, "version", entry)
        folder = _state_str(state, "folder", entry)
        if had == product.version and folder and Path(folder).is_dir():
            plan.notes.append(f"version {product.version} already fetched")
        elif had == product.version:
            plan.steps.append(
                Step(product.version, f"version {product.version} again (its folder is gone)")
            )
        elif had:
            plan.steps.append(Step(product.version, f"version {product.version} (had {had})"))
        else:
            plan.steps.append(Step(product.version, f"version {product.version}"))
        return plan

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> str:
        spec = entry.spec
        result = fetch_product(
            ctx.os_client(),
            spec["id"],
            spec["format"],
            area=spec["area"],
            subformat=spec["subformat"],
            dest_root=ctx.dest_root,
            extract=ctx.config.extract_for(entry),
            workers=ctx.config.workers,
            progress=ctx.job_progress,
            cancel=ctx.cancel,
        )
        folder = str(result.folder)
        state.update(version=result.version or step.version, folder=folder, fetched_at=_now())
        return folder


class DataPackages:
    """``[[packages]]``: every new version of a premium data package, in order."""

    name = "packages"
    options: Tuple[str, ...] = ()
    fields = ("id", "extract", "holding")

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry:
        _no_extra(raw, self.fields, where)
        package_id = _required_str(raw, "id", where)
        holding = _required_str(raw, "holding", where) if "holding" in raw else None
        if holding and not holding.lower().endswith(".gpkg"):
            raise ConfigurationError(f"{where}: holding must be a .gpkg file name.")
        return Entry(
            kind=self.name,
            key=f"packages/{package_id}",
            label=f"package {package_id}" + (f" -> {holding}" if holding else ""),
            spec={"id": package_id, "holding": holding},
            extract=_opt_bool(raw.get("extract"), "extract", where, default=None),
        )

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan:
        if entry.spec.get("holding"):
            from ..holdings.sync import check_holding

            return check_holding(entry, Plan(entry), Step, ctx)
        versions = ctx.os_client().data_package_versions(entry.spec["id"])
        fetched = state.get("fetched", {})
        if not isinstance(fetched, dict):
            _state_warning(entry, "fetched", fetched)
            fetched = state["fetched"] = {}
        plan = Plan(entry)
        wanted, superseded = versions_to_fetch(versions, set(fetched))
        for version in wanted:
            plan.steps.append(Step(version.id, _describe_version(version)))
        if superseded:
            plan.notes.append(
                f"{len(superseded)} older version(s) superseded by a later full supply, not fetched"
            )
        if not wanted:
            newest = versions[0].id if versions else "none"
            plan.notes.append(f"newest version {newest} already fetched")
        return plan

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> Any:
        if entry.spec.get("holding"):
            from ..holdings.sync import apply_holding

            return apply_holding(entry, step, state, ctx)  # {folder, holding, changes}
        result = fetch_package_version(
            ctx.os_client(),
            entry.spec["id"],
            step.version,
            dest_root=ctx.dest_root,
            extract=ctx.config.extract_for(entry),
            workers=ctx.config.workers,
            progress=ctx.job_progress,
            cancel=ctx.cancel,
        )
        folder = str(result.folder)
        state.setdefault("fetched", {})[step.version] = {
            "description": step.description,
            "folder": folder,
            "fetched_at": _now(),
        }
        return folder


def versions_to_fetch(
    versions: List[DataPackageVersionSummary], fetched: set
) -> Tuple[List[DataPackageVersionSummary], List[DataPackageVersionSummary]]:
    """(to fetch oldest first, superseded and skipped) for a package's versions.

    The newest full supply is the base: fetched first if it never was, then
    every change-only update after it in order. Unfetched versions before the
    base are superseded by it. With no full supply at all, every unfetched
    version is fetched in order.
    """
    ordered = list(reversed(sort_versions_newest_first(list(versions))))
    fulls = [i for i, v in enumerate(ordered) if not v.is_change_only]
    base = fulls[-1] if fulls else 0
    wanted = [v for v in ordered[base:] if v.id not in fetched]
    superseded = [v for v in ordered[:base] if v.id not in fetched]
    return wanted, superseded


def _describe_version(version: DataPackageVersionSummary) -> str:
    bits = [b for b in (version.supply_type, version.reason, version.created_on) if b]
    text = f"version {version.id}"
    if bits:
        text += f" ({', '.join(bits)})"
    if version.product_version:
        text += f" {version.product_version}"
    return text


SOURCE_KINDS: Dict[str, Any] = {}


def register_source_kind(kind: Any) -> None:
    """Make ``[[kind.name]]`` tables in a sync config mean entries of ``kind``."""
    SOURCE_KINDS[kind.name] = kind


def _load_kind(name: str) -> None:
    module = KIND_MODULES.get(name)
    if module is None:
        return  # an unknown key: load_config reports it with the known ones
    try:
        importlib.import_module(module, __package__)
    except ImportError:
        raise ConfigurationError(
            f"[[{name}]] entries are not supported by this version of OS Downloads."
        ) from None


register_source_kind(OpenDataProducts())
register_source_kind(DataPackages())


# --- state ---------------------------------------------------------------------


class SyncState:
    """What earlier runs fetched, per entry key; saved after every step."""

    def __init__(self, path: Path, entries: Optional[Dict[str, Dict[str, Any]]] = None) -> None:
        self.path = path
        self.entries: Dict[str, Dict[str, Any]] = entries or {}

    @classmethod
    def load(cls, dest_root: Path) -> SyncState:
        path = dest_root / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"The sync state file {path} cannot be read ({err}).",
                hint="Move it away to start afresh (everything will be checked again; "
                "files already on disk with the right MD5 are not downloaded again).",
            ) from None
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            log.warning(
                "The sync state file %s is not in the expected form; starting afresh "
                "(files already on disk with the right checksum are not downloaded again).",
                path,
            )
            return cls(path)
        kept = {str(k): v for k, v in entries.items() if isinstance(v, dict)}
        for key in sorted(set(entries) - set(kept)):
            log.warning(
                "The sync state for %s is not in the expected form; checking it afresh.", key
            )
        return cls(path, kept)

    def entry(self, key: str) -> Dict[str, Any]:
        return self.entries.setdefault(key, {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(
            self.path, json.dumps({"format": STATE_FORMAT, "entries": self.entries}, indent=2)
        )


def _state_str(state: Dict[str, Any], name: str, entry: Entry) -> Optional[str]:
    """A text field of an entry's state; a value of another type is dropped with a warning."""
    value = state.get(name)
    if value is None or isinstance(value, str):
        return value
    _state_warning(entry, name, value)
    state.pop(name, None)
    return None


def _state_warning(entry: Entry, name: str, value: Any) -> None:
    log.warning(
        "The sync state of %s has %s of the wrong type (%s); checking it afresh.",
        entry.label,
        name,
        type(value).__name__,
    )


def _write_atomically(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(text + "\n", encoding="utf-8")
    os.replace(part, path)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# --- the run -------------------------------------------------------------------

UPDATED, UP_TO_DATE, WOULD_UPDATE, FAILED, NOT_RUN = (
    "updated",
    "up to date",
    "would update",
    "failed",
    "not run",
)


@dataclass
class EntryReport:
    key: str
    kind: str
    label: str
    status: str = NOT_RUN
    fetched: List[Dict[str, Any]] = field(default_factory=list)  # version, description, folder
    # (+ holding, changes: {table: {inserted, updated, deleted}} for a holding)
    pending: List[str] = field(default_factory=list)  # steps planned but not done
    notes: List[str] = field(default_factory=list)
    error: str = ""


@dataclass
class SyncReport:
    config: str
    dest_root: str
    dry_run: bool
    started: str
    finished: str = ""
    entries: List[EntryReport] = field(default_factory=list)
    error: str = ""  # a run-level failure (lock held, bad config)
    locked: bool = False

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(e.status in (FAILED, NOT_RUN) for e in self.entries)

    @property
    def exit_code(self) -> int:
        if self.locked:
            return EXIT_LOCKED
        if self.failed:
            return EXIT_FAILED
        if self.count(UPDATED) or self.count(WOULD_UPDATE):
            return EXIT_UPDATED
        return EXIT_NOTHING_NEW

    @property
    def outcome(self) -> str:
        return {
            EXIT_LOCKED: "locked",
            EXIT_FAILED: "failed",
            EXIT_UPDATED: "would update" if self.dry_run else "updated",
            EXIT_NOTHING_NEW: "nothing new",
        }[self.exit_code]

    def to_json(self) -> Dict[str, Any]:
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "config": self.config,
            "dest_root": self.dest_root,
            "dry_run": self.dry_run,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "counts": {
                s.replace(" ", "_"): self.count(s)
                for s in (UPDATED, UP_TO_DATE, WOULD_UPDATE, FAILED, NOT_RUN)
            },
            "entries": [vars(e) for e in self.entries],
        }

    def to_text(self) -> str:
        """The report for people; every piece one safe line (server text may be in it)."""
        mode = " (dry run: nothing downloaded)" if self.dry_run else ""
        lines = [f"OS Downloads sync {self.started}{mode}", f"config: {safe_line(self.config)}"]
        lines.append(f"into:   {safe_line(self.dest_root)}")
        if self.error:
            lines.append(f"ERROR: {safe_line(self.error)}")
        for e in self.entries:
            lines.append(f"{e.status.upper():<13}{safe_line(e.label)}")
            for item in e.fetched:
                lines.append(
                    f"    fetched {safe_line(item['description'])} -> {safe_line(item['folder'])}"
                )
                for table, n in (item.get("changes") or {}).items():
                    lines.append(
                        f"      {table}: {n['inserted']} inserted, {n['updated']} updated, "
                        f"{n['deleted']} deleted"
                    )
            for step in e.pending:
                doing = "would fetch" if self.dry_run else "not fetched"
                lines.append(f"    {doing} {safe_line(step)}")
            for note in e.notes:
                lines.append(f"    {safe_line(note)}")
            if e.error:
                lines.append(f"    error: {safe_line(e.error)}")
        counts = ", ".join(
            f"{self.count(s)} {s}"
            for s in (UPDATED, WOULD_UPDATE, UP_TO_DATE, FAILED, NOT_RUN)
            if self.count(s)
        )
        lines.append(
            f"Outcome: {self.outcome} ({counts or 'no entries'}); exit code {self.exit_code}."
        )
        return "\n".join(lines)


def run_sync(
    config: SyncConfig,
    *,
    dry_run: bool = False,
    env: Optional[Mapping[str, str]] = None,
    cancel: Optional[threading.Event] = None,
    job_progress: Optional[Callable[..., None]] = None,
    client_factory: Optional[ClientFactory] = None,
    on_entry: Optional[Callable[[EntryReport], None]] = None,
) -> SyncReport:
    """Check every entry and (unless ``dry_run``) fetch what is new. Never raises
    for an entry's failure: it is in the report. A held lock gives a report with
    ``locked`` set. A dry run takes no lock and writes nothing."""
    ctx = SyncContext(
        config=config,
        env=os.environ if env is None else env,
        cancel=cancel or threading.Event(),
        job_progress=job_progress,
        client_factory=client_factory,
    )
    report = SyncReport(
        config=str(config.path), dest_root=str(config.dest_root), dry_run=dry_run, started=_now()
    )
    lock = FileLock(config.dest_root / LOCK_FILE, purpose="Another sync into this folder")
    try:
        _check_dest_root(config.dest_root)
        if not dry_run:
            lock.acquire()
        state = SyncState.load(config.dest_root)
        _run_entries(ctx, state, report, dry_run, on_entry)
    except OSDownloadsError as err:
        report.error = describe(err)
        report.locked = isinstance(err, LockHeldError)
        log.error("sync: %s", report.error)
    except OSError as err:  # dest_root not writable, disk full while saving the state
        report.error = f"{err.strerror or err}: {err.filename or config.dest_root}"
        log.error("sync: %s", report.error)
    finally:
        lock.release()
        ctx.close()
    report.finished = _now()
    if not dry_run and not report.locked and not config.dest_root.is_file():
        try:
            write_report(report, config.dest_root)
        except OSError as err:  # the report is a convenience; the run's outcome stands
            log.warning("Could not write the sync report in %s: %s", config.dest_root, err)
    log.info("sync: %s (exit code %d)", report.outcome, report.exit_code)
    return report


def _check_dest_root(dest_root: Path) -> None:
    """A clear error when ``dest_root`` exists but is not a folder."""
    if dest_root.exists() and not dest_root.is_dir():
        raise ConfigurationError(
            f"dest_root {dest_root} is a file, not a folder.",
            hint="Point dest_root in the sync config at a folder (it is made if missing).",
        )


def _run_entries(
    ctx: SyncContext,
    state: SyncState,
    report: SyncReport,
    dry_run: bool,
    on_entry: Optional[Callable[[EntryReport], None]],
) -> None:
    entries = [EntryReport(e.key, e.kind, e.label) for e in ctx.config.entries]
    report.entries = entries
    for entry, entry_report in zip(ctx.config.entries, entries):
        if ctx.cancel.is_set():
            entry_report.error = "Cancelled before this entry."
            continue
        _run_entry(ctx, entry, state, entry_report, dry_run)
        if on_entry is not None:
            on_entry(entry_report)


def _run_entry(
    ctx: SyncContext, entry: Entry, state: SyncState, out: EntryReport, dry_run: bool
) -> None:
    kind = SOURCE_KINDS[entry.kind]
    entry_state = state.entry(entry.key)
    try:
        plan = kind.check(entry, entry_state, ctx)
        out.notes.extend(plan.notes)
        out.pending = [s.description for s in plan.steps]
        if plan.up_to_date:
            out.status = UP_TO_DATE
            log.info("sync: %s is up to date (%s)", entry.label, "; ".join(plan.notes))
            return
        if dry_run:
            out.status = WOULD_UPDATE
            return
        for step in plan.steps:
            log.info("sync: %s: fetching %s", entry.label, step.description)
            done = kind.apply(entry, step, entry_state, ctx)  # the folder, or a dict with it
            state.save()
            item = {"version": step.version, "description": step.description}
            item.update(done if isinstance(done, Mapping) else {"folder": done})
            out.fetched.append(item)
            out.pending.remove(step.description)
        out.status = UPDATED
    except Cancelled as err:
        out.status = FAILED
        out.error = describe(err)
        log.warning("sync: %s cancelled", entry.label)
    except OSDownloadsError as err:
        out.status = FAILED
        out.error = describe(err)
        log.error("sync: %s failed: %s", entry.label, out.error)
    except Exception as err:  # one broken entry must not stop the others
        out.status = FAILED
        out.error = describe(err)
        log.exception("sync: %s failed unexpectedly", entry.label)


def write_report(report: SyncReport, dest_root: Path) -> Tuple[Path, Path]:
    """The last run's report beside the state: JSON for tools, text for people."""
    dest_root.mkdir(parents=True, exist_ok=True)
    json_path, text_path = dest_root / REPORT_JSON, dest_root / REPORT_TEXT
    _write_atomically(json_path, json.dumps(report.to_json(), indent=2))
    _write_atomically(text_path, report.to_text())
    return json_path, text_path
