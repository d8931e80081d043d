"""What goes into one OpenData zip: data files in the listed format plus the usual docs.

``vector_members`` turns a product's layers into the zip members for any vector
format the API lists (GeoPackage, Shapefile, GML, MapInfo, MBTiles), laid out
as OS lays them out: data in ``Data/`` (or ``data/``), ``Doc/licence.txt`` and
a readme. Product builders use it for the usual cases and write the unusual
layouts (Terrain 50, Code-Point Open, Open Greenspace GML...) themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .catalogue import DownloadSpec
from .sample_build import SampleBuild
from .sample_raster import BOUNDARY, DOT, GREEN, ROAD, URBAN, WATER, Drawing, Extent
from .sample_texts import licence, readme
from .sample_vector import (
    Layer,
    write_geopackage,
    write_mapinfo,
    write_mbtiles,
    write_ogr_gml,
    write_shapefiles,
)
from .sample_zip import ZipMember

_FORMAT_CODES = {
    "gpkg",
    "essh",
    "gml3",
    "gml32",
    "mbtiles",
    "csv",
    "tab",
    "gtiff",
    "shp",
    "cesh",
    "cgml",
    "gagg",
}


def stem_of(file_name: str) -> str:
    """``oproad_gpkg_gb.zip`` -> ``oproad_gb``: the name OS gives the data file inside."""
    parts = re.sub(r"\.zip$", "", file_name).split("_")
    return "_".join(p for p in parts if p not in _FORMAT_CODES)


@dataclass
class Archive:
    """One zip to write. OS Open UPRN zips have no folder entries and mode-000 files.

    ``bare``: the download is this one file as it is, not a zip (Zoomstack's
    ``OS_Open_Zoomstack.mbtiles``).
    """

    members: List[ZipMember]
    folder_entries: bool = True
    bare: Optional[Path] = None


@dataclass
class BuiltProduct:
    """A product's zips by file name, and what its thumbnails show (one extent per image)."""

    archives: Dict[str, Archive]
    drawings: List[Drawing]
    extents: List[Extent] = field(default_factory=list)
    relief: bool = False


@dataclass
class ProductWork:
    """One product being built: its record, the build and a private scratch folder."""

    product: Dict[str, Any]
    build: SampleBuild
    scratch: Path

    @property
    def name(self) -> str:
        return str(self.product["name"])

    @property
    def edition(self) -> str:
        return str(self.product["version"])

    @property
    def is_bgs(self) -> bool:
        return "thirdPartyInfo" in self.product

    def folder(self, *parts: str) -> Path:
        """A new empty scratch folder for one file's GDAL output."""
        path = self.scratch.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=False)
        return path

    def docs(
        self, members: Sequence[ZipMember], *, doc: str = "Doc", readme_path: Optional[str] = None
    ) -> List[ZipMember]:
        """``<doc>/licence.txt`` (Windows-1252) and a readme listing ``members``."""
        names = sorted(m.name for m in members)
        year = int(self.edition[:4]) if self.edition[:4].isdigit() else 2026
        return [
            ZipMember(f"{doc}/licence.txt", licence(self.name, year, bgs=self.is_bgs)),
            ZipMember(readme_path or f"{doc}/readme.txt", readme(self.name, self.edition, names)),
        ]


def _inside(folder: str, name: str) -> str:
    """A member name in ``folder`` of the zip ("" means the zip's root)."""
    return f"{folder}/{name}" if folder else name


def _from_files(folder: str, paths: Sequence[Path]) -> List[ZipMember]:
    return [ZipMember(_inside(folder, p.name), p) for p in paths]


def vector_members(
    work: ProductWork,
    spec: DownloadSpec,
    layers: Sequence[Layer],
    *,
    data: str = "Data",
    stem: Optional[str] = None,
    shp_prefix: str = "",
) -> List[ZipMember]:
    """The data members of ``spec`` (docs not included) written from ``layers``."""
    stem = stem or stem_of(spec.file_name)
    out = work.folder(re.sub(r"\W", "_", spec.file_name))
    fmt = spec.format
    if fmt == "GeoPackage":
        path = out / f"{stem}.gpkg"
        write_geopackage(path, layers)
        return [ZipMember(_inside(data, path.name), path)]
    if fmt == "ESRI® Shapefile":
        return _from_files(data, write_shapefiles(out, layers, prefix=shp_prefix))
    if fmt == "GML":
        version = "GML3.2" if spec.subformat == "3.2" else "GML3"
        return _from_files(data, write_ogr_gml(out / f"{stem}.gml", layers, version))
    if fmt in ("MapInfo", "MapInfo® TAB"):
        return _from_files(data, write_mapinfo(out, layers))
    if fmt == "Vector Tiles":
        path = out / f"{stem}.mbtiles"
        write_mbtiles(path, layers)
        return [ZipMember(_inside(data, path.name), path)]
    raise ValueError(f"No generic writer for {fmt!r} ({spec.file_name})")


def with_docs(work: ProductWork, members: List[ZipMember], **options: Any) -> List[ZipMember]:
    return members + work.docs(members, **options)


def layer_drawings(layers: Sequence[Layer]) -> List[Drawing]:
    """A thumbnail's drawing of any layers: areas filled, lines and points on top."""
    drawings: List[Drawing] = []
    order = {"polygon": 0, "multipolygon": 0, "line": 1, "multiline": 1, "point": 2}
    for layer in sorted(layers, key=lambda item: order[item.geometry]):
        wkts = tuple(w for w, _ in layer.features)
        if not wkts:
            continue
        if layer.geometry in ("polygon", "multipolygon"):
            drawings += [
                Drawing(wkts, GREEN if "green" in layer.name.lower() else URBAN),
                Drawing(wkts, BOUNDARY, "outline", 1),
            ]
        elif layer.geometry in ("line", "multiline"):
            colour = (
                WATER if any(k in layer.name.lower() for k in ("water", "river", "hydro")) else ROAD
            )
            drawings.append(Drawing(wkts, colour, "line", 2))
        else:
            drawings.append(Drawing(wkts, DOT, "dot", 1.5))
    return drawings
