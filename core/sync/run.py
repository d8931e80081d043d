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
    (130: interrupted with Ctrl-C, from core/cli/; what was fetched is in the state)

A dry run (``--dry-run``) asks the API but downloads and writes nothing; it
exits 0 when something would be fetched, 10 when nothing would.

The tables a config may hold are the sync kinds of the sources listed in
``core/sources/registry.py`` (``Source.sync``: ``parse`` / ``check`` /
``apply``, typed in ``core/sources/base.py``); a new source adds its table by
being listed there. This package: ``plan.py`` (the shared types), ``config.py``
(load and validate), ``state.py``, ``report.py`` and this module (the run).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Mapping, Optional

from ..engine.lock import FileLock
from ..errors import Cancelled, ConfigurationError, LockHeldError, OSDownloadsError, describe
from ..redact import get_logger
from ..sources.registry import sync_kinds
from .config import load_config
from .plan import ClientFactory, Entry, SyncConfig, SyncContext, auth_from_env, default_client, now
from .report import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_NOTHING_NEW,
    EXIT_UPDATED,
    EXIT_USAGE,
    FAILED,
    NOT_RUN,
    REPORT_JSON,
    REPORT_TEXT,
    UP_TO_DATE,
    UPDATED,
    WOULD_UPDATE,
    EntryReport,
    SyncReport,
    write_report,
)
from .state import STATE_FILE, SyncState

log = get_logger(__name__)

LOCK_FILE = "os_downloads_sync.lock"

# The sync's front door: callers (command line, Processing, tests) need only this module.
__all__ = [
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_NOTHING_NEW",
    "EXIT_UPDATED",
    "EXIT_USAGE",
    "FAILED",
    "LOCK_FILE",
    "NOT_RUN",
    "REPORT_JSON",
    "REPORT_TEXT",
    "STATE_FILE",
    "UPDATED",
    "UP_TO_DATE",
    "WOULD_UPDATE",
    "ClientFactory",
    "EntryReport",
    "SyncConfig",
    "SyncReport",
    "auth_from_env",
    "default_client",
    "load_config",
    "run_sync",
]


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
        config=str(config.path), dest_root=str(config.dest_root), dry_run=dry_run, started=now()
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
    report.finished = now()
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
    kind = sync_kinds()[entry.kind]
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
            folder = kind.apply(entry, step, entry_state, ctx)
            state.save()
            out.fetched.append(
                {"version": step.version, "description": step.description, "folder": folder}
            )
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
