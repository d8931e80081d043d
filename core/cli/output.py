"""What the command line writes: safe streams, progress bar, tables, JSON, warnings, errors.

Shared by every command module (``os_commands``, ``trud_commands``,
``sync_commands``) and ``main``. Nothing a server says reaches a terminal
unescaped (``SafeStream``), keys are masked everywhere (``Redacting``), and a
failure is exactly one ``error:`` line (``print_error``).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any, Dict, Optional, TextIO

from ..engine.progress import Progress
from ..formatting import format_bytes
from ..redact import redact
from ..safe_text import escape_controls, safe_line


def cell(value: Any) -> str:
    if value is None:
        return ""
    return safe_line(str(value).replace("\n", " "))


def json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def is_tty(stream: TextIO) -> bool:
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


class Redacting:
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
        return is_tty(self.stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class streams_for_argparse:
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


def clear_bar(stream: Any) -> None:
    """Wipe a progress bar drawn on ``stream`` so the next line starts clean
    (the bar is drawn again by its next update)."""
    bar = getattr(stream, "bar", None)
    if isinstance(bar, ProgressBar):
        bar.close()


class _WarningHandler(logging.StreamHandler):
    def emit(self, record: logging.LogRecord) -> None:
        clear_bar(self.stream)
        super().emit(record)


def warnings_to(stream: TextIO) -> logging.Handler:
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


def log_to(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(Redacting(stream))  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger(PACKAGE_LOGGER)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    urllib3_log = logging.getLogger("urllib3")
    urllib3_log.addHandler(handler)
    urllib3_log.setLevel(logging.DEBUG)
    return handler


def print_error(stream: TextIO, text: str) -> None:
    """The one ``error:`` line of a failed command: one safe line, keys masked."""
    clear_bar(stream)
    print(f"error: {safe_line(redact(text))}", file=stream)
