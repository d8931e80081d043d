"""The made-up but plausible British geography every sample file is cut from.

Rivers, boundaries, parks, roads and buildings around London (TQ) and
Southampton (SU), in British National Grid metres. Shapes are sketched from a
few known points and roughened with seeded noise, so they land in the right
100 km squares and look like maps, and never change between runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

Point = Tuple[float, float]

# The 100 km squares used here and their south-west corners.
SQUARES: Dict[str, Point] = {
    "SU": (400000.0, 100000.0),
    "SZ": (400000.0, 0.0),
    "TL": (500000.0, 200000.0),
    "TQ": (500000.0, 100000.0),
    "NJ": (300000.0, 800000.0),
}


_GRID_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I; rows from the north, 5 to a row


def grid_square_origin(square: str) -> Point:
    """South-west corner of any 100 km square of the National Grid ("HP", "OV", "TQ")."""
    first = _GRID_LETTERS.index(square[0].upper())
    second = _GRID_LETTERS.index(square[1].upper())
    e = (first % 5 - 2) * 500000 + (second % 5) * 100000
    n = (3 - first // 5) * 500000 + (4 - second // 5) * 100000
    return (float(e), float(n))


def square_of(e: float, n: float) -> str:
    for name, (e0, n0) in SQUARES.items():
        if e0 <= e < e0 + 100000 and n0 <= n < n0 + 100000:
            return name
    raise ValueError(f"({e}, {n}) is outside the sample squares")


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def line_wkt(points: Sequence[Point]) -> str:
    return "LINESTRING (" + ", ".join(f"{_fmt(e)} {_fmt(n)}" for e, n in points) + ")"


def point_wkt(point: Point) -> str:
    return f"POINT ({_fmt(point[0])} {_fmt(point[1])})"


def polygon_wkt(ring: Sequence[Point]) -> str:
    closed = list(ring) + ([ring[0]] if ring[0] != ring[-1] else [])
    return "POLYGON ((" + ", ".join(f"{_fmt(e)} {_fmt(n)}" for e, n in closed) + "))"


def roughen(
    points: Sequence[Point], seed: str, *, step: float = 250.0, amplitude: float = 60.0
) -> List[Point]:
    """Densify a sketched line every ``step`` m and nudge the new vertices sideways."""
    rng = random.Random(seed)
    result: List[Point] = [points[0]]
    for (e1, n1), (e2, n2) in zip(points, points[1:]):
        length = math.hypot(e2 - e1, n2 - n1)
        pieces = max(1, int(length // step))
        ne, nn = (-(n2 - n1) / length, (e2 - e1) / length) if length else (0.0, 0.0)
        for i in range(1, pieces + 1):
            t = i / pieces
            offset = rng.uniform(-amplitude, amplitude) if i < pieces else 0.0
            result.append(
                (
                    round(e1 + (e2 - e1) * t + ne * offset, 2),
                    round(n1 + (n2 - n1) * t + nn * offset, 2),
                )
            )
    return result


def ellipse(
    centre: Point, width: float, height: float, seed: str, *, vertices: int = 20
) -> List[Point]:
    """A lumpy oval ring: how parks and built-up areas are drawn."""
    rng = random.Random(seed)
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        wobble = rng.uniform(0.85, 1.1)
        ring.append(
            (
                round(centre[0] + math.cos(angle) * width / 2 * wobble, 2),
                round(centre[1] + math.sin(angle) * height / 2 * wobble, 2),
            )
        )
    return ring + [ring[0]]


def rectangle(e: float, n: float, width: float, height: float) -> List[Point]:
    return [(e, n), (e + width, n), (e + width, n + height), (e, n + height), (e, n)]


def hexagon(centre: Point, side: float) -> List[Point]:
    ring = [
        (
            round(centre[0] + side * math.cos(math.radians(60 * i)), 2),
            round(centre[1] + side * math.sin(math.radians(60 * i)), 2),
        )
        for i in range(6)
    ]
    return ring + [ring[0]]


def hex_grid(
    origin: Point, side: float, columns: int, rows: int
) -> List[Tuple[int, int, List[Point]]]:
    """Flat-topped hexagons covering a block: (column, row, ring)."""
    cells = []
    for col in range(columns):
        for row in range(rows):
            e = origin[0] + col * side * 1.5
            n = origin[1] + row * side * math.sqrt(3) + (side * math.sqrt(3) / 2 if col % 2 else 0)
            cells.append((col, row, hexagon((e, n), side)))
    return cells


# --- rivers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class River:
    name: str
    form: str  # OS Open Rivers watercourse form
    sketch: Tuple[Point, ...]

    def line(self) -> List[Point]:
        return roughen(self.sketch, f"river:{self.name}", step=400, amplitude=90)


RIVERS: Tuple[River, ...] = (
    River(
        "River Thames",
        "tidalRiver",
        (
            (515500, 168500),
            (517800, 169300),
            (516800, 171500),
            (517700, 174700),
            (519000, 177300),
            (521500, 177000),
            (523200, 178000),
            (524000, 175700),
            (525500, 175700),
            (527500, 177500),
            (530200, 178000),
            (530400, 179500),
            (531000, 180500),
            (532800, 180500),
            (533700, 180400),
            (535000, 180000),
            (536700, 180500),
            (537100, 178600),
            (538300, 177900),
            (538900, 178500),
            (539200, 180100),
            (540500, 180200),
            (543300, 179300),
            (546500, 181000),
            (551500, 178500),
            (557000, 176500),
        ),
    ),
    River(
        "River Lee",
        "inlandRiver",
        (
            (532500, 212700),
            (535600, 214000),
            (537500, 208500),
            (537000, 202000),
            (537000, 198500),
            (535000, 189500),
            (536500, 186000),
            (538200, 184000),
            (539200, 180100),
        ),
    ),
    River(
        "River Wandle",
        "inlandRiver",
        (
            (529000, 164500),
            (527500, 166500),
            (527000, 169000),
            (526500, 171500),
            (526000, 173500),
            (525500, 175700),
        ),
    ),
    River(
        "River Itchen",
        "inlandRiver",
        (
            (448300, 129400),
            (447500, 125000),
            (446000, 121500),
            (445200, 118500),
            (444500, 114500),
            (443100, 112100),
            (443500, 110500),
            (443200, 109600),
        ),
    ),
    River(
        "River Test",
        "inlandRiver",
        ((435200, 121000), (436500, 117000), (437000, 114500), (439000, 112500), (440600, 110900)),
    ),
    River(
        "Southampton Water",
        "tidalRiver",
        ((440600, 110900), (442000, 110200), (443200, 109600), (446000, 105500), (449000, 101500)),
    ),
)


# --- administrative areas ----------------------------------------------------------------


@dataclass(frozen=True)
class AdminArea:
    name: str
    code: str  # GSS code
    kind: str  # Boundary-Line area type: CTY, UTA, DIS, LBO, WMC
    ring: Tuple[Point, ...]


def _lattice(
    origin: Point, cell: Point, columns: int, rows: int, seed: str
) -> Dict[Tuple[int, int], Point]:
    """Corner points of a grid, inner corners nudged, so neighbouring cells share edges."""
    rng = random.Random(seed)
    corners = {}
    for i in range(columns + 1):
        for j in range(rows + 1):
            inner = 0 < i < columns and 0 < j < rows
            de = rng.uniform(-0.2, 0.2) * cell[0] if inner else 0.0
            dn = rng.uniform(-0.2, 0.2) * cell[1] if inner else 0.0
            corners[(i, j)] = (
                round(origin[0] + i * cell[0] + de, 2),
                round(origin[1] + j * cell[1] + dn, 2),
            )
    return corners


def _cells(
    origin: Point, cell: Point, names: Sequence[Sequence[Tuple[str, str, str]]], seed: str
) -> List[AdminArea]:
    """Areas laid out south row first, west to east: (name, code, kind) per cell."""
    rows, columns = len(names), len(names[0])
    corners = _lattice(origin, cell, columns, rows, seed)
    areas = []
    for j, row in enumerate(names):
        for i, (name, code, kind) in enumerate(row):
            corner_ids = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            edges: List[Point] = []
            for a, b in zip(corner_ids, corner_ids[1:] + corner_ids[:1]):
                low, high = min(a, b), max(a, b)
                edge = roughen(
                    [corners[low], corners[high]],
                    f"edge:{seed}:{low}:{high}",
                    step=400,
                    amplitude=120,
                )
                edges += (edge if a == low else edge[::-1])[:-1]
            areas.append(AdminArea(name, code, kind, tuple(edges + [edges[0]])))
    return areas


LONDON_BOROUGHS: Tuple[AdminArea, ...] = tuple(
    _cells(
        (522000, 172000),
        (5000, 4500),
        (
            (
                ("Wandsworth", "E09000032", "LBO"),
                ("Lambeth", "E09000022", "LBO"),
                ("Southwark", "E09000028", "LBO"),
                ("Lewisham", "E09000023", "LBO"),
            ),
            (
                ("Kensington and Chelsea", "E09000020", "LBO"),
                ("Westminster", "E09000033", "LBO"),
                ("City of London", "E09000001", "LBO"),
                ("Tower Hamlets", "E09000030", "LBO"),
            ),
            (
                ("Brent", "E09000005", "LBO"),
                ("Camden", "E09000007", "LBO"),
                ("Islington", "E09000019", "LBO"),
                ("Hackney", "E09000012", "LBO"),
            ),
        ),
        "london",
    )
)

HAMPSHIRE_DISTRICTS: Tuple[AdminArea, ...] = tuple(
    _cells(
        (428000, 104000),
        (8000, 10000),
        (
            (
                ("New Forest District", "E07000091", "DIS"),
                ("Southampton", "E06000045", "UTA"),
                ("Fareham District", "E07000087", "DIS"),
            ),
            (
                ("Test Valley District", "E07000093", "DIS"),
                ("Eastleigh District", "E07000086", "DIS"),
                ("Winchester District", "E07000094", "DIS"),
            ),
        ),
        "hampshire",
    )
)

CONSTITUENCIES: Tuple[AdminArea, ...] = tuple(
    _cells(
        (522000, 172000),
        (10000, 6750),
        (
            (
                ("Vauxhall and Camberwell Green Boro Const", "E14001557", "WMC"),
                ("Bermondsey and Old Southwark Boro Const", "E14001084", "WMC"),
            ),
            (
                ("Cities of London and Westminster Boro Const", "E14001172", "WMC"),
                ("Bethnal Green and Stepney Boro Const", "E14001098", "WMC"),
            ),
        ),
        "london-wmc",
    )
    + _cells(
        (432000, 106000),
        (8000, 8000),
        (
            (
                ("Southampton Test Boro Const", "E14001491", "WMC"),
                ("Southampton Itchen Boro Const", "E14001490", "WMC"),
            ),
            (
                ("Romsey and Southampton North Co Const", "E14001448", "WMC"),
                ("Eastleigh Boro Const", "E14001213", "WMC"),
            ),
        ),
        "southampton-wmc",
    )
)

HAMPSHIRE_COUNTY = ("Hampshire County", "E10000014", "CTY")


# --- parks (OS Open Greenspace) ------------------------------------------------------------


@dataclass(frozen=True)
class Greenspace:
    name: str
    function: str
    centre: Point
    size: Point

    def ring(self) -> List[Point]:
        return ellipse(self.centre, self.size[0], self.size[1], f"green:{self.name}")

    def access_points(self) -> List[Point]:
        ring = self.ring()
        return [ring[2], ring[len(ring) // 2 + 1]]


GREENSPACES: Tuple[Greenspace, ...] = (
    Greenspace("Hyde Park", "Public Park Or Garden", (527300, 180300), (1400, 700)),
    Greenspace("Kensington Gardens", "Public Park Or Garden", (526300, 180200), (700, 800)),
    Greenspace("The Regent's Park", "Public Park Or Garden", (528000, 182700), (1100, 1000)),
    Greenspace("Primrose Hill", "Public Park Or Garden", (527600, 183750), (500, 400)),
    Greenspace("Hampstead Heath", "Public Park Or Garden", (527300, 186500), (1600, 1300)),
    Greenspace("Highgate Cemetery", "Cemetery", (528400, 187250), (400, 300)),
    Greenspace("Coram's Fields", "Play Space", (530520, 182320), (180, 150)),
    Greenspace("St Paul's Churchyard", "Religious Grounds", (532050, 181130), (140, 110)),
    Greenspace("Victoria Park", "Public Park Or Garden", (535700, 183900), (1200, 600)),
    Greenspace("Hackney Marshes", "Playing Field", (536600, 186000), (800, 900)),
    Greenspace("Battersea Park", "Public Park Or Garden", (528000, 177100), (900, 600)),
    Greenspace("Clapham Common", "Public Park Or Garden", (529000, 175200), (900, 700)),
    Greenspace("Burgess Park", "Public Park Or Garden", (533000, 177600), (900, 400)),
    Greenspace("Dulwich Park", "Public Park Or Garden", (533700, 173600), (600, 500)),
    Greenspace("Greenwich Park", "Public Park Or Garden", (539000, 177300), (900, 800)),
    Greenspace("Royal Blackheath Golf Club", "Golf Course", (542800, 175300), (900, 600)),
    Greenspace("Richmond Park", "Public Park Or Garden", (520500, 172500), (3000, 2500)),
    Greenspace("Dukes Meadows", "Playing Field", (520800, 176700), (500, 300)),
    Greenspace("Ruskin Park Bowling Green", "Bowling Green", (532600, 175800), (60, 50)),
    Greenspace("Tooting Bec Lido Tennis Courts", "Tennis Court", (528900, 172300), (80, 60)),
    Greenspace("Parker's Piece", "Playing Field", (545400, 258100), (250, 250)),
    Greenspace("Jesus Green", "Public Park Or Garden", (545200, 259200), (400, 200)),
    Greenspace("Midsummer Common", "Public Park Or Garden", (545800, 259050), (500, 200)),
    Greenspace("Christ's Pieces", "Public Park Or Garden", (545400, 258550), (200, 120)),
    Greenspace("Cherry Hinton Hall Park", "Public Park Or Garden", (548300, 256700), (300, 250)),
    Greenspace("Hylands Park", "Public Park Or Garden", (568000, 204000), (1500, 1200)),
    Greenspace("Hartham Common", "Playing Field", (532700, 213100), (500, 300)),
    Greenspace("Verulamium Park", "Public Park Or Garden", (513500, 207000), (900, 600)),
    Greenspace("Mill Road Cemetery", "Cemetery", (546300, 257900), (200, 150)),
    Greenspace(
        "Trumpington Road Allotments",
        "Allotments Or Community Growing Spaces",
        (545000, 256400),
        (150, 120),
    ),
    Greenspace("Southampton Common", "Public Park Or Garden", (441500, 114300), (1200, 1500)),
    Greenspace("Mayflower Park", "Public Park Or Garden", (441650, 111050), (300, 150)),
    Greenspace("Hoglands Park", "Playing Field", (442550, 112050), (250, 200)),
    Greenspace("Riverside Park", "Public Park Or Garden", (444000, 115000), (400, 900)),
    Greenspace("Southampton Golf Course", "Golf Course", (438800, 116000), (900, 700)),
    Greenspace(
        "Royal Victoria Country Park", "Public Park Or Garden", (446000, 107800), (1200, 700)
    ),
)


# --- named places (OS Open Names) ----------------------------------------------------------


@dataclass(frozen=True)
class NamedPlace:
    name: str
    type: str  # populatedPlace, transportNetwork, hydrography, other
    local_type: str
    point: Point
    district: str
    county: str
    postcode_district: str


NAMED_PLACES: Tuple[NamedPlace, ...] = (
    NamedPlace(
        "Camden Town",
        "populatedPlace",
        "Suburban Area",
        (529000, 184000),
        "Camden",
        "Greater London",
        "NW1",
    ),
    NamedPlace(
        "Hampstead",
        "populatedPlace",
        "Suburban Area",
        (526500, 185500),
        "Camden",
        "Greater London",
        "NW3",
    ),
    NamedPlace(
        "Kilburn",
        "populatedPlace",
        "Suburban Area",
        (525200, 184000),
        "Brent",
        "Greater London",
        "NW6",
    ),
    NamedPlace(
        "Marylebone",
        "populatedPlace",
        "Suburban Area",
        (528000, 181700),
        "Westminster",
        "Greater London",
        "W1U",
    ),
    NamedPlace(
        "Paddington",
        "populatedPlace",
        "Suburban Area",
        (526700, 181400),
        "Westminster",
        "Greater London",
        "W2",
    ),
    NamedPlace(
        "St John's Wood",
        "populatedPlace",
        "Suburban Area",
        (527000, 183300),
        "Westminster",
        "Greater London",
        "NW8",
    ),
    NamedPlace(
        "Kentish Town",
        "populatedPlace",
        "Suburban Area",
        (528900, 185200),
        "Camden",
        "Greater London",
        "NW5",
    ),
    NamedPlace(
        "Notting Hill",
        "populatedPlace",
        "Suburban Area",
        (524800, 180700),
        "Kensington and Chelsea",
        "Greater London",
        "W11",
    ),
    NamedPlace(
        "Maida Vale",
        "populatedPlace",
        "Suburban Area",
        (525700, 182300),
        "Westminster",
        "Greater London",
        "W9",
    ),
    NamedPlace(
        "Abbey Road",
        "transportNetwork",
        "Named Road",
        (526200, 183000),
        "Westminster",
        "Greater London",
        "NW8",
    ),
    NamedPlace(
        "Baker Street",
        "transportNetwork",
        "Named Road",
        (528000, 181800),
        "Westminster",
        "Greater London",
        "W1U",
    ),
    NamedPlace(
        "Edgware Road",
        "transportNetwork",
        "Named Road",
        (527000, 181700),
        "Westminster",
        "Greater London",
        "W2",
    ),
    NamedPlace(
        "Finchley Road",
        "transportNetwork",
        "Named Road",
        (526400, 185000),
        "Camden",
        "Greater London",
        "NW3",
    ),
    NamedPlace(
        "Haverstock Hill",
        "transportNetwork",
        "Named Road",
        (527600, 184800),
        "Camden",
        "Greater London",
        "NW3",
    ),
    NamedPlace(
        "Oxford Street",
        "transportNetwork",
        "Named Road",
        (529000, 181150),
        "Westminster",
        "Greater London",
        "W1D",
    ),
    NamedPlace(
        "Regent's Canal",
        "hydrography",
        "Canal",
        (527500, 183200),
        "Westminster",
        "Greater London",
        "NW8",
    ),
    NamedPlace("NW3 2QG", "other", "Postcode", (527020, 185230), "Camden", "Greater London", "NW3"),
    NamedPlace(
        "NW1 4RY", "other", "Postcode", (528620, 182290), "Westminster", "Greater London", "NW1"
    ),
    NamedPlace(
        "Southampton",
        "populatedPlace",
        "City",
        (442500, 112500),
        "Southampton",
        "Southampton",
        "SO14",
    ),
    NamedPlace(
        "Shirley",
        "populatedPlace",
        "Suburban Area",
        (440300, 113800),
        "Southampton",
        "Southampton",
        "SO15",
    ),
    NamedPlace(
        "Portswood",
        "populatedPlace",
        "Suburban Area",
        (443000, 114500),
        "Southampton",
        "Southampton",
        "SO17",
    ),
    NamedPlace(
        "Bitterne",
        "populatedPlace",
        "Suburban Area",
        (445000, 113200),
        "Southampton",
        "Southampton",
        "SO18",
    ),
    NamedPlace(
        "Woolston",
        "populatedPlace",
        "Suburban Area",
        (444000, 110800),
        "Southampton",
        "Southampton",
        "SO19",
    ),
    NamedPlace(
        "Bassett",
        "populatedPlace",
        "Suburban Area",
        (442000, 116500),
        "Southampton",
        "Southampton",
        "SO16",
    ),
    NamedPlace(
        "Swaythling",
        "populatedPlace",
        "Suburban Area",
        (444000, 116000),
        "Southampton",
        "Southampton",
        "SO17",
    ),
    NamedPlace(
        "West End", "populatedPlace", "Village", (447000, 114500), "Eastleigh", "Hampshire", "SO30"
    ),
    NamedPlace(
        "Hedge End", "populatedPlace", "Town", (449000, 112400), "Eastleigh", "Hampshire", "SO30"
    ),
    NamedPlace(
        "Eastleigh", "populatedPlace", "Town", (445600, 119000), "Eastleigh", "Hampshire", "SO50"
    ),
    NamedPlace(
        "Above Bar Street",
        "transportNetwork",
        "Named Road",
        (441900, 111900),
        "Southampton",
        "Southampton",
        "SO14",
    ),
    NamedPlace(
        "Portswood Road",
        "transportNetwork",
        "Named Road",
        (443000, 114200),
        "Southampton",
        "Southampton",
        "SO17",
    ),
    NamedPlace(
        "Bitterne Road West",
        "transportNetwork",
        "Named Road",
        (444000, 112500),
        "Southampton",
        "Southampton",
        "SO18",
    ),
    NamedPlace(
        "Shirley High Street",
        "transportNetwork",
        "Named Road",
        (440500, 113500),
        "Southampton",
        "Southampton",
        "SO15",
    ),
    NamedPlace(
        "River Itchen",
        "hydrography",
        "River",
        (444500, 114500),
        "Southampton",
        "Southampton",
        "SO17",
    ),
    NamedPlace(
        "SO14 7DU", "other", "Postcode", (442430, 111890), "Southampton", "Southampton", "SO14"
    ),
)


# --- roads (OS Open Roads, Open USRN, Zoomstack) ---------------------------------------------


@dataclass(frozen=True)
class Road:
    name: str
    number: str
    road_class: str  # Motorway, A Road, B Road, Unclassified
    sketch: Tuple[Point, ...]

    def line(self) -> List[Point]:
        return roughen(self.sketch, f"road:{self.name}:{self.number}", step=300, amplitude=25)


ROADS: Tuple[Road, ...] = (
    Road(
        "Westway",
        "A40",
        "A Road",
        ((521000, 181700), (524000, 181500), (526300, 181600), (527000, 181800)),
    ),
    Road(
        "Euston Road",
        "A501",
        "A Road",
        ((527200, 182000), (528800, 182300), (530200, 182700), (531300, 182800)),
    ),
    Road(
        "Edgware Road",
        "A5",
        "A Road",
        ((527700, 180900), (527000, 181700), (525700, 183200), (524700, 184600)),
    ),
    Road(
        "Old Kent Road",
        "A2",
        "A Road",
        ((533000, 179000), (534200, 178200), (535500, 177400), (536500, 176800)),
    ),
    Road("Walworth Road", "A215", "A Road", ((532100, 178700), (532300, 177600), (532600, 176500))),
    Road(
        "Commercial Road",
        "A13",
        "A Road",
        ((534000, 181200), (535500, 181100), (536800, 181000), (538200, 181300)),
    ),
    Road("Brixton Road", "A23", "A Road", ((531100, 177400), (531000, 176300), (531000, 175300))),
    Road(
        "",
        "M27",
        "Motorway",
        (
            (433000, 114500),
            (437500, 115500),
            (441000, 117200),
            (444500, 117000),
            (447500, 115000),
            (452000, 113000),
        ),
    ),
    Road(
        "Winchester Road",
        "A33",
        "A Road",
        ((441800, 112300), (442200, 114500), (442300, 116500), (443500, 119500)),
    ),
    Road(
        "Redbridge Road",
        "A35",
        "A Road",
        ((441200, 112400), (439800, 113000), (437700, 113500), (436800, 113400)),
    ),
    Road(
        "Portsmouth Road", "A3025", "A Road", ((443900, 110700), (445200, 110300), (446800, 109700))
    ),
    Road(
        "Bitterne Road West",
        "A3024",
        "A Road",
        ((443200, 112500), (444200, 112900), (445200, 113300)),
    ),
    Road("Burgess Road", "", "B Road", ((440800, 115300), (442300, 115700), (443800, 116100))),
    Road(
        "Portswood Road", "", "Unclassified", ((443000, 113700), (443050, 114300), (443200, 115000))
    ),
)


# --- buildings (OpenMap Local, VectorMap District, MasterMap) -------------------------------


def buildings(
    origin: Point, width: float, height: float, seed: str, *, spacing: float = 60.0
) -> List[List[Point]]:
    """Blocks of small rectangles: enough to look like a street plan at 1:10 000."""
    rng = random.Random(seed)
    result = []
    n = origin[1] + spacing / 3
    while n < origin[1] + height - spacing / 2:
        e = origin[0] + spacing / 3
        while e < origin[0] + width - spacing / 2:
            if rng.random() < 0.8:
                w = rng.uniform(0.35, 0.7) * spacing
                h = rng.uniform(0.3, 0.6) * spacing
                result.append(rectangle(round(e, 2), round(n, 2), round(w, 2), round(h, 2)))
            e += spacing
        n += spacing
    return result
