"""The holding file: a GeoPackage with the data tables and two metadata tables.

``os_holding`` (one row): which data package and product the file holds, what
kind of reader built it, the attribution to show. ``os_holding_versions``: every
version applied since the newest full supply, in order (id, createdOn,
supplyType, reason, productVersion, its predecessor, files with size and MD5,
the counts of what changed, applied_at). The metadata tables are not in
``gpkg_contents``, so GIS software lists only the data tables.

Every change to a holding with data goes through ``Holding.transaction()``: one
SQLite transaction (rollback journal), so a crash, a kill -9 or a full disk
leaves the file as it was before that version. The first full supply into an
empty holding is built aside (``Holding.built_aside()``): into a new file with
no journal and no syncing (nothing there to lose), fsynced and renamed over the
empty holding only once complete, so the holding is empty or whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ..engine.manifest import utc_now
from ..engine.partfile import fsync_folder
from . import gpkg
from .errors import NotAHoldingError, OtherPackageError

HOLDING_TABLE = "os_holding"
VERSIONS_TABLE = "os_holding_versions"
SCHEMA = 1

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database rights {year}. "
    "Premium data supplied under your OS licence: show your licence number with it "
    "(© Crown copyright and database rights {year} OS AC0000XXXXXX)."
)


@dataclass(frozen=True)
class HoldingInfo:
    package_id: str
    package_name: str
    product_id: str
    product_name: str
    kind: str  # "mastermap" | "addressbase"
    attribution: str
    created_at: str


@dataclass
class AppliedVersion:
    version_id: str
    created_on: str
    supply_type: str
    reason: str
    product_version: str
    previous_version_id: str
    files: List[Dict[str, Any]] = field(default_factory=list)
    changes: Dict[str, Dict[str, int]] = field(default_factory=dict)
    applied_at: str = ""
    sequence: int = 0


class Holding:
    """An open holding. Use as a context manager (closes the connection)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> Holding:
        """Open ``path``; with ``create``, a missing file becomes an empty holding.

        A file that is not a GeoPackage, or a GeoPackage that is not a holding,
        is refused (``NotAHoldingError``): nothing in it is touched.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise NotAHoldingError(f"{path} does not exist.", hint="Run holding update first.")
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = gpkg.connect(path)
            holding = cls(path, conn)
            with holding.transaction():
                gpkg.init_geopackage(conn)
                holding._create_metadata_tables()
            return holding
        if path.is_dir():
            raise NotAHoldingError(f"{path} is a folder, not a GeoPackage.")
        with open(path, "rb") as handle:
            magic = handle.read(16)
        if magic and magic != b"SQLite format 3\x00":
            raise NotAHoldingError(f"{path} is not a GeoPackage.", hint="Choose a .gpkg file.")
        conn = gpkg.connect(path)
        holding = cls(path, conn)
        try:
            foreign = magic and not gpkg.table_exists(conn, HOLDING_TABLE)
            if foreign and gpkg.is_geopackage(conn) and holding._has_data():
                raise NotAHoldingError(
                    f"{path} is a GeoPackage with other data, not a holding.",
                    hint="Choose a new file for the holding; this one is left as it is.",
                )
            if not gpkg.table_exists(conn, VERSIONS_TABLE):  # an empty file: make it a holding
                with holding.transaction():
                    gpkg.init_geopackage(conn)
                    holding._create_metadata_tables()
        except sqlite3.DatabaseError as err:
            conn.close()
            raise NotAHoldingError(f"{path} cannot be read as a GeoPackage ({err}).") from None
        except Exception:
            conn.close()
            raise
        return holding

    def _has_data(self) -> bool:
        row = self.conn.execute("SELECT count(*) FROM gpkg_contents").fetchone()
        return bool(row and row[0])

    def _create_metadata_tables(self) -> None:
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {HOLDING_TABLE} (schema INTEGER NOT NULL, "
            "package_id TEXT NOT NULL, package_name TEXT, product_id TEXT, product_name TEXT, "
            "kind TEXT, attribution TEXT, created_at TEXT)"
        )
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (sequence INTEGER PRIMARY KEY, "
            "version_id TEXT NOT NULL UNIQUE, created_on TEXT, supply_type TEXT, reason TEXT, "
            "product_version TEXT, previous_version_id TEXT, files TEXT, changes TEXT, "
            "applied_at TEXT)"
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Holding:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: committed at the end, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def is_empty(self) -> bool:
        """Nothing applied and no data tables: a full build may be built aside."""
        return not self.applied_ids and not self.data_tables()

    @contextlib.contextmanager
    def built_aside(self) -> Iterator[Holding]:
        """A holding in ``.<name>.building`` beside this empty one, for a full build:
        journal and syncing off (a failure deletes the file, so there is nothing to roll
        back), then fsynced and renamed over this one when the block ends. This
        holding's write lock is held meanwhile, so a second update waits for it."""
        temp = self.path.with_name(f".{self.path.name}.building")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            temp.unlink(missing_ok=True)  # left by a build that was killed
            conn = gpkg.connect(temp)
            try:
                conn.execute("PRAGMA journal_mode = OFF")
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute("BEGIN")
                gpkg.init_geopackage(conn)
                aside = Holding(temp, conn)
                aside._create_metadata_tables()
                yield aside
                conn.execute("COMMIT")
            finally:
                conn.close()
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
        except BaseException:
            self.conn.execute("ROLLBACK")
            temp.unlink(missing_ok=True)
            raise
        self.conn.close()  # the rename needs the file closed on Windows
        try:
            os.replace(temp, self.path)
            fsync_folder(self.path.parent)
        finally:
            self.conn = gpkg.connect(self.path)

    # --- metadata ------------------------------------------------------------------------

    @property
    def info(self) -> Optional[HoldingInfo]:
        row = self.conn.execute(
            f"SELECT package_id, package_name, product_id, product_name, kind, attribution, "
            f"created_at FROM {HOLDING_TABLE} LIMIT 1"
        ).fetchone()
        return HoldingInfo(*[r or "" for r in row]) if row else None

    def check_package(self, package_id: str) -> None:
        """Refuse a holding of another package (``OtherPackageError``)."""
        info = self.info
        if info is not None and info.package_id != package_id:
            raise OtherPackageError(str(self.path), info.package_id, package_id)

    def claim(self, info: HoldingInfo) -> None:
        """Record what the holding holds (inside a transaction)."""
        self.conn.execute(f"DELETE FROM {HOLDING_TABLE}")
        self.conn.execute(
            f"INSERT INTO {HOLDING_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                SCHEMA,
                info.package_id,
                info.package_name,
                info.product_id,
                info.product_name,
                info.kind,
                info.attribution,
                info.created_at or utc_now(),
            ),
        )

    def versions(self) -> List[AppliedVersion]:
        """The applied versions, oldest first."""
        rows = self.conn.execute(
            f"SELECT version_id, created_on, supply_type, reason, product_version, "
            f"previous_version_id, files, changes, applied_at, sequence FROM {VERSIONS_TABLE} "
            "ORDER BY sequence"
        ).fetchall()
        return [
            AppliedVersion(
                *[r or "" for r in row[:6]],
                files=json.loads(row[6] or "[]"),
                changes=json.loads(row[7] or "{}"),
                applied_at=row[8] or "",
                sequence=row[9],
            )
            for row in rows
        ]

    @property
    def applied_ids(self) -> List[str]:
        return [v.version_id for v in self.versions()]

    def record_version(self, version: AppliedVersion) -> None:
        """Add an applied version (inside the transaction that applied it)."""
        self.conn.execute(
            f"INSERT INTO {VERSIONS_TABLE} (version_id, created_on, supply_type, reason, "
            "product_version, previous_version_id, files, changes, applied_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                version.version_id,
                version.created_on,
                version.supply_type,
                version.reason,
                version.product_version,
                version.previous_version_id,
                json.dumps(version.files),
                json.dumps(version.changes),
                version.applied_at or utc_now(),
            ),
        )

    def forget_versions(self) -> None:
        """Before a full supply replaces everything (inside its transaction)."""
        self.conn.execute(f"DELETE FROM {VERSIONS_TABLE}")

    def data_tables(self) -> List[str]:
        return [r[0] for r in self.conn.execute("SELECT table_name FROM gpkg_contents ORDER BY 1")]

    def drop_data_tables(self) -> None:
        """Every data table and its index (inside a transaction): a full supply starts afresh."""
        for table in self.data_tables():
            rtree = f"rtree_{table}_geom"
            if gpkg.table_exists(self.conn, rtree):
                self.conn.execute(f"DROP TABLE {gpkg.quote(rtree)}")
            self.conn.execute(f"DROP TABLE IF EXISTS {gpkg.quote(table)}")
            for meta in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_contents"):
                self.conn.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {gpkg.quote(table)}").fetchone()[0])


def attribution(year: str) -> str:
    return ATTRIBUTION.format(year=year or "")
