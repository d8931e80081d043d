"""The replica in its own process for the benchmarks, with their extra content published.

``python -m os_downloads.bench.server --data-dir D --work W`` starts the
replica on free ports, publishes a 100 MB file (the large file's first 100 MB)
and a package version of small files, prints one JSON line
(``api_url``, ``api_key``, ``memory_version``, ``small_version``, ...) and
serves until its stdin closes. A server in another process, like a real one,
never competes with the client for an interpreter. Fault switches are set over
HTTP (``POST /__replica__/faults``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import List, Optional

from ..replica.data.sample_bench_layers import GEOPACKAGE_PRODUCT_ID as GEOPACKAGE_PRODUCT
from ..replica.data.sample_large import PRODUCT_ID as LARGE_PRODUCT
from ..replica.server import ReplicaServer

MEMORY_PACKAGE = "0040154231"
SMALL_PACKAGE = "0040156306"
MEMORY_FILE_BYTES = 100 * 10**6


def copy_prefix(source: Path, target: Path, count: int) -> None:
    if target.exists() and target.stat().st_size == count:
        return
    with open(source, "rb") as src, open(target, "wb") as out:
        left = count
        while left:
            chunk = src.read(min(8 << 20, left))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)


def small_files(folder: Path, count: int, size: int) -> List[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        path = folder / f"tile_{index:03d}.zip"
        if not path.exists() or path.stat().st_size != size:
            path.write_bytes(random.Random(index).randbytes(size))
        files.append(path)
    return files


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--small-bytes", type=int, default=256 * 1024)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    with ReplicaServer(args.data_dir) as server:
        product = server.inventory.product(LARGE_PRODUCT)
        if product is None:
            raise SystemExit(f"{args.data_dir} has no {LARGE_PRODUCT} product (large_gb = 0?)")
        large = next(
            s for s in server.inventory.all_files() if s.file_name.startswith("bench_large_")
        )
        memory_source = args.work / "memory-100mb.bin"
        copy_prefix(large.path, memory_source, MEMORY_FILE_BYTES)
        memory = server.publish_package_version(
            MEMORY_PACKAGE, files=[("bench_100mb.bin", memory_source)]
        )
        small = server.publish_package_version(
            SMALL_PACKAGE,
            files=small_files(args.work / "small-files", args.small_count, args.small_bytes),
        )
        server.warm_checksums()
        info = {
            "api_url": server.api_url,
            "api_origin": server.api_origin,
            "api_key": server.api_key,
            "large_product": LARGE_PRODUCT,
            "large_path": str(large.path),
            "geopackage_product": GEOPACKAGE_PRODUCT,
            "memory_package": MEMORY_PACKAGE,
            "memory_version": memory.id,
            "small_package": SMALL_PACKAGE,
            "small_version": small.id,
            "small_count": args.small_count,
            "small_bytes": args.small_bytes,
        }
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # serve until the benchmark closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
