"""Postcodes of the sample data: a fixed, exported list plus seeded neighbours.

``SAMPLE_POSTCODES`` is a public contract: the TRUD sample generator gives NHS
organisations these postcodes, so a test can join an NHS record to a Code-Point
Open point. The coordinates are plausible (inside the right 100 km square and
district), not surveyed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Tuple

ENGLAND = "E92000001"
SCOTLAND = "S92000003"


@dataclass(frozen=True)
class District:
    """Codes Code-Point Open carries for a postcode in this local authority."""

    name: str
    code: str  # Admin_district_code (GSS)
    county: str  # Admin_county_code ("" where unitary)
    nhs_region: str
    nhs_area: str
    country: str = ENGLAND


DISTRICTS: Dict[str, District] = {
    d.name: d
    for d in (
        District("Southampton", "E06000045", "", "E19000002", "E18000010"),
        District("Eastleigh", "E07000086", "E10000014", "E19000002", "E18000010"),
        District("Lambeth", "E09000022", "", "E19000003", "E18000007"),
        District("Southwark", "E09000028", "", "E19000003", "E18000007"),
        District("Lewisham", "E09000023", "", "E19000003", "E18000007"),
        District("Greenwich", "E09000011", "", "E19000003", "E18000007"),
        District("Tower Hamlets", "E09000030", "", "E19000003", "E18000007"),
        District("Hackney", "E09000012", "", "E19000003", "E18000007"),
        District("Newham", "E09000025", "", "E19000003", "E18000007"),
        District("Aberdeen City", "S12000033", "", "", "S08000020", SCOTLAND),
    )
}


@dataclass(frozen=True)
class SamplePostcode:
    """One known postcode: its usual written form, an address line and its point."""

    postcode: str  # as people write it: "SO16 6YD"
    street: str
    town: str
    easting: int
    northing: int
    district: str  # a key of DISTRICTS
    ward: str  # Admin_ward_code

    @property
    def area(self) -> str:
        """The postcode area ("SO", "SE"): Code-Point Open has one CSV per area."""
        return postcode_area(self.postcode)

    @property
    def codepoint(self) -> str:
        """The 7-character form Code-Point Open uses ("SO166YD", "SE1 7EH", "E1  6AN")."""
        return codepoint_form(self.postcode)


def codepoint_form(postcode: str) -> str:
    outward, inward = postcode.split()
    return outward.ljust(4) + inward


SAMPLE_POSTCODES: Tuple[SamplePostcode, ...] = (
    SamplePostcode(
        "SO14 7DU", "Above Bar Street", "Southampton", 442430, 111890, "Southampton", "E05002462"
    ),
    SamplePostcode(
        "SO14 7LY", "Civic Centre Road", "Southampton", 441840, 112290, "Southampton", "E05002462"
    ),
    SamplePostcode(
        "SO15 1GA", "Commercial Road", "Southampton", 441510, 112480, "Southampton", "E05002468"
    ),
    SamplePostcode(
        "SO15 2JS", "Shirley Road", "Southampton", 440910, 112730, "Southampton", "E05002468"
    ),
    SamplePostcode(
        "SO15 5TE", "Shirley High Street", "Southampton", 440320, 113790, "Southampton", "E05002469"
    ),
    SamplePostcode(
        "SO16 6YD", "Tremona Road", "Southampton", 439620, 114610, "Southampton", "E05002461"
    ),
    SamplePostcode(
        "SO16 7NP", "Bassett Avenue", "Southampton", 442210, 116340, "Southampton", "E05002459"
    ),
    SamplePostcode(
        "SO17 1BJ", "University Road", "Southampton", 442310, 115420, "Southampton", "E05002463"
    ),
    SamplePostcode(
        "SO17 3RB", "Portswood Road", "Southampton", 443020, 114230, "Southampton", "E05002470"
    ),
    SamplePostcode(
        "SO18 2NU", "Bitterne Road West", "Southampton", 444520, 113210, "Southampton", "E05002460"
    ),
    SamplePostcode(
        "SO19 9AB", "Portsmouth Road", "Southampton", 444480, 110920, "Southampton", "E05002475"
    ),
    SamplePostcode("SO50 6YA", "Leigh Road", "Eastleigh", 445560, 119020, "Eastleigh", "E05012169"),
    SamplePostcode(
        "SE1 7EH", "Westminster Bridge Road", "London", 530650, 179450, "Lambeth", "E05014109"
    ),
    SamplePostcode(
        "SE1 9RT", "Great Maze Pond", "London", 532810, 180010, "Southwark", "E05011098"
    ),
    SamplePostcode("SE1 2QH", "Tooley Street", "London", 533540, 180110, "Southwark", "E05011098"),
    SamplePostcode("SE5 9RS", "Denmark Hill", "London", 532710, 176210, "Southwark", "E05011102"),
    SamplePostcode(
        "SE13 6LH", "Lewisham High Street", "London", 537620, 174410, "Lewisham", "E05013716"
    ),
    SamplePostcode("SE18 4QH", "Stadium Road", "London", 543310, 177710, "Greenwich", "E05014078"),
    SamplePostcode(
        "SE10 9HT", "King William Walk", "London", 538330, 177640, "Greenwich", "E05014075"
    ),
    SamplePostcode("SE15 5LJ", "Rye Lane", "London", 534420, 176320, "Southwark", "E05011109"),
    SamplePostcode("SE22 8ED", "Lordship Lane", "London", 533820, 174980, "Southwark", "E05011103"),
)


@dataclass(frozen=True)
class CodePointRow:
    """One row of a Code-Point Open CSV, in the file's column order."""

    postcode: str  # 7-character form
    quality: int
    easting: int
    northing: int
    country: str
    nhs_region: str
    nhs_area: str
    county: str
    district: str
    ward: str

    def cells(self) -> List[object]:
        return [
            self.postcode,
            self.quality,
            self.easting,
            self.northing,
            self.country,
            self.nhs_region,
            self.nhs_area,
            self.county,
            self.district,
            self.ward,
        ]


# Outward codes around which seeded neighbours are made: (outward, centre E, N, district, ward).
_SECTORS: Tuple[Tuple[str, int, int, str, str], ...] = (
    ("SO14", 442300, 111800, "Southampton", "E05002462"),
    ("SO15", 440800, 112900, "Southampton", "E05002468"),
    ("SO16", 440400, 115400, "Southampton", "E05002461"),
    ("SO17", 442800, 115000, "Southampton", "E05002463"),
    ("SO18", 445000, 114000, "Southampton", "E05002460"),
    ("SO19", 445000, 110500, "Southampton", "E05002475"),
    ("SO50", 445800, 119300, "Eastleigh", "E05012169"),
    ("SE1", 531900, 179800, "Southwark", "E05011098"),
    ("SE5", 532700, 176600, "Southwark", "E05011102"),
    ("SE10", 538700, 177900, "Greenwich", "E05014075"),
    ("SE13", 538000, 174900, "Lewisham", "E05013716"),
    ("SE15", 534500, 176600, "Southwark", "E05011109"),
    ("SE18", 543500, 178000, "Greenwich", "E05014078"),
    ("SE22", 534000, 174800, "Southwark", "E05011103"),
    ("E1", 534800, 181600, "Tower Hamlets", "E05009317"),
    ("E2", 535000, 182900, "Tower Hamlets", "E05009319"),
    ("E3", 537200, 182700, "Tower Hamlets", "E05009320"),
    ("E8", 534200, 184600, "Hackney", "E05009372"),
    ("E14", 537800, 180700, "Tower Hamlets", "E05009331"),
    ("E15", 538800, 184300, "Newham", "E05013911"),
    ("AB10", 393600, 805400, "Aberdeen City", "S13002843"),
    ("AB11", 394600, 805600, "Aberdeen City", "S13002844"),
    ("AB24", 393600, 807900, "Aberdeen City", "S13002845"),
    ("AB25", 393200, 806700, "Aberdeen City", "S13002846"),
)
_PER_SECTOR = {"SO": 16, "SE": 14, "E": 12, "AB": 12}
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_QUALITIES = (10,) * 14 + (20, 30, 40, 50, 60, 90)


def postcode_area(postcode: str) -> str:
    """ "SO16 6YD" -> "SO", "E1  6AN" -> "E"."""
    letters = ""
    for char in postcode.strip():
        if not char.isalpha():
            break
        letters += char
    return letters.upper()


def _row(postcode: str, quality: int, e: int, n: int, district: str, ward: str) -> CodePointRow:
    d = DISTRICTS[district]
    return CodePointRow(
        postcode, quality, e, n, d.country, d.nhs_region, d.nhs_area, d.county, d.code, ward
    )


def codepoint_rows() -> Dict[str, List[CodePointRow]]:
    """Every Code-Point Open row, by lower-case postcode area, each list sorted by postcode."""
    rows: Dict[str, List[CodePointRow]] = {}
    taken = {p.codepoint for p in SAMPLE_POSTCODES}
    for p in SAMPLE_POSTCODES:
        rows.setdefault(postcode_area(p.postcode).lower(), []).append(
            _row(p.codepoint, 10, p.easting, p.northing, p.district, p.ward)
        )
    for outward, e0, n0, district, ward in _SECTORS:
        rng = random.Random(f"codepoint:{outward}")
        area = postcode_area(outward)
        made = 0
        while made < _PER_SECTOR[area]:
            inward = (
                f"{rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
            )
            code = codepoint_form(f"{outward} {inward}")
            if code in taken:
                continue
            taken.add(code)
            e = e0 + rng.randint(-700, 700)
            n = n0 + rng.randint(-700, 700)
            rows.setdefault(area.lower(), []).append(
                _row(code, rng.choice(_QUALITIES), e, n, district, ward)
            )
            made += 1
    return {area: sorted(items, key=lambda r: r.postcode) for area, items in sorted(rows.items())}
