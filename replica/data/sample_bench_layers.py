"""Benchmark-sized products with real layers, for ``make bench`` (the large-data switch).

With ``large_gb`` > 0 the replica serves:

- Code-Point Open's CSV download at full size: 1.7 million postcode rows in
  120 headerless postcode-area CSVs (``Data/CSV/ab.csv``...) with the real
  column header file, replacing the small sample CSV of ``CodePointOpen``, so
  the dock loads and styles it as the product it is;
- ``BenchLargeGeoPackage``: one zip holding a GeoPackage of about
  ``large_gb`` GB of polygon features (with its spatial index), for the
  main-thread measurement of a big vector load.

Seeded, so every run gets the same rows and shapes; written once under
``files/`` (a stamp records the parameters) and reused after.
"""

from __future__ import annotations

import json
import os
import random
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, List

from .sample_texts import codepoint_headers
from .sample_zip import DEFAULT_TIME

BENCH_LAYERS_VERSION = "1"
CODEPOINT_FULL_ROWS = 1_700_000
CODEPOINT_FILE = "codepo_gb_full.zip"
GEOPACKAGE_PRODUCT_ID = "BenchLargeGeoPackage"

# The 120 postcode areas of Great Britain (Code-Point Open has one CSV for each).
_AREAS = (
    "AB AL B BA BB BD BH BL BN BR BS CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY "
    "E EC EH EN EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE LL "
    "LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL "
    "SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE"
)
POSTCODE_AREAS = tuple(_AREAS.split())
_QUALITIES = (10, 10, 10, 10, 10, 10, 20, 30, 40, 50, 60, 90)
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _stamped(target: Path, want: Dict[str, Any], write: Callable[[Path], None]) -> Path:
    """``target``, written by ``write`` (to a partial name, then renamed) unless its
    stamp says it was finished with the same parameters."""
    stamp = target.with_name(f".{target.name}.stamp.json")
    try:
        done = json.loads(stamp.read_text("utf-8"))
        if {k: done.get(k) for k in want} == want and done.get("size") == target.stat().st_size:
            return target
    except (OSError, ValueError):
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    write(partial)
    os.replace(partial, target)
    stamp.write_text(json.dumps({**want, "size": target.stat().st_size}), "utf-8")
    return target


# --- Code-Point Open at full size --------------------------------------------------------


def _area_rows(area: str, count: int) -> bytes:
    """``count`` headerless Code-Point rows of one postcode area, sorted by postcode."""
    rng = random.Random(f"codepoint-full:{area}")
    east0, north0 = rng.randint(150_000, 600_000), rng.randint(20_000, 1_000_000)
    lines: List[str] = []
    district = f"E0{rng.randint(6000000, 9000099):07d}"
    for index in range(count):
        district_no = 1 + index * 40 // count
        sector = index % 10
        inward = f"{sector}{_LETTERS[(index // 10) % 20]}{_LETTERS[(index // 200) % 20]}"
        outward = f"{area}{district_no}"
        postcode = outward.ljust(4) + inward
        east = east0 + rng.randint(-15_000, 15_000)
        north = north0 + rng.randint(-15_000, 15_000)
        quality = rng.choice(_QUALITIES)
        ward = f"E05{rng.randint(0, 999999):06d}"
        lines.append(
            f'"{postcode}",{quality},{east},{north},"E92000001","E19000002","E18000010",'
            f'"","{district}","{ward}"'
        )
    lines.sort()
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _write_codepoint(target: Path) -> None:
    per_area, extra = divmod(CODEPOINT_FULL_ROWS, len(POSTCODE_AREAS))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index, area in enumerate(POSTCODE_AREAS):
            rows = _area_rows(area, per_area + (1 if index < extra else 0))
            archive.writestr(zipfile.ZipInfo(f"Data/CSV/{area.lower()}.csv", DEFAULT_TIME), rows)
        archive.writestr(
            zipfile.ZipInfo("Doc/Code-Point_Open_Column_Headers.csv", DEFAULT_TIME),
            codepoint_headers(),
        )


def ensure_full_codepoint(files_dir: Path) -> Path:
    """The full-size Code-Point Open CSV zip under ``files_dir/CodePointOpen``."""
    want = {"version": BENCH_LAYERS_VERSION, "rows": CODEPOINT_FULL_ROWS}
    return _stamped(files_dir / "CodePointOpen" / CODEPOINT_FILE, want, _write_codepoint)


def use_full_codepoint(catalogue: Dict[str, Any], relative_path: str) -> None:
    """Point the catalogue's Code-Point Open CSV download at the full-size file."""
    for product in catalogue["products"]:
        if product["id"] != "CodePointOpen":
            continue
        for download in product["downloads"]:
            if download["format"] == "CSV":
                download["fileName"] = Path(relative_path).name
                download["path"] = relative_path


# --- a GeoPackage of about large_gb GB -------------------------------------------------------

_VERTICES = 60
_BYTES_PER_FEATURE = 1_430  # WKB polygon of 61 points, GeoPackage header, row, R-tree (measured)


def _polygon_wkb(template: Any, cx: float, cy: float, radius: float) -> bytes:
    ring = template * radius
    ring[:, 0] += cx
    ring[:, 1] += cy
    return struct.pack("<BIII", 1, 3, 1, len(ring)) + ring.tobytes()


def _write_geopackage(gpkg: Path, large_gb: float) -> None:
    import numpy
    from osgeo import ogr, osr

    rng = numpy.random.default_rng(20260101)
    angles = numpy.linspace(0.0, 2 * numpy.pi, _VERTICES, endpoint=False)
    templates = []
    for _ in range(64):
        wobble = 0.7 + 0.3 * rng.random(_VERTICES)
        ring = numpy.column_stack((numpy.cos(angles) * wobble, numpy.sin(angles) * wobble))
        templates.append(numpy.vstack((ring, ring[:1])))
    count = int(large_gb * 10**9 / _BYTES_PER_FEATURE)
    kinds = ("Building", "Woodland", "Water", "Park", "Farmland", "Industrial")
    gpkg.unlink(missing_ok=True)
    driver = ogr.GetDriverByName("GPKG")
    source = driver.CreateDataSource(str(gpkg))
    bng = osr.SpatialReference()
    bng.ImportFromEPSG(27700)
    layer = source.CreateLayer("bench_parcels", bng, ogr.wkbPolygon, ["SPATIAL_INDEX=YES"])
    layer.CreateField(ogr.FieldDefn("parcel_id", ogr.OFTInteger64))
    layer.CreateField(ogr.FieldDefn("kind", ogr.OFTString))
    definition = layer.GetLayerDefn()
    centres = numpy.column_stack(
        (rng.uniform(100_000, 650_000, count), rng.uniform(10_000, 1_200_000, count))
    )
    radii = rng.uniform(15.0, 400.0, count)
    shapes = rng.integers(0, len(templates), count)
    layer.StartTransaction()
    for index in range(count):
        feature = ogr.Feature(definition)
        feature.SetField(0, index + 1)
        feature.SetField(1, kinds[index % len(kinds)])
        cx, cy = centres[index]
        wkb = _polygon_wkb(templates[shapes[index]], cx, cy, radii[index])
        feature.SetGeometryDirectly(ogr.CreateGeometryFromWkb(wkb))
        layer.CreateFeature(feature)
        if index % 100_000 == 99_999:
            layer.CommitTransaction()
            layer.StartTransaction()
    layer.CommitTransaction()
    source = None


def _write_geopackage_zip(target: Path, large_gb: float) -> None:
    gpkg = target.with_name("bench_parcels.gpkg")
    _write_geopackage(gpkg, large_gb)
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            archive.write(gpkg, "Data/bench_parcels.gpkg")
    finally:
        gpkg.unlink(missing_ok=True)


def ensure_large_geopackage(files_dir: Path, large_gb: float) -> Path:
    """The zip with a GeoPackage of about ``large_gb`` GB of polygons."""
    want = {"version": BENCH_LAYERS_VERSION, "large_gb": large_gb}
    target = files_dir / GEOPACKAGE_PRODUCT_ID / f"bench_parcels_{large_gb:g}gb.zip"
    return _stamped(target, want, lambda partial: _write_geopackage_zip(partial, large_gb))


def large_geopackage_product(relative_path: str, large_gb: float) -> Dict[str, Any]:
    """The catalogue entry of the GeoPackage benchmark product (replica only)."""
    return {
        "id": GEOPACKAGE_PRODUCT_ID,
        "name": "Benchmark GeoPackage of features (replica only)",
        "description": [f"About {large_gb:g} GB of polygon features in one GeoPackage."],
        "version": "2026-01",
        "areas": ["GB"],
        "dataStructures": ["Vector"],
        "category": "Mapping",
        "categories": ["mapsAndImagery"],
        "formats": [{"format": "GeoPackage"}],
        "imageCount": 0,
        "downloads": [
            {
                "fileName": Path(relative_path).name,
                "area": "GB",
                "format": "GeoPackage",
                "subformat": None,
                "path": relative_path,
            }
        ],
        "images": [],
        "imagesLarge": [],
    }
