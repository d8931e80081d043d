"""OS MasterMap Topography Layer GML, read as a stream: one feature at a time.

Reads GML 2.1.2 as OS supplies COU (``fid`` TOIDs, ``gml:coordinates``,
``outerBoundaryIs``) and GML 3.2 (``gml:id``, ``gml:posList``/``gml:pos``,
``exterior``, ``Surface``/``Curve`` patches), plain or gzipped (chunks are
``<order>-<tile>.gz``). ``xml.etree.ElementTree.iterparse`` with every
finished member cleared from the tree, so memory stays flat whatever the
chunk's size.

Attributes become snake_case columns (``descriptiveGroup`` ->
``descriptive_group``); nested properties are flattened (``changeHistory`` ->
``change_date`` and ``reason_for_change``, ``textRendering`` -> ``font``,
``height``...); a property that occurs more than once, or is one of
``MULTI_VALUED``, is a list (stored joined with ``MULTI_SEPARATOR``).
Geometries are 2D (a third coordinate is dropped).
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

from .errors import BadSupplyError
from .gpkg import Geometry

FEATURE_CLASSES = (
    "TopographicArea",
    "TopographicLine",
    "TopographicPoint",
    "CartographicText",
    "CartographicSymbol",
    "BoundaryLine",
)
_FEATURES = frozenset(FEATURE_CLASSES)
DEPARTED = "DepartedFeature"
MULTI_VALUED = frozenset(
    {"theme", "descriptive_group", "descriptive_term", "change_date", "reason_for_change"}
)
MULTI_SEPARATOR = ", "
# Nested properties whose children are attributes of the feature itself.
_GEOMETRY_TAGS = frozenset(
    {
        "Point",
        "LineString",
        "Polygon",
        "Surface",
        "Curve",
        "MultiPolygon",
        "MultiSurface",
        "MultiLineString",
        "MultiCurve",
        "MultiPoint",
        "LinearRing",
        "Box",
        "Envelope",
    }
)
_SKIP = frozenset({"boundedBy"})  # a feature's envelope, not an attribute
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass
class TopoFeature:
    feature_class: str
    toid: str
    version: int
    properties: Dict[str, Union[str, List[str]]]
    geometry: Optional[Geometry]


@dataclass
class Departure:
    toid: str
    properties: Dict[str, Union[str, List[str]]]


_SNAKE: Dict[str, str] = {}
_LOCAL: Dict[str, str] = {}


def snake(name: str) -> str:
    """``descriptiveGroup`` -> ``descriptive_group``."""
    found = _SNAKE.get(name)
    if found is None:
        found = _SNAKE[name] = _CAMEL.sub("_", name).lower()
    return found


def local(tag: str) -> str:
    """The tag without its namespace (cached: a chunk has few distinct tags)."""
    found = _LOCAL.get(tag)
    if found is None:
        found = _LOCAL[tag] = tag.rpartition("}")[2]
    return found


def open_chunk(path: Path) -> IO[bytes]:
    """A chunk's bytes, gunzipped when it is gzip (by content, whatever its name)."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def is_gml(path: Path) -> bool:
    """True when the file (gzipped or not) starts like XML."""
    try:
        with open_chunk(path) as stream:
            head = stream.read(512).lstrip()
    except (OSError, EOFError):
        return False
    return head.startswith(b"<")


def read_chunk(path: Path) -> Iterator[Union[TopoFeature, Departure]]:
    """Every feature and departure of one chunk, in file order."""
    try:
        with open_chunk(path) as stream:
            yield from _read(stream, path)
    except ET.ParseError as err:
        raise BadSupplyError(f"{path.name} is not valid GML: {err}.") from None
    except (OSError, EOFError) as err:  # a truncated gzip stream
        raise BadSupplyError(f"{path.name} cannot be read to its end: {err}.") from None


def _read(stream: IO[bytes], path: Path) -> Iterator[Union[TopoFeature, Departure]]:
    root: Optional[ET.Element] = None
    for event, elem in ET.iterparse(stream, events=("start", "end")):
        if event == "start":
            if root is None:
                root = elem
            continue
        name = local(elem.tag)
        if name in _FEATURES:
            yield _feature(elem, name, path)
        elif name == DEPARTED:
            yield _departure(elem, path)
        else:
            continue
        # Done with this member: nothing of it stays in memory (the parser keeps its
        # own reference to the still-open member element, so clearing the root is safe).
        elem.clear()
        if root is not None:
            root.clear()


def _toid(elem: ET.Element, path: Path) -> str:
    for key, value in elem.attrib.items():
        if local(key) in ("fid", "id"):
            return value.strip()
    raise BadSupplyError(f"{path.name}: a {local(elem.tag)} has no TOID (fid or gml:id).")


def _properties(elem: ET.Element) -> Tuple[Dict[str, Any], Optional[Geometry]]:
    values: Dict[str, Any] = {}
    geometry: Optional[Geometry] = None

    def put(name: str, value: str) -> None:
        if name in values:
            held = values[name]
            values[name] = (held if isinstance(held, list) else [held]) + [value]
        else:
            values[name] = [value] if name in MULTI_VALUED else value

    for child in elem:
        name = local(child.tag)
        if name in _SKIP:
            continue
        grandchildren = list(child)
        if not grandchildren:
            href = child.get(_XLINK_HREF)
            text = href.lstrip("#") if href is not None else (child.text or "").strip()
            put(snake(name), text)
        elif local(grandchildren[0].tag) in _GEOMETRY_TAGS:
            if geometry is None:
                geometry = parse_geometry(grandchildren[0])
        else:  # changeHistory, textRendering, heightAboveDatum: flatten one level
            for inner in grandchildren:
                if len(inner):
                    continue
                put(snake(local(inner.tag)), (inner.text or "").strip())
    return values, geometry


def _feature(elem: ET.Element, name: str, path: Path) -> TopoFeature:
    toid = _toid(elem, path)
    values, geometry = _properties(elem)
    raw = values.get("version")
    try:
        version = int(str(raw).strip())
    except (TypeError, ValueError):
        raise BadSupplyError(
            f"{path.name}: {name} {toid} has no whole-number version ({raw!r})."
        ) from None
    return TopoFeature(name, toid, version, values, geometry)


def _departure(elem: ET.Element, path: Path) -> Departure:
    values, _ = _properties(elem)
    return Departure(_toid(elem, path), values)


# --- geometry ------------------------------------------------------------------------


def parse_geometry(elem: ET.Element) -> Optional[Geometry]:
    """A GML 2/3 geometry element as ("Point"|"LineString"|"Polygon", coordinates)."""
    name = local(elem.tag)
    if name == "Point":
        points = _coordinates_in(elem)
        return ("Point", points[0]) if points else None
    if name in ("LineString", "Curve"):
        points = _coordinates_in(elem)
        return ("LineString", points) if points else None
    if name in ("Polygon", "Surface", "PolygonPatch"):
        rings: List[List[Tuple[float, float]]] = []
        for ring_holder in elem.iter():
            tag = local(ring_holder.tag)
            if tag in ("outerBoundaryIs", "exterior"):
                rings.insert(0, _coordinates_in(ring_holder))
            elif tag in ("innerBoundaryIs", "interior"):
                rings.append(_coordinates_in(ring_holder))
        rings = [r for r in rings if r]
        return ("Polygon", rings) if rings else None
    if name.startswith("Multi"):
        for child in elem.iter():
            if child is not elem and local(child.tag) in ("Point", "LineString", "Polygon"):
                return parse_geometry(child)  # OS topography members are single parts
    return None


def _coordinates_in(elem: ET.Element) -> List[Tuple[float, float]]:
    points: List[Tuple[float, float]] = []
    for node in elem.iter():
        tag = local(node.tag)
        if tag == "coordinates":
            points += _gml2_coordinates(node)
        elif tag == "posList":
            points += _pos_list(node.text or "", _dimension(node))
        elif tag == "pos":
            points += _pos_list(node.text or "", _dimension(node))[:1]
    return points


def _dimension(node: ET.Element) -> int:
    try:
        return int(node.get("srsDimension") or node.get("dimension") or 2)
    except ValueError:
        return 2


def _gml2_coordinates(node: ET.Element) -> List[Tuple[float, float]]:
    decimal = node.get("decimal", ".")
    cs = node.get("cs", ",")
    ts = node.get("ts", " ")
    text = (node.text or "").strip()
    if decimal != ".":
        text = text.replace(decimal, ".")
    tuples = text.split() if ts.isspace() else text.split(ts)
    points = []
    for item in tuples:
        parts = item.split(cs)
        points.append((float(parts[0]), float(parts[1])))
    return points


def _pos_list(text: str, dimension: int) -> List[Tuple[float, float]]:
    values = [float(v) for v in text.split()]
    step = max(dimension, 2)
    return [(values[i], values[i + 1]) for i in range(0, len(values) - 1, step)]
