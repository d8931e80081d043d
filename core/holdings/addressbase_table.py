"""One AddressBase Premium record type as a table of the holding (``addressbase_apply``).

Made on first use with every column of the record (``blpu`` with EPSG:27700 points
from its X/Y), its unique key index, and the SQL the applier binds rows to.
"""

from __future__ import annotations

from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, Iterable, List, Optional

from . import gpkg
from .addressbase import RecordType
from .gpkg import Column

TILE_COLUMN = "tile"
# Values one statement may bind: SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32 (QGIS 3.22's
# Pythons have 3.31 and later); a full build puts as many rows as fit in one INSERT.
MAX_PARAMETERS = 999


class RecordTable:
    """One record type's table in the holding: created on first use, with its key index
    (deferred on a full build) and the SQL to insert and update its rows."""

    def __init__(
        self, conn: Any, kind: RecordType, description: str, *, defer_index: bool = False
    ) -> None:
        self.conn = conn
        self.index_pending = False
        self.spatial_pending = False
        self.kind = kind
        self.name = kind.table
        self.types = [kind.column_type(c) for c in kind.columns]
        if not gpkg.table_exists(conn, self.name):
            gpkg.create_table(
                conn,
                self.name,
                [Column(c, t) for c, t in zip(kind.columns, self.types)],
                geometry="POINT" if kind.point else None,
                description=description,
                spatial_index=not defer_index,
            )
            self.spatial_pending = bool(kind.point) and defer_index
            if kind.key and defer_index:
                self.index_pending = True  # a full build: made once, after the load
            elif kind.key:
                self.create_index()
        self.geometry = bool(kind.point)
        self._setup()
        row = conn.execute(f"SELECT max(fid) FROM {gpkg.quote(self.name)}").fetchone()
        self.fid_before = int(row[0] or 0)
        self.updated_fids: List[int] = []

    def ensure_tile_column(self) -> None:
        """Tile supplies: each row remembers the 5 km tile it came in (``tile``)."""
        if not self.tiled:
            gpkg.add_column(self.conn, self.name, Column(TILE_COLUMN, "TEXT"))
            self._setup()

    def _setup(self) -> None:
        q = gpkg.quote
        kind = self.kind
        self.tiled = TILE_COLUMN in gpkg.table_columns(self.conn, self.name)
        names = (["geom"] if self.geometry else []) + list(kind.columns)
        names += [TILE_COLUMN] if self.tiled else []
        self.column_list = ", ".join(q(n) for n in names)
        marks = ", ".join("?" for _ in names)
        self.insert_sql = f"INSERT INTO {q(self.name)} ({self.column_list}) VALUES ({marks})"
        # The key is what matched the row, so it is not set again (its index untouched).
        self.update_names = [n for n in names if n not in kind.key]
        sets = ", ".join(f"{q(n)} = ?" for n in self.update_names)
        self.update_sql = f"UPDATE {q(self.name)} SET {sets} WHERE fid = ?"
        # A full build binds the fields as read: SQLite makes "" NULL (no list per row).
        # The tile and the point follow the fields, so a row's values are its fields
        # and then what ``load`` adds; many rows go in one statement (see ``load``).
        load_names = list(kind.columns) + [TILE_COLUMN] * self.tiled + ["geom"] * self.geometry
        one = ["NULLIF(?, '')"] * len(kind.columns) + ["?"] * (self.tiled + self.geometry)
        values = f"({', '.join(one)})"
        self.load_width = len(load_names)
        self.load_rows = max(1, MAX_PARAMETERS // self.load_width)
        into = f"INSERT INTO {q(self.name)} ({', '.join(q(n) for n in load_names)}) VALUES "
        self.load_sql = into + values
        self.load_many_sql = into + ", ".join([values] * self.load_rows)
        self.names = names
        if kind.point:
            self._x = kind.columns.index(kind.point[0])
            self._y = kind.columns.index(kind.point[1])

    def create_index(self) -> None:
        q = gpkg.quote
        self.conn.execute(
            f"CREATE UNIQUE INDEX {q(self.name + '_key')} ON {q(self.name)} "
            f"({', '.join(q(k) for k in self.kind.key)})"
        )
        self.index_pending = False

    def load(self, rows: List[List[str]], tile: Optional[str] = None) -> None:
        """A full build's rows (the fields as read) inserted, ``load_rows`` a statement.

        Why so: SQLite's cost per statement (and AUTOINCREMENT's bookkeeping) is paid
        once for ``load_rows`` rows; the values are the rows' fields flattened in C,
        with the tile and the point after each row's fields."""
        extra: List[Iterable[Any]] = []
        if self.tiled:
            extra.append(repeat(tile))
        if self.geometry:
            extra.append(self._points(rows))
        flat = chain.from_iterable(chain.from_iterable(zip(rows, zip(*extra))) if extra else rows)
        statements, rest = divmod(len(rows), self.load_rows)
        many = self.load_rows * self.load_width
        self.conn.executemany(
            self.load_many_sql, (list(islice(flat, many)) for _ in range(statements))
        )
        if rest:
            width = self.load_width
            self.conn.executemany(self.load_sql, (list(islice(flat, width)) for _ in range(rest)))

    def _points(self, rows: List[List[str]]) -> List[Optional[bytes]]:
        try:
            xs = list(map(float, map(itemgetter(self._x), rows)))
            ys = list(map(float, map(itemgetter(self._y), rows)))
        except ValueError:  # a record without coordinates: no point
            return [self._point(fields) for fields in rows]
        return gpkg.point_blobs(xs, ys)

    def _point(self, fields: List[str]) -> Optional[bytes]:
        try:
            return gpkg.point_blob(float(fields[self._x]), float(fields[self._y]))
        except ValueError:
            return None

    def row(self, fields: List[str], tile: Optional[str] = None) -> List[Any]:
        # Empty fields are NULL; numbers are left to the columns' SQLite type affinity
        # (INTEGER/REAL columns store "123" as 123), which is what int()/float() would
        # give, at a fraction of the cost.
        values: List[Any] = [v or None for v in fields]
        if self.tiled:
            values.append(tile)
        if not self.geometry:
            return values
        try:
            point = gpkg.geometry_blob(("Point", (float(fields[self._x]), float(fields[self._y]))))
        except ValueError:
            point = None
        return [point] + values


def same_record(table: RecordTable, a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` hold the same record (to tell a changed record from one
    supplied again), column by column; the geometry follows from the coordinates, the
    tile is not the record's, the key matched already."""
    q = gpkg.quote
    columns = [c for c in table.kind.columns if c not in table.kind.key]
    return " AND ".join(f"{a}.{q(c)} IS {b}.{q(c)}" for c in columns)
