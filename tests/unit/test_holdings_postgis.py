"""A holding in PostGIS: the guarantees of issue 14 against a real PostgreSQL server.

The server is the throw-away one of ``tests/postgres_cluster.py`` (skipped only
when it cannot start); the updaters are real processes (the command line); the
readers are separate connections. Every loop is bounded in count and time.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest
from holding_places import postgis_place
from holding_samples import gml2_area, gml2_chunk, gml2_departed, square, write_gz
from test_holdings_replica import (
    TOPO,
    TOPO_VERSIONS,
    assert_mastermap_is_truth,
    cli_env,
    holding_cli,
    into,
    update,
)

from os_downloads.core.holdings.postgis_lock import advisory_key
from os_downloads.replica.data.holdings_truth import holdings_truth

psycopg2 = pytest.importorskip("psycopg2")

# One statement: one snapshot of the holding (the tables and the versions at once).
SNAPSHOT_SQL = (
    "SELECT (SELECT count(*) FROM {s}.topographic_area), "
    "(SELECT md5(string_agg(toid || ':' || version, ',' ORDER BY toid)) "
    "FROM {s}.topographic_area), "
    "(SELECT count(*) FROM {s}.topographic_line), "
    "(SELECT string_agg(version_id, ',' ORDER BY sequence) FROM {s}.os_holding_versions)"
)


def truth_snapshot(version: str) -> Tuple[Any, ...]:
    truth = holdings_truth(TOPO, version)
    areas = truth.features.get("TopographicArea", {})
    text = ",".join(f"{t}:{areas[t]['version']}" for t in sorted(areas))
    applied = ",".join(truth.applied)
    lines = len(truth.features.get("TopographicLine", {}))
    return (len(areas), hashlib.md5(text.encode()).hexdigest(), lines, applied)


def connect(url: str) -> Any:
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    return conn


def snapshot(conn: Any, schema: str = "public") -> Tuple[Any, ...]:
    with conn.cursor() as cursor:
        cursor.execute(SNAPSHOT_SQL.format(s=schema))
        return tuple(cursor.fetchone())


def start_update(replica, place, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "os_downloads", "holding", "update", TOPO, *into(place), *args],
        env=cli_env(replica),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def updater_sessions(conn: Any) -> List[Tuple[int, str, Any]]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, xact_start FROM pg_stat_activity "
            "WHERE application_name = 'os-downloads holding'"
        )
        return cursor.fetchall()


def holds_the_lock(conn: Any) -> bool:
    """An updater is inside a version's transaction (it holds the holding's advisory lock)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND a.application_name = 'os-downloads holding'"
        )
        return cursor.fetchone() is not None


def big_cou(replica, tmp_path: Path, gone: str, count: int = 40000) -> Any:
    members = [gml2_departed(gone)]
    members += (
        gml2_area(f"osgb8{n:012d}", 1, square(290000 + n % 500 * 4, 90000 + n // 500 * 4, 3))
        for n in range(count)
    )
    chunk = write_gz(tmp_path / "cou" / "5499001-SX9292.gz", gml2_chunk(members))
    return replica.publish_package_version(TOPO, files=[(chunk.name, chunk)])


class Reader(threading.Thread):
    """Polls one snapshot at a time on its own connection until told to stop."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.conn = connect(url)
        self.seen: List[Tuple[Any, ...]] = []
        self.errors: List[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 120
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                try:
                    self.seen.append(snapshot(self.conn))
                except psycopg2.Error as err:
                    self.errors.append(str(err))
                time.sleep(0.01)
        finally:
            self.conn.close()


# --- the tests ------------------------------------------------------------------------


def test_two_updaters_at_once_one_waits_both_end_with_the_truth(
    replica, postgis_database, tmp_path
) -> None:
    place = postgis_place(postgis_database, tmp_path)
    conn = connect(postgis_database)
    try:
        with conn.cursor() as cursor:  # hold the holding's lock: both updaters must wait
            cursor.execute("SELECT pg_advisory_lock(%s)", (advisory_key("public", TOPO),))
        first = start_update(replica, place, "--json")
        second = start_update(replica, place, "--json")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(updater_sessions(conn)) < 2:
            for process in (first, second):
                assert process.poll() is None, process.communicate(timeout=30)
            time.sleep(0.05)
        time.sleep(0.5)  # both are past their plan and downloads, waiting on the lock
        for process in (first, second):
            assert process.poll() is None, process.communicate(timeout=30)  # it waits
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (advisory_key("public", TOPO),))
        outs = [p.communicate(timeout=120) for p in (first, second)]
    finally:
        conn.close()
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    assert {first.returncode, second.returncode} <= {0, 10}, outs
    reports = [json.loads(out) for out, _ in outs]
    applied = [a["version"] for r in reports for a in r["applied"]]
    assert sorted(applied) == sorted(TOPO_VERSIONS)  # each version applied once
    assert all(r["versions"] == list(TOPO_VERSIONS) for r in reports)
    assert any("applied by another update" in " ".join(r["notes"]) for r in reports)
    assert "waiting for another update" in outs[0][1] + outs[1][1]
    assert_mastermap_is_truth(place, TOPO, TOPO_VERSIONS[-1])


def test_a_reader_sees_the_old_or_the_new_state_never_a_mix(
    replica, postgis_database, tmp_path
) -> None:
    place = postgis_place(postgis_database, tmp_path)
    update(replica, TOPO, place)
    allowed: Set[Tuple[Any, ...]] = {truth_snapshot(v) for v in TOPO_VERSIONS}
    conn = connect(postgis_database)
    try:
        before = snapshot(conn)
        assert before == truth_snapshot(TOPO_VERSIONS[-1])
        gone = sorted(holdings_truth(TOPO, TOPO_VERSIONS[-1]).features["TopographicArea"])[0]
        big_cou(replica, tmp_path, gone)
        for args in ((), ("--rebuild",)):  # a big change-only update, then a rebuild
            reader = Reader(postgis_database)
            reader.start()
            result = holding_cli(replica, "update", TOPO, *into(place), *args, timeout=300)
            reader.stop.set()
            reader.join(timeout=30)
            assert result.returncode == 0, result.stderr
            after = snapshot(conn)
            allowed.add(after)
            assert reader.seen and not reader.errors, reader.errors[:3]
            states = set(reader.seen)
            assert states <= allowed, states - allowed
            assert after in states or len(reader.seen) > 2
        assert after[3].split(",")[-1] != TOPO_VERSIONS[-1]  # the rebuild applied the new COU
    finally:
        conn.close()


def test_kill_9_mid_version_leaves_the_previous_version(replica, postgis_database, tmp_path):
    place = postgis_place(postgis_database, tmp_path)
    update(replica, TOPO, place)
    conn = connect(postgis_database)
    try:
        before = place.snapshot()
        gone = sorted(holdings_truth(TOPO, TOPO_VERSIONS[-1]).features["TopographicArea"])[0]
        published = big_cou(replica, tmp_path, gone, count=60000)
        process = start_update(replica, place)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if holds_the_lock(conn):
                    break  # its version's transaction is open and applying
                time.sleep(0.005)
            time.sleep(0.3)
            assert process.poll() is None, "the update ended before it could be killed"
            assert holds_the_lock(conn), "killed outside the version's transaction"
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 30  # the server notices the client is gone
        while time.monotonic() < deadline and updater_sessions(conn):
            time.sleep(0.05)
        assert place.snapshot() == before  # the server rolled the version back
        again = update(replica, TOPO, place)
        assert [a["version"] for a in again["applied"]] == [published.id]
        counts = again["applied"][0]["changes"]["topographic_area"]
        assert counts == {"inserted": 60000, "updated": 0, "deleted": 1, "ignored": 0}
    finally:
        conn.close()


def test_a_wrong_password_or_no_server_is_one_error_line(
    replica, postgres_cluster, postgis_database, tmp_path
) -> None:
    secret = "Wr0ng-Secret-42"  # pragma: allowlist secret
    hba = postgres_cluster.data / "pg_hba.conf"
    lines = hba.read_text(encoding="utf-8")
    if "osd_pw" not in lines:  # this one user must give a password
        hba.write_text(f"host all osd_pw 127.0.0.1/32 scram-sha-256\n{lines}", encoding="utf-8")
        postgres_cluster.sql("postgres", "SELECT pg_reload_conf()")
    postgres_cluster.sql(
        "postgres",
        "DO $$ BEGIN CREATE ROLE osd_pw LOGIN PASSWORD 'right-one'; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    database = postgis_database.rsplit("/", 1)[1]
    port = postgres_cluster.port
    for url, words in (
        (f"postgresql://osd_pw:{secret}@127.0.0.1:{port}/{database}", "password authentication"),
        (f"postgresql://osd_pw:{secret}@127.0.0.1:1/{database}", "Cannot connect"),
    ):
        for args in (
            ("update", TOPO, "--into", url, "--downloads", str(tmp_path / "d")),
            ("status", url),
        ):
            result = holding_cli(replica, *args)
            assert result.returncode == 1, result.stderr
            errors = [line for line in result.stderr.splitlines() if line.strip()]
            assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
            assert words in errors[0] and "Traceback" not in result.stderr
            assert secret not in result.stderr + result.stdout
            assert "postgresql://osd_pw@127.0.0.1" in errors[0]  # where, without the password


def test_a_schema_of_other_tables_is_refused_and_a_named_schema_is_made(
    replica, postgis_database, tmp_path
) -> None:
    conn = connect(postgis_database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE public.roads (id int)")
        place = postgis_place(postgis_database, tmp_path)
        result = holding_cli(replica, "update", TOPO, *into(place), "--to", TOPO_VERSIONS[0])
        assert result.returncode == 1
        assert "Schema public of" in result.stderr and "holds other tables" in result.stderr
        named = postgis_place(postgis_database, tmp_path, schema="exeter topo")
        update(replica, TOPO, named, "--to", TOPO_VERSIONS[1])
        assert_mastermap_is_truth(named, TOPO, TOPO_VERSIONS[1])
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT f_table_name, type, srid FROM geometry_columns "
                "WHERE f_table_schema = 'exeter topo' ORDER BY 1"
            )
            columns = cursor.fetchall()
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'exeter topo' "
                "AND indexdef LIKE '%USING gist%' ORDER BY 1"
            )
            gist = [r[0] for r in cursor.fetchall()]
        assert ("topographic_area", "POLYGON", 27700) in columns
        assert ("cartographic_text", "POINT", 27700) in columns
        assert "topographic_area_geom_idx" in gist and len(gist) == 6
        other = holding_cli(replica, "update", "0040163520", *into(named))
        assert other.returncode == 1 and other.stderr.strip() == (
            f"error: {postgis_database} (schema exeter topo) holds data package {TOPO}, not "
            "0040163520. Choose another schema for this package (--schema NAME: one schema per "
            "data package)."
        )
        status = json.loads(holding_cli(replica, "status", *named.status_args, "--json").stdout)
        assert status["holding"].endswith("(schema exeter topo)")
        assert [v["version"] for v in status["versions"]] == list(TOPO_VERSIONS[:2])
    finally:
        conn.close()


def test_sync_keeps_a_postgis_holding_current(replica, postgis_database, tmp_path) -> None:
    config = tmp_path / "sync.toml"
    config.write_text(
        f'dest_root = "data"\napi_url = "{replica.api_url}"\n'
        f'[[packages]]\nid = "{TOPO}"\nholding = "{postgis_database}"\nschema = "topo"\n',
        encoding="utf-8",
    )
    env = dict(cli_env(replica))
    env.pop("OS_DOWNLOADS_API_URL")
    result = subprocess.run(
        [sys.executable, "-m", "os_downloads", "sync", str(config), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    entry: Dict[str, Any] = json.loads(result.stdout)["entries"][0]
    assert [f["version"] for f in entry["fetched"]] == list(TOPO_VERSIONS)
    assert_mastermap_is_truth(postgis_place(postgis_database, tmp_path, "topo"), TOPO, "6401104")
    config.write_text(
        config.read_text("utf-8").replace(postgis_database, "postgresql://u:pw@h/db"), "utf-8"
    )
    refused = subprocess.run(
        [sys.executable, "-m", "os_downloads", "sync", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert refused.returncode != 0 and "~/.pgpass" in refused.stderr
    assert ":pw@" not in refused.stderr


def test_a_service_name_and_libpq_words_name_the_database(
    replica, postgres_cluster, postgis_database, tmp_path
) -> None:
    database = postgis_database.rsplit("/", 1)[1]
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[osdtest]\nhost=127.0.0.1\nport={postgres_cluster.port}\ndbname={database}\n"
        "user=osd_test\n",
        encoding="utf-8",
    )
    env = dict(cli_env(replica), PGSERVICEFILE=str(services))
    downloads = ["--downloads", str(tmp_path / "d")]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "os_downloads", "holding", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    first = run(
        "update", TOPO, "--into", "PG:service=osdtest", "--to", TOPO_VERSIONS[0], *downloads
    )
    assert first.returncode == 0, first.stderr
    words = f"PG:dbname={database} host=127.0.0.1 port={postgres_cluster.port} user=osd_test"
    second = run("update", TOPO, "--into", words, "--json", *downloads)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["versions"] == list(TOPO_VERSIONS)
    status = run("status", "PG:service=osdtest", "--offline")
    assert "Holding:  PG:service=osdtest (schema public)" in status.stdout


def test_no_right_to_create_the_schema_is_worded(replica, postgres_cluster, postgis_database):
    postgres_cluster.sql(
        "postgres",
        "DO $$ BEGIN CREATE ROLE osd_reader LOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    database = postgis_database.rsplit("/", 1)[1]
    postgres_cluster.sql(database, f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC")
    url = f"postgresql://osd_reader@127.0.0.1:{postgres_cluster.port}/{database}"
    result = holding_cli(
        replica, "update", TOPO, "--into", url, "--schema", "mine", "--downloads", "d"
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "permission denied" in lines[0] and "schema mine" in lines[0]


def test_a_wait_for_another_update_can_be_cancelled(replica, postgis_database, tmp_path) -> None:
    from os_downloads.core.api.auth import make_auth
    from os_downloads.core.api.client import OSDownloadsClient
    from os_downloads.core.errors import Cancelled
    from os_downloads.core.holdings.update import update_holding

    client = OSDownloadsClient(base_url=replica.api_url, auth=make_auth(replica.api_key))
    conn = connect(postgis_database)
    cancel = threading.Event()
    outcome: Dict[str, Any] = {}

    def run() -> None:
        try:
            update_holding(client, TOPO, postgis_database, downloads=tmp_path / "d", cancel=cancel)
        except BaseException as err:  # noqa: BLE001 - what the thread ended with, for the test
            outcome["error"] = err

    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (advisory_key("public", TOPO),))
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "d").exists():
            time.sleep(0.05)
        time.sleep(1.0)  # downloaded, now waiting on the lock
        assert worker.is_alive()
        cancel.set()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the wait did not end when cancelled"
        assert isinstance(outcome.get("error"), Cancelled)
    finally:
        conn.close()
        client.close()
    check = connect(postgis_database)
    try:
        with check.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM public.os_holding_versions")
            assert cursor.fetchone()[0] == 0  # nothing applied
    finally:
        check.close()
