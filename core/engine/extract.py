"""Safe extraction of downloaded archives: ``.zip`` (nested zips too) and ``.gz``.

Everything is unpacked into a temporary sibling folder (``<dest>.partial-…``)
and renamed to ``dest`` only when all of it succeeded, so a failed or cancelled
extraction never leaves a half-filled folder under the final name. A marker
file in ``dest`` (the archive's size and mtime) makes a second call over a
finished extraction do no work.

Safety, checked for every member of every archive, nested ones included:

* names that would escape the folder (``..``, absolute paths, drive letters,
  backslash tricks, ``:``) and symbolic links or device entries are refused;
* zip bombs are refused (``ZipBombError``) by one budget for the whole
  archive tree: the number of entries, the per-entry compression ratio, and
  the total bytes written (nested zips and .gz included) against the
  outermost archive's size (``max_tree_ratio``, at least ``tree_grace_bytes``)
  and ``max_total_bytes``. Declared header sizes are checked first (cheap,
  before anything is written) and the bytes actually written again, chunk by
  chunk, because headers can lie and .gz has none;
* the free space seen at the start caps what may be written: extraction stops
  (``InsufficientSpaceError``) before the disk fills up, never after;
* two entries of one zip that would land on the same file (duplicates, names
  differing only in case, a file that is also a folder) are refused
  (``ArchiveNameClashError``): nothing is silently overwritten;
* a name marked UTF-8 that is not valid UTF-8 is refused as damaged.

Zip members use no stored Unix mode: files get the user's default permissions,
so entries stored with mode 000 (OS Open UPRN) come out readable. Members
Python cannot decompress (Deflate64, seen in OS Terrain 50) are streamed through
the Info-ZIP ``unzip`` program when it is installed, under the same checks;
without it the error names the member and what to install.

Nested ``.zip`` members are unpacked into a new folder of their own named
after the inner zip (``data/su/su41_OST50GRID_20250701.zip`` ->
``data/su/su41_OST50GRID_20250701/``) and removed. When a file or folder of
that name is already there (``x.zip`` beside an ``x/`` of the outer archive),
the contents go to ``x_zip/`` (then ``x_zip_2/``...) instead: a nested zip
never writes into a folder it did not make, so it cannot overwrite a sibling's
files. Discovery walks folders recursively, so loading needs nothing more.
``.gz`` members are decompressed to their name without ``.gz`` (a name left
without a suffix, like OS MasterMap's ``5436275-SU4010.gz``, gets ``.gml`` when
the content is GML) and removed; when that name is taken the ``.gz`` is left
as it is.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import itertools
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Deque, Dict, Iterable, List, Optional, Set, Tuple

from ..errors import (
    ArchiveNameClashError,
    Cancelled,
    ExtractionError,
    InsufficientSpaceError,
    UnsafeArchiveError,
    UnsupportedCompressionError,
    ZipBombError,
)
from ..formatting import format_bytes
from ..redact import get_logger
from .download import SPACE_MARGIN_BYTES, check_free_space

log = get_logger(__name__)

CHUNK_SIZE = 1 << 20
MARKER_NAME = ".os_downloads_extracted.json"
MARKER_VERSION = 1
PARTIAL_INFIX = ".partial-"
ARCHIVE_SUFFIXES = (".zip", ".gz")
_MiB = 1 << 20
_GiB = 1 << 30
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")
_METHODS_PYTHON_READS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, 14}
_DEFLATE64 = 9
_METHOD_NAMES = {6: "Implode", 9: "Deflate64", 12: "BZIP2", 14: "LZMA", 93: "Zstandard", 99: "AES"}
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ExtractLimits:
    """What an archive may unpack to before it is treated as a zip bomb.

    Defaults fit real OS data with room to spare (OS OpenMap Local: a 3.5 GB
    zip unpacks to ~8 GB; GeoPackages compress 2-3x, CSV and GML 5-15x) while
    refusing bombs (ratios of 1000x and more). Entries smaller than
    ``ratio_grace_bytes`` may have any ratio (a tiny all-zero file is no
    threat); the whole tree, nested archives included, may unpack to
    ``max_tree_ratio`` times the outermost archive's size, or to
    ``tree_grace_bytes`` when that is more, so many small entries or archives
    nested inside each other cannot add up to a bomb either.
    """

    max_total_bytes: int = 64 * _GiB
    max_ratio: float = 100.0
    ratio_grace_bytes: int = 4 * _MiB
    max_tree_ratio: float = 100.0
    tree_grace_bytes: int = 64 * _MiB
    max_entries: int = 200_000
    max_nesting: int = 3


@dataclass(frozen=True)
class ExtractResult:
    """``files``: every extracted file under ``dest`` (the marker excluded)."""

    archive: Path
    dest: Path
    files: List[Path] = field(default_factory=list)
    skipped: bool = False
    bytes_written: int = 0


def is_archive(path: Path) -> bool:
    """True for the files ``extract_archive`` unpacks (``.zip``, ``.gz``)."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def default_dest(archive: Path, dest_root: Path) -> Path:
    """``dest_root/<archive name without .zip/.gz>`` (``x.gml.gz`` -> ``x``)."""
    name = archive.name
    for suffix in (".tar.gz", ".zip", ".gz"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in ("gml", "xml", "csv"):
        name = stem
    return Path(dest_root) / (name or "archive")


def extract_archive(
    archive: Path,
    dest: Path,
    *,
    limits: ExtractLimits = ExtractLimits(),
    cancel: Optional[threading.Event] = None,
    progress: Optional[ProgressCallback] = None,
) -> ExtractResult:
    """Unpack ``archive`` (.zip or .gz) into the folder ``dest``, safely and atomically.

    ``progress(bytes_written, bytes_expected)``: the expected total grows as
    nested archives are opened. Raises ``ZipBombError``,
    ``ArchiveNameClashError``, ``UnsafeArchiveError``,
    ``UnsupportedCompressionError``, ``ExtractionError``,
    ``InsufficientSpaceError`` or ``Cancelled``; on any of them ``dest`` is
    left as it was and the temporary folder is removed.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise ExtractionError(f"{archive.name}: no such file to extract.")
    if not is_archive(archive):
        raise ExtractionError(f"{archive.name} is not a .zip or .gz archive.")
    done = _finished_extraction(archive, dest)
    if done is not None:
        log.debug("%s already extracted into %s", archive.name, dest)
        return done
    _check_dest_is_ours(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f"{dest.name}{PARTIAL_INFIX}{uuid.uuid4().hex[:8]}")
    partial.mkdir()
    try:
        budget = _Budget(limits, cancel, progress, partial, archive)
        _unpack_all(archive, partial, budget)
        files = sorted(p for p in partial.rglob("*") if p.is_file())
        relative = [p.relative_to(partial).as_posix() for p in files]
        _write_marker(partial, archive, relative, budget.written)
        _publish(partial, dest)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    log.info("Extracted %s: %d files, %s", archive.name, len(files), format_bytes(budget.written))
    return ExtractResult(archive, dest, [dest / r for r in relative], False, budget.written)


def extract_all(
    archives: Iterable[Path],
    dest_root: Path,
    *,
    limits: ExtractLimits = ExtractLimits(),
    cancel: Optional[threading.Event] = None,
    progress: Optional[ProgressCallback] = None,
) -> List[ExtractResult]:
    """Extract each archive into ``default_dest(archive, dest_root)``; other files are left alone.

    ``progress`` gets bytes written and expected summed over the archives so far.
    """
    results: List[ExtractResult] = []
    offset_done = 0
    offset_total = 0
    for archive in archives:
        if not is_archive(Path(archive)):
            continue

        def relay(done: int, total: int, _d: int = offset_done, _t: int = offset_total) -> None:
            if progress is not None:
                progress(_d + done, _t + total)

        result = extract_archive(
            Path(archive),
            default_dest(Path(archive), dest_root),
            limits=limits,
            cancel=cancel,
            progress=relay,
        )
        offset_done += result.bytes_written
        offset_total += result.bytes_written
        results.append(result)
    return results


# --- the marker: a finished extraction --------------------------------------------------


def _archive_stamp(archive: Path) -> Tuple[int, int]:
    info = archive.stat()
    return info.st_size, info.st_mtime_ns


def _write_marker(folder: Path, archive: Path, files: List[str], written: int) -> None:
    size, mtime_ns = _archive_stamp(archive)
    marker = {
        "version": MARKER_VERSION,
        "archive": archive.name,
        "size": size,
        "mtime_ns": mtime_ns,
        "bytes_written": written,
        "files": files,
        "extracted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (folder / MARKER_NAME).write_text(json.dumps(marker, indent=1), encoding="utf-8")


def _read_marker(dest: Path) -> Optional[dict]:
    try:
        data = json.loads((dest / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _finished_extraction(archive: Path, dest: Path) -> Optional[ExtractResult]:
    """The earlier result when ``dest`` holds a complete extraction of this very archive."""
    marker = _read_marker(dest)
    if not marker or marker.get("version") != MARKER_VERSION:
        return None
    size, mtime_ns = _archive_stamp(archive)
    if (marker.get("archive"), marker.get("size"), marker.get("mtime_ns")) != (
        archive.name,
        size,
        mtime_ns,
    ):
        return None
    files = [dest / str(name) for name in marker.get("files", [])]
    if not all(f.is_file() for f in files):
        return None  # someone deleted files since: extract again
    return ExtractResult(archive, dest, files, True, 0)


def _check_dest_is_ours(dest: Path) -> None:
    """Refuse to replace a folder this module did not make (it may hold the user's files)."""
    if not dest.exists():
        return
    if not dest.is_dir():
        raise ExtractionError(f"Cannot extract into {dest}: a file of that name is in the way.")
    if (dest / MARKER_NAME).exists() or not any(dest.iterdir()):
        return
    raise ExtractionError(
        f"Cannot extract into {dest}: the folder holds files that were not extracted here.",
        hint="Choose an empty folder, or move those files away.",
    )


def _publish(partial: Path, dest: Path) -> None:
    """Rename the finished folder into place, replacing an older extraction."""
    old: Optional[Path] = None
    if dest.exists():
        old = dest.with_name(f"{dest.name}.old-{uuid.uuid4().hex[:8]}")
        try:
            os.replace(dest, old)
        except OSError as err:
            raise ExtractionError(
                f"Cannot replace the earlier extraction in {dest}: {err.strerror or err}.",
                hint="Close any layers loaded from that folder and try again.",
            ) from err
    try:
        os.replace(partial, dest)
    except OSError as err:
        if old is not None:
            with contextlib.suppress(OSError):
                os.replace(old, dest)
        raise ExtractionError(f"Cannot move the extracted files into {dest}: {err}.") from err
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- limits and progress: one budget across nested archives -------------------------------


class _Budget:
    """Counts entries and bytes for one extraction, nested archives included.

    ``written`` counts every byte written (inner archives too, before they are
    removed); ``on_disk`` what is still there, against the free space.
    """

    def __init__(
        self,
        limits: ExtractLimits,
        cancel: Optional[threading.Event],
        progress: Optional[ProgressCallback],
        root: Path,
        archive: Path,
    ) -> None:
        self.limits = limits
        self.cancel = cancel
        self.progress = progress
        self.root = root
        self.archive_name = archive.name
        self.archive_size = archive.stat().st_size
        self.entries = 0
        self.expected = 0
        self.written = 0
        self.freed = 0
        by_ratio = max(limits.tree_grace_bytes, int(limits.max_tree_ratio * self.archive_size))
        self.allowance = min(limits.max_total_bytes, by_ratio)
        self.free = _free_bytes(root)
        self.space = None if self.free is None else _writable(self.free)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Extraction cancelled; nothing was left half-extracted.")

    def add_entries(self, count: int, where: str) -> None:
        self.entries += count
        if self.entries > self.limits.max_entries:
            raise ZipBombError(
                f"{where}: too many entries ({self.entries:,} counting nested archives; "
                f"the limit is {self.limits.max_entries:,}). It looks like a zip bomb."
            )

    def expect(self, declared: int, where: str) -> None:
        """Declared sizes, checked before anything of this archive is written."""
        if self.written + declared > self.allowance:
            raise ZipBombError(f"{where}: {self._beyond(declared)}")
        check_free_space(self.root, declared)
        self.expected += declared
        self._report()

    def wrote(self, count: int, where: str) -> None:
        """Called before each chunk is written: a refused chunk never reaches the disk."""
        self.written += count
        if self.written > self.allowance:
            raise ZipBombError(f"{where}: {self._beyond()}")
        if self.space is not None and self.written - self.freed > self.space:
            raise InsufficientSpaceError(
                f"Extracting {where} stopped before the disk filled up: "
                f"{format_bytes(self.written - self.freed)} unpacked and "
                f"{format_bytes(self.free or 0)} was free."
            )
        self.expected = max(self.expected, self.written)
        self._report()

    def removed(self, count: int) -> None:
        """An inner archive (already counted as written) was deleted after unpacking."""
        self.freed += count

    def _beyond(self, declared: Optional[int] = None) -> str:
        """A refusal's words: what passed which bound of the budget."""
        if self.allowance == self.limits.max_total_bytes:
            head = (
                "the archive unpacks to more than"
                if declared is None
                else f"declares {format_bytes(declared)} of content, more than"
            )
            return (
                f"{head} the limit of {format_bytes(self.allowance)} (counting the archives "
                "inside it). It looks like a zip bomb."
            )
        head = (
            "the whole archive has unpacked past"
            if declared is None
            else f"declares {format_bytes(declared)} of content, which would take the whole "
            "archive past"
        )
        return (
            f"{head} {format_bytes(self.allowance)} from the {format_bytes(self.archive_size)} "
            f"of {self.archive_name}, counting the archives inside it. It looks like a zip bomb."
        )

    def check_ratio(self, written: int, compressed: int, where: str) -> None:
        limits = self.limits
        if written > limits.ratio_grace_bytes and written > limits.max_ratio * max(compressed, 1):
            raise ZipBombError(
                f"{where}: expands more than {limits.max_ratio:g} times "
                f"({format_bytes(compressed)} to over {format_bytes(written)}). "
                "It looks like a zip bomb."
            )

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.written, self.expected)


def _free_bytes(folder: Path) -> Optional[int]:
    try:
        return shutil.disk_usage(str(folder)).free
    except OSError:
        return None  # some network shares cannot say; a full disk is still caught on write


def _writable(free: int) -> int:
    """What extraction may write of ``free`` bytes, leaving the margin downloads leave."""
    return max(0, free - SPACE_MARGIN_BYTES - free // 100)


# --- unpacking ---------------------------------------------------------------------------


def _unpack_all(archive: Path, root: Path, budget: _Budget) -> None:
    """Unpack ``archive`` into ``root``, then every nested .zip/.gz it held, breadth first."""
    queue: Deque[Tuple[Path, int, str]] = deque()
    names = _FolderNames()
    for produced in _unpack_one(archive, root, budget, archive.name) or []:
        queue.append((produced, 1, archive.name))
    while queue:
        path, depth, parent_label = queue.popleft()
        if not is_archive(path):
            continue
        label = f"{parent_label} > {path.relative_to(root).as_posix()}"
        if depth > budget.limits.max_nesting:
            raise ZipBombError(
                f"{label}: archives nested more than {budget.limits.max_nesting} deep. "
                "It looks like a zip bomb."
            )
        is_zip = path.name.lower().endswith(".zip")
        target = _own_folder(path, label, names) if is_zip else path.parent
        produced = _unpack_one(path, target, budget, label)
        if produced is not None:
            size = path.stat().st_size
            path.unlink()
            budget.removed(size)
            queue.extend((p, depth + 1, label) for p in produced)


def _own_folder(archive: Path, where: str, names: _FolderNames) -> Path:
    """A folder for a nested zip's contents that no file or folder uses yet, made now.

    ``x.zip`` -> ``x/``; when ``x`` is taken (by the outer archive's own ``x/``
    folder or ``x`` file, compared without regard to case as Windows does),
    ``x_zip/``, then ``x_zip_2/``... Never an existing folder: its files would
    be overwritten.
    """
    stem = archive.name[: -len(".zip")] or "archive"
    taken = names.taken(archive.parent)
    candidates = itertools.chain((stem, f"{stem}_zip"), (f"{stem}_zip_{n}" for n in range(2, 1000)))
    for name in candidates:
        if name.casefold() in taken:
            continue
        taken.add(name.casefold())
        folder = archive.with_name(name)
        try:
            folder.mkdir()  # fails if something appeared since the folder was listed
        except FileExistsError:
            continue
        except OSError as err:
            raise ExtractionError(f"{where}: cannot make folder {name}: {err}.") from err
        return folder
    raise ArchiveNameClashError(f"{where}: no free folder name to unpack it into.")


class _FolderNames:
    """The names in each folder (case-folded), listed once: many nested zips in one folder
    must not cost a listing each (a zip of 100,000 tiny zips would take hours)."""

    def __init__(self) -> None:
        self.folders: Dict[Path, Set[str]] = {}

    def taken(self, folder: Path) -> Set[str]:
        if folder not in self.folders:
            with os.scandir(folder) as entries:
                self.folders[folder] = {entry.name.casefold() for entry in entries}
        return self.folders[folder]


def _unpack_one(archive: Path, into: Path, budget: _Budget, label: str) -> Optional[List[Path]]:
    """The files unpacked; ``None`` when the archive was left as it is."""
    if archive.name.lower().endswith(".zip"):
        return _extract_zip(archive, into, budget, label)
    produced = _gunzip(archive, into, budget, label)
    return [produced] if produced is not None else None


def safe_member_path(name: str, where: str) -> Optional[PurePosixPath]:
    """The relative path a member may be written to; ``None`` for an empty name.

    Backslashes count as separators (zips made on Windows use them; a name like
    ``..\\evil`` is an escape attempt on Windows even if harmless on Linux).
    """
    text = name.replace("\\", "/")
    if "\x00" in text:
        raise UnsafeArchiveError(f"{where}: entry {name!r} has a NUL byte in its name.")
    if _CONTROL.search(text):
        raise UnsafeArchiveError(
            f"{where}: entry {name!r} has a control character in its name "
            "(not allowed on Windows; it could also disturb a terminal)."
        )
    if text.startswith("/"):
        raise UnsafeArchiveError(f"{where}: entry {name!r} has an absolute path.")
    if _DRIVE.match(text):
        raise UnsafeArchiveError(f"{where}: entry {name!r} names a drive.")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"{where}: entry {name!r} points outside the folder ('..').")
    if any(":" in p for p in parts):
        raise UnsafeArchiveError(
            f"{where}: entry {name!r} has ':' in its name (a drive or stream on Windows)."
        )
    return PurePosixPath(*parts) if parts else None


def _check_entry_type(info: zipfile.ZipInfo, where: str) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise UnsafeArchiveError(f"{where}: entry {info.filename!r} is a symbolic link.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(f"{where}: entry {info.filename!r} is a device or special file.")
    if info.flag_bits & 0x1:
        raise ExtractionError(f"{where}: entry {info.filename!r} is encrypted (password).")


def _target(root: Path, relative: PurePosixPath, name: str, where: str) -> Path:
    target = root.joinpath(*relative.parts)
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(target.parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise UnsafeArchiveError(f"{where}: entry {name!r} points outside the folder.")
    return target


def _open_zip(archive: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except UnicodeDecodeError as err:
        raise ExtractionError(
            f"{label} is damaged: an entry's name is marked as UTF-8 but is not valid UTF-8.",
            hint="Download it again; if this happens again, report the file to its provider.",
        ) from err
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
        raise ExtractionError(
            f"{label} is not a readable zip ({err}).",
            hint="The download may be incomplete or damaged; download it again.",
        ) from err


def _extract_zip(archive: Path, into: Path, budget: _Budget, label: str) -> List[Path]:
    zf = _open_zip(archive, label)
    with zf:
        infos = zf.infolist()
        budget.add_entries(len(infos), label)
        plan: List[Tuple[zipfile.ZipInfo, Optional[PurePosixPath]]] = []
        declared = 0
        names = _NameCheck(label, reserved=MARKER_NAME if into == budget.root else None)
        for info in infos:
            relative = safe_member_path(info.filename, label)
            _check_entry_type(info, label)
            if relative is not None:
                names.add(relative, info.filename, info.is_dir())
            if not info.is_dir():
                budget.check_ratio(info.file_size, info.compress_size, f"{label} > {info.filename}")
                declared += info.file_size
            plan.append((info, relative))
        names.check_folders()
        budget.expect(declared, label)
        into.mkdir(parents=True, exist_ok=True)
        written: List[Path] = []
        for info, relative in plan:
            budget.check_cancel()
            if relative is None:
                continue
            target = _target(into, relative, info.filename, label)
            if info.is_dir():
                _mkdir(target, label)
                continue
            _mkdir(target.parent, label)
            _extract_member(zf, archive, info, target, budget, f"{label} > {info.filename}")
            _set_mtime(target, info.date_time)
            written.append(target)
    return written


class _NameCheck:
    """Refuses two entries of one zip that would be written to the same place.

    Names are compared as Windows and macOS compare them (without regard to
    case), so an archive behaves the same on every system: duplicates,
    ``A.txt`` beside ``a.txt``, and a file that is also another entry's folder
    are refused rather than one of them being lost. ``reserved``: a name this
    module writes itself (the marker, at the top of the extraction).
    """

    def __init__(self, where: str, reserved: Optional[str]) -> None:
        self.where = where
        self.reserved = reserved.casefold() if reserved else None
        self.files: Dict[str, str] = {}
        self.folders: Dict[str, str] = {}

    def add(self, relative: PurePosixPath, name: str, is_folder: bool) -> None:
        key = relative.as_posix().casefold()
        if key == self.reserved:
            raise ArchiveNameClashError(
                f"{self.where}: entry {name!r} has the name of this program's own record "
                "of the extraction."
            )
        if is_folder:
            self.folders.setdefault(key, name)
            return
        earlier = self.files.get(key)
        if earlier == name:
            raise ArchiveNameClashError(
                f"{self.where}: holds two entries named {name!r}; one would overwrite the other."
            )
        if earlier is not None:
            raise ArchiveNameClashError(
                f"{self.where}: entries {earlier!r} and {name!r} would be the same file on "
                "Windows (their names differ only in case); one would overwrite the other."
            )
        self.files[key] = name
        for parent in list(relative.parents)[:-1]:
            self.folders.setdefault(parent.as_posix().casefold(), name)

    def check_folders(self) -> None:
        """After all entries: no file may also be a folder (``a`` and ``a/b``)."""
        for key in sorted(self.files.keys() & self.folders.keys()):
            raise ArchiveNameClashError(
                f"{self.where}: {self.files[key]!r} is a file, but {self.folders[key]!r} needs "
                "a folder of that name; one of them would be lost."
            )


def _extract_member(
    zf: zipfile.ZipFile,
    archive: Path,
    info: zipfile.ZipInfo,
    target: Path,
    budget: _Budget,
    where: str,
) -> None:
    if info.compress_type not in _METHODS_PYTHON_READS:
        _extract_with_unzip(archive, info, target, budget, where)
        return
    try:
        with zf.open(info) as source:
            _stream(source.read, target, budget, where, info.file_size, info.compress_size)
    except NotImplementedError:
        _extract_with_unzip(archive, info, target, budget, where)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as err:
        raise ExtractionError(
            f"{where} is damaged ({err}).",
            hint="Its sizes or checksum do not match its data; download the file again.",
        ) from err


def _stream(
    read: Callable[[int], bytes],
    target: Path,
    budget: _Budget,
    where: str,
    declared: Optional[int],
    compressed: int,
    first: bytes = b"",
) -> int:
    """Copy from ``read`` to ``target`` in big chunks, enforcing the limits on real bytes."""
    count = 0
    try:
        with open(target, "wb") as out:
            chunk = first or read(CHUNK_SIZE)
            while chunk:
                budget.check_cancel()
                count += len(chunk)
                if declared is not None and count > declared:
                    raise ZipBombError(
                        f"{where}: unpacks to more than the {declared:,} bytes its header "
                        "declares. It looks like a zip bomb."
                    )
                budget.check_ratio(count, compressed, where)
                budget.wrote(len(chunk), where)
                out.write(chunk)
                chunk = read(CHUNK_SIZE)
    except OSError as err:
        raise _write_error(err, target, where) from err
    return count


def _write_error(err: OSError, target: Path, where: str) -> Exception:
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return InsufficientSpaceError(f"The disk filled up while extracting {where}.")
    return ExtractionError(f"Cannot write {target.name} from {where}: {err.strerror or err}.")


def _mkdir(path: Path, where: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExtractionError(f"{where}: cannot make folder {path.name}: {err}.") from err


def _set_mtime(path: Path, date_time: Tuple[int, int, int, int, int, int]) -> None:
    """Keep the data's own dates (best effort: zip times are local and may be invalid)."""
    with contextlib.suppress(ValueError, OverflowError, OSError):
        stamp = time.mktime((*date_time, 0, 0, -1))
        os.utime(path, (stamp, stamp))


# --- .gz ----------------------------------------------------------------------------------


def _gunzip(archive: Path, into: Path, budget: _Budget, label: str) -> Optional[Path]:
    """Decompress ``archive`` into ``into``; ``None`` when the name is taken (gz left as is)."""
    name = archive.name[: -len(".gz")] or "data"
    budget.add_entries(1, label)
    compressed = archive.stat().st_size
    budget.expect(compressed, label)  # gzip's own size field is mod 2**32: no better guess
    into.mkdir(parents=True, exist_ok=True)
    temporary = into / f".{name}{PARTIAL_INFIX}{uuid.uuid4().hex[:8]}"
    try:
        with gzip.open(archive, "rb") as source:
            first = source.read(CHUNK_SIZE)
            _stream(source.read, temporary, budget, label, None, compressed, first)
    except (OSError, EOFError, zlib.error) as err:  # reading: writing errors come typed
        temporary.unlink(missing_ok=True)
        raise ExtractionError(
            f"{label} is not a readable gzip file ({err}).",
            hint="The download may be incomplete or damaged; download it again.",
        ) from err
    target = into / (name + _suffix_for_content(name, first))
    if os.path.lexists(target):
        budget.removed(temporary.stat().st_size)
        temporary.unlink()
        log.warning("%s: %s already exists; the .gz was left as it is", label, target.name)
        return None
    os.replace(temporary, target)
    return target


def _suffix_for_content(name: str, first: bytes) -> str:
    """``.gml`` for an extension-less GML file (MasterMap's ``5436275-SU4010.gz``)."""
    if PurePosixPath(name).suffix:
        return ""
    head = first[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return ".gml" if b"gml" in head.lower() else ".xml"
    return ""


# --- Deflate64 and other methods Python cannot read: Info-ZIP unzip ------------------------


def unzip_program() -> Optional[str]:
    """The Info-ZIP ``unzip`` on PATH, if any (it reads Deflate64)."""
    return shutil.which("unzip")


def _unzip_pattern(name: str) -> str:
    """``name`` as an unzip pattern that matches only itself (wildcards bracketed)."""
    pattern = re.sub(r"([\[*?])", r"[\1]", name)
    return "[-]" + pattern[1:] if pattern.startswith("-") else pattern


def _extract_with_unzip(
    archive: Path, info: zipfile.ZipInfo, target: Path, budget: _Budget, where: str
) -> None:
    """Stream one member through ``unzip -p``: our code still checks and writes every byte."""
    method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
    program = unzip_program()
    if program is None:
        raise UnsupportedCompressionError(
            f"{where} is compressed with {method}, which Python cannot read.",
            hint="Install Info-ZIP unzip (e.g. 'apt install unzip'; on Windows put unzip.exe "
            "on PATH) and try again, or extract the archive with 7-Zip.",
        )
    log.info("%s uses %s; reading it with %s", where, method, program)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [program, "-p", str(archive), _unzip_pattern(info.filename)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        assert process.stdout is not None
        crc = _CrcReader(process.stdout)
        try:
            count = _stream(crc.read, target, budget, where, info.file_size, info.compress_size)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            code = process.wait()
        errors.seek(0)
        message = errors.read(2000).decode("utf-8", "replace").strip()
    if code == 11 or (count == 0 and info.file_size > 0):
        raise UnsupportedCompressionError(
            f"{where} is compressed with {method} and unzip could not read it "
            f"({message or f'exit code {code}'})."
        )
    if count != info.file_size or crc.value != info.CRC:
        raise ExtractionError(
            f"{where} is damaged: unzip gave {count:,} bytes with CRC {crc.value:08x}, "
            f"the header says {info.file_size:,} bytes with CRC {info.CRC:08x}.",
            hint="Download the file again.",
        )


class _CrcReader:
    """Reads from a pipe and keeps the CRC-32 of what went through."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.value = 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.value = zlib.crc32(data, self.value)
        return data


__all__ = [
    "ARCHIVE_SUFFIXES",
    "CHUNK_SIZE",
    "MARKER_NAME",
    "ExtractLimits",
    "ExtractResult",
    "default_dest",
    "extract_all",
    "extract_archive",
    "is_archive",
    "safe_member_path",
    "unzip_program",
]
