"""Applying OS MasterMap Topography Layer chunks to a holding, by TOID and version.

OS's rules (see the research notes): a feature replaces the held one only when
its ``version`` is higher (lower or equal is ignored), so features repeated
across chunks are stored once and an update can be re-applied without harm;
a ``DepartedFeature`` deletes its TOID from whichever table holds it, and a
departure of a TOID never held is not an error. Departures are applied after
every feature of the version, as OS's loader does.

Tables: one per feature class, named in snake_case (``topographic_area``...),
geometry ``geom`` in EPSG:27700 with an R-tree index, ``toid`` unique.
Multi-valued attributes (theme, descriptive group and term, change history)
are joined with ", " (no OS code-list value contains a comma).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..errors import Cancelled
from .mastermap import (
    FEATURE_CLASSES,
    MULTI_SEPARATOR,
    Departure,
    TopoFeature,
    read_chunk,
    snake,
)
from .store import Column, HoldingStore, quote

Changes = Dict[str, Dict[str, int]]
BATCH = 2000
_SQL_VARIABLES = 500

_COMMON = (
    ("toid", "TEXT"),
    ("version", "INTEGER"),
    ("version_date", "DATE"),
    ("feature_code", "INTEGER"),
    ("theme", "TEXT"),
    ("change_date", "TEXT"),
    ("reason_for_change", "TEXT"),
    ("descriptive_group", "TEXT"),
    ("descriptive_term", "TEXT"),
    ("make", "TEXT"),
    ("physical_level", "INTEGER"),
    ("physical_presence", "TEXT"),
)
_EXTRA = {
    "TopographicArea": (("calculated_area_value", "REAL"),),
    "TopographicLine": (("accuracy_of_position", "TEXT"), ("non_bounding_line", "TEXT")),
    "TopographicPoint": (
        ("accuracy_of_position", "TEXT"),
        ("height_above_datum", "REAL"),
        ("accuracy_of_height_above_datum", "TEXT"),
        ("reference_to_feature", "TEXT"),
    ),
    "CartographicText": (
        ("anchor_position", "INTEGER"),
        ("font", "INTEGER"),
        ("height", "REAL"),
        ("orientation", "INTEGER"),
        ("text_string", "TEXT"),
    ),
    "CartographicSymbol": (("orientation", "INTEGER"), ("reference_to_feature", "TEXT")),
    "BoundaryLine": (("accuracy_of_position", "TEXT"),),
}
GEOMETRY_TYPES = {
    "TopographicArea": "POLYGON",
    "TopographicLine": "LINESTRING",
    "TopographicPoint": "POINT",
    "CartographicText": "POINT",
    "CartographicSymbol": "POINT",
    "BoundaryLine": "LINESTRING",
}


def table_name(feature_class: str) -> str:
    return snake(feature_class)


def columns_of(feature_class: str) -> List[Column]:
    return [Column(n, t) for n, t in _COMMON + _EXTRA[feature_class]]


TABLES = tuple(table_name(c) for c in FEATURE_CLASSES)


def _value(value: Any, kind: str) -> Any:
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(value)
    if value is None or value == "":
        return None
    if kind == "INTEGER":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "REAL":
        try:
            return float(value)
        except ValueError:
            return value
    return value


class _Table:
    """One feature class's table: its columns, created or extended on first use."""

    def __init__(
        self,
        store: HoldingStore,
        feature_class: str,
        description: str,
        *,
        defer_index: bool = False,
    ) -> None:
        self.store = store
        self.feature_class = feature_class
        self.name = table_name(feature_class)
        self.index_pending = False
        if not store.table_exists(self.name):
            store.create_table(
                self.name,
                columns_of(feature_class),
                geometry=GEOMETRY_TYPES[feature_class],
                description=description,
                spatial_index=not defer_index,
            )
            self.index_pending = defer_index
            store.create_unique_index(self.name, ["toid"], "_toid")
        self._load_columns()
        self.fid_before = store.max_fid(self.name)
        self.updated_fids: List[int] = []

    def _load_columns(self) -> None:
        known = dict((n, t) for n, t in _COMMON + _EXTRA[self.feature_class])
        names = [c for c in self.store.table_columns(self.name) if c not in ("fid", "geom")]
        self.columns = [(n, known.get(n, "TEXT")) for n in names]
        self.column_names = set(names)
        self.insert_columns = ["geom"] + names
        sets = ", ".join(f"{quote(n)} = ?" for n, _ in self.columns)
        self.update_sql = f"UPDATE {self.store.ref(self.name)} SET geom = ?, {sets} WHERE fid = ?"

    def ensure_columns(self, features: Iterable[TopoFeature]) -> None:
        """Attributes OS added that we do not know yet become TEXT columns: none is dropped."""
        new = sorted({k for f in features for k in f.properties} - self.column_names)
        for name in new:
            self.store.add_column(self.name, Column(name, "TEXT"))
        if new:
            self._load_columns()

    def row(self, feature: TopoFeature) -> List[Any]:
        props = feature.properties
        values = [_value(props.get(n), t) for n, t in self.columns]
        values[0] = feature.toid  # toid is the first column
        values[1] = feature.version
        blob = self.store.geometry(feature.geometry) if feature.geometry else None
        return [blob] + values


class TopographyApplier:
    """Applies the chunks of one version; ``changes`` counts per table."""

    kind = "mastermap"

    def __init__(self, store: HoldingStore, description: str = "") -> None:
        self.store = store
        self.description = description
        self.tables: Dict[str, _Table] = {}
        self.changes: Changes = {}
        self.full_build = False
        # Existing tables (a COU may hold no feature of a class, and still depart some).
        for feature_class in FEATURE_CLASSES:
            if store.table_exists(table_name(feature_class)):
                self._table(feature_class)

    @property
    def written(self) -> Dict[str, Tuple[int, List[int]]]:
        """Per table: (largest fid before this version, fids updated in place)."""
        return {t.name: (t.fid_before, t.updated_fids) for t in self.tables.values()}

    def _table(self, feature_class: str) -> _Table:
        table = self.tables.get(feature_class)
        if table is None:
            table = self.tables[feature_class] = _Table(
                self.store, feature_class, self.description, defer_index=self.full_build
            )
            self.changes.setdefault(
                table.name, {"inserted": 0, "updated": 0, "deleted": 0, "ignored": 0}
            )
        return table

    def create_all_tables(self) -> None:
        """A full supply makes all six tables, even for classes it has no feature of;
        their spatial indexes are built once, after the load (faster than row by row)."""
        self.full_build = True
        for feature_class in FEATURE_CLASSES:
            self._table(feature_class)

    def apply(
        self,
        files: Sequence[Path],
        *,
        cancel: Optional[threading.Event] = None,
        progress: Optional[Callable[[int, int, str], None]] = None,
    ) -> Changes:
        pending: Dict[str, Dict[str, TopoFeature]] = {}
        departed: Set[str] = set()
        waiting = 0
        for index, path in enumerate(files):
            if progress is not None:
                progress(index, len(files), path.name)
            for item in read_chunk(path):
                if isinstance(item, Departure):
                    departed.add(item.toid)
                    continue
                batch = pending.setdefault(item.feature_class, {})
                held = batch.get(item.toid)
                if held is None:
                    batch[item.toid] = item
                    waiting += 1
                elif item.version > held.version:
                    batch[item.toid] = item
                    self._count(item.feature_class, "ignored")
                else:
                    self._count(item.feature_class, "ignored")
                if waiting >= BATCH:
                    self._flush(pending)
                    pending, waiting = {}, 0
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("Cancelled; the holding was left as it was.")
        self._flush(pending)
        self._depart(departed)
        for table in self.tables.values():
            if table.index_pending:
                self.store.build_spatial_index(table.name)
                table.index_pending = False
        if progress is not None:
            progress(len(files), len(files), "")
        return self.changes

    def _count(self, feature_class: str, what: str, n: int = 1) -> None:
        self._table(feature_class)
        self.changes[table_name(feature_class)][what] += n

    def _flush(self, pending: Dict[str, Dict[str, TopoFeature]]) -> None:
        for feature_class, batch in pending.items():
            table = self._table(feature_class)
            table.ensure_columns(batch.values())
            held = self._held_versions(table.name, list(batch))
            inserts, updates = [], []
            ignored = 0
            for toid, feature in batch.items():
                had = held.get(toid)
                if had is None:
                    inserts.append(table.row(feature))
                elif had[0] is None or feature.version > had[0]:
                    updates.append(table.row(feature) + [had[1]])
                else:
                    ignored += 1
            if inserts:
                self.store.copy_rows(table.name, table.insert_columns, inserts)
            if updates:
                self.store.executemany(table.update_sql, updates)
                table.updated_fids.extend(row[-1] for row in updates)
            counts = self.changes[table.name]
            counts["inserted"] += len(inserts)
            counts["updated"] += len(updates)
            counts["ignored"] += ignored

    def _held_versions(self, table: str, toids: List[str]) -> Dict[str, Tuple[Any, int]]:
        held: Dict[str, Tuple[Any, int]] = {}
        for start in range(0, len(toids), _SQL_VARIABLES):
            part = toids[start : start + _SQL_VARIABLES]
            marks = ", ".join("?" for _ in part)
            for toid, version, fid in self.store.execute(
                f"SELECT toid, version, fid FROM {self.store.ref(table)} WHERE toid IN ({marks})",
                part,
            ):
                held[toid] = (version, fid)
        return held

    def _depart(self, departed: Set[str]) -> None:
        toids = sorted(departed)
        for table in list(self.tables.values()):
            for start in range(0, len(toids), _SQL_VARIABLES):
                part = toids[start : start + _SQL_VARIABLES]
                marks = ", ".join("?" for _ in part)
                cursor = self.store.execute(
                    f"DELETE FROM {self.store.ref(table.name)} WHERE toid IN ({marks})", part
                )
                self.changes[table.name]["deleted"] += max(cursor.rowcount, 0)

    @property
    def table_names(self) -> List[str]:
        return [t.name for t in self.tables.values()]
