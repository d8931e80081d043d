"""What every command gets: ``CliContext`` (arguments, streams, client), exit codes, options.

Command modules import from here and from ``output``, never from ``main``:
``main`` imports them (its command table), so there is no cycle.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
from typing import Any, Callable, Dict, Optional, Sequence, TextIO

from ..engine.progress import Progress
from ..redact import get_logger, redact, register_secret
from ..safe_text import safe_line
from .output import ProgressBar, cell, clear_bar, is_tty, json_default

log = get_logger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOTHING_NEW = 10  # sync
EXIT_LOCKED = 11  # sync
EXIT_CANCELLED = 130

KEY_ENV = "OS_API_KEY"
KEY_SETTING = f"the --key option or the {KEY_ENV} environment variable"
SECRET_ENV = "OS_API_SECRET"  # nosec B105  # pragma: allowlist secret - a variable's name
DEFAULT_WORKERS = 4


@dataclasses.dataclass
class CliContext:
    """What a command needs: its arguments, output streams, the client, a progress bar."""

    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    env: Dict[str, str]
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    _client: Any = None

    @property
    def quiet(self) -> bool:
        return bool(getattr(self.args, "quiet", False))

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def workers(self) -> int:
        return int(getattr(self.args, "workers", None) or DEFAULT_WORKERS)

    def client(self) -> Any:
        """The OS Downloads client for ``--api-url`` and the key/secret (if any)."""
        if self._client is None:
            from ..api.auth import make_auth
            from ..api.client import OSDownloadsClient

            key = (getattr(self.args, "key", None) or self.env.get(KEY_ENV, "")).strip()
            secret = (getattr(self.args, "secret", None) or self.env.get(SECRET_ENV, "")).strip()
            for value in (key, secret):
                if value:
                    register_secret(value)
            self._client = OSDownloadsClient(
                base_url=getattr(self.args, "api_url", None),
                auth=make_auth(key, secret),
                cancel=self.cancel,
            )
        return self._client

    def close(self) -> None:
        """Close the client this command made (its connections), if it made one."""
        if self._client is not None:
            client, self._client = self._client, None
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing must not change the exit code
                log.debug("Closing the client failed", exc_info=True)

    def progress(self) -> Optional[Callable[[Progress], None]]:
        """A progress bar on a terminal's stderr; None when quiet or not a terminal."""
        if self.quiet or self.json or not is_tty(self.stderr):
            return None
        return ProgressBar(self.stderr)

    def say(self, text: str = "") -> None:
        """Human output (suppressed by --quiet)."""
        if not self.quiet:
            print(text, file=self.stdout)

    def warn(self, text: str) -> None:
        """One ``warning:`` line on stderr (server text in it made safe)."""
        clear_bar(self.stderr)
        print(f"warning: {safe_line(redact(text))}", file=self.stderr)

    def print_json(self, data: Any) -> None:
        json.dump(data, self.stdout, indent=2, ensure_ascii=False, default=json_default)
        self.stdout.write("\n")

    def print_table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[cell(v) for v in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        lines = [headers] + cells
        for line in lines:
            text = "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(line)).rstrip()
            print(text, file=self.stdout)


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The global options; on subcommands their defaults are suppressed so that
    an option given before the command is not reset by the subparser."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument("--api-url", default=default(None), help="OS Downloads API base URL")
    group.add_argument(
        "--key", default=default(None), help=f"project API key (default: env {KEY_ENV})"
    )
    group.add_argument(
        "--secret",
        default=default(None),
        help=f"project API secret, for OAuth2 (default: env {SECRET_ENV})",
    )
    group.add_argument(
        "--workers", type=_positive_int, default=default(4), help="parallel downloads (default 4)"
    )
    group.add_argument(
        "--quiet", "-q", action="store_true", default=default(False), help="no progress or summary"
    )
    group.add_argument(
        "--debug", action="store_true", default=default(False), help="tracebacks and HTTP log"
    )


def ctx_parent() -> argparse.ArgumentParser:
    """A parent parser giving a subcommand the global options (see module docstring)."""
    parent = argparse.ArgumentParser(add_help=False)
    add_global_options(parent, suppress=True)
    return parent


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
