"""The vocabulary of the style table (``style_catalogue.py``): what a style says.

Plain data, no QGIS objects: ``styling.py`` turns these into renderers, and the
catalogue is written in them, so neither needs the other to be read first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

POINT, LINE, POLYGON = "point", "line", "polygon"


@dataclass(frozen=True)
class Look:
    """One class of features: its legend label, the field values it covers and its
    symbol (``createSimple`` properties). No values: everything else (ELSE)."""

    label: str
    values: Tuple[str, ...]
    symbol: Dict[str, str]
    expression: str = ""  # instead of values: a filter with {field}, e.g. "{field} % 50 = 0"


@dataclass(frozen=True)
class Label:
    """Labels from the first of ``fields`` the layer has, below ``max_scale``
    (1:max_scale and closer), along lines or beside points."""

    fields: Tuple[str, ...]
    max_scale: float
    size: float = 8.0
    colour: str = "#202020"
    along_lines: bool = False
    bold: bool = False


@dataclass(frozen=True)
class Style:
    """How one kind of layer is drawn.

    ``names``: regular expressions on the layer's name (any of them, case-insensitive;
    none: any name). ``products``: the product or package product ids it belongs to
    (none: any). ``requires``: each entry lists the spellings of one field the layer
    must have; the classes (``looks``) split on the first. ``stack``: -1 puts the
    layer above its group's other layers (boundaries)."""

    id: str
    geometry: str
    names: Tuple[str, ...] = ()
    products: Tuple[str, ...] = ()
    requires: Tuple[Tuple[str, ...], ...] = ()
    looks: Tuple[Look, ...] = ()
    label: Optional[Label] = None
    stack: int = 0
    # "equals"; "prefix" / "contains": the value starts with / contains the class's value;
    # "unique": one class per value the layer holds (BGS's geology), colours from the value
    match: str = "equals"
    tile_layers: Tuple[str, ...] = ()  # vector-tile source layers drawn by this style
