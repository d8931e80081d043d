"""The marker of a finished extraction: a second call over the same archive does no work.

A JSON file in the extraction folder records the archive's name, size and
mtime and the files it gave; a folder without one (and not empty) is not ours
to replace.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import ExtractionError

MARKER_NAME = ".os_downloads_extracted.json"
MARKER_VERSION = 1


def _archive_stamp(archive: Path) -> Tuple[int, int]:
    info = archive.stat()
    return info.st_size, info.st_mtime_ns


def write_marker(folder: Path, archive: Path, files: List[str], written: int) -> None:
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


def finished_extraction(archive: Path, dest: Path) -> Optional[List[Path]]:
    """The files of an earlier extraction when ``dest`` holds a complete one of this archive."""
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
    return files


def check_dest_is_ours(dest: Path) -> None:
    """Refuse to replace a folder extraction did not make (it may hold the user's files)."""
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
