"""A tiny hand-made catalogue with the API's quirks, in a few kilobytes.

The replica's own tests use it so they can assert exact strings (the Terrain
50 format, a BGS version, areas UK/NI, per-tile downloads) whatever the real
sample-data generator (``sampledata.py``) makes. The files are small zips with
placeholder content, not loadable data.
"""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any, Dict, List

from .. import CATALOGUE_NAME

TERRAIN50_GRID = "ASCII Grid and GML (Grid)"
SHAPEFILE = "ESRI® Shapefile"
BGS_VERSION = "Version 3 (GB); Version 1 (NI)"
BIG_FILE = "terr50_gagg_gb.zip"  # 256 KiB of stored random bytes, for Range tests
PACKAGE_ID = "0040154231"
PACKAGE_VERSIONS = ("6307037", "6307038", "6307039")  # oldest first
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def _zip(path: Path, members: Dict[str, bytes]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            archive.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    return path.as_posix()


def _product(pid: str, name: str, version: str, **extra: Any) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "id": pid,
        "name": name,
        "description": [f"{name}: sample data for the replica.", "Second paragraph."],
        "version": version,
        "documentationUrl": f"https://docs.os.uk/{pid.lower()}",
        "areas": ["GB"],
        "dataStructures": ["Vector"],
        "category": "Networks",
        "categories": ["transportNetworks"],
        "formats": [],
        "imageCount": 1,
    }
    data.update(extra)
    return data


def write_tiny_catalogue(data_dir: Path) -> Path:
    """Write ``catalogue.json`` and its files under ``data_dir``; return it."""
    data_dir = Path(data_dir)
    files = data_dir / "files"
    rng = random.Random(27700)

    def file(rel: str, members: Dict[str, bytes]) -> str:
        _zip(files / rel, members)
        return f"files/{rel}"

    image = files / "images" / "sample.jpg"
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(b"\xff\xd8\xff\xe0" + bytes(64) + b"\xff\xd9")
    images = ["files/images/sample.jpg"]

    licence = "© Crown copyright".encode("cp1252")
    products: List[Dict[str, Any]] = []

    terrain = _product(
        "Terrain50",
        "OS Terrain® 50",
        "2025-07",
        dataStructures=["Raster", "Vector"],
        category="Heights",
        categories=["landAndTerrain"],
        formats=[{"format": TERRAIN50_GRID}, {"format": "Vector Tiles", "subformat": "(MBTiles)"}],
    )
    terrain["downloads"] = [
        {
            "fileName": BIG_FILE,
            "area": "GB",
            "format": TERRAIN50_GRID,
            "subformat": None,
            "path": file(f"Terrain50/{BIG_FILE}", {"data/big.bin": rng.randbytes(256 * 1024)}),
        },
        {
            "fileName": "terr50_mbtiles_gb.zip",
            "area": "GB",
            "format": "Vector Tiles",
            "subformat": "(MBTiles)",
            "path": file("Terrain50/terr50_mbtiles_gb.zip", {"data/terr50_gb.mbtiles": b"x" * 100}),
        },
    ]
    terrain["images"] = images
    terrain["imagesLarge"] = images
    products.append(terrain)

    boundary = _product(
        "BoundaryLine",
        "Boundary-Line™",
        "2025-10",
        category="Mapping",
        categories=["areasAndZones"],
        formats=[{"format": SHAPEFILE}, {"format": "GeoPackage"}],
    )
    boundary["downloads"] = [
        {
            "fileName": "bdline_essh_gb.zip",
            "area": "GB",
            "format": SHAPEFILE,
            "path": file("BoundaryLine/bdline_essh_gb.zip", {"Data/GB/county_region.shp": b"shp"}),
        },
        {
            "fileName": "bdline_gpkg_gb.zip",
            "area": "GB",
            "format": "GeoPackage",
            "path": file(
                "BoundaryLine/bdline_gpkg_gb.zip",
                {"Data/bdline_gb.gpkg": b"gpkg", "Doc/licence.txt": licence},
            ),
        },
    ]
    boundary["images"] = images
    products.append(boundary)

    greenspace = _product(
        "OpenGreenspace",
        "OS Open Greenspace",
        "2025-10",
        areas=["GB", "TQ", "TL"],
        category="Greenspace",
        formats=[{"format": "GML", "subformat": "3"}],
    )
    greenspace["downloads"] = [
        {
            "fileName": f"opgrsp_gml3_{area.lower()}.zip",
            "area": area,
            "format": "GML",
            "subformat": "3",
            "path": file(
                f"OpenGreenspace/opgrsp_gml3_{area.lower()}.zip",
                {f"OS Open Greenspace (GML) {area}/data/x.gml": b"<gml/>"},
            ),
        }
        for area in ("GB", "TQ", "TL")
    ]
    greenspace["images"] = images
    products.append(greenspace)

    radon = _product(
        "Radon_Indicative_Atlas",
        "BGS/UKHSA Radon data: Indicative Atlas of Radon",
        BGS_VERSION,
        areas=["GB", "NI"],
        category="Geological",
        categories=["geological"],
        formats=[{"format": SHAPEFILE}],
        thirdPartyInfo={
            "dataProvider": {
                "name": "British Geological Survey",
                "shortName": "BGS",
                "homepage": "https://www.bgs.ac.uk",
                "logoUrl": "https://www.bgs.ac.uk/logo.png",
            }
        },
    )
    radon["downloads"] = [
        {
            "fileName": "radon_gb.zip",
            "area": "GB",
            "format": SHAPEFILE,
            "path": file("Radon/radon_gb.zip", {"radon.shp": b"shp"}),
        },
        {
            "fileName": "radon_ni.zip",
            "area": "NI",
            "format": SHAPEFILE,
            "path": file("Radon/radon_ni.zip", {"radon.shp": b"shp-ni"}),
        },
    ]
    radon["images"] = images
    products.append(radon)

    lids = _product(
        "LIDS",
        "OS Open Linked Identifiers",
        "2026-01",
        dataStructures=["Identifier"],
        category="Identifiers",
        formats=[{"format": "CSV"}],
        imageCount=0,
    )
    lids["downloads"] = [
        {
            "fileName": "lids-2026-01_csv_BLPU-UPRN-Street-USRN-11.zip",
            "area": "GB",
            "format": "CSV",
            "path": file("LIDS/lids.zip", {"BLPU_UPRN_Street_USRN_11.csv": b"a,b\r\n1,2\r\n"}),
        },
    ]
    products.append(lids)

    dates = ("2026-01-20", "2026-02-20", "2026-03-20")
    reasons = (("INITIAL", "FULL"), ("UPDATE", "COU"), ("UPDATE", "COU"))
    versions = []
    for vid, created, (reason, supply) in zip(PACKAGE_VERSIONS, dates, reasons):
        name = f"add_isl_royalmailaddress_{vid}.zip"
        versions.append(
            {
                "id": vid,
                "createdOn": created,
                "reason": reason,
                "supplyType": supply,
                "productVersion": "E37 December 2025 Update",
                "format": "CSV",
                "files": [
                    {
                        "fileName": name,
                        "path": file(
                            f"packages/{PACKAGE_ID}/{vid}/{name}", {"data.csv": vid.encode()}
                        ),
                    }
                ],
            }
        )
    packages = [
        {
            "id": PACKAGE_ID,
            "name": "AB Prem Islands (Full)",
            "createdOn": "2026-01-20",
            "productId": "ABPOSTSLA",
            "productName": "AddressBase Premium",
            "versions": list(reversed(versions)),
        },  # stored out of order on purpose
        {
            "id": "16331",
            "name": "NGD buildings",
            "createdOn": "2026-02-01",
            "productId": "NGD",
            "productName": "OS NGD",
            "versions": [
                {
                    "id": "104444",
                    "createdOn": "2026-02-01",
                    "reason": "INITIAL",
                    "supplyType": "FULL",
                    "productVersion": "2026-02",
                    "format": "GeoPackage",
                    "files": [
                        {
                            "fileName": "bld_fts_buildingpart_orderSummary.json",
                            "path": "files/packages/16331/summary.json",
                        },
                        {
                            "fileName": "bld_fts_buildingpart.zip",
                            "path": file("packages/16331/bld.zip", {"b.gpkg": b"g"}),
                        },
                    ],
                }
            ],
        },
    ]
    summary = files / "packages" / "16331" / "summary.json"
    summary.write_text(json.dumps({"order": "16331"}), "utf-8")
    catalogue = data_dir / CATALOGUE_NAME
    catalogue.write_text(
        json.dumps({"products": products, "dataPackages": packages}, ensure_ascii=False, indent=1),
        "utf-8",
    )
    return catalogue
