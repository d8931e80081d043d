"""Feature-type names the same whatever the format or tile: a table name and words.

"TQ_GreenspaceSite" (a shapefile of one tile), "GreenspaceSite" (GML) and
"greenspace_site" (GeoPackage) are all the feature type ``greenspace_site``,
shown to people as "Greenspace site".
"""

from __future__ import annotations

import re

_TILE_PREFIX = re.compile(r"^[A-Za-z]{2}\d{0,8}_(?=.)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def feature_type_table(layer_name: str) -> str:
    """The table name for a layer of any format: snake case, no tile letters."""
    text = _TILE_PREFIX.sub("", (layer_name or "").strip())
    text = _CAMEL.sub("_", text).lower()
    text = _NOT_WORD.sub("_", text).strip("_")
    return text or "features"


def feature_type_words(layer_name: str) -> str:
    """ "Greenspace site", "Road link": the feature type as people say it."""
    words = feature_type_table(layer_name).replace("_", " ")
    return words[:1].upper() + words[1:]


def areas_label(areas) -> str:
    """ "TL, TQ, TR": the chosen areas once, sorted."""
    return ", ".join(sorted({a.upper() for a in areas}))
