"""Applying AddressBase Premium files to a holding, record type by record type.

Tables: one per record type (``street``, ``street_descriptor``, ``blpu``,
``xref``, ``lpi``, ``delivery_point``, ``organisation``, ``classification``,
``successor``, ``metadata``), every column of the record, ``blpu`` as
EPSG:27700 points from its X/Y coordinates. Each data table has a unique index
on its key (USRN, USRN+LANGUAGE, UPRN, XREF_KEY, LPI_KEY, UDPRN, SUCC_KEY,
ORG_KEY, CLASS_KEY).

A full file (FILE_TYPE F) is inserted as it streams. A change-only file
(FILE_TYPE C) is staged in temporary tables, then applied set-wise: per key the
record with the highest ``PRO_ORDER`` wins (applying in PRO_ORDER gives that):
a ``D`` winner deletes the held row, any other replaces it in place (same fid)
or is inserted. Re-applying a file changes nothing. Metadata records
(29) have no key: a file that carries them replaces the held ones.

Tile supplies (5 km geographic chunks, named by tile: ``NC4040.csv``,
``..._ST1075.csv``): every row keeps its ``tile``; a change chunk holds all the
records of its tile as inserts, so it first removes everything held for that
tile (OS: "change chunks replace the tile").

Counts (``changes``) compare each key's record before the version with after it.
"""

from __future__ import annotations

import re
import threading
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import Cancelled
from .addressbase import (
    DATA_TYPES,
    RECORD_TYPES,
    CsvFile,
    FileHeader,
    RecordType,
    csv_files,
    read_records,
)
from .addressbase_batches import line_of, read_batches
from .addressbase_table import TILE_COLUMN, RecordTable, key_match, same_record
from .errors import BadSupplyError, UnsupportedSupplyError
from .store import DuplicateKey, HoldingStore, quote

Changes = Dict[str, Dict[str, int]]
BATCH = 5000
FULL_BATCH = 250  # records a full build reads at a time (small: they stay in the CPU's cache)
# A geographic (5 km tile) chunk: ``NC4040.csv`` or ``..._ST1075.csv``.
_TILE_NAME = re.compile(r"(?:^|_)([A-Z]{2}\d{4})\.csv$", re.IGNORECASE)


def tile_of(name: str) -> Optional[str]:
    """The tile a geographic chunk covers, from its file name; None for other chunks."""
    found = _TILE_NAME.search(Path(name).name)
    return found.group(1).upper() if found else None


CHANGE_TYPES = ("I", "U", "D")
UPDATE_FROM = True  # where the store has it (SQLite 3.33+, PostgreSQL); else row by row


class AddressBaseApplier:
    """Applies the files of one version; ``changes`` counts per table."""

    kind = "addressbase"

    def __init__(self, store: HoldingStore, description: str = "") -> None:
        self.store = store
        self.description = description
        self.tables: Dict[str, RecordTable] = {}
        self.changes: Changes = {}
        self.full_build = False
        self.tiled = False  # a tile supply: rows remember their tile; a tile replaces a tile
        self._seen: Dict[str, RecordTable] = {}  # per table: keys a change file touched
        for kind in DATA_TYPES:
            if store.table_exists(kind.table):
                self._table(kind)

    def _table(self, kind: RecordType) -> RecordTable:
        table = self.tables.get(kind.code)
        if table is None:
            table = self.tables[kind.code] = RecordTable(
                self.store, kind, self.description, defer_index=self.full_build
            )
            if self.tiled:
                table.ensure_tile_column()
            self.changes.setdefault(
                table.name, {"inserted": 0, "updated": 0, "deleted": 0, "ignored": 0}
            )
        return table

    def create_all_tables(self) -> None:
        """A full build: every table, their key indexes made after the load (faster)."""
        self.full_build = True
        for kind in DATA_TYPES:
            self._table(kind)

    @property
    def table_names(self) -> List[str]:
        return [t.name for t in self.tables.values()]

    @property
    def written(self) -> Dict[str, Tuple[int, List[int]]]:
        """Per table: (largest fid before this version, fids updated in place)."""
        return {t.name: (t.fid_before, t.updated_fids) for t in self.tables.values()}

    def apply(
        self,
        files: Sequence[Path],
        *,
        full: bool,
        cancel: Optional[threading.Event] = None,
        progress: Optional[Callable[[int, int, str], None]] = None,
    ) -> Changes:
        sources = csv_files(files)
        if not sources:
            raise UnsupportedSupplyError(
                "This version holds no AddressBase Premium CSV file.",
                hint="Holdings read the CSV supply; order the package as CSV.",
            )
        tiles = [tile_of(source.name) for source in sources]
        if any(tiles):
            self.tiled = True
            for table in self.tables.values():
                table.ensure_tile_column()
        for index, (source, tile) in enumerate(zip(sources, tiles)):
            if progress is not None:
                progress(index, len(sources), source.name)
            headers: List[FileHeader] = []
            if full:
                self._apply_full(source, headers, cancel, tile)
            else:
                if tile:
                    self._replace_tile(tile)
                records = read_records(source, headers)
                self._apply_change(records, headers, source.name, cancel, tile)
        self._count_changes()
        for table in self.tables.values():
            if table.spatial_pending:
                self.store.build_spatial_index(table.name, points=table.kind.point)
                table.spatial_pending = False
            if table.index_pending:
                try:
                    table.create_index()
                except DuplicateKey:
                    raise BadSupplyError(
                        f"A {table.kind.label} record's key "
                        f"({', '.join(k.upper() for k in table.kind.key)}) repeats in the "
                        "full supply, which OS's data never does: a file is damaged."
                    ) from None
        if progress is not None:
            progress(len(sources), len(sources), "")
        return self.changes

    # --- full files ---------------------------------------------------------------------

    def _apply_full(
        self, source: CsvFile, headers: List[FileHeader], cancel: Any, tile: Any = None
    ) -> None:
        """A full file's records stored as read, a batch of each record type at a time."""
        name = source.name
        # Per table: rows read, not yet stored. A table stores ``load_rows`` rows a
        # statement; the rest wait for the next batch (few rows in memory: the fields
        # are still in the CPU's cache when they are stored).
        pending: Dict[str, List[List[str]]] = {}
        read = 0
        for batch in read_batches(source, headers, size=FULL_BATCH):
            self._expect(headers, "F", name)
            for code, rows in batch.items():
                table = self._table(RECORD_TYPES[code])
                if table.kind.key:
                    self._check_inserts(source, rows)
                self.changes[table.name]["inserted"] += len(rows)  # every row or an error
                read += len(rows)
                waiting = pending.get(code)
                if waiting:
                    rows = waiting + rows
                ready = len(rows) - len(rows) % table.load_rows
                if ready:
                    self._load(table, rows[:ready], tile, name)
                pending[code] = rows[ready:]
            if read >= BATCH:
                read = 0
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Cancelled; the holding was left as it was.")
        self._expect(headers, "F", name)
        for code, rows in pending.items():
            self._load(self.tables[code], rows, tile, name)

    @staticmethod
    def _load(table: RecordTable, rows: List[List[str]], tile: Any, name: str) -> None:
        try:
            table.load(rows, tile)
        except DuplicateKey:  # a key index made before the load (not a fresh table)
            raise BadSupplyError(
                f"{name}: a {table.kind.label} record's key "
                f"({', '.join(k.upper() for k in table.kind.key)}) repeats in the full "
                "supply, which OS's data never does: the file is damaged."
            ) from None

    @staticmethod
    def _check_inserts(source: CsvFile, rows: List[List[str]]) -> None:
        """A full supply's records are all inserts (I); else name the first line that is not."""
        changes = set(map(itemgetter(1), rows))
        if changes == {"I"} or all(c.strip().upper() == "I" for c in changes):
            return
        keyed = {kind.code for kind in DATA_TYPES if kind.key}

        def not_insert(fields: List[str]) -> bool:
            return (
                len(fields) > 1 and fields[0].strip() in keyed and fields[1].strip().upper() != "I"
            )

        line, fields = line_of(source, not_insert)
        raise BadSupplyError(
            f"{source.name}: line {line}: change type {fields[1]!r} in a full "
            "supply (only I is expected)."
        )

    # --- change-only files --------------------------------------------------------------

    def _apply_change(
        self, records: Any, headers: List[FileHeader], name: str, cancel: Any, tile: Any = None
    ) -> None:
        store = self.store
        staged: Dict[str, str] = {}
        # Per record type: the records waiting to be staged, and their lines.
        batches: Dict[str, Tuple[List[List[str]], List[int]]] = {}
        metadata: List[List[Any]] = []
        waiting = 0
        for record in records:
            if waiting == 0:
                self._expect(headers, "C", name)
            table = self._table(record.type)
            if not record.type.key:  # metadata (29)
                metadata.append(table.row(record.fields, tile))
                continue
            change = record.fields[1].strip().upper()
            if change not in CHANGE_TYPES:
                raise BadSupplyError(
                    f"{name}: line {record.line}: change type {record.fields[1]!r} "
                    "is not I, U or D."
                )
            record.fields[1] = change
            code = record.type.code
            if code not in staged:
                staged[code] = self._stage_table(table)
            rows, lines = batches.setdefault(code, ([], []))
            rows.append(record.fields)
            lines.append(record.line)
            waiting += 1
            if waiting >= BATCH:
                self._flush_stage(batches, staged, tile)
                batches, waiting = {}, 1
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Cancelled; the holding was left as it was.")
        self._expect(headers, "C", name)
        self._flush_stage(batches, staged, tile)
        for code, stage in staged.items():
            self._apply_stage(self.tables[code], stage)
            self.store.execute(f"DROP TABLE {store.temp_ref(stage)}")
        if metadata:
            table = self._table(RECORD_TYPES["29"])
            self.store.execute(f"DELETE FROM {self.store.ref(table.name)}")
            self.store.executemany(table.insert_sql, metadata)
            self.changes[table.name]["updated"] += len(metadata)

    def _stage_table(self, table: RecordTable) -> str:
        return self._temp_table(f"stage_{table.name}", f"{table.column_list}, 0 AS _line", table)

    def _temp_table(self, name: str, columns: str, like: RecordTable) -> str:
        """An empty temporary table of ``columns`` (SQL) as ``like`` has them."""
        self.store.execute(f"DROP TABLE IF EXISTS {self.store.temp_ref(name)}")
        self.store.execute(
            f"CREATE TEMP TABLE {quote(name)} AS SELECT {columns} "
            f"FROM {self.store.ref(like.name)} WHERE 1 = 0"
        )
        return name

    def _flush_stage(
        self,
        batches: Dict[str, Tuple[List[List[str]], List[int]]],
        staged: Dict[str, str],
        tile: Optional[str],
    ) -> None:
        for code, (rows, lines) in batches.items():
            self.tables[code].load(rows, tile, stage=staged[code], lines=lines)

    def _apply_stage(self, table: RecordTable, stage: str) -> None:
        q, store = quote, self.store
        key = ", ".join(q(k) for k in table.kind.key)
        final = stage  # each key once (the common case): the staged records are final
        repeats = self.store.execute(
            f"SELECT 1 FROM {store.temp_ref(stage)} GROUP BY {key} HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if repeats:
            final = f"final_{table.name}"
            self.store.execute(f"DROP TABLE IF EXISTS {store.temp_ref(final)}")
            self.store.execute(
                f"CREATE TEMP TABLE {q(final)} AS SELECT * FROM (SELECT *, row_number() OVER "
                f"(PARTITION BY {key} ORDER BY pro_order DESC, _line DESC) AS _rank "
                f"FROM {store.temp_ref(stage)}) AS ranked WHERE _rank = 1"
            )
        match = key_match(table, "h", "f")
        # What each key was before this *version* (a key may change in several of its
        # files): the counts compare the holding before and after the whole version.
        seen = self._seen_table(table)
        before = ", ".join(
            f"{'f' if c in table.kind.key else 'h'}.{q(c)}" for c in table.kind.columns
        )
        self.store.execute(
            store.insert_or_ignore(
                store.temp_ref(seen),
                f"SELECT CASE WHEN h.fid IS NULL THEN 0 ELSE 1 END, {before} "
                f"FROM {store.temp_ref(final)} f LEFT JOIN {store.ref(table.name)} h ON {match}",
            )
        )
        self.store.execute(
            f"DELETE FROM {store.ref(table.name)} WHERE ({key}) IN "
            f"(SELECT {key} FROM {store.temp_ref(final)} WHERE change_type = 'D')"
        )
        # Held keys are updated in place (their fid, and so a loaded layer's feature
        # ids, stay); new keys are inserted. (No UPSERT: it would override the
        # R-tree triggers' INSERT OR REPLACE.)
        held = (
            f"FROM {store.temp_ref(final)} f JOIN {store.ref(table.name)} h ON {match} "
            "WHERE f.change_type != 'D'"
        )
        if UPDATE_FROM and store.update_from:  # in one statement, no row through Python
            table.updated_fids.extend(r[0] for r in self.store.execute(f"SELECT h.fid {held}"))
            sets = ", ".join(f"{q(n)} = f.{q(n)}" for n in table.update_names)
            self.store.execute(
                f"UPDATE {store.ref(table.name)} AS h SET {sets} FROM {store.temp_ref(final)} AS f "
                f"WHERE {match} AND f.change_type != 'D'"
            )
        else:
            updated = ", ".join(f"f.{q(n)}" for n in table.update_names)
            held_rows = self.store.execute(f"SELECT {updated}, h.fid {held}").fetchall()
            self.store.executemany(table.update_sql, held_rows)
            table.updated_fids.extend(row[-1] for row in held_rows)
        columns = ", ".join(f"f.{q(n)}" for n in table.names)
        self.store.execute(
            f"INSERT INTO {store.ref(table.name)} ({table.column_list}) SELECT {columns} "
            f"FROM {store.temp_ref(final)} f WHERE f.change_type != 'D' AND NOT EXISTS "
            f"(SELECT 1 FROM {store.ref(table.name)} h WHERE {match}) ORDER BY f.pro_order"
        )
        if final != stage:
            self.store.execute(f"DROP TABLE {store.temp_ref(final)}")

    def _seen_table(self, table: RecordTable) -> str:
        """The temporary table of the keys this version touched, with their record before
        (``was_held``: 0 for a key the holding did not have)."""
        seen = f"seen_{table.name}"
        if seen not in self._seen:
            columns = ", ".join(quote(c) for c in table.kind.columns)
            self._temp_table(seen, f"0 AS was_held, {columns}", table)
            self.store.create_unique_index(seen, table.kind.key, "_key", temp=True)
            self._seen[seen] = table
        return seen

    def _replace_tile(self, tile: str) -> None:
        """A tile's change chunk holds every record of the tile: drop what it held."""
        q, store = quote, self.store
        for table in self.tables.values():
            if not table.kind.key or not table.tiled:
                continue
            seen = self._seen_table(table)
            columns = ", ".join(q(c) for c in table.kind.columns)
            self.store.execute(
                store.insert_or_ignore(
                    store.temp_ref(seen),
                    f"SELECT 1, {columns} FROM {store.ref(table.name)} WHERE {TILE_COLUMN} = ?",
                ),
                (tile,),
            )
            store.execute(f"DELETE FROM {store.ref(table.name)} WHERE {TILE_COLUMN} = ?", (tile,))

    def _count_changes(self) -> None:
        """inserted / updated / deleted per table: each key's record before the version
        against now, counted in SQL. A record supplied again unchanged (a tile
        re-supplied, a U that changes nothing) and a key inserted then deleted within
        the version count as ignored."""
        store = self.store
        for seen, table in self._seen.items():
            same = same_record(table, "h", "s") or "1 = 1"
            held, gone = "s.was_held = 1", "h.fid IS NULL"
            counts = (f"{held} AND {gone}", f"{held} AND NOT {gone} AND NOT ({same})")
            counts += (f"NOT {held} AND NOT {gone}",)
            deleted, updated, inserted, touched = store.execute(
                "SELECT "
                + "".join(f"coalesce(sum(CASE WHEN {c} THEN 1 ELSE 0 END), 0), " for c in counts)
                + f"count(*) FROM {store.temp_ref(seen)} s LEFT JOIN {store.ref(table.name)} h "
                f"ON {key_match(table, 'h', 's')}"
            ).fetchone()
            tally = self.changes[table.name]
            tally["deleted"] += deleted
            tally["updated"] += updated
            tally["inserted"] += inserted
            tally["ignored"] += touched - deleted - updated - inserted
            self.store.execute(f"DROP TABLE {store.temp_ref(seen)}")
        self._seen = {}

    # --- checks -------------------------------------------------------------------------

    @staticmethod
    def _expect(headers: List[FileHeader], file_type: str, name: str) -> None:
        if not headers:
            return
        got = headers[0].file_type
        if got != file_type:
            said = {"F": "a full supply (F)", "C": "a change-only update (C)"}
            raise BadSupplyError(
                f"{name}: the header says {said[got]}, but this version is "
                f"{said[file_type].split(' (')[0]}."
            )
