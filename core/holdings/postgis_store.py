"""The holding store in a schema of a PostgreSQL + PostGIS database, through psycopg2.

The only module of the plugin that imports psycopg2 (Debian's
``python3-psycopg2``, what QGIS installs ship), on demand. Same tables and
columns as a GeoPackage holding: ``fid`` a bigint identity, ``geom`` typed
``geometry(<type>, 27700)`` with a GIST index, the key unique indexes, the
metadata tables ``os_holding`` and ``os_holding_versions``.

Transactions: each version in ONE PostgreSQL transaction, so other users see
the previous state until it commits (MVCC). A rebuild over existing tables
builds the new ones under temporary names (``<table>__osd_new``) and swaps them
in (drop old, rename new) at the end of the same transaction, so nobody sees a
mix. A second updater of the same holding waits on an advisory lock
(``postgis_lock``).
Geometry is EWKB with SRID 27700, as hex text (``COPY`` and parameters alike).
Errors of the server become ``StoreFailure`` / ``DuplicateKey`` / ``BadSupplyError``
with words for people (``_failure``); the password is never in them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import threading
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from ..errors import ConfigurationError
from ..redact import get_logger
from .errors import NotAHoldingError
from .gpkg_blobs import SRS_ID, iso_wkb
from .postgis_errors import failure, words
from .postgis_lock import advisory_key, wait_for_lock
from .store import Column, Geometry, HoldingStore, StoreFailure, quote

log = get_logger(__name__)

ASIDE = "__osd_new"  # a rebuild's new tables, until they are swapped in
METADATA_TABLES = ("os_holding", "os_holding_versions")
LOCK_TIMEOUT = "60s"  # a statement waits at most this for a table lock (a reader's)
APPLICATION_NAME = "os-downloads holding"
COPY_ROWS = 5000  # rows a bulk load sends in one COPY
_TYPES = {
    "TEXT": "text",
    "INTEGER": "bigint",
    "REAL": "double precision",
    "DATE": "date",
    "DATETIME": "timestamptz",
    "BOOLEAN": "boolean",
}
_GEOMETRY = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon"}
_EWKB_SRID = 0x20000000
_EWKB_POINT = struct.Struct("<BIidd")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def psycopg2_module() -> Any:
    """psycopg2, or a clear error saying how to install it."""
    try:
        import psycopg2
        import psycopg2.extras
    except ImportError:
        raise ConfigurationError(
            "A PostgreSQL holding needs psycopg2, which is not installed.",
            hint="Install python3-psycopg2 (Debian/Ubuntu: apt install python3-psycopg2; "
            "elsewhere: pip install psycopg2-binary).",
        ) from None
    return psycopg2


@functools.lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """A statement with ``?`` marks in psycopg2's ``%s`` form."""
    return sql.replace("%", "%%").replace("?", "%s")


def ewkb_hex(wkb: bytes) -> str:
    """ISO WKB (2D) as hex EWKB carrying SRID 27700."""
    order = "<" if wkb[0] == 1 else ">"
    (kind,) = struct.unpack_from(f"{order}I", wkb, 1)
    head = wkb[:1] + struct.pack(f"{order}Ii", kind | _EWKB_SRID, SRS_ID)
    return (head + wkb[5:]).hex()


def _copy_text(value: Any) -> str:
    if value is None or value == "":
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


class PostgisStore(HoldingStore):
    """A holding's tables in one schema (see the module docstring)."""

    null_safe_equal = "IS NOT DISTINCT FROM"
    key_equal = "="

    def __init__(self, conn: Any, schema: str, label: str) -> None:
        self.conn = conn
        self.schema = schema
        self.label = label
        self._psycopg2 = psycopg2_module()
        self._aside: Set[str] = set()  # tables of a rebuild, under their temporary names
        self._replacing: Optional[List[str]] = None  # the tables a rebuild replaces

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg2.Error as err:
            raise failure(err, self.schema) from None

    # --- SQL ------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.conn.cursor()
        with self._translated():
            if params:
                cursor.execute(pg_sql(sql), tuple(params))
            else:
                cursor.execute(sql)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._translated(), self.conn.cursor() as cursor:
            self._psycopg2.extras.execute_batch(cursor, pg_sql(sql), rows, page_size=500)

    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        temp: bool = False,
    ) -> None:
        if not rows:
            return
        text = io.StringIO()
        text.writelines("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        text.seek(0)
        names = ", ".join(quote(c) for c in columns)
        with self._translated(), self.conn.cursor() as cursor:
            target = self.temp_ref(table) if temp else self.ref(table)
            cursor.copy_expert(f"COPY {target} ({names}) FROM STDIN", text)

    def rows_per_copy(self, width: int) -> int:
        return COPY_ROWS

    def ref(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(self._physical(table))}"

    def _physical(self, table: str) -> str:
        return table + ASIDE if table in self._aside else table

    def temp_ref(self, table: str) -> str:
        return f"pg_temp.{quote(table)}"

    def insert_or_ignore(self, into: str, select: str) -> str:
        return f"INSERT INTO {into} {select} ON CONFLICT DO NOTHING"

    # --- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgisStore]:
        self.execute("BEGIN")
        try:
            yield self
            self._swap_in_rebuilt()
        except BaseException:
            self._aside, self._replacing = set(), None
            try:
                self.conn.cursor().execute("ROLLBACK")
            except self._psycopg2.Error:
                pass  # the connection is gone: the server rolled it back
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def built_aside(self) -> Iterator[PostgisStore]:
        """Tables made in the transaction are nobody else's until it commits."""
        with self.transaction():
            yield self

    def lock(self, key: str, cancel: Optional[threading.Event] = None) -> None:
        wait_for_lock(self, advisory_key(self.schema, key), cancel)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    # --- schema ----------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        if self._replacing is not None and name not in METADATA_TABLES:
            return name in self._aside
        row = self.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = ? AND tablename = ?", (self.schema, name)
        ).fetchone()
        return row is not None

    def create_table(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        geometry: Optional[str] = None,
        description: str = "",
        spatial_index: bool = True,
    ) -> None:
        if self._replacing is not None:
            self._aside.add(name)
        parts = ["fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"]
        if geometry:
            parts.append(f"geom geometry({_GEOMETRY.get(geometry.upper(), 'Geometry')}, {SRS_ID})")
        parts += [f"{quote(c.name)} {_TYPES.get(c.type.upper(), 'text')}" for c in columns]
        self.execute(f"CREATE TABLE {self.ref(name)} ({', '.join(parts)})")
        if description:
            self.execute(f"COMMENT ON TABLE {self.ref(name)} IS ?", (description,))
        if geometry and spatial_index:
            self.build_spatial_index(name)

    def create_metadata_table(self, name: str, columns: Sequence[Column]) -> None:
        parts = []
        for column in columns:
            kind, _, rest = column.type.partition(" ")
            if column.type.upper() == "INTEGER PRIMARY KEY":
                typed = "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
            else:
                typed = f"{_TYPES.get(kind.upper(), 'text')} {rest}".strip()
            parts.append(f"{quote(column.name)} {typed}")
        self.execute(f"CREATE TABLE IF NOT EXISTS {self.ref(name)} ({', '.join(parts)})")

    def add_column(self, table: str, column: Column) -> None:
        kind = _TYPES.get(column.type.upper(), "text")
        self.execute(f"ALTER TABLE {self.ref(table)} ADD COLUMN {quote(column.name)} {kind}")

    def table_columns(self, table: str) -> Tuple[str, ...]:
        rows = self.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            (self.ref(table),),
        )
        return tuple(r[0] for r in rows)

    def create_unique_index(
        self, table: str, columns: Sequence[str], suffix: str, *, temp: bool = False
    ) -> None:
        index = quote((table if temp else self._physical(table)) + suffix)
        self.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON "
            f"{self.temp_ref(table) if temp else self.ref(table)} "
            f"({', '.join(quote(c) for c in columns)})"
        )

    def build_spatial_index(
        self,
        table: str,
        points: Optional[Tuple[str, str]] = None,
        boxes: Optional[Iterable[Tuple]] = None,
    ) -> None:
        index = quote(self._physical(table) + "_geom_idx")
        self.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.ref(table)} USING GIST (geom)")

    def data_tables(self) -> List[str]:
        if self._replacing is not None:
            return sorted(self._aside)
        return [r[0] for r in self.execute(_DATA_TABLES, (self.schema, list(METADATA_TABLES)))]

    def other_tables(self) -> List[str]:
        """Tables of the schema that are not a holding's (when it has no ``os_holding``)."""
        return self.data_tables()

    def drop_data_tables(self) -> None:
        """A rebuild: the old tables stay for readers until ``_swap_in_rebuilt``."""
        self._replacing = self.data_tables()
        self._aside = set()

    def _swap_in_rebuilt(self) -> None:
        if self._replacing is None:
            return
        old, new = self._replacing, sorted(self._aside)
        self._replacing, self._aside = None, set()
        for table in old:
            self.execute(f"DROP TABLE {self.ref(table)}")
        for table in new:
            aside = table + ASIDE
            self.execute(f"ALTER TABLE {self.ref(aside)} RENAME TO {quote(table)}")
            indexes = self.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
                (self.schema, table),
            ).fetchall()
            for (index,) in indexes:
                if index.startswith(aside):
                    renamed = quote(table + index[len(aside) :])
                    self.execute(f"ALTER INDEX {self.ref(index)} RENAME TO {renamed}")
            sequence = self.execute(
                "SELECT pg_get_serial_sequence(?, 'fid')", (self.ref(table),)
            ).fetchone()[0]
            if sequence:
                self.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(table + '_fid_seq')}")

    def fids_given(self, table: str) -> None:
        self.execute(
            f"SELECT setval(pg_get_serial_sequence(?, 'fid'), max(fid)) FROM {self.ref(table)}",
            (self.ref(table),),
        )

    def update_extents(self, tables: Iterable[str]) -> None:
        for table in tables:  # the planner's statistics, and QGIS's estimated extents
            self.execute(f"ANALYZE {self.ref(table)}")

    def extend_extents(self, changed: Any) -> None:
        """PostGIS keeps no extent to grow (QGIS asks the GIST index)."""

    # --- geometry -------------------------------------------------------------------------

    def geometry(self, geometry: Geometry) -> str:
        if geometry[0] == "Point":
            return self.point(*geometry[1])
        return ewkb_hex(iso_wkb(geometry)[0])

    def point(self, x: float, y: float) -> str:
        return _EWKB_POINT.pack(1, 1 | _EWKB_SRID, SRS_ID, x, y).hex()

    def from_wkb(self, wkb: bytes, envelope: Tuple[float, float, float, float]) -> str:
        return ewkb_hex(wkb)


_DATA_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND c.relname <> ALL(?) "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
    "ORDER BY 1"
)


def open_postgis_store(conninfo: str, schema: str, label: str, *, create: bool) -> Any:
    """(store, fresh): connected, PostGIS and the schema checked (made with ``create``);
    ``fresh`` when the schema has no holding tables yet."""
    psycopg2 = psycopg2_module()
    try:
        conn = psycopg2.connect(conninfo, connect_timeout=15, application_name=APPLICATION_NAME)
    except psycopg2.Error as err:
        raise StoreFailure(
            f"Cannot connect to {label}: {words(err)}",
            hint="Check the server, database and user; keep the password in ~/.pgpass or a "
            "service file (pg_service.conf), not on the command line.",
        ) from None
    conn.autocommit = True
    store = PostgisStore(conn, schema, label)
    try:
        store.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        store.execute("SET TIME ZONE 'UTC'")
        _check_postgis(store, create)
        known = store.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (schema,))
        if known.fetchone() is None:
            if not create:
                raise NotAHoldingError(
                    f"{label}: the database has no schema {schema}.",
                    hint="Run holding update first.",
                )
            with store.transaction():
                store.lock("")  # two first updates at once: one makes the schema
                store.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        fresh = not store.table_exists("os_holding_versions")
        if fresh and not store.table_exists("os_holding") and store.other_tables():
            raise NotAHoldingError(
                f"Schema {schema} of {label.split(' (schema')[0]} holds other tables, "
                "not a holding.",
                hint="Choose another schema for the holding (--schema NAME); nothing was changed.",
            )
    except BaseException:
        store.close()
        raise
    return store, fresh


def _check_postgis(store: PostgisStore, create: bool) -> None:
    if store.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    if create:
        try:
            store.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            return
        except StoreFailure:
            pass
    raise StoreFailure(
        f"{store.label}: the database has no PostGIS.",
        hint="Ask its administrator to run CREATE EXTENSION postgis; in it.",
    )
