"""One AddressBase Premium record type as a table of the holding (``addressbase_apply``).

Made on first use with every column of the record (``blpu`` with EPSG:27700 points
from its X/Y), its unique key index, and the SQL the applier binds rows to.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from typing import Any, Iterable, List, Optional, Sequence

from .addressbase import RecordType
from .store import Column, HoldingStore, quote

TILE_COLUMN = "tile"


class RecordTable:
    """One record type's table in the holding: created on first use, with its key index
    (deferred on a full build) and the SQL to insert and update its rows."""

    def __init__(
        self, store: HoldingStore, kind: RecordType, description: str, *, defer_index: bool = False
    ) -> None:
        self.store = store
        self.index_pending = False
        self.spatial_pending = False
        self.kind = kind
        self.name = kind.table
        self.types = [kind.column_type(c) for c in kind.columns]
        if not store.table_exists(self.name):
            store.create_table(
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
        self.fid_before = store.max_fid(self.name)
        self.updated_fids: List[int] = []

    def ensure_tile_column(self) -> None:
        """Tile supplies: each row remembers the 5 km tile it came in (``tile``)."""
        if not self.tiled:
            self.store.add_column(self.name, Column(TILE_COLUMN, "TEXT"))
            self._setup()

    def _setup(self) -> None:
        q = quote
        kind = self.kind
        self.tiled = TILE_COLUMN in self.store.table_columns(self.name)
        names = (["geom"] if self.geometry else []) + list(kind.columns)
        names += [TILE_COLUMN] if self.tiled else []
        self.column_list = ", ".join(q(n) for n in names)
        marks = ", ".join("?" for _ in names)
        ref = self.store.ref(self.name)
        self.insert_sql = f"INSERT INTO {ref} ({self.column_list}) VALUES ({marks})"
        # The key is what matched the row, so it is not set again (its index untouched).
        self.update_names = [n for n in names if n not in kind.key]
        sets = ", ".join(f"{q(n)} = ?" for n in self.update_names)
        self.update_sql = f"UPDATE {ref} SET {sets} WHERE fid = ?"
        # A full build stores the fields as read ("" is NULL: ``copy_rows``), the tile
        # and the point after them (see ``load``).
        self.load_names = list(kind.columns) + [TILE_COLUMN] * self.tiled
        self.load_names += ["geom"] * self.geometry
        self.load_rows = self.store.rows_per_copy(len(self.load_names))
        self.names = names
        if kind.point:
            self._x = kind.columns.index(kind.point[0])
            self._y = kind.columns.index(kind.point[1])

    def create_index(self) -> None:
        """The key's unique index (``DuplicateKey`` when the rows repeat a key)."""
        self.store.create_unique_index(self.name, self.kind.key, "_key")
        self.index_pending = False

    def load(
        self,
        rows: List[List[str]],
        tile: Optional[str] = None,
        *,
        stage: str = "",
        lines: Sequence[int] = (),
    ) -> None:
        """Rows (the fields as read) stored in the table, or in the temporary ``stage``
        table of a change file with their ``lines``: the tile, the point and the line
        after each row's fields (``store.copy_rows``: many rows a statement, or COPY)."""
        extra: List[Iterable[Any]] = []
        if self.tiled:
            extra.append(repeat(tile))
        if self.geometry:
            extra.append(self._points(rows))
        if stage:
            extra.append(lines)
        if extra:
            rows = list(map(list.__add__, rows, map(list, zip(*extra))))
        names = self.load_names + (["_line"] if stage else [])
        self.store.copy_rows(stage or self.name, names, rows, temp=bool(stage))

    def _points(self, rows: List[List[str]]) -> List[Optional[bytes]]:
        try:
            xs = list(map(float, map(itemgetter(self._x), rows)))
            ys = list(map(float, map(itemgetter(self._y), rows)))
        except ValueError:  # a record without coordinates: no point
            return [self._point(fields) for fields in rows]
        return self.store.points(xs, ys)

    def _point(self, fields: List[str]) -> Any:
        try:
            return self.store.point(float(fields[self._x]), float(fields[self._y]))
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
        return [self._point(fields)] + values


def same_record(table: RecordTable, a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` hold the same record (to tell a changed record from one
    supplied again), column by column; the geometry follows from the coordinates, the
    tile is not the record's, the key matched already."""
    same = table.store.null_safe_equal
    columns = [c for c in table.kind.columns if c not in table.kind.key]
    return " AND ".join(f"{a}.{quote(c)} {same} {b}.{quote(c)}" for c in columns)


def key_match(table: RecordTable, a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` have the same key (in a way the key's index serves)."""
    same = table.store.key_equal
    return " AND ".join(f"{a}.{quote(k)} {same} {b}.{quote(k)}" for k in table.kind.key)
