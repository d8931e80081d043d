"""Make the repository importable as the package ``os_downloads``; the replica fixtures.

The checkout folder may have any name, so a link named ``os_downloads`` to the
repository root is made under ``.build/pythonpath`` and put on ``sys.path``.
``replica`` is the local OS Downloads API (+ OAuth2, storage, TRUD origins) over
real HTTP on 127.0.0.1, started once per session for the tests that ask for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHONPATH = ROOT / ".build" / "pythonpath"


def _ensure_importable() -> None:
    link = PYTHONPATH / "os_downloads"
    PYTHONPATH.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        try:
            os.symlink(ROOT, link, target_is_directory=True)
        except FileExistsError:
            pass
    if str(PYTHONPATH) not in sys.path:
        sys.path.insert(0, str(PYTHONPATH))


_ensure_importable()


# --- the replica (real HTTP on 127.0.0.1) --------------------------------------


@pytest.fixture(scope="session")
def replica_data_dir() -> Path:
    """The generated sample data (``.build/replica-data``), made once if missing or outdated."""
    from os_downloads.replica.data.datadir import ensure_sample_data

    return ensure_sample_data()


@pytest.fixture(scope="session")
def replica(replica_data_dir: Path):
    """The running replica: ``replica.api_url``, ``.token_url``, ``.storage_origin``,
    ``.trud_origin``, ``.api_key``/``.api_secret``, ``.set_faults(...)``,
    ``.requests_log``, ``.publish_package_version(...)`` (see replica/server/replica_server.py).
    Faults, the request log and published content are reset after every test."""
    from os_downloads.replica.server import ReplicaServer

    with ReplicaServer(replica_data_dir) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_replica_after_test(request: pytest.FixtureRequest):
    """Reset the replica after each test that used it; never start it otherwise."""
    server = request.getfixturevalue("replica") if "replica" in request.fixturenames else None
    yield
    if server is not None:
        server.reset()


# --- a real PostgreSQL + PostGIS server (tests/postgres_cluster.py) -------------


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL server with PostGIS for this test session; the tests
    that ask for it are skipped, with the reason, only when it cannot start."""
    try:
        import psycopg2  # noqa: F401 - Debian's python3-psycopg2, as QGIS installs ship
    except ImportError:
        pytest.skip("psycopg2 is not installed (apt install python3-psycopg2)")
    from postgres_cluster import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster().start()
    except PostgresUnavailable as err:
        pytest.skip(f"no PostgreSQL server for the PostGIS tests: {err}")
    yield cluster
    cluster.stop()


@pytest.fixture
def postgis_database(postgres_cluster) -> str:
    """A new, empty PostGIS database on the test server: its ``postgresql://`` URL."""
    return postgres_cluster.url(postgres_cluster.create_database())
