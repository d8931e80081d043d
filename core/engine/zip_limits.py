"""What an archive may unpack to: one budget for a whole tree of nested archives.

``ExtractLimits`` are the bounds; ``ExtractBudget`` counts entries and bytes
for one extraction (nested zips and .gz included) against them and the free
space, and ``write_limited`` copies a member to disk chunk by chunk under that
budget (headers can lie and .gz has none, so the real bytes are counted).
"""

from __future__ import annotations

import errno
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ..errors import Cancelled, ExtractionError, InsufficientSpaceError, ZipBombError
from ..formatting import format_bytes
from .free_space import SPACE_MARGIN_BYTES, check_free_space

CHUNK_SIZE = 1 << 20

_MiB = 1 << 20

_GiB = 1 << 30

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


class ExtractBudget:
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


def write_limited(
    read: Callable[[int], bytes],
    target: Path,
    budget: ExtractBudget,
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
        raise write_error(err, target, where) from err
    return count


def write_error(err: OSError, target: Path, where: str) -> Exception:
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return InsufficientSpaceError(f"The disk filled up while extracting {where}.")
    return ExtractionError(f"Cannot write {target.name} from {where}: {err.strerror or err}.")
