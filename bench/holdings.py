"""Holdings benchmark: building a holding vs ``ogr2ogr -f GPKG``, a COU vs the full build.

Data: ``replica.sample_holdings.ensure_bench_data`` (≥ 200,000 MasterMap features
and ≥ 200,000 AddressBase Premium records per full supply, gzipped/zipped as
OS supplies them; made once into ``.build/holdings-bench``). Every build runs
in a fresh process (``python -m os_downloads.bench.holdings --child``) that
reports its time and peak RSS; ``ogr2ogr`` (GDAL's own loader, which applies
no COU and reads ABP's mixed records as one table) loads the same files, one
run of each side after the other, each side first in turn; the ratios are of
the medians. ogr2ogr's ABP load is lighter than ours: with ``HEADERS=NO`` it
takes the first line's 9 columns as the table's and drops the rest of every
record (ours keeps all 10 tables' columns, BLPU points, an R-tree and key
indexes). The ABP reference calls ogr2ogr once per file while our build runs in
one process whose start is not timed, so each call's own start (measured in the
same run: an append of a file with only a header and a trailer) is taken off the
reference's time.

OS NGD (issue 14): ≥ 200,000 features in four feature-type zips of CSV with WKT;
ogr2ogr loads each CSV (with its .csvt) as one layer, EPSG:27700.

Targets (issue 13): full build ≤ 1.2× ogr2ogr; a COU < 5 % of the full build's
time; peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

Row = Tuple[str, str, str, str, str]
MEMORY_TARGET_BYTES = 300 * 10**6
KINDS = {"MMTOPO": "mastermap", "ABP": "addressbase", "OSNGD": "ngd"}
NAMES = {"MMTOPO": "MasterMap", "ABP": "AddressBase Premium", "OSNGD": "OS NGD"}


def _child(argv: Sequence[str]) -> int:
    """Apply ``--version`` folders in order to ``--holding``; print seconds and peak RSS."""
    from ..core.holdings.holding import AppliedVersion, HoldingInfo
    from ..core.holdings.target import open_holding, parse_target
    from ..core.holdings.update import apply_version

    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--holding", required=True)  # PATH.gpkg or postgresql://… (PostGIS)
    parser.add_argument("--schema", default="")
    parser.add_argument("--product", required=True)
    parser.add_argument("--version", action="append", nargs=3, metavar=("ID", "SUPPLY", "DIR"))
    args = parser.parse_args(argv)
    info = HoldingInfo("bench", "bench", args.product, args.product, KINDS[args.product], "", "")
    timings = []
    with open_holding(parse_target(args.holding, args.schema), create=True) as holding:
        for version_id, supply, folder in args.version:
            files = sorted(p for p in Path(folder).iterdir() if p.is_file())
            started = time.perf_counter()
            apply_version(holding, info, AppliedVersion(version_id, "", supply, "", "", ""), files)
            timings.append(time.perf_counter() - started)
    peak = _peak_rss()
    print(json.dumps({"seconds": timings, "peak_rss_bytes": peak}))
    return 0


def _peak_rss() -> int:
    """This process's peak RSS. Linux: VmHWM (ru_maxrss survives exec, so a child
    would report its parent's peak); elsewhere ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _run_child(
    pythonpath: str,
    holding: Any,
    product: str,
    versions: List[Tuple[str, str, Path]],
    *,
    schema: str = "",
):
    """One build in a fresh process; ``holding``: a .gpkg path or a postgresql:// URL."""
    command = [sys.executable, "-m", "os_downloads.bench.holdings", "--child"]
    command += ["--holding", str(holding), "--product", product]
    command += ["--schema", schema] if schema else []
    for version_id, supply, folder in versions:
        command += ["--version", version_id, supply, str(folder)]
    result = subprocess.run(
        command,
        env=dict(os.environ, PYTHONPATH=pythonpath),
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _ogr2ogr(files: List[Path], product: str, target: Path) -> float:
    """GDAL's loader on the same files, one call per file (appending), timed."""
    if target.exists():
        target.unlink()
    started = time.perf_counter()
    for index, path in enumerate(files):
        more = ["-update", "-append"] if index else []
        if product == "OSNGD":
            # GDAL reads the .csvt beside the CSV (its 3.6 knows only some of OS's types).
            with zipfile.ZipFile(path) as archive:
                member = next(n for n in archive.namelist() if n.endswith(".csv"))
            layer = member[: -len(".csv")]
            source = f"/vsizip/{path}/{member}"
            extra = ["-oo", "GEOM_POSSIBLE_NAMES=geometry", "-oo", "KEEP_GEOM_COLUMNS=NO"]
            extra += ["-a_srs", "EPSG:27700", "-nln", layer, "-nlt", "GEOMETRY"]
            more = []  # a layer per feature type: each call adds one to the same file
            if index:
                more = ["-update"]
        elif product == "MMTOPO":
            source = f"/vsigzip/{path}"
            # The GML 2 chunks carry fid as a field too; the GML 3.2 one does not.
            extra = ["-lco", "FID=gpkg_fid", "-forceNullable"]
        else:
            source = f"/vsizip/{path}/{path.name[: -len('_csv.zip')]}.csv"
            extra = ["-oo", "HEADERS=NO", "-nln", "abp"]
        run_ogr2ogr(["-f", "GPKG", *more, *extra, str(target), source])
    elapsed = time.perf_counter() - started
    forget_gdal_indexes(files)
    return elapsed


def run_ogr2ogr(arguments: List[str]) -> None:
    subprocess.run(["ogr2ogr", *arguments], capture_output=True, timeout=3600, check=True)


def forget_gdal_indexes(files: Sequence[Path]) -> None:
    """GDAL's /vsigzip/ index caches beside the bench data: not ours to keep."""
    for path in files:
        Path(str(path) + ".properties").unlink(missing_ok=True)


def _ogr2ogr_start(product: str, work: Path) -> float:
    """What one ogr2ogr call costs before it loads anything (the process, GDAL's drivers,
    opening the GeoPackage), for ABP: the median of three appends of a file holding
    only its header and trailer, with the load's options, timed beside each reference
    run (so the machine's load then is the same). 0 for the other products."""
    if product != "ABP":
        return 0.0
    name = "AddressBasePremium_FULL_2000-01-01_001"
    empty = work / f"{name}_csv.zip"
    target = work / "ogr2ogr-start.gpkg"
    if not target.exists():
        with zipfile.ZipFile(empty, "w") as archive:
            archive.writestr(
                f"{name}.csv",
                '10,"OS",0,2000-01-01,1,2000-01-01,00:00:00,"1","F"\r\n'
                "99,0,0,2000-01-01,00:00:00\r\n",
            )
        _ogr2ogr([empty], product, target)  # the GeoPackage the appends go to
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            ["ogr2ogr", "-f", "GPKG", "-update", "-append", "-oo", "HEADERS=NO", "-nln", "abp"]
            + [str(target), f"/vsizip/{empty}/{name}.csv"],
            capture_output=True,
            timeout=600,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return _median(times)


def _reference(files: List[Path], product: str, target: Path, work: Path) -> Tuple[float, float]:
    """ogr2ogr's time for the files less its calls' own start (see the module's
    docstring), and that start per call."""
    elapsed = _ogr2ogr(files, product, target)
    start = _ogr2ogr_start(product, work)
    return elapsed - len(files) * start, start


def _median(values: List[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def holdings(
    work: Path, pythonpath: str, reps: int = 1, products: Sequence[str] = ()
) -> Tuple[Dict[str, Any], List[Row]]:
    """The rows; ``products`` (``MMTOPO``, ``ABP``, ``OSNGD``): only those."""
    from ..replica.data.sample_holdings import ensure_bench_data

    data = ensure_bench_data()
    manifest = json.loads((data / "manifest.json").read_text("utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Any] = {}
    rows: List[Row] = []
    for package in manifest["packages"]:
        product = package["product"]
        if products and product not in products:
            continue
        versions = package["versions"]
        full, cou = versions[0], versions[1]
        full_dir, cou_dir = data / full["folder"], data / cou["folder"]
        data_files = sorted(p for p in full_dir.iterdir() if p.name.endswith((".gz", ".zip")))
        ours, refs, cous, peaks = [], [], [], []
        starts = []
        # An ABP build takes seconds: at least 5 runs a side steady its median.
        runs = max(1, reps) if product == "MMTOPO" else max(5, reps)
        for rep in range(runs):
            holding = work / f"{package['id']}.gpkg"
            if holding.exists():
                holding.unlink()
            reference = work / f"{package['id']}-ogr2ogr.gpkg"
            if rep % 2:  # interleaved, each side first in turn: the machine's drift is shared
                ref, start = _reference(data_files, product, reference, work)
                refs.append(ref)
                starts.append(start)
            report = _run_child(
                pythonpath,
                holding,
                product,
                [(full["id"], "FULL", full_dir), (cou["id"], "COU", cou_dir)],
            )
            ours.append(report["seconds"][0])
            cous.append(report["seconds"][1])
            peaks.append(report["peak_rss_bytes"])
            if not rep % 2:
                ref, start = _reference(data_files, product, reference, work)
                refs.append(ref)
                starts.append(start)
        ours_s, ref_s, cou_s = _median(ours), _median(refs), _median(cous)
        # The reference as timed too (its calls' starts left in), for the record.
        timed_s = _median([r + len(data_files) * s for r, s in zip(refs, starts)])
        size = full["counts"].get("features") or full["counts"].get("records")
        changed = cou["counts"].get("features", cou["counts"].get("records", 0))
        name = NAMES[product]
        unit = "records" if product == "ABP" else "features"
        results[package["id"]] = {
            "product": product,
            "full_supply": size,
            "cou_size": changed,
            "ours_full_s": ours_s,
            "ogr2ogr_full_s": ref_s,
            "ogr2ogr_full_s_with_starts": timed_s,
            "ogr2ogr_calls": len(data_files),
            "ours_cou_s": cou_s,
            "runs": {
                "ours_full_s": ours,
                "ogr2ogr_full_s": refs,
                "ogr2ogr_start_s_per_call": starts,
                "ours_cou_s": cous,
            },
            "peak_rss_bytes": max(peaks),
        }
        rows.append(
            (
                f"holding: {name} full build ({size:,} {unit})",
                f"{ours_s:.1f} s",
                f"ogr2ogr {ref_s:.2f} s"
                + (f" ({timed_s:.2f} s with its starts)" if starts and starts[0] else ""),
                f"{ours_s / ref_s:.2f}x",
                "<= 1.2x",
            )
        )
        rows.append(
            (
                f"holding: {name} COU ({changed:,} {unit}, {100 * changed / size:.1f} %)",
                f"{cou_s:.2f} s",
                f"full {ours_s:.1f} s",
                f"{100 * cou_s / ours_s:.1f} %",
                "< 5 %",
            )
        )
        rows.append(
            (
                f"holding: {name} peak memory",
                f"{max(peaks) / 10**6:.0f} MB",
                "",
                "",
                f"< {MEMORY_TARGET_BYTES // 10**6} MB",
            )
        )
    shutil.rmtree(work, ignore_errors=True)
    return results, rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--child" in argv:
        return _child(argv)
    from . import __main__ as bench_main

    products = [
        a for a in argv if a in KINDS
    ]  # e.g. ``python -m os_downloads.bench.holdings OSNGD``
    reps = int(os.environ.get("HOLDINGS_BENCH_REPS", "3"))
    work = bench_main.BENCH_DIR / "holdings"
    results, rows = holdings(work, bench_main._pythonpath(), reps, products)
    bench_main.print_table(rows)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
