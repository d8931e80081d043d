"""Reading a little of a file, safely: a bounded text sample, its encoding, and the one error.

Discovery never fails for one bad file: a reader raises ``Unreadable`` with
words for people, and ``find_datasets`` lists the file with that problem.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Optional, Tuple

SAMPLE_BYTES = 64 * 1024


class Unreadable(Exception):
    """A file is damaged or not what its name says; the message is for people."""


def sibling(path: Path, suffix: str) -> Optional[Path]:
    """``path`` with another suffix, matched without regard to case (``.PRJ`` too)."""
    wanted = (path.stem + suffix).casefold()
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name.casefold() == wanted and entry.is_file():
                return Path(entry.path)
    return None


def read_text(path: Path, limit: int = SAMPLE_BYTES) -> str:
    with open(path, "rb") as handle:
        data = handle.read(limit)
    return decode_sample(data)[0]


def decode_sample(data: bytes) -> Tuple[str, str]:
    """(text, codec): UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(data) - 3:  # a character cut by the sample's end
            return data[: err.start].decode("utf-8"), "utf-8"
    return data.decode("cp1252", "replace"), "cp1252"
