"""PostGIS holdings benchmark (issue 14): MasterMap FULL into PostGIS vs ``ogr2ogr -f
PostgreSQL`` with ``PG_USE_COPY=YES``, and a 1 % COU vs that full build.

Both sides load the same gzipped chunks (``ensure_bench_data``, as the GeoPackage
rows) into their own new database on one throw-away server
(``tests/postgres_cluster.py``: fsync off for both sides alike). Ours is a fresh
process (``bench.holdings --child --holding postgresql://…``) that builds the
holding (six typed tables, GIST indexes, a unique index on ``toid``, the metadata
tables, one transaction) and then applies the COU. The reference is GDAL's
loader, one call per chunk (appending), with COPY and its default GIST index;
it applies no COU. Runs alternate, each side first in turn; the ratios are of
the medians.

Targets (issue 14): full build ≤ 1.2× ogr2ogr; the COU < 5 % of the full build.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .holdings import NAMES, _median, _run_child, forget_gdal_indexes, run_ogr2ogr

Row = Tuple[str, str, str, str, str]
PRODUCT = "MMTOPO"
SCHEMA = "bench_holding"


def _cluster():
    """The throw-away server of the tests (``tests/postgres_cluster.py``)."""
    tests = Path(__file__).resolve().parents[1] / "tests"
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    from postgres_cluster import PostgresCluster

    return PostgresCluster().start()


def _ogr2ogr_postgis(files: List[Path], dsn: str) -> float:
    """GDAL's loader on the same chunks into ``dsn``, one call per chunk, timed."""
    started = time.perf_counter()
    for index, path in enumerate(files):
        more = ["-update", "-append"] if index else []
        run_ogr2ogr(
            [
                "-f",
                "PostgreSQL",
                "--config",
                "PG_USE_COPY",
                "YES",
                *more,
                "-forceNullable",
                f"PG:{dsn}",
                f"/vsigzip/{path}",
            ]
        )
    elapsed = time.perf_counter() - started
    forget_gdal_indexes(files)
    return elapsed


def _count_rows(cluster: Any, database: str, schema: str) -> int:
    import psycopg2

    conn = psycopg2.connect(cluster.dsn(database))
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name NOT LIKE 'os_holding%%' AND table_type = 'BASE TABLE'",
                (schema,),
            )
            total = 0
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
                total += cursor.fetchone()[0]
            return total
    finally:
        conn.close()


def holdings_postgis(pythonpath: str, reps: int = 3) -> Tuple[Dict[str, Any], List[Row]]:
    from ..replica.data.sample_holdings import ensure_bench_data

    data = ensure_bench_data()
    manifest = json.loads((data / "manifest.json").read_text("utf-8"))
    package = next(p for p in manifest["packages"] if p["product"] == PRODUCT)
    full, cou = package["versions"][0], package["versions"][1]
    full_dir, cou_dir = data / full["folder"], data / cou["folder"]
    chunks = sorted(p for p in full_dir.iterdir() if p.name.endswith(".gz"))
    cluster = _cluster()
    ours: List[float] = []
    refs: List[float] = []
    cous: List[float] = []
    counts: Dict[str, int] = {}
    try:
        for rep in range(max(1, reps)):
            if rep % 2:  # interleaved, each side first in turn
                database = cluster.create_database("ogr2ogr")
                refs.append(_ogr2ogr_postgis(chunks, cluster.dsn(database)))
                counts["ogr2ogr"] = _count_rows(cluster, database, "public")
            database = cluster.create_database("ours")
            report = _run_child(
                pythonpath,
                cluster.url(database),
                PRODUCT,
                [(full["id"], "FULL", full_dir), (cou["id"], "COU", cou_dir)],
                schema=SCHEMA,
            )
            ours.append(report["seconds"][0])
            cous.append(report["seconds"][1])
            counts["ours"] = _count_rows(cluster, database, SCHEMA)
            if not rep % 2:
                database = cluster.create_database("ogr2ogr")
                refs.append(_ogr2ogr_postgis(chunks, cluster.dsn(database)))
                counts["ogr2ogr"] = _count_rows(cluster, database, "public")
    finally:
        cluster.stop()
    ours_s, ref_s, cou_s = _median(ours), _median(refs), _median(cous)
    size = full["counts"]["features"]
    changed = cou["counts"]["features"]
    name = NAMES[PRODUCT]
    results = {
        "product": PRODUCT,
        "full_supply": size,
        "cou_size": changed,
        "ours_full_s": ours_s,
        "ogr2ogr_full_s": ref_s,
        "ours_cou_s": cou_s,
        "rows_after": counts,
        "runs": {"ours_full_s": ours, "ogr2ogr_full_s": refs, "ours_cou_s": cous},
    }
    rows: List[Row] = [
        (
            f"holding: {name} full build into PostGIS ({size:,} features)",
            f"{ours_s:.1f} s",
            f"ogr2ogr PG_USE_COPY {ref_s:.1f} s",
            f"{ours_s / ref_s:.2f}x",
            "<= 1.2x",
        ),
        (
            f"holding: {name} COU into PostGIS ({changed:,} features, "
            f"{100 * changed / size:.1f} %)",
            f"{cou_s:.2f} s",
            f"full {ours_s:.1f} s",
            f"{100 * cou_s / ours_s:.1f} %",
            "< 5 %",
        ),
    ]
    return results, rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    from . import __main__ as bench_main

    reps = int(os.environ.get("HOLDINGS_BENCH_REPS", "3"))
    results, rows = holdings_postgis(bench_main._pythonpath(), reps)
    bench_main.print_table(rows)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
