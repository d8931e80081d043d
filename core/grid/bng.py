"""The British National Grid's 100 km squares, computed from the grid's definition.

No grid file is needed: the letters A-Z without I fill a 5 x 5 block row by
row from the north-west; the first letter is the 500 km square (false origin
at the south-west corner of ``S``), the second the 100 km square inside it.
``SV`` is (0, 0), ``TQ`` (500000, 100000), ``HP`` (400000, 1200000). The grid
covers (0, 0) - (700000, 1300000) in EPSG:27700.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from ..errors import ConfigurationError

LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I
SQUARE_SIZE = 100000
GRID_EXTENT = (0, 0, 700000, 1300000)  # west, south, east, north
EPSG = 27700

BBox = Tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class GridSquare:
    """One 100 km square: its two letters and south-west corner in metres."""

    name: str
    west: int
    south: int

    @property
    def east(self) -> int:
        return self.west + SQUARE_SIZE

    @property
    def north(self) -> int:
        return self.south + SQUARE_SIZE

    @property
    def bbox(self) -> BBox:
        return (self.west, self.south, self.east, self.north)

    @property
    def centre(self) -> Tuple[float, float]:
        return (self.west + SQUARE_SIZE / 2, self.south + SQUARE_SIZE / 2)

    def wkt(self) -> str:
        w, s, e, n = self.bbox
        return f"POLYGON (({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"

    def intersects(self, box: BBox) -> bool:
        """True when ``box`` overlaps the square's inside (touching an edge is not enough)."""
        w, s, e, n = box
        return w < self.east and e > self.west and s < self.north and n > self.south


def square(name: str) -> GridSquare:
    """The square named by two letters ("TQ", "tq"); ConfigurationError if not a grid square."""
    text = (name or "").strip().upper()
    if len(text) != 2 or any(c not in LETTERS for c in text):
        raise ConfigurationError(
            f"{name!r} is not a 100 km square of the National Grid.",
            hint="Use two letters such as TQ or SU.",
        )
    first, second = LETTERS.index(text[0]), LETTERS.index(text[1])
    west = (first % 5 - 2) * 500000 + (second % 5) * SQUARE_SIZE
    south = (3 - first // 5) * 500000 + (4 - second // 5) * SQUARE_SIZE
    found = GridSquare(text, west, south)
    if not _inside_grid(found):
        raise ConfigurationError(
            f"{text} lies outside the National Grid (0-700 km east, 0-1300 km north)."
        )
    return found


def is_square_name(name: str) -> bool:
    try:
        square(name)
    except ConfigurationError:
        return False
    return True


def square_at(easting: float, northing: float) -> Optional[GridSquare]:
    """The square holding a point, or None outside the grid."""
    w, s, e, n = GRID_EXTENT
    if not (w <= easting < e and s <= northing < n):
        return None
    column, row = int(easting // SQUARE_SIZE), int(northing // SQUARE_SIZE)
    return _square_of_cell(column, row)


def all_squares() -> List[GridSquare]:
    """Every 100 km square of the grid's extent (91), west to east, south to north."""
    w, s, e, n = GRID_EXTENT
    return [
        _square_of_cell(column, row)
        for row in range(int(s // SQUARE_SIZE), int(n // SQUARE_SIZE))
        for column in range(int(w // SQUARE_SIZE), int(e // SQUARE_SIZE))
    ]


def squares_in_bbox(box: BBox, among: Optional[Iterable[str]] = None) -> List[GridSquare]:
    """The squares a box overlaps (EPSG:27700), optionally only those named in ``among``."""
    w, s, e, n = box
    if w > e or s > n:
        raise ConfigurationError(
            "The box's west/south must not be greater than its east/north.",
            hint="Give it as west,south,east,north in metres (EPSG:27700).",
        )
    wanted = {a.upper() for a in among} if among is not None else None
    return [
        sq for sq in all_squares() if sq.intersects(box) and (wanted is None or sq.name in wanted)
    ]


def parse_bbox(text: str) -> BBox:
    """ "E1,N1,E2,N2" (metres, EPSG:27700) -> (west, south, east, north)."""
    parts = [p.strip() for p in (text or "").split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise ConfigurationError(
            f"{text!r} is not a box.",
            hint="Give it as E1,N1,E2,N2: eastings and northings in metres (EPSG:27700).",
        )
    e1, n1, e2, n2 = numbers
    return (min(e1, e2), min(n1, n2), max(e1, e2), max(n1, n2))


def union_wkt(names: Sequence[str]) -> str:
    """The squares as one MULTIPOLYGON (EPSG:27700), each square once."""
    squares = sorted({square(n) for n in names}, key=lambda sq: sq.name)
    if not squares:
        raise ConfigurationError("No area was chosen.", hint="Choose at least one square.")
    parts = []
    for sq in squares:
        w, s_, e, n = sq.bbox
        parts.append(f"(({w} {s_}, {e} {s_}, {e} {n}, {w} {n}, {w} {s_}))")
    return "MULTIPOLYGON (" + ", ".join(parts) + ")"


def tile_areas(areas: Sequence[str]) -> List[str]:
    """The 100 km square names among a product's ``areas`` (drops GB, UK, NI...)."""
    return [a.upper() for a in areas if len(a) == 2 and is_square_name(a)]


def _square_of_cell(column: int, row: int) -> GridSquare:
    big_column, big_row_from_south = column // 5, row // 5
    first = LETTERS[(3 - big_row_from_south) * 5 + big_column + 2]
    second = LETTERS[(4 - row % 5) * 5 + column % 5]
    return GridSquare(first + second, column * SQUARE_SIZE, row * SQUARE_SIZE)


def _inside_grid(sq: GridSquare) -> bool:
    w, s, e, n = GRID_EXTENT
    return w <= sq.west < e and s <= sq.south < n
