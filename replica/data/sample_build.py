"""The contract between ``sampledata.generate`` and the generators that plug into it.

A ``Contributor`` is one generator (OS OpenData, OS data packages, later NHS
TRUD): it writes its files through the ``SampleBuild`` it is given and returns
the top-level catalogue keys it owns (``{"products": [...]}``,
``{"trud": {...}}``). Bumping its ``version`` makes ``generate`` rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable

from .sample_zip import ZipMember, ZipTime, write_zip

# Where the tests' sample data live (``datadir.ensure_sample_data`` makes them).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".build" / "replica-data"


@dataclass(frozen=True)
class SampleBuild:
    """Where a contributor writes: ``files_dir`` (served), ``work_dir`` (scratch, deleted after)."""

    data_dir: Path
    files_dir: Path
    work_dir: Path

    def relative(self, path: Path) -> str:
        """The path as catalogue.json gives it: relative to the data folder, with slashes."""
        return path.resolve().relative_to(self.data_dir.resolve()).as_posix()

    def scratch(self, *parts: str) -> Path:
        """A fresh empty folder under the scratch area."""
        folder = self.work_dir.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    def write_zip(self, relative_path: str, members: Iterable[ZipMember], **options: Any) -> str:
        """Write a reproducible zip under ``files/`` and return its catalogue path."""
        target = self.files_dir / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_zip(target, members, **options)
        return self.relative(target)

    def write_bytes(self, relative_path: str, data: bytes) -> str:
        target = self.files_dir / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return self.relative(target)


@dataclass(frozen=True)
class Contributor:
    """One generator: ``build`` writes files and returns its catalogue keys."""

    name: str
    version: str
    build: Callable[[SampleBuild], Dict[str, Any]]


__all__ = ["Contributor", "SampleBuild", "ZipMember", "ZipTime"]
