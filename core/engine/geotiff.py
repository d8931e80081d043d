"""A GeoTIFF's CRS from its GeoKeys, read with ``struct``: bounded, never trusting the file.

``geotiff_crs(path)`` -> (CRS or None, georeferenced?). Everything read is
bounded (tags, GeoKeys), and a header or image data running past the end of
the file raises ``Unreadable``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import IO, Any, Dict, Optional, Sequence, Tuple

from ..redact import get_logger
from .file_reading import Unreadable

log = get_logger(__name__)

_GEOREFERENCING_TAGS = (33550, 33922, 34264)  # pixel scale, tie points, transformation

_GEOKEY_DIRECTORY = 34735

_DATA_TAGS = ((273, 279), (324, 325))  # (strip offsets, byte counts), (tile offsets, counts)

_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8

_MAX_TAGS = 4096  # real TIFFs have a few dozen

_MAX_GEOKEY_SHORTS = 4 + 4 * 65535  # the directory's header and at most 65535 keys


def geotiff_crs(path: Path) -> Tuple[Optional[str], bool]:
    """(EPSG id from the GeoKeys or None, whether the file has georeferencing tags).

    Raises ``Unreadable`` for a file that is no TIFF, or whose first directory
    or image data run past its end (a cut-off download).
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            return _TiffReader(handle, size).geokeys()
        except struct.error as err:  # a read came back short
            raise Unreadable("It is cut off or damaged: its TIFF header is incomplete.") from err


class _TiffReader:
    """Reads only the first image directory of a TIFF, every read bounded by the file's size."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self.handle = handle
        self.size = size
        self.order = {b"II": "<", b"MM": ">"}.get(handle.read(2), "")
        if not self.order:
            raise Unreadable("It is not a TIFF image, or it is damaged.")

    def unpack(self, fmt: str, data: bytes) -> Tuple[Any, ...]:
        return struct.unpack(self.order + fmt, data)

    def read_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset + size > self.size:
            raise Unreadable(
                f"It is cut off or damaged: its TIFF directory points to byte {offset:,}, "
                f"past the end of the file ({self.size:,} bytes)."
            )
        self.handle.seek(offset)
        return self.handle.read(size)

    def geokeys(self) -> Tuple[Optional[str], bool]:
        (magic,) = self.unpack("H", self.handle.read(2))
        if magic == 42:
            (offset,) = self.unpack("I", self.handle.read(4))
            count_fmt, entry_fmt, inline = "H", "HHI4s", 4
        elif magic == 43:  # BigTIFF
            self.handle.read(4)
            (offset,) = self.unpack("Q", self.handle.read(8))
            count_fmt, entry_fmt, inline = "Q", "HHQ8s", 8
        else:
            raise Unreadable("It is not a TIFF image, or it is damaged.")
        self.inline = inline
        count_size, entry_size = struct.calcsize(count_fmt), struct.calcsize(entry_fmt)
        (count,) = self.unpack(count_fmt, self.read_at(offset, count_size))
        if not 0 < count <= _MAX_TAGS:
            raise Unreadable(f"It is damaged: its TIFF directory says it has {count:,} entries.")
        table = self.read_at(offset + count_size, count * entry_size)
        georeferenced = False
        keys: Tuple[int, ...] = ()
        data: Dict[int, Tuple[int, int, bytes]] = {}
        for index in range(count):
            entry = table[index * entry_size : (index + 1) * entry_size]
            tag, kind, n, value = self.unpack(entry_fmt, entry)
            if tag in _GEOREFERENCING_TAGS:
                georeferenced = True
            elif tag == _GEOKEY_DIRECTORY and kind == 3:
                keys = self._geokey_values(n, value)
            elif kind in _TIFF_TYPES and any(tag in pair for pair in _DATA_TAGS):
                data[tag] = (kind, n, value)
        self._check_image_data(data)
        return _crs_from_geokeys(keys), georeferenced

    def _last_value(self, kind: int, n: int, value: bytes) -> int:
        fmt, width = _TIFF_TYPES[kind]
        if n * width <= self.inline:
            return int(self.unpack(fmt, value[(n - 1) * width : n * width])[0])
        (offset,) = self.unpack("I" if self.inline == 4 else "Q", value)
        return int(self.unpack(fmt, self.read_at(offset + (n - 1) * width, width))[0])

    def _check_image_data(self, data: Dict[int, Tuple[int, int, bytes]]) -> None:
        """The last strip or tile (written last) must end inside the file."""
        for offsets_tag, counts_tag in _DATA_TAGS:
            offsets, counts = data.get(offsets_tag), data.get(counts_tag)
            if not offsets or not counts or not offsets[1] or offsets[1] != counts[1]:
                continue
            end = self._last_value(*offsets) + self._last_value(*counts)
            if end > self.size:
                raise Unreadable(
                    f"It is cut off: its image data run to byte {end:,} but the file has "
                    f"{self.size:,} bytes, probably an incomplete download or copy."
                )

    def _geokey_values(self, n: int, value: bytes) -> Tuple[int, ...]:
        """The GeoKey directory's SHORTs; none when its count is absurd (it is then ignored)."""
        if not 4 <= n <= _MAX_GEOKEY_SHORTS:
            log.info("Ignoring a GeoKey directory of %d values (damaged)", n)
            return ()
        if 2 * n <= self.inline:
            raw = value[: 2 * n]
        else:
            (offset,) = self.unpack("I" if self.inline == 4 else "Q", value)
            raw = self.read_at(offset, 2 * n)
        return self.unpack(f"{n}H", raw)


def _crs_from_geokeys(keys: Sequence[int]) -> Optional[str]:
    if len(keys) < 4:
        return None
    values = {}
    for index in range(min(keys[3], (len(keys) - 4) // 4)):
        key_id, location, _count, value = keys[4 + 4 * index : 8 + 4 * index]
        if location == 0:
            values[key_id] = value
    for key in (3072, 2048):  # ProjectedCSTypeGeoKey, GeographicTypeGeoKey
        code = values.get(key)
        if code and code != 32767:
            return f"EPSG:{code}"
        if code == 32767:
            return None
    return None
