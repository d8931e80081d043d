"""``os-downloads sync CONFIG [--dry-run] [--log FILE] [--json]``: the scheduler's command.

Listed in the command table of ``cli/main.py`` (``COMMANDS``).
Never prompts. Prints the run report (text, or JSON with ``--json``) on
stdout; a run-level problem (lock held, bad config) also as one line on
stderr. ``--log FILE`` appends the run's log lines (keys masked) to FILE.

Exit codes (see core/sync/run.py):

    0   updated: something new was downloaded, nothing failed
    10  nothing new: every entry was already current
    1   failed: at least one entry failed (the others still ran)
    11  another run holds the lock (nothing was done)
    2   usage: bad command line or config file
    130 interrupted (Ctrl-C; what was fetched so far is kept in the state)

``--api-url`` overrides the config's ``api_url``; the key is read from the
environment variable the config names (``OS_API_KEY`` by default), or from
``--key``/``--secret`` (visible in the process list: prefer the environment).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigurationError, describe
from ..redact import RedactingFilter, get_logger
from ..sync import run as sync
from .context import ctx_parent
from .output import PACKAGE_LOGGER, print_error

log = get_logger(__name__)


def register(commands: Any) -> None:
    help_text = "download what is new for the products and packages listed in CONFIG"
    sub = commands.add_parser("sync", help=help_text, description=help_text, parents=[ctx_parent()])
    sub.add_argument("config", type=Path, metavar="CONFIG", help="sync config (.toml or .json)")
    sub.add_argument(
        "--dry-run", action="store_true", help="say what would be fetched; download nothing"
    )
    sub.add_argument("--log", type=Path, metavar="FILE", help="append the run's log to FILE")
    sub.add_argument("--json", action="store_true", help="print the report as JSON")
    sub.set_defaults(handler=cmd_sync)


def cmd_sync(ctx: Any) -> int:
    args = ctx.args
    # Log lines go to --log FILE only; failures reach stderr once, as the lines below
    # (without a handler, Python would print every warning on stderr as well).
    handler = _log_to_file(args.log) if args.log else logging.NullHandler()
    _package_logger().addHandler(handler)
    try:
        try:
            config = sync.load_config(args.config)
        except ConfigurationError as problem:
            log.error("sync: %s", describe(problem))
            print_error(ctx.stderr, describe(problem))
            return sync.EXIT_USAGE
        report = sync.run_sync(
            config,
            dry_run=args.dry_run,
            env=ctx.env,
            cancel=ctx.cancel,
            client_factory=_client_factory(args),
        )
        if report.error:
            print_error(ctx.stderr, report.error)
        for entry in report.entries:
            if entry.error:
                print_error(ctx.stderr, f"{entry.label}: {entry.error}")
        if args.json:
            print(json.dumps(report.to_json(), indent=2), file=ctx.stdout)
        elif not ctx.quiet:
            print(report.to_text(), file=ctx.stdout)
        log.info("sync report:\n%s", report.to_text())
        return report.exit_code
    finally:
        _package_logger().removeHandler(handler)
        handler.close()


def _client_factory(args: Any) -> sync.ClientFactory:
    """The config's client, with ``--api-url`` / ``--key`` / ``--secret`` when given."""

    def factory(config: sync.SyncConfig, env: Mapping[str, str]) -> Any:
        env = dict(env)
        if getattr(args, "key", None):
            env[config.key_env] = args.key
        if getattr(args, "secret", None):
            env[config.secret_env] = args.secret
        if getattr(args, "api_url", None):
            from dataclasses import replace

            config = replace(config, api_url=args.api_url)
        return sync.default_client(config, env)

    return factory


def _package_logger() -> logging.Logger:
    return get_logger(PACKAGE_LOGGER)  # "os_downloads", whatever the folder is called


def _log_to_file(path: Path) -> logging.Handler:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = _package_logger()
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler
