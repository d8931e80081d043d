"""A holding: the data tables and two metadata tables, in a GeoPackage or a PostGIS schema.

``os_holding`` (one row): which data package and product it holds, what kind
of reader built it, the attribution to show. ``os_holding_versions``: every
version applied since the newest full supply, in order (id, createdOn,
supplyType, reason, productVersion, its predecessor, files with size and MD5,
the counts of what changed, applied_at). In a GeoPackage the metadata tables
are not in ``gpkg_contents``, so GIS software lists only the data tables.

``Holding`` talks to its store (``store.HoldingStore``: ``gpkg_store`` or
``postgis_store``). Every change to a holding with data goes through
``Holding.transaction()``: one transaction, so a crash, a kill -9 or a full
disk leaves it as it was before that version. The first full supply into an
empty holding is built aside (``Holding.built_aside()``): a GeoPackage into a
new file with no journal, renamed over the empty one once complete;
PostgreSQL in its one transaction (nobody sees the new tables before commit).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ..engine.manifest import utc_now
from .errors import NotAHoldingError, OtherPackageError
from .store import Column, HoldingStore

HOLDING_TABLE = "os_holding"
VERSIONS_TABLE = "os_holding_versions"
SCHEMA = 1
_HOLDING_COLUMNS = [
    Column(name, kind)
    for name, kind in (
        ("schema", "INTEGER NOT NULL"),
        ("package_id", "TEXT NOT NULL"),
        ("package_name", "TEXT"),
        ("product_id", "TEXT"),
        ("product_name", "TEXT"),
        ("kind", "TEXT"),
        ("attribution", "TEXT"),
        ("created_at", "TEXT"),
    )
]
_VERSIONS_COLUMNS = [
    Column(name, kind)
    for name, kind in (
        ("sequence", "INTEGER PRIMARY KEY"),
        ("version_id", "TEXT NOT NULL UNIQUE"),
        ("created_on", "TEXT"),
        ("supply_type", "TEXT"),
        ("reason", "TEXT"),
        ("product_version", "TEXT"),
        ("previous_version_id", "TEXT"),
        ("files", "TEXT"),
        ("changes", "TEXT"),
        ("applied_at", "TEXT"),
    )
]

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
    """An open holding on its store. Use as a context manager (closes the connection)."""

    def __init__(self, store: HoldingStore, target: Any = None) -> None:
        self.store = store
        self.target = target
        self.path: Optional[Path] = getattr(store, "path", None)  # a GeoPackage's file

    @property
    def label(self) -> str:
        """For people, logs and reports: the file, or the database and schema."""
        return self.store.label

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> Holding:
        """The GeoPackage holding at ``path`` (see ``at``)."""
        from .gpkg_store import open_gpkg_store

        return cls._opened(*open_gpkg_store(Path(path), create=create), None)

    @classmethod
    def at(cls, target: Any, *, create: bool = False) -> Holding:
        """Open the holding at ``target`` (``target.GeoPackageTarget`` or
        ``PostgisTarget``); with ``create``, a missing file or schema becomes an
        empty holding. A file or schema with other data is refused
        (``NotAHoldingError``): nothing in it is touched."""
        if not hasattr(target, "conninfo"):
            return cls.open(target.path, create=create)
        from .postgis_store import open_postgis_store

        store, fresh = open_postgis_store(
            target.conninfo, target.schema, target.label, create=create
        )
        if fresh and not create:
            store.close()
            raise NotAHoldingError(
                f"{target.label} holds no holding.", hint="Run holding update first."
            )
        return cls._opened(store, fresh, target)

    @classmethod
    def _opened(cls, store: HoldingStore, fresh: bool, target: Any) -> Holding:
        holding = cls(store, target)
        try:
            if fresh:
                with store.transaction():
                    store.lock("")  # two first updates at once: one makes the tables
                    holding._create_metadata_tables()
        except BaseException:
            store.close()
            raise
        return holding

    def _create_metadata_tables(self) -> None:
        self.store.create_metadata_table(HOLDING_TABLE, _HOLDING_COLUMNS)
        self.store.create_metadata_table(VERSIONS_TABLE, _VERSIONS_COLUMNS)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Holding:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------------

    def transaction(self) -> Any:
        """One transaction: committed at the end, rolled back on any error."""
        return self.store.transaction()

    def is_empty(self) -> bool:
        """Nothing applied and no data tables: a full build may be built aside."""
        return not self.applied_ids and not self.data_tables()

    @contextlib.contextmanager
    def built_aside(self) -> Iterator[Holding]:
        """A holding to build a first full supply in, which appears whole when the block
        ends or not at all: a GeoPackage's ``.<name>.building`` beside it (journal and
        syncing off, renamed over this one), PostgreSQL's one transaction."""
        with self.store.built_aside() as store:
            aside = Holding(store, self.target) if store is not self.store else self
            if store is not self.store:
                aside._create_metadata_tables()
            yield aside

    # --- metadata ------------------------------------------------------------------------

    @property
    def info(self) -> Optional[HoldingInfo]:
        row = self.store.execute(
            f"SELECT package_id, package_name, product_id, product_name, kind, attribution, "
            f"created_at FROM {self.store.ref(HOLDING_TABLE)} LIMIT 1"
        ).fetchone()
        return HoldingInfo(*[r or "" for r in row]) if row else None

    def check_package(self, package_id: str) -> None:
        """Refuse a holding of another package (``OtherPackageError``)."""
        info = self.info
        if info is not None and info.package_id != package_id:
            hint = (
                "Choose another schema for this package (--schema NAME: one schema per data "
                "package)."
                if self.path is None
                else ""
            )
            raise OtherPackageError(self.label, info.package_id, package_id, hint=hint)

    def claim(self, info: HoldingInfo) -> None:
        """Record what the holding holds (inside a transaction)."""
        self.store.execute(f"DELETE FROM {self.store.ref(HOLDING_TABLE)}")
        self.store.execute(
            f"INSERT INTO {self.store.ref(HOLDING_TABLE)} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        rows = self.store.execute(
            f"SELECT version_id, created_on, supply_type, reason, product_version, "
            f"previous_version_id, files, changes, applied_at, sequence "
            f"FROM {self.store.ref(VERSIONS_TABLE)} ORDER BY sequence"
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
        self.store.execute(
            f"INSERT INTO {self.store.ref(VERSIONS_TABLE)} (version_id, created_on, "
            "supply_type, reason, product_version, previous_version_id, files, changes, "
            "applied_at) "
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
        self.store.execute(f"DELETE FROM {self.store.ref(VERSIONS_TABLE)}")

    def data_tables(self) -> List[str]:
        """The data tables (what a GIS loads as layers), by name."""
        return self.store.data_tables()

    def drop_data_tables(self) -> None:
        """Inside a transaction: a full supply starts afresh (PostgreSQL: the old tables
        stay for readers until the new ones are swapped in at commit)."""
        self.store.drop_data_tables()

    def count(self, table: str) -> int:
        return int(
            self.store.execute(f"SELECT count(*) FROM {self.store.ref(table)}").fetchone()[0]
        )


def attribution(year: str) -> str:
    return ATTRIBUTION.format(year=year or "")
