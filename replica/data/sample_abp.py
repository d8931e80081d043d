"""A small AddressBase Premium world and the CSV supplies OS would send of it.

The model is the source of truth: ``AbpWorld`` holds every current record of
each record type (key -> row); ``full_supply`` writes them all as inserts and
``advance`` moves the world on by one update, returning the change records
(I / U / D, with ``PRO_ORDER`` in the order the changes happened). Rows are
typed (int, float, str, None for an empty field) in OS's column order.

Layouts are OS's (change-only-updates.md §2.4, splitter v3.7 headings): every
record type's field count is fixed, the CSV has no header row, strings are
quoted, numbers and dates are not, records of all types are mixed in one file
with a header (10) first and a trailer (99) last. RECORD_COUNT in the trailer
counts every record of the file, header and trailer included [I: the research
leaves it open; OS's own test data were not at hand].
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

Row = Tuple[Any, ...]

# kinds: i integer, f<n> float with n decimals, s quoted string, d date, t time
_LAYOUTS: Dict[int, Tuple[Tuple[str, str], ...]] = {
    10: (
        ("RECORD_IDENTIFIER", "i"),
        ("CUSTODIAN_NAME", "s"),
        ("LOCAL_CUSTODIAN_NAME", "i"),
        ("PROCESS_DATE", "d"),
        ("VOLUME_NUMBER", "i"),
        ("ENTRY_DATE", "d"),
        ("TIME_STAMP", "t"),
        ("VERSION", "s"),
        ("FILE_TYPE", "s"),
    ),
    11: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("USRN", "i"),
        ("RECORD_TYPE", "i"),
        ("SWA_ORG_REF_NAMING", "i"),
        ("STATE", "i"),
        ("STATE_DATE", "d"),
        ("STREET_SURFACE", "i"),
        ("STREET_CLASSIFICATION", "i"),
        ("VERSION", "i"),
        ("STREET_START_DATE", "d"),
        ("STREET_END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("RECORD_ENTRY_DATE", "d"),
        ("STREET_START_X", "f2"),
        ("STREET_START_Y", "f2"),
        ("STREET_START_LAT", "f7"),
        ("STREET_START_LONG", "f7"),
        ("STREET_END_X", "f2"),
        ("STREET_END_Y", "f2"),
        ("STREET_END_LAT", "f7"),
        ("STREET_END_LONG", "f7"),
        ("STREET_TOLERANCE", "i"),
    ),
    15: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("USRN", "i"),
        ("STREET_DESCRIPTION", "s"),
        ("LOCALITY_NAME", "s"),
        ("TOWN_NAME", "s"),
        ("ADMINSTRATIVE_AREA", "s"),
        ("LANGUAGE", "s"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
    ),
    21: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("LOGICAL_STATUS", "i"),
        ("BLPU_STATE", "i"),
        ("BLPU_STATE_DATE", "d"),
        ("PARENT_UPRN", "i"),
        ("X_COORDINATE", "f2"),
        ("Y_COORDINATE", "f2"),
        ("LATITUDE", "f7"),
        ("LONGITUDE", "f7"),
        ("RPC", "i"),
        ("LOCAL_CUSTODIAN_CODE", "i"),
        ("COUNTRY", "s"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
        ("ADDRESSBASE_POSTAL", "s"),
        ("POSTCODE_LOCATOR", "s"),
        ("MULTI_OCC_COUNT", "i"),
    ),
    23: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("XREF_KEY", "s"),
        ("CROSS_REFERENCE", "s"),
        ("VERSION", "i"),
        ("SOURCE", "s"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
    ),
    24: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("LPI_KEY", "s"),
        ("LANGUAGE", "s"),
        ("LOGICAL_STATUS", "i"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
        ("SAO_START_NUMBER", "i"),
        ("SAO_START_SUFFIX", "s"),
        ("SAO_END_NUMBER", "i"),
        ("SAO_END_SUFFIX", "s"),
        ("SAO_TEXT", "s"),
        ("PAO_START_NUMBER", "i"),
        ("PAO_START_SUFFIX", "s"),
        ("PAO_END_NUMBER", "i"),
        ("PAO_END_SUFFIX", "s"),
        ("PAO_TEXT", "s"),
        ("USRN", "i"),
        ("USRN_MATCH_INDICATOR", "s"),
        ("AREA_NAME", "s"),
        ("LEVEL", "s"),
        ("OFFICIAL_FLAG", "s"),
    ),
    28: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("UDPRN", "i"),
        ("ORGANISATION_NAME", "s"),
        ("DEPARTMENT_NAME", "s"),
        ("SUB_BUILDING_NAME", "s"),
        ("BUILDING_NAME", "s"),
        ("BUILDING_NUMBER", "i"),
        ("DEPENDENT_THOROUGHFARE", "s"),
        ("THOROUGHFARE", "s"),
        ("DOUBLE_DEPENDENT_LOCALITY", "s"),
        ("DEPENDENT_LOCALITY", "s"),
        ("POST_TOWN", "s"),
        ("POSTCODE", "s"),
        ("POSTCODE_TYPE", "s"),
        ("DELIVERY_POINT_SUFFIX", "s"),
        ("WELSH_DEPENDENT_THOROUGHFARE", "s"),
        ("WELSH_THOROUGHFARE", "s"),
        ("WELSH_DOUBLE_DEPENDENT_LOCALITY", "s"),
        ("WELSH_DEPENDENT_LOCALITY", "s"),
        ("WELSH_POST_TOWN", "s"),
        ("PO_BOX_NUMBER", "s"),
        ("PROCESS_DATE", "d"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
    ),
    29: (
        ("RECORD_IDENTIFIER", "i"),
        ("GAZ_NAME", "s"),
        ("GAZ_SCOPE", "s"),
        ("TER_OF_USE", "s"),
        ("LINKED_DATA", "s"),
        ("GAZ_OWNER", "s"),
        ("NGAZ_FREQ", "s"),
        ("CUSTODIAN_NAME", "s"),
        ("CUSTODIAN_UPRN", "i"),
        ("LOCAL_CUSTODIAN_CODE", "i"),
        ("CO_ORD_SYSTEM", "s"),
        ("CO_ORD_UNIT", "s"),
        ("META_DATE", "d"),
        ("CLASS_SCHEME", "s"),
        ("GAZ_DATE", "d"),
        ("LANGUAGE", "s"),
        ("CHARACTER_SET", "s"),
    ),
    30: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("SUCC_KEY", "s"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
        ("SUCCESSOR", "i"),
    ),
    31: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("ORG_KEY", "s"),
        ("ORGANISATION", "s"),
        ("LEGAL_NAME", "s"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
    ),
    32: (
        ("RECORD_IDENTIFIER", "i"),
        ("CHANGE_TYPE", "s"),
        ("PRO_ORDER", "i"),
        ("UPRN", "i"),
        ("CLASS_KEY", "s"),
        ("CLASSIFICATION_CODE", "s"),
        ("CLASS_SCHEME", "s"),
        ("SCHEME_VERSION", "f1"),
        ("START_DATE", "d"),
        ("END_DATE", "d"),
        ("LAST_UPDATE_DATE", "d"),
        ("ENTRY_DATE", "d"),
    ),
    99: (
        ("RECORD_IDENTIFIER", "i"),
        ("NEXT_VOLUME_NUMBER", "i"),
        ("RECORD_COUNT", "i"),
        ("ENTRY_DATE", "d"),
        ("TIME_STAMP", "t"),
    ),
}

COLUMNS: Dict[int, Tuple[str, ...]] = {t: tuple(c for c, _ in cols) for t, cols in _LAYOUTS.items()}
FIELD_COUNTS: Dict[int, int] = {t: len(cols) for t, cols in COLUMNS.items()}

# The stored record types: the holding's table name and the row key's column(s).
TABLES: Dict[int, Tuple[str, Tuple[str, ...]]] = {
    11: ("street", ("USRN",)),
    15: ("street_descriptor", ("USRN", "LANGUAGE")),
    21: ("blpu", ("UPRN",)),
    23: ("xref", ("XREF_KEY",)),
    24: ("lpi", ("LPI_KEY",)),
    28: ("delivery_point", ("UDPRN",)),
    30: ("successor", ("SUCC_KEY",)),
    31: ("organisation", ("ORG_KEY",)),
    32: ("classification", ("CLASS_KEY",)),
}
CUSTODIAN = 6815  # Cardiff's local custodian code
_TOWN = ("CARDIFF", "CAERDYDD")
_LOCALITIES = ("ROATH", "CATHAYS", "CANTON", "GRANGETOWN", "SPLOTT")
_STREETS = (
    ("CITY ROAD", "HEOL Y CASTELL"),
    ("RICHMOND ROAD", "HEOL RICHMOND"),
    ("CATHAYS TERRACE", "TERAS CATHAYS"),
    ("COWBRIDGE ROAD EAST", "HEOL Y BONT-FAEN DDWYREINIOL"),
    ("CLIFTON STREET", "STRYD CLIFTON"),
    ("ALBANY ROAD", "HEOL ALBANY"),
    ("WELLFIELD ROAD", "HEOL WELLFIELD"),
    ("NEWPORT ROAD", "HEOL CASNEWYDD"),
    ("SPLOTT ROAD", "HEOL SBLOT"),
    ("CLARE ROAD", "HEOL CLARE"),
    ("WATER STREET", "HEOL Y DŴR"),  # UTF-8, as ABP CSV is
)
_CLASSES = ("RD04", "RD03", "RD06", "RD02", "CR08", "CO01")
_ORGS = ("SMITH, JONES & CO", "ROATH DENTAL PRACTICE", "CAFE ALBANY", "CITY ROAD TRADERS")


def key_of(record_type: int, row: Row) -> Any:
    """A row's key: an int, a str, or (USRN, LANGUAGE) for street descriptors."""
    _, columns = TABLES[record_type]
    indexes = [COLUMNS[record_type].index(c) for c in columns]
    return row[indexes[0]] if len(indexes) == 1 else tuple(row[i] for i in indexes)


def as_dict(record_type: int, row: Row) -> Dict[str, Any]:
    return dict(zip(COLUMNS[record_type], row))


def format_row(record_type: int, row: Row) -> str:
    """One CSV line: strings quoted, numbers and dates bare, empty fields empty."""
    out = []
    for (_, kind), value in zip(_LAYOUTS[record_type], row):
        if value is None:
            out.append("")
        elif kind == "s":
            out.append(f'"{value}"')
        elif kind.startswith("f"):
            out.append(f"{value:.{kind[1:]}f}")
        else:
            out.append(str(value))
    if len(out) != FIELD_COUNTS[record_type]:
        raise ValueError(f"A type {record_type} row has {len(out)} fields")
    return ",".join(out)


@dataclass(frozen=True)
class Change:
    """One change record: the record type, its change type and the full row it carries."""

    record_type: int
    change_type: str  # I, U or D
    pro_order: int
    row: Row


@dataclass
class AbpSupply:
    """One package version's records: change records in file order, split into volumes."""

    full: bool
    date: str
    volumes: List[List[Change]] = field(default_factory=list)


@dataclass(frozen=True)
class AbpSpec:
    seed: str = "cardiff"
    streets: int = 6
    addresses_per_street: int = 8
    volumes_full: int = 2


class AbpWorld:
    """Every current record per record type; ``advance`` makes the next COU."""

    def __init__(self, spec: AbpSpec) -> None:
        self.spec = spec
        self.rng = random.Random(f"abp:{spec.seed}")
        self.current: Dict[int, Dict[Any, Row]] = {t: {} for t in TABLES}
        self.date = ""
        self._pro_order = 0
        self._usrn = 14000000
        self._uprn = 10002000000
        self._udprn = 23000000
        self._serial = 0
        self._changes: List[Change] = []
        self._by_uprn: Dict[int, Dict[Tuple[int, Any], None]] = {}  # UPRN -> child records
        self.position: Dict[int, Tuple[float, float]] = {}  # UPRN -> where its BLPU is (was)

    # --- records ------------------------------------------------------------------

    def _next_pro_order(self) -> int:
        self._pro_order += self.rng.randint(1, 3)
        return self._pro_order

    def _put(self, record_type: int, change_type: str, values: Sequence[Any]) -> Row:
        """Record a change: the row (with its CHANGE_TYPE and PRO_ORDER) goes into the world."""
        pro_order = self._next_pro_order()
        row = (record_type, change_type, pro_order, *values)
        if len(row) != FIELD_COUNTS[record_type]:
            raise ValueError(f"type {record_type}: {len(row)} fields")
        key = key_of(record_type, row)
        if change_type == "D":
            del self.current[record_type][key]
        else:
            self.current[record_type][key] = row
        if record_type == 21 and change_type != "D":
            self.position[row[3]] = (row[8], row[9])  # kept after a delete: successors use it
        if record_type in _UPRN_CHILDREN:
            children = self._by_uprn.setdefault(row[3], {})
            if change_type == "D":
                children.pop((record_type, key), None)
            else:
                children[(record_type, key)] = None
        self._changes.append(Change(record_type, change_type, pro_order, row))
        return row

    def _update(self, record_type: int, key: Any, **changes: Any) -> Row:
        old = self.current[record_type][key]
        columns = COLUMNS[record_type]
        values = list(old[3:])
        for name, value in changes.items():
            values[columns.index(name) - 3] = value
        if "LAST_UPDATE_DATE" in columns:
            values[columns.index("LAST_UPDATE_DATE") - 3] = self.date
        return self._put(record_type, "U", values)

    def _delete(self, record_type: int, key: Any) -> None:
        old = self.current[record_type][key]
        self._put(record_type, "D", old[3:])

    def _key(self, letter: str) -> str:
        """A 14-character key as OS makes them: custodian code, a letter, nine digits."""
        self._serial += self.rng.randint(1, 5)
        return f"{CUSTODIAN}{letter}{self._serial:09d}"

    @staticmethod
    def _latlon(x: float, y: float) -> Tuple[float, float]:
        """Near enough for samples: a plane about Cardiff (318000, 176000)."""
        return round(51.4816 + (y - 176000) / 111320, 7), round(-3.1791 + (x - 318000) / 69360, 7)

    def _street(self) -> int:
        rng, date = self.rng, self.date
        self._usrn += rng.randint(1, 40)
        usrn = self._usrn
        english, welsh = _STREETS[(usrn // 7) % len(_STREETS)]
        x0, y0 = round(rng.uniform(311000, 324000), 2), round(rng.uniform(171000, 184000), 2)
        x1, y1 = round(x0 + rng.uniform(100, 600), 2), round(y0 + rng.uniform(-200, 200), 2)
        la0, lo0 = self._latlon(x0, y0)
        la1, lo1 = self._latlon(x1, y1)
        self._put(
            11,
            "I",
            (usrn, 1, CUSTODIAN, 2, "2001-03-19", 1, 8, 0, "2001-03-19", None, date, "2001-03-19")
            + (x0, y0, la0, lo0, x1, y1, la1, lo1, 10),
        )
        locality = rng.choice(_LOCALITIES)
        for language, name, town in (("ENG", english, _TOWN[0]), ("CYM", welsh, _TOWN[1])):
            self._put(
                15,
                "I",
                (usrn, name, locality, town, "CARDIFF", language, "2001-03-19", None, date)
                + ("2001-03-19",),
            )
        return usrn

    def _address(self, usrn: int, number: int) -> int:
        rng, date = self.rng, self.date
        self._uprn += rng.randint(1, 90)
        uprn = self._uprn
        street = self.current[11][usrn]
        t = rng.random()
        x = round(street[15] + (street[19] - street[15]) * t + rng.uniform(-15, 15), 2)
        y = round(street[16] + (street[20] - street[16]) * t + rng.uniform(-15, 15), 2)
        lat, lon = self._latlon(x, y)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"CF24 {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        self._put(
            21,
            "I",
            (uprn, 1, 2, "2005-06-01", None, x, y, lat, lon, 1, CUSTODIAN, "W")
            + ("2005-06-01", None, date, "2005-06-01", "D", postcode, 0),
        )
        english = self.current[15][(usrn, "ENG")][4]
        welsh = self.current[15][(usrn, "CYM")][4]
        for language in ("ENG", "CYM"):
            self._put(
                24,
                "I",
                (uprn, self._key("L"), language, 1, "2005-06-01", None, date, "2005-06-01")
                + (None, None, None, None, None, number, None, None, None, None, usrn, "1")
                + (None, None, "Y"),
            )
        if rng.random() < 0.9:
            self._udprn += rng.randint(1, 50)
            self._put(
                28,
                "I",
                (uprn, self._udprn, None, None, None, None, number, None, english, None, None)
                + ("CARDIFF", postcode, "S", "1A", None, welsh, None, None, "CAERDYDD", None)
                + (date, "2005-06-01", None, date, "2005-06-01"),
            )
        self._put(
            23,
            "I",
            (uprn, self._key("X"), f"W{rng.randint(10**9, 10**10 - 1)}", 1, "7666VW")
            + ("2005-06-01", None, date, "2005-06-01"),
        )
        code = rng.choice(_CLASSES)
        self._put(
            32,
            "I",
            (uprn, self._key("C"), code, "AddressBase Premium Classification Scheme", 1.0)
            + ("2005-06-01", None, date, "2005-06-01"),
        )
        if code.startswith("C") or rng.random() < 0.05:
            name = rng.choice(_ORGS)
            self._put(
                31, "I", (uprn, self._key("O"), name, None, "2005-06-01", None, date, "2005-06-01")
            )
        return uprn

    def _children(self, uprn: int) -> List[Tuple[int, Any]]:
        """The records hanging off a BLPU (XREF, LPI, DPA, successor, organisation, class)."""
        return list(self._by_uprn.get(uprn, {}))

    # --- supplies -------------------------------------------------------------------

    def build_initial(self, date: str) -> None:
        self.date = date
        for _ in range(self.spec.streets):
            usrn = self._street()
            for house in range(self.spec.addresses_per_street):
                self._address(usrn, 2 * house + 1)
        self._changes.clear()  # a full supply is the world as it is, not its history

    def full_supply(self) -> AbpSupply:
        """Every current record as an insert, in PRO_ORDER, split into volumes."""
        changes = sorted(
            (
                Change(t, "I", row[2], row)
                for t, rows in self.current.items()
                for row in rows.values()
            ),
            key=lambda c: c.pro_order,
        )
        count = max(1, self.spec.volumes_full)
        size = -(-len(changes) // count)
        return AbpSupply(
            True, self.date, [changes[i : i + size] for i in range(0, len(changes), size)]
        )

    def advance(self, date: str, rate: float = 0.05, volumes: int = 1) -> AbpSupply:
        """Change the world as one update would; the COU's records, partly out of PRO_ORDER."""
        self.date = date
        rng = self.rng
        self._changes = []
        blpus = sorted(self.current[21])
        count = max(3, int(len(blpus) * rate))
        picked = rng.sample(blpus, min(len(blpus), count * 3))
        moved, renamed, gone = picked[:count], picked[count : 2 * count], picked[2 * count :]
        for uprn in moved:
            x = round(self.current[21][uprn][8] + rng.uniform(-3, 3), 2)
            y = round(self.current[21][uprn][9] + rng.uniform(-3, 3), 2)
            lat, lon = self._latlon(x, y)
            self._update(21, uprn, X_COORDINATE=x, Y_COORDINATE=y, LATITUDE=lat, LONGITUDE=lon)
        for uprn in renamed:
            lpis = [k for t, k in self._children(uprn) if t == 24]
            for key in lpis[:1]:
                self._update(24, key, SAO_TEXT="FLAT 1", LEVEL="0")
            dpas = [k for t, k in self._children(uprn) if t == 28]
            for key in dpas:
                self._update(28, key, SUB_BUILDING_NAME="FLAT 1")
                # Two updates of one record in one file: the later PRO_ORDER wins.
                self._update(28, key, SUB_BUILDING_NAME="FLAT 1A")
        streets = sorted(self.current[11])
        usrn = rng.choice(streets)
        new_uprns = [self._address(usrn, 100 + 2 * i) for i in range(max(2, count // 2))]
        for uprn in gone[: max(1, len(gone) // 2)]:
            # An update then a delete of the same BLPU: it must be gone afterwards.
            self._update(21, uprn, LOGICAL_STATUS=8)
            for record_type, key in self._children(uprn):
                self._delete(record_type, key)
            self._delete(21, uprn)
            self._put(30, "I", (uprn, self._key("S"), date, None, date, date, new_uprns[0]))
        descriptor = (rng.choice(streets), "ENG")
        self._update(15, descriptor, LOCALITY_NAME=rng.choice(_LOCALITIES))
        self._update(11, rng.choice(streets), STREET_SURFACE=2)
        new_street = self._street()
        self._address(new_street, 1)
        changes = sorted(self._changes, key=lambda c: c.pro_order)
        parts = _split(changes, volumes)
        for part in parts:
            # Out of PRO_ORDER inside a volume: OS writes records grouped by type, so later
            # changes of one type come before earlier ones of another; a few swap places.
            part.sort(key=lambda c: (_TYPE_ORDER.index(c.record_type), c.pro_order))
            for _ in range(max(2, len(part) // 10)):
                i, j = rng.randrange(len(part)), rng.randrange(len(part))
                part[i], part[j] = part[j], part[i]
            # A record changed twice (U then U, U then D): the later change comes first.
            seen: Dict[Tuple[int, Any], int] = {}
            for index, change in enumerate(list(part)):
                where = (change.record_type, key_of(change.record_type, change.row))
                first = seen.setdefault(where, index)
                if first != index and part[first].pro_order < change.pro_order:
                    part[first], part[index] = part[index], part[first]
        return AbpSupply(False, date, parts)


def _split(changes: List[Change], volumes: int) -> List[List[Change]]:
    """Volumes in PRO_ORDER ranges. With two or more, the first cut falls between two
    changes of one record, so applying the volumes out of order gives a wrong result."""
    if volumes <= 1 or len(changes) < 2:
        return [changes]
    size = -(-len(changes) // volumes)
    cuts = list(range(size, len(changes), size))
    last: Dict[Tuple[int, Any], int] = {}
    pairs = []
    for index, change in enumerate(changes):
        where = (change.record_type, key_of(change.record_type, change.row))
        if where in last:
            pairs.append((last[where], index))
        last[where] = index
    if pairs:
        first, second = min(pairs, key=lambda p: abs(p[1] - cuts[0]))
        cuts[0] = second if second > first else cuts[0]
        cuts = sorted(set(cuts))
    bounds = [0, *cuts, len(changes)]
    return [changes[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


_TYPE_ORDER = (11, 15, 21, 23, 24, 28, 30, 31, 32)
_UPRN_CHILDREN = (23, 24, 28, 30, 31, 32)


def header_row(date: str, volume: int, full: bool) -> Row:
    return (
        10,
        "OS AddressBase Premium",
        7655,
        date,
        volume,
        date,
        "09:00:00",
        "3.0",
        "F" if full else "C",
    )


def metadata_row(date: str, area: str = "Cardiff", custodian: int = CUSTODIAN) -> Row:
    return (
        29,
        "AddressBase Premium",
        "Great Britain",
        area,
        None,
        "Ordnance Survey",
        "M",
        "Ordnance Survey",
        None,
        custodian,
        "British National Grid",
        "METRE",
        date,
        "AddressBase Premium Classification Scheme",
        date,
        "ENG",
        "UTF-8",
    )


def csv_lines(
    date: str, full: bool, changes: Sequence[Change], volume: int, last: bool
) -> List[str]:
    """One file's CSV lines: header, metadata, the records, trailer."""
    lines = [format_row(10, header_row(date, volume, full))]
    lines.append(format_row(29, metadata_row(date)))
    lines += [format_row(c.record_type, c.row) for c in changes]
    count = len(lines) + 1
    lines.append(format_row(99, (99, 0 if last else volume + 1, count, date, "09:00:00")))
    return lines


def volume_lines(supply: AbpSupply, index: int) -> List[str]:
    last = index + 1 == len(supply.volumes)
    return csv_lines(supply.date, supply.full, supply.volumes[index], index + 1, last)


def volume_bytes(supply: AbpSupply, index: int) -> bytes:
    return ("\r\n".join(volume_lines(supply, index)) + "\r\n").encode("utf-8")


# --- the tile supply (geographic chunks; change chunks replace a whole tile) -----------------

TILE_SIZE = 5000.0  # 5 km tiles, named by the 1 km square at their south-west corner


@dataclass
class AbpTileSupply:
    """Per tile, every record held in it, as inserts in PRO_ORDER; a COU has changed tiles only."""

    full: bool
    date: str
    tiles: Dict[str, List[Change]] = field(default_factory=dict)


TileMap = Dict[Tuple[int, Any], Tuple[str, Row]]  # (type, key) -> (tile, row)


def tile_of(x: float, y: float) -> str:
    from .sample_mastermap import grid_square

    return grid_square(x // TILE_SIZE * TILE_SIZE, y // TILE_SIZE * TILE_SIZE)


def tile_map(world: AbpWorld) -> TileMap:
    """Which tile each current record is in: a BLPU's by its point, its records with it,
    a street by its start, its descriptors with it."""
    out: TileMap = {}
    for record_type, rows in world.current.items():
        for key, row in rows.items():
            if record_type == 11:
                where = (row[15], row[16])
            elif record_type == 15:
                street = world.current[11][row[3]]
                where = (street[15], street[16])
            elif record_type == 21:
                where = (row[8], row[9])
            else:
                where = world.position[row[3]]
            out[(record_type, key)] = (tile_of(*where), row)
    return out


def tile_supply(world: AbpWorld, before: Optional[TileMap]) -> Tuple[AbpTileSupply, TileMap]:
    """The supply for the world as it is now: every tile (FULL) or the tiles whose records
    changed since ``before`` (COU), each with all its records as inserts."""
    now = tile_map(world)
    if before is None:
        changed = {tile for tile, _ in now.values()}
    else:
        changed = set()
        for key in set(now) | set(before):
            old, new = before.get(key), now.get(key)
            if old != new:
                changed |= {entry[0] for entry in (old, new) if entry is not None}
    supply = AbpTileSupply(before is None, world.date)
    for tile in sorted(changed):
        rows = sorted(
            ((t, row) for (t, _), (where, row) in now.items() if where == tile),
            key=lambda item: item[1][2],
        )
        supply.tiles[tile] = [Change(t, "I", row[2], (t, "I", *row[2:])) for t, row in rows]
    return supply, now


def tile_bytes(supply: AbpTileSupply, tile: str) -> bytes:
    lines = csv_lines(supply.date, supply.full, supply.tiles[tile], 1, True)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
