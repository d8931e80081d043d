"""Addresses behind OS Open UPRN, OS Open Linked Identifiers and the AddressBase package.

Each address has a UPRN, the USRN of its street, the TOID of its building, a
point near its postcode and WGS84 coordinates, so the open identifiers and the
premium sample agree with each other and with Code-Point Open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Tuple

from osgeo import osr

from .sample_postcodes import DISTRICTS, SAMPLE_POSTCODES, codepoint_rows

# First digits of UPRNs / USRNs by local authority (each council numbers its own).
_UPRN_PREFIX = {
    "Southampton": 1000607,
    "Eastleigh": 1000602,
    "Lambeth": 1000221,
    "Southwark": 2000031,
    "Lewisham": 1000212,
    "Greenwich": 1000203,
}
_USRN_PREFIX = {
    "Southampton": 2000,
    "Eastleigh": 1900,
    "Lambeth": 2200,
    "Southwark": 2280,
    "Lewisham": 2230,
    "Greenwich": 2210,
}
_STREETS = (
    "Archers Road", "Brookvale Road", "Cedar Road", "Denzil Avenue", "Earls Road", "Furzedown Road",
    "Grosvenor Square", "Highfield Lane", "Lyon Street", "Milton Road", "Northlands Road",
    "Oakmount Avenue", "Padwell Road", "Rockstone Lane", "Westwood Road", "Waterloo Road",
)  # fmt: skip
_PER_POSTCODE = 6
_EXTRA_POSTCODES_PER_AREA = 24


@dataclass(frozen=True)
class Address:
    uprn: int
    usrn: int
    toid: str  # the building's TopographicArea TOID
    number: int
    street: str
    town: str
    postcode: str  # written form, "SO16 6YD"
    district: str
    easting: float
    northing: float
    latitude: float
    longitude: float
    classification: str  # AddressBase class, e.g. RD04 (terraced house)


def _to_wgs84() -> osr.CoordinateTransformation:
    bng = osr.SpatialReference()
    bng.ImportFromEPSG(27700)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    bng.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(bng, wgs)


def _written(codepoint: str) -> str:
    return f"{codepoint[:-3].strip()} {codepoint[-3:]}"


def _places() -> List[Tuple[str, str, str, int, int, str]]:
    """(postcode, street, town, E, N, district) for every postcode that gets addresses."""
    places = [
        (p.postcode, p.street, p.town, p.easting, p.northing, p.district) for p in SAMPLE_POSTCODES
    ]
    known = {p.codepoint for p in SAMPLE_POSTCODES}
    names = {DISTRICTS[name].code: name for name in _UPRN_PREFIX}
    rng = random.Random("addresses:streets")
    for area in ("se", "so"):
        extra = [
            r for r in codepoint_rows()[area] if r.postcode not in known and r.district in names
        ]
        for row in extra[:_EXTRA_POSTCODES_PER_AREA]:
            district = names[row.district]
            town = (
                "London"
                if area == "se"
                else ("Eastleigh" if district == "Eastleigh" else "Southampton")
            )
            places.append(
                (
                    _written(row.postcode),
                    rng.choice(_STREETS),
                    town,
                    row.easting,
                    row.northing,
                    district,
                )
            )
    return places


@lru_cache(maxsize=1)
def addresses() -> Tuple[Address, ...]:
    """All sample addresses, in UPRN order; the same on every call and every run."""
    transform = _to_wgs84()
    rng = random.Random("addresses")
    counters: Dict[str, int] = {}
    usrns: Dict[Tuple[str, str], int] = {}
    result = []
    for postcode, street, town, e0, n0, district in _places():
        if (street, town) not in usrns:
            usrns[(street, town)] = _USRN_PREFIX[district] * 10000 + 101 + 37 * len(usrns)
        usrn = usrns[(street, town)]
        for number in range(1, _PER_POSTCODE + 1):
            counters[district] = counters.get(district, 0) + rng.randint(1, 40)
            uprn = _UPRN_PREFIX[district] * 100000 + counters[district]
            e = round(e0 + rng.uniform(-60, 60), 2)
            n = round(n0 + rng.uniform(-60, 60), 2)
            lon, lat, _ = transform.TransformPoint(e, n)
            toid = f"osgb1000{uprn % 10**12:012d}"
            result.append(
                Address(
                    uprn=uprn,
                    usrn=usrn,
                    toid=toid,
                    number=number * 2 - 1 + (len(result) % 2),
                    street=street,
                    town=town,
                    postcode=postcode,
                    district=district,
                    easting=e,
                    northing=n,
                    latitude=round(lat, 7),
                    longitude=round(lon, 7),
                    classification=rng.choice(("RD04", "RD04", "RD03", "RD06", "CR07", "CO01")),
                )
            )
    return tuple(sorted(result, key=lambda a: a.uprn))
