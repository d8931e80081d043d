"""The benchmark product: one zip of ``large_gb`` GB of seeded pseudo-random bytes.

Written once in chunks (never held in memory) as a valid ZIP64 archive with a
stored member, so a benchmark can download, verify and extract it; reused while
its stamp says it was finished for the same size.
"""

from __future__ import annotations

import json
import os
import random
import zipfile
from pathlib import Path
from typing import Any, Dict

from .sample_zip import DEFAULT_TIME

PRODUCT_ID = "BenchLargeFile"
LARGE_VERSION = "1"
_CHUNK = 8 * 1024 * 1024
_MEMBER = "Data/bench_large.bin"


def payload_bytes(large_gb: float) -> int:
    """``large_gb`` decimal gigabytes (10**9 bytes each)."""
    return int(round(large_gb * 10**9))


def file_name(large_gb: float) -> str:
    return f"bench_large_{large_gb:g}gb.zip"


def _write(target: Path, size: int) -> None:
    rng = random.Random(f"bench-large:{size}")
    info = zipfile.ZipInfo(_MEMBER, date_time=DEFAULT_TIME)
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_STORED
    with (
        zipfile.ZipFile(target, "w", allowZip64=True) as archive,
        archive.open(info, "w", force_zip64=True) as out,
    ):
        left = size
        while left > 0:
            step = min(_CHUNK, left)
            out.write(rng.randbytes(step))
            left -= step


def ensure_large_file(files_dir: Path, large_gb: float) -> Path:
    """The benchmark zip under ``files_dir``, written now unless already complete."""
    folder = files_dir / PRODUCT_ID
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name(large_gb)
    stamp = folder / f".{target.name}.stamp.json"
    want = {"version": LARGE_VERSION, "payload": payload_bytes(large_gb)}
    try:
        done = json.loads(stamp.read_text("utf-8"))
        if {k: done.get(k) for k in want} == want and done.get("size") == target.stat().st_size:
            return target
    except (OSError, ValueError):
        pass
    partial = target.with_name(target.name + ".partial")
    _write(partial, want["payload"])
    os.replace(partial, target)
    stamp.write_text(json.dumps({**want, "size": target.stat().st_size}), "utf-8")
    return target


def large_product(relative_path: str, large_gb: float) -> Dict[str, Any]:
    """The catalogue entry of the benchmark product (the replica's own, not a real OS id)."""
    return {
        "id": PRODUCT_ID,
        "name": "Benchmark large file (replica only)",
        "description": [
            f"{large_gb:g} GB of pseudo-random bytes in a zip,"
            " for download benchmarks against the replica."
        ],
        "version": "2026-01",
        "areas": ["GB"],
        "dataStructures": ["Vector"],
        "category": "Mapping",
        "categories": ["mapsAndImagery"],
        "formats": [{"format": "GeoPackage"}],
        "imageCount": 0,
        "downloads": [
            {
                "fileName": Path(relative_path).name,
                "area": "GB",
                "format": "GeoPackage",
                "subformat": None,
                "path": relative_path,
            }
        ],
        "images": [],
        "imagesLarge": [],
    }
