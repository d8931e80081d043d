"""The replica's data folder: generated once, regenerated when outdated.

``ensure_sample_data()`` runs ``sampledata.generate`` (GDAL) into
``.build/replica-data`` the first time, and again only when the generator's
source (``sample*.py``, ``catalogue*``) or ``large_gb`` changed (a stamp file
records both). Generation goes to a temporary folder that replaces the old one
at the end, so an interrupted run never leaves half a data set.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterator

from .. import CATALOGUE_NAME
from .sample_build import DEFAULT_DATA_DIR
from .sampledata import generate

STAMP_NAME = ".replica-data-stamp"
GENERATOR_SOURCES = ("sample*.py", "catalogue*.py", "catalogue*.json")


def default_data_dir(large_gb: float = 0) -> Path:
    """Large benchmark data live apart, so tests never regenerate them away."""
    return DEFAULT_DATA_DIR if not large_gb else DEFAULT_DATA_DIR.with_name("replica-data-large")


def _stamp(large_gb: float) -> str:
    digest = hashlib.sha256(f"large_gb={float(large_gb)}\n".encode())
    for source in generator_sources():
        digest.update(source.name.encode() + b"\n" + source.read_bytes())
    return digest.hexdigest()


def generator_sources() -> list:
    """The generator's modules: a change in any of them means new data."""
    here = Path(__file__).parent
    return sorted(p for pattern in GENERATOR_SOURCES for p in here.glob(pattern) if p.is_file())


def is_current(data_dir: Path, large_gb: float = 0) -> bool:
    """True when the folder needs no (re)generation.

    A catalogue without our stamp was made by someone else (a hand-made data
    set passed with --data-dir): it is used as it is, never overwritten.
    """
    stamp = data_dir / STAMP_NAME
    if not (data_dir / CATALOGUE_NAME).is_file():
        return False
    return not stamp.is_file() or stamp.read_text("utf-8").strip() == _stamp(large_gb)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One process generates at a time (tests and a demo may start together)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no lock, generation is still atomic by rename
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_sample_data(data_dir: Path = DEFAULT_DATA_DIR, *, large_gb: float = 0) -> Path:
    """The data folder, generated first if missing or outdated."""
    data_dir = Path(data_dir).resolve()
    if is_current(data_dir, large_gb):
        return data_dir
    with _exclusive(data_dir.with_name(data_dir.name + ".lock")):
        if is_current(data_dir, large_gb):
            return data_dir
        building = data_dir.with_name(f"{data_dir.name}.building-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        try:
            generate(building, large_gb=large_gb)
            (building / STAMP_NAME).write_text(_stamp(large_gb), "utf-8")
            old = data_dir.with_name(f"{data_dir.name}.old-{os.getpid()}")
            if data_dir.exists():
                os.replace(data_dir, old)
            os.replace(building, data_dir)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return data_dir
