"""``[[trud]]`` entries in a sync config: keep NHS TRUD items at their newest release.

The TRUD source's sync kind (``Trud.sync`` in ``source.py``)::

    # trud_key_env = "TRUD_API_KEY"    # env var holding the TRUD key (default)
    # trud_api_url = "https://isd.digital.nhs.uk/trud/api/v1"   # default: env TRUD_API_URL
    # trud_outside_window = "exit"     # or "wait" (until the window opens) or "ignore"
    # trud_verify_signature = true     # check the PGP-signed checksum file when gpgv exists

    [[trud]]
    item = 341                         # the item number (or its TRUD releases address)
    # extract = false                  # per-entry override

TRUD releases are complete sets, so only the newest matters: a run fetches it
when its id differs from the one fetched last (or its folder is gone). TRUD
asks automated downloads to run on weekdays 00:00-06:00 or 09:00-18:00 UK
time; outside those windows the TRUD entries fail with a message saying when
the next window opens ("exit", the default, right for schedulers), or the run
waits for it ("wait", interruptible by cancel), or goes ahead ("ignore").
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ...errors import ConfigurationError, OSDownloadsError
from ...net.retry import wait
from ...redact import get_logger, register_secret
from ...sync.plan import Entry, Plan, Step, SyncContext, no_extra, now, opt_bool, state_str
from .client import KEY_ENV, TrudClient, TrudRelease, parse_item
from .fetch import fetch_trud_release
from .window import WINDOWS_TEXT, describe_wait, in_window, seconds_until_window, uk_now

log = get_logger(__name__)

WINDOW_MODES = ("exit", "wait", "ignore")


class OutsideTrudWindow(OSDownloadsError):
    """The run is outside TRUD's windows for automated downloads and may not wait."""


def _option(ctx: SyncContext, name: str, default: Any) -> Any:
    value = ctx.config.options.get(name, default)
    return default if value is None or value == "" else value


class TrudItems:
    """The ``[[trud]]`` source kind. ``clock`` and ``sleep`` are replaceable in tests."""

    name = "trud"
    options: Tuple[str, ...] = (
        "trud_key_env",
        "trud_api_url",
        "trud_outside_window",
        "trud_verify_signature",
    )
    fields = ("item", "extract")

    def __init__(
        self,
        clock: Callable[[], datetime] = uk_now,
        sleep: Callable[[float, Optional[threading.Event]], None] = wait,
    ) -> None:
        self.clock = clock
        self.sleep = sleep

    # --- config -----------------------------------------------------------------------

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry:
        no_extra(raw, self.fields, where)
        if raw.get("item") in (None, ""):
            raise ConfigurationError(f"{where}: item is missing (the TRUD item number).")
        try:
            item = parse_item(raw["item"])
        except ConfigurationError as err:
            raise ConfigurationError(f"{where}: {err.message}", hint=err.hint) from None
        return Entry(
            kind=self.name,
            key=f"trud/{item}",
            label=f"NHS TRUD item {item}",
            spec={"item": item},
            extract=opt_bool(raw.get("extract"), "extract", where, default=None),
        )

    # --- the run --------------------------------------------------------------------------

    def _client(self, ctx: SyncContext) -> TrudClient:
        """The run's TRUD client: made once per run, closed by the run when it ends."""

        def make() -> TrudClient:
            env_name = str(_option(ctx, "trud_key_env", KEY_ENV))
            key = (ctx.env.get(env_name) or "").strip()
            if not key:
                raise ConfigurationError(
                    f"No TRUD API key: the environment variable {env_name} is not set.",
                    hint="Set it to the key shown on your TRUD account page.",
                )
            register_secret(key)
            return TrudClient(key, _option(ctx, "trud_api_url", None), cancel=ctx.cancel)

        return ctx.client("trud", make)

    def _respect_window(self, ctx: SyncContext) -> None:
        mode = str(_option(ctx, "trud_outside_window", "exit")).lower()
        if mode not in WINDOW_MODES:
            raise ConfigurationError(
                f"trud_outside_window must be one of {', '.join(WINDOW_MODES)} (not {mode!r})."
            )
        now = self.clock()
        if mode == "ignore" or in_window(now):
            return
        if mode == "exit":
            raise OutsideTrudWindow(
                f"Not run: TRUD asks automated downloads to run on {WINDOWS_TEXT}; "
                f"{describe_wait(now)}.",
                hint='Schedule the run inside a window, or set trud_outside_window = "wait".',
            )
        seconds = seconds_until_window(now)
        log.info("sync: outside TRUD's windows (%s); waiting", describe_wait(now))
        self.sleep(seconds, ctx.cancel)

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan:
        self._respect_window(ctx)
        item = int(entry.spec["item"])
        release = self._client(ctx).release(item)
        plan = Plan(entry)
        had = state_str(state, "release_id", entry)
        folder = state_str(state, "folder", entry)
        described = _describe(release)
        if had == release.id and folder and Path(folder).is_dir():
            plan.notes.append(f"{described} already fetched")
        elif had == release.id:
            plan.steps.append(Step(release.id, f"{described} again (its folder is gone)"))
        elif had:
            plan.steps.append(
                Step(release.id, f"{described} (had {state.get('release_name') or had})")
            )
        else:
            plan.steps.append(Step(release.id, described))
        return plan

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> str:
        result = fetch_trud_release(
            self._client(ctx),
            int(entry.spec["item"]),
            step.version,
            dest_root=ctx.dest_root,
            extract=ctx.config.extract_for(entry),
            verify_signature=bool(_option(ctx, "trud_verify_signature", True)),
            workers=min(ctx.config.workers, 4),
            progress=ctx.job_progress,
            cancel=ctx.cancel,
        )
        state.update(
            release_id=result.release.id,
            release_name=result.release.name,
            release_date=result.release.release_date,
            folder=str(result.folder),
            signature=result.signature.message if result.signature else "",
            fetched_at=now(),
        )
        return str(result.folder)


def _describe(release: TrudRelease) -> str:
    return f"{release.name} ({release.release_date}, {release.archive.file_name})"


KIND = TrudItems()  # the one instance, used by the TRUD source (``source.py``)
