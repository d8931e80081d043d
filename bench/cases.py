"""The benchmarks. Each returns a JSON-able dict and rows for the summary table.

The replica runs in its own process (``bench/server.py``) and every download
of ours runs in a fresh child process (``bench/child.py``), exactly like
``curl``: nobody shares an interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import requests

from ..core.api.client import OSDownloadsClient
from ..core.api.models import RemoteFile
from ..core.engine.extract import extract_archive
from ..core.formatting import format_bytes
from .measure import Timings, fresh_dir, fsync_file, mb_per_s, settle_disk, timed

Row = Tuple[str, str, str, str, str]  # benchmark, ours, reference, ratio, target
MiB = 1 << 20
MEMORY_TARGET_BYTES = 100 * 10**6
MD5_CEILING_TARGET = 0.95  # loopback: the engine against hashlib's MD5 on one core
PIPELINE_TARGET = 2.0  # loopback: against curl | tee | md5sum + fsync
PACED_BYTES_PER_S = 12 * MiB  # each connection, like one TCP stream to blob storage far away
PACED_CURL_TARGET = 3.5  # with 4 connections against curl's one
PACED_ARIA2_TARGET = 0.9
# The engine's settings for one large file as parallel ranges (TransferLimits'
# ranges_per_file and ranged_min_bytes).
RANGE_CONNECTIONS = 4
RANGE_THRESHOLD_BYTES = 64 * MiB
RANGED = (
    "--range-connections",
    str(RANGE_CONNECTIONS),
    "--range-threshold",
    str(RANGE_THRESHOLD_BYTES),
)
ONE_STREAM = ("--range-connections", "1")
SMALL_LINK_BYTES_PER_S = 10 * 10**6
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class BenchEnv:
    info: Dict[str, Any]  # what bench/server.py printed
    client: OSDownloadsClient  # OpenData only, for listings and curl's URL
    large: RemoteFile
    work: Path
    reps: int
    pythonpath: str

    @property
    def large_path(self) -> Path:
        return Path(self.info["large_path"])

    def set_faults(self, **switches: Any) -> None:
        response = requests.post(
            self.info["api_origin"] + "/__replica__/faults", json=switches, timeout=10
        )
        response.raise_for_status()

    def clear_requests(self) -> None:
        requests.delete(self.info["api_origin"] + "/__replica__/requests", timeout=10)

    def storage_gets(self, file_name: str) -> List[Dict[str, Any]]:
        """The storage GETs of ``file_name`` since ``clear_requests``, from the replica's log."""
        response = requests.get(
            self.info["api_origin"] + "/__replica__/requests",
            params={"origin": "storage"},
            timeout=10,
        )
        response.raise_for_status()
        return [
            entry
            for entry in response.json()["requests"]
            if entry["method"] == "GET" and entry["path"].endswith("/" + file_name)
        ]

    def streams_used(self, file_name: str) -> str:
        """How the file was fetched, in words, from the Range headers of its GETs."""
        gets = self.storage_gets(file_name)
        ranged = [e for e in gets if _header(e, "Range")]
        if not ranged:
            return "single stream" if len(gets) == 1 else f"single stream, {len(gets)} GETs"
        return f"{len(ranged)} ranged GETs" + (
            f" + {len(gets) - len(ranged)} whole" if len(gets) > len(ranged) else ""
        )


def _header(entry: Dict[str, Any], name: str) -> Optional[str]:
    for key, value in entry.get("headers", {}).items():
        if key.lower() == name.lower():
            return value
    return None


def run_child(env: BenchEnv, dest: Path, *args: str) -> Dict[str, Any]:
    """Download in a fresh process; its JSON report (seconds, peak RSS, verified...)."""
    command = [
        sys.executable,
        "-m",
        "os_downloads.bench.child",
        "--api-url",
        env.info["api_url"],
        "--key",
        env.info["api_key"],
        "--dest",
        str(dest),
        *args,
    ]
    environ = dict(os.environ, PYTHONPATH=env.pythonpath)
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench download failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(ours: float, reference: float) -> float:
    return round(ours / reference, 3) if reference > 0 else 0.0


def _curl(url: str, target: Path) -> None:
    subprocess.run(["curl", "-sS", "--fail", "-o", str(target), url], check=True)


def _curl_tee_md5sum(url: str, target: Path) -> str:
    """``curl URL | tee FILE | md5sum``: fetch, write and hash, like the engine; the MD5."""
    curl = subprocess.Popen(["curl", "-sS", "--fail", url], stdout=subprocess.PIPE)
    tee = subprocess.Popen(["tee", str(target)], stdin=curl.stdout, stdout=subprocess.PIPE)
    md5sum = subprocess.Popen(["md5sum"], stdin=tee.stdout, stdout=subprocess.PIPE, text=True)
    assert curl.stdout is not None and tee.stdout is not None
    curl.stdout.close()  # so curl sees a broken pipe if tee dies
    tee.stdout.close()
    digest, _ = md5sum.communicate()
    codes = (curl.wait(), tee.wait(), md5sum.returncode)
    if any(codes):
        raise RuntimeError(f"curl | tee | md5sum failed: exit codes {codes}")
    return digest.split()[0] if digest else ""


# --- 1. one large file over loopback: the MD5 ceiling ------------------------------------


def throughput(env: BenchEnv) -> Tuple[Dict[str, Any], List[Row]]:
    """Loopback, where nothing limits the network: the engine against MD5 on one core.

    Each repetition measures hashlib's MD5 of the same bytes (the served file), then
    the references, then the engine (MD5 checked, fsynced) with its ranged settings,
    in one stream (``range_connections`` 1: the read loop of ``transfer.py``), and in
    one stream with hashing off, each in a fresh process.
    """
    size = env.large.size or 0
    have_curl = shutil.which("curl") is not None
    have_pipeline = have_curl and all(shutil.which(t) for t in ("tee", "md5sum"))
    ours, one_stream, hashless = Timings(), Timings(), Timings()
    curl, curl_fsync = Timings(), Timings()
    curl_same_work = Timings()  # curl | tee | md5sum, then fsync: fetch, hash, write, durable
    md5_rates: List[float] = []
    expected_md5 = env.large.checksum.hexdigest if env.large.checksum else ""
    peaks: List[int] = []
    streams = ""
    dest = fresh_dir(env.work / "throughput")
    target = dest / "curl.bin"
    for rep in range(env.reps):
        rate, digest = hashlib_md5_of(env.large_path)
        if expected_md5 and digest != expected_md5:
            raise RuntimeError("the served file does not hash to its listed MD5")
        md5_rates.append(rate)
        if have_curl:
            settle_disk()
            seconds = timed(lambda: _curl(env.client.resolve_download(env.large.url), target))
            curl.seconds.append(seconds)
            curl_fsync.seconds.append(seconds + timed(lambda: fsync_file(target)))
            target.unlink()
        if have_pipeline:
            settle_disk()
            started = time.perf_counter()
            digest = _curl_tee_md5sum(env.client.resolve_download(env.large.url), target)
            fsync_file(target)
            curl_same_work.seconds.append(time.perf_counter() - started)
            target.unlink()
            if expected_md5 and digest != expected_md5:
                raise RuntimeError("curl | tee | md5sum got a different MD5 than listed")
        # The engine's settings and one stream, each first in turn (the disk's drift shared).
        for ranged in (True, False) if rep % 2 == 0 else (False, True):
            if ranged:
                env.clear_requests()
                report = _engine_run(env, dest / "ours", *RANGED)
                streams = env.streams_used(env.large.file_name)
                ours.seconds.append(report["seconds"])
            else:
                report = _engine_run(env, dest / "one", *ONE_STREAM)
                one_stream.seconds.append(report["seconds"])
            peaks.append(report["peak_rss_bytes"])
        hashless.seconds.append(
            _engine_run(env, dest / "nohash", "--no-hash", *ONE_STREAM)["seconds"]
        )
    shutil.rmtree(dest, ignore_errors=True)
    # The ceiling: the best run of each, as other jobs on a shared machine only ever slow
    # one down (the medians are in the JSON too).
    best_md5, best_ours = max(md5_rates), size / ours.best if ours.best > 0 else 0.0
    md5_median = statistics.median(md5_rates)
    data: Dict[str, Any] = {
        "file_bytes": size,
        "engine": _rate_json(ours, size),
        "engine_streams": streams,
        "engine_one_stream": _rate_json(one_stream, size),
        "ratio_one_stream_vs_hashlib_md5": _ratio(size / one_stream.best, best_md5),
        "engine_one_stream_without_hashing": _rate_json(hashless, size),
        "hashlib_md5_same_bytes_mb_per_s": [mb_per_s(r) for r in md5_rates],
        "hashlib_md5_best_mb_per_s": mb_per_s(best_md5),
        "engine_best_mb_per_s": mb_per_s(best_ours),
        "ratio_vs_hashlib_md5": _ratio(best_ours, best_md5),
        "ratio_vs_hashlib_md5_medians": _ratio(ours.rate(size), md5_median),
        "engine_peak_rss_bytes": max(peaks),
        "md5_overhead_fraction_one_stream": _ratio(
            one_stream.median - hashless.median, hashless.median
        ),
    }
    ours_text = f"{mb_per_s(ours.rate(size))} MB/s"
    label = f"{format_bytes(size)} over loopback ({streams})"
    rows: List[Row] = [
        (
            f"{label}: engine (MD5 + fsync) vs hashlib MD5 of the same bytes, one core"
            f" (best of {env.reps} each)",
            f"{mb_per_s(best_ours)} MB/s",
            f"{mb_per_s(best_md5)} MB/s",
            f"{data['ratio_vs_hashlib_md5']:.2f}x",
            _target(data["ratio_vs_hashlib_md5"], MD5_CEILING_TARGET),
        ),
        (
            "  same, medians",
            ours_text,
            f"{mb_per_s(md5_median)} MB/s",
            f"{data['ratio_vs_hashlib_md5_medians']:.2f}x",
            "",
        ),
        (
            "  same, the engine in one stream (range_connections 1), best of each",
            f"{mb_per_s(size / one_stream.best)} MB/s",
            f"{mb_per_s(best_md5)} MB/s",
            f"{data['ratio_one_stream_vs_hashlib_md5']:.2f}x",
            _target(data["ratio_one_stream_vs_hashlib_md5"], MD5_CEILING_TARGET),
        ),
    ]
    if have_pipeline:
        data["curl_tee_md5sum_then_fsync"] = _rate_json(curl_same_work, size)
        data["ratio_vs_curl_tee_md5sum_then_fsync"] = _ratio(curl_same_work.median, ours.median)
        rows.append(
            (
                "  same, vs curl | tee FILE | md5sum, then fsync (the same work)",
                ours_text,
                f"{mb_per_s(curl_same_work.rate(size))} MB/s",
                f"{data['ratio_vs_curl_tee_md5sum_then_fsync']:.2f}x",
                _target(data["ratio_vs_curl_tee_md5sum_then_fsync"], PIPELINE_TARGET),
            )
        )
    if have_curl:
        data["curl"] = _rate_json(curl, size)
        data["curl_then_fsync"] = _rate_json(curl_fsync, size)
        data["ratio_vs_curl"] = _ratio(curl.median, ours.median)
        data["ratio_vs_curl_then_fsync"] = _ratio(curl_fsync.median, ours.median)
        rows += [
            (
                "  same, vs curl then fsync (equal durability, no hashing)",
                ours_text,
                f"{mb_per_s(curl_fsync.rate(size))} MB/s",
                f"{data['ratio_vs_curl_then_fsync']:.2f}x",
                "",
            ),
            (
                "  same, vs plain curl -o (no hashing, no fsync)",
                ours_text,
                f"{mb_per_s(curl.rate(size))} MB/s",
                f"{data['ratio_vs_curl']:.2f}x",
                "",
            ),
        ]
    else:
        data["curl"] = None
        rows.append(("  curl is not installed: no curl references", "", "", "", ""))
    rows.append(
        (
            "  MD5 cost, one stream: engine vs the same engine without hashing",
            f"{mb_per_s(one_stream.rate(size))} MB/s",
            f"{mb_per_s(hashless.rate(size))} MB/s",
            f"{data['md5_overhead_fraction_one_stream'] * 100:+.0f}% time",
            "",
        )
    )
    return data, rows


def _engine_run(env: BenchEnv, dest: Path, *extra: str) -> Dict[str, Any]:
    settle_disk()
    report = run_child(env, dest, "--product", env.info["large_product"], *extra)
    if "--no-hash" not in extra and report["verified"] != 1:
        raise RuntimeError("the engine did not verify the large file")
    shutil.rmtree(dest, ignore_errors=True)
    return report


def _rate_json(timings: Timings, size: int) -> Dict[str, Any]:
    return {**timings.to_json(), "mb_per_s": mb_per_s(timings.rate(size))}


def _target(ratio: float, target: float) -> str:
    return f">= {target:.2f}x: {'met' if ratio >= target else 'not met'}"


def hashlib_md5_of(path: Path, block: int = 4 * MiB) -> Tuple[float, str]:
    """hashlib's MD5 of a file's bytes on one core: (bytes/s of the hashing alone, digest).

    Only the ``update`` calls are timed; reading the file (from the page cache,
    the replica just served it) is not.
    """
    hasher = hashlib.md5()
    buffer = bytearray(block)
    view = memoryview(buffer)
    spent = 0.0
    total = 0
    with open(path, "rb", buffering=0) as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            started = time.perf_counter()
            hasher.update(view[:count])
            spent += time.perf_counter() - started
            total += count
    return (total / spent if spent > 0 else 0.0), hasher.hexdigest()


# --- 2. one large file over a per-connection-paced link ---------------------------------------


def paced_link(env: BenchEnv) -> Tuple[Dict[str, Any], List[Row]]:
    """One run each of curl, aria2c and the engine while the replica paces every connection.

    The replica paces each storage body on its own clock (``slow_bytes_per_second``), so
    every connection gets ``PACED_BYTES_PER_S``, as a single TCP stream over distance
    does. curl uses one connection; ``aria2c -x4 -s4`` four, and checks the MD5 as ours
    does; the engine runs with the ranged settings (``RANGED``).
    """
    size = env.large.size or 0
    expected_md5 = env.large.checksum.hexdigest if env.large.checksum else ""
    dest = fresh_dir(env.work / "paced")
    data: Dict[str, Any] = {
        "file_bytes": size,
        "link_bytes_per_s_per_connection": PACED_BYTES_PER_S,
    }
    rows: List[Row] = []
    label = f"{format_bytes(size)} over {format_bytes(PACED_BYTES_PER_S)}/s per connection"
    env.set_faults(slow_bytes_per_second=PACED_BYTES_PER_S)
    try:
        env.clear_requests()
        report = _engine_run(env, dest / "ours", *RANGED)
        streams = env.streams_used(env.large.file_name)
        single = " (engine used one stream)" if streams.startswith("single") else ""
        ours = Timings([report["seconds"]])
        data["engine"] = {
            **_rate_json(ours, size),
            "streams": streams,
            "range_settings": report.get("range_settings"),
            "peak_rss_bytes": report["peak_rss_bytes"],
        }
        if shutil.which("curl"):
            settle_disk()
            target = dest / "curl.bin"
            curl = Timings(
                [timed(lambda: _curl(env.client.resolve_download(env.large.url), target))]
            )
            target.unlink()
            data["curl"] = _rate_json(curl, size)
            data["ratio_vs_curl"] = _ratio(curl.median, ours.median)
            rows.append(
                (
                    f"{label}: engine ({streams}, MD5 + fsync) vs curl (one connection)",
                    f"{data['engine']['mb_per_s']} MB/s",
                    f"{data['curl']['mb_per_s']} MB/s",
                    f"{data['ratio_vs_curl']:.2f}x",
                    _target(data["ratio_vs_curl"], PACED_CURL_TARGET) + single,
                )
            )
        else:
            rows.append((f"{label}: curl is not installed, no reference", "", "", "", ""))
        aria2c = shutil.which("aria2c")
        if aria2c:
            settle_disk()
            env.clear_requests()
            seconds = timed(
                lambda: _aria2c(
                    aria2c, env.client.resolve_download(env.large.url), dest, expected_md5
                )
            )
            aria = Timings([seconds])
            aria_streams = env.streams_used(env.large.file_name)
            data["aria2c"] = {**_rate_json(aria, size), "streams": aria_streams}
            data["ratio_vs_aria2c"] = _ratio(aria.median, ours.median)
            rows.append(
                (
                    f"  same, vs aria2c -x4 -s4 ({aria_streams}, MD5 checked)",
                    f"{data['engine']['mb_per_s']} MB/s",
                    f"{data['aria2c']['mb_per_s']} MB/s",
                    f"{data['ratio_vs_aria2c']:.2f}x",
                    _target(data["ratio_vs_aria2c"], PACED_ARIA2_TARGET) + single,
                )
            )
        else:
            rows.append(("  aria2c is not installed (Debian: aria2): no reference", "", "", "", ""))
    finally:
        env.set_faults(slow_bytes_per_second=0)
        shutil.rmtree(dest, ignore_errors=True)
    return data, rows


def _aria2c(aria2c: str, url: str, dest: Path, md5: str) -> None:
    """``aria2c -x4 -s4``: four connections, four ranges; checks the MD5 when given one."""
    command = [
        aria2c,
        "--no-conf",
        "-x4",
        "-s4",
        "-q",
        "--file-allocation=falloc",
        "--allow-overwrite=true",
        "--auto-file-renaming=false",
        "-d",
        str(dest),
        "-o",
        "aria2c.bin",
    ]
    if md5:
        command.append(f"--checksum=md5={md5}")
    subprocess.run([*command, url], check=True)
    (dest / "aria2c.bin").unlink()


# --- 3. peak memory does not grow with the file ----------------------------------------------


def memory(env: BenchEnv, large_peak: int) -> Tuple[Dict[str, Any], List[Row]]:
    dest = fresh_dir(env.work / "memory")
    env.clear_requests()
    mid = run_child(
        env,
        dest / "100mb",
        "--package",
        env.info["memory_package"],
        "--version",
        env.info["memory_version"],
        *RANGED,
    )
    mid_streams = env.streams_used("bench_100mb.bin")
    floor = run_child(env, dest / "floor", "--product", "Terrain50")
    shutil.rmtree(dest, ignore_errors=True)
    data = {
        "process_floor_peak_rss_bytes": floor["peak_rss_bytes"],
        "file_100mb_peak_rss_bytes": mid["peak_rss_bytes"],
        "file_100mb_streams": mid_streams,
        "large_file_peak_rss_bytes": large_peak,
        "large_file_bytes": env.large.size,
        "target_bytes": MEMORY_TARGET_BYTES,
    }
    met = large_peak < MEMORY_TARGET_BYTES
    rows: List[Row] = [
        (
            f"peak RSS of the downloading process: {format_bytes(env.large.size or 0)}"
            f" vs 100 MB ({mid_streams})",
            format_bytes(large_peak),
            format_bytes(mid["peak_rss_bytes"]),
            f"{_ratio(large_peak, mid['peak_rss_bytes']):.2f}x",
            f"< 100 MB: {'met' if met else 'not met'}",
        ),
        (
            "  process floor (Python + requests, a 500 KB product)",
            format_bytes(floor["peak_rss_bytes"]),
            "",
            "",
            "",
        ),
    ]
    return data, rows


# --- 3. a package of small files ---------------------------------------------------------------


def many_files(env: BenchEnv) -> Tuple[Dict[str, Any], List[Row]]:
    count, size = env.info["small_count"], env.info["small_bytes"]
    data: Dict[str, Any] = {"files": count, "file_bytes": size}
    rows: List[Row] = []
    scenarios = (
        ("loopback", 0, env.reps),
        (f"{format_bytes(SMALL_LINK_BYTES_PER_S)}/s per connection", SMALL_LINK_BYTES_PER_S, 1),
    )
    for label, rate, reps in scenarios:
        env.set_faults(slow_bytes_per_second=rate)
        parallel, sequential = Timings(), Timings()
        try:
            for _ in range(reps):
                for workers, timings in ((4, parallel), (1, sequential)):
                    dest = fresh_dir(env.work / "many")
                    settle_disk()
                    report = run_child(
                        env,
                        dest,
                        "--package",
                        env.info["small_package"],
                        "--version",
                        env.info["small_version"],
                        "--workers",
                        str(workers),
                    )
                    if report["verified"] != count:
                        raise RuntimeError("not every small file was verified")
                    timings.seconds.append(report["seconds"])
        finally:
            env.set_faults(slow_bytes_per_second=0)
        speedup = _ratio(sequential.median, parallel.median)
        data[label] = {
            "workers_4": parallel.to_json(),
            "one_by_one": sequential.to_json(),
            "speedup": speedup,
        }
        rows.append(
            (
                f"{count} x {format_bytes(size)} files, {label}: 4 workers vs one by one",
                f"{parallel.median:.2f} s",
                f"{sequential.median:.2f} s",
                f"{speedup:.2f}x faster",
                "",
            )
        )
    shutil.rmtree(env.work / "many", ignore_errors=True)
    return data, rows


# --- 5. the QGIS main thread during a large download through the dock ------------------------

STALL_TARGET_MS = 100.0
QGIS_PYTHON_CANDIDATES = (sys.executable, "/usr/bin/python3")


def qgis_python() -> str:
    """A Python that imports qgis: ours (venv with system site packages), else the system one."""
    for python in QGIS_PYTHON_CANDIDATES:
        probe = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    raise RuntimeError("no Python here imports qgis (apt install python3-qgis)")


def main_thread_stall(env: BenchEnv) -> Tuple[Dict[str, Any], List[Row]]:
    """The dock's "Download and load" of the large product, in a QGIS process (offscreen)."""
    work = fresh_dir(env.work / "stall")
    report_path = work / "report.json"
    environ = dict(
        os.environ,
        PYTHONPATH=env.pythonpath,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(work / "config"),  # QgsSettings of this run only
        XDG_DATA_HOME=str(work / "data"),
    )
    command = [
        qgis_python(),
        "-m",
        "os_downloads.bench.stall_child",
        "--api-url",
        env.info["api_url"],
        "--product",
        env.info["large_product"],
        "--dest",
        str(work / "downloads"),
        "--report",
        str(report_path),
    ]
    settle_disk()
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if not report_path.exists():
        raise RuntimeError(
            f"the stall benchmark failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    data: Dict[str, Any] = json.loads(report_path.read_text("utf-8"))
    shutil.rmtree(work, ignore_errors=True)
    busy, idle = data["download"], data["idle_same_duration"]
    data["target_ms"] = STALL_TARGET_MS
    data["ratio_vs_idle"] = _ratio(busy["longest_gap_ms"], idle["longest_gap_ms"])
    loaded = (
        f"{data['layers_loaded']} layers loaded"
        if data["datasets_found"]
        else "no layers in it to load"
    )
    rows: List[Row] = [
        (
            f"QGIS main-thread longest stall: dock gets {format_bytes(data['bytes'])}"
            f" (MD5, extract; {loaded}) vs idle",
            f"{busy['longest_gap_ms']:.0f} ms",
            f"{idle['longest_gap_ms']:.0f} ms",
            f"{data['ratio_vs_idle']:.2f}x",
            f"< {STALL_TARGET_MS:.0f} ms",
        ),
        (
            f"  ticks over {STALL_TARGET_MS:.0f} ms: download / idle, over the same"
            f" {busy['duration_s']:.1f} s",
            str(busy[f"gaps_over_{int(STALL_TARGET_MS)}ms"]),
            str(idle[f"gaps_over_{int(STALL_TARGET_MS)}ms"]),
            "",
            "",
        ),
    ]
    return data, rows


# --- 4. extraction against unzip ---------------------------------------------------------------


def extraction(env: BenchEnv, csv_bytes: int = 100 * 10**6) -> Tuple[Dict[str, Any], List[Row]]:
    unzip = shutil.which("unzip")
    deflated = env.work / "bench_csv_deflated.zip"
    if not deflated.exists():
        _write_csv_zip(deflated, csv_bytes)
    data: Dict[str, Any] = {}
    rows: List[Row] = []
    cases: Sequence[Tuple[str, Path]] = (
        ("stored (the large file)", env.large_path),
        ("deflated CSV", deflated),
    )
    for label, archive in cases:
        ours, reference = Timings(), Timings()
        unpacked = 0
        for _ in range(env.reps):
            dest = fresh_dir(env.work / "extract")
            settle_disk()
            started = time.perf_counter()
            unpacked = extract_archive(archive, dest / "ours").bytes_written
            ours.seconds.append(time.perf_counter() - started)
            if unzip:
                settle_disk()
                reference.seconds.append(
                    timed(
                        lambda a=archive, d=dest: subprocess.run(
                            [unzip, "-qq", "-o", str(a), "-d", str(d / "unzip")], check=True
                        )
                    )
                )
            shutil.rmtree(dest, ignore_errors=True)
        entry: Dict[str, Any] = {
            "archive_bytes": archive.stat().st_size,
            "unpacked_bytes": unpacked,
            "ours": _rate_json(ours, unpacked),
        }
        if unzip:
            entry["unzip"] = _rate_json(reference, unpacked)
            entry["ratio_vs_unzip"] = _ratio(reference.median, ours.median)
        data[label] = entry
        rows.append(
            (
                f"extract {format_bytes(unpacked)} {label}: ours vs unzip",
                f"{mb_per_s(ours.rate(unpacked))} MB/s",
                f"{mb_per_s(reference.rate(unpacked))} MB/s" if unzip else "unzip missing",
                f"{entry['ratio_vs_unzip']:.2f}x" if unzip else "",
                "",
            )
        )
    shutil.rmtree(env.work / "extract", ignore_errors=True)
    return data, rows


def _write_csv_zip(target: Path, size: int) -> None:
    """OS-like CSV text (Code-Point-ish rows), deflated: compresses about as real data do."""
    rng = random.Random(7)
    partial = target.with_name(target.name + ".partial")
    archive = zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
    with archive, archive.open("Data/CSV/bench.csv", "w", force_zip64=True) as out:
        written = 0
        while written < size:
            rows = []
            for _ in range(20_000):
                rows.append(
                    f'"SU{rng.randint(10, 99)} {rng.randint(1, 9)}'
                    f'{rng.choice(LETTERS)}{rng.choice(LETTERS)}",'
                    f"10,{rng.randint(400000, 499999)},{rng.randint(100000, 199999)},"
                    f'"E92000001","E19000002","E18000003","E10000014","E07000091","E05004765"\n'
                )
            block = "".join(rows).encode()
            out.write(block)
            written += len(block)
    os.replace(partial, target)


def describe_machine() -> Dict[str, Any]:
    import platform

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average(),
    }


def load_average() -> List[float]:
    """The 1, 5 and 15 minute load averages (other jobs on a shared machine), or []."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return []


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


REDRAW_TARGET = 10.0  # the GeoPackage copy redraws at least 10x faster than the VRT


def _layers_child(env: BenchEnv, product: str, fmt: str, *extra: str) -> Dict[str, Any]:
    work = fresh_dir(env.work / f"layers-{product}")
    report_path = work / "report.json"
    environ = dict(
        os.environ,
        PYTHONPATH=env.pythonpath,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(work / "config"),
        XDG_DATA_HOME=str(work / "data"),
    )
    command = [
        qgis_python(),
        "-m",
        "os_downloads.bench.layers_child",
        "--api-url",
        env.info["api_url"],
        "--product",
        product,
        "--format",
        fmt,
        "--dest",
        str(work / "downloads"),
        "--report",
        str(report_path),
        *extra,
    ]
    settle_disk()
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if not report_path.exists():
        raise RuntimeError(
            f"the layers benchmark failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    data: Dict[str, Any] = json.loads(report_path.read_text("utf-8"))
    shutil.rmtree(work, ignore_errors=True)
    return data


def _stall_row(label: str, data: Dict[str, Any]) -> Row:
    stall = data["stall"]
    return (
        f"{label}: QGIS main thread longest gap, download + load + first render"
        f" ({stall['duration_s']:.0f} s; gaps > {STALL_TARGET_MS:.0f} ms:"
        f" {stall[f'gaps_over_{int(STALL_TARGET_MS)}ms']})",
        f"{stall['longest_gap_ms']:.0f} ms",
        "",
        "",
        f"< {STALL_TARGET_MS:.0f} ms",
    )


def big_layers(env: BenchEnv) -> Tuple[Dict[str, Any], List[Row]]:
    """Code-Point Open at full size (CSV) and a 1 GB GeoPackage through the dock to the
    first rendered map; the CSV also through today's VRT."""
    code_point = _layers_child(env, "CodePointOpen", "CSV", "--compare-vrt")
    gpkg = _layers_child(env, env.info["geopackage_product"], "GeoPackage")
    vrt = code_point["vrt"]
    rows_label = f"Code-Point Open full size ({code_point['features']:,} rows, 120 CSVs)"
    redraw_ratio = _ratio(vrt["redraw_s"], code_point["redraw_s"])
    rows: List[Row] = [
        (
            f"{rows_label}: Download and load to the first rendered map,"
            " GeoPackage copy vs today's VRT",
            f"{code_point['total_s']:.1f} s",
            f"{vrt['total_s']:.1f} s",
            f"{_ratio(vrt['total_s'], code_point['total_s']):.2f}x faster",
            "reported",
        ),
        (
            "  of which: copy into the GeoPackage (task) / VRT opening (extent)",
            f"{code_point['conversion_s']:.1f} s",
            f"{vrt['open_s']:.1f} s",
            "",
            "",
        ),
        (
            "  first render at full extent (1600 x 1200)",
            f"{code_point['first_render_s']:.2f} s",
            f"{vrt['first_render_s']:.2f} s",
            f"{_ratio(vrt['first_render_s'], code_point['first_render_s']):.1f}x faster",
            "",
        ),
        (
            "  full-extent redraw",
            f"{code_point['redraw_s']:.2f} s",
            f"{vrt['redraw_s']:.2f} s",
            f"{redraw_ratio:.1f}x faster",
            f">= {REDRAW_TARGET:.0f}x: {'met' if redraw_ratio >= REDRAW_TARGET else 'not met'}",
        ),
        _stall_row("Code-Point Open full size", code_point),
        (
            f"GeoPackage of {format_bytes(gpkg['bytes'])} ({gpkg['features']:,} polygons):"
            " Download and load to the first rendered map / full-extent redraw",
            f"{gpkg['total_s']:.1f} s",
            f"{gpkg['redraw_s']:.2f} s",
            "",
            "reported",
        ),
        _stall_row(f"GeoPackage of {format_bytes(gpkg['bytes'])}", gpkg),
    ]
    return {"code_point_open": code_point, "geopackage": gpkg}, rows
