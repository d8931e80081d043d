"""What the replica lists: the real OS OpenData products, their downloads, the data packages.

The records are data, in two JSON files beside this module; this module only
reads them into the shapes the generators use.

``catalogue_products.json``: ``products``, each as the live ``/products/{id}``
returns it (captured 2026, see shared research section 2.1) without the URLs
the server adds (``url``, ``downloadsUrl``, ``imageTemplate``); ``imageCount``
is filled in by the generator from the pictures it draws. Versions, names,
formats (with their exact ``®``/``™`` and parentheses), areas (plain
alphabetical order, as live records list them) and the BGS quirks are the real
ones. GeoClimate UKCP18 Open (listed in February 2026, gone by October) was not
captured: its description and file name are made up; it carries no
``endOfLife`` or ``warning``, as no source gives one.

Each product's ``files`` (not part of the record) lists its downloads, either
one file ``{"fileName", "format", "subformat"?, "area"? (default GB),
"unverified"? (listed without size and md5)}`` or a naming rule ``{"pattern":
"bdline_{code}_{area}.zip", "codes": {code: format | [format, subformat]},
"areas"? (default ["GB"])}``: one file per area and code, in that order, with
``{area}`` in lower case. File names follow real OS names where known (research
2.2/2.3); Zoomstack's are the real ones; the BGS, Built Up Areas and GB
Overview Maps names are made up in the same style.

``catalogue_packages.json``: ``packages`` (premium data packages),
``holdingPackages`` (issue 13: a FULL and COUs generated from one model each by
``sample_holdings``; one spells ``supplyType`` as the spec does, the other as
production does, research 1.3), ``holdingTileSupplies`` (packages supplied as
5 km tiles: a COU sends every record of each changed tile as an insert) and
``holdingNextVersions`` (further COUs, generated but not listed: tests publish
them at run time with ``holdings_truth.publish_next_update``; their ids are the
ones the replica gives a package's next published versions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
PRODUCTS_FILE = HERE / "catalogue_products.json"
PACKAGES_FILE = HERE / "catalogue_packages.json"


@dataclass(frozen=True)
class DownloadSpec:
    """One file a product lists: what the API says about it; the generator makes the bytes."""

    file_name: str
    format: str
    subformat: Optional[str] = None
    area: str = "GB"
    unverified: bool = False  # listed without size and md5, as some real listings are


@dataclass(frozen=True)
class PackageVersionSpec:
    id: str
    created_on: str
    reason: str  # INITIAL | UPDATE | EXPANSION | RESUPPLY | ONLINE_ORDER
    # The spec's FULL | COU, or production's "Full" | "Change Only Update" (research 1.3).
    supply_type: str
    product_version: str
    order: str  # the supply's order number; file names start with it
    tiles: Tuple[str, ...] = ()  # MasterMap chunks in this version


@dataclass(frozen=True)
class PackageSpec:
    id: str
    name: str
    created_on: str
    product_id: str
    product_name: str
    format: str
    versions: Tuple[PackageVersionSpec, ...]


def _downloads(files: List[Dict[str, Any]]) -> List[DownloadSpec]:
    specs = []
    for entry in files:
        if "fileName" in entry:
            specs.append(
                DownloadSpec(
                    entry["fileName"],
                    entry["format"],
                    entry.get("subformat"),
                    entry.get("area", "GB"),
                    bool(entry.get("unverified", False)),
                )
            )
            continue
        for area in entry.get("areas", ["GB"]):
            for code, fmt in entry["codes"].items():
                fmt, sub = fmt if isinstance(fmt, list) else (fmt, None)
                name = entry["pattern"].format(code=code, area=area.lower())
                specs.append(DownloadSpec(name, fmt, sub, area))
    return specs


def _version(raw: Dict[str, Any]) -> PackageVersionSpec:
    return PackageVersionSpec(
        raw["id"],
        raw["createdOn"],
        raw["reason"],
        raw["supplyType"],
        raw["productVersion"],
        raw["order"],
        tuple(raw.get("tiles", ())),
    )


def _package(raw: Dict[str, Any]) -> PackageSpec:
    versions = tuple(_version(v) for v in raw["versions"])
    return PackageSpec(
        raw["id"],
        raw["name"],
        raw["createdOn"],
        raw["productId"],
        raw["productName"],
        raw["format"],
        versions,
    )


_products = json.loads(PRODUCTS_FILE.read_text("utf-8"))["products"]
_packages = json.loads(PACKAGES_FILE.read_text("utf-8"))

PRODUCTS: Tuple[Dict[str, Any], ...] = tuple(
    {k: v for k, v in raw.items() if k != "files"} for raw in _products
)
DOWNLOADS: Dict[str, List[DownloadSpec]] = {
    raw["id"]: _downloads(raw["files"]) for raw in _products
}
PACKAGES: Tuple[PackageSpec, ...] = tuple(_package(p) for p in _packages["packages"])
HOLDING_PACKAGES: Tuple[PackageSpec, ...] = tuple(_package(p) for p in _packages["holdingPackages"])
HOLDING_TILE_SUPPLIES: Tuple[str, ...] = tuple(_packages["holdingTileSupplies"])
HOLDING_NEXT_VERSIONS: Dict[str, Tuple[PackageVersionSpec, ...]] = {
    package_id: tuple(_version(v) for v in versions)
    for package_id, versions in _packages["holdingNextVersions"].items()
}
