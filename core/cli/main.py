"""The command line: ``python -m os_downloads`` (``os-downloads`` in the project's venv).

Commands::

    products [--json]                      the OpenData products
    product ID [--json]                    one product's details
    files ID [--format F] [--area A] [--subformat S] [--json]
    download ID --format F [--area A] [--subformat S] --dest DIR [--extract] [--json]
    packages [--json]                      your data packages (needs a key)
    versions PKG [--json]                  a package's versions, newest first
    download-package PKG [--version ID|latest] --dest DIR [--extract] [--json]

Options (before or after the command): ``--api-url URL`` (default: env
``OS_DOWNLOADS_API_URL``, else the OS API), ``--key`` (env ``OS_API_KEY``),
``--secret`` (env ``OS_API_SECRET``; with it the key is used for OAuth2),
``--workers N``, ``--quiet``, ``--debug`` (tracebacks and HTTP logging on
stderr, keys masked). Prefer the environment for keys: a ``--key`` on the
command line is visible to other users in the process list.

Exit codes, for scripts:

    0    success
    1    failed: one line saying why on stderr (never a traceback without --debug)
    2    usage: bad command line (argparse's message on stderr)
    10   sync only: nothing new          11  sync only: another run holds the lock
    130  cancelled (Ctrl-C)

A progress bar goes to stderr when stderr is a terminal; nothing otherwise.

The commands live in command modules, listed once in ``COMMANDS`` below:
``os_commands`` (OpenData products, data packages), ``sync_commands``,
``trud_commands``. Each has ``register(commands)``, which gets argparse's
subparsers object; each parser it adds sets ``handler=fn(ctx: CliContext) -> int``
and uses ``parents=[ctx_parent()]`` so the global options work after the
command too. They share ``context`` (CliContext, exit codes, global options)
and ``output`` (progress bar, JSON, the ``error:`` line); a new command module
is one more entry in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import Dict, Optional, Sequence, TextIO

from .. import __version__
from ..errors import Cancelled, OSDownloadsError, describe
from ..redact import get_logger
from . import os_commands, sync_commands, trud_commands
from .context import (
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_OK,
    KEY_SETTING,
    CliContext,
    add_global_options,
)
from .output import (
    PACKAGE_LOGGER,
    Redacting,
    SafeStream,
    log_to,
    print_error,
    streams_for_argparse,
    warnings_to,
)

log = get_logger(__name__)

PROG = "os-downloads"
# The command table: every command module, in the order ``--help`` lists them.
COMMANDS = (os_commands, sync_commands, trud_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List and download OS OpenData products and OS data packages.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 130 cancelled "
        "(sync: 10 nothing new, 11 locked).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in COMMANDS:
        module.register(commands)
    return parser


# --- main -----------------------------------------------------------------------------------


def main(
    argv: Optional[Sequence[str]] = None,
    *,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
    env: Optional[Dict[str, str]] = None,
) -> int:
    """Run one command; return its exit code (never raises, except SystemExit from argparse)."""
    out = SafeStream(stdout or sys.stdout, keep="\n")
    err = SafeStream(stderr or sys.stderr, keep="\n\r")  # \r: the progress bar
    parser = build_parser()
    try:
        with streams_for_argparse(out, err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version (0) or a usage error (2)
        return int(exit_.code or 0)
    ctx = CliContext(args, out, err, dict(os.environ if env is None else env))
    debug = bool(getattr(args, "debug", False))
    handler = log_to(err) if debug else warnings_to(err)
    try:
        return _run_command(ctx, debug)
    finally:
        ctx.close()
        for logger in (logging.getLogger(PACKAGE_LOGGER), logging.getLogger("urllib3")):
            logger.removeHandler(handler)


def _run_command(ctx: CliContext, debug: bool) -> int:
    """The command's exit code; every failure as exactly one ``error:`` line on stderr."""
    err = ctx.stderr
    try:
        return int(ctx.args.handler(ctx))
    except (KeyboardInterrupt, Cancelled):
        ctx.cancel.set()
        print("Cancelled.", file=err)
        return EXIT_CANCELLED
    except OSDownloadsError as exc:
        log.debug("Command failed", exc_info=True)
        print_error(err, describe(exc, key_setting=KEY_SETTING))
        if debug:
            traceback.print_exc(file=Redacting(err))
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK  # output piped into head & co.
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        print_error(
            err,
            f"unexpected {type(exc).__name__}: {exc}"
            + ("" if debug else " (run again with --debug for details)"),
        )
        if debug:
            traceback.print_exc(file=Redacting(err))
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
