"""Is this archive member safe to write? Names, entry types and clashes, checked before writing.

Refused: names that would escape the folder (``..``, absolute paths, drive
letters, backslash tricks, ``:``, control characters), symbolic links and
device entries, encrypted entries, and two entries of one zip that would land
on the same file (compared without regard to case, as Windows does).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Dict, Optional

from ..errors import ArchiveNameClashError, ExtractionError, UnsafeArchiveError

_DRIVE = re.compile(r"^[A-Za-z]:")

_CONTROL = re.compile(r"[\x01-\x1f\x7f]")


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


def check_entry_type(info: zipfile.ZipInfo, where: str) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise UnsafeArchiveError(f"{where}: entry {info.filename!r} is a symbolic link.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(f"{where}: entry {info.filename!r} is a device or special file.")
    if info.flag_bits & 0x1:
        raise ExtractionError(f"{where}: entry {info.filename!r} is encrypted (password).")


def safe_target(root: Path, relative: PurePosixPath, name: str, where: str) -> Path:
    target = root.joinpath(*relative.parts)
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(target.parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise UnsafeArchiveError(f"{where}: entry {name!r} points outside the folder.")
    return target


class NameCheck:
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
