"""An R-tree packed at once, as the rows of SQLite's own R-tree tables (``gpkg.fill_rtree``).

SQLite inserts a box at a time, each from the root down, splitting nodes as they
fill: about 5 µs a box. ``pack_rtree`` packs the tree instead (sort-tile-recursive:
boxes sorted into vertical slices, each slice by y, cut into full nodes, then the
same a level up) and gives the rows of SQLite's shadow tables: ``<rtree>_node``
(a node's blob, big-endian: the tree's depth in the root, the cell count, the
cells, each a 64-bit id and four 32-bit floats rounded outwards as SQLite rounds
them), ``_rowid`` (a box's leaf) and ``_parent`` (a node's parent).
"""

from __future__ import annotations

import math
import struct
from array import array
from itertools import chain, repeat
from operator import itemgetter, mul
from typing import List, Sequence, Tuple

# SQLite's R-tree keeps 32-bit floats, rounded outwards (its rtreeValueDown/Up): the
# nearest float, or else the one after scaling by one float unit towards or away from 0.
_RND_TOWARDS = 1.0 - 1.0 / 8388608.0
_RND_AWAY = 1.0 + 1.0 / 8388608.0
_CELL = 24  # bytes an R-tree cell takes: a 64-bit id and four 32-bit floats
_CELL_FORMAT = "q4f"
_ID, _MINX, _MAXX, _MINY, _MAXY = (itemgetter(i) for i in range(5))


Packed = Tuple[List[Tuple[int, bytes]], List[Tuple[int, int]], List[Tuple[int, int]]]


def pack_rtree(
    ids: Sequence[int],
    minx: Sequence[float],
    maxx: Sequence[float],
    miny: Sequence[float],
    maxy: Sequence[float],
    node_size: int,
) -> Packed:
    """The rows of the R-tree's ``_node``, ``_rowid`` and ``_parent`` tables for these
    boxes (points: ``minx is maxx``, ``miny is maxy``), nodes of ``node_size`` bytes."""
    capacity = (node_size - 4) // _CELL
    left, right = _outwards(minx, maxx)
    bottom, top = _outwards(miny, maxy)
    cells = list(zip(ids, left, right, bottom, top))
    nodes: List[Tuple[int, bytes]] = []
    parents: List[Tuple[int, int]] = []
    leaf_of: List[Tuple[int, int]] = []
    depth = 0
    while True:
        groups = _str_groups(cells, capacity) if len(cells) > capacity else [cells]
        root = len(groups) == 1
        above = []
        for group in groups:
            number = 1 if root else len(nodes) + 2
            header = struct.pack(">HH", depth if root else 0, len(group))
            body = struct.pack(">" + _CELL_FORMAT * len(group), *chain.from_iterable(group))
            nodes.append((number, (header + body).ljust(node_size, b"\0")))
            (leaf_of if depth == 0 else parents).extend(zip(map(_ID, group), repeat(number)))
            above.append(
                (
                    number,
                    min(map(_MINX, group)),
                    max(map(_MAXX, group)),
                    min(map(_MINY, group)),
                    max(map(_MAXY, group)),
                )
            )
        if root:
            return nodes, leaf_of, parents
        cells = above
        depth += 1


def _outwards(low: Sequence[float], high: Sequence[float]) -> Tuple[List[float], List[float]]:
    """``low`` rounded down and ``high`` up to 32-bit floats (once when they are the same:
    points)."""
    if low is high:
        near, towards, away = _candidates(low)
        return _down(low, near, towards, away), _up(low, near, towards, away)
    return _down(low, *_candidates(low)), _up(high, *_candidates(high))


def _candidates(values: Sequence[float]) -> Tuple[array, array, array]:
    """The nearest 32-bit floats of the values, and of them scaled towards and away from 0."""
    return (
        array("f", values),
        array("f", map(mul, values, repeat(_RND_TOWARDS))),
        array("f", map(mul, values, repeat(_RND_AWAY))),
    )


def _down(values: Sequence[float], near: array, towards: array, away: array) -> List[float]:
    return [f if f <= d else (a if d < 0 else t) for f, d, t, a in zip(near, values, towards, away)]


def _up(values: Sequence[float], near: array, towards: array, away: array) -> List[float]:
    return [f if f >= d else (t if d < 0 else a) for f, d, t, a in zip(near, values, towards, away)]


def _str_groups(cells: List[Tuple], capacity: int) -> List[List[Tuple]]:
    """Sort-tile-recursive: the cells cut into as few nodes of near boxes as hold them
    (shared out evenly: none over ``capacity``, each about as full as the others)."""
    count = len(cells)
    nodes = -(-count // capacity)
    slices = max(1, round(math.sqrt(nodes)))
    by_x = sorted(cells, key=_MINX)
    groups: List[List[Tuple]] = []
    for index in range(slices):
        first, last = nodes * index // slices, nodes * (index + 1) // slices
        column = by_x[count * first // nodes : count * last // nodes]
        column.sort(key=_MINY)
        size = len(column)
        parts = last - first
        groups += [column[size * i // parts : size * (i + 1) // parts] for i in range(parts)]
    return groups
