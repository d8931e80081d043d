"""AddressBase Premium CSV for a full build: ``read_records``' records in batches.

A full build stores the fields as read, so it takes a file's records a batch at
a time, grouped by record type (``read_batches``); the checks and their words
are ``addressbase.read_records``', and a record that is not plain data goes
through them on its own. ``line_of`` finds the line of a bad record for a message.
"""

from __future__ import annotations

import csv
from itertools import islice
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from .addressbase import (
    _DATA_CODES,
    RECORD_TYPES,
    CsvFile,
    FileHeader,
    Record,
    _check_count,
    _header,
    _length_problem,
    _open_text,
)
from .errors import BadSupplyError

BATCH_RECORDS = 5000


def read_batches(
    source: CsvFile, header_out: Optional[List[FileHeader]] = None, size: int = BATCH_RECORDS
) -> Iterator[Dict[str, List[List[str]]]]:
    """``read_records`` for a full build, about ``size`` records at a time: per batch,
    the data records' fields by record type code, in file order, checked as
    ``read_records`` checks them (the same errors, naming the same lines).

    Why: a full build stores the fields as read, so the work per record is one dict
    look-up; the field counts are checked per batch in C (``map(len, ...)``), and a
    record that is not plain data (the header, the trailer, a blank line, a damaged
    record) goes through ``read_records``' rules on its own."""
    lengths = {code: len(kind.columns) for code, kind in _DATA_CODES.items()}
    with _open_text(source) as text:
        reader = csv.reader(text, delimiter=",", quotechar='"', skipinitialspace=True)
        state = _BatchState(source, header_out)
        try:
            while True:
                chunk = list(islice(reader, size))
                if not chunk:
                    break
                groups: Dict[str, List[List[str]]] = {code: [] for code in lengths}
                state.fill(chunk, groups)
                for code, rows in groups.items():
                    if rows and set(map(len, rows)) != {lengths[code]}:
                        state.fail_at(lambda fields: _wrong_length(fields, lengths))
                    state.count += len(rows)
                state.ordinal += len(chunk)
                yield {code: rows for code, rows in groups.items() if rows}
        except csv.Error as err:
            raise BadSupplyError(f"{source.name}: line {reader.line_num}: {err}.") from None
    state.finish()


def _wrong_length(fields: List[str], lengths: Dict[str, int]) -> bool:
    return bool(fields) and fields[0] in lengths and len(fields) != lengths[fields[0]]


def line_of(source: CsvFile, wanted: Callable[[List[str]], bool]) -> Tuple[int, List[str]]:
    """The line and fields of the first record ``wanted`` picks, read again from the
    start: for an error message, once a batch is found to hold a bad record."""
    with _open_text(source) as text:
        reader = csv.reader(text, delimiter=",", quotechar='"', skipinitialspace=True)
        for fields in reader:
            if wanted(fields):
                return reader.line_num, fields
    raise BadSupplyError(f"{source.name}: the file changed while it was read.")


class _BatchState:
    """``read_batches``' header, trailer and count; records that are not plain data
    are taken one at a time, by ``read_records``' rules."""

    def __init__(self, source: CsvFile, header_out: Optional[List[FileHeader]]) -> None:
        self.source = source
        self.header_out = header_out
        self.seen_header = False
        self.trailer: Optional[List[str]] = None
        self.trailer_ordinal = 0
        self.count = 0
        self.ordinal = 0  # csv rows read before the current chunk

    def fill(self, chunk: List[List[str]], groups: Dict[str, List[List[str]]]) -> None:
        add = {code: rows.append for code, rows in groups.items()}
        start, total = 0, len(chunk)
        while start < total:
            if self.seen_header and self.trailer is None:
                before = sum(map(len, groups.values()))
                try:
                    for fields in chunk[start:] if start else chunk:
                        add[fields[0]](fields)
                    return
                except (KeyError, IndexError):  # chunk[start + added] is not plain data
                    start += sum(map(len, groups.values())) - before
            self._one(chunk[start], self.ordinal + start, groups)
            start += 1

    def _one(self, fields: List[str], ordinal: int, groups: Dict[str, List[List[str]]]) -> None:
        if not fields or fields == [""]:
            return
        problem = self._problem(fields)
        if problem:
            raise BadSupplyError(f"{self.source.name}: line {self._line_at(ordinal)}: {problem}")
        code = fields[0].strip()
        if code == "10":
            self.seen_header = True
            header = _header(fields, self.source.name)
            if self.header_out is not None:
                self.header_out.append(header)
        elif code == "99":
            self.trailer, self.trailer_ordinal = fields, ordinal
        else:
            groups[code].append(fields)

    def _problem(self, fields: List[str]) -> str:
        """What ``read_records`` says of this record, in its order of checks; "" if fine."""
        if self.trailer is not None:
            return "a record after the trailer (99)."
        code = fields[0].strip()
        kind = RECORD_TYPES.get(code)
        if kind is None:
            return f"unknown record type {code!r}."
        if len(fields) != len(kind.columns):
            return _length_problem(kind, fields)
        if not self.seen_header and code != "10":
            return f"the first record is type {code}, not the header (10)."
        if self.seen_header and code == "10":
            return "a second header record."
        return ""

    def fail_at(self, wanted: Callable[[List[str]], bool]) -> None:
        """A batch's data record has the wrong field count: name the first such line."""
        line, fields = line_of(self.source, wanted)
        problem = _length_problem(RECORD_TYPES[fields[0]], fields)
        raise BadSupplyError(f"{self.source.name}: line {line}: {problem}")

    def _line_at(self, ordinal: int) -> int:
        """csv's line number after its ``ordinal``-th row (0-based), as ``read_records``
        reports it: read again, only for an error message."""
        with _open_text(self.source) as text:
            reader = csv.reader(text, delimiter=",", quotechar='"', skipinitialspace=True)
            for _ in islice(reader, ordinal + 1):
                pass
            return reader.line_num

    def finish(self) -> None:
        name = self.source.name
        if not self.seen_header:
            raise BadSupplyError(f"{name}: no header record (10): not an AddressBase Premium file.")
        if self.trailer is None:
            raise BadSupplyError(f"{name}: no trailer record (99): the file is cut short.")
        trailer = Record(RECORD_TYPES["99"], self.trailer, 0)
        try:
            _check_count(trailer, self.count, name)
        except BadSupplyError:  # the message names the trailer's line: find it
            trailer = Record(trailer.type, trailer.fields, self._line_at(self.trailer_ordinal))
            _check_count(trailer, self.count, name)
