"""Applying OS NGD supplies to a holding: one table per feature type.

Each table is named as the feature type (``bld_fts_buildingpart``...), has every
column of its CSV typed from its type file (``ngd.SQL_TYPES``), the geometry in
``geom`` (EPSG:27700, any geometry type) with an R-tree index, and a unique
index on the key (``osid``, else ``uprn``/``usrn``).

A full supply replaces every table. A change-only update (research
change-only-updates.md §5), per feature type file: of several rows for one key
only the newest counts (by ``versiondate``, then ``versionavailablefromdate``);
``New``, ``Moved From A Different Feature Type`` and the three ``Modified …``
replace the held row or add it; ``End Of Life`` and ``Moved To A Different
Feature Type`` delete it (one never held is ignored). A blank file (header only,
or empty) changes nothing.

The order check OS asks for (``check_follows``): supplies strictly in
``productVersion`` date order, the previous one fully applied (it is recorded
only in the transaction that applied all of it), and every feature type the
holding has present in the update (OS sends a blank file for one that did not
change; a missing one means an incomplete supply, which is refused).
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import Cancelled
from .errors import BadSupplyError, UnsupportedSupplyError
from .ngd import (
    CHANGE_COLUMN,
    DELETES,
    GEOMETRY_COLUMN,
    UPSERTS,
    VERSION_ORDER,
    NgdFile,
    converters,
    geometry_from_wkt,
    ngd_files,
    sql_type,
)
from .store import Column, DuplicateKey, HoldingStore, quote

Changes = Dict[str, Dict[str, int]]
BATCH = 5000
_SQL_VARIABLES = 500
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
KEY_INDEX_SUFFIX = "_key"


def product_version_date(text: str) -> str:
    """``2026-10-01`` from a productVersion (``2026-10-01``, ``2026-10``); "" when none."""
    found = _DATE.search(text or "")
    return (
        "-".join(p for p in (found.group(1), found.group(2), found.group(3) or "01"))
        if found
        else ""
    )


class _Table:
    def __init__(self, store: HoldingStore, source: NgdFile, description: str, full: bool) -> None:
        self.store = store
        self.name = source.feature_type
        self.key = source.key
        self.index_pending = False
        columns = [(n, t) for n, t in source.columns if n != GEOMETRY_COLUMN]
        if not store.table_exists(self.name):
            store.create_table(
                self.name,
                [Column(n, sql_type(t)) for n, t in columns],
                geometry="GEOMETRY",
                description=description,
                spatial_index=not full,
            )
            self.index_pending = full
        else:
            held = set(store.table_columns(self.name))
            for name, kind in columns:
                if name not in held:  # a column OS added: kept, never dropped
                    store.add_column(self.name, Column(name, sql_type(kind)))
        self.fid_before = store.max_fid(self.name)
        self.updated_fids: List[int] = []

    def key_index(self) -> None:
        try:
            self.store.create_unique_index(self.name, [self.key], KEY_INDEX_SUFFIX)
        except DuplicateKey:
            raise BadSupplyError(
                f"The full supply of {self.name} holds one {self.key} twice."
            ) from None

    def statements(self, source: NgdFile) -> Tuple[List[str], str]:
        """The columns a row's values go to (``geom`` first), and the UPDATE by fid."""
        names = [n for n, _ in source.columns if n != GEOMETRY_COLUMN]
        sets = ", ".join(f"{quote(n)} = ?" for n in names)
        update = f"UPDATE {self.store.ref(self.name)} SET geom = ?, {sets} WHERE fid = ?"
        return ["geom"] + names, update


class NgdApplier:
    """Applies the feature-type files of one version; ``changes`` counts per table."""

    kind = "ngd"

    def __init__(self, store: HoldingStore, description: str = "") -> None:
        self.store = store
        self.description = description
        self.tables: Dict[str, _Table] = {}
        self.changes: Changes = {}
        self.full_build = False

    def create_all_tables(self) -> None:
        """A full build: the tables come from the supply's files, indexes after the load."""
        self.full_build = True

    @property
    def table_names(self) -> List[str]:
        return list(self.tables)

    @property
    def written(self) -> Dict[str, Tuple[int, List[int]]]:
        return {t.name: (t.fid_before, t.updated_fids) for t in self.tables.values()}

    def check_follows(self, applied: Sequence[Any], version: Any, *, full: bool) -> None:
        """Refuse a supply out of ``productVersion`` date order (see the module docstring)."""
        if full or not applied:
            return
        mine = product_version_date(version.product_version)
        held = product_version_date(applied[-1].product_version)
        if mine and held and mine <= held:
            raise BadSupplyError(
                f"Version {version.version_id} (productVersion {version.product_version}) is "
                f"not newer than the holding's last supply ({applied[-1].version_id}, "
                f"productVersion {applied[-1].product_version}); NGD supplies are applied "
                "in productVersion date order, so it is not applied."
            )

    def apply(
        self,
        files: Sequence[Path],
        *,
        full: bool,
        cancel: Optional[threading.Event] = None,
        progress: Optional[Callable[[int, int, str], None]] = None,
    ) -> Changes:
        sources = ngd_files(files)
        if not sources:
            raise UnsupportedSupplyError(
                "This version holds no OS NGD CSV file.",
                hint="Holdings read NGD's CSV supply (change-only updates come as CSV only).",
            )
        if not full:
            held = set(self.store.data_tables())
            missing = sorted(held - {s.feature_type for s in sources})
            if missing:
                raise BadSupplyError(
                    f"This change-only update has no file for {', '.join(missing)} (OS sends a "
                    "blank file for a feature type that did not change): the supply is "
                    "incomplete, so it is not applied.",
                    hint="Download the version again, or ask OS for the missing files.",
                )
        for index, source in enumerate(sources):
            if progress is not None:
                progress(index, len(sources), source.name)
            table = _Table(self.store, source, self.description, full)
            self.tables[table.name] = table
            self.changes[table.name] = {"inserted": 0, "updated": 0, "deleted": 0, "ignored": 0}
            if full:
                self._load(table, source, cancel)
            else:
                self._change(table, source, cancel)
        if progress is not None:
            progress(len(sources), len(sources), "")
        return self.changes

    # --- a full supply ---------------------------------------------------------------------

    def _rows(self, source: NgdFile) -> Callable[[int, List[str]], Tuple[List[Any], Any]]:
        """The function making a row's values (geometry blob first) and its envelope."""
        at = [n for n, _ in source.columns].index(GEOMETRY_COLUMN)
        from_wkb = self.store.from_wkb
        plain = [i for i in range(len(source.columns)) if i != at]
        typed = [(i, f) for i, f in enumerate(converters(source.columns)) if f is not None]

        def row(line: int, fields: List[str]) -> Tuple[List[Any], Any]:
            wkb, envelope = geometry_from_wkt(fields[at], f"{source.name}, line {line}")
            values = [None if wkb is None else from_wkb(wkb, envelope)]
            values += [fields[i] or None for i in plain]
            try:
                for index, function in typed:
                    if values[index + 1] is not None:
                        values[index + 1] = function(values[index + 1])
            except ValueError:
                name, kind = source.columns[plain[index]]
                raise BadSupplyError(
                    f"{source.name}, line {line}: {name} = {values[index + 1]!r} is not a {kind}."
                ) from None
            return values, envelope

        return row

    def _load(self, table: _Table, source: NgdFile, cancel: Optional[threading.Event]) -> None:
        """A fresh table: rows get fids 1, 2, ... and the R-tree is filled from the
        envelopes GDAL gave (once, after the load: faster than row by row)."""
        columns = ["fid"] + table.statements(source)[0]
        make = self._rows(source)
        batch: List[List[Any]] = []
        boxes: List[Tuple] = []
        fid = 0
        for line, fields in source.rows():
            values, envelope = make(line, fields)
            fid += 1
            batch.append([fid] + values)
            if envelope is not None:
                boxes.append((fid, *envelope))
            if len(batch) >= BATCH:
                self.store.copy_rows(table.name, columns, batch)
                batch = []
                _check(cancel)
        self.store.copy_rows(table.name, columns, batch)
        self.store.fids_given(table.name)
        self.changes[table.name]["inserted"] = fid
        table.key_index()
        if table.index_pending:
            boxes.sort(key=_tile_order(boxes))
            self.store.build_spatial_index(table.name, boxes=boxes)
            table.index_pending = False

    # --- a change-only update ----------------------------------------------------------------

    def _change(self, table: _Table, source: NgdFile, cancel: Optional[threading.Event]) -> None:
        names = [n for n, _ in source.columns]
        if CHANGE_COLUMN not in names:
            raise BadSupplyError(f"{source.name}: a change-only file without a changetype column.")
        key_at, change_at = names.index(table.key), names.index(CHANGE_COLUMN)
        order_at = [names.index(n) for n in VERSION_ORDER if n in names]
        newest: Dict[str, Tuple[int, List[str]]] = {}
        counts = self.changes[table.name]
        for line, fields in source.rows():
            key = fields[key_at]
            if not key:
                raise BadSupplyError(f"{source.name}, line {line}: no {table.key}.")
            held = newest.get(key)
            if held is not None:
                counts["ignored"] += 1  # an older edit of the same feature
                if [held[1][i] for i in order_at] > [fields[i] for i in order_at]:
                    continue
            newest[key] = (line, fields)
        table.key_index()
        columns, update = table.statements(source)
        make = self._rows(source)
        keys = list(newest)
        typed_key = converters([(table.key, dict(source.columns)[table.key])])[0]
        for start in range(0, len(keys), _SQL_VARIABLES):
            part = keys[start : start + _SQL_VARIABLES]
            try:
                wanted = [typed_key(k) if typed_key else k for k in part]
            except ValueError:
                raise BadSupplyError(
                    f"{source.name}: a {table.key} that is not a number."
                ) from None
            marks = ", ".join("?" for _ in part)
            fids = dict(
                self.store.execute(
                    f"SELECT {quote(table.key)}, fid FROM {self.store.ref(table.name)} "
                    f"WHERE {quote(table.key)} IN ({marks})",
                    wanted,
                ).fetchall()
            )
            inserts, updates, deletes = [], [], []
            for key, value in zip(part, wanted):
                line, fields = newest[key]
                change, fid = fields[change_at], fids.get(value)
                if change in DELETES:
                    if fid is None:
                        counts["ignored"] += 1
                    else:
                        deletes.append((fid,))
                elif change in UPSERTS:
                    row = make(line, fields)[0]
                    if fid is None:
                        inserts.append(row)
                    else:
                        updates.append(row + [fid])
                else:
                    raise BadSupplyError(f"{source.name}, line {line}: change type {change!r}?")
            self.store.copy_rows(table.name, columns, inserts)
            self.store.executemany(update, updates)
            self.store.executemany(
                f"DELETE FROM {self.store.ref(table.name)} WHERE fid = ?", deletes
            )
            table.updated_fids.extend(row[-1] for row in updates)
            counts["inserted"] += len(inserts)
            counts["updated"] += len(updates)
            counts["deleted"] += len(deletes)
            _check(cancel)


def _tile_order(boxes: Sequence[Tuple]) -> Callable[[Tuple], Tuple[int, int]]:
    """A sort key putting near boxes next to each other: tiles holding about 50 boxes
    each, row by row. SQLite fills its R-tree about a third faster in that order."""
    if not boxes:
        return lambda box: (0, 0)
    x0, y0 = min(b[1] for b in boxes), min(b[3] for b in boxes)
    width = max(b[2] for b in boxes) - x0
    height = max(b[4] for b in boxes) - y0
    cell = max(math.sqrt(width * height * 50 / len(boxes)), 1e-6)
    return lambda box: (int((box[3] - y0) / cell), int((box[1] - x0) / cell))


def _check(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Cancelled; the holding was left as it was.")
