"""Build test archives, hostile ones included, with nothing but zipfile and byte patches.

``make_zip`` writes members as given (``zipfile`` stores names like ``../evil``
verbatim). The ``patch_*`` helpers then rewrite header fields in both the
local header and the central directory, to make archives that lie: a
compression method Python cannot read (Deflate64), a wrong size, a name in a
legacy code page. ``nested_bomb`` and ``duplicate_zip`` build the hostile
trees the extraction budget and name checks must refuse.
"""

from __future__ import annotations

import gzip
import io
import stat
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Tuple, Union

DEFLATE64 = 9


@dataclass(frozen=True)
class Entry:
    """One zip member. ``mode``: Unix mode bits including the file type (None: none stored)."""

    name: str
    data: bytes = b""
    mode: Optional[int] = None
    method: int = zipfile.ZIP_DEFLATED
    level: Optional[int] = None


def file(name: str, data: Union[bytes, str] = b"x", **options) -> Entry:
    return Entry(name, data.encode() if isinstance(data, str) else data, **options)


def folder(name: str) -> Entry:
    return Entry(name.rstrip("/") + "/", b"", stat.S_IFDIR | 0o755, zipfile.ZIP_STORED)


def zip_bytes(entries: Iterable[Entry]) -> bytes:
    """The zip of ``entries`` in order; duplicate names are written as given."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=(2026, 1, 5, 9, 0, 0))
            info.compress_type = entry.method
            if entry.mode is not None:
                info.create_system = 3
                info.external_attr = entry.mode << 16
            archive.writestr(info, entry.data, compresslevel=entry.level)
    return buffer.getvalue()


def make_zip(path: Path, entries: Iterable[Entry]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(entries))
    return path


def make_gz(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


# --- patching headers ------------------------------------------------------------------


def _headers(data: bytes) -> List[Tuple[str, int, int]]:
    """(name, local header offset, central directory record offset) for every member."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = []
    position = archive.start_dir
    for info in archive.infolist():
        assert data[position : position + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack(
            "<HHH", data[position + 28 : position + 34]
        )
        out.append((info.filename, info.header_offset, position))
        position += 46 + name_len + extra_len + comment_len
    return out


def _put(data: bytearray, offset: int, fmt: str, value: int) -> None:
    data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)


def patch_method(data: bytes, method: int, names: Optional[Iterable[str]] = None) -> bytes:
    """Say ``method`` in the headers of ``names`` (all members when None); data unchanged."""
    wanted = None if names is None else set(names)
    out = bytearray(data)
    for name, local, central in _headers(data):
        if wanted is None or name in wanted:
            _put(out, local + 8, "<H", method)
            _put(out, central + 10, "<H", method)
    return bytes(out)


def patch_size(data: bytes, name: str, file_size: int) -> bytes:
    """Make ``name``'s headers declare ``file_size`` uncompressed bytes (a lie)."""
    out = bytearray(data)
    for member, local, central in _headers(data):
        if member == name:
            _put(out, local + 22, "<I", file_size)
            _put(out, central + 24, "<I", file_size)
    return bytes(out)


def patch_flags(data: bytes, name: str, bits: int) -> bytes:
    """Set general-purpose flag ``bits`` on ``name`` (0x1: "encrypted")."""
    out = bytearray(data)
    for member, local, central in _headers(data):
        if member == name:
            _put(out, local + 6, "<H", struct.unpack("<H", data[local + 6 : local + 8])[0] | bits)
            _put(
                out,
                central + 8,
                "<H",
                struct.unpack("<H", data[central + 8 : central + 10])[0] | bits,
            )
    return bytes(out)


def patch_name(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace a member's name bytes (same length) without setting the UTF-8 flag."""
    assert len(old) == len(new)
    return data.replace(old, new)


def deflate64_zip(entries: Iterable[Entry]) -> bytes:
    """A zip whose members are real Deflate64 streams.

    Written as Deflate with stored blocks only (``compresslevel=0``), then
    relabelled method 9: stored blocks are encoded identically in Deflate and
    Deflate64 (the formats differ only in the window size and length code 285),
    so Info-ZIP's Deflate64 decoder reads them, and Python refuses them just as
    it refuses the Deflate64 members in real Terrain 50 releases.
    """
    plain = [Entry(e.name, e.data, e.mode, zipfile.ZIP_DEFLATED, 0) for e in entries]
    return patch_method(zip_bytes(plain), DEFLATE64, [e.name for e in plain if e.data])


# --- hostile trees ------------------------------------------------------------------------


def nested_bomb(levels: int, fanout: int, leaf_bytes: int, inner: str = "zip") -> bytes:
    """A zip of zips (of .gz when ``inner="gz"`` at the bottom) that expands enormously.

    The bottom archive holds ``fanout`` members of ``leaf_bytes`` zeros; each
    level above holds ``fanout`` copies of the level below. Keep ``leaf_bytes``
    at most the per-entry ratio grace (4 MiB) and every member is "allowed" on
    its own: only a budget over the whole tree catches it. Expands to
    ``leaf_bytes * fanout ** (levels + 1)`` bytes.
    """
    if inner == "gz":
        leaf = gzip.compress(bytes(leaf_bytes), compresslevel=9, mtime=0)
        blob = zip_bytes([file(f"part{i}.csv.gz", leaf, level=9) for i in range(fanout)])
    else:
        blob = zip_bytes([file(f"zeros{i}.bin", bytes(leaf_bytes), level=9) for i in range(fanout)])
    for level in range(levels):
        blob = zip_bytes([file(f"level{level}_{i}.zip", blob, level=9) for i in range(fanout)])
    return blob


def duplicate_zip(name: str, first: bytes, second: bytes) -> bytes:
    """A zip with two entries called ``name`` (``zipfile`` reads both; naive tools keep one)."""
    return zip_bytes([file(name, first), file(name, second)])


def patch_utf8_name(data: bytes, old: str, new: bytes) -> bytes:
    """Replace ``old``'s UTF-8 name bytes with ``new`` (same length), keeping the UTF-8 flag.

    ``zipfile`` sets the flag for non-ASCII names, so ``old`` must be one
    (``"café.txt"``); ``new`` may then be bytes that are not UTF-8 at all.
    """
    encoded = old.encode("utf-8")
    assert len(encoded) == len(new) and data.count(encoded) == 2  # local + central header
    return data.replace(encoded, new)
