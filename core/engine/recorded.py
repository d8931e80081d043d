"""The folder's manifest as the download engine's record of earlier runs.

The engine (``download_files(..., recorded=)``) never reads the job-level
manifest itself; a job hands it this lookup, which reads the manifest afresh
on every call (another program may have finished the same file meanwhile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .files import Checksum, Recorded, RecordedFile
from .manifest import read_manifest


def manifest_records(folder: Path) -> Recorded:
    """A ``Recorded`` lookup over ``folder``'s manifest (none: nothing recorded)."""

    def lookup(name: str) -> Optional[RecordedFile]:
        manifest = read_manifest(folder)
        entry = manifest.file(name) if manifest is not None else None
        if entry is None:
            return None
        if entry.md5:
            return RecordedFile(entry.size, Checksum("md5", entry.md5.lower()))
        if entry.sha256:
            return RecordedFile(entry.size, Checksum("sha256", entry.sha256.lower()))
        return RecordedFile(entry.size)

    return lookup
