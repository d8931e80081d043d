"""What the download engine fetches: a file by URL, name, size and checksum.

Source-agnostic on purpose: OS products, OS data packages and TRUD releases
all turn their listings into ``RemoteFile``s; the engine never imports an API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

LATEST = "latest"  # the version (or release) id that means "the newest there is"


@dataclass(frozen=True)
class Checksum:
    """What a file's bytes must hash to. ``hexdigest`` is lower case."""

    algorithm: str  # "md5" or "sha256"
    hexdigest: str

    @classmethod
    def of(cls, algorithm: str, value: Optional[str]) -> Optional[Checksum]:
        return cls(algorithm, value.strip().lower()) if value else None


@dataclass(frozen=True)
class RemoteFile:
    """One file the download engine fetches, whatever API listed it.

    ``url`` is what to ask for it: for OS, an API URL answering 307 to storage;
    for TRUD, the file itself. ``size`` and ``checksum`` may be unknown.
    """

    url: str
    file_name: str
    size: Optional[int] = None
    checksum: Optional[Checksum] = None


@dataclass(frozen=True)
class RecordedFile:
    """What an earlier run recorded of a file it fetched: its size and digest.

    Lets the engine skip a file whose listing has no checksum (size and the
    recorded digest must match what is on disk) without knowing where the
    record is kept (for jobs: the folder's manifest, ``engine/recorded.py``).
    """

    size: Optional[int]
    checksum: Optional[Checksum] = None


# name -> what was recorded of it, or None; asked when needed (another program may record meanwhile)
Recorded = Callable[[str], Optional[RecordedFile]]
