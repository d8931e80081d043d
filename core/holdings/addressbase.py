"""AddressBase Premium CSV: the record types, their columns and keys, and a strict reader.

One CSV file holds every record type, with no header row; the first field is
the record type (10 header ... 99 trailer). Column names are OS's, in file
order, lower-cased (OS's record splitter headings; for the street descriptor
OS's own SQL names ``locality`` and ``administrative_area``). The header's
``FILE_TYPE`` must be ``F`` (full) or ``C`` (change-only) and the trailer's
``RECORD_COUNT`` must match the records read (counted without the header and
trailer, or with both); neither is stored as data. A record with more or fewer
fields than its type defines is an error naming the file and line: nothing is
silently dropped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from .errors import BadSupplyError


@dataclass(frozen=True)
class RecordType:
    code: str
    label: str
    table: str  # "" for header/trailer (checked, not stored)
    columns: Tuple[str, ...]
    key: Tuple[str, ...] = ()
    point: Optional[Tuple[str, str]] = None  # x, y columns of a point geometry

    def column_type(self, name: str) -> str:
        return column_type(name)


def _cols(text: str) -> Tuple[str, ...]:
    return tuple(c.strip().lower() for c in text.split(","))


RECORD_TYPES = {
    t.code: t
    for t in (
        RecordType(
            "10",
            "header",
            "",
            _cols(
                "RECORD_IDENTIFIER, CUSTODIAN_NAME, LOCAL_CUSTODIAN_NAME, PROCESS_DATE, "
                "VOLUME_NUMBER, ENTRY_DATE, TIME_STAMP, VERSION, FILE_TYPE"
            ),
        ),
        RecordType(
            "11",
            "street",
            "street",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, USRN, RECORD_TYPE, SWA_ORG_REF_NAMING, "
                "STATE, STATE_DATE, STREET_SURFACE, STREET_CLASSIFICATION, VERSION, "
                "STREET_START_DATE, STREET_END_DATE, LAST_UPDATE_DATE, RECORD_ENTRY_DATE, "
                "STREET_START_X, STREET_START_Y, STREET_START_LAT, STREET_START_LONG, "
                "STREET_END_X, STREET_END_Y, STREET_END_LAT, STREET_END_LONG, STREET_TOLERANCE"
            ),
            ("usrn",),
        ),
        RecordType(
            "15",
            "street descriptor",
            "street_descriptor",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, USRN, STREET_DESCRIPTION, LOCALITY, "
                "TOWN_NAME, ADMINISTRATIVE_AREA, LANGUAGE, START_DATE, END_DATE, "
                "LAST_UPDATE_DATE, ENTRY_DATE"
            ),
            ("usrn", "language"),
        ),
        RecordType(
            "21",
            "BLPU",
            "blpu",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, LOGICAL_STATUS, BLPU_STATE, "
                "BLPU_STATE_DATE, PARENT_UPRN, X_COORDINATE, Y_COORDINATE, LATITUDE, LONGITUDE, "
                "RPC, LOCAL_CUSTODIAN_CODE, COUNTRY, START_DATE, END_DATE, LAST_UPDATE_DATE, "
                "ENTRY_DATE, ADDRESSBASE_POSTAL, POSTCODE_LOCATOR, MULTI_OCC_COUNT"
            ),
            ("uprn",),
            ("x_coordinate", "y_coordinate"),
        ),
        RecordType(
            "23",
            "application cross reference",
            "xref",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, XREF_KEY, CROSS_REFERENCE, "
                "VERSION, SOURCE, START_DATE, END_DATE, LAST_UPDATE_DATE, ENTRY_DATE"
            ),
            ("xref_key",),
        ),
        RecordType(
            "24",
            "LPI",
            "lpi",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, LPI_KEY, LANGUAGE, "
                "LOGICAL_STATUS, START_DATE, END_DATE, LAST_UPDATE_DATE, ENTRY_DATE, "
                "SAO_START_NUMBER, SAO_START_SUFFIX, SAO_END_NUMBER, SAO_END_SUFFIX, SAO_TEXT, "
                "PAO_START_NUMBER, PAO_START_SUFFIX, PAO_END_NUMBER, PAO_END_SUFFIX, PAO_TEXT, "
                "USRN, USRN_MATCH_INDICATOR, AREA_NAME, LEVEL, OFFICIAL_FLAG"
            ),
            ("lpi_key",),
        ),
        RecordType(
            "28",
            "delivery point address",
            "delivery_point",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, UDPRN, ORGANISATION_NAME, "
                "DEPARTMENT_NAME, SUB_BUILDING_NAME, BUILDING_NAME, BUILDING_NUMBER, "
                "DEPENDENT_THOROUGHFARE, THOROUGHFARE, DOUBLE_DEPENDENT_LOCALITY, "
                "DEPENDENT_LOCALITY, POST_TOWN, POSTCODE, POSTCODE_TYPE, DELIVERY_POINT_SUFFIX, "
                "WELSH_DEPENDENT_THOROUGHFARE, WELSH_THOROUGHFARE, "
                "WELSH_DOUBLE_DEPENDENT_LOCALITY, WELSH_DEPENDENT_LOCALITY, WELSH_POST_TOWN, "
                "PO_BOX_NUMBER, PROCESS_DATE, START_DATE, END_DATE, LAST_UPDATE_DATE, ENTRY_DATE"
            ),
            ("udprn",),
        ),
        RecordType(
            "29",
            "metadata",
            "metadata",
            _cols(
                "RECORD_IDENTIFIER, GAZ_NAME, GAZ_SCOPE, TER_OF_USE, LINKED_DATA, GAZ_OWNER, "
                "NGAZ_FREQ, CUSTODIAN_NAME, CUSTODIAN_UPRN, LOCAL_CUSTODIAN_CODE, CO_ORD_SYSTEM, "
                "CO_ORD_UNIT, META_DATE, CLASS_SCHEME, GAZ_DATE, LANGUAGE, CHARACTER_SET"
            ),
        ),
        RecordType(
            "30",
            "successor",
            "successor",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, SUCC_KEY, START_DATE, END_DATE, "
                "LAST_UPDATE_DATE, ENTRY_DATE, SUCCESSOR"
            ),
            ("succ_key",),
        ),
        RecordType(
            "31",
            "organisation",
            "organisation",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, ORG_KEY, ORGANISATION, "
                "LEGAL_NAME, START_DATE, END_DATE, LAST_UPDATE_DATE, ENTRY_DATE"
            ),
            ("org_key",),
        ),
        RecordType(
            "32",
            "classification",
            "classification",
            _cols(
                "RECORD_IDENTIFIER, CHANGE_TYPE, PRO_ORDER, UPRN, CLASS_KEY, CLASSIFICATION_CODE, "
                "CLASS_SCHEME, SCHEME_VERSION, START_DATE, END_DATE, LAST_UPDATE_DATE, ENTRY_DATE"
            ),
            ("class_key",),
        ),
        RecordType(
            "99",
            "trailer",
            "",
            _cols("RECORD_IDENTIFIER, NEXT_VOLUME_NUMBER, RECORD_COUNT, ENTRY_DATE, TIME_STAMP"),
        ),
    )
}
DATA_TYPES = tuple(t for t in RECORD_TYPES.values() if t.table)
TABLES = tuple(t.table for t in DATA_TYPES)

_INTEGER = frozenset(
    {
        "record_identifier",
        "pro_order",
        "usrn",
        "uprn",
        "parent_uprn",
        "udprn",
        "successor",
        "record_type",
        "swa_org_ref_naming",
        "state",
        "street_surface",
        "street_classification",
        "logical_status",
        "blpu_state",
        "rpc",
        "local_custodian_code",
        "multi_occ_count",
        "sao_start_number",
        "sao_end_number",
        "pao_start_number",
        "pao_end_number",
        "building_number",
        "custodian_uprn",
        "version",
    }
)
_REAL = frozenset(
    {
        "x_coordinate",
        "y_coordinate",
        "latitude",
        "longitude",
        "street_start_x",
        "street_start_y",
        "street_start_lat",
        "street_start_long",
        "street_end_x",
        "street_end_y",
        "street_end_lat",
        "street_end_long",
        "street_tolerance",
        "scheme_version",
    }
)


def column_type(name: str) -> str:
    if name in _INTEGER:
        return "INTEGER"
    if name in _REAL:
        return "REAL"
    if name.endswith("_date"):
        return "DATE"
    return "TEXT"


class Record(NamedTuple):
    """One data record (a tuple: millions are made, and a tuple is cheap to make)."""

    type: RecordType
    fields: List[str]
    line: int


@dataclass(frozen=True)
class CsvFile:
    """A CSV inside a downloaded file: the path, and the member when it is a zip."""

    path: Path
    member: Optional[str] = None

    @property
    def name(self) -> str:
        return self.member or self.path.name


def csv_files(paths: Sequence[Path]) -> List[CsvFile]:
    """The ABP CSVs among downloaded files (bare or zipped), in date/time/volume order.

    OS's names carry the date and volume (``AddressBasePremium_COU_2026-02-19_001.csv``),
    so name order is that order; the header's date and volume are checked as read.
    """
    found: List[CsvFile] = []
    for path in paths:
        lower = path.name.lower()
        if lower.endswith(".csv"):
            found.append(CsvFile(path))
        elif lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and info.filename.lower().endswith(".csv"):
                        found.append(CsvFile(path, info.filename))
    return sorted(found, key=lambda f: (Path(f.name).name, f.name))


@contextlib.contextmanager
def _open_text(source: CsvFile) -> Iterator[IO[str]]:
    """The file's text, streamed (a zipped CSV is never extracted to disk)."""
    if source.member is None:
        with open(source.path, encoding="utf-8-sig", newline="") as text:
            yield text
        return
    with zipfile.ZipFile(source.path) as archive, archive.open(source.member) as raw:
        yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


@dataclass
class FileHeader:
    file_type: str  # "F" or "C"
    process_date: str
    volume: str


def read_records(
    source: CsvFile, header_out: Optional[List[FileHeader]] = None
) -> Iterator[Record]:
    """The data records of one file, checked; ``header_out`` receives its header first."""
    name = source.name
    with _open_text(source) as text:
        reader = csv.reader(text, delimiter=",", quotechar='"', skipinitialspace=True)
        count = 0
        seen_header = False
        trailer: Optional[Record] = None
        # The common case first, decided by one dict look-up: a data record of the
        # right length after the header (a tuple made in C, not Record's __new__).
        shapes = {code: (kind, len(kind.columns)) for code, kind in _DATA_CODES.items()}
        make = tuple.__new__
        try:
            for fields in reader:
                shape = shapes.get(fields[0]) if fields else None
                if shape and len(fields) == shape[1] and seen_header and trailer is None:
                    count += 1
                    yield make(Record, (shape[0], fields, reader.line_num))
                    continue
                line = reader.line_num
                if not fields or fields == [""]:
                    continue
                if trailer is not None:
                    raise BadSupplyError(f"{name}: line {line}: a record after the trailer (99).")
                code = fields[0].strip()
                kind = RECORD_TYPES.get(code)
                if kind is None:
                    raise BadSupplyError(f"{name}: line {line}: unknown record type {code!r}.")
                if len(fields) != len(kind.columns):
                    raise BadSupplyError(f"{name}: line {line}: {_length_problem(kind, fields)}")
                if not seen_header:
                    if code != "10":
                        raise BadSupplyError(
                            f"{name}: line {line}: the first record is type {code}, "
                            "not the header (10)."
                        )
                    seen_header = True
                    header = _header(fields, name)
                    if header_out is not None:
                        header_out.append(header)
                    continue
                if code == "10":
                    raise BadSupplyError(f"{name}: line {line}: a second header record.")
                if code == "99":
                    trailer = Record(kind, fields, line)
                    continue
                count += 1
                yield Record(kind, fields, line)
        except csv.Error as err:
            raise BadSupplyError(f"{name}: line {reader.line_num}: {err}.") from None
    if not seen_header:
        raise BadSupplyError(f"{name}: no header record (10): not an AddressBase Premium file.")
    if trailer is None:
        raise BadSupplyError(f"{name}: no trailer record (99): the file is cut short.")
    _check_count(trailer, count, name)


_DATA_CODES = {code: kind for code, kind in RECORD_TYPES.items() if code not in ("10", "99")}


def _length_problem(kind: RecordType, fields: List[str]) -> str:
    return (
        f"a {kind.label} record (type {kind.code}) has {len(fields)} fields; "
        f"that type has {len(kind.columns)}."
    )


def _header(fields: List[str], name: str) -> FileHeader:
    values = dict(zip(RECORD_TYPES["10"].columns, fields))
    file_type = values["file_type"].strip().upper()
    if file_type not in ("F", "C"):
        raise BadSupplyError(
            f"{name}: the header's FILE_TYPE is {file_type!r}; it must be F (full) or C (change)."
        )
    return FileHeader(file_type, values["process_date"], values["volume_number"])


def _check_count(trailer: Record, count: int, name: str) -> None:
    values = dict(zip(trailer.type.columns, trailer.fields))
    try:
        expected = int(values["record_count"])
    except ValueError:
        raise BadSupplyError(
            f"{name}: line {trailer.line}: the trailer's RECORD_COUNT "
            f"{values['record_count']!r} is not a number."
        ) from None
    if expected not in (count, count + 2):
        raise BadSupplyError(
            f"{name}: the trailer says {expected} records, the file holds {count}: "
            "the file is incomplete or damaged."
        )
