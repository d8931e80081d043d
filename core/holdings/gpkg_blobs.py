"""GeoPackage geometry blobs: written from coordinates or GDAL's WKB, read back for boxes.

A blob is the GeoPackage header (magic, flags, SRS id, envelope) and ISO WKB;
2D, EPSG:27700: ("Point", (x, y)), ("LineString", [(x, y), ...]) or
("Polygon", [[(x, y), ...], ...]).
"""

from __future__ import annotations

import functools
import struct
from itertools import repeat
from typing import Any, List, Optional, Sequence, Tuple

SRS_ID = 27700
Geometry = Tuple[str, Any]  # ("Point", (x, y)), ("LineString", [...]), ("Polygon", [[...]])
_WKB_TYPES = {"Point": 1, "LineString": 2, "Polygon": 3}
_HEADER = struct.Struct("<2sBBi4d")  # magic, version, flags, srs_id, envelope minx maxx miny maxy
_FLAGS = 0b00000011  # little endian, envelope [minx, maxx, miny, maxy], not empty, standard
_POINT = struct.Struct("<2sBBi4dBIdd")  # a point: the header, then its WKB


def geometry_blob(geometry: Geometry) -> bytes:
    """A GeoPackage geometry blob (header with envelope + little-endian WKB)."""
    kind, coords = geometry
    if kind == "Point":
        return point_blob(*coords)
    wkb, envelope = iso_wkb(geometry)
    return _HEADER.pack(b"GP", 0, _FLAGS, SRS_ID, *envelope) + wkb


def iso_wkb(geometry: Geometry) -> Tuple[bytes, Tuple[float, float, float, float]]:
    """Little-endian ISO WKB of (type, coordinates) and its envelope (minx, maxx, miny, maxy)."""
    kind, coords = geometry
    if kind == "Point":
        x, y = coords
        return struct.pack("<BIdd", 1, 1, x, y), (x, x, y, y)
    if kind == "LineString":
        points = list(coords)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        body = struct.pack("<BII", 1, 2, len(points)) + _points(points)
    elif kind == "Polygon":
        rings = [list(r) for r in coords]
        xs = [p[0] for p in rings[0]]
        ys = [p[1] for p in rings[0]]
        parts = [struct.pack("<BII", 1, 3, len(rings))]
        for ring in rings:
            parts.append(struct.pack("<I", len(ring)))
            parts.append(_points(ring))
        body = b"".join(parts)
    else:
        raise ValueError(f"unsupported geometry type {kind}")
    return body, (min(xs), max(xs), min(ys), max(ys))


def point_blob(x: float, y: float) -> bytes:
    """``geometry_blob(("Point", (x, y)))``, for a load that makes one per row."""
    return _POINT.pack(b"GP", 0, _FLAGS, SRS_ID, x, x, y, y, 1, 1, x, y)


def point_blobs(xs: Sequence[float], ys: Sequence[float]) -> List[bytes]:
    """``point_blob`` for many points at once (packed in C: a bulk load makes thousands)."""
    same = [repeat(v) for v in (b"GP", 0, _FLAGS, SRS_ID)]
    return list(map(_POINT.pack, *same, xs, xs, ys, ys, repeat(1), repeat(1), xs, ys))


def wkb_blob(wkb: bytes, envelope: Tuple[float, float, float, float]) -> bytes:
    """A blob around ISO WKB that GDAL made, ``envelope`` = (minx, maxx, miny, maxy)."""
    return _HEADER.pack(b"GP", 0, _FLAGS, SRS_ID, *envelope) + wkb


def _points(points: Sequence[Tuple[float, float]]) -> bytes:
    flat = [c for p in points for c in p[:2]]
    return struct.pack(f"<{len(flat)}d", *flat)


@functools.lru_cache(maxsize=8)
def blob_envelope(blob: Optional[bytes]) -> Optional[Tuple[float, float, float, float]]:
    """(minx, maxx, miny, maxy) from a blob's header; None for NULL or an empty geometry.

    Cached: the R-tree triggers ask for the four values of one blob in a row."""
    if not blob or len(blob) < 8:
        return None
    flags = blob[3]
    if flags & 0b00010000:  # empty geometry
        return None
    if (flags >> 1) & 0b111 == 0:
        return _envelope_from_wkb(blob)
    order = "<" if flags & 1 else ">"
    return struct.unpack_from(f"{order}4d", blob, 8)


def _envelope_from_wkb(blob: bytes) -> Optional[Tuple[float, float, float, float]]:
    """Blobs without an envelope (written by another program): read the WKB points."""
    wkb = blob[8:]
    order = "<" if wkb[0] == 1 else ">"
    kind = struct.unpack_from(f"{order}I", wkb, 1)[0] % 1000
    offset = 5
    coords = []
    if kind == 1:
        coords = [struct.unpack_from(f"{order}2d", wkb, offset)]
    elif kind == 2:
        (count,) = struct.unpack_from(f"{order}I", wkb, offset)
        coords = [struct.unpack_from(f"{order}2d", wkb, offset + 4 + 16 * i) for i in range(count)]
    elif kind == 3:
        (rings,) = struct.unpack_from(f"{order}I", wkb, offset)
        offset += 4
        for _ in range(rings):
            (count,) = struct.unpack_from(f"{order}I", wkb, offset)
            offset += 4
            coords += [struct.unpack_from(f"{order}2d", wkb, offset + 16 * i) for i in range(count)]
            offset += 16 * count
    if not coords:
        return None
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    return min(xs), max(xs), min(ys), max(ys)


def decode_blob(blob: bytes) -> Geometry:
    """A blob written by ``geometry_blob`` back to (type, coordinates): for tests and checks."""
    flags = blob[3]
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    wkb = blob[8 + size :]
    order = "<" if wkb[0] == 1 else ">"
    kind = struct.unpack_from(f"{order}I", wkb, 1)[0]
    if kind == 1:
        return "Point", struct.unpack_from(f"{order}2d", wkb, 5)
    offset = 5

    def read_points(at: int) -> Tuple[list, int]:
        (count,) = struct.unpack_from(f"{order}I", wkb, at)
        values = struct.unpack_from(f"{order}{2 * count}d", wkb, at + 4)
        return [tuple(values[i : i + 2]) for i in range(0, len(values), 2)], at + 4 + 16 * count

    if kind == 2:
        return "LineString", read_points(offset)[0]
    (count,) = struct.unpack_from(f"{order}I", wkb, offset)
    offset += 4
    rings = []
    for _ in range(count):
        ring, offset = read_points(offset)
        rings.append(ring)
    return "Polygon", rings


# --- the SQL functions the R-tree triggers call ---------------------------------------------


def _envelope_part(index: int):
    def part(blob: Optional[bytes]) -> Optional[float]:
        envelope = blob_envelope(blob)
        return None if envelope is None else envelope[index]

    return part


def _is_empty(blob: Optional[bytes]) -> Optional[int]:
    if blob is None:
        return None
    return 1 if blob_envelope(blob) is None else 0
