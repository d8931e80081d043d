"""Naming a CRS from what the data carry: ``.prj`` WKT, a GML ``srsName``; EPSG:27700 by default.

OS data are British National Grid, so data that carry no CRS get ``DEFAULT_CRS``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ..redact import get_logger
from .file_reading import read_text, sibling

log = get_logger(__name__)

DEFAULT_CRS = "EPSG:27700"
MBTILES_CRS = "EPSG:3857"  # the MBTiles specification's only CRS

_EPSG_IN_URI = re.compile(r"EPSG(?::|/\d+/|::|\.xml#|:\d*:)(\d{4,6})\s*$", re.IGNORECASE)


def crs_from_wkt(wkt: str) -> Optional[str]:
    """An authority id for a ``.prj`` (ESRI or OGC WKT); ``None`` when unknown."""
    codes = re.findall(r'(?:AUTHORITY|ID)\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]', wkt, re.IGNORECASE)
    if codes:
        return f"EPSG:{codes[-1]}"  # the outermost (the projected CRS) comes last
    text = wkt.casefold().replace(" ", "_")
    if "british_national_grid" in text or (
        "osgb" in text and "transverse_mercator" in text and "400000" in text
    ):
        return DEFAULT_CRS
    for marker, code in (
        ("irish_transverse_mercator", "EPSG:2157"),
        ("tm75_irish_grid", "EPSG:29903"),
        ("tm65_irish_grid", "EPSG:29902"),
        ("irish_grid", "EPSG:29903"),
    ):
        if marker in text:
            return code
    if text.startswith("geogcs") and "wgs_1984" in text:
        return "EPSG:4326"
    return None


def crs_from_prj(path: Path) -> Optional[str]:
    """The CRS of ``path``'s ``.prj``: 27700 when there is none, ``None`` when unknown."""
    prj = sibling(path, ".prj")
    if prj is None:
        return DEFAULT_CRS
    crs = crs_from_wkt(read_text(prj))
    if crs is None:
        log.info("%s: CRS not recognised; the loader will read it from the file", prj.name)
    return crs


def crs_from_srs_name(text: str) -> Optional[str]:
    match = re.search(r'srsName\s*=\s*"([^"]+)"', text)
    if not match:
        return None
    code = _EPSG_IN_URI.search(match.group(1))
    return f"EPSG:{code.group(1)}" if code else None
