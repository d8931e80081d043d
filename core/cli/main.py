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

Other modules add commands (sync, TRUD): a module ``core/<name>.py`` listed in
``COMMAND_MODULES`` that defines ``register(commands)``, or a call to
``register_commands(fn)``. ``fn(commands)`` gets argparse's subparsers object;
each parser it adds sets ``handler=fn(ctx: CliContext) -> int`` and should use
``parents=[ctx_parent()]`` so the global options work after the command too.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

from .. import __version__
from ..engine.download import Progress
from ..errors import Cancelled, OSDownloadsError, describe
from ..formatting import format_bytes, format_size
from ..redact import get_logger, redact, register_secret
from ..safe_text import escape_controls, safe_block, safe_line

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
PROG = "os-downloads"

Register = Callable[[Any], None]
_REGISTRARS: List[Register] = []
# Modules in core/ that add commands when present: ``register(commands)`` in each.
COMMAND_MODULES = ("sync_cli", "trud_cli", "holdings.cli")


def register_commands(register: Register) -> Register:
    """Add ``register`` to the functions that add subcommands (usable as a decorator)."""
    if register not in _REGISTRARS:
        _REGISTRARS.append(register)
    return register


# --- context handed to every command -----------------------------------------------------


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
        return int(getattr(self.args, "workers", None) or 4)

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
        if self.quiet or self.json or not _is_tty(self.stderr):
            return None
        return ProgressBar(self.stderr)

    def say(self, text: str = "") -> None:
        """Human output (suppressed by --quiet)."""
        if not self.quiet:
            print(text, file=self.stdout)

    def warn(self, text: str) -> None:
        """One ``warning:`` line on stderr (server text in it made safe)."""
        _clear_bar(self.stderr)
        print(f"warning: {safe_line(redact(text))}", file=self.stderr)

    def print_json(self, data: Any) -> None:
        json.dump(data, self.stdout, indent=2, ensure_ascii=False, default=_json_default)
        self.stdout.write("\n")

    def print_table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        lines = [headers] + cells
        for line in lines:
            text = "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(line)).rstrip()
            print(text, file=self.stdout)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return safe_line(str(value).replace("\n", " "))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """One line on stderr, redrawn in place: bar, percent, sizes, rate, files, phase."""

    WIDTH = 24

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last_length = 0
        if isinstance(stream, SafeStream):
            stream.bar = self  # a warning line clears the bar first (``_WarningHandler``)

    def __call__(self, p: Progress) -> None:
        fraction = p.fraction
        filled = int(self.WIDTH * (fraction or 0.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        percent = f"{fraction * 100:5.1f}%" if fraction is not None else "   ?  "
        sizes = (
            f"{format_bytes(p.bytes_done)}/{format_bytes(p.bytes_total)}" if p.bytes_total else ""
        )
        rate = f"{format_bytes(p.rate_bytes_per_s)}/s" if p.rate_bytes_per_s > 0 else ""
        files = f"{p.files_done}/{p.files_total} files" if p.files_total else ""
        name = safe_line(p.current_file)[-40:]
        text = "  ".join(x for x in (p.phase, f"[{bar}]", percent, sizes, rate, files, name) if x)
        padding = " " * max(self.last_length - len(text), 0)
        self.stream.write("\r" + text + padding)
        self.stream.flush()
        self.last_length = len(text)

    def close(self) -> None:
        if self.last_length:
            self.stream.write("\r" + " " * self.last_length + "\r")
            self.stream.flush()
            self.last_length = 0


# --- the parser ---------------------------------------------------------------------------


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
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
    _add_global_options(parent, suppress=True)
    return parent


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List and download OS OpenData products and OS data packages.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 130 cancelled "
        "(sync: 10 nothing new, 11 locked).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for register in _registrars():
        register(commands)
    return parser


def _registrars() -> List[Register]:
    found = [register_os_commands]
    package = __package__ or "os_downloads.core"
    for name in COMMAND_MODULES:
        module_name = f"{package}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        register = getattr(module, "register", None)
        if callable(register):
            found.append(register)
    for register in _REGISTRARS:
        if register not in found:
            found.append(register)
    return found


def register_os_commands(commands: Any) -> None:
    parent = ctx_parent()

    def add(name: str, handler: Callable[[CliContext], int], help_text: str, *, lists: bool = True):
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[parent])
        if lists:
            sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
        return sub

    add("products", cmd_products, "list the OpenData products")

    sub = add("product", cmd_product, "show one OpenData product")
    sub.add_argument("product_id", metavar="ID")

    sub = add("files", cmd_files, "list a product's downloadable files")
    sub.add_argument("product_id", metavar="ID")
    _add_filters(sub, required_format=False)

    sub = add("download", cmd_download, "download an OpenData product's files")
    sub.add_argument("product_id", metavar="ID")
    _add_filters(sub, required_format=True)
    _add_destination(sub)

    add("packages", cmd_packages, "list your data packages (needs a key)")

    sub = add("versions", cmd_versions, "list a data package's versions, newest first")
    sub.add_argument("package_id", metavar="PKG")

    sub = add("download-package", cmd_download_package, "download a data package version")
    sub.add_argument("package_id", metavar="PKG")
    sub.add_argument(
        "--version", dest="version_id", default="latest", metavar="ID", help="default: latest"
    )
    _add_destination(sub)


def _add_filters(sub: argparse.ArgumentParser, *, required_format: bool) -> None:
    sub.add_argument("--format", required=required_format, help='e.g. "GeoPackage"')
    sub.add_argument(
        "--area", default="GB" if required_format else None, help="e.g. GB (default for download)"
    )
    sub.add_argument("--subformat", default=None, help='e.g. "(MBTiles)"')


def _add_destination(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--dest", required=True, type=Path, help="folder to download into")
    sub.add_argument("--extract", action="store_true", help="unzip after downloading")


# --- commands -----------------------------------------------------------------------------


def cmd_products(ctx: CliContext) -> int:
    products = ctx.client().products()
    if ctx.json:
        ctx.print_json([dataclasses.asdict(p) for p in products])
        return EXIT_OK
    ctx.print_table(("ID", "NAME", "VERSION"), [(p.id, p.name, p.version) for p in products])
    return EXIT_OK


def cmd_product(ctx: CliContext) -> int:
    product = ctx.client().product(ctx.args.product_id)
    if ctx.json:
        ctx.print_json(dataclasses.asdict(product))
        return EXIT_OK
    out = ctx.stdout
    print(f"{safe_line(product.name)} ({safe_line(product.id)})", file=out)
    print(f"Version:  {safe_line(product.version)}", file=out)
    if product.formats:
        print("Formats:  " + "; ".join(safe_line(f.label) for f in product.formats), file=out)
    if product.areas:
        print("Areas:    " + ", ".join(safe_line(a) for a in product.areas), file=out)
    if product.documentation_url:
        print(f"Docs:     {safe_line(product.documentation_url)}", file=out)
    if product.warning:
        print(f"Warning:  {safe_line(product.warning)}", file=out)
    info = product.third_party_info
    if info is not None and info.data_provider is not None:
        provider = info.data_provider
        homepage = f" <{provider.homepage}>" if provider.homepage else ""
        print(f"Provider: {safe_line(provider.name + homepage)}", file=out)
    if info is not None and info.support_email:
        print(f"Support:  {safe_line(info.support_email)}", file=out)
    links = product.supporting_info + (info.supporting_info + info.also_available if info else ())
    for link in links:
        print(f"Link:     {safe_line(link.name)}: {safe_line(link.link)}", file=out)
    if product.description:
        print("", file=out)
        print(safe_block(product.description), file=out)
    return EXIT_OK


def cmd_files(ctx: CliContext) -> int:
    args = ctx.args
    downloads = ctx.client().product_downloads(
        args.product_id, format=args.format, subformat=args.subformat, area=args.area
    )
    if ctx.json:
        ctx.print_json([dataclasses.asdict(d) for d in downloads])
        return EXIT_OK
    ctx.print_table(
        ("FILE", "FORMAT", "SUBFORMAT", "AREA", "SIZE", "MD5"),
        [
            (d.file_name, d.format, d.subformat, d.area, format_size(d.size), d.md5)
            for d in downloads
        ],
    )
    return EXIT_OK


def cmd_download(ctx: CliContext) -> int:
    from ..engine.pipeline import fetch_product

    args = ctx.args
    return _run_job(
        ctx,
        lambda progress: fetch_product(
            ctx.client(),
            args.product_id,
            args.format,
            area=args.area,
            subformat=args.subformat,
            dest_root=args.dest,
            extract=args.extract,
            workers=ctx.workers,
            progress=progress,
            cancel=ctx.cancel,
        ),
    )


def cmd_packages(ctx: CliContext) -> int:
    packages = ctx.client().data_packages()
    if ctx.json:
        ctx.print_json([dataclasses.asdict(p) for p in packages])
        return EXIT_OK
    ctx.print_table(
        ("ID", "NAME", "PRODUCT", "CREATED", "VERSIONS"),
        [(p.id, p.name, p.product_id, p.created_on, len(p.versions)) for p in packages],
    )
    return EXIT_OK


def cmd_versions(ctx: CliContext) -> int:
    versions = ctx.client().data_package_versions(ctx.args.package_id)
    if ctx.json:
        ctx.print_json([dataclasses.asdict(v) for v in versions])
        return EXIT_OK
    ctx.print_table(
        ("ID", "CREATED", "SUPPLY", "REASON", "PRODUCT VERSION", "FORMAT"),
        [
            (v.id, v.created_on, v.supply_type, v.reason, v.product_version, v.format)
            for v in versions
        ],
    )
    return EXIT_OK


def cmd_download_package(ctx: CliContext) -> int:
    from ..engine.pipeline import fetch_package_version

    args = ctx.args
    return _run_job(
        ctx,
        lambda progress: fetch_package_version(
            ctx.client(),
            args.package_id,
            args.version_id,
            dest_root=args.dest,
            extract=args.extract,
            workers=ctx.workers,
            progress=progress,
            cancel=ctx.cancel,
        ),
    )


def _run_job(ctx: CliContext, run: Callable[[Any], Any]) -> int:
    bar = ctx.progress()
    started = time.monotonic()
    try:
        result = run(bar)
    finally:
        if isinstance(bar, ProgressBar):
            bar.close()
    if ctx.json:
        ctx.print_json(job_json(result))
        return EXIT_OK
    elapsed = time.monotonic() - started
    download = result.download
    ctx.say(
        f"{download.downloaded_count} downloaded ({format_bytes(download.bytes_transferred)}), "
        f"{download.skipped_count} already there, in {elapsed:.1f}s: {safe_line(result.folder)}"
    )
    for f in result.unverified:
        ctx.warn(f"{f.name}: the listing gives no checksum; checked by size only.")
    for ref in result.manifest.datasets:
        ctx.say(f"  {safe_line(ref)}")
    return EXIT_OK


def job_json(result: Any) -> Dict[str, Any]:
    """A job's result for ``--json``: folder, manifest path, files and datasets."""
    return {
        "folder": str(result.folder),
        "manifest": str(result.manifest_path),
        "version": result.version,
        "downloaded": result.downloaded_count,
        "skipped": result.skipped_count,
        "files": [
            {
                "name": f.name,
                "path": str(f.path),
                "status": f.status,
                "verified": f.verified,
                "size": f.size,
                f.checksum.algorithm: f.checksum.hexdigest,
            }
            for f in result.download.files
        ],
        "extracted_folder": str(result.extracted_folder) if result.extracted_folder else None,
        "datasets": list(result.manifest.datasets),
    }


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
        with _streams_for_argparse(out, err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version (0) or a usage error (2)
        return int(exit_.code or 0)
    ctx = CliContext(args, out, err, dict(os.environ if env is None else env))
    debug = bool(getattr(args, "debug", False))
    handler = _log_to(err) if debug else _warnings_to(err)
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
        print(f"error: {redact(describe(exc, key_setting=KEY_SETTING))}", file=err)
        if debug:
            traceback.print_exc(file=_Redacting(err))
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK  # output piped into head & co.
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        print(
            f"error: unexpected {type(exc).__name__}: {safe_line(redact(str(exc)))}"
            + ("" if debug else " (run again with --debug for details)"),
            file=err,
        )
        if debug:
            traceback.print_exc(file=_Redacting(err))
        return EXIT_ERROR


class _Redacting:
    """A stream wrapper masking keys in everything written (tracebacks)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(redact(text))

    def flush(self) -> None:
        self.stream.flush()


class SafeStream:
    """An output stream that never lets a control character or an unencodable
    character through: unsafe characters (except ``keep``) are written as
    ``\\uXXXX``, characters the stream's encoding lacks (cp1252 on a
    redirected Windows console) as backslash escapes instead of raising."""

    def __init__(self, stream: TextIO, *, keep: str = "\n") -> None:
        self.stream = stream.stream if isinstance(stream, SafeStream) else stream
        self.keep = keep
        self.bar: Optional[ProgressBar] = None  # the progress bar drawn on this stream

    def write(self, text: str) -> int:
        text = escape_controls(text, self.keep)
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            return self.stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return _is_tty(self.stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _streams_for_argparse:
    """argparse prints --help and usage errors on sys.stdout/sys.stderr: make those safe too."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.streams = (out, err)

    def __enter__(self) -> None:
        self.saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self.streams  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


PACKAGE_LOGGER = (__package__ or "os_downloads.core").split(".")[0]


class _WarningLine(logging.Formatter):
    """A log warning as the command line shows it: ``warning: <one safe line>``."""

    def format(self, record: logging.LogRecord) -> str:
        return f"warning: {safe_line(redact(record.getMessage()))}"


def _clear_bar(stream: Any) -> None:
    """Wipe a progress bar drawn on ``stream`` so the next line starts clean
    (the bar is drawn again by its next update)."""
    bar = getattr(stream, "bar", None)
    if isinstance(bar, ProgressBar):
        bar.close()


class _WarningHandler(logging.StreamHandler):
    def emit(self, record: logging.LogRecord) -> None:
        _clear_bar(self.stream)
        super().emit(record)


def _warnings_to(stream: TextIO) -> logging.Handler:
    """Log warnings (a retry, a skipped file) as ``warning:`` lines on stderr.

    Errors are not shown this way: the command prints its one ``error:`` line.
    Without this handler Python would print warnings bare (``logging.lastResort``).
    """
    handler = _WarningHandler(stream)  # type: ignore[arg-type]
    handler.setLevel(logging.WARNING)
    handler.addFilter(lambda record: record.levelno < logging.ERROR)
    handler.setFormatter(_WarningLine())
    logging.getLogger(PACKAGE_LOGGER).addHandler(handler)
    return handler


def _log_to(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(_Redacting(stream))  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger(PACKAGE_LOGGER)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    urllib3_log = logging.getLogger("urllib3")
    urllib3_log.addHandler(handler)
    urllib3_log.setLevel(logging.DEBUG)
    return handler


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
