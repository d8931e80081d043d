"""What a download job did, file by file: downloaded or skipped, verified or not.

Returned by ``download_files``; read by the job pipeline (manifest, extraction).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from .files import Checksum, RemoteFile

STATUS_DOWNLOADED = "downloaded"

STATUS_SKIPPED = "skipped"


@dataclass(frozen=True)
class FileResult:
    """What happened to one file.

    ``status``: "downloaded" or "skipped" (already on disk and checked).
    ``verified``: the checksum was listed and matched (False: size only).
    ``checksum``: what the bytes hash to (the listed algorithm, else MD5).
    ``bytes_transferred``: body bytes received for it in this run.
    """

    file: RemoteFile
    path: Path
    status: str
    verified: bool
    size: int
    checksum: Checksum
    bytes_transferred: int = 0
    resumes: int = 0

    @property
    def name(self) -> str:
        return self.file.file_name


@dataclass(frozen=True)
class DownloadResult:
    dest: Path
    files: Tuple[FileResult, ...]
    elapsed_s: float = 0.0

    @property
    def downloaded(self) -> List[FileResult]:
        return [f for f in self.files if f.status == STATUS_DOWNLOADED]

    @property
    def skipped(self) -> List[FileResult]:
        return [f for f in self.files if f.status == STATUS_SKIPPED]

    @property
    def unverified(self) -> List[FileResult]:
        return [f for f in self.files if not f.verified]

    @property
    def downloaded_count(self) -> int:
        return len(self.downloaded)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    @property
    def bytes_transferred(self) -> int:
        return sum(f.bytes_transferred for f in self.files)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)
