"""Byte-for-byte reproducible zip and gzip files for the sample data.

Every entry gets the same timestamp, entries are written in sorted order and
parent folders get their own entries (as OS zips have), so two generations
give identical archives and identical MD5s. ``mode`` lets an entry carry the
Unix permission bits the real OS Open UPRN zips have (000).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Tuple, Union

ZipTime = Tuple[int, int, int, int, int, int]

DEFAULT_TIME: ZipTime = (2026, 1, 5, 9, 0, 0)
_UNIX = 3  # ZipInfo.create_system: the mode bits in external_attr mean Unix permissions


@dataclass(frozen=True)
class ZipMember:
    """One file in an archive: its path inside the zip and its bytes (or a file to copy)."""

    name: str
    data: Union[bytes, Path]
    mode: int = 0o644

    def read(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else Path(self.data).read_bytes()


def _info(name: str, date_time: ZipTime, mode: int, *, is_dir: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.create_system = _UNIX
    info.compress_type = zipfile.ZIP_STORED if is_dir else zipfile.ZIP_DEFLATED
    kind = 0o040000 if is_dir else 0o100000
    info.external_attr = ((kind | mode) << 16) | (0x10 if is_dir else 0)
    return info


def _folders(names: Iterable[str]) -> List[str]:
    folders = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]) + "/")
    return sorted(folders)


def write_zip(
    target: Union[Path, io.BytesIO],
    members: Iterable[ZipMember],
    *,
    date_time: ZipTime = DEFAULT_TIME,
    folder_entries: bool = True,
    folder_mode: int = 0o755,
) -> None:
    """Write ``members`` (sorted by name, folders first where they nest) to ``target``."""
    chosen = sorted(members, key=lambda m: m.name)
    names = [m.name for m in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate names in a sample zip: {names}")
    entries: List[Tuple[str, bool, Union[ZipMember, None]]] = []
    if folder_entries:
        entries += [(f, True, None) for f in _folders(names)]
    entries += [(m.name, False, m) for m in chosen]
    entries.sort(key=lambda e: e[0])
    with zipfile.ZipFile(target, "w") as archive:
        for name, is_dir, member in entries:
            if is_dir:
                archive.writestr(_info(name, date_time, folder_mode, is_dir=True), b"")
            else:
                assert member is not None
                info = _info(name, date_time, member.mode, is_dir=False)
                archive.writestr(info, member.read(), compresslevel=6)


def zip_bytes(members: Iterable[ZipMember], **options) -> bytes:
    """A whole archive as bytes, e.g. the per-tile zips nested inside Terrain 50."""
    buffer = io.BytesIO()
    write_zip(buffer, members, **options)
    return buffer.getvalue()


def gzip_bytes(data: bytes, *, mtime: int = 1767603600) -> bytes:
    """gzip with a fixed header time and no file name, so the bytes never vary."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=mtime, compresslevel=6) as out:
        out.write(data)
    return buffer.getvalue()
