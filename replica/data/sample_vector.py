"""Vector layers for the sample data, and OGR writers that give the same bytes every run.

A ``Layer`` is plain data (a name, a geometry type, typed fields, features as
WKT and attribute dicts), so one set of features can be written as GeoPackage,
Shapefile, GML, MapInfo TAB, MBTiles or CSV. ``gdal_settings`` pins the things
GDAL would otherwise take from the clock (GeoPackage ``last_change``, DBF
header dates), turns off ``.aux.xml`` side files and makes GDAL raise.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from osgeo import gdal, ogr, osr

BNG_EPSG = 27700
FIXED_TIMESTAMP = "2026-01-05T09:00:00.000Z"
FIXED_DATE = "2026-01-05"

_GEOMETRY_TYPES = {
    "point": ogr.wkbPoint,
    "line": ogr.wkbLineString,
    "multiline": ogr.wkbMultiLineString,
    "polygon": ogr.wkbPolygon,
    "multipolygon": ogr.wkbMultiPolygon,
}
_FIELD_TYPES = {
    "str": ogr.OFTString,
    "int": ogr.OFTInteger,
    "int64": ogr.OFTInteger64,
    "real": ogr.OFTReal,
    "date": ogr.OFTDate,
}

Feature = Tuple[str, Dict[str, Any]]


@dataclass(frozen=True)
class Layer:
    """Features to write: ``fields`` are (name, "str"|"int"|"int64"|"real"|"date") pairs."""

    name: str
    geometry: str
    fields: Tuple[Tuple[str, str], ...]
    features: Tuple[Feature, ...] = field(default_factory=tuple)


def british_national_grid() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(BNG_EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@contextlib.contextmanager
def gdal_settings() -> Iterator[None]:
    """GDAL config for reproducible output; restores the previous values after."""
    options = {
        "OGR_CURRENT_DATE": FIXED_TIMESTAMP,
        "GDAL_PAM_ENABLED": "NO",
    }
    previous = {key: gdal.GetConfigOption(key) for key in options}
    # GDAL 3.6 cannot reliably switch exceptions back off once on; the replica
    # process only ever wants them on.
    for module in (gdal, ogr, osr):
        module.UseExceptions()
    for key, value in options.items():
        gdal.SetConfigOption(key, value)
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # e.g. Shapefile's laundered-name warnings
    try:
        yield
    finally:
        gdal.PopErrorHandler()
        for key, value in previous.items():
            gdal.SetConfigOption(key, value)


def _fill(ogr_layer: ogr.Layer, layer: Layer) -> None:
    for name, kind in layer.fields:
        definition = ogr.FieldDefn(name, _FIELD_TYPES[kind])
        if kind == "str":
            definition.SetWidth(80)
        ogr_layer.CreateField(definition)
    defn = ogr_layer.GetLayerDefn()
    # By position: drivers may launder names (Shapefile cuts them to 10 characters).
    index = {name: i for i, (name, _) in enumerate(layer.fields)}
    ogr_layer.StartTransaction()
    for wkt, attributes in layer.features:
        feature = ogr.Feature(defn)
        for name, value in attributes.items():
            if value is not None:
                feature.SetField(index[name], value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        ogr_layer.CreateFeature(feature)
    ogr_layer.CommitTransaction()


def write_vector(
    path: Path,
    driver: str,
    layers: Sequence[Layer],
    *,
    dataset_options: Optional[List[str]] = None,
    layer_options: Optional[List[str]] = None,
) -> None:
    """One OGR datasource holding ``layers`` in EPSG:27700."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = list(layer_options or [])
    if driver == "ESRI Shapefile":
        options.append(f"DBF_DATE_LAST_UPDATE={FIXED_DATE}")
    with gdal_settings():
        source = ogr.GetDriverByName(driver).CreateDataSource(
            str(path), options=dataset_options or []
        )
        srs = british_national_grid()
        for layer in layers:
            ogr_layer = source.CreateLayer(
                layer.name, srs, _GEOMETRY_TYPES[layer.geometry], options=options
            )
            _fill(ogr_layer, layer)
        source = None  # closes and flushes


def write_geopackage(path: Path, layers: Sequence[Layer]) -> None:
    write_vector(path, "GPKG", layers)


def write_shapefiles(folder: Path, layers: Sequence[Layer], prefix: str = "") -> List[Path]:
    """One shapefile per layer (``prefix`` + layer name); returns every part written."""
    written: List[Path] = []
    for layer in layers:
        stem = folder / f"{prefix}{layer.name}"
        write_vector(stem.with_suffix(".shp"), "ESRI Shapefile", [layer])
        written += [stem.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj")]
        cpg = stem.with_suffix(".cpg")
        if cpg.exists():
            written.append(cpg)
    return written


def clear_dbase_name_padding(path: Path) -> None:
    """Zero the bytes after the NUL that ends each field name in a dBase header.

    GDAL 3.10+'s MapInfo writer leaves them uninitialised in the ``.dat``
    (one run ``NAME``, NUL, 0x7f, 0, 0, 0x10; the next the same but 0x11), so
    two runs would give different bytes and checksums. Readers stop at the NUL.
    """
    with path.open("r+b") as dat:
        header = bytearray(dat.read(32))
        header_size = int.from_bytes(header[8:10], "little")
        header += dat.read(max(0, header_size - 32))
        for start in range(32, len(header) - 31, 32):
            if header[start] == 0x0D:  # end of the field descriptors
                break
            name = header[start : start + 11]
            end = name.find(0)
            if end >= 0:
                header[start + end : start + 11] = bytes(11 - end)
        dat.seek(0)
        dat.write(header)


def write_mapinfo(folder: Path, layers: Sequence[Layer]) -> List[Path]:
    written: List[Path] = []
    for layer in layers:
        stem = folder / layer.name
        write_vector(stem.with_suffix(".tab"), "MapInfo File", [layer])
        clear_dbase_name_padding(stem.with_suffix(".dat"))
        written += [
            p for p in (stem.with_suffix(s) for s in (".tab", ".map", ".id", ".dat")) if p.exists()
        ]
    return written


def write_ogr_gml(path: Path, layers: Sequence[Layer], version: str = "GML3") -> List[Path]:
    """GML written by OGR (with its .xsd), for products whose GML layout is not modelled."""
    write_vector(
        path, "GML", layers, dataset_options=[f"FORMAT={version}", "SRSNAME_FORMAT=OGC_URN"]
    )
    return [p for p in (path, path.with_suffix(".xsd")) if p.exists()]


def write_mbtiles(path: Path, layers: Sequence[Layer], *, max_zoom: int = 11) -> None:
    """Vector tiles (MVT in MBTiles); GDAL reprojects to Web Mercator itself."""
    write_vector(
        path,
        "MBTiles",
        layers,
        dataset_options=[f"MAXZOOM={max_zoom}", "MINZOOM=6", "NAME=sample", "COMPRESS=YES"],
    )


def read_features(source: ogr.Layer) -> List[Feature]:
    """Features of an OGR layer as (WKT, attributes), e.g. contours GDAL just made."""
    result: List[Feature] = []
    defn = source.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    for feature in source:
        geometry = feature.GetGeometryRef()
        if geometry is None:
            continue
        result.append((geometry.ExportToWkt(), {n: feature.GetField(n) for n in names}))
    return result
