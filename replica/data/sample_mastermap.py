"""A small OS MasterMap Topography world and the supplies OS would send of it.

The model is the source of truth: ``MastermapWorld`` holds every current
feature (TOID -> ``Feature``); ``full_supply`` and ``advance`` turn it into
chunked supplies as OS sends them (``advance`` also moves the world on by one
update). Nothing here reads a file back: the truth of a version is the
world's state, so tests compare a holding with what the generator decided, not
with what a parser made of it.

What a supply holds (change-only-updates.md §3):
- features repeated in every chunk their bounding box touches;
- in a COU: new features, changed features at a higher version (sometimes two
  higher: intermediate versions are not supplied), departures of held TOIDs,
  departures of TOIDs never held, copies at a lower version (the feature's
  earlier content) and copies at the held version with slightly moved
  geometry. A correct loader keeps the held feature for both kinds of copy.

Files: GML 2.1.2 as OS writes it (``osgb`` namespace, ``fid`` TOIDs,
``gml:coordinates``, ``osgb:BNG``), or GML 3.2 (``gml:id``, ``gml:posList``,
EPSG:27700 URNs) for chunks asked for in that encoding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape, quoteattr

Point = Tuple[float, float]
Ring = Tuple[Point, ...]

OSGB_NS = "http://www.ordnancesurvey.co.uk/xml/namespaces/osgb"
GML2_NS = "http://www.opengis.net/gml"
XLINK_NS = "http://www.w3.org/1999/xlink"
OSGB32_NS = "http://namespaces.os.uk/mastermap/topography/2.0"
GML32_NS = "http://www.opengis.net/gml/3.2"
SRS_URN = "urn:ogc:def:crs:EPSG::27700"

FEATURE_CLASSES = (
    "TopographicArea",
    "TopographicLine",
    "TopographicPoint",
    "CartographicText",
    "CartographicSymbol",
    "BoundaryLine",
)
_MEMBER = {
    "TopographicArea": "topographicMember",
    "TopographicLine": "topographicMember",
    "TopographicPoint": "topographicMember",
    "CartographicText": "cartographicMember",
    "CartographicSymbol": "cartographicMember",
    "BoundaryLine": "boundaryMember",
}


# --- the model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    """``kind`` is Polygon (``parts`` = rings, exterior first), LineString or Point (one part)."""

    kind: str
    parts: Tuple[Tuple[Point, ...], ...]

    def points(self) -> List[Point]:
        return [p for part in self.parts for p in part]

    def bbox(self) -> Tuple[float, float, float, float]:
        pts = self.points()
        return (
            min(p[0] for p in pts),
            min(p[1] for p in pts),
            max(p[0] for p in pts),
            max(p[1] for p in pts),
        )

    def moved(self, dx: float, dy: float) -> Geometry:
        return Geometry(
            self.kind,
            tuple(tuple((_r(x + dx), _r(y + dy)) for x, y in part) for part in self.parts),
        )

    def wkt(self) -> str:
        """The geometry as WKT with the coordinates the file carries (shortest form)."""

        def seq(part: Sequence[Point]) -> str:
            return ", ".join(f"{num(x)} {num(y)}" for x, y in part)

        if self.kind == "Point":
            x, y = self.parts[0][0]
            return f"POINT ({num(x)} {num(y)})"
        if self.kind == "LineString":
            return f"LINESTRING ({seq(self.parts[0])})"
        return "POLYGON (" + ", ".join(f"({seq(ring)})" for ring in self.parts) + ")"

    def area(self) -> float:
        if self.kind != "Polygon":
            return 0.0
        outer, *holes = self.parts
        return round(_ring_area(outer) - sum(_ring_area(h) for h in holes), 6)


def _ring_area(ring: Sequence[Point]) -> float:
    """Shoelace about the ring's first point (keeps the sum exact for BNG coordinates)."""
    x0, y0 = ring[0]
    pts = [(x - x0, y - y0) for x, y in ring]
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:]))) / 2


def _r(value: float) -> float:
    """Coordinates are kept to the centimetre, as the truth and the files give them."""
    return round(value, 2)


def num(value: float) -> str:
    """A number in its shortest exact form: 292000, 292107.55."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Feature:
    """One MasterMap feature at one version. ``attributes`` use the holding's column names."""

    feature_class: str
    toid: str
    version: int
    version_date: str
    attributes: Dict[str, Any]
    geometry: Geometry

    def truth(self) -> Dict[str, Any]:
        return {
            "version": self.version,
            "version_date": self.version_date,
            "attributes": self.attributes,
            "geometry": self.geometry.wkt(),
        }


@dataclass(frozen=True)
class Departure:
    """A ``DepartedFeature``: the TOID, its bounding box, theme(s), date and reason."""

    toid: str
    bbox: Tuple[float, float, float, float]
    theme: Tuple[str, ...]
    deletion_date: str
    reason: str = "Deleted"


@dataclass
class Chunk:
    """One ``<order>-<tile>.gz`` file: the features and departures whose boxes touch the tile."""

    tile: str
    extent: Tuple[float, float, float, float]
    features: List[Feature] = field(default_factory=list)
    departures: List[Departure] = field(default_factory=list)
    encoding: str = "gml2"  # or "gml32"


@dataclass
class Supply:
    """What one package version holds: chunks in file order."""

    full: bool
    date: str
    chunks: List[Chunk]

    def feature_count(self) -> int:
        return len({f.toid for c in self.chunks for f in c.features})


# Feature kinds: feature code, theme(s), descriptive group(s), descriptive term(s), make,
# physical presence. Codes and words are OS's; which combination a sample uses is ours.
_KINDS: Dict[str, Tuple[int, Tuple[str, ...], Tuple[str, ...], Tuple[str, ...], str, str]] = {
    "building": (10021, ("Buildings",), ("Building",), (), "Manmade", ""),
    "garden": (10053, ("Land",), ("General Surface",), (), "Natural", ""),
    "pavement": (10183, ("Roads Tracks And Paths",), ("Roadside",), (), "Manmade", ""),
    "road": (10172, ("Roads Tracks And Paths",), ("Road Or Track",), (), "Manmade", ""),
    "trees": (
        10111,
        ("Land",),
        ("Natural Environment",),
        ("Nonconiferous Trees", "Scrub"),
        "Natural",
        "",
    ),
    "water": (10089, ("Water",), ("Inland Water",), (), "Natural", ""),
    "glasshouse": (
        10025,
        ("Buildings", "Land"),
        ("Glasshouse", "General Surface"),
        (),
        "Manmade",
        "",
    ),
    "outline": (10019, ("Buildings",), ("Building",), ("Outline",), "Manmade", "Obstructing"),
    "kerb": (10179, ("Roads Tracks And Paths",), ("Road Or Track",), (), "Manmade", "Edge / Limit"),
    "fence": (10046, ("Land",), ("General Feature",), (), "Manmade", "Obstructing"),
    "spot": (10130, ("Terrain And Height",), ("Terrain And Height",), ("Spot Height",), "", ""),
    "tree": (10100, ("Land",), ("Natural Environment",), ("Nonconiferous Trees",), "Natural", ""),
    "number": (10026, ("Buildings",), ("Buildings Or Structure",), (), "", ""),
    "streetname": (10175, ("Roads Tracks And Paths",), ("Road Or Track",), (), "", ""),
    "culvert": (10091, ("Water",), ("Inland Water",), ("Culvert",), "", ""),
    "boundary": (
        10136,
        ("Administrative Boundaries",),
        ("Political Or Administrative",),
        ("Civil Parish", "Electoral"),
        "",
        "",
    ),
}
# The attributes each class has beyond the common ones (None until set).
_CLASS_ATTRIBUTES: Dict[str, Tuple[str, ...]] = {
    "TopographicArea": ("calculated_area_value",),
    "TopographicLine": (),
    "TopographicPoint": ("height_above_datum",),
    "CartographicText": ("text_string", "anchor_position", "font", "height", "orientation"),
    "CartographicSymbol": ("orientation", "reference_to_feature"),
    "BoundaryLine": (),
}
_STREETS = (
    "Sidwell Street",
    "St David's Hill",
    "Bonhay Road & Quay",  # an ampersand to escape in the GML
    "Longbrook Street",
    "Pennsylvania Road",
    "Howell Road",
    "Blackboy Road",
    "Polsloe Road",
    "Magdalen Road",
    "Heavitree Road",
    "Topsham Road",
    "Cowick Street",
    "Alphington Road",
    "Okehampton Street",
)


def grid_square(east: float, north: float) -> str:
    """The OS grid reference of the 1 km square at ``(east, north)``, e.g. SX9090."""
    e100, n100 = int(east // 100000), int(north // 100000)
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = (19 - n100) * 5 % 25 + e100 % 5
    letters = "".join(chr(65 + c + (1 if c > 7 else 0)) for c in (first, second))  # no I
    return f"{letters}{int(east % 100000) // 1000:02d}{int(north % 100000) // 1000:02d}"


@dataclass(frozen=True)
class MastermapSpec:
    """The size of a world: ``chunks_across``² chunks of ``chunk_size`` m, streets per chunk."""

    seed: str = "exeter"
    west: float = 290000.0
    south: float = 90000.0
    chunk_size: float = 1000.0
    chunks_across: int = 2
    streets_per_chunk: int = 2
    houses_per_street: int = 6


class MastermapWorld:
    """Every current feature; ``advance`` makes the next change-only update."""

    def __init__(self, spec: MastermapSpec) -> None:
        self.spec = spec
        self.rng = random.Random(f"mastermap:{spec.seed}")
        self.current: Dict[str, Feature] = {}
        self.history: Dict[str, List[Feature]] = {}  # earlier versions, oldest first
        self._next_number = 1000
        self._street_names = 0
        self.date = ""
        across = spec.chunks_across
        self.tiles = [
            (
                grid_square(spec.west + i * spec.chunk_size, spec.south + j * spec.chunk_size),
                (
                    spec.west + i * spec.chunk_size,
                    spec.south + j * spec.chunk_size,
                    spec.west + (i + 1) * spec.chunk_size,
                    spec.south + (j + 1) * spec.chunk_size,
                ),
            )
            for j in range(across)
            for i in range(across)
        ]

    # --- identifiers and features ---------------------------------------------------

    def new_toid(self, boundary: bool = False) -> str:
        """``osgb`` + 16 digits, never reused."""
        self._next_number += self.rng.randint(1, 9)
        return f"osgb{5000 if boundary else 1000}{self._next_number:012d}"

    def _feature(
        self, feature_class: str, kind: str, geometry: Geometry, extra: Optional[Dict] = None
    ) -> Feature:
        code, theme, group, term, make, presence = _KINDS[kind]
        attributes: Dict[str, Any] = {
            "feature_code": code,
            "theme": list(theme),
            "descriptive_group": list(group),
            "descriptive_term": list(term),
            "make": make or None,
            "physical_level": 50,
            "physical_presence": presence or None,
            "change_history": [{"change_date": self.date, "reason_for_change": "New"}],
        }
        attributes.update(dict.fromkeys(_CLASS_ATTRIBUTES[feature_class]))
        if feature_class == "TopographicArea":
            attributes["calculated_area_value"] = geometry.area()
        attributes.update(extra or {})
        return Feature(
            feature_class,
            self.new_toid(boundary=feature_class == "BoundaryLine"),
            1,
            self.date,
            attributes,
            geometry,
        )

    def _add(self, feature: Feature) -> None:
        self.current[feature.toid] = feature

    # --- building the world -----------------------------------------------------------

    def _street(self, x0: float, y0: float) -> List[Feature]:
        """A street: road, pavement, kerbs, its name, and houses with gardens along it."""
        spec, rng = self.spec, self.rng
        name = _STREETS[self._street_names % len(_STREETS)]
        self._street_names += 1
        plot_w = rng.choice((18.0, 20.0, 24.0))
        length = plot_w * spec.houses_per_street
        made: List[Feature] = []
        road = _rect(x0, y0, length, 7.0)
        made.append(self._feature("TopographicArea", "road", Geometry("Polygon", (road,))))
        pave = _rect(x0, y0 + 7.0, length, 2.0)
        made.append(self._feature("TopographicArea", "pavement", Geometry("Polygon", (pave,))))
        for y in (y0, y0 + 7.0):
            line = ((_r(x0), _r(y)), (_r(x0 + length), _r(y)))
            made.append(self._feature("TopographicLine", "kerb", Geometry("LineString", (line,))))
        made.append(
            self._feature(
                "CartographicText",
                "streetname",
                Geometry("Point", (((_r(x0 + length / 2), _r(y0 + 3.5)),),)),
                _text(name.upper(), 4, 2, 3.0, 0),
            )
        )
        for house in range(spec.houses_per_street):
            px = x0 + house * plot_w
            py = y0 + 9.0
            depth = rng.choice((26.0, 30.0, 34.0))
            bw, bh = plot_w - rng.choice((4.0, 6.0)), rng.choice((8.0, 9.5, 11.0))
            bx, by = px + (plot_w - bw) / 2, py + 3.0
            building = _rect(bx, by, bw, bh)
            made.append(
                self._feature("TopographicArea", "building", Geometry("Polygon", (building,)))
            )
            plot = _rect(px, py, plot_w, depth)
            # The garden surrounds the house: the house is a hole in it, as in OSMM.
            kind = "glasshouse" if rng.random() < 0.05 else "garden"
            made.append(
                self._feature("TopographicArea", kind, Geometry("Polygon", (plot, building[::-1])))
            )
            made.append(
                self._feature("TopographicLine", "outline", Geometry("LineString", (building,)))
            )
            back = ((_r(px), _r(py + depth)), (_r(px + plot_w), _r(py + depth)))
            made.append(self._feature("TopographicLine", "fence", Geometry("LineString", (back,))))
            made.append(
                self._feature(
                    "CartographicText",
                    "number",
                    Geometry("Point", (((_r(bx + bw / 2), _r(by + bh / 2)),),)),
                    _text(str(2 * house + 1), rng.randint(0, 8), 2, 1.5, rng.randint(0, 3599)),
                )
            )
            if rng.random() < 0.3:
                tree = ((_r(px + rng.uniform(2, plot_w - 2)), _r(py + depth - 4)),)
                made.append(self._feature("TopographicPoint", "tree", Geometry("Point", (tree,))))
        if rng.random() < 0.5:
            spot = ((_r(x0 + length + 3.0), _r(y0 + 3.0)),)
            made.append(
                self._feature(
                    "TopographicPoint",
                    "spot",
                    Geometry("Point", (spot,)),
                    {"height_above_datum": round(rng.uniform(5, 60), 1)},
                )
            )
        if rng.random() < 0.4:
            water = _rect(x0 + length + 6.0, y0 + 12.0, 14.0, 9.0)
            pond = self._feature("TopographicArea", "water", Geometry("Polygon", (water,)))
            made.append(pond)
            made.append(
                self._feature(
                    "CartographicSymbol",
                    "culvert",
                    Geometry("Point", (((_r(x0 + length + 13.0), _r(y0 + 16.5)),),)),
                    {"orientation": rng.randint(0, 3599), "reference_to_feature": pond.toid},
                )
            )
        if rng.random() < 0.3:
            copse = _rect(x0, y0 + 48.0, length / 2, 12.0)
            made.append(self._feature("TopographicArea", "trees", Geometry("Polygon", (copse,))))
        return made

    def _street_site(self) -> Tuple[float, float]:
        spec = self.spec
        span = spec.chunk_size * spec.chunks_across
        # Streets start anywhere, so some run over a chunk edge and go in two chunks.
        x = spec.west + self.rng.uniform(0, span - 200)
        y = spec.south + self.rng.uniform(0, span - 80)
        return x, y

    def _edge_site(self) -> Tuple[float, float]:
        spec = self.spec
        if spec.chunks_across < 2:
            return self._street_site()
        edge = spec.west + self.rng.randint(1, spec.chunks_across - 1) * spec.chunk_size
        north = spec.south + self.rng.uniform(0.1, spec.chunks_across - 0.2) * spec.chunk_size
        return edge - 50.0, north

    def build_initial(self, date: str) -> None:
        self.date = date
        spec = self.spec
        for _ in range(spec.streets_per_chunk * spec.chunks_across**2):
            for feature in self._street(*self._street_site()):
                self._add(feature)
        for i in range(1, spec.chunks_across):
            # A street across each chunk edge: its features are in both chunks.
            edge = spec.west + i * spec.chunk_size
            for j in range(spec.chunks_across):
                north = spec.south + (j + 0.4) * spec.chunk_size
                for feature in self._street(edge - 50.0, north):
                    self._add(feature)
        for toid, feature in list(self.current.items()):
            # A full supply's features have histories: versions 1 to 5, dated in the past.
            version = self.rng.choice((1, 1, 2, 3, 5))
            if version > 1:
                year = self.rng.randint(2008, 2025)
                when = f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
                self.current[toid] = replace(feature, version=version, version_date=when)
        span = spec.chunk_size * spec.chunks_across
        for k in range(max(1, spec.chunks_across)):
            # Parish boundaries cross the whole area: every chunk on the way holds them.
            y = spec.south + span * (k + 0.5) / max(1, spec.chunks_across) + 7.3
            line = tuple(
                (_r(spec.west + span * i / 8), _r(y + (10 if i % 2 else -10))) for i in range(9)
            )
            self._add(self._feature("BoundaryLine", "boundary", Geometry("LineString", (line,))))

    # --- supplies -------------------------------------------------------------------

    def _chunks(self, encodings: Dict[str, str]) -> List[Chunk]:
        return [
            Chunk(tile, extent, encoding=encodings.get(tile, "gml2")) for tile, extent in self.tiles
        ]

    def _place(self, chunks: List[Chunk], bbox: Tuple[float, float, float, float]) -> List[Chunk]:
        touching = [c for c in chunks if _touches(c.extent, bbox)]
        return touching or [chunks[0]]

    def full_supply(self, encodings: Optional[Dict[str, str]] = None) -> Supply:
        chunks = self._chunks(encodings or {})
        for feature in self.current.values():
            for chunk in self._place(chunks, feature.geometry.bbox()):
                chunk.features.append(feature)
        return Supply(True, self.date, chunks)

    def advance(self, date: str, rate: float = 0.04) -> Supply:
        """Change the world as one update would and return the change-only supply for it."""
        self.date = date
        rng = self.rng
        chunks = self._chunks({})
        held = sorted(self.current)
        # About ``rate`` of the features touched: 60 % of that changed, 30 % departed, and
        # new streets making up the rest.
        count = max(4, int(len(held) * rate * 0.6))
        chosen = rng.sample(held, min(len(held), count * 2 + 12))
        modified, departed = chosen[:count], chosen[count : count + count // 2 + 2]
        spare = chosen[count + count // 2 + 2 :]
        supplied: List[Tuple[Feature, Optional[Chunk]]] = []
        for toid in modified:
            old = self.current[toid]
            new = self._modified(old)
            self.history.setdefault(toid, []).append(old)
            self.current[toid] = new
            supplied.append((new, None))
        for toid in departed:
            old = self.current.pop(toid)
            self.history.setdefault(toid, []).append(old)
            gone = Departure(toid, old.geometry.bbox(), tuple(old.attributes["theme"]), date)
            for chunk in self._place(chunks, gone.bbox):
                chunk.departures.append(gone)
        new_streets = max(1, int(len(held) * rate * 0.3 / 37))  # ~37 features a street
        for number in range(new_streets):
            # The first new street runs over a chunk edge: it is in two chunks.
            site = self._edge_site() if number == 0 else self._street_site()
            for feature in self._street(*site):
                self._add(feature)
                supplied.append((feature, None))
        # Departures of TOIDs this holding never had (created and removed between updates).
        for _ in range(3):
            toid = self.new_toid()
            x, y = self._street_site()
            ghost = Departure(toid, (_r(x), _r(y), _r(x + 10), _r(y + 8)), ("Buildings",), date)
            rng.choice(chunks).departures.append(ghost)
        # Stale copies, which a holding must ignore: an earlier version of a feature
        # (its content before the held version), and a copy at the held version whose
        # geometry moved by half a metre.
        older = [t for t in spare if t in self.current and self.current[t].version > 1][:3]
        for toid in older:
            supplied.append((self._earlier(toid), rng.choice(chunks)))
        for toid in [t for t in spare if t in self.current and t not in older][:3]:
            if toid in self.current:
                held_feature = self.current[toid]
                copy = replace(held_feature, geometry=held_feature.geometry.moved(0.5, -0.5))
                supplied.append((copy, rng.choice(chunks)))
        for feature, only in supplied:
            targets = [only] if only is not None else self._place(chunks, feature.geometry.bbox())
            for chunk in targets:
                chunk.features.append(feature)
        for chunk in chunks:
            rng.shuffle(chunk.features)
        return Supply(False, date, chunks)

    def _earlier(self, toid: str) -> Feature:
        """The feature as it was before its held version (from history, or made up)."""
        held = self.current[toid]
        older = [f for f in self.history.get(toid, []) if f.version < held.version]
        if older:
            return older[-1]
        return replace(
            held,
            version=held.version - 1,
            version_date="2019-03-14",
            geometry=held.geometry.moved(-0.75, 0.25),
        )

    def _modified(self, old: Feature) -> Feature:
        rng = self.rng
        step = rng.choice((1, 1, 2))  # intermediate versions are not supplied
        attributes = dict(old.attributes)
        attributes["change_history"] = list(old.attributes["change_history"]) + [
            {"change_date": self.date, "reason_for_change": "Modified"}
        ]
        geometry = old.geometry
        choice = rng.random()
        if old.feature_class == "CartographicText" and choice < 0.5:
            attributes["text_string"] = attributes["text_string"] + "A"
        elif old.feature_class in ("TopographicArea", "TopographicLine") and choice < 0.3:
            attributes["descriptive_term"] = list(attributes["descriptive_term"]) + [
                "Multi Surface"
            ]
        else:
            geometry = geometry.moved(rng.choice((-1.25, 0.75, 2.0)), rng.choice((-0.5, 1.5)))
        if old.feature_class == "TopographicArea":
            attributes["calculated_area_value"] = geometry.area()
        return replace(
            old,
            version=old.version + step,
            version_date=self.date,
            attributes=attributes,
            geometry=geometry,
        )


def _rect(x: float, y: float, w: float, h: float) -> Ring:
    """A closed ring, anticlockwise: (x, y) south-west corner, w wide and h tall."""
    pts = ((x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y))
    return tuple((_r(a), _r(b)) for a, b in pts)


def _text(text: str, anchor: int, font: int, height: float, orientation: int) -> Dict[str, Any]:
    return {
        "text_string": text,
        "anchor_position": anchor,
        "font": font,
        "height": height,
        "orientation": orientation,
    }


def _touches(extent: Tuple[float, ...], bbox: Tuple[float, ...]) -> bool:
    return not (
        bbox[2] < extent[0] or bbox[0] >= extent[2] or bbox[3] < extent[1] or bbox[1] >= extent[3]
    )


# --- GML 2.1.2 (OS's COU and full-supply encoding) ------------------------------------------


def _coords2(part: Sequence[Point]) -> str:
    return " ".join(f"{x:.3f},{y:.3f}" for x, y in part)


def _geometry2(geometry: Geometry) -> str:
    srs = "srsName='osgb:BNG'"
    if geometry.kind == "Point":
        coordinates = _coords2(geometry.parts[0])
        return f"<gml:Point {srs}><gml:coordinates>{coordinates}</gml:coordinates></gml:Point>"
    if geometry.kind == "LineString":
        return (
            f"<gml:LineString {srs}><gml:coordinates>{_coords2(geometry.parts[0])}"
            "</gml:coordinates></gml:LineString>"
        )
    outer, *holes = geometry.parts
    inner = "".join(
        f"<gml:innerBoundaryIs><gml:LinearRing><gml:coordinates>{_coords2(h)}"
        "</gml:coordinates></gml:LinearRing></gml:innerBoundaryIs>"
        for h in holes
    )
    return (
        f"<gml:Polygon {srs}><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates>"
        f"{_coords2(outer)}</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs>{inner}"
        "</gml:Polygon>"
    )


def _geometry32(geometry: Geometry, gml_id: str) -> str:
    srs = f'srsName="{SRS_URN}"'

    def pos(part: Sequence[Point]) -> str:
        return " ".join(f"{x:.3f} {y:.3f}" for x, y in part)

    if geometry.kind == "Point":
        point = pos(geometry.parts[0])
        return f'<gml:Point gml:id="{gml_id}" {srs}><gml:pos>{point}</gml:pos></gml:Point>'
    if geometry.kind == "LineString":
        return (
            f'<gml:LineString gml:id="{gml_id}" {srs}><gml:posList srsDimension="2">'
            f"{pos(geometry.parts[0])}</gml:posList></gml:LineString>"
        )
    outer, *holes = geometry.parts
    inner = "".join(
        f'<gml:interior><gml:LinearRing><gml:posList srsDimension="2">{pos(h)}'
        "</gml:posList></gml:LinearRing></gml:interior>"
        for h in holes
    )
    return (
        f'<gml:Polygon gml:id="{gml_id}" {srs}><gml:exterior><gml:LinearRing>'
        f'<gml:posList srsDimension="2">{pos(outer)}</gml:posList></gml:LinearRing>'
        f"</gml:exterior>{inner}</gml:Polygon>"
    )


def _element(name: str, value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6f}" if name == "calculatedAreaValue" else num(value)
    else:
        text = escape(str(value))
    return f"<osgb:{name}>{text}</osgb:{name}>"


def _many(name: str, values: Iterable[Any]) -> str:
    return "".join(_element(name, v) for v in values)


def _properties(feature: Feature) -> List[str]:
    """The feature's elements in the order of OS's schema, geometry last."""
    a = feature.attributes
    cls = feature.feature_class
    parts = [
        _element("featureCode", a["feature_code"]),
        _element("version", feature.version),
        _element("versionDate", feature.version_date),
        _many("theme", a["theme"]),
    ]
    if cls == "TopographicArea":
        parts.append(_element("calculatedAreaValue", a["calculated_area_value"]))
    for change in a["change_history"]:
        parts.append(
            "<osgb:changeHistory>"
            + _element("changeDate", change["change_date"])
            + _element("reasonForChange", change["reason_for_change"])
            + "</osgb:changeHistory>"
        )
    parts += [_many("descriptiveGroup", a["descriptive_group"])]
    parts += [_many("descriptiveTerm", a["descriptive_term"])]
    if cls == "TopographicPoint" and a.get("height_above_datum") is not None:
        parts.append(
            "<osgb:heightAboveDatum>"
            + _element("heightAboveDatum", a["height_above_datum"])
            + "<osgb:accuracyOfHeightAboveDatum>1.0m</osgb:accuracyOfHeightAboveDatum>"
            "</osgb:heightAboveDatum>"
        )
    if cls == "CartographicSymbol":
        parts.append(_element("orientation", a["orientation"]))
    if a.get("make"):
        parts.append(_element("make", a["make"]))
    parts.append(_element("physicalLevel", a["physical_level"]))
    if a.get("physical_presence"):
        parts.append(_element("physicalPresence", a["physical_presence"]))
    if cls == "CartographicSymbol":
        parts.append(f"<osgb:referenceToFeature xlink:href='#{a['reference_to_feature']}'/>")
    return parts


def _text_rendering(feature: Feature) -> str:
    a = feature.attributes
    return (
        "<osgb:textRendering>"
        + _element("anchorPosition", a["anchor_position"])
        + _element("font", a["font"])
        + _element("height", a["height"])
        + _element("orientation", a["orientation"])
        + "</osgb:textRendering>"
        + _element("textString", a["text_string"])
    )


_GEOMETRY_ELEMENT = {
    "TopographicArea": "polygon",
    "TopographicLine": "polyline",
    "TopographicPoint": "point",
    "CartographicText": "anchorPoint",
    "CartographicSymbol": "point",
    "BoundaryLine": "polyline",
}


def _feature_gml2(feature: Feature) -> str:
    cls = feature.feature_class
    body = "".join(_properties(feature))
    name = _GEOMETRY_ELEMENT[cls]
    geom = f"<osgb:{name}>{_geometry2(feature.geometry)}</osgb:{name}>"
    if cls == "CartographicText":
        geom += _text_rendering(feature)
    return (
        f"<osgb:{_MEMBER[cls]}><osgb:{cls} fid={quoteattr(feature.toid)}>{body}{geom}"
        f"</osgb:{cls}></osgb:{_MEMBER[cls]}>"
    )


def _departure_gml2(gone: Departure) -> str:
    x0, y0, x1, y1 = gone.bbox
    return (
        f"<osgb:departedMember><osgb:DepartedFeature fid={quoteattr(gone.toid)}>"
        f"<osgb:boundedBy><gml:Box srsName='osgb:BNG'><gml:coordinates>{x0:.3f},{y0:.3f} "
        f"{x1:.3f},{y1:.3f}</gml:coordinates></gml:Box></osgb:boundedBy>"
        + _many("theme", gone.theme)
        + _element("reasonForDeparture", gone.reason)
        + _element("deletionDate", gone.deletion_date)
        + "</osgb:DepartedFeature></osgb:departedMember>"
    )


def chunk_gml2(chunk: Chunk, collection_id: str, query_time: str) -> bytes:
    """A chunk as OS supplies it: GML 2.1.2, ``osgb:FeatureCollection`` with ``fid``s."""
    x0, y0, x1, y1 = chunk.extent
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<osgb:FeatureCollection xmlns:osgb='{OSGB_NS}' xmlns:gml='{GML2_NS}' "
        f"xmlns:xlink='{XLINK_NS}' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
        f"xsi:schemaLocation='{OSGB_NS} http://www.ordnancesurvey.co.uk/xml/schema/v7/"
        f"OSDNFFeatures.xsd' fid={quoteattr(collection_id)}>\n"
        "<gml:description>Ordnance Survey, (c) Crown Copyright. All rights reserved, "
        f"{query_time[:10]}</gml:description>\n"
        "<gml:boundedBy><gml:null>unknown</gml:null></gml:boundedBy>\n"
        f"<osgb:queryTime>{query_time}</osgb:queryTime>\n"
        "<osgb:queryExtent><osgb:Rectangle srsName='osgb:BNG'><gml:coordinates>"
        f"{x0:.3f},{y0:.3f} {x1:.3f},{y1:.3f}</gml:coordinates></osgb:Rectangle>"
        "</osgb:queryExtent>\n"
    )
    lines = [head]
    lines += [_feature_gml2(f) + "\n" for f in chunk.features]
    lines += [_departure_gml2(d) + "\n" for d in chunk.departures]
    lines.append("</osgb:FeatureCollection>\n")
    return "".join(lines).encode("utf-8")


# --- GML 3.2 (the newer encoding; read by the holding too) -----------------------------------


def _feature_gml32(feature: Feature) -> str:
    cls = feature.feature_class
    body = "".join(_properties(feature))
    geom_name = _GEOMETRY_ELEMENT[cls]
    geom = (
        f"<osgb:{geom_name}>{_geometry32(feature.geometry, feature.toid + '_g')}</osgb:{geom_name}>"
    )
    if cls == "CartographicText":
        geom += _text_rendering(feature)
    return (
        f'<gml:featureMember><osgb:{cls} gml:id="{feature.toid}">{body}{geom}'
        f"</osgb:{cls}></gml:featureMember>"
    )


def _departure_gml32(gone: Departure) -> str:
    x0, y0, x1, y1 = gone.bbox
    return (
        f'<gml:featureMember><osgb:DepartedFeature gml:id="{gone.toid}">'
        f'<gml:boundedBy><gml:Envelope srsName="{SRS_URN}"><gml:lowerCorner>{x0:.3f} {y0:.3f}'
        f"</gml:lowerCorner><gml:upperCorner>{x1:.3f} {y1:.3f}</gml:upperCorner></gml:Envelope>"
        "</gml:boundedBy>"
        + _many("theme", gone.theme)
        + _element("reasonForDeparture", gone.reason)
        + _element("deletionDate", gone.deletion_date)
        + "</osgb:DepartedFeature></gml:featureMember>"
    )


def chunk_gml32(chunk: Chunk, collection_id: str, query_time: str) -> bytes:
    """The same chunk in GML 3.2: ``gml:id``s, ``gml:posList``, EPSG:27700 URNs."""
    x0, y0, x1, y1 = chunk.extent
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<osgb:FeatureCollection xmlns:osgb="{OSGB32_NS}" xmlns:gml="{GML32_NS}" '
        f'xmlns:xlink="{XLINK_NS}" gml:id="{collection_id}">\n'
        f'<gml:boundedBy><gml:Envelope srsName="{SRS_URN}"><gml:lowerCorner>{x0:.3f} {y0:.3f}'
        f"</gml:lowerCorner><gml:upperCorner>{x1:.3f} {y1:.3f}</gml:upperCorner></gml:Envelope>"
        "</gml:boundedBy>\n"
        f"<osgb:queryTime>{query_time}</osgb:queryTime>\n"
    ]
    lines += [_feature_gml32(f) + "\n" for f in chunk.features]
    lines += [_departure_gml32(d) + "\n" for d in chunk.departures]
    lines.append("</osgb:FeatureCollection>\n")
    return "".join(lines).encode("utf-8")


def chunk_bytes(chunk: Chunk, collection_id: str, query_time: str) -> bytes:
    writer = chunk_gml32 if chunk.encoding == "gml32" else chunk_gml2
    return writer(chunk, collection_id, query_time)
