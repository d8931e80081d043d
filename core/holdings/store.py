"""Where a holding's tables live: the store interface the appliers and ``Holding`` talk to.

Two stores implement it: ``gpkg_store.GpkgStore`` (a GeoPackage written with
``sqlite3``) and ``postgis_store.PostgisStore`` (a schema of a PostgreSQL +
PostGIS database, through psycopg2). The appliers write their SQL once, with
``?`` marks and table references from ``ref``/``temp_ref``; the few places where
the two dialects differ are the store's attributes and methods below, never a
rewrite of the SQL text (the PostGIS store only turns ``?`` into ``%s``).

Values: numbers, text, ``None``; geometries as the store encodes them
(``geometry``, ``point``, ``from_wkb``). ``copy_rows`` stores an empty text as
NULL (the readers' rule for an empty field).

Errors: a unique key that repeats raises ``DuplicateKey``; any other failure of
the store (disk full, locked, connection lost, permission denied) raises
``StoreFailure`` with words for people (never a password).
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .errors import BadSupplyError, HoldingError

Geometry = Tuple[str, Any]  # ("Point", (x, y)), ("LineString", [...]), ("Polygon", [[...]])


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the GeoPackage's types: TEXT, INTEGER, REAL, DATE, DATETIME, BOOLEAN


class DuplicateKey(BadSupplyError):
    """A unique key repeats (a damaged supply: OS's data never repeats a key)."""


class StoreFailure(HoldingError):
    """The store could not read or write (disk full, locked, connection, rights)."""

    def __init__(self, reason: str, *, hint: str = "", code: str = "") -> None:
        super().__init__(reason, hint=hint)
        self.reason = reason
        self.code = code  # SQLSTATE for PostgreSQL, "" for SQLite


def quote(name: str) -> str:
    """An SQL identifier, quoted (the same in SQLite and PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


class HoldingStore(ABC):
    """A holding's tables: schema operations, geometry encoding, bulk loads, SQL."""

    #: for people, logs and reports: never a password
    label: str = ""
    #: null-safe equality: ``a IS b`` (SQLite), ``a IS NOT DISTINCT FROM b`` (PostgreSQL)
    null_safe_equal: str = "IS"
    #: equality of keys in a join, the one the key's index serves: SQLite's ``IS`` does,
    #: PostgreSQL's ``IS NOT DISTINCT FROM`` does not (a 1 % change would scan the table
    #: per row), so ``=`` there (OS's keys are never NULL)
    key_equal: str = "IS"
    #: the dialect has ``UPDATE ... FROM`` (SQLite 3.33+, PostgreSQL)
    update_from: bool = True

    # --- SQL ------------------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` marks); the cursor (iterable, fetchone/fetchall, rowcount)."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many rows (batched)."""

    @abstractmethod
    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        temp: bool = False,
    ) -> None:
        """Bulk-insert ``rows`` into ``table`` (a ``temp`` one: of this connection), many
        rows an INSERT / ``COPY ... FROM STDIN``; an empty text is stored as NULL."""

    @abstractmethod
    def rows_per_copy(self, width: int) -> int:
        """How many rows of ``width`` values ``copy_rows`` best gets at once (a bulk load
        keeps the rest for the next call)."""

    def ref(self, table: str) -> str:
        """The quoted reference to a holding table (data or metadata)."""
        return quote(table)

    def temp_ref(self, table: str) -> str:
        """The quoted reference to a temporary table of this connection."""
        return f"temp.{quote(table)}"

    def insert_or_ignore(self, into: str, select: str) -> str:
        """``INSERT ... SELECT`` that skips rows whose unique key is already there."""
        return f"INSERT OR IGNORE INTO {into} {select}"

    # --- transactions -----------------------------------------------------------------

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager:
        """One transaction: committed at the end of the block, rolled back on any error."""

    @abstractmethod
    def built_aside(self) -> contextlib.AbstractContextManager:
        """For the first full build of an empty holding: a store to build in, whose
        work appears whole when the block ends, or not at all."""

    @abstractmethod
    def lock(self, key: str, cancel: Optional[threading.Event] = None) -> None:
        """Inside a transaction: wait (bounded, cancellable) until no other update of
        ``key`` runs. SQLite's write lock does it for a GeoPackage."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    # --- schema ----------------------------------------------------------------------------

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """A holding table (data or metadata) of that name exists."""

    @abstractmethod
    def create_table(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        geometry: Optional[str] = None,
        description: str = "",
        spatial_index: bool = True,
    ) -> None:
        """A data table with ``fid`` (+ ``geom`` of ``geometry``: POINT, LINESTRING,
        POLYGON, GEOMETRY, EPSG:27700); ``spatial_index=False``: built later with
        ``build_spatial_index``, after a bulk load."""

    @abstractmethod
    def create_metadata_table(self, name: str, columns: Sequence[Column]) -> None:
        """A table of the holding's own (not a data table), if missing. Column types
        in SQLite's words, constraints after them (``INTEGER PRIMARY KEY``: a
        generated key; ``TEXT NOT NULL UNIQUE``)."""

    @abstractmethod
    def add_column(self, table: str, column: Column) -> None:
        """A column OS added: kept, never dropped."""

    @abstractmethod
    def table_columns(self, table: str) -> Tuple[str, ...]:
        """The table's column names, in order (``fid`` and ``geom`` included)."""

    @abstractmethod
    def create_unique_index(
        self, table: str, columns: Sequence[str], suffix: str, *, temp: bool = False
    ) -> None:
        """A unique index named ``<table><suffix>``, if missing, on a holding table (or a
        ``temp`` one); ``DuplicateKey`` when the rows already repeat a key."""

    @abstractmethod
    def build_spatial_index(
        self,
        table: str,
        points: Optional[Tuple[str, str]] = None,
        boxes: Optional[Iterable[Tuple]] = None,
    ) -> None:
        """The table's spatial index (R-tree / GIST). ``points`` and ``boxes`` are hints a
        GeoPackage fills its R-tree from (see ``gpkg.build_spatial_index``)."""

    @abstractmethod
    def data_tables(self) -> List[str]:
        """The data tables, by name: what a GIS loads as layers."""

    @abstractmethod
    def drop_data_tables(self) -> None:
        """Inside a transaction, before a full supply replaces everything."""

    def max_fid(self, table: str) -> int:
        row = self.execute(f"SELECT max(fid) FROM {self.ref(table)}").fetchone()
        return int(row[0] or 0)

    @abstractmethod
    def fids_given(self, table: str) -> None:
        """After rows were loaded with explicit fids: the next generated fid follows them."""

    @abstractmethod
    def update_extents(self, tables: Iterable[str]) -> None:
        """After a full build: what the store keeps of each table's extent."""

    @abstractmethod
    def extend_extents(self, changed: Dict[str, Tuple[int, Iterable[int]]]) -> None:
        """After a change-only update (``changed``: see ``gpkg.extend_extents``)."""

    # --- geometry -------------------------------------------------------------------------

    @abstractmethod
    def geometry(self, geometry: Geometry) -> Any:
        """A value for a ``geom`` column from (type, coordinates)."""

    @abstractmethod
    def point(self, x: float, y: float) -> Any:
        """``geometry(("Point", (x, y)))``, for loads that make one per row."""

    def points(self, xs: Sequence[float], ys: Sequence[float]) -> List[Any]:
        """``point`` for many points at once."""
        return list(map(self.point, xs, ys))

    @abstractmethod
    def from_wkb(self, wkb: bytes, envelope: Tuple[float, float, float, float]) -> Any:
        """A value for a ``geom`` column from ISO WKB GDAL made; ``envelope`` = (minx,
        maxx, miny, maxy)."""


@contextlib.contextmanager
def closing(store: HoldingStore) -> Iterator[HoldingStore]:
    try:
        yield store
    finally:
        store.close()
