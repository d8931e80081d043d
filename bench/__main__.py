"""``python -m os_downloads.bench``: run the benchmarks, print a table, write JSON.

Options: ``--large-gb N`` (default: env ``OS_DOWNLOADS_BENCH_GB``, else 1),
``--reps N`` (runs per measurement, median reported; default 3), ``--only
throughput,paced,memory,many,extract,stall,holdings,postgis,layers``, ``--out FILE``
(default ``.build/bench/results.json``). The replica's data with the large file
live in ``.build/replica-data-large`` (made on the first run, reused after).
A short developer run: ``--only throughput,memory --reps 1`` (the paced link
alone takes about two minutes for 1 GB, 80 s of it curl's one connection at 12 MiB/s).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..core.api.client import OSDownloadsClient
from ..replica.data.datadir import default_data_dir, ensure_sample_data
from . import cases

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / ".build" / "bench"
ALL = (
    "throughput",
    "paced",
    "memory",
    "many",
    "extract",
    "stall",
    "holdings",
    "postgis",
    "layers",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m os_downloads.bench")
    parser.add_argument(
        "--large-gb", type=float, default=float(os.environ.get("OS_DOWNLOADS_BENCH_GB", "1"))
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.json")
    return parser


def _pythonpath() -> str:
    """Where ``os_downloads`` is importable from, for the child processes."""
    import os_downloads

    return str(Path(os_downloads.__file__).parent.parent)


def print_table(rows: List[cases.Row]) -> None:
    headers = ("benchmark", "ours", "reference", "ratio", "target")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print(line)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    print(line)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = wanted - set(ALL)
    if unknown:
        print(f"unknown benchmarks: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    results: Dict[str, Any] = {"created_at": cases.now_iso(), "machine": cases.describe_machine()}
    rows: List[cases.Row] = []
    if "holdings" in wanted:
        from .holdings import holdings

        print("holdings: full build vs ogr2ogr, a COU vs the full build...", flush=True)
        results["holdings"], found = holdings(
            BENCH_DIR / "holdings", _pythonpath(), reps=max(1, args.reps)
        )
        rows += found
        wanted.discard("holdings")
    if "postgis" in wanted:
        from .holdings_postgis import holdings_postgis

        print("holdings in PostGIS: full build vs ogr2ogr PG_USE_COPY, a COU...", flush=True)
        results["postgis"], found = holdings_postgis(_pythonpath(), reps=max(1, args.reps))
        rows += found
        wanted.discard("postgis")
    if not wanted:  # only the holdings: no replica, no large file needed
        return _finish(args, results, rows)
    data_dir = default_data_dir(args.large_gb)
    print(f"Sample data with a {args.large_gb:g} GB file in {data_dir} (made once)...", flush=True)
    ensure_sample_data(data_dir, large_gb=args.large_gb)
    work = BENCH_DIR / "work"
    work.mkdir(parents=True, exist_ok=True)

    results["large_gb"] = args.large_gb
    results["reps"] = args.reps
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "os_downloads.bench.server",
            "--data-dir",
            str(data_dir),
            "--work",
            str(work),
        ],
        env=dict(os.environ, PYTHONPATH=_pythonpath()),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            print("the replica did not start", file=sys.stderr)
            return 1
        info = json.loads(line)
        client = OSDownloadsClient(info["api_url"])
        env = cases.BenchEnv(
            info=info,
            client=client,
            large=client.product_downloads(info["large_product"])[0].remote_file(),
            work=work,
            reps=max(1, args.reps),
            pythonpath=_pythonpath(),
        )
        large_peaks: List[int] = []
        if "throughput" in wanted:
            print(
                "1/7 one large file over loopback: engine vs hashlib MD5, curl | tee | md5sum...",
                flush=True,
            )
            results["throughput"], found = cases.throughput(env)
            large_peaks.append(results["throughput"]["engine_peak_rss_bytes"])
            rows += found
        if "paced" in wanted:
            print(
                "2/7 one large file, each connection paced: engine vs curl and aria2c...",
                flush=True,
            )
            results["paced_link"], found = cases.paced_link(env)
            large_peaks.append(results["paced_link"]["engine"]["peak_rss_bytes"])
            rows += found
        if "memory" in wanted:
            print("3/7 peak memory: 100 MB vs the large file...", flush=True)
            if not large_peaks:
                report = cases.run_child(
                    env, work / "memory-large", "--product", info["large_product"], *cases.RANGED
                )
                shutil.rmtree(work / "memory-large", ignore_errors=True)
                large_peaks.append(report["peak_rss_bytes"])
            results["memory"], found = cases.memory(env, max(large_peaks))
            rows += found
        if "many" in wanted:
            print("4/7 a package of small files: 4 workers vs one by one...", flush=True)
            results["many_files"], found = cases.many_files(env)
            rows += found
        if "extract" in wanted:
            print("5/7 extraction vs unzip...", flush=True)
            results["extraction"], found = cases.extraction(env)
            rows += found
        if "stall" in wanted:
            print("6/7 QGIS main-thread stall: the dock downloads the large file...", flush=True)
            results["main_thread_stall"], found = cases.main_thread_stall(env)
            rows += found
        if "layers" in wanted:
            print(
                "7/7 big layers: Code-Point Open full size and a large GeoPackage,"
                " to the first rendered map...",
                flush=True,
            )
            results["big_layers"], found = cases.big_layers(env)
            rows += found
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return _finish(args, results, rows)


def _finish(args: argparse.Namespace, results: Dict[str, Any], rows: List[cases.Row]) -> int:
    results["machine"]["load_average_at_end"] = cases.load_average()
    print()
    print_table(rows)
    start, end = results["machine"]["load_average_at_start"], cases.load_average()
    if start and end:
        print(
            f"Load average (1 min) on {results['machine']['cpus']} cores: {start[0]} at the start,"
            f" {end[0]} at the end; other jobs slow every figure, ratios less."
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(f"\nResults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
