"""The cartographic styles shipped with the plugin: one entry per kind of OS layer.

Written for this project from the facts of the data (field names before and
after OS's 2023 renames, shapefiles' 10-character names, the values they
carry) and common British map conventions (motorways blue, water blue,
boundaries as outlines); no one's stylesheet is copied. ``styling.py`` turns
an entry into renderers. First match wins: keep the narrower entries first.
"""

from __future__ import annotations

from typing import Dict, Tuple

from .style_types import LINE, POINT, POLYGON, Label, Look, Style

# --- symbol properties (QgsSymbol.createSimple) -------------------------------------------


def fill(colour: str, outline: str = "", width: float = 0.15) -> Dict[str, str]:
    if not outline:
        return {"color": colour, "outline_style": "no"}
    return {"color": colour, "outline_color": outline, "outline_width": f"{width:g}"}


def outline(colour: str, width: float, style: str = "solid") -> Dict[str, str]:
    """A polygon drawn as its boundary only (Boundary-Line: no fill hides the levels below)."""
    return {
        "style": "no",
        "outline_color": colour,
        "outline_width": f"{width:g}",
        "outline_style": style,
        "joinstyle": "round",
    }


def line(colour: str, width: float, style: str = "solid") -> Dict[str, str]:
    return {
        "line_color": colour,
        "line_width": f"{width:g}",
        "line_style": style,
        "capstyle": "round",
        "joinstyle": "round",
    }


def point(colour: str, size: float, shape: str = "circle", edge: str = "#ffffff") -> Dict[str, str]:
    return {
        "name": shape,
        "color": colour,
        "outline_color": edge,
        "outline_width": "0.15",
        "size": f"{size:g}",
    }


def others(symbol: Dict[str, str], label: str = "Other") -> Look:
    return Look(label, (), symbol)


# --- shared classes -----------------------------------------------------------------------

ROADS: Tuple[Look, ...] = (
    Look("Motorway", ("Motorway",), line("#27408b", 1.5)),
    Look("A road", ("A Road", "Primary"), line("#d2453a", 1.0)),
    Look("B road", ("B Road",), line("#e3902f", 0.8)),
    Look(
        "Minor road",
        ("Classified Unnumbered", "Minor", "Minor Road", "Local", "Local Road"),
        line("#c6a84a", 0.5),
    ),
    Look(
        "Unclassified",
        ("Not Classified", "Unclassified", "Restricted", "Restricted Local Access Road"),
        line("#9b9b9b", 0.35),
    ),
    others(line("#b5b5b5", 0.25)),
)
GREENSPACE: Tuple[Look, ...] = (
    Look("Public park or garden", ("Public Park Or Garden",), fill("#9fd08a", "#6fa85c")),
    Look("Playing field", ("Playing Field",), fill("#c3e29a", "#8fb46a")),
    Look("Play space", ("Play Space",), fill("#e9dc7c", "#b9a94a")),
    Look("Golf course", ("Golf Course",), fill("#b6d89b", "#84ab69")),
    Look(
        "Sports facility",
        ("Other Sports Facility", "Bowling Green", "Tennis Court"),
        fill("#a9cf8e", "#779d5e"),
    ),
    Look("Allotments", ("Allotments Or Community Growing Spaces",), fill("#cdb27a", "#9d8450")),
    Look("Cemetery", ("Cemetery",), fill("#a9bfa8", "#7b917a")),
    Look("Religious grounds", ("Religious Grounds",), fill("#c2c1a4", "#939277")),
    others(fill("#c8dfb4", "#93ad80")),
)
HAZARD: Tuple[Look, ...] = (  # BGS's susceptibility classes, light to dark
    Look("Low", ("Low", "A", "B", "1"), fill("#fff1c4", "#d9c88c", 0.05)),
    Look("Moderate", ("Moderate", "C", "2", "3"), fill("#f7b56a", "#c98a43", 0.05)),
    Look("Significant / high", ("Significant", "High", "D", "E", "4", "5", "6"), fill("#d0503c")),
    others(fill("#dddddd", "#bbbbbb", 0.05), "Not assessed"),
)
WATER_LINE = "#5aa7e0"  # lighter than motorways' deep blue: never mistaken for one
WATER_AREA = "#b3d2ec"

# Boundary-Line's area codes, level by level: each its own line so none hides another.
BOUNDARY_LEVELS: Tuple[Look, ...] = (
    Look("Country / region", ("EUR", "SPE", "WAE", "CTRY"), outline("#2f2f2f", 1.2)),
    Look("County", ("CTY", "GLA"), outline("#6a3d9a", 0.9, "dash")),
    Look("District / unitary", ("DIS", "LBO", "MTD", "UTA"), outline("#8e5ea2", 0.6)),
    Look("Westminster constituency", ("WMC",), outline("#c0392b", 0.5, "dot")),
    Look(
        "Assembly / parliament constituency",
        ("SPC", "WAC", "LAC", "ASC"),
        outline("#16a085", 0.45, "dash"),
    ),
    Look(
        "Ward / division",
        ("CED", "DIW", "LBW", "MTW", "UTE", "UTW"),
        outline("#7f8c8d", 0.3),
    ),
    Look("Parish / community", ("CPC", "NCP"), outline("#95a5a6", 0.25, "dash dot")),
    others(outline("#555555", 0.4)),
)
BOUNDARY_TILES = (
    "country_region",
    "english_region",
    "scotland_and_wales_region",
    "county",
    "district_borough_unitary",
    "westminster_const",
    "scotland_and_wales_const",
    "greater_london_const",
    "county_electoral_division",
    "district_borough_unitary_ward",
    "unitary_electoral_division",
    "parish",
    "community_ward",
    "boundary_line_historic_counties",
    "boundary_line_ceremonial_counties",
    "polling_districts_england",
)


def _single(
    id: str, geometry: str, names: Tuple[str, ...], products: Tuple[str, ...], symbol, **extra
) -> Style:
    return Style(id, geometry, names, products, looks=(others(symbol, ""),), **extra)


def _name(word: str) -> str:
    """A layer name ending in ``word``: "Building", "TQ_Building", "OS OpenMap: building"."""
    return rf"(^|[^a-z]){word}$"


OML_VMD = ("OpenMapLocal", "VectorMapDistrict")
ZOOMSTACK = ("OpenZoomstack",)
MASTERMAP = ("MMTOPO", "MasterMap", "OSMM")

STYLES: Tuple[Style, ...] = (
    # Boundary-Line: outlines per level, names at large scales, above everything else.
    Style(
        "boundary-line",
        POLYGON,
        products=("BoundaryLine",),
        requires=(("area_code", "AREA_CODE", "areaCode"),),
        looks=BOUNDARY_LEVELS,
        label=Label(("name", "NAME"), 150000, 7.5, "#5a3a6e"),
        stack=-1,
        tile_layers=BOUNDARY_TILES,
    ),
    _single(
        "boundary-line-high-water",
        LINE,
        (r"high_?water",),
        ("BoundaryLine",),
        line("#6a9fd0", 0.3),
        tile_layers=("high_water",),
    ),
    # OS Open Roads.
    Style(
        "open-roads-road-link",
        LINE,
        names=(r"road_?link",),
        requires=(("road_classification", "roadClassification", "class", "road_class"),),
        looks=ROADS,
        label=Label(("name_1", "name1", "road_name"), 50000, 7.0, "#333333", along_lines=True),
        tile_layers=("road_link",),
    ),
    _single(
        "open-roads-motorway-junction",
        POINT,
        (r"motorway_?junction",),
        (),
        point("#27408b", 2.4, "square"),
        requires=(("junction_number", "junctionNumber", "junction_n"),),
        label=Label(("junction_number", "junctionNumber", "junction_n"), 250000, 6.5, "#27408b"),
        tile_layers=("motorway_junction",),
    ),
    _single(
        "open-roads-road-node",
        POINT,
        (r"road_?node",),
        (),
        point("#8f8f8f", 0.7, edge="#8f8f8f"),
        requires=(("form_of_road_node", "formOfNode", "form_of_ro"),),
        tile_layers=("road_node",),
    ),
    # OS Open Rivers: blue by form.
    Style(
        "open-rivers-watercourse-link",
        LINE,
        names=(r"watercourse_?link", r"oprvrs"),
        requires=(("form",),),
        looks=(
            Look("Tidal river", ("tidalRiver",), line("#3b8fd0", 1.0)),
            Look("River", ("inlandRiver",), line(WATER_LINE, 0.6)),
            Look("Canal", ("canal",), line("#4aa3df", 0.6, "dash")),
            Look("Through a lake", ("lake",), line(WATER_LINE, 0.35, "dot")),
            others(line(WATER_LINE, 0.4)),
        ),
        label=Label(
            ("name1", "name1_text", "watercourse_name"), 100000, 7.0, "#1f5fa8", along_lines=True
        ),
        tile_layers=("watercourse_link",),
    ),
    Style(
        "open-rivers-hydro-node",
        POINT,
        names=(r"hydro_?node",),
        requires=(("form_of_node", "formOfNode", "hydro_node_category", "form_of_no"),),
        looks=(
            Look("Source", ("source",), point("#6fa8dc", 1.2)),
            Look("Outlet", ("outlet",), point("#1f5fa8", 1.2)),
            Look("Junction", ("junction",), point(WATER_LINE, 0.8)),
            others(point("#9fc5e8", 0.6, edge="#9fc5e8")),
        ),
        tile_layers=("hydro_node",),
    ),
    # OS Open Greenspace: green by function.
    Style(
        "open-greenspace-site",
        POLYGON,
        products=("OpenGreenspace",),
        requires=(("function",),),
        looks=GREENSPACE,
        label=Label(("distinctive_name_1", "distName1", "distinctiveName1"), 25000, 7.0, "#2e5e22"),
        tile_layers=("greenspace_site",),
    ),
    Style(
        "open-greenspace-access-point",
        POINT,
        products=("OpenGreenspace",),
        requires=(("access_type", "accessType"),),
        looks=(
            Look("Pedestrian", ("Pedestrian",), point("#2e7d32", 1.4)),
            Look("Motor vehicle", ("Motor Vehicle",), point("#6d4c41", 1.6, "square")),
            others(point("#8d6e63", 1.6, "diamond")),
        ),
        tile_layers=("access_point",),
    ),
    # Code-Point Open: small points, coloured by how well the postcode is placed.
    Style(
        "code-point-open",
        POINT,
        products=("CodePointOpen",),
        requires=(("positional_quality_indicator", "pqi"),),
        looks=(
            Look("Within a building of the postcode (10)", ("10",), point("#2c7bb6", 1.2)),
            Look("Within the postcode's addresses (20)", ("20",), point("#00a6ca", 1.2)),
            Look("Approximate (30-40)", ("30", "40"), point("#f9d057", 1.2)),
            Look("Estimated (50-60)", ("50", "60"), point("#e8702a", 1.2)),
            Look("No coordinates (90)", ("90",), point("#8a8a8a", 1.0)),
            others(point("#bdbdbd", 1.0)),
        ),
        label=Label(("postcode",), 5000, 7.0),
    ),
    # OS Open Names: settlements sized by kind, the rest small, names at town scale.
    Style(
        "open-names",
        POINT,
        products=("OpenNames",),
        requires=(("local_type", "localType"),),
        looks=(
            Look("City", ("City",), point("#202020", 3.2)),
            Look("Town", ("Town",), point("#303030", 2.6)),
            Look("Village", ("Village",), point("#474747", 2.0)),
            Look(
                "Hamlet, suburb",
                ("Hamlet", "Suburban Area", "Other Settlement"),
                point("#666666", 1.6),
            ),
            Look(
                "Road",
                (
                    "Named Road",
                    "Numbered Road",
                    "Section Of Named Road",
                    "Section Of Numbered Road",
                ),
                point("#c27c2c", 0.9, edge="#c27c2c"),
            ),
            Look(
                "Water",
                ("River", "Canal", "Lake", "Reservoir", "Waterfall", "Bay", "Sea", "Inlet"),
                point(WATER_LINE, 1.1),
            ),
            Look("Postcode", ("Postcode",), point("#9e9e9e", 0.7, edge="#9e9e9e")),
            others(point("#7a7a7a", 1.0)),
        ),
        label=Label(("name1", "NAME1"), 60000, 8.0, "#1a1a1a"),
        tile_layers=("named_place",),
    ),
    # OS Open UPRN, TOID, USRN, Built Up Areas.
    _single(
        "open-uprn",
        POINT,
        (),
        ("OpenUPRN",),
        point("#7b3294", 0.8, edge="#7b3294"),
        requires=(("uprn",),),
    ),
    _single(
        "open-toid",
        POINT,
        (),
        ("OpenTOID",),
        point("#e66101", 0.8, edge="#e66101"),
        requires=(("toid",),),
    ),
    Style(
        "open-usrn",
        LINE,
        products=("OpenUSRN",),
        requires=(("street_type", "streetType"),),
        looks=(
            Look("Designated street name", ("Designated Street Name",), line("#505050", 0.5)),
            Look("Numbered street", ("Numbered Street",), line("#a05a2c", 0.5)),
            Look(
                "Officially described street",
                ("Officially Described Street",),
                line("#7a7a7a", 0.4, "dash"),
            ),
            others(line("#a0a0a0", 0.3, "dot")),
        ),
    ),
    _single(
        "built-up-areas",
        POLYGON,
        (),
        ("BuiltUpAreas",),
        fill("#e8d9c5", "#b89f7e", 0.2),
        requires=(("gsscode",),),
        label=Label(("name1_text", "name1"), 250000, 7.5, "#5a4630"),
    ),
    # Terrain 50 contours and spot heights (pre- and post-2023 names); the grid is in styling.
    Style(
        "terrain-50-contours",
        LINE,
        products=("Terrain50",),
        requires=(("height", "PROP_VALUE", "propertyValue"),),
        looks=(
            Look("Index contour (every 50 m)", (), line("#9a6a3a", 0.45), "{field} % 50 = 0"),
            others(line("#c9a27a", 0.22), "Contour (10 m)"),
        ),
        label=Label(("height", "PROP_VALUE", "propertyValue"), 25000, 6.5, "#9a6a3a", True),
        tile_layers=("contour_line",),
    ),
    _single(
        "terrain-50-spot-heights",
        POINT,
        (),
        ("Terrain50",),
        point("#5b4636", 1.0, "cross2", edge="#5b4636"),
        requires=(("height", "PROP_VALUE", "propertyValue"),),
        label=Label(("height", "PROP_VALUE", "propertyValue"), 25000, 6.5, "#5b4636"),
        tile_layers=("spot_height",),
    ),
    _single(
        "terrain-50-land-water-boundary",
        LINE,
        (r"land_?water",),
        ("Terrain50",),
        line(WATER_LINE, 0.3),
        tile_layers=("land_water_boundary",),
    ),
    # OS MasterMap Topography Layer: by descriptive group (feature code when it has none).
    Style(
        "mastermap-topographic-area",
        POLYGON,
        requires=(("descriptive_group", "descriptiveGroup"),),
        match="contains",
        looks=(
            Look("Building", ("Building",), fill("#d8c9b6", "#a48f77", 0.1)),
            Look("Glasshouse", ("Glasshouse",), fill("#dbeaf0", "#a9c2cc", 0.1)),
            Look(
                "Road or track", ("Road Or Track", "Roads Tracks"), fill("#ded9cd", "#948e82", 0.2)
            ),
            Look("Roadside, path", ("Roadside", "Path"), fill("#ece8dd", "#d2ccbc", 0.1)),
            Look("Inland water", ("Inland Water",), fill("#a9cbe8", "#7fa9d1", 0.1)),
            Look("Tidal water", ("Tidal Water",), fill("#9ec3e4", "#7fa9d1", 0.1)),
            Look("Natural environment", ("Natural Environment",), fill("#d1e5bf", "#b3cda0", 0.1)),
            Look("Rail", ("Rail",), fill("#dcd6d6", "#b9b1b1", 0.1)),
            Look("Structure", ("Structure",), fill("#cbc3bb", "#a39a90", 0.1)),
            Look("Landform", ("Landform",), fill("#e4dcc8", "#c8bda3", 0.1)),
            others(fill("#f2efe7", "#d6d1c4", 0.1), "General surface, other"),
        ),
    ),
    Style(
        "mastermap-topographic-line",
        LINE,
        requires=(("descriptive_group", "descriptiveGroup"),),
        match="contains",
        looks=(
            Look("Building outline", ("Building",), line("#8c7a66", 0.25)),
            Look("Water's edge", ("Inland Water", "Tidal Water"), line(WATER_LINE, 0.25)),
            Look(
                "Administrative boundary",
                ("Political Or Administrative",),
                line("#8e5ea2", 0.3, "dash"),
            ),
            Look("Rail", ("Rail",), line("#5a5a5a", 0.25)),
            others(line("#9a9a9a", 0.15)),
        ),
    ),
    _single(
        "mastermap-topographic-point",
        POINT,
        (),
        (),
        point("#6b6b6b", 0.8, edge="#6b6b6b"),
        requires=(("descriptive_group", "descriptiveGroup"),),
    ),
    Style(
        "mastermap-area-by-feature-code",
        POLYGON,
        products=MASTERMAP,
        requires=(("feature_code", "featureCode"),),
        looks=(
            Look("Building", ("10021",), fill("#d8c9b6", "#a48f77", 0.1)),
            Look("Road or track", ("10172",), fill("#ded9cd", "#948e82", 0.2)),
            Look("Inland water", ("10089",), fill("#a9cbe8", "#7fa9d1", 0.1)),
            Look("Natural environment", ("10111",), fill("#d1e5bf", "#b3cda0", 0.1)),
            others(fill("#f2efe7", "#d6d1c4", 0.1), "General surface, other"),
        ),
    ),
    # AddressBase: points by the first letter of their classification.
    Style(
        "addressbase",
        POINT,
        requires=(("classification_code", "class"), ("uprn",)),
        match="prefix",
        looks=(
            Look("Residential", ("R",), point("#e07b39", 1.4)),
            Look("Commercial", ("C",), point("#3b6fb6", 1.4)),
            Look("Dual use", ("X",), point("#c27ba0", 1.4)),
            Look("Land", ("L",), point("#6aa84f", 1.2)),
            Look("Military", ("M",), point("#7f6000", 1.2)),
            Look("Object of interest", ("Z",), point("#8e7cc3", 1.2)),
            Look("Parent shell", ("P",), point("#b4a7d6", 1.0)),
            others(point("#bdbdbd", 1.0), "Other, unclassified"),
        ),
    ),
    # OpenMap Local and VectorMap District: by layer (after 2023 snake_case, before CamelCase).
    Style(
        "oml-vmd-road-by-class",
        LINE,
        names=(_name("road"),),
        products=OML_VMD,
        requires=(("classification", "CLASSIFICA", "road_classification"),),
        looks=ROADS,
        label=Label(("distinctive_name", "DISTNAME", "name"), 15000, 7.0, "#333333", True),
    ),
    _single(
        "oml-vmd-road",
        LINE,
        (_name("road"), _name("roads")),
        OML_VMD,
        line("#c9a15e", 0.55),
        label=Label(("distinctive_name", "DISTNAME", "name"), 15000, 7.0, "#333333", True),
    ),
    _single(
        "oml-vmd-important-building",
        POLYGON,
        (r"important_?building$",),
        OML_VMD,
        fill("#d6bd9c", "#a5896a"),
    ),
    _single("oml-vmd-building", POLYGON, (_name("building"),), OML_VMD, fill("#e2d5c4", "#b9a793")),
    _single("oml-vmd-glasshouse", POLYGON, (r"glasshouse$",), OML_VMD, fill("#d6e6ea", "#a9c2cc")),
    _single("oml-vmd-woodland", POLYGON, (_name("woodland"),), OML_VMD, fill("#c6dfb1")),
    _single(
        "oml-vmd-water-area",
        POLYGON,
        (r"surface_?water_?area$", r"tidal_?water$"),
        OML_VMD,
        fill(WATER_AREA),
    ),
    _single("oml-vmd-foreshore", POLYGON, (_name("foreshore"),), OML_VMD, fill("#e9e3c9")),
    _single(
        "oml-vmd-functional-site",
        POLYGON,
        (r"functional_?site$",),
        OML_VMD,
        fill("#efe6ef", "#c9b3cc"),
    ),
    _single(
        "oml-vmd-water-line",
        LINE,
        (r"surface_?water_?line$", r"tidal_?boundary$"),
        OML_VMD,
        line(WATER_LINE, 0.4),
        label=Label(("name", "NAME"), 25000, 7.0, "#1f5fa8", True),
    ),
    _single(
        "oml-vmd-railway",
        LINE,
        (r"railway_?track$", r"railway_?tunnel$"),
        OML_VMD,
        line("#505050", 0.5, "dash"),
    ),
    _single(
        "oml-vmd-power-line",
        LINE,
        (r"electricity_?transmission_?line$",),
        OML_VMD,
        line("#9c9c9c", 0.2, "dash dot"),
    ),
    _single(
        "oml-vmd-station",
        POINT,
        (r"railway_?station$",),
        OML_VMD,
        point("#c62828", 1.8, "square"),
    ),
    _single("oml-vmd-points", POINT, (), OML_VMD, point("#6b6b6b", 1.0)),
    # OS Open Zoomstack (GeoPackage layers and, by the same names, its vector tiles).
    _single(
        "zoomstack-sea", POLYGON, (r"^sea$",), ZOOMSTACK, fill(WATER_AREA), tile_layers=("sea",)
    ),
    _single(
        "zoomstack-land", POLYGON, (r"^land$",), ZOOMSTACK, fill("#f7f5ef"), tile_layers=("land",)
    ),
    _single(
        "zoomstack-national-parks",
        POLYGON,
        (r"national_parks",),
        ZOOMSTACK,
        outline("#6f9a5d", 0.8, "dash"),
        tile_layers=("national_parks",),
    ),
    _single(
        "zoomstack-urban-areas",
        POLYGON,
        (r"urban_areas",),
        ZOOMSTACK,
        fill("#ece5dc"),
        tile_layers=("urban_areas",),
    ),
    _single(
        "zoomstack-woodland",
        POLYGON,
        (r"woodland",),
        ZOOMSTACK,
        fill("#cfe3bd"),
        tile_layers=("woodland",),
    ),
    _single(
        "zoomstack-foreshore",
        POLYGON,
        (r"foreshore",),
        ZOOMSTACK,
        fill("#eae4c9"),
        tile_layers=("foreshore",),
    ),
    _single(
        "zoomstack-surface-water",
        POLYGON,
        (r"surfacewater",),
        ZOOMSTACK,
        fill(WATER_AREA),
        tile_layers=("surfacewater",),
    ),
    Style(
        "zoomstack-greenspace",
        POLYGON,
        names=(r"greenspace",),
        products=ZOOMSTACK,
        requires=(("type",),),
        looks=GREENSPACE,
        tile_layers=("greenspace",),
    ),
    _single(
        "zoomstack-buildings",
        POLYGON,
        (r"buildings",),
        ZOOMSTACK,
        fill("#ddd0c0", "#c2b19c", 0.1),
        tile_layers=("buildings", "local_buildings", "district_buildings"),
    ),
    _single(
        "zoomstack-airports",
        POLYGON,
        (r"airports",),
        ZOOMSTACK,
        fill("#e4e0ea", "#b8b0c8"),
    ),
    Style(
        "zoomstack-waterlines",
        LINE,
        names=(r"waterlines",),
        products=ZOOMSTACK,
        requires=(("type",),),
        looks=(
            Look("Mean high water", ("MHW",), line("#7fa7c9", 0.3)),
            Look("Mean low water", ("MLW",), line("#a7c4dc", 0.2, "dash")),
            Look("River, canal", ("River", "Canal", "Stream"), line(WATER_LINE, 0.5)),
            others(line(WATER_LINE, 0.3)),
        ),
        tile_layers=("waterlines",),
    ),
    Style(
        "zoomstack-roads",
        LINE,
        names=(r"^roads",),
        products=ZOOMSTACK,
        requires=(("type",),),
        looks=ROADS,
        label=Label(("name",), 20000, 7.0, "#333333", along_lines=True),
        tile_layers=("roads", "roads_local", "roads_regional", "roads_national"),
    ),
    _single(
        "zoomstack-rail",
        LINE,
        (r"^rail$",),
        ZOOMSTACK,
        line("#5a5a5a", 0.5, "dash"),
        tile_layers=("rail",),
    ),
    _single(
        "zoomstack-power-lines", LINE, (r"^etl$",), ZOOMSTACK, line("#a0a0a0", 0.2, "dash dot")
    ),
    _single(
        "zoomstack-contours",
        LINE,
        (r"contours",),
        ZOOMSTACK,
        line("#c9a27a", 0.22),
        tile_layers=("contours",),
    ),
    _single(
        "zoomstack-boundaries",
        LINE,
        (r"boundaries",),
        ZOOMSTACK,
        line("#8e5ea2", 0.5, "dash"),
        stack=-1,
        tile_layers=("boundaries",),
    ),
    _single(
        "zoomstack-stations",
        POINT,
        (r"railway_stations",),
        ZOOMSTACK,
        point("#c62828", 1.8, "square"),
        tile_layers=("railway_stations",),
    ),
    _single(
        "zoomstack-airport-points",
        POINT,
        (r"airports",),
        ZOOMSTACK,
        point("#5e4b8b", 2.2, "triangle"),
        tile_layers=("airports",),
    ),
    _single(
        "zoomstack-names",
        POINT,
        (r"names",),
        ZOOMSTACK,
        point("#404040", 1.2),
        label=Label(("name", "name1"), 250000, 8.0, "#1a1a1a"),
        tile_layers=("names",),
    ),
    # BGS partner products: hazard classes light to dark, geology by unit.
    Style(
        "bgs-geosure",
        POLYGON,
        requires=(("SHRINK_SWE", "SHRINK_SWELL", "LANDSLIDE", "COLLAPSE"),),
        looks=HAZARD,
    ),
    Style("bgs-mining-hazard", POLYGON, requires=(("CLASS",), ("HEX_ID",)), looks=HAZARD),
    Style("bgs-geoclimate", POLYGON, requires=(("CLASS_2070", "CLASS_2030"),), looks=HAZARD),
    Style("bgs-geoscour", POLYGON, requires=(("SCOUR", "SUSCEPT"),), looks=HAZARD),
    Style(
        "bgs-radon",
        POLYGON,
        requires=(("CLASS_MAX",),),
        looks=(
            Look("Under 1 % of homes (1)", ("1",), fill("#fff5d6")),
            Look("1-3 % (2)", ("2",), fill("#fde0a0")),
            Look("3-5 % (3)", ("3",), fill("#f9b86b")),
            Look("5-10 % (4)", ("4",), fill("#ef8a4b")),
            Look("10-30 % (5)", ("5",), fill("#d95537")),
            Look("30 % and over (6)", ("6",), fill("#a8282a")),
            others(fill("#dddddd")),
        ),
    ),
    Style(
        "bgs-soil-parent-material",
        POLYGON,
        requires=(("TEXTURE",),),
        looks=(
            Look("Clay", ("CLAY",), fill("#c98f6b")),
            Look("Clay loam", ("CLAY-LOAM", "CLAY LOAM"), fill("#d8ab7f")),
            Look("Loam", ("LOAM",), fill("#e0c48f")),
            Look("Silt", ("SILT",), fill("#d9d2a0")),
            Look("Sand", ("SAND",), fill("#f2e2a8")),
            Look("Peat", ("PEAT",), fill("#7a5c45")),
            others(fill("#dddddd")),
        ),
    ),
    Style(
        "bgs-hydrogeology",
        POLYGON,
        requires=(("CHARACTER",),),
        match="contains",
        looks=(
            Look("Highly productive aquifer", ("highly",), fill("#2f7bbf", "#1f5a90", 0.1)),
            Look("Moderately productive aquifer", ("moderately",), fill("#86b8e0", "#5a8fba", 0.1)),
            Look("Low productivity aquifer", ("low",), fill("#d8e8f2", "#a9c3d6", 0.1)),
            others(fill("#eeeeee", "#cccccc", 0.1)),
        ),
    ),
    Style(
        "bgs-geology",
        POLYGON,
        requires=(("LEX_D", "RCS_D"),),
        match="unique",
        looks=(others(fill("#e0e0e0", "#8a8a8a", 0.1)),),
        label=Label(("LEX_D", "RCS_D"), 100000, 6.5, "#3a3a3a"),
    ),
    _single(
        "bgs-faults",
        LINE,
        (r"fault",),
        (),
        line("#2b2b2b", 0.4),
        requires=(("FEATURE_D",),),
    ),
    Style(
        "bgs-geocoast-erosion",
        LINE,
        names=(r"erosion",),
        requires=(("DOMAIN",),),
        match="unique",
        looks=(others(line("#8a6a4a", 0.8)),),
    ),
    _single(
        "bgs-geocoast-statistics",
        POLYGON,
        (r"statistics",),
        (),
        fill("#f3e3c8", "#b49a72", 0.2),
        requires=(("PCT_EROS", "PCT_INUND"),),
        label=Label(("NAME",), 2000000, 7.0),
    ),
)
