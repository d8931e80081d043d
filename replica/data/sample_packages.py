"""The premium data-package contributor: OS MasterMap Topography and AddressBase Premium.

Each package has an INITIAL/FULL version and UPDATE/COU (change-only) versions
with new file names, as premium supplies have: MasterMap as gzipped GML 3.2
chunks per 1 km tile plus an order summary, AddressBase Premium as a zipped
multi-record CSV. Files land in ``files/packages/<package>/<version>/``. The holding packages
(a realistic FULL and COUs with truths) come from ``sample_holdings``.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Tuple

from .catalogue import PACKAGES, PackageSpec, PackageVersionSpec
from .sample_abp import format_row, header_row, metadata_row
from .sample_addresses import Address, addresses
from .sample_build import Contributor, SampleBuild
from .sample_geography import buildings, rectangle
from .sample_gml import TopographicArea, topography
from .sample_holdings import build_holding_packages
from .sample_texts import order_details
from .sample_zip import ZipMember, gzip_bytes, zip_bytes

VERSION = "3"


# --- OS MasterMap Topography Layer ----------------------------------------------------------


def _tile_origin(tile: str) -> Tuple[int, int]:
    """ "SU4010" -> the south-west corner of that 1 km square."""
    assert tile[:2] == "SU", tile
    return 400000 + int(tile[2:4]) * 1000, 100000 + int(tile[4:6]) * 1000


def _base_features(tile: str) -> List[TopographicArea]:
    e0, n0 = _tile_origin(tile)
    features = []
    for number, ring in enumerate(
        buildings((e0, n0 + 60), 1000, 940, f"mmtopo:{tile}", spacing=75)
    ):
        toid = f"osgb1000{int(tile[2:]) * 1000 + number:012d}"
        features.append(
            TopographicArea(
                toid, 3, "2024-06-12", 10021, "Buildings", "Building", "Manmade", tuple(ring)
            )
        )
    road = rectangle(e0, n0, 1000, 50)
    features.append(
        TopographicArea(
            f"osgb5000{int(tile[2:]):012d}",
            2,
            "2023-09-01",
            10172,
            "Roads Tracks And Paths",
            "Road Or Track",
            "Manmade",
            tuple(road),
        )
    )
    return features


def _changed_features(tile: str, version: PackageVersionSpec, step: int) -> List[TopographicArea]:
    """What a change-only supply holds for a tile: some features at a new version, two new ones."""
    rng = random.Random(f"mmtopo:{tile}:{version.id}")
    base = _base_features(tile)
    changed = []
    for feature in base[step::7]:
        dx = rng.uniform(-1.5, 1.5)
        ring = tuple((round(e + dx, 2), round(n, 2)) for e, n in feature.ring)
        changed.append(
            TopographicArea(
                feature.toid,
                feature.version + step,
                version.created_on,
                feature.feature_code,
                feature.theme,
                feature.descriptive_group,
                feature.make,
                ring,
            )
        )
    e0, n0 = _tile_origin(tile)
    for extra in range(2):
        ring = tuple(rectangle(e0 + 400 + 30 * extra + step * 5, n0 + 10, 12, 9))
        toid = f"osgb1000{int(tile[2:]) * 1000 + 900 + 10 * step + extra:012d}"
        changed.append(
            TopographicArea(
                toid, 1, version.created_on, 10021, "Buildings", "Building", "Manmade", ring
            )
        )
    return changed


def is_full(version: PackageVersionSpec) -> bool:
    """A full supply, however the catalogue spells it ("FULL" or "Full")."""
    return version.supply_type.strip().lower() in ("full", "full supply")


def _mastermap_files(
    package: PackageSpec, version: PackageVersionSpec, step: int
) -> List[Tuple[str, bytes]]:
    files = []
    for tile in version.tiles:
        features = (
            _base_features(tile) if is_full(version) else _changed_features(tile, version, step)
        )
        gml = topography(f"MasterMap_{version.order}_{tile}", features)
        files.append((f"{version.order}-{tile}.gz", gzip_bytes(gml)))
    return files


# --- AddressBase Premium --------------------------------------------------------------------


def _abp_records(chosen: List[Address], change: str, date: str) -> List[str]:
    """Multi-record-type ABP CSV rows in OS's layouts (10 header, 29 metadata, 11/15
    streets, 21 BLPU, 32 classification, 28 DPA, 99 trailer): every row has its type's
    field count (sample_abp.FIELD_COUNTS)."""
    full = change == "I"
    rows = [
        format_row(10, header_row(date, 1, full)),
        format_row(29, metadata_row(date, "Southampton", 1720)),
    ]
    seq = 0
    streets = sorted({(a.usrn, a.street, a.town) for a in chosen})
    for usrn, street, town in streets:
        seq += 1
        values = (usrn, 1, 1720, 2, "2001-03-19", 1, 8, 0, "2001-03-19", None, date, "2001-03-19")
        coords = (None,) * 8 + (10,)
        rows.append(format_row(11, (11, change, seq, *values, *coords)))
        seq += 1
        names = (street.upper(), None, town.upper(), town.upper(), "ENG")
        dates = ("2001-03-19", None, date, "2001-03-19")
        rows.append(format_row(15, (15, change, seq, usrn, *names, *dates)))
    for a in chosen:
        seq += 1
        where = (round(a.easting, 2), round(a.northing, 2), a.latitude, a.longitude)
        blpu = (a.uprn, 1, 2, "2008-01-01", None, *where, 1, 1720, "E")
        blpu += ("2008-01-01", None, date, "2008-01-01", "D", a.postcode, 0)
        rows.append(format_row(21, (21, change, seq, *blpu)))
        seq += 1
        scheme = ("AddressBase Premium Classification Scheme", 1.0)
        dates = ("2008-01-01", None, date, "2008-01-01")
        klass = (a.uprn, f"1720C{a.uprn % 10**9:09d}", a.classification, *scheme, *dates)
        rows.append(format_row(32, (32, change, seq, *klass)))
        seq += 1
        dpa = (a.uprn, 50000000 + a.uprn % 10000000, None, None, None, None, a.number, None)
        dpa += (a.street.upper(), None, None, a.town.upper(), a.postcode, "S", "1A")
        dpa += (None,) * 6 + (date, "2008-01-01", None, date, "2008-01-01")
        rows.append(format_row(28, (28, change, seq, *dpa)))
    rows.append(format_row(99, (99, 0, len(rows) + 1, date, "09:00:00")))
    return rows


def _abp_files(
    package: PackageSpec, version: PackageVersionSpec, step: int
) -> List[Tuple[str, bytes]]:
    everything = list(addresses())
    if is_full(version):
        chosen, change, name = everything, "I", "AB76GB_CSV.zip"
    else:
        chosen, change, name = everything[step::25], "U", f"AB76GB_COU_CSV_{version.order}.zip"
    kind = "FULL" if is_full(version) else "COU"
    csv_name = f"AddressBasePremium_{kind}_{version.created_on}_001.csv"
    rows = _abp_records(chosen, change, version.created_on)
    archive = zip_bytes(
        [ZipMember(csv_name, ("\r\n".join(rows) + "\r\n").encode("ascii"))], folder_entries=False
    )
    return [(name, archive)]


# --- the contributor ------------------------------------------------------------------------

_MAKERS = {"MMTOPO": _mastermap_files, "ABP": _abp_files}


def _version(
    build: SampleBuild, package: PackageSpec, version: PackageVersionSpec, step: int
) -> Dict[str, Any]:
    data = _MAKERS[package.product_id](package, version, step)
    summary = order_details(
        package.name, version.order, version.id, version.created_on, [n for n, _ in data]
    )
    files = []
    for name, content in data + [(f"{version.order}-Order_Details.txt", summary)]:
        path = build.write_bytes(f"packages/{package.id}/{version.id}/{name}", content)
        files.append({"fileName": name, "path": path})
    return {
        "id": version.id,
        "createdOn": version.created_on,
        "reason": version.reason,
        "supplyType": version.supply_type,
        "productVersion": version.product_version,
        "format": package.format,
        "files": files,
    }


def build_packages(build: SampleBuild) -> Dict[str, Any]:
    packages = []
    for package in PACKAGES:
        packages.append(
            {
                "id": package.id,
                "name": package.name,
                "createdOn": package.created_on,
                "productId": package.product_id,
                "productName": package.product_name,
                "versions": [
                    _version(build, package, v, step) for step, v in enumerate(package.versions)
                ],
            }
        )
    # The holding packages (issue 13): realistic supplies with a truth for every version.
    packages += build_holding_packages(build)
    return {"dataPackages": packages}


CONTRIBUTOR = Contributor("os-data-packages", VERSION, build_packages)
