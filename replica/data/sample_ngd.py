"""A seeded model of an OS NGD data package: four feature types, a FULL and COUs.

What OS supplies (research change-only-updates.md §5): one zip per feature type
holding a CSV with a header row and WKT geometry (column ``geometry``,
EPSG:27700); COU rows carry ``changetype`` (``CHANGE_TYPES``); one COU file may
hold several versions of one feature (the newest, by ``versiondate`` then
``versionavailablefromdate``, is the one that counts); a feature type with no
changes still gets a blank COU file (its header only). OS publishes a ``.csvt``
type file per feature type on GitHub (osngd-resources); ours, with OS's type
names (String, Integer, Float, Boolean, Date, DateTime, Geometry), travels in
each zip beside its CSV: ``<feature type>.csvt``, one line, one quoted type per
column, in the CSV's order.

Feature types (``SCHEMAS``): ``bld_fts_buildingpart`` and ``lnd_fts_landpart``
(polygons, some multipolygons; features move between them: "Moved To A
Different Feature Type" in one file, "Moved From A Different Feature Type" in
the other, same ``osid``), ``trn_ntwk_roadlink`` (lines), ``add_gb_builtaddress``
(points, keyed by ``uprn`` rather than ``osid``).

The model's state (``NgdWorld.current``: feature type -> key -> row, typed) is
what the truth is made from; each COU is drawn from it and applied to it by
OS's rules, never read back from the CSV.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Tuple

from .sample_zip import ZipMember, zip_bytes

COMMON = (
    ("versiondate", "Date"),
    ("versionavailablefromdate", "DateTime"),
    ("versionavailabletodate", "DateTime"),
    ("changetype", "String"),
)
SCHEMAS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "bld_fts_buildingpart": (("osid", "String"), ("toid", "String"))
    + COMMON
    + (
        ("theme", "String"),
        ("description", "String"),
        ("height_relativeroofbase_m", "Float"),
        ("isobscured", "Boolean"),
        ("geometry_area_m2", "Float"),
        ("geometry", "Geometry"),
    ),
    "lnd_fts_landpart": (("osid", "String"), ("toid", "String"))
    + COMMON
    + (
        ("theme", "String"),
        ("description", "String"),
        ("geometry_area_m2", "Float"),
        ("geometry", "Geometry"),
    ),
    "trn_ntwk_roadlink": (("osid", "String"),)
    + COMMON
    + (
        ("roadclassification", "String"),
        ("name1_text", "String"),
        ("geometry_length_m", "Float"),
        ("directionality", "String"),
        ("geometry", "Geometry"),
    ),
    "add_gb_builtaddress": (("uprn", "Integer"),)
    + COMMON
    + (
        ("fulladdress", "String"),
        ("postcode", "String"),
        ("buildingnumber", "Integer"),
        ("classificationcode", "String"),
        ("geometry", "Geometry"),
    ),
}
FEATURE_TYPES = tuple(SCHEMAS)
KEYS = {name: SCHEMAS[name][0][0] for name in FEATURE_TYPES}  # osid, or uprn for addresses
MOVES = ("bld_fts_buildingpart", "lnd_fts_landpart")  # features move between these two
NEW = "New"
MOD_ATTR = "Modified Attributes"
MOD_GEOM = "Modified Geometry"
MOD_BOTH = "Modified Geometry And Attributes"
END = "End Of Life"
MOVED_TO = "Moved To A Different Feature Type"
MOVED_FROM = "Moved From A Different Feature Type"
CHANGE_TYPES = (NEW, MOD_ATTR, MOD_GEOM, MOD_BOTH, END, MOVED_TO, MOVED_FROM)
REMOVES = (END, MOVED_TO)  # OS: these remove the feature from its feature type
Row = Dict[str, Any]


@dataclass(frozen=True)
class NgdSpec:
    buildings: int = 120
    landparts: int = 50
    roads: int = 60
    addresses: int = 80
    seed: int = 27700

    def count(self, feature_type: str) -> int:
        return {
            "bld_fts_buildingpart": self.buildings,
            "lnd_fts_landpart": self.landparts,
            "trn_ntwk_roadlink": self.roads,
            "add_gb_builtaddress": self.addresses,
        }[feature_type]


@dataclass
class NgdSupply:
    """One supply: per feature type the rows of its file, in file order."""

    full: bool
    date: str
    rows: Dict[str, List[Row]] = field(default_factory=dict)


def _square(x: float, y: float, size: float) -> str:
    pts = [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]
    return "(" + ", ".join(f"{a:.2f} {b:.2f}" for a, b in pts) + ")"


class NgdWorld:
    def __init__(self, spec: NgdSpec = NgdSpec()) -> None:
        self.spec = spec
        self.random = random.Random(spec.seed)
        self.current: Dict[str, Dict[Any, Row]] = {name: {} for name in FEATURE_TYPES}
        self.serial = 0

    # --- making features ---------------------------------------------------------------

    def _next_key(self, feature_type: str) -> Any:
        self.serial += 1
        if KEYS[feature_type] == "uprn":
            return 100_000_000 + self.serial
        return f"{self.serial:08x}-ngd0-4000-8000-{self.serial * 7919 % 10**12:012d}"

    def _geometry(self, feature_type: str, key_number: int) -> Tuple[str, float]:
        r = self.random
        x = 290000 + (key_number % 700) * 6 + round(r.random() * 2, 2)
        y = 90000 + (key_number // 700) * 6 + round(r.random() * 2, 2)
        if feature_type == "trn_ntwk_roadlink":
            pts = [(x, y), (x + 3.5, y + round(r.random(), 2)), (x + 5, y + 4.25)]
            length = sum(
                ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(pts, pts[1:])
            )
            text = ", ".join(f"{a:.2f} {b:.2f}" for a, b in pts)
            return f"LINESTRING ({text})", round(length, 2)
        if feature_type == "add_gb_builtaddress":
            return f"POINT ({x:.2f} {y:.2f})", 0.0
        size = round(2 + r.random() * 2, 2)
        if key_number % 10 == 3:  # a building part in two pieces
            small = _square(x + size + 0.25, y, 0.5)
            return f"MULTIPOLYGON (({_square(x, y, size)}), ({small}))", round(size**2 + 0.25, 2)
        return f"POLYGON ({_square(x, y, size)})", round(size * size, 2)

    def _row(self, feature_type: str, key: Any, when: str, change: str) -> Row:
        r = self.random
        number = self.serial if key is None else r.randrange(10**6)
        geometry, measure = self._geometry(feature_type, number)
        row: Row = {KEYS[feature_type]: key}
        row.update(
            versiondate=when,
            versionavailablefromdate=f"{when}T00:00:00Z",
            versionavailabletodate=None,
            changetype=change,
        )
        if feature_type in MOVES:
            row["toid"] = f"osgb{5000000000000 + self.serial}"
            row["theme"] = r.choice(("Buildings", "Land", "Buildings,Land"))
            row["description"] = r.choice(("Building", "Garden", "Made Surface", None))
            row["geometry_area_m2"] = measure
            if feature_type == "bld_fts_buildingpart":
                row["height_relativeroofbase_m"] = round(3 + r.random() * 9, 2)
                row["isobscured"] = r.random() < 0.2
        elif feature_type == "trn_ntwk_roadlink":
            row["roadclassification"] = r.choice(("A Road", "B Road", "Unclassified"))
            row["name1_text"] = r.choice(("Fore Street", "Heol y Bont", None))
            row["geometry_length_m"] = measure
            row["directionality"] = r.choice(("Both Directions", "In Direction"))
        else:
            row["fulladdress"] = f"{number % 90 + 1}, Fore Street, Exeter"
            row["postcode"] = r.choice(("EX1 1AA", "EX4 3SR", "CF10 1EP"))
            row["buildingnumber"] = number % 90 + 1 if r.random() < 0.9 else None
            row["classificationcode"] = r.choice(("RD04", "RD06", "CR08"))
        row["geometry"] = geometry
        return {name: row.get(name) for name, _ in SCHEMAS[feature_type]}

    def new_feature(self, feature_type: str, when: str, change: str = NEW) -> Row:
        """A feature never seen before (a fresh key)."""
        key = self._next_key(feature_type)
        row = self._row(feature_type, None, when, change)
        row[KEYS[feature_type]] = key
        return row

    # --- supplies ------------------------------------------------------------------------

    def build_initial(self, when: str) -> None:
        for name in FEATURE_TYPES:
            for _ in range(self.spec.count(name)):
                row = self.new_feature(name, when)
                self.current[name][row[KEYS[name]]] = row

    def full_supply(self, when: str) -> NgdSupply:
        rows = {name: list(self.current[name].values()) for name in FEATURE_TYPES}
        return NgdSupply(True, when, rows)

    def _modified(self, name: str, old: Row, when: str, change: str, hour: int = 0) -> Row:
        fresh = self._row(name, old[KEYS[name]], when, change)
        row = dict(old)
        if change in (MOD_ATTR, MOD_BOTH):
            row.update({k: v for k, v in fresh.items() if k not in ("geometry", "toid")})
        if change in (MOD_GEOM, MOD_BOTH):
            row["geometry"] = fresh["geometry"]
            for measure in ("geometry_area_m2", "geometry_length_m"):
                if measure in row:
                    row[measure] = fresh[measure]
        row.update(
            versiondate=when,
            versionavailablefromdate=f"{when}T{hour:02d}:00:00Z",
            changetype=change,
        )
        return row

    def advance(self, when: str, rate: float, *, blank: Tuple[str, ...] = ()) -> NgdSupply:
        """One COU: every change type, moves both ways, several versions of some
        features in one file (written newest first, so file order is not the rule)."""
        r = self.random
        day = date.fromisoformat(when)
        earlier = (day - timedelta(days=9)).isoformat()
        supply = NgdSupply(False, when, {name: [] for name in FEATURE_TYPES})
        result = {name: dict(rows) for name, rows in self.current.items()}
        for name in FEATURE_TYPES:
            if name in blank:
                continue
            rows = supply.rows[name]
            keys = sorted(result[name], key=str)
            n = max(1, int(len(keys) * rate / 5))
            picked = r.sample(keys, min(len(keys), 5 * n + 3))
            groups = [picked[i * n : (i + 1) * n] for i in range(5)]
            for change, group in zip((MOD_ATTR, MOD_GEOM, MOD_BOTH), groups):
                for key in group:
                    row = self._modified(name, result[name][key], when, change)
                    rows.append(row)
                    result[name][key] = row
            for key in groups[3]:
                gone = dict(result[name].pop(key), changetype=END, versiondate=when)
                gone.update(versionavailablefromdate=f"{when}T12:00:00Z")
                gone.update(versionavailabletodate=f"{when}T12:00:00Z")
                rows.append(gone)
            for _ in range(n):
                row = self.new_feature(name, when)
                rows.append(row)
                result[name][row[KEYS[name]]] = row
            twice, same_day, then_gone = picked[5 * n : 5 * n + 3]
            # Two edits in the period: the later one (by version date) counts.
            final = self._modified(name, result[name][twice], when, MOD_BOTH)
            between = self._modified(name, result[name][twice], earlier, MOD_ATTR)
            rows += [final, between]
            result[name][twice] = final
            # The same version date twice: the later "available from" counts.
            late = self._modified(name, result[name][same_day], when, MOD_GEOM, hour=14)
            early = self._modified(name, result[name][same_day], when, MOD_ATTR, hour=8)
            rows += [late, early]
            result[name][same_day] = late
            # Edited, then ended, in the same period: it is gone.
            edited = self._modified(name, result[name][then_gone], earlier, MOD_ATTR)
            ended = dict(result[name].pop(then_gone), changetype=END, versiondate=when)
            ended.update(versionavailablefromdate=f"{when}T12:00:00Z")
            rows += [ended, edited]
        source, target = MOVES if day.month % 2 == 0 else MOVES[::-1]
        if source not in blank and target not in blank:
            untouched = [k for k, row in result[source].items() if row["versiondate"] != when]
            movable = sorted(untouched, key=str)
            for key in r.sample(movable, max(1, int(len(movable) * rate / 5))):
                old = result[source].pop(key)
                moved = dict(old, changetype=MOVED_TO, versiondate=when)
                moved.update(versionavailablefromdate=f"{when}T23:00:00Z")
                supply.rows[source].append(moved)
                row = self._row(target, key, when, MOVED_FROM)
                supply.rows[target].append(row)
                result[target][key] = row
        self.current = result
        return supply


# --- files -------------------------------------------------------------------------------


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "Boolean":
        return "true" if value else "false"
    if kind == "Float":
        return f"{value:.2f}"
    return str(value)


def csv_bytes(feature_type: str, rows: List[Row]) -> bytes:
    schema = SCHEMAS[feature_type]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in schema])
    for row in rows:
        writer.writerow([_text(row[name], kind) for name, kind in schema])
    return out.getvalue().encode("utf-8")


def csvt_bytes(feature_type: str) -> bytes:
    """Our type file: OS's ``.csvt`` form (one line of quoted type names)."""
    return (",".join(f'"{kind}"' for _, kind in SCHEMAS[feature_type]) + "\r\n").encode()


def supply_files(supply: NgdSupply) -> List[Tuple[str, bytes]]:
    """One zip per feature type (a blank COU file too), named for the supply, as every
    version's files are: ``<feature type>_<FULL|COU>_<date>.zip`` holding
    ``<feature type>.csv`` and ``.csvt``."""
    kind = "FULL" if supply.full else "COU"
    files = []
    for name in FEATURE_TYPES:
        members = [
            ZipMember(f"{name}.csv", csv_bytes(name, supply.rows.get(name, []))),
            ZipMember(f"{name}.csvt", csvt_bytes(name)),
        ]
        zipped = zip_bytes(members, folder_entries=False)
        files.append((f"{name}_{kind}_{supply.date}.zip", zipped))
    return files


def ngd_state(current: Dict[str, Dict[Any, Row]]) -> Dict[str, Dict[str, Row]]:
    """Per feature type: key (as text) -> the row (typed; geometry as WKT)."""
    return {
        name: {str(k): current[name][k] for k in sorted(current[name], key=str)} for name in current
    }


def newest(rows: List[Row]) -> Optional[Row]:
    """OS's rule for several versions of one feature in one file."""
    if not rows:
        return None
    return max(rows, key=lambda row: (row["versiondate"], row["versionavailablefromdate"]))
