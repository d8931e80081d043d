"""The ``.part`` beside a file being downloaded: its lock, its sidecar, its writing helpers.

One writer per file, across processes: ``FileClaim`` holds ``<name>.lock``
(an OS lock, ``core/lock.py``) for as long as the ``.part`` is written,
verified and renamed into place. A second program wanting the same file waits
for it (bounded: while the holder's ``.part`` keeps growing, and then
``LOCK_PATIENCE_S`` more), then finds the file finished or takes the
``.part`` over. The lock file is deleted when released.

The sidecar ``<name>.part.json`` says what the ``.part``'s bytes are the start
of: the listed size and checksum, and the storage's ETag / Last-Modified. A
``.part`` is resumed only when its sidecar describes the file as listed now,
and the resume sends ``If-Range`` with that validator, so bytes of another
version of the file are never glued to new ones. A ``.part`` without a sidecar
starts again from zero. A ``.part`` filled over parallel ranges (``ranged.py``)
is pre-allocated, and its sidecar's ``ranges`` say which bytes are in
(``range_plan.py``); one stream resumes such a ``.part`` from its contiguous
prefix.

``BackgroundFlush`` keeps the fast path fast: dirty pages pushed to disk
while downloading (hashing beside the network: ``checksums.StreamHasher``).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Hashable, Optional, Sequence, Set, Tuple

from ..errors import Cancelled, DownloadError, LockHeldError
from ..redact import get_logger
from .files import RemoteFile
from .lock import FileLock
from .manifest import MANIFEST_NAME
from .range_plan import Record, contiguous_filled, parse_record

log = get_logger(__name__)

PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"
SIDECAR_SUFFIX = ".part.json"
RESERVED_SUFFIXES = (PART_SUFFIX, LOCK_SUFFIX, SIDECAR_SUFFIX)
LOCK_PATIENCE_S = 120.0  # waiting for another program's download that shows no progress
FLUSH_EVERY_BYTES = 32 << 20  # written data pushed to disk while downloading
# Written a MiB at a time: single 2, 4 and 8 MiB writes were measured several times
# slower on Linux 6.18 / ext4 (huge page-cache folios), 1 and 3 MiB ones never.
WRITE_BYTES = 1 << 20


def part_path(final: Path) -> Path:
    return final.with_name(final.name + PART_SUFFIX)


def lock_path(final: Path) -> Path:
    return final.with_name(final.name + LOCK_SUFFIX)


def sidecar_path(final: Path) -> Path:
    return final.with_name(final.name + SIDECAR_SUFFIX)


# --- the sidecar ---------------------------------------------------------------------


@dataclass(frozen=True)
class PartInfo:
    """What a ``.part``'s bytes are the beginning of (the sidecar's content)."""

    file_name: str
    size: Optional[int]
    checksum: Optional[str]  # "md5:<hex>" as listed, or None
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    ranges: Optional[Record] = None  # a ranged .part: (start, end, filled) per piece

    @classmethod
    def for_file(
        cls, file: RemoteFile, etag: Optional[str] = None, last_modified: Optional[str] = None
    ) -> PartInfo:
        return cls(file.file_name, file.size, _checksum_text(file), etag, last_modified)

    @property
    def validator(self) -> Optional[str]:
        """What ``If-Range`` may carry: a strong ETag, else the Last-Modified date."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified or None

    def describes(self, file: RemoteFile) -> bool:
        """Whether a ``.part`` with this sidecar is the start of ``file`` as listed now."""
        if (self.file_name, self.size, self.checksum) != (
            file.file_name,
            file.size,
            _checksum_text(file),
        ):
            return False
        return file.size is not None or file.checksum is not None or self.validator is not None


def _checksum_text(file: RemoteFile) -> Optional[str]:
    if file.checksum is None:
        return None
    return f"{file.checksum.algorithm.lower()}:{file.checksum.hexdigest.lower()}"


def read_part_info(final: Path) -> Optional[PartInfo]:
    """The sidecar of ``final``'s ``.part``, or None when absent or unreadable."""
    try:
        data = json.loads(sidecar_path(final).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    size = data.get("size")

    def text(name: str) -> Optional[str]:
        value = data.get(name)
        return value if isinstance(value, str) and value else None

    return PartInfo(
        file_name=str(data.get("file_name", "")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        checksum=text("checksum"),
        etag=text("etag"),
        last_modified=text("last_modified"),
        ranges=parse_record(data.get("ranges")),
    )


def write_part_info(final: Path, info: PartInfo) -> None:
    """Write the sidecar atomically (a reader sees the old one or the new one)."""
    target = sidecar_path(final)
    temp = target.with_name(target.name + f".{os.getpid()}.tmp")
    temp.write_text(json.dumps(asdict(info)) + "\n", encoding="utf-8")
    os.replace(temp, target)


def usable_part_size(final: Path, file: RemoteFile) -> int:
    """Bytes of an earlier ``.part`` worth resuming from (0: start again)."""
    info = read_part_info(final)
    if info is None or not info.describes(file):
        return 0
    try:
        have = part_path(final).stat().st_size
    except OSError:
        return 0
    if file.size is not None and have > file.size:
        return 0
    if info.ranges is not None:  # pre-allocated: only the contiguous prefix is known good
        return min(have, contiguous_filled(info.ranges))
    return have


def remove_part(final: Path) -> None:
    """Delete the ``.part`` and its sidecar (whichever exist)."""
    for path in (part_path(final), sidecar_path(final)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def check_file_names(files: Sequence[RemoteFile]) -> None:
    """Refuse a job whose file names are not plain names, clash with ours, or repeat."""
    seen: Set[str] = set()
    for file in files:
        name = file.file_name
        bad = (
            not name
            or name in (".", "..", MANIFEST_NAME)
            or any(c in name for c in "/\\:\0")
            or name.endswith(RESERVED_SUFFIXES)
        )
        if bad:
            raise DownloadError(
                f"Refusing to download a file named {name!r}: not a plain file name."
            )
        if name in seen:
            raise DownloadError(f"The file list names {name!r} twice.")
        seen.add(name)


# --- one writer per file --------------------------------------------------------------


class FileClaim:
    """``with FileClaim(final, ...) as claim:`` this process alone writes ``final`` and its part.

    ``claim.waited`` is True when another program held it first (it may have
    finished the file meanwhile: check before downloading).
    """

    def __init__(
        self,
        final: Path,
        *,
        patience: float = LOCK_PATIENCE_S,
        cancel: Optional[Callable[[], bool]] = None,
    ) -> None:
        self.final = final
        self.patience = patience
        self.cancel = cancel
        self.waited = False
        self._lock = FileLock(
            lock_path(final), purpose=f"A download of {final.name}", remove_on_release=True
        )

    def __enter__(self) -> FileClaim:
        name = self.final.name
        try:
            self.waited = self._lock.acquire_waiting(
                patience=self.patience,
                cancel=self.cancel,
                progress=self._progress_sign,
                on_wait=lambda holder: log.warning(
                    "%s is being downloaded by another process%s; waiting for it to finish.",
                    name,
                    holder,
                ),
            )
        except (LockHeldError, Cancelled):
            raise
        except OSError as exc:  # a file system without locks: carry on as before, unguarded
            log.warning("Cannot lock %s (%s); two programs must not fetch it at once.", name, exc)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()

    def _progress_sign(self) -> Hashable:
        return (file_sign(part_path(self.final)), file_sign(self.final))


def file_sign(path: Path) -> Optional[Tuple[int, int, int]]:
    """(inode, size, mtime) of a file, None when absent: tells whether it changed since."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


# --- writing to disk beside the network -------------------------------------------------


def write_part(out: BinaryIO, data: memoryview) -> None:
    """Write ``data`` at the file position, ``WRITE_BYTES`` per call."""
    for start in range(0, len(data), WRITE_BYTES):
        out.write(data[start : start + WRITE_BYTES])


class BackgroundFlush:
    """Push written data to disk every ``FLUSH_EVERY_BYTES`` on a helper thread.

    The fsync before the rename then has little left to do, so durability
    costs almost nothing on a big file instead of seconds at the end; and
    dirty pages never pile up in memory. Errors are left to that final fsync,
    which reports them.
    """

    def __init__(self, handle: Optional[BinaryIO]) -> None:
        self._fd = handle.fileno() if handle is not None else None
        self._pending = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None

    def wrote(self, count: int) -> None:
        self._pending += count
        if self._fd is None or self._pending < FLUSH_EVERY_BYTES:
            return
        self._pending = 0
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="download-flush", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        sync = getattr(os, "fdatasync", os.fsync)
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                sync(self._fd)
            except OSError:
                pass


def fsync_folder(folder: Path) -> None:
    """Make the rename durable too (POSIX); harmless to skip where unsupported."""
    if os.name != "posix":
        return
    try:
        handle = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
