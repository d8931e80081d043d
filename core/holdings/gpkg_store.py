"""The holding store in a GeoPackage: ``gpkg.py``'s functions on one ``sqlite3`` connection.

Transactions are SQLite's (``BEGIN IMMEDIATE``: the write lock, so a second
update of the file waits for it); the first full build of an empty holding is
built aside, in ``.<name>.building`` beside it, with no journal and no syncing,
then fsynced and renamed over the empty holding (``built_aside``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from itertools import chain, islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..engine.partfile import fsync_folder
from . import gpkg
from .errors import NotAHoldingError
from .store import Column, DuplicateKey, Geometry, HoldingStore, StoreFailure, quote

SQLITE_MAGIC = b"SQLite format 3\x00"
# Values one statement may bind: SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32 (QGIS 3.22's
# Pythons have 3.31 and later); a bulk load puts as many rows as fit in one INSERT.
MAX_PARAMETERS = 999


def _failure(err: sqlite3.Error) -> StoreFailure:
    if isinstance(err, sqlite3.IntegrityError):
        return DuplicateKey(f"A key repeats ({err}).")
    hint = (
        "Another program is writing to the holding; close it there and try again."
        if "locked" in str(err)
        else "Free some disk space, or close the holding in other programs, and try again."
    )
    return StoreFailure(str(err), hint=hint)


class GpkgStore(HoldingStore):
    """A GeoPackage holding's tables (see the module docstring)."""

    def __init__(self, path: Path, conn: Optional[sqlite3.Connection] = None) -> None:
        self.path = Path(path)
        self.label = str(self.path)
        self.conn = conn if conn is not None else gpkg.connect(self.path)
        self.update_from = sqlite3.sqlite_version_info >= (3, 33, 0)

    # --- SQL ------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(sql, params)
        except (sqlite3.OperationalError, sqlite3.IntegrityError) as err:
            raise _failure(err) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except (sqlite3.OperationalError, sqlite3.IntegrityError) as err:
            raise _failure(err) from None

    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        temp: bool = False,
    ) -> None:
        """``rows_per_copy`` rows an INSERT: SQLite's cost per statement (and
        AUTOINCREMENT's bookkeeping) paid once for them; the values flattened in C."""
        if not rows:
            return
        width = len(columns)
        per = self.rows_per_copy(width)
        target = self.temp_ref(table) if temp else quote(table)
        into = f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) VALUES "
        one = "(" + ", ".join(["NULLIF(?, '')"] * width) + ")"
        flat = chain.from_iterable(rows)
        statements, rest = divmod(len(rows), per)
        if statements:
            many = into + ", ".join([one] * per)
            self.executemany(many, (list(islice(flat, per * width)) for _ in range(statements)))
        if rest:
            self.executemany(into + one, (list(islice(flat, width)) for _ in range(rest)))

    def rows_per_copy(self, width: int) -> int:
        return max(1, MAX_PARAMETERS // max(width, 1))

    # --- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[GpkgStore]:
        self.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def built_aside(self) -> Iterator[GpkgStore]:
        temp = self.path.with_name(f".{self.path.name}.building")
        self.execute("BEGIN IMMEDIATE")  # this file's write lock, held meanwhile
        try:
            temp.unlink(missing_ok=True)  # left by a build that was killed
            aside = GpkgStore(temp)
            try:
                aside.conn.execute("PRAGMA journal_mode = OFF")
                aside.conn.execute("PRAGMA synchronous = OFF")
                aside.conn.execute("BEGIN")
                gpkg.init_geopackage(aside.conn)
                yield aside
                aside.conn.execute("COMMIT")
            finally:
                aside.close()
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

    def lock(self, key: str, cancel: Any = None) -> None:
        """``BEGIN IMMEDIATE`` took SQLite's write lock: a second update waits for it."""

    def close(self) -> None:
        self.conn.close()

    # --- schema ----------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        return gpkg.table_exists(self.conn, name)

    def create_table(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        geometry: Optional[str] = None,
        description: str = "",
        spatial_index: bool = True,
    ) -> None:
        gpkg.create_table(
            self.conn,
            name,
            columns,
            geometry=geometry,
            description=description,
            spatial_index=spatial_index,
        )

    def create_metadata_table(self, name: str, columns: Sequence[Column]) -> None:
        parts = ", ".join(f"{quote(c.name)} {c.type}" for c in columns)
        self.execute(f"CREATE TABLE IF NOT EXISTS {quote(name)} ({parts})")

    def add_column(self, table: str, column: Column) -> None:
        gpkg.add_column(self.conn, table, column)

    def table_columns(self, table: str) -> Tuple[str, ...]:
        return gpkg.table_columns(self.conn, table)

    def create_unique_index(
        self, table: str, columns: Sequence[str], suffix: str, *, temp: bool = False
    ) -> None:
        index = ("temp." if temp else "") + quote(table + suffix)
        self.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {quote(table)} "
            f"({', '.join(quote(c) for c in columns)})"
        )

    def build_spatial_index(
        self,
        table: str,
        points: Optional[Tuple[str, str]] = None,
        boxes: Optional[Iterable[Tuple]] = None,
    ) -> None:
        gpkg.build_spatial_index(self.conn, table, points=points, boxes=boxes)

    def data_tables(self) -> List[str]:
        return [r[0] for r in self.execute("SELECT table_name FROM gpkg_contents ORDER BY 1")]

    def drop_data_tables(self) -> None:
        for table in self.data_tables():
            rtree = f"rtree_{table}_geom"
            if self.table_exists(rtree):
                self.execute(f"DROP TABLE {quote(rtree)}")
            self.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            for meta in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_contents"):
                self.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))

    def has_other_data(self) -> bool:
        """A GeoPackage with data tables but no holding tables: someone else's file."""
        if self.table_exists("os_holding") or not gpkg.is_geopackage(self.conn):
            return False
        row = self.execute("SELECT count(*) FROM gpkg_contents").fetchone()
        return bool(row and row[0])

    def fids_given(self, table: str) -> None:
        """AUTOINCREMENT follows explicit fids by itself."""

    def update_extents(self, tables: Iterable[str]) -> None:
        gpkg.update_extents(self.conn, tables)

    def extend_extents(self, changed: Dict[str, Tuple[int, Iterable[int]]]) -> None:
        gpkg.extend_extents(self.conn, changed)

    # --- geometry -------------------------------------------------------------------------

    def geometry(self, geometry: Geometry) -> bytes:
        return gpkg.geometry_blob(geometry)

    def point(self, x: float, y: float) -> bytes:
        return gpkg.point_blob(x, y)

    def points(self, xs: Sequence[float], ys: Sequence[float]) -> List[bytes]:
        return gpkg.point_blobs(xs, ys)

    def from_wkb(self, wkb: bytes, envelope: Tuple[float, float, float, float]) -> bytes:
        return gpkg.wkb_blob(wkb, envelope)


def open_gpkg_store(path: Path, *, create: bool = False) -> Tuple[GpkgStore, bool]:
    """The store of the GeoPackage at ``path`` and whether it must be made a holding;
    a file that is not a GeoPackage, or one with other data, is refused untouched."""
    path = Path(path)
    if not path.exists():
        if not create:
            raise NotAHoldingError(f"{path} does not exist.", hint="Run holding update first.")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = GpkgStore(path)
        with store.transaction():
            gpkg.init_geopackage(store.conn)
        return store, True
    if path.is_dir():
        raise NotAHoldingError(f"{path} is a folder, not a GeoPackage.")
    with open(path, "rb") as handle:
        magic = handle.read(16)
    if magic and magic != SQLITE_MAGIC:
        raise NotAHoldingError(f"{path} is not a GeoPackage.", hint="Choose a .gpkg file.")
    store = GpkgStore(path)
    try:
        if magic and store.has_other_data():
            raise NotAHoldingError(
                f"{path} is a GeoPackage with other data, not a holding.",
                hint="Choose a new file for the holding; this one is left as it is.",
            )
        fresh = not store.table_exists("os_holding_versions")
        if fresh:  # an empty file: make it a holding
            with store.transaction():
                gpkg.init_geopackage(store.conn)
    except (sqlite3.DatabaseError, StoreFailure) as err:
        store.close()
        raise NotAHoldingError(f"{path} cannot be read as a GeoPackage ({err}).") from None
    except Exception:
        store.close()
        raise
    return store, fresh
