"""One file cut into byte ranges, and how much of each is on disk: a ranged download's state.

``RangePlan`` covers ``[0, size)`` with consecutive pieces. Each piece is
filled from its start (``filled`` bytes are on disk), by one connection at a
time (``claim``); pieces are handed out in file order, so the contiguous
prefix (``contiguous_end``, what the hashing thread may read) trails the
newest byte by about one piece per connection. ``record()`` is what the
``.part.json`` sidecar keeps (``[[start, end, filled], ...]``), and
``RangePlan.from_record`` reads it back, so a later run (or another process
taking the ``.part`` over) fetches only what is missing. Pure data: no I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

Record = Tuple[Tuple[int, int, int], ...]  # (start, end, filled) per piece; end exclusive


@dataclass
class Piece:
    """Bytes ``[start, end)`` of the file; ``filled`` of them, from ``start``, are on disk."""

    start: int
    end: int
    filled: int = 0
    taken: bool = False  # a connection is filling it

    @property
    def next_byte(self) -> int:
        return self.start + self.filled

    @property
    def done(self) -> bool:
        return self.next_byte >= self.end


def wants_ranges(size: Optional[int], min_bytes: int, ranges: int, connections: int) -> bool:
    """Whether a file is worth fetching in ranges: big enough, and connections to share."""
    return size is not None and size >= max(min_bytes, 1) and min(ranges, connections) >= 2


def piece_size(size: int, connections: int, target: int) -> int:
    """About ``target`` bytes, as many pieces as a multiple of ``connections``.

    A round of pieces then keeps every connection busy to the end (96 MiB in
    16 MiB pieces over 4 connections would end with two of them idle).
    """
    width = max(connections, 1)
    count = -(-size // max(int(target), 1))
    count = -(-count // width) * width
    return max(1, -(-size // count))


class RangePlan:
    """The pieces of one file and their progress; thread-safe."""

    def __init__(self, size: int, pieces: Sequence[Piece]) -> None:
        self.size = size
        self.pieces = list(pieces)
        self._changed = threading.Condition()

    @classmethod
    def split(cls, size: int, step: int) -> RangePlan:
        step = max(1, step)
        return cls(size, [Piece(s, min(s + step, size)) for s in range(0, size, step)])

    @classmethod
    def from_record(cls, size: int, record: Optional[Record], on_disk: int) -> Optional[RangePlan]:
        """The plan a sidecar recorded, trusting no byte past ``on_disk``; None if it is unfit."""
        if not record:
            return None
        pieces: List[Piece] = []
        expected_start = 0
        for start, end, filled in record:
            if start != expected_start or end <= start or not 0 <= filled <= end - start:
                return None
            pieces.append(Piece(start, end, max(0, min(filled, on_disk - start))))
            expected_start = end
        return cls(size, pieces) if expected_start == size else None

    def mark_prefix(self, count: int) -> None:
        """The first ``count`` bytes are on disk already (a one-stream ``.part``)."""
        with self._changed:
            for piece in self.pieces:
                piece.filled = max(piece.filled, min(piece.end, count) - piece.start, 0)

    def record(self) -> Record:
        with self._changed:
            return tuple((p.start, p.end, p.filled) for p in self.pieces)

    # --- handing out work ----------------------------------------------------------

    def claim(self) -> Optional[Piece]:
        """The first piece nobody fills yet and not done, now taken; None when there is none."""
        with self._changed:
            for piece in self.pieces:
                if not piece.taken and not piece.done:
                    piece.taken = True
                    return piece
        return None

    def release(self, piece: Piece) -> None:
        with self._changed:
            piece.taken = False

    def unclaimed(self) -> int:
        """How many pieces wait for a connection."""
        with self._changed:
            return sum(1 for p in self.pieces if not p.taken and not p.done)

    def advance(self, piece: Piece, count: int) -> None:
        """``count`` more bytes of ``piece`` are written."""
        with self._changed:
            piece.filled += count
            self._changed.notify_all()

    # --- what is there -------------------------------------------------------------

    def filled_bytes(self) -> int:
        with self._changed:
            return sum(p.filled for p in self.pieces)

    def complete(self) -> bool:
        with self._changed:
            return all(p.done for p in self.pieces)

    def contiguous_end(self) -> int:
        with self._changed:
            return contiguous_filled(self.record_unlocked())

    def wait_beyond(self, offset: int, timeout: float) -> int:
        """``contiguous_end()`` once it passes ``offset``, or after ``timeout`` s."""
        with self._changed:
            end = contiguous_filled(self.record_unlocked())
            if end <= offset:
                self._changed.wait(timeout)
                end = contiguous_filled(self.record_unlocked())
            return end

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def record_unlocked(self) -> Record:
        return tuple((p.start, p.end, p.filled) for p in self.pieces)


def contiguous_filled(record: Record) -> int:
    """Bytes from offset 0 that are all on disk, per a recorded plan."""
    end = 0
    for start, stop, filled in record:
        if start != end:
            return end
        end = start + filled
        if end < stop:
            return end
    return end


def parse_record(value: Any) -> Optional[Record]:
    """A sidecar's ``ranges`` value as a ``Record``, or None when absent or malformed."""
    if not isinstance(value, list):
        return None
    rows = []
    for row in value:
        if not (isinstance(row, list) and len(row) == 3):
            return None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in row):
            return None
        rows.append((row[0], row[1], row[2]))
    return tuple(rows)
