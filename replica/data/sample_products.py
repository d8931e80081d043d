"""The OpenData products modelled in full: real zip layouts, realistic content.

OS Open Rivers, Boundary-Line, OS Open Greenspace, Code-Point Open, OS Terrain 50,
1:250 000 Scale Colour Raster, OS Open UPRN, OS Open TOID and OS Open Names. Each
builder returns every zip its product lists (see ``catalogue.DOWNLOADS``).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Sequence, Tuple

from osgeo import ogr

from .catalogue import DownloadSpec
from .sample_addresses import addresses
from .sample_archive import (
    Archive,
    BuiltProduct,
    ProductWork,
    layer_drawings,
    vector_members,
    with_docs,
)
from .sample_geography import (
    CONSTITUENCIES,
    GREENSPACES,
    HAMPSHIRE_COUNTY,
    HAMPSHIRE_DISTRICTS,
    LONDON_BOROUGHS,
    NAMED_PLACES,
    RIVERS,
    ROADS,
    SQUARES,
    AdminArea,
    NamedPlace,
    Point,
    line_wkt,
    point_wkt,
    polygon_wkt,
    square_of,
)
from .sample_gml import GreenspaceRecord, greenspace, guid, terrain_grid
from .sample_postcodes import codepoint_rows
from .sample_raster import (
    BOUNDARY,
    GREEN,
    INK,
    ROAD,
    WATER,
    Drawing,
    Tile,
    ascii_grid,
    contours,
    esri_prj,
    height,
    render,
    write_geotiff,
)
from .sample_texts import (
    OPEN_NAMES_COLUMNS,
    codepoint_headers,
    codepoint_metadata,
    licence,
    open_uprn_versions,
    readme,
    terrain_metadata,
)
from .sample_vector import Layer, gdal_settings
from .sample_zip import ZipMember, zip_bytes

Builder = Callable[[ProductWork, Sequence[DownloadSpec]], BuiltProduct]
LONDON: Tuple[float, float, float, float] = (515000, 165000, 545000, 190000)
SOUTHAMPTON: Tuple[float, float, float, float] = (434000, 104000, 452000, 122000)


def _rename(layer: Layer, name: str, fields: Sequence[str] = ()) -> Layer:
    """The same features under another layer name and, optionally, other field names."""
    if not fields:
        return Layer(name, layer.geometry, layer.fields, layer.features)
    mapping = dict(zip((f for f, _ in layer.fields), fields))
    return Layer(
        name,
        layer.geometry,
        tuple((mapping[f], kind) for f, kind in layer.fields),
        tuple((w, {mapping[k]: v for k, v in attrs.items()}) for w, attrs in layer.features),
    )


def _length(points: Sequence[Point]) -> int:
    return int(round(sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:]))))


def _cp1252_csv(rows: Sequence[Sequence[object]]) -> bytes:
    return "".join(",".join(str(c) for c in row) + "\r\n" for row in rows).encode("cp1252")


# --- OS Open Rivers -------------------------------------------------------------------------


def river_layers() -> List[Layer]:
    """watercourse_link and hydro_node, split at confluences and every few vertices."""
    lines = {river.name: river.line() for river in RIVERS}
    ends = {line[0] for line in lines.values()} | {line[-1] for line in lines.values()}
    starts = {line[0] for line in lines.values()}
    node_ids: Dict[Point, str] = {}
    links = []
    for river in RIVERS:
        line = lines[river.name]
        piece: List[Point] = [line[0]]
        for vertex in line[1:]:
            piece.append(vertex)
            if vertex in ends or len(piece) >= 9 or vertex == line[-1]:
                a = node_ids.setdefault(piece[0], guid("hydro", piece[0]))
                b = node_ids.setdefault(piece[-1], guid("hydro", piece[-1]))
                links.append(
                    (
                        line_wkt(piece),
                        {
                            "id": guid("link", river.name, len(links)),
                            "fictitious": "false",
                            "flow_direction": "in direction",
                            "length": _length(piece),
                            "form": river.form,
                            "name1": river.name,
                            "name1_lang": None,
                            "name2": None,
                            "name2_lang": None,
                            "start_node": a,
                            "end_node": b,
                        },
                    )
                )
                piece = [vertex]
    finals = {line[-1] for line in lines.values()}
    nodes = []
    for point, node in sorted(node_ids.items(), key=lambda item: item[1]):
        joins = sum(
            1 for line in lines.values() if point in (line[0], line[-1]) or point in line[1:-1]
        )
        if joins > 1:
            form = "junction"
        elif point in starts:
            form = "source"
        elif point in finals:
            form = "outlet"
        else:
            form = "pseudoNode"
        nodes.append((point_wkt(point), {"id": node, "form_of_node": form}))
    link_fields = (
        ("id", "str"),
        ("fictitious", "str"),
        ("flow_direction", "str"),
        ("length", "int"),
        ("form", "str"),
        ("name1", "str"),
        ("name1_lang", "str"),
        ("name2", "str"),
        ("name2_lang", "str"),
        ("start_node", "str"),
        ("end_node", "str"),
    )
    return [
        Layer("watercourse_link", "line", link_fields, tuple(links)),
        Layer("hydro_node", "point", (("id", "str"), ("form_of_node", "str")), tuple(nodes)),
    ]


def build_open_rivers(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    layers = river_layers()
    camel = [_rename(layers[0], "WatercourseLink"), _rename(layers[1], "HydroNode")]
    archives = {}
    for spec in specs:
        chosen = camel if spec.format in ("ESRI® Shapefile", "GML") else layers
        archives[spec.file_name] = Archive(with_docs(work, vector_members(work, spec, chosen)))
    return BuiltProduct(archives, layer_drawings(layers), [LONDON, SOUTHAMPTON])


# --- Boundary-Line --------------------------------------------------------------------------

_BDLINE_FIELDS = (
    ("name", "str"),
    ("area_code", "str"),
    ("area_description", "str"),
    ("file_name", "str"),
    ("feature_serial_number", "int"),
    ("collection_serial_number", "int"),
    ("global_polygon_id", "int"),
    ("admin_unit_id", "int"),
    ("census_code", "str"),
    ("hectares", "real"),
    ("non_inland_area", "real"),
    ("area_type_code", "str"),
    ("area_type_description", "str"),
    ("non_area_type_code", "str"),
    ("non_area_type_description", "str"),
)
_BDLINE_SHP_FIELDS = (
    "NAME",
    "AREA_CODE",
    "DESCRIPTIO",
    "FILE_NAME",
    "NUMBER",
    "NUMBER0",
    "POLYGON_ID",
    "UNIT_ID",
    "CODE",
    "HECTARES",
    "AREA",
    "TYPE_CODE",
    "DESCRIPT0",
    "TYPE_COD0",
    "DESCRIPT1",
)
_DESCRIPTIONS = {
    "CTY": "County",
    "UTA": "Unitary Authority",
    "DIS": "District",
    "LBO": "London Borough",
    "WMC": "Westminster Constituency",
    "EUR": "European Region",
}


def _union(areas: Sequence[AdminArea]) -> str:
    shape = ogr.CreateGeometryFromWkt(polygon_wkt(areas[0].ring))
    for area in areas[1:]:
        shape = shape.Union(ogr.CreateGeometryFromWkt(polygon_wkt(area.ring)))
    return shape.ExportToWkt()


def _bdline_layer(name: str, file_name: str, items: Sequence[Tuple[str, str, str, str]]) -> Layer:
    """``items``: (name, GSS code, area type, WKT)."""
    features = []
    for number, (area_name, code, kind, wkt) in enumerate(items, start=1):
        hectares = round(ogr.CreateGeometryFromWkt(wkt).GetArea() / 10000, 3)
        polygon_id = 40000 + number * 17 + len(name)
        features.append(
            (
                wkt,
                {
                    "name": area_name,
                    "area_code": kind,
                    "area_description": _DESCRIPTIONS[kind],
                    "file_name": file_name,
                    "feature_serial_number": number,
                    "collection_serial_number": number,
                    "global_polygon_id": polygon_id,
                    "admin_unit_id": 10000 + number * 101 + len(name),
                    "census_code": code,
                    "hectares": hectares,
                    "non_inland_area": round(hectares * 0.02, 3),
                    "area_type_code": "AA",
                    "area_type_description": "Civil Administration Area",
                    "non_area_type_code": None,
                    "non_area_type_description": None,
                },
            )
        )
    return Layer(name, "multipolygon", _BDLINE_FIELDS, tuple(features))


def boundary_layers() -> Dict[str, Layer]:
    """Boundary-Line GeoPackage layers by name (the shapefile names add ``_region``)."""
    hampshire = [a for a in HAMPSHIRE_DISTRICTS if a.kind == "DIS"]
    districts = list(LONDON_BOROUGHS) + list(HAMPSHIRE_DISTRICTS)

    def multi(wkt: str) -> str:
        return ogr.ForceToMultiPolygon(ogr.CreateGeometryFromWkt(wkt)).ExportToWkt()

    return {
        "county": _bdline_layer(
            "county", "COUNTY", [(*HAMPSHIRE_COUNTY, multi(_union(hampshire)))]
        ),
        "district_borough_unitary": _bdline_layer(
            "district_borough_unitary",
            "DISTRICT_BOROUGH_UNITARY",
            [(a.name, a.code, a.kind, multi(polygon_wkt(a.ring))) for a in districts],
        ),
        "westminster_const": _bdline_layer(
            "westminster_const",
            "WESTMINSTER_CONSTITUENCY",
            [(a.name, a.code, a.kind, multi(polygon_wkt(a.ring))) for a in CONSTITUENCIES],
        ),
        "english_region": _bdline_layer(
            "english_region",
            "EUROPEAN_REGION",
            [
                ("London English Region", "E15000007", "EUR", multi(_union(LONDON_BOROUGHS))),
                (
                    "South East English Region",
                    "E15000008",
                    "EUR",
                    multi(_union(HAMPSHIRE_DISTRICTS)),
                ),
            ],
        ),
    }


def build_boundary_line(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    layers = boundary_layers()
    regions = [
        _rename(layer, f"{name}_region", _BDLINE_SHP_FIELDS) for name, layer in layers.items()
    ]
    archives = {}
    for spec in specs:
        if spec.format in ("ESRI® Shapefile", "MapInfo® TAB"):
            members = vector_members(work, spec, regions, data="Data/GB")
        else:
            members = vector_members(work, spec, list(layers.values()))
        archives[spec.file_name] = Archive(with_docs(work, members))
    drawings = [
        Drawing(
            tuple(w for w, _ in layers["district_borough_unitary"].features), BOUNDARY, "outline", 1
        ),
        Drawing(tuple(w for w, _ in layers["county"].features), INK, "outline", 2.5),
    ]
    return BuiltProduct(archives, drawings, [LONDON, SOUTHAMPTON])


# --- OS Open Greenspace ---------------------------------------------------------------------


def _greenspaces(area: str) -> List[GreenspaceRecord]:
    return [
        GreenspaceRecord(g.name, g.function, tuple(g.ring()), tuple(g.access_points()))
        for g in GREENSPACES
        if area == "GB" or square_of(*g.centre) == area
    ]


def greenspace_layers(area: str) -> List[Layer]:
    sites, points = [], []
    for record in _greenspaces(area):
        site = guid("greenspace", record.name)
        sites.append(
            (
                polygon_wkt(record.ring),
                {"id": site, "function": record.function, "distinctive_name_1": record.name},
            )
        )
        for number, point in enumerate(record.access):
            points.append(
                (
                    point_wkt(point),
                    {
                        "id": guid("access", record.name, number),
                        "access_type": "Pedestrian",
                        "ref_to_greenspace_site": site,
                    },
                )
            )
    return [
        Layer(
            "greenspace_site",
            "polygon",
            (("id", "str"), ("function", "str"), ("distinctive_name_1", "str")),
            tuple(sites),
        ),
        Layer(
            "access_point",
            "point",
            (("id", "str"), ("access_type", "str"), ("ref_to_greenspace_site", "str")),
            tuple(points),
        ),
    ]


def build_open_greenspace(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    archives = {}
    for spec in specs:
        area = spec.area
        if spec.format == "GML":
            top = f"OS Open Greenspace (GML) {area}"
            data = [
                ZipMember(
                    f"{top}/data/OSOpenGreenspace_{area}.gml",
                    greenspace(f"OSOpenGreenspace_{area}", _greenspaces(area)),
                )
            ]
            members = with_docs(work, data, doc=f"{top}/doc", readme_path=f"{top}/readme.txt")
        elif spec.format == "ESRI® Shapefile":
            top = f"OS Open Greenspace (ESRI Shape File) {area}"
            site, access = greenspace_layers(area)
            shp = [
                _rename(site, "GreenspaceSite", ("id", "function", "distName1")),
                _rename(access, "AccessPoint", ("id", "accessType", "refToGSite")),
            ]
            data = vector_members(work, spec, shp, data=f"{top}/data", shp_prefix=f"{area}_")
            members = with_docs(work, data, doc=f"{top}/doc", readme_path=f"{top}/readme.txt")
        else:
            label = "GeoPackage" if spec.format == "GeoPackage" else "Vector Tiles"
            top = f"OS Open Greenspace ({label}) {area}"
            data = vector_members(work, spec, greenspace_layers(area), data=f"{top}/data")
            members = with_docs(work, data, doc=f"{top}/doc", readme_path=f"{top}/readme.txt")
        archives[spec.file_name] = Archive(members)
    drawings = [
        Drawing(tuple(polygon_wkt(g.ring()) for g in GREENSPACES), GREEN),
        Drawing(tuple(polygon_wkt(g.ring()) for g in GREENSPACES), INK, "outline", 1),
        Drawing(tuple(line_wkt(r.line()) for r in RIVERS), WATER, "line", 2),
    ]
    return BuiltProduct(archives, drawings, [LONDON, (543000, 255000, 550000, 261000)])


# --- Code-Point Open ------------------------------------------------------------------------


def _codepoint_csv(rows) -> bytes:
    lines = []
    for r in rows:
        lines.append(
            f'"{r.postcode}",{r.quality},{r.easting},{r.northing},"{r.country}","{r.nhs_region}",'
            f'"{r.nhs_area}","{r.county}","{r.district}","{r.ward}"'
        )
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def codepoint_layer() -> Layer:
    features = []
    for rows in codepoint_rows().values():
        for r in rows:
            features.append(
                (
                    point_wkt((r.easting, r.northing)),
                    {
                        "postcode": r.postcode,
                        "positional_quality_indicator": r.quality,
                        "country_code": r.country,
                        "nhs_regional_ha_code": r.nhs_region,
                        "nhs_ha_code": r.nhs_area,
                        "admin_county_code": r.county,
                        "admin_district_code": r.district,
                        "admin_ward_code": r.ward,
                    },
                )
            )
    fields = (
        ("postcode", "str"),
        ("positional_quality_indicator", "int"),
        ("country_code", "str"),
        ("nhs_regional_ha_code", "str"),
        ("nhs_ha_code", "str"),
        ("admin_county_code", "str"),
        ("admin_district_code", "str"),
        ("admin_ward_code", "str"),
    )
    return Layer("code_point_open", "point", fields, tuple(features))


def build_code_point_open(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    rows = codepoint_rows()
    counts = {area: len(items) for area, items in rows.items()}
    doc = [
        ZipMember("Doc/Code-Point_Open_Column_Headers.csv", codepoint_headers()),
        ZipMember("Doc/licence.txt", licence(work.name, int(work.edition[:4]))),
        ZipMember("Doc/metadata.txt", codepoint_metadata(work.edition, counts)),
    ]
    archives = {}
    for spec in specs:
        if spec.format == "CSV":
            data = [
                ZipMember(f"Data/CSV/{area}.csv", _codepoint_csv(items))
                for area, items in rows.items()
            ]
            archives[spec.file_name] = Archive(data + doc)
        else:
            data = vector_members(work, spec, [codepoint_layer()], stem="codepo_gb")
            notes = readme(work.name, work.edition, sorted(m.name for m in data + doc))
            archives[spec.file_name] = Archive(data + doc + [ZipMember("readme.txt", notes)])
    return BuiltProduct(
        archives,
        layer_drawings([codepoint_layer()]),
        [(528000, 172000, 546000, 184000), SOUTHAMPTON],
    )


# --- OS Terrain 50 --------------------------------------------------------------------------

TERRAIN_TILES = ("SU41", "SU42", "TQ27", "TQ28", "TQ37", "TQ38")


def build_terrain_50(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    release = work.edition.replace("-", "") + "01"
    tiles = [Tile.named(name, SQUARES) for name in TERRAIN_TILES]
    grids = {tile.name: tile.rows() for tile in tiles}
    lines = {tile.name: contours(tile, grids[tile.name]) for tile in tiles}
    contour_fields = (("height", "real"), ("tile", "str"))
    all_lines = Layer(
        "contour_line",
        "line",
        contour_fields,
        tuple(
            (w, {"height": a["height"], "tile": name})
            for name, feats in lines.items()
            for w, a in feats
        ),
    )
    spots = Layer(
        "spot_height",
        "point",
        (("height", "real"),),
        tuple(
            (
                point_wkt((t.west + 5000, t.south + 5000)),
                {"height": height(t.west + 5000, t.south + 5000)},
            )
            for t in tiles
        ),
    )
    archives = {}
    for spec in specs:
        if spec.format == "ASCII Grid and GML (Grid)":
            data = []
            for tile in tiles:
                inner = zip_bytes(
                    [
                        ZipMember(f"{tile.name}.asc", ascii_grid(tile, grids[tile.name])),
                        ZipMember(f"{tile.name}.prj", esri_prj()),
                        ZipMember(
                            f"{tile.name}.gml", terrain_grid(tile.name, tile.west, tile.south)
                        ),
                        ZipMember(
                            f"Metadata_{tile.name}.xml",
                            terrain_metadata(tile.name, tile.west, tile.south, release),
                        ),
                    ],
                    folder_entries=False,
                )
                square = tile.name[:2].lower()
                data.append(
                    ZipMember(f"data/{square}/{tile.name.lower()}_OST50GRID_{release}.zip", inner)
                )
            members = with_docs(work, data, doc="doc")
        elif spec.format in ("ESRI® Shapefile", "GML") and spec.subformat == "(Contours)":
            data = []
            for tile in tiles:
                layer = Layer(
                    f"{tile.name}_line",
                    "line",
                    (("PROP_VALUE", "real"),),
                    tuple((w, {"PROP_VALUE": a["height"]}) for w, a in lines[tile.name]),
                )
                per_tile = DownloadSpec(
                    f"{tile.name}_{spec.file_name}", spec.format, spec.subformat
                )
                data += vector_members(
                    work, per_tile, [layer], data=f"data/{tile.name[:2].lower()}", stem=tile.name
                )
            members = with_docs(work, data, doc="doc")
        else:
            members = with_docs(
                work, vector_members(work, spec, [all_lines, spots], data="data"), doc="doc"
            )
        archives[spec.file_name] = Archive(members)
    drawings = [Drawing(tuple(w for w, _ in all_lines.features), INK, "line", 0.6)]
    return BuiltProduct(
        archives,
        drawings,
        [(520000, 170000, 540000, 190000), (440000, 110000, 450000, 130000)],
        relief=True,
    )


# --- 1:250 000 Scale Colour Raster ----------------------------------------------------------


def map_drawings() -> List[Drawing]:
    """A road-atlas style picture: parks, boundaries, rivers, roads."""
    return [
        Drawing(tuple(polygon_wkt(g.ring()) for g in GREENSPACES), GREEN),
        Drawing(
            tuple(polygon_wkt(a.ring) for a in LONDON_BOROUGHS + HAMPSHIRE_DISTRICTS),
            BOUNDARY,
            "outline",
            0.8,
        ),
        Drawing(tuple(line_wkt(r.line()) for r in RIVERS), WATER, "line", 2),
        Drawing(tuple(line_wkt(r.line()) for r in ROADS), ROAD, "line", 1.5),
    ]


def build_raster_250k(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    archives = {}
    for spec in specs:
        out = work.folder("ras250")
        data = []
        for square in ("SU", "TQ"):
            e0, n0 = SQUARES[square]
            with gdal_settings():
                picture = render(
                    (e0, n0, e0 + 100000, n0 + 100000), (250, 250), map_drawings(), relief=True
                )
                write_geotiff(out / f"{square}.tif", picture)
            data.append(ZipMember(f"ras250_gb/data/{square}.tif", out / f"{square}.tif"))
        archives[spec.file_name] = Archive(with_docs(work, data, doc="ras250_gb/doc"))
    return BuiltProduct(archives, map_drawings(), [(400000, 100000, 600000, 200000)], relief=True)


# --- OS Open UPRN ---------------------------------------------------------------------------


def build_open_uprn(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    yyyymm = work.edition.replace("-", "")
    extracted = f"05-{work.edition[5:7]}-{work.edition[:4]}"
    rows = ["UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE"]
    features = []
    for a in addresses():
        rows.append(f"{a.uprn},{a.easting:.2f},{a.northing:.2f},{a.latitude:.7f},{a.longitude:.7f}")
        features.append(
            (
                point_wkt((a.easting, a.northing)),
                {
                    "uprn": a.uprn,
                    "x_coordinate": a.easting,
                    "y_coordinate": a.northing,
                    "latitude": a.latitude,
                    "longitude": a.longitude,
                },
            )
        )
    fields = (
        ("uprn", "int64"),
        ("x_coordinate", "real"),
        ("y_coordinate", "real"),
        ("latitude", "real"),
        ("longitude", "real"),
    )
    layer = Layer(f"osopenuprn_{yyyymm}", "point", fields, tuple(features))
    archives = {}
    for spec in specs:
        if spec.format == "CSV":
            name = f"osopenuprn_{yyyymm}.csv"
            data = [ZipMember(name, ("\r\n".join(rows) + "\r\n").encode("ascii"), mode=0)]
        else:
            name = f"osopenuprn_{yyyymm}.gpkg"
            written = vector_members(work, spec, [layer], data="", stem=f"osopenuprn_{yyyymm}")
            data = [ZipMember(m.name, m.data, mode=0) for m in written]
        data += [
            ZipMember("versions.txt", open_uprn_versions(work.name, name, extracted), mode=0),
            ZipMember("licence.txt", licence(work.name, int(work.edition[:4])), mode=0),
        ]
        archives[spec.file_name] = Archive(data, folder_entries=False)
    return BuiltProduct(
        archives, layer_drawings([layer]), [(528000, 172000, 546000, 184000), SOUTHAMPTON]
    )


# --- OS Open TOID ---------------------------------------------------------------------------


def toid_rows(area: str) -> List[Tuple[str, int, str, str, float, float, float, float]]:
    """(TOID, version, version date, source product, E, N, lat, lon) in one 100 km square."""
    rows = []
    for a in addresses():
        if square_of(a.easting, a.northing) == area:
            rows.append(
                (
                    a.toid,
                    4,
                    "2025-11-03",
                    "TopographyLayer",
                    a.easting,
                    a.northing,
                    a.latitude,
                    a.longitude,
                )
            )
    return sorted(rows)


def build_open_toid(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    yyyymm = work.edition.replace("-", "")
    archives = {}
    drawings_layers = []
    for spec in specs:
        area = spec.area.lower()
        rows = toid_rows(spec.area)
        if spec.format == "CSV":
            text = [
                "TOID,VERSION_NUMBER,VERSION_DATE,SOURCE_PRODUCT,EASTING,NORTHING,LATITUDE,LONGITUDE"
            ]
            text += [
                f"{t},{v},{d},{s},{e:.2f},{n:.2f},{la:.7f},{lo:.7f}"
                for t, v, d, s, e, n, la, lo in rows
            ]
            data = [
                ZipMember(
                    f"osopentoid_{yyyymm}_{area}.csv", ("\r\n".join(text) + "\r\n").encode("ascii")
                )
            ]
        else:
            fields = (
                ("toid", "str"),
                ("version_number", "int"),
                ("version_date", "str"),
                ("source_product", "str"),
            )
            layer = Layer(
                f"osopentoid_{yyyymm}_{area}",
                "point",
                fields,
                tuple(
                    (
                        point_wkt((e, n)),
                        {"toid": t, "version_number": v, "version_date": d, "source_product": s},
                    )
                    for t, v, d, s, e, n, _, _ in rows
                ),
            )
            drawings_layers.append(layer)
            data = vector_members(work, spec, [layer], data="", stem=f"osopentoid_{yyyymm}_{area}")
        data.append(ZipMember("licence.txt", licence(work.name, int(work.edition[:4]))))
        archives[spec.file_name] = Archive(data, folder_entries=False)
    return BuiltProduct(
        archives, layer_drawings(drawings_layers), [(528000, 172000, 546000, 184000), SOUTHAMPTON]
    )


# --- OS Open Names --------------------------------------------------------------------------

_URI = "http://data.ordnancesurvey.co.uk/id/"
_LONDON_BOROUGH = "http://data.ordnancesurvey.co.uk/ontology/admingeo/LondonBorough"
_UNITARY = "http://data.ordnancesurvey.co.uk/ontology/admingeo/UnitaryAuthority"
_DISTRICT = "http://data.ordnancesurvey.co.uk/ontology/admingeo/District"
_COUNTY = "http://data.ordnancesurvey.co.uk/ontology/admingeo/County"
_LOCAL_TYPES = "http://www.ordnancesurvey.co.uk/xml/codelists/localtype.xml"
_DBPEDIA = "http://dbpedia.org/resource/"


def tile_of(point: Point) -> str:
    square = square_of(*point)
    e0, n0 = SQUARES[square]
    return f"{square}{int((point[0] - e0) // 10000)}{int((point[1] - n0) // 10000)}"


def _admin_columns(place: NamedPlace) -> Dict[str, str]:
    """The populated place / district / county / region columns of an Open Names row."""
    london = place.county == "Greater London"
    unitary = london or place.district == "Southampton"
    if london:
        district_type = _LONDON_BOROUGH
    else:
        district_type = _UNITARY if place.district == "Southampton" else _DISTRICT
    town = "" if place.type == "populatedPlace" else ("London" if london else "Southampton")
    town_id = "osgb4000000074559804" if london else "osgb4000000074571398"
    district_id = 7000000000010000 + sum(map(ord, place.district)) % 9000
    return {
        "POPULATED_PLACE": town,
        "POPULATED_PLACE_URI": _URI + town_id if town else "",
        "POPULATED_PLACE_TYPE": f"{_LOCAL_TYPES}#city" if town else "",
        "DISTRICT_BOROUGH": place.district,
        "DISTRICT_BOROUGH_URI": f"{_URI}{district_id}",
        "DISTRICT_BOROUGH_TYPE": district_type,
        "COUNTY_UNITARY": "" if unitary else place.county,
        "COUNTY_UNITARY_URI": "" if unitary else f"{_URI}7000000000017765",
        "COUNTY_UNITARY_TYPE": "" if unitary else _COUNTY,
        "REGION": "London" if london else "South East",
        "REGION_URI": _URI + ("7000000000041441" if london else "7000000000041421"),
    }


def open_names_rows() -> Dict[str, List[List[str]]]:
    """Open Names CSV rows (34 columns) by 10 km tile."""
    result: Dict[str, List[List[str]]] = {}
    for number, place in enumerate(NAMED_PLACES):
        if place.type == "other":  # postcodes are their own ids
            oid = place.name.replace(" ", "")
        else:
            oid = f"osgb40000000{74550000 + number * 137:08d}"
        e, n = place.point
        size = {"populatedPlace": 600, "transportNetwork": 300}.get(place.type, 50)
        is_town = place.type == "populatedPlace"
        row = {
            "ID": oid,
            "NAMES_URI": _URI + oid,
            "NAME1": place.name,
            "NAME1_LANG": "",
            "NAME2": "",
            "NAME2_LANG": "",
            "TYPE": place.type,
            "LOCAL_TYPE": place.local_type,
            "GEOMETRY_X": str(int(e)),
            "GEOMETRY_Y": str(int(n)),
            "MOST_DETAIL_VIEW_RES": "1000" if place.type == "other" else "3000",
            "LEAST_DETAIL_VIEW_RES": "250000" if is_town else "25000",
            "MBR_XMIN": str(int(e - size)),
            "MBR_YMIN": str(int(n - size)),
            "MBR_XMAX": str(int(e + size)),
            "MBR_YMAX": str(int(n + size)),
            "POSTCODE_DISTRICT": place.postcode_district,
            "POSTCODE_DISTRICT_URI": f"{_URI}postcodedistrict/{place.postcode_district}",
            **_admin_columns(place),
            "COUNTRY": "England",
            "COUNTRY_URI": "http://data.ordnancesurvey.co.uk/id/country/england",
            "RELATED_SPATIAL_OBJECT": "",
            "SAME_AS_DBPEDIA": _DBPEDIA + place.name.replace(" ", "_") if is_town else "",
            "SAME_AS_GEONAMES": "",
        }
        result.setdefault(tile_of(place.point), []).append([row[c] for c in OPEN_NAMES_COLUMNS])
    return dict(sorted(result.items()))


def _csv_line(cells: Sequence[str]) -> str:
    return ",".join(f'"{c}"' if ("," in c or '"' in c) else c for c in cells)


def _bom_crlf(lines: Sequence[str]) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def names_layer() -> Layer:
    keep = (
        "ID",
        "NAME1",
        "TYPE",
        "LOCAL_TYPE",
        "POSTCODE_DISTRICT",
        "POPULATED_PLACE",
        "DISTRICT_BOROUGH",
        "COUNTY_UNITARY",
        "REGION",
        "COUNTRY",
    )
    index = [OPEN_NAMES_COLUMNS.index(k) for k in keep]
    features = []
    for rows in open_names_rows().values():
        for row in rows:
            x, y = (
                float(row[OPEN_NAMES_COLUMNS.index("GEOMETRY_X")]),
                float(row[OPEN_NAMES_COLUMNS.index("GEOMETRY_Y")]),
            )
            features.append((point_wkt((x, y)), {k.lower(): row[i] for k, i in zip(keep, index)}))
    return Layer("named_place", "point", tuple((k.lower(), "str") for k in keep), tuple(features))


def build_open_names(work: ProductWork, specs: Sequence[DownloadSpec]) -> BuiltProduct:
    layer = names_layer()
    archives = {}
    for spec in specs:
        if spec.format == "CSV":
            data = [
                ZipMember(f"Data/{tile}.csv", _bom_crlf([_csv_line(r) for r in rows]))
                for tile, rows in open_names_rows().items()
            ]
            data.append(
                ZipMember("Doc/OS_Open_Names_Header.csv", _bom_crlf([",".join(OPEN_NAMES_COLUMNS)]))
            )
        else:
            chosen = [_rename(layer, "NamedPlace")] if spec.format == "GML" else [layer]
            data = vector_members(work, spec, chosen)
        archives[spec.file_name] = Archive(with_docs(work, data, readme_path="readme.txt"))
    return BuiltProduct(
        archives, layer_drawings([layer]), [(524000, 180000, 530000, 186000), SOUTHAMPTON]
    )


BUILDERS: Dict[str, Builder] = {
    "OpenRivers": build_open_rivers,
    "BoundaryLine": build_boundary_line,
    "OpenGreenspace": build_open_greenspace,
    "CodePointOpen": build_code_point_open,
    "Terrain50": build_terrain_50,
    "250kScaleColourRaster": build_raster_250k,
    "OpenUPRN": build_open_uprn,
    "OpenTOID": build_open_toid,
    "OpenNames": build_open_names,
}
