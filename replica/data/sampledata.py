"""Generate the replica's sample data: ``generate(data_dir, large_gb=0) -> catalogue.json``.

Deterministic (same bytes every run) and cached: a stamp in ``data_dir`` records
the generator and contributor versions, so a second call returns at once. The
optional benchmark file (``large_gb`` > 0) is written once and kept across
rebuilds.

Generators plug in as ``Contributor``s (see ``sample_build``): OS OpenData, OS
data packages and NHS TRUD (the catalogue's ``"trud"`` key) by default; pass
``contributors=`` for others. Bump a contributor's ``version`` to rebuild.

Command line: ``python -m os_downloads.replica.data.sampledata [DATA_DIR] [--large-gb N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from .. import CATALOGUE_NAME
from . import sample_opendata, sample_packages, sample_trud
from .sample_bench_layers import (
    ensure_full_codepoint,
    ensure_large_geopackage,
    large_geopackage_product,
    use_full_codepoint,
)
from .sample_build import DEFAULT_DATA_DIR, Contributor, SampleBuild
from .sample_large import PRODUCT_ID as LARGE_PRODUCT_ID
from .sample_large import ensure_large_file, large_product
from .sample_postcodes import SAMPLE_POSTCODES, SamplePostcode
from .sample_vector import FIXED_TIMESTAMP

GENERATOR_VERSION = "1"
STAMP_NAME = ".sampledata-stamp.json"
BASE_NAME = ".sampledata-catalogue.json"  # the catalogue without the benchmark product
LOCK_NAME = ".sampledata.lock"

__all__ = [
    "GENERATOR_VERSION",
    "SAMPLE_POSTCODES",
    "SamplePostcode",
    "default_contributors",
    "generate",
]


def default_contributors() -> List[Contributor]:
    """Every generator whose output goes into catalogue.json, in catalogue order."""
    return [sample_opendata.CONTRIBUTOR, sample_packages.CONTRIBUTOR, sample_trud.CONTRIBUTOR]


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One generator at a time per folder (parallel test workers share .build/replica-data)."""
    try:
        import fcntl
    except ImportError:  # Windows: the replica is a Linux test tool; run without the lock
        yield
        return
    with open(data_dir / LOCK_NAME, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _write_text(path: Path, text: str) -> None:
    """Atomically, and only when the content changes (keeps mtime-based caches valid)."""
    with contextlib.suppress(OSError):
        if path.read_text("utf-8") == text:
            return
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, "utf-8")
    os.replace(partial, path)


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _clear_files(files_dir: Path) -> None:
    """Remove earlier sample files but keep the (expensive) benchmark file."""
    if not files_dir.exists():
        return
    for child in files_dir.iterdir():
        if child.name == LARGE_PRODUCT_ID:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _merge(catalogue: Dict[str, Any], part: Dict[str, Any], source: str) -> None:
    for key, value in part.items():
        if isinstance(value, list):
            catalogue.setdefault(key, []).extend(value)
        elif key in catalogue:
            raise ValueError(
                f"Two sample generators write the catalogue key {key!r} (second: {source})"
            )
        else:
            catalogue[key] = value


def _build(data_dir: Path, contributors: Sequence[Contributor]) -> Dict[str, Any]:
    files_dir = data_dir / "files"
    work_dir = data_dir / ".sampledata-work"
    _clear_files(files_dir)
    shutil.rmtree(work_dir, ignore_errors=True)
    files_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True)
    previous = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = FIXED_TIMESTAMP  # also set as a GDAL config option per write
    try:
        build = SampleBuild(data_dir=data_dir, files_dir=files_dir, work_dir=work_dir)
        catalogue: Dict[str, Any] = {"products": [], "dataPackages": []}
        for contributor in contributors:
            _merge(catalogue, contributor.build(build), contributor.name)
        return catalogue
    finally:
        if previous is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = previous
        shutil.rmtree(work_dir, ignore_errors=True)


def generate(
    data_dir: Path, *, large_gb: float = 0, contributors: Optional[Sequence[Contributor]] = None
) -> Path:
    """Write (or reuse) the sample data in ``data_dir``; returns ``data_dir/catalogue.json``.

    ``large_gb`` > 0 adds the product ``BenchLargeFile`` whose zip holds that many GB,
    serves Code-Point Open's CSV at full size and adds ``BenchLargeGeoPackage``
    (``sample_bench_layers``).
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    chosen = list(contributors) if contributors is not None else default_contributors()
    want = {"generator": GENERATOR_VERSION, "contributors": {c.name: c.version for c in chosen}}
    stamp, base = data_dir / STAMP_NAME, data_dir / BASE_NAME
    with _locked(data_dir):
        if _read_json(stamp) != want or _read_json(base) is None:
            stamp.unlink(missing_ok=True)
            _write_text(base, _dumps(_build(data_dir, chosen)))
            _write_text(stamp, _dumps(want))
        catalogue = _read_json(base)
        if large_gb > 0:
            target = ensure_large_file(data_dir / "files", large_gb)
            catalogue["products"].append(
                large_product(target.relative_to(data_dir).as_posix(), large_gb)
            )
            codepoint = ensure_full_codepoint(data_dir / "files")
            use_full_codepoint(catalogue, codepoint.relative_to(data_dir).as_posix())
            gpkg = ensure_large_geopackage(data_dir / "files", large_gb)
            catalogue["products"].append(
                large_geopackage_product(gpkg.relative_to(data_dir).as_posix(), large_gb)
            )
        out = data_dir / CATALOGUE_NAME
        _write_text(out, _dumps(catalogue))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the OS Downloads replica's sample data.")
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--large-gb", type=float, default=0.0, help="add a benchmark file of this many GB"
    )
    args = parser.parse_args(argv)
    print(generate(args.data_dir, large_gb=args.large_gb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
