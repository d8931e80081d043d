"""Safe extraction of downloaded archives: ``.zip`` (nested zips too) and ``.gz``.

Everything is unpacked into a temporary sibling folder (``<dest>.partial-…``)
and renamed to ``dest`` only when all of it succeeded, so a failed or cancelled
extraction never leaves a half-filled folder under the final name. A marker
file in ``dest`` (the archive's size and mtime) makes a second call over a
finished extraction do no work.

Safety, checked for every member of every archive, nested ones included:
unsafe names, links, devices and clashing entries are refused
(``archive_safety.py``: ``UnsafeArchiveError``, ``ArchiveNameClashError``);
zip bombs by one budget for the whole tree, declared sizes first and the
bytes really written chunk by chunk, and the free space seen at the start caps
what may be written (``zip_limits.py``: ``ZipBombError``,
``InsufficientSpaceError`` before the disk fills up, never after); a name
marked UTF-8 that is not valid UTF-8 is refused as damaged.

Zip members use no stored Unix mode: files get the user's default permissions,
so entries stored with mode 000 (OS Open UPRN) come out readable. Members
Python cannot decompress (Deflate64) go through ``unzip_tool.py``.

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
import gzip
import itertools
import os
import shutil
import threading
import time
import uuid
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Deque, Dict, Iterable, List, Optional, Set, Tuple

from ..errors import (
    ArchiveNameClashError,
    ExtractionError,
    ZipBombError,
)
from ..formatting import format_bytes
from ..redact import get_logger
from .archive_safety import NameCheck, check_entry_type, safe_member_path, safe_target
from .extract_marker import MARKER_NAME, check_dest_is_ours, finished_extraction, write_marker
from .unzip_tool import METHODS_PYTHON_READS, extract_with_unzip
from .zip_limits import CHUNK_SIZE, ExtractBudget, ExtractLimits, ProgressCallback, write_limited

log = get_logger(__name__)

DEFAULT_LIMITS = ExtractLimits()

PARTIAL_INFIX = ".partial-"
ARCHIVE_SUFFIXES = (".zip", ".gz")


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
    limits: ExtractLimits = DEFAULT_LIMITS,
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
    done = finished_extraction(archive, dest)
    if done is not None:
        log.debug("%s already extracted into %s", archive.name, dest)
        return ExtractResult(archive, dest, done, True, 0)
    check_dest_is_ours(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f"{dest.name}{PARTIAL_INFIX}{uuid.uuid4().hex[:8]}")
    partial.mkdir()
    try:
        budget = ExtractBudget(limits, cancel, progress, partial, archive)
        _unpack_all(archive, partial, budget)
        files = sorted(p for p in partial.rglob("*") if p.is_file())
        relative = [p.relative_to(partial).as_posix() for p in files]
        write_marker(partial, archive, relative, budget.written)
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
    limits: ExtractLimits = DEFAULT_LIMITS,
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


# --- unpacking ---------------------------------------------------------------------------


def _unpack_all(archive: Path, root: Path, budget: ExtractBudget) -> None:
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


def _unpack_one(
    archive: Path, into: Path, budget: ExtractBudget, label: str
) -> Optional[List[Path]]:
    """The files unpacked; ``None`` when the archive was left as it is."""
    if archive.name.lower().endswith(".zip"):
        return _extract_zip(archive, into, budget, label)
    produced = _gunzip(archive, into, budget, label)
    return [produced] if produced is not None else None


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


def _extract_zip(archive: Path, into: Path, budget: ExtractBudget, label: str) -> List[Path]:
    zf = _open_zip(archive, label)
    with zf:
        infos = zf.infolist()
        budget.add_entries(len(infos), label)
        plan: List[Tuple[zipfile.ZipInfo, Optional[PurePosixPath]]] = []
        declared = 0
        names = NameCheck(label, reserved=MARKER_NAME if into == budget.root else None)
        for info in infos:
            relative = safe_member_path(info.filename, label)
            check_entry_type(info, label)
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
            target = safe_target(into, relative, info.filename, label)
            if info.is_dir():
                _mkdir(target, label)
                continue
            _mkdir(target.parent, label)
            _extract_member(zf, archive, info, target, budget, f"{label} > {info.filename}")
            _set_mtime(target, info.date_time)
            written.append(target)
    return written


def _extract_member(
    zf: zipfile.ZipFile,
    archive: Path,
    info: zipfile.ZipInfo,
    target: Path,
    budget: ExtractBudget,
    where: str,
) -> None:
    if info.compress_type not in METHODS_PYTHON_READS:
        extract_with_unzip(archive, info, target, budget, where)
        return
    try:
        with zf.open(info) as source:
            write_limited(source.read, target, budget, where, info.file_size, info.compress_size)
    except NotImplementedError:
        extract_with_unzip(archive, info, target, budget, where)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as err:
        raise ExtractionError(
            f"{where} is damaged ({err}).",
            hint="Its sizes or checksum do not match its data; download the file again.",
        ) from err


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


def _gunzip(archive: Path, into: Path, budget: ExtractBudget, label: str) -> Optional[Path]:
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
            write_limited(source.read, temporary, budget, label, None, compressed, first)
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
