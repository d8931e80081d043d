"""The OS OpenData contributor: each product of ``catalogue.PRODUCTS``, its zips and thumbnails.

Writes ``files/<ProductId>/<fileName>`` for each listed download and
``files/images/<ProductId>_<i>.jpg`` (+ ``_large.jpg``) for each thumbnail, and
returns the ``products`` section of catalogue.json.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .catalogue import DOWNLOADS, PRODUCTS
from .sample_archive import BuiltProduct, ProductWork
from .sample_build import Contributor, SampleBuild
from .sample_generic import BUILDERS as GENERIC_BUILDERS
from .sample_products import BUILDERS as FULL_BUILDERS
from .sample_raster import Drawing, extent_of, render, write_jpeg
from .sample_vector import gdal_settings

VERSION = "2"
THUMBNAIL_SIZE = (240, 160)
LARGE_SIZE = (720, 480)
BUILDERS = {**GENERIC_BUILDERS, **FULL_BUILDERS}


def _thumbnails(build: SampleBuild, product_id: str, built: BuiltProduct) -> Dict[str, List[str]]:
    drawings: List[Drawing] = built.drawings
    extents = built.extents or [extent_of([w for d in drawings for w in d.wkts])]
    small, large = [], []
    folder = build.files_dir / "images"
    with gdal_settings():
        for index, extent in enumerate(extents):
            for size, suffix, out in ((THUMBNAIL_SIZE, "", small), (LARGE_SIZE, "_large", large)):
                path = folder / f"{product_id}_{index}{suffix}.jpg"
                write_jpeg(path, render(extent, size, drawings, relief=built.relief))
                out.append(build.relative(path))
    return {"images": small, "imagesLarge": large}


def _product(build: SampleBuild, record: Dict[str, Any]) -> Dict[str, Any]:
    product_id = record["id"]
    specs = DOWNLOADS[product_id]
    work = ProductWork(record, build, build.scratch("opendata", product_id))
    built = BUILDERS[product_id](work, specs)
    listed = {spec.file_name for spec in specs}
    if listed != set(built.archives):
        raise RuntimeError(
            f"{product_id}: built {sorted(built.archives)} but the catalogue lists {sorted(listed)}"
        )
    downloads = []
    for spec in specs:
        archive = built.archives[spec.file_name]
        if archive.bare is not None:
            path = build.write_bytes(f"{product_id}/{spec.file_name}", archive.bare.read_bytes())
        else:
            path = build.write_zip(
                f"{product_id}/{spec.file_name}",
                archive.members,
                folder_entries=archive.folder_entries,
            )
        entry: Dict[str, Any] = {
            "fileName": spec.file_name,
            "area": spec.area,
            "format": spec.format,
            "subformat": spec.subformat,
            "path": path,
        }
        if spec.unverified:
            entry["unverified"] = True
        downloads.append(entry)
    images = _thumbnails(build, product_id, built)
    return {**record, "imageCount": len(images["images"]), "downloads": downloads, **images}


def build_opendata(build: SampleBuild) -> Dict[str, Any]:
    return {"products": [_product(build, record) for record in PRODUCTS]}


CONTRIBUTOR = Contributor("os-opendata", VERSION, build_opendata)
