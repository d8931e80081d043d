"""One AddressBase Premium record type as a table of the holding (``addressbase_apply``).

Made on first use with every column of the record (``blpu`` with EPSG:27700 points
from its X/Y), its unique key index, and the SQL the applier binds rows to.
"""

from __future__ import annotations

from typing import Any, List, Optional

from . import gpkg
from .addressbase import RecordType
from .gpkg import Column

TILE_COLUMN = "tile"


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
        loads = ["?"] * self.geometry + ["NULLIF(?, '')"] * len(kind.columns)
        loads += ["?"] if self.tiled else []
        self.load_sql = (
            f"INSERT INTO {q(self.name)} ({self.column_list}) VALUES ({', '.join(loads)})"
        )
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

    def load_row(self, fields: List[str], tile: Optional[str] = None) -> List[Any]:
        """A full build's row for ``load_sql``: the fields themselves where it can."""
        if self.tiled:
            fields.append(tile)  # type: ignore[arg-type]
        if not self.geometry:
            return fields
        try:
            point = gpkg.point_blob(float(fields[self._x]), float(fields[self._y]))
        except ValueError:
            point = None
        return [point, *fields]

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


def row_text(table: RecordTable, alias: str) -> str:
    """SQL for a record's values as one text (to tell a changed record from a resupplied
    one); the geometry follows from the coordinates, the tile is not the record's."""
    return " || ',' || ".join(f"quote({alias}.{gpkg.quote(c)})" for c in table.kind.columns)
