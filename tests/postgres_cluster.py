"""A throw-away PostgreSQL + PostGIS server for the tests and the bench.

Real components are real: the PostGIS holding tests run against Debian's
``postgresql-15`` with ``postgresql-15-postgis-3`` (installed by ``make test``),
started here in a temporary folder (``initdb``, its own port on 127.0.0.1 and
its own socket folder), and stopped and deleted at the end. As root the server
runs as the unprivileged ``postgres`` user (or ``nobody``): PostgreSQL refuses
to run as root.

``PostgresCluster.start()`` raises ``PostgresUnavailable`` with the reason when
the server cannot start (binaries or PostGIS missing, initdb failing); the
tests skip with that reason and nothing else.

Each test gets its own database, copied from a template that has PostGIS
already (``CREATE DATABASE ... TEMPLATE``: milliseconds, where ``CREATE
EXTENSION postgis`` takes about a second).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

SUPERUSER = "osd_test"
TEMPLATE = "osd_template_postgis"
_START_TIMEOUT = 60.0


class PostgresUnavailable(RuntimeError):
    """Why the test server could not be started (a skip reason)."""


def _bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries that has PostGIS beside it."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (apt install postgresql-15 postgresql-15-postgis-3)"
        )
    for initdb in candidates:
        version = Path(initdb).parents[1].name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(initdb).parent
    raise PostgresUnavailable(
        "PostGIS is not installed for PostgreSQL (apt install postgresql-15-postgis-3)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> Optional[pwd.struct_passwd]:
    """As root: the unprivileged user the server runs as; else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no unprivileged user (postgres, nobody)")


class PostgresCluster:
    """One running server: ``dsn(database)``, ``create_database()``, ``stop()``."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="osd-postgres-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self.user = _server_user()
        self._databases = 0
        self.running = False

    # --- running as the server's user --------------------------------------------------

    def _run(self, args: List[str], *, timeout: float = _START_TIMEOUT) -> str:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(self.root),
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
            **kwargs,
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}"
            )
        return done.stdout

    def start(self) -> PostgresCluster:
        self.sockets.mkdir()
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            os.chown(self.sockets, self.user.pw_uid, self.user.pw_gid)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        self.port = _free_port()
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=50 -c shared_buffers=128MB -c max_wal_size=2GB"
        )
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(_START_TIMEOUT)),
                "start",
            ],
            timeout=_START_TIMEOUT + 10,
        )
        self.running = True
        try:
            self.sql("postgres", f"CREATE DATABASE {TEMPLATE}")
            self.sql(TEMPLATE, "CREATE EXTENSION postgis")
        except Exception as err:
            self.stop()
            raise PostgresUnavailable(f"PostGIS could not be enabled: {err}") from None
        return self

    def stop(self) -> None:
        if self.running:
            try:
                self._run(
                    [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                    timeout=30,
                )
            except (PostgresUnavailable, subprocess.TimeoutExpired):
                pass
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- databases ----------------------------------------------------------------------

    def dsn(self, database: str) -> str:
        """A libpq connection string (key=value) for ``database`` over TCP on 127.0.0.1."""
        return f"host=127.0.0.1 port={self.port} dbname={database} user={SUPERUSER}"

    def url(self, database: str) -> str:
        """The same as a ``postgresql://`` URL (what ``--into`` takes)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def sql(self, database: str, statement: str) -> None:
        """Run one statement in autocommit (CREATE DATABASE cannot run in a transaction)."""
        import psycopg2

        conn = psycopg2.connect(self.dsn(database), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(statement)
        finally:
            conn.close()

    def create_database(self, prefix: str = "holding") -> str:
        """A new empty database with PostGIS; its name."""
        deadline = time.monotonic() + 30
        while True:
            self._databases += 1
            name = f"{prefix}_{os.getpid()}_{self._databases}"
            try:
                self.sql("postgres", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
                return name
            except Exception as err:  # the template is busy for a moment after use
                if "being accessed by other users" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
