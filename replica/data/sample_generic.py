"""The other OpenData products: small but valid files in every listed format.

These products get a layer or two each (BGS hex grids and polygons, roads,
buildings, built-up areas, identifier tables, overview rasters) in OS's usual
``Data/`` + ``Doc/`` layout; nothing here models a product's full schema.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from osgeo import ogr

from .catalogue import DownloadSpec
from .sample_addresses import addresses
from .sample_archive import (
    Archive,
    BuiltProduct,
    ProductWork,
    layer_drawings,
    stem_of,
    vector_members,
    with_docs,
)
from .sample_geography import (
    GREENSPACES,
    HAMPSHIRE_DISTRICTS,
    LONDON_BOROUGHS,
    RIVERS,
    ROADS,
    SQUARES,
    buildings,
    ellipse,
    grid_square_origin,
    hex_grid,
    line_wkt,
    point_wkt,
    polygon_wkt,
    rectangle,
)
from .sample_products import LONDON, SOUTHAMPTON, map_drawings
from .sample_raster import render, write_geotiff
from .sample_vector import Layer, gdal_settings
from .sample_zip import ZipMember

LayerMaker = Callable[[str], List[Layer]]  # area ("GB", "UK", "NI", "TQ") -> layers


def _classes(seed: str, count: int, values: Sequence[str]) -> List[str]:
    rng = random.Random(seed)
    return [rng.choice(values) for _ in range(count)]


# --- BGS ------------------------------------------------------------------------------------


def _hex_layer(
    name: str,
    side: float,
    origin: Tuple[float, float],
    columns: int,
    rows: int,
    fields: Dict[str, Sequence[str]],
) -> Layer:
    cells = hex_grid(origin, side, columns, rows)
    values = {f: _classes(f"{name}:{f}", len(cells), v) for f, v in fields.items()}
    features = tuple(
        (polygon_wkt(ring), {"HEX_ID": f"{col:02d}{row:02d}", **{f: values[f][i] for f in fields}})
        for i, (col, row, ring) in enumerate(cells)
    )
    return Layer(
        name, "polygon", (("HEX_ID", "str"),) + tuple((f, "str") for f in fields), features
    )


def _square_layer(
    name: str,
    origin: Tuple[float, float],
    columns: int,
    rows: int,
    field: str,
    values: Sequence[str],
) -> Layer:
    classes = _classes(f"{name}:{field}", columns * rows, values)
    features = []
    for i in range(columns):
        for j in range(rows):
            ring = rectangle(origin[0] + i * 1000, origin[1] + j * 1000, 1000, 1000)
            features.append(
                (
                    polygon_wkt(ring),
                    {
                        "GRID_1KM": f"{int(origin[0] / 1000) + i}{int(origin[1] / 1000) + j}",
                        field: classes[i * rows + j],
                    },
                )
            )
    return Layer(name, "polygon", (("GRID_1KM", "str"), (field, "str")), tuple(features))


def _area_layer(name: str, field: str, values: Sequence[str]) -> Layer:
    areas = list(LONDON_BOROUGHS) + list(HAMPSHIRE_DISTRICTS)
    classes = _classes(f"{name}:{field}", len(areas), values)
    features = tuple(
        (polygon_wkt(a.ring), {"NAME": a.name, field: c}) for a, c in zip(areas, classes)
    )
    return Layer(name, "polygon", (("NAME", "str"), (field, "str")), features)


_LOW_MOD_SIG = ("Low", "Moderate", "Significant")


def _geoclimate(area: str) -> List[Layer]:
    fields = {
        "CLASS_2030": ("Improbable", "Possible", "Probable"),
        "CLASS_2070": ("Improbable", "Possible", "Probable"),
    }
    return [_hex_layer("GeoClimate_UKCP18_ShrinkSwell", 2887, (420000, 100000), 22, 6, fields)]


def _geocoast(area: str) -> List[Layer]:
    stats = Layer(
        "GeoCoast_Regional_Statistics",
        "polygon",
        (("NAME", "str"), ("PCT_INUND", "real"), ("PCT_EROS", "real")),
        tuple(
            (
                polygon_wkt(a.ring),
                {
                    "NAME": a.name,
                    "PCT_INUND": round(3 + i * 1.7, 1),
                    "PCT_EROS": round(0.5 + i * 0.9, 1),
                },
            )
            for i, a in enumerate(HAMPSHIRE_DISTRICTS)
        ),
    )
    water = [r for r in RIVERS if r.form == "tidalRiver"]
    domains = Layer(
        "GeoCoast_Erosion_Domains",
        "line",
        (("DOMAIN", "str"),),
        tuple((line_wkt(r.line()), {"DOMAIN": "Estuary"}) for r in water),
    )
    return [stats, domains]


def _geoscour(area: str) -> List[Layer]:
    return [
        _area_layer("GeoScour_Catchments", "SUSCEPT", _LOW_MOD_SIG),
        _area_layer("GeoScour_Subcatchments", "SCOUR", _LOW_MOD_SIG),
    ]


def _geosure(area: str) -> List[Layer]:
    fields = {
        k: _LOW_MOD_SIG
        for k in ("COLLAPSE", "COMPRESS", "LANDSLIDE", "RUN_SAND", "SHRINK_SWE", "SOLUBLE")
    }
    return [_hex_layer("GeoSure_Hex5km_GB", 5000, (420000, 100000), 14, 4, fields)]


def _geology(area: str) -> List[Layer]:
    rocks = (
        "LONDON CLAY FORMATION",
        "CHALK GROUP",
        "LAMBETH GROUP",
        "BRACKLESHAM GROUP",
        "THAMES GROUP",
    )
    bedrock = _area_layer("UK_625k_Bedrock", "LEX_D", rocks)
    faults = Layer(
        "UK_625k_Faults",
        "line",
        (("FEATURE_D", "str"),),
        (
            (line_wkt([(430000, 121000), (452000, 124000)]), {"FEATURE_D": "Fault"}),
            (line_wkt([(521000, 168000), (545000, 171000)]), {"FEATURE_D": "Fault, inferred"}),
        ),
    )
    return [bedrock, faults]


def _hydrogeology(area: str) -> List[Layer]:
    values = (
        "Highly productive aquifer",
        "Moderately productive aquifer",
        "Low productivity aquifer",
    )
    return [_area_layer("Hydrogeology625k_Aquifers", "CHARACTER", values)]


def _mining(area: str) -> List[Layer]:
    return [
        _hex_layer(
            "Mining_Hazard_Hex1km_GB",
            1000,
            (434000, 104000),
            12,
            10,
            {"CLASS": ("Low", "Moderate", "Significant", "NA")},
        )
    ]


def _soil(area: str) -> List[Layer]:
    return [
        _square_layer(
            "SPMM_1km",
            (436000, 106000),
            12,
            12,
            "TEXTURE",
            ("CLAY", "CLAY-LOAM", "LOAM", "SAND", "SILT"),
        )
    ]


def _radon(area: str) -> List[Layer]:
    origin = (140000, 524000) if area == "NI" else (436000, 106000)
    return [
        _square_layer(
            f"Radon_Indicative_Atlas_{area}",
            origin,
            10,
            10,
            "CLASS_MAX",
            ("1", "2", "3", "4", "5", "6"),
        )
    ]


# --- OS vector products ---------------------------------------------------------------------


def _road_layers(area: str) -> List[Layer]:
    links, nodes, junctions = [], {}, []
    for number, road in enumerate(ROADS):
        line = road.line()
        a = nodes.setdefault(line[0], f"osgb4000000{30000000 + len(nodes):09d}")
        b = nodes.setdefault(line[-1], f"osgb4000000{30000000 + len(nodes):09d}")
        links.append(
            (
                line_wkt(line),
                {
                    "id": f"osgb4000000{20000000 + number:09d}",
                    "fictitious": "false",
                    "road_classification": road.road_class,
                    "road_function": "Motorway"
                    if road.road_class == "Motorway"
                    else road.road_class,
                    "form_of_way": "Dual Carriageway"
                    if road.road_class == "Motorway"
                    else "Single Carriageway",
                    "road_classification_number": road.number or None,
                    "name_1": road.name or None,
                    "length": int(
                        sum(
                            ((q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2) ** 0.5
                            for p, q in zip(line, line[1:])
                        )
                    ),
                    "start_node": a,
                    "end_node": b,
                },
            )
        )
        if road.road_class == "Motorway":
            for j, point in enumerate(line[3::6], start=3):
                junctions.append(
                    (
                        point_wkt(point),
                        {"id": f"osgb4000000{40000000 + j:09d}", "junction_number": str(j)},
                    )
                )
    fields = (
        ("id", "str"),
        ("fictitious", "str"),
        ("road_classification", "str"),
        ("road_function", "str"),
        ("form_of_way", "str"),
        ("road_classification_number", "str"),
        ("name_1", "str"),
        ("length", "int"),
        ("start_node", "str"),
        ("end_node", "str"),
    )
    return [
        Layer("road_link", "line", fields, tuple(links)),
        Layer(
            "road_node",
            "point",
            (("id", "str"), ("form_of_road_node", "str")),
            tuple(
                (point_wkt(p), {"id": i, "form_of_road_node": "junction"}) for p, i in nodes.items()
            ),
        ),
        Layer(
            "motorway_junction",
            "point",
            (("id", "str"), ("junction_number", "str")),
            tuple(junctions),
        ),
    ]


def _building_layer(name: str, spacing: float, area: str) -> Layer:
    blocks = [((528500, 180500), 2000, 1500, "london")]
    if area in ("GB", "SU"):
        blocks.append(((441300, 111400), 1500, 1000, "southampton"))
    features = []
    for origin, w, h, seed in blocks:
        for ring in buildings(origin, w, h, f"{name}:{seed}", spacing=spacing):
            features.append(
                (polygon_wkt(ring), {"id": f"{len(features):08d}", "feature_code": 15014})
            )
    return Layer(name, "polygon", (("id", "str"), ("feature_code", "int")), tuple(features))


def _lines(name: str, items, field: str) -> Layer:
    return Layer(
        name,
        "line",
        ((field, "str"),),
        tuple((line_wkt(i.line()), {field: i.name or i.number}) for i in items),
    )


def _openmap_local(area: str) -> List[Layer]:
    return [
        _building_layer("Building", 60, area),
        _lines("Road", ROADS, "DISTNAME"),
        _lines("SurfaceWater_Line", RIVERS, "NAME"),
    ]


def _vectormap_district(area: str) -> List[Layer]:
    return [
        _building_layer("Building", 120, area),
        _lines("Road", ROADS, "DISTNAME"),
        _lines("SurfaceWater_Line", RIVERS, "NAME"),
        Layer(
            "Woodland",
            "polygon",
            (("featureCode", "int"),),
            tuple((polygon_wkt(g.ring()), {"featureCode": 25999}) for g in GREENSPACES[:8]),
        ),
    ]


def _zoomstack(area: str) -> List[Layer]:
    by_class = {
        "Motorway": "roads_national",
        "A Road": "roads_regional",
        "B Road": "roads_local",
        "Unclassified": "roads_local",
    }
    roads: Dict[str, list] = {}
    for road in ROADS:
        roads.setdefault(by_class[road.road_class], []).append(
            (
                line_wkt(road.line()),
                {"type": road.road_class, "name": road.name or None, "number": road.number or None},
            )
        )
    fields = (("type", "str"), ("name", "str"), ("number", "str"))
    layers = [
        Layer(name, "line", fields, tuple(features)) for name, features in sorted(roads.items())
    ]
    layers.append(
        Layer(
            "waterlines",
            "line",
            (("type", "str"),),
            tuple(
                (line_wkt(r.line()), {"type": "MHW" if r.form == "tidalRiver" else "River"})
                for r in RIVERS
            ),
        )
    )
    layers.append(
        Layer(
            "greenspace",
            "polygon",
            (("type", "str"),),
            tuple((polygon_wkt(g.ring()), {"type": g.function}) for g in GREENSPACES),
        )
    )
    layers.append(_building_layer("local_buildings", 90, area))
    return layers


def _built_up_areas(area: str) -> List[Layer]:
    towns = (
        ("Greater London", "E63004889", (529000, 180500), (38000, 28000)),
        ("Southampton", "E63011826", (442300, 113000), (9000, 8000)),
        ("Eastleigh", "E63011828", (445600, 119200), (4000, 3500)),
        ("Cambridge", "E63006103", (546000, 258200), (6500, 6000)),
    )
    features = []
    for name, code, centre, size in towns:
        wkt = polygon_wkt(ellipse(centre, size[0], size[1], f"bua:{name}", vertices=28))
        features.append(
            (
                wkt,
                {
                    "gsscode": code,
                    "name1_text": name,
                    "name1_language": None,
                    "areahectares": round(3.14159 * size[0] * size[1] / 4 / 10000, 2),
                },
            )
        )
    fields = (
        ("gsscode", "str"),
        ("name1_text", "str"),
        ("name1_language", "str"),
        ("areahectares", "real"),
    )
    return [Layer("os_open_built_up_areas", "polygon", fields, tuple(features))]


def _usrn(area: str) -> List[Layer]:
    """The sketched main roads, then a short street line at the first address of each USRN
    the addresses use (so OS Open USRN joins to OS Open Linked Identifiers)."""
    kind = {"street_type": "Designated Street Name"}
    features = [
        (line_wkt(road.line()), {"usrn": 20000000 + i * 131, **kind})
        for i, road in enumerate(ROADS)
    ]
    first: Dict[int, Tuple[float, float]] = {}
    for a in addresses():
        first.setdefault(a.usrn, (a.easting, a.northing))
    for usrn, (e, n) in sorted(first.items()):
        features.append((line_wkt([(e - 80, n - 20), (e + 80, n + 20)]), {"usrn": usrn, **kind}))
    return [Layer("openUSRN", "line", (("usrn", "int"), ("street_type", "str")), tuple(features))]


LAYERS: Dict[str, LayerMaker] = {
    "GeoClimate_UKCP18_Open": _geoclimate,
    "GeoCoast_Open": _geocoast,
    "GeoScour_Open": _geoscour,
    "GB-Hex-5km-GeoSure": _geosure,
    "BGS_Geology_625k": _geology,
    "Hydrogeology_625k": _hydrogeology,
    "GB-Hex-1km-Mining-Haz": _mining,
    "Soil_Parent_Material_Model_1km": _soil,
    "Radon_Indicative_Atlas": _radon,
    "OpenRoads": _road_layers,
    "OpenZoomstack": _zoomstack,
    "OpenMapLocal": _openmap_local,
    "VectorMapDistrict": _vectormap_district,
    "BuiltUpAreas": _built_up_areas,
    "OpenUSRN": _usrn,
}

# Data folder and data-file stem where the product departs from Data/<stem>.
_LAYOUT = {
    "OpenZoomstack": ("Data", "OS_Open_Zoomstack"),
    "VectorMapDistrict": ("data", None),
}
_CAMEL = {"road_link": "RoadLink", "road_node": "RoadNode", "motorway_junction": "MotorwayJunction"}


def _rendered_tif(work: ProductWork, name: str, extent, size, *, rgb: bool) -> ZipMember:
    out = work.folder(f"tif_{name.replace('/', '_')}")
    path = out / name.rsplit("/", 1)[-1]
    with gdal_settings():
        write_geotiff(path, render(extent, size, map_drawings(), relief=True), rgb=rgb)
    return ZipMember(name, path)


def build_generic(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    """Every listed download of a product from ``LAYERS``, by format."""
    pid = work.product["id"]
    make = LAYERS[pid]
    data_dir, stem = _LAYOUT.get(pid, ("Data", None))
    archives = {}
    made: Dict[str, List[Layer]] = {}
    for spec in specs:
        if spec.area not in made:
            if spec.area in ("GB", "UK", "NI") or spec.area in SQUARES:
                made[spec.area] = make(spec.area)
            else:  # a square the sample geography leaves empty: the layers, no features
                whole = made.get("GB") or make("GB")
                made[spec.area] = [Layer(k.name, k.geometry, k.fields, ()) for k in whole]
        layers = made[spec.area]
        if spec.format in ("ESRI® Shapefile", "GML"):
            layers = [
                Layer(
                    _CAMEL.get(layer.name, layer.name), layer.geometry, layer.fields, layer.features
                )
                for layer in layers
            ]
        if not spec.file_name.endswith(".zip"):  # a bare data file (Zoomstack's .mbtiles)
            (member,) = vector_members(work, spec, layers, data="", stem=Path(spec.file_name).stem)
            archives[spec.file_name] = Archive([], bare=Path(member.data))
            continue
        if pid == "OpenUSRN":
            members = vector_members(
                work, spec, layers, data="", stem=f"osopenusrn_{work.edition.replace('-', '')}"
            )
            archives[spec.file_name] = Archive(members)
            continue
        if spec.area not in ("GB", "UK", "NI"):  # per-square downloads: OS's "(format) SQ" folders
            layers = [_clip(layer, spec.area) for layer in layers]
            label = {"ESRI® Shapefile": "ESRI Shape File", "GML": "GML", "GeoTIFF": "Raster"}[
                spec.format
            ]
            top = f"{work.name.replace('®', '').replace(' -', '')} ({label}) {spec.area}"
            if spec.format == "GeoTIFF":
                e, n = (528000, 178000)
                data = [
                    _rendered_tif(
                        work,
                        f"{top}/data/{spec.area}28.tif",
                        (e - 5000, n - 5000, e + 5000, n + 5000),
                        (400, 400),
                        rgb=True,
                    )
                ]
            else:
                data = vector_members(
                    work,
                    spec,
                    layers,
                    data=f"{top}/data",
                    stem=spec.area,
                    shp_prefix=f"{spec.area}_",
                )
            archives[spec.file_name] = Archive(
                with_docs(work, data, doc=f"{top}/doc", readme_path=f"{top}/readme.txt")
            )
            continue
        if spec.format == "CSV":
            data = [
                ZipMember(
                    f"{data_dir}/{stem or stem_of(spec.file_name)}.csv", _csv_with_wkt(layers[0])
                )
            ]
        elif spec.format == "GeoTIFF":
            data = [
                _rendered_tif(
                    work,
                    f"{data_dir}/{stem_of(spec.file_name)}.tif",
                    (420000, 95000, 560000, 200000),
                    (350, 260),
                    rgb=spec.subformat == "Full Colour",
                )
            ]
        else:
            data = vector_members(work, spec, layers, data=data_dir, stem=stem)
        archives[spec.file_name] = Archive(
            with_docs(work, data, doc="Doc" if data_dir == "Data" else "doc")
        )
    drawings = layer_drawings(make(specs[0].area))
    return BuiltProduct(
        archives,
        drawings,
        [LONDON, SOUTHAMPTON]
        if pid in ("OpenRoads", "OpenMapLocal", "VectorMapDistrict", "OpenZoomstack")
        else [],
    )


def _clip(layer: Layer, square: str) -> Layer:
    """Only the features touching one 100 km square."""
    e0, n0 = SQUARES.get(square) or grid_square_origin(square)
    box = ogr.CreateGeometryFromWkt(polygon_wkt(rectangle(e0, n0, 100000, 100000)))
    kept = tuple((w, a) for w, a in layer.features if ogr.CreateGeometryFromWkt(w).Intersects(box))
    return Layer(layer.name, layer.geometry, layer.fields, kept)


def _csv_with_wkt(layer: Layer) -> bytes:
    """A CSV with a header row and the geometry as WKT (as the Built Up Areas CSV has)."""
    names = [name for name, _ in layer.fields]
    lines = [",".join(n.upper() for n in names) + ",GEOMETRY"]
    for wkt, attrs in layer.features:
        cells = ["" if attrs.get(n) is None else str(attrs[n]) for n in names]
        lines.append(",".join(cells) + f',"{wkt}"')
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# --- rasters and tables ---------------------------------------------------------------------


def build_overview_maps(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    archives = {}
    for spec in specs:
        tif = _rendered_tif(
            work, "Data/GB_Overview_Map.tif", (400000, 90000, 600000, 230000), (400, 280), rgb=True
        )
        archives[spec.file_name] = Archive(with_docs(work, [tif]))
    return BuiltProduct(archives, map_drawings(), [(400000, 90000, 600000, 230000)], relief=True)


_EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 200 140
%%Title: MiniScale (standard) R17 - sample
%%EndComments
0.47 0.69 0.87 setrgbcolor
newpath 20 20 moveto 180 120 lineto 4 setlinewidth stroke
showpage
%%EOF
"""


def build_miniscale(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    archives = {}
    for spec in specs:
        name = "MiniScale_(standard)_R17"
        extent = (400000, 90000, 600000, 230000)
        tif = _rendered_tif(
            work, f"minisc_gb/data/RGB_TIF_compressed/{name}.tif", extent, (400, 280), rgb=True
        )
        pixel = (extent[2] - extent[0]) / 400
        lines = (pixel, 0.0, 0.0, -pixel, extent[0] + pixel / 2, extent[3] - pixel / 2)
        world = "".join(f"{value:.1f}\r\n" for value in lines)
        data = [
            tif,
            ZipMember(f"minisc_gb/data/World_Files/{name}.tfw", world.encode("ascii")),
            ZipMember(f"minisc_gb/data/EPS/{name}.eps", _EPS),
        ]
        archives[spec.file_name] = Archive(with_docs(work, data, doc="minisc_gb/doc"))
    return BuiltProduct(archives, map_drawings(), [(400000, 90000, 600000, 230000)], relief=True)


def build_lids(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    header = (
        "CORRELATION_ID,IDENTIFIER_1,VERSION_NUMBER_1,VERSION_DATE_1,"
        "IDENTIFIER_2,VERSION_NUMBER_2,VERSION_DATE_2,CONFIDENCE"
    )
    archives = {}
    for spec in specs:
        relation = spec.file_name.split("_csv_", 1)[1][: -len(".zip")]
        to_street = "USRN" in relation
        lines = [header]
        for a in addresses():
            other = str(a.usrn) if to_street else a.toid
            lines.append(
                f"{a.uprn}_{other},{a.uprn},,2025-11-03,{other},{'' if to_street else 4},"
                f"2025-11-03,{'RELATED' if to_street else 'MATCHED'}"
            )
        name = relation.replace("-", "_") + ".csv"
        archives[spec.file_name] = Archive(
            [ZipMember(name, ("\r\n".join(lines) + "\r\n").encode("ascii"))], folder_entries=False
        )
    points = Layer(
        "uprn", "point", (), tuple((point_wkt((a.easting, a.northing)), {}) for a in addresses())
    )
    return BuiltProduct(
        archives, layer_drawings([points]), [(528000, 172000, 546000, 184000), SOUTHAMPTON]
    )


BUILDERS = {
    **{product_id: build_generic for product_id in LAYERS},
    "GBOverviewMaps": build_overview_maps,
    "MiniScale": build_miniscale,
    "LIDS": build_lids,
}
