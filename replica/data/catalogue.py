# ruff: noqa: E501  (verbatim API descriptions and URLs)
"""What the replica lists: the real OS OpenData products, their downloads, two data packages.

Product records are as the live ``/products/{id}`` returns them (captured 2026,
see shared research section 2.1) without the URLs the server adds
(``url``, ``downloadsUrl``, ``imageTemplate``); ``imageCount`` is filled in by
the generator from the pictures it draws. Versions, names, formats (with their
exact ``®``/``™`` and parentheses), areas and the BGS quirks are the real ones.
Download file names follow real OS names where known (research 2.2/2.3); Zoomstack's
are the real ones (a bare ``OS_Open_Zoomstack.mbtiles`` and ``OS_Open_Zoomstack.zip``);
the BGS, Built Up Areas and GB Overview Maps file names are made up in the same
style. GeoClimate UKCP18 Open (listed in February 2026, gone by October) was
not captured: its description and file name are made up; it carries no
``endOfLife`` or ``warning``, as no source gives one. Areas are listed in plain
alphabetical order, as live records list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

DOCS = "https://docs.os.uk/os-downloads/products"
SHAPEFILE = "ESRI® Shapefile"
GPKG = "GeoPackage"
MBTILES = ("Vector Tiles", "(MBTiles)")
GML3 = ("GML", "3")

# Areas of the per-100 km-square products (alphabetical, as live records list them).
_TILES_52 = [
    "HP",
    "HT",
    "HU",
    "HY",
    "HZ",
    "NA",
    "NB",
    "NC",
    "ND",
    "NF",
    "NG",
    "NH",
    "NJ",
    "NK",
    "NL",
    "NM",
    "NN",
    "NO",
    "NR",
    "NS",
    "NT",
    "NU",
    "NW",
    "NX",
    "NY",
    "NZ",
    "SD",
    "SE",
    "SH",
    "SJ",
    "SK",
    "SM",
    "SN",
    "SO",
    "SP",
    "SR",
    "SS",
    "ST",
    "SU",
    "SV",
    "SW",
    "SX",
    "SY",
    "SZ",
    "TA",
    "TF",
    "TG",
    "TL",
    "TM",
    "TQ",
    "TR",
    "TV",
]
_TILES_54 = sorted(_TILES_52 + ["HW", "HX"])
_TILES_55 = sorted(_TILES_54 + ["OV"])

BGS_PROVIDER: Dict[str, Any] = {
    "dataProvider": {
        "name": "British Geological Survey",
        "shortName": "BGS",
        "homepage": "https://www.bgs.ac.uk/",
        "logoUrl": "https://www.bgs.ac.uk/wp-content/uploads/2020/10/BGS-logo.png",
    },
    "supportEmail": "enquiries@bgs.ac.uk",
}


@dataclass(frozen=True)
class DownloadSpec:
    """One file a product lists: what the API says about it; the generator makes the bytes."""

    file_name: str
    format: str
    subformat: Optional[str] = None
    area: str = "GB"
    unverified: bool = False  # listed without size and md5, as some real listings are


def _fmt(*formats: Any) -> List[Dict[str, str]]:
    result = []
    for f in formats:
        if isinstance(f, tuple):
            result.append({"format": f[0], "subformat": f[1]})
        else:
            result.append({"format": f})
    return result


def _info(*pairs: Tuple[str, str]) -> List[Dict[str, str]]:
    return [{"link": link, "name": name} for name, link in pairs]


def _os(path: str, *, started: bool = False) -> Dict[str, Any]:
    """documentationUrl and supportingInfo of an OS product documented under docs.os.uk."""
    base = f"{DOCS}/{path}"
    name = path.rsplit("/", 1)[-1]
    info = [("Technical Specification", f"{base}/{name}-technical-specification")]
    if started:
        info.append(("Getting Started", f"{base}/{name}-getting-started-guide"))
    return {"documentationUrl": f"{base}/{name}-overview", "supportingInfo": _info(*info)}


def _product(
    id: str,
    name: str,
    description: List[str],
    version: str,
    *,
    category: str,
    categories: List[str],
    formats: List[Dict[str, str]],
    areas: Optional[List[str]] = None,
    structures: Optional[List[str]] = None,
    extra: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    record: Dict[str, Any] = {
        "id": id,
        "name": name,
        "description": description,
        "version": version,
        "areas": areas or ["GB"],
        "dataStructures": structures or ["Vector"],
        "category": category,
        "categories": categories,
        "formats": formats,
    }
    record.update(extra or {})
    return record


def _bgs(
    id: str,
    name: str,
    description: List[str],
    version: str,
    formats: List[Dict[str, str]],
    slug: str,
    **kw,
) -> Dict[str, Any]:
    extra = {
        "documentationUrl": f"https://www.bgs.ac.uk/datasets/{slug}/",
        "thirdPartyInfo": BGS_PROVIDER,
    }
    extra.update(kw.pop("extra", {}))
    return _product(
        id,
        name,
        description,
        version,
        category="Geological",
        categories=["geological"],
        formats=formats,
        extra=extra,
        **kw,
    )


PRODUCTS: Tuple[Dict[str, Any], ...] = (
    _product(
        "250kScaleColourRaster",
        "1:250 000 Scale Colour Raster™",
        [
            "1:250 000 Scale Colour Raster is a small-scale, digital, raster mapping product giving a regional view, similar in content and appearance to a typical road atlas."
        ],
        "2025-06",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt("TIFF-LZW"),
        structures=["Raster"],
        extra={
            "documentationUrl": f"{DOCS}/maps-and-imagery-portfolio/1-250-000-scale-colour-raster/1-250-000-scale-colour-raster-overview",
            "supportingInfo": _info(
                (
                    "Technical Specification",
                    f"{DOCS}/maps-and-imagery-portfolio/1-250-000-scale-colour-raster/1-250-000-scale-colour-raster-technical-specification",
                )
            ),
        },
    ),
    _bgs(
        "GeoClimate_UKCP18_Open",
        "BGS GeoClimate UKCP18 Open",
        [
            "BGS GeoClimate UKCP18 Open shows the potential change in shrink–swell susceptibility of clay soils in Great Britain under the UKCP18 climate projections, for the 2030s and 2070s.",
            "The data are generalised to a 5 km hex grid with three classes: improbable, possible and probable.",
        ],
        "Version 1",
        _fmt(SHAPEFILE),
        "geoclimate-ukcp18-open",
    ),
    _bgs(
        "GeoCoast_Open",
        "BGS GeoCoast Open",
        [
            "BGS GeoCoast Open contains a detailed suite of statistical data based on the underlying datasets (GeoCoast Premium). These include, for example, percentage of county at threat from inundation and percentage of county coastline with high susceptibility to erosion. In addition, there is a tool to compare or share best practise at a regional scale and streamline the consideration of multiple underlying datasets through a simple, high-level scheme, presented as domains.",
            "GeoCoast Open consists of: regional statistics (shapefiles); coastal domains for erosion and morphology.",
        ],
        "Version 1",
        _fmt(SHAPEFILE),
        "geocoast-open",
        extra={
            "supportingInfo": _info(
                (
                    "User Guide",
                    "https://www.bgs.ac.uk/download/bgs-geocoast-user-guide/?wpdmdl=83617&amp;refresh=65e19e268bfba1709284902",
                )
            )
        },
    ),
    _bgs(
        "GeoScour_Open",
        "BGS GeoScour Open",
        [
            "The BGS GeoScour Open datasets provide a generalised overview of the natural characteristics and properties of catchment and riverine environments for the assessment of river scour in Great Britain.",
            "The GeoScour Open dataset comprises two different tiers of geographical information system data containing seven different data layers. Each tier represents a different scale of assessment, from a high-level catchment to subcatchment data. The datasets are polygon (area) layers, which are described using straightforward classifications and enabling an indicative catchment susceptibility assessment.",
            "Further investigation can be carried out using BGS GeoScour premium data.",
        ],
        "Version 2",
        _fmt(SHAPEFILE),
        "bgs-geoscour-open",
        extra={
            "supportingInfo": _info(
                (
                    "User Guide",
                    "https://www.bgs.ac.uk/download/bgs-geoscour-user-guide/?wpdmdl=85955",
                ),
                (
                    "Storymap Case Study - River Erosion",
                    "https://storymaps.arcgis.com/stories/6493e8ec34e0444289b9f3151f4a9d34",
                ),
            )
        },
    ),
    _bgs(
        "GB-Hex-5km-GeoSure",
        "BGS GeoSure 5 km hex grid",
        [
            "The BGS GeoSure 5 km hex grid datasets provide a generalised overview of the susceptibility to six naturally occurring geohazards in Great Britain. The hexagon grid provides a national-scale summary of the GeoSure data product. The detailed GeoSure dataset is also available to licence and provides further detail at a scale of 1:50 000.",
            "The 5 km hex grid data has been generalised into a vector map of interlocking hexagon cells (a side length of 5 km), with an area approximately 65 km² . There are three classes included within the data: low, moderate and significant.",
            "The six BGS GeoSure data layers provided are: collapsible deposits, compressible ground, landslides, running sand, shrink–swell and soluble rocks.",
            "Further investigation can be carried out using BGS GeoSure premium data for each hazard type.",
        ],
        "Version 8",
        _fmt(SHAPEFILE, GPKG),
        "bgs-geosure-5-km-hex-grid",
        extra={
            "supportingInfo": _info(
                (
                    "Information Note",
                    "https://www.bgs.ac.uk/download/bgs-geosure-5km-hex-grids-information-note/?wpdmdl=16281&amp;refresh=65e18e0e00c371709280782",
                )
            )
        },
    ),
    _bgs(
        "BGS_Geology_625k",
        "BGS Geology 625K",
        [
            "Generalised digital geological map data based on BGS’ published poster maps of the UK (north and south). Bedrock-related themes were created by generalisation of 1:50 000 data to make the 2007 fifth edition bedrock geology map.",
            "The geological areas (or polygons) are labelled or attributed with a name based on their lithostratographical, chronostratographical or lithodemic nomenclature and their composition (rock type or lithology). Faults and other linear features are available in a separate theme.",
            "Geology maps are the foundation for many other types of earth science-related maps and are of potential use to a wide range of customers. This dataset uses the themes: (i) bedrock geology; (ii) dykes; and (iii) linear (faults) features.",
        ],
        "Version 5",
        _fmt(SHAPEFILE, "MapInfo"),
        "bgs-geology-625k",
        areas=["UK"],
    ),
    _bgs(
        "Hydrogeology_625k",
        "BGS Hydrogeology 625k digital hydrogeological map of the UK",
        [
            "The BGS hydrogeological map indicates aquifer potential in generalised terms using a threefold division of geological formations: (i) those in which intergranular flow in the saturated zone is dominant; (ii) those in which flow is controlled by fissures or discontinuities; and (iii) less permeable formations including aquifers concealed at depth beneath covering layers.",
            "Highly productive aquifers are distinguished from those that are only of local importance or have no significant groundwater. Within each of these classes the strata are grouped together according to age or lithology.",
            "The 1:625 000-scale data may be used as a guide to the aquifers at a regional or national level, but should not be relied on for local information.",
        ],
        "Version 5",
        _fmt(SHAPEFILE, GPKG),
        "hydrogeology-625k",
        areas=["UK"],
    ),
    _bgs(
        "GB-Hex-1km-Mining-Haz",
        "BGS Mining hazard (not including coal) 1 km hex grid",
        [
            "The BGS mining hazard (not including coal) 1 km hex grid dataset provides a generalised overview of the likelihood for mining to have occurred. It provides a national-scale summary of the presence of mining and an indication of the level of hazard associated with old workings.",
            "The data has been generalised into a vector map of interlocking hexagon cells, side length 1 km, area approximately 2.6 km²",
            "There are four classes included within the data: (i) low: localised, small-scale mining may have occurred in the area; (ii) moderate: small-scale, underground mining may have occurred in the area; (iii) significant: underground mining is known or considered likely to have occurred in the area; and (iv) NA: no record of activity.",
            "The data has been generalised from the BGS mining hazard (not including coal) dataset. This additional, detailed dataset is also available to licence and provides further detail as well as information on the type of commodity extracted, mine names and any additional details where available, at a scale of 1:50 000.",
            "Further investigation can be carried out using BGS Mining Hazard (not including Coal) premium data.",
        ],
        "Version 8",
        _fmt(SHAPEFILE, GPKG),
        "mining-hazard-not-including-coal-1-km-hex-grid",
        extra={
            "supportingInfo": _info(("Information Note", "https://www.bgs.ac.uk/?wpdmdl=11857"))
        },
    ),
    _bgs(
        "Soil_Parent_Material_Model_1km",
        "BGS Soil Parent Material Model",
        [
            "Soils are the result of weathering processes that occur on the Earth’s surface where the atmosphere meets the geosphere and hydrosphere. We live in this ‘critical zone’, relying on our soils to grow our food and sustain the biodiversity and health of our environment.",
            "A ‘parent material’ is a soil-science name for a weathered rock or deposit from and within which a soil has formed. In Great Britain, parent materials provide the basic foundations and building blocks of the soil, influencing their texture, structure, drainage and chemistry.",
            "The Soil Parent Material Model details the distribution of physiochemical properties of the weathered and unweathered parent materials of Great Britain to: (i) facilitate spatial mapping of soil properties Great Britain; (ii) identify soils and landscapes sensitive to erosion; (iii) provide a national overview of our soil resource; and (iv) develop a better understanding of weathering properties and processes.",
        ],
        "Version 6",
        _fmt(SHAPEFILE, GPKG),
        "soil-parent-material-model",
        extra={
            "supportingInfo": _info(
                ("User Guide (1 km resolution)", "https://www.bgs.ac.uk/?wpdmdl=12059")
            )
        },
    ),
    _bgs(
        "Radon_Indicative_Atlas",
        "BGS/UKHSA Radon data: Indicative Atlas of Radon",
        [
            "The joint UK Health Security Agency (UKHSA)-BGS Indicative Atlas of Radon in the United Kingdom presents an overview of the results of detailed mapping of radon potential (defined as the estimated percentage of homes in an area above the radon action level).",
            "The Radon potential dataset for the United Kingdom provides the current definitive map of radon-affected areas in the United Kingdom. This data presents a simplified version of the radon potential dataset with each 1 km-grid square being classed according to the highest radon potential found within it, so is indicative rather than definitive.",
            "UKHSA recommends that radon levels should be reduced in homes where the annual average is at or above 200 becquerels per cubic metre (200 Bq/m³ ) — this is termed the radon action level.",
            "Further investigation can be carried out using the detailed BGS/UKHSA Radon Potential dataset.",
        ],
        "Version 3 (GB); Version 1 (NI)",
        _fmt(SHAPEFILE, GPKG),
        "radon-data-indicative-atlas-of-radon",
        areas=["GB", "NI"],
        extra={
            "supportingInfo": _info(
                (
                    "User Guide Great Britain",
                    "https://nora.nerc.ac.uk/id/eprint/537367/1/OR24026.pdf",
                ),
                (
                    "User Guide Northern Ireland",
                    "https://www.bgs.ac.uk/download/radon-potential-dataset-user-guide-northern-ireland/?wpdmdl=18772&amp;refresh=65e1e223f2dc21709302307",
                ),
            )
        },
    ),
    _product(
        "BoundaryLine",
        "Boundary-Line™",
        [
            "From parliamentary constituencies to council wards, Boundary-Line maps every administrative boundary in detail for you."
        ],
        "2025-10",
        category="Lookups",
        categories=["areasAndZones"],
        formats=_fmt(SHAPEFILE, GML3, "MapInfo® TAB", GPKG, MBTILES),
        extra=_os("areas-and-zones-portfolio/boundary-line"),
    ),
    _product(
        "CodePointOpen",
        "Code-Point® Open",
        [
            "An open dataset of all the current postcode units in Great Britain. Get started with geographical analysis, simple route planning and asset management."
        ],
        "2026-02",
        category="Lookups",
        categories=["addressesAndNames", "areasAndZones"],
        formats=_fmt("CSV", GPKG),
        extra=_os("areas-and-zones-portfolio/code-point-open", started=True),
    ),
    _product(
        "GBOverviewMaps",
        "GB Overview Maps",
        ["Our simplest overview maps of Great Britain."],
        "2026-01",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt(("GeoTIFF", "Full Colour")),
        structures=["Raster"],
        extra={
            "supportingInfo": _info(
                (
                    "Technical Specification",
                    f"{DOCS}/maps-and-imagery-portfolio/gb-overview-maps/gb-overview-maps-technical-specification",
                )
            )
        },
    ),
    _product(
        "MiniScale",
        "MiniScale®",
        [
            "MiniScale is a free small-scale digital map of Great Britain in a single data file that clearly shows towns and cities, motorways, major roads, railways and airports."
        ],
        "2026-01",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt("Zip file (containing EPS, Illustrator and TIFF-LZW)"),
        structures=["Raster"],
        extra=_os("maps-and-imagery-portfolio/miniscale"),
    ),
    _product(
        "BuiltUpAreas",
        "OS Open Built Up Areas",
        [
            "OS Open Built Up Areas represents the built-up areas of Great Britain equal to or greater than 200,000m² or 20 hectares and they include unique names, alternative language names and GSS codes."
        ],
        "2024-04",
        category="Lookups",
        categories=["areasAndZones"],
        formats=_fmt("CSV", GPKG),
        extra={
            "documentationUrl": f"{DOCS}/areas-and-zones-portfolio/os-open-built-up-areas",
            "supportingInfo": _info(
                (
                    "Technical Specification",
                    f"{DOCS}/areas-and-zones-portfolio/os-open-built-up-areas/os-open-built-up-areas-technical-specification",
                )
            ),
        },
    ),
    _product(
        "OpenGreenspace",
        "OS Open Greenspace",
        [
            "Covering a range of greenspaces in urban and rural areas including playing fields, sports’ facilities, play areas and allotments."
        ],
        "2025-10",
        category="Greenspace",
        categories=["landAndTerrain"],
        formats=_fmt(SHAPEFILE, GML3, GPKG, MBTILES),
        areas=["GB"] + [t for t in _TILES_52],
        extra=_os("land-and-terrain-portfolio/os-open-greenspace", started=True),
    ),
    _product(
        "LIDS",
        "OS Open Linked Identifiers",
        [
            "A comprehensive dataset that provides authoritative relationship between UPRNs, USRNs, TOIDs and meta data to enable reliable matching."
        ],
        "2026-01",
        category="Identifiers",
        categories=[
            "addressesAndNames",
            "buildingsAndInfrastructure",
            "landAndTerrain",
            "transportNetworks",
            "water",
        ],
        formats=_fmt("CSV"),
        structures=["Identifier"],
        extra=_os(
            "buildings-and-infrastructure-portfolio/os-open-linked-identifiers", started=True
        ),
    ),
    _product(
        "OpenNames",
        "OS Open Names",
        ["A comprehensive dataset of place names, roads numbers and postcodes for Great Britain."],
        "2026-01",
        category="Lookups",
        categories=["addressesAndNames"],
        formats=_fmt("CSV", GML3, GPKG),
        extra=_os("addresses-and-names-portfolio/os-open-names", started=True),
    ),
    _product(
        "OpenRivers",
        "OS Open Rivers",
        ["An open dataset of the high-level view of watercourse in Great Britain."],
        "2025-10",
        category="Networks",
        categories=["water"],
        formats=_fmt(SHAPEFILE, GML3, GPKG, MBTILES),
        extra=_os("water-portfolio/os-open-rivers"),
    ),
    _product(
        "OpenRoads",
        "OS Open Roads",
        ["Get a high-level view of the road network, from motorways to country lanes."],
        "2025-10",
        category="Networks",
        categories=["transportNetworks"],
        formats=_fmt(SHAPEFILE, GML3, GPKG, MBTILES),
        extra=_os("transport-network-portfolio/os-open-roads"),
    ),
    _product(
        "OpenTOID",
        "OS Open TOID",
        [
            "An open dataset providing access to a generalised location to key features found in OS MasterMap premium products enabling visualisation of third party data linked to their respective TOID identifier."
        ],
        "2026-01",
        category="Identifiers",
        categories=["buildingsAndInfrastructure", "landAndTerrain", "water"],
        formats=_fmt("CSV", GPKG),
        areas=list(_TILES_54),
        extra=_os("buildings-and-infrastructure-portfolio/os-open-toid"),
    ),
    _product(
        "OpenUPRN",
        "OS Open UPRN",
        [
            "An open dataset containing all the Unique Property Reference Numbers (UPRNs) found in AddressBase Premium, with their respective geometries in British National Grid and Latitude, Longitude."
        ],
        "2026-01",
        category="Identifiers",
        categories=["addressesAndNames"],
        formats=_fmt("CSV", GPKG),
        extra=_os("addresses-and-names-portfolio/os-open-uprn"),
    ),
    _product(
        "OpenUSRN",
        "OS Open USRN",
        [
            "An open dataset of all Unique Street Reference Numbers (USRNs) within OS MasterMap Highways Network, with an associated simplified line geometry representing the geographic extent of each USRN."
        ],
        "2026-02",
        category="Identifiers",
        categories=["transportNetworks"],
        formats=_fmt(GPKG),
        extra=_os("transport-network-portfolio/os-open-usrn"),
    ),
    _product(
        "OpenZoomstack",
        "OS Open Zoomstack",
        [
            "A comprehensive basemap of Great Britain showing coverage from national level right down to street detail."
        ],
        "2025-12",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt(GPKG, MBTILES),
        extra={
            "documentationUrl": f"{DOCS}/maps-and-imagery-portfolio/os-open-zoomstack",
            "supportingInfo": _info(
                (
                    "Technical Specification",
                    f"{DOCS}/maps-and-imagery-portfolio/os-open-zoomstack/os-open-zoomstack-technical-specification",
                ),
                (
                    "Getting Started",
                    f"{DOCS}/maps-and-imagery-portfolio/os-open-zoomstack/os-open-zoomstack-getting-started-guide",
                ),
            ),
        },
    ),
    _product(
        "OpenMapLocal",
        "OS OpenMap - Local",
        ["Map, visualise and truly understand your data at street level."],
        "2025-10",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt(SHAPEFILE, GML3, ("GeoTIFF", "Full Colour"), GPKG),
        areas=["GB"] + list(_TILES_55),
        structures=["Raster", "Vector"],
        extra=_os("maps-and-imagery-portfolio/os-openmap-local", started=True),
    ),
    _product(
        "Terrain50",
        "OS Terrain® 50",
        ["Visualise simple landscapes in 3D and bring your geographic analysis to life."],
        "2025-07",
        category="Heights",
        categories=["landAndTerrain"],
        formats=_fmt(
            "ASCII Grid and GML (Grid)",
            (SHAPEFILE, "(Contours)"),
            GPKG,
            ("GML", "(Contours)"),
            MBTILES,
        ),
        extra=_os("land-and-terrain-portfolio/os-terrain-50"),
    ),
    _product(
        "VectorMapDistrict",
        "OS VectorMap® District",
        [
            "District level mapping. Use the vectors to customise your perfect map or choose the raster for pre-defined cartography."
        ],
        "2025-11",
        category="Mapping",
        categories=["mapsAndImagery"],
        formats=_fmt(
            SHAPEFILE, ("GeoTIFF", "Backdrop"), ("GeoTIFF", "Full Colour"), ("GML", "3.2"), GPKG
        ),
        areas=["GB"] + list(_TILES_55),
        structures=["Vector", "Raster"],
        extra=_os("maps-and-imagery-portfolio/os-vectormap-district"),
    ),
)


def _all(stem: str, codes: Dict[str, Any], area: str = "GB") -> List[DownloadSpec]:
    """``<stem>_<code>_<area>.zip`` for each listed format (OS's usual file naming)."""
    result = []
    for code, fmt in codes.items():
        fmt, sub = fmt if isinstance(fmt, tuple) else (fmt, None)
        result.append(DownloadSpec(f"{stem}_{code}_{area.lower()}.zip", fmt, sub, area))
    return result


def _every_other_tile(
    stem: str, codes: Dict[str, Any], tiles: List[str], done: Tuple[str, ...]
) -> List[DownloadSpec]:
    """One download per listed 100 km square not already given (every square an
    ``areas`` list names can be downloaded); one format each keeps generation fast."""
    return [spec for tile in tiles if tile not in done for spec in _all(stem, codes, tile)]


_BGS_SHP_GPKG = {"shp": SHAPEFILE, "gpkg": GPKG}

DOWNLOADS: Dict[str, List[DownloadSpec]] = {
    "250kScaleColourRaster": [DownloadSpec("ras250_gb.zip", "TIFF-LZW")],
    "GeoClimate_UKCP18_Open": _all("bgs_geoclimate_ukcp18", {"shp": SHAPEFILE}),
    "GeoCoast_Open": _all("bgs_geocoast", {"shp": SHAPEFILE}),
    "GeoScour_Open": _all("bgs_geoscour", {"shp": SHAPEFILE}),
    "GB-Hex-5km-GeoSure": _all("bgs_geosure_hex5km", _BGS_SHP_GPKG),
    "BGS_Geology_625k": _all("bgs_geology625k", {"shp": SHAPEFILE, "tab": "MapInfo"}, "UK"),
    "Hydrogeology_625k": _all("bgs_hydrogeology625k", _BGS_SHP_GPKG, "UK"),
    "GB-Hex-1km-Mining-Haz": _all("bgs_mininghazard_hex1km", _BGS_SHP_GPKG),
    "Soil_Parent_Material_Model_1km": _all("bgs_spmm_1km", _BGS_SHP_GPKG),
    "Radon_Indicative_Atlas": _all("bgs_radon", _BGS_SHP_GPKG, "GB")
    + _all("bgs_radon", _BGS_SHP_GPKG, "NI"),
    "BoundaryLine": _all(
        "bdline",
        {"essh": SHAPEFILE, "gml3": GML3, "tab": "MapInfo® TAB", "gpkg": GPKG, "mbtiles": MBTILES},
    ),
    "CodePointOpen": [
        DownloadSpec("codepo_gb.zip", "CSV"),
        DownloadSpec("codepo_gpkg_gb.zip", GPKG),
    ],
    "GBOverviewMaps": [
        DownloadSpec("gboverviewmaps_gtiff_gb.zip", "GeoTIFF", "Full Colour", unverified=True)
    ],
    "MiniScale": [
        DownloadSpec("minisc_gb.zip", "Zip file (containing EPS, Illustrator and TIFF-LZW)")
    ],
    "BuiltUpAreas": _all("opbua", {"csv": "CSV", "gpkg": GPKG}),
    "OpenGreenspace": _all(
        "opgrsp", {"essh": SHAPEFILE, "gml3": GML3, "gpkg": GPKG, "mbtiles": MBTILES}
    )
    + _all("opgrsp", {"essh": SHAPEFILE, "gml3": GML3}, "TQ")
    + _all("opgrsp", {"gml3": GML3}, "TL")
    + _every_other_tile("opgrsp", {"gml3": GML3}, _TILES_52, ("TQ", "TL")),
    "LIDS": [
        DownloadSpec("lids-2026-01_csv_BLPU-UPRN-Street-USRN-11.zip", "CSV"),
        DownloadSpec("lids-2026-01_csv_BLPU-UPRN-TopographicArea-TOID-5.zip", "CSV"),
    ],
    "OpenNames": [DownloadSpec("opname_csv_gb.zip", "CSV")]
    + _all("opname", {"gml3": GML3, "gpkg": GPKG}),
    "OpenRivers": _all(
        "oprvrs", {"essh": SHAPEFILE, "gml3": GML3, "gpkg": GPKG, "mbtiles": MBTILES}
    ),
    "OpenRoads": _all(
        "oproad", {"essh": SHAPEFILE, "gml3": GML3, "gpkg": GPKG, "mbtiles": MBTILES}
    ),
    "OpenTOID": [
        DownloadSpec(f"osopentoid_202601_{code}_{area.lower()}.zip", fmt, None, area)
        for area in ("SU", "TQ")
        for code, fmt in (("csv", "CSV"), ("gpkg", GPKG))
    ]
    + [
        DownloadSpec(f"osopentoid_202601_csv_{area.lower()}.zip", "CSV", None, area)
        for area in _TILES_54
        if area not in ("SU", "TQ")
    ],
    "OpenUPRN": [
        DownloadSpec("osopenuprn_202601_csv.zip", "CSV"),
        DownloadSpec("osopenuprn_202601_gpkg.zip", GPKG),
    ],
    "OpenUSRN": [DownloadSpec("osopenusrn_202602_gpkg.zip", GPKG)],
    # Real names (research 2.2): the vector tiles are a bare .mbtiles, not a zip.
    "OpenZoomstack": [
        DownloadSpec("OS_Open_Zoomstack.zip", GPKG),
        DownloadSpec("OS_Open_Zoomstack.mbtiles", *MBTILES),
    ],
    "OpenMapLocal": _all("opmplc", {"essh": SHAPEFILE, "gml3": GML3, "gpkg": GPKG})
    + _all("opmplc", {"essh": SHAPEFILE, "gml3": GML3, "gtiff": ("GeoTIFF", "Full Colour")}, "TQ")
    + _every_other_tile("opmplc", {"gml3": GML3}, _TILES_55, ("TQ",)),
    "Terrain50": _all(
        "terr50",
        {
            "gagg": "ASCII Grid and GML (Grid)",
            "cesh": (SHAPEFILE, "(Contours)"),
            "gpkg": GPKG,
            "cgml": ("GML", "(Contours)"),
            "mbtiles": MBTILES,
        },
    ),
    "VectorMapDistrict": _all("vmdvec", {"essh": SHAPEFILE, "gml32": ("GML", "3.2"), "gpkg": GPKG})
    + [
        DownloadSpec("vmdbdp_gtiff_gb.zip", "GeoTIFF", "Backdrop"),
        DownloadSpec("vmdras_gtiff_gb.zip", "GeoTIFF", "Full Colour"),
    ]
    + _all("vmdvec", {"essh": SHAPEFILE}, "TQ")
    + _every_other_tile("vmdvec", {"gml32": ("GML", "3.2")}, _TILES_55, ("TQ",)),
}

# --- premium data packages ------------------------------------------------------------------


@dataclass(frozen=True)
class PackageVersionSpec:
    id: str
    created_on: str
    reason: str  # INITIAL | UPDATE | EXPANSION | RESUPPLY | ONLINE_ORDER
    # The spec's FULL | COU, or production's "Full" | "Change Only Update"
    # (research 1.3): the topography package uses one, AddressBase the other.
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


PACKAGES: Tuple[PackageSpec, ...] = (
    PackageSpec(
        "0040154231",
        "Southampton Topography",
        "2026-01-20",
        "MMTOPO",
        "OS MasterMap Topography Layer",
        "GML",
        (
            PackageVersionSpec(
                "6307037",
                "2026-01-20",
                "INITIAL",
                "FULL",
                "Epoch 107",
                "5436275",
                ("SU4010", "SU4011", "SU4110", "SU4111"),
            ),
            PackageVersionSpec(
                "6307152",
                "2026-02-17",
                "UPDATE",
                "COU",
                "Epoch 108",
                "5441802",
                ("SU4010", "SU4111"),
            ),
            PackageVersionSpec(
                "6307290", "2026-03-17", "UPDATE", "COU", "Epoch 109", "5447155", ("SU4011",)
            ),
        ),
    ),
    PackageSpec(
        "0040156306",
        "AB Prem (Full)",
        "2026-01-22",
        "ABP",
        "AddressBase Premium",
        "CSV",
        (
            PackageVersionSpec(
                "6308811", "2026-01-22", "INITIAL", "Full", "E117 January 2026 Update", "5437102"
            ),
            PackageVersionSpec(
                "6309904",
                "2026-02-19",
                "UPDATE",
                "Change Only Update",
                "E118 February 2026 Update",
                "5442417",
            ),
            PackageVersionSpec(
                "6310988",
                "2026-03-19",
                "UPDATE",
                "Change Only Update",
                "E119 March 2026 Update",
                "5448030",
            ),
        ),
    ),
)


# Packages made for holdings (issue 13): a FULL supply and change-only updates generated
# from one model each (replica/sample_holdings.py), with the expected holding ("truth")
# for every version. One spells supplyType as the spec does, the other as production does.
HOLDING_PACKAGES: Tuple[PackageSpec, ...] = (
    PackageSpec(
        "0040163512",
        "Exeter Topography (COU)",
        "2026-04-01",
        "MMTOPO",
        "OS MasterMap Topography Layer",
        "GML",
        (
            PackageVersionSpec("6401101", "2026-04-01", "INITIAL", "FULL", "Epoch 110", "5452201"),
            PackageVersionSpec("6401102", "2026-05-06", "UPDATE", "COU", "Epoch 111", "5457730"),
            PackageVersionSpec("6401103", "2026-06-03", "UPDATE", "COU", "Epoch 112", "5463318"),
            PackageVersionSpec("6401104", "2026-07-01", "UPDATE", "COU", "Epoch 113", "5468904"),
        ),
    ),
    PackageSpec(
        "0040163520",
        "AB Prem Cardiff (COU)",
        "2026-04-02",
        "ABP",
        "AddressBase Premium",
        "CSV",
        (
            PackageVersionSpec(
                "6402201", "2026-04-02", "INITIAL", "Full", "E120 April 2026 Update", "5452310"
            ),
            PackageVersionSpec(
                "6402202",
                "2026-05-07",
                "UPDATE",
                "Change Only Update",
                "E121 May 2026 Update",
                "5457841",
            ),
            PackageVersionSpec(
                "6402203",
                "2026-06-04",
                "UPDATE",
                "Change Only Update",
                "E122 June 2026 Update",
                "5463420",
            ),
            PackageVersionSpec(
                "6402204",
                "2026-07-02",
                "UPDATE",
                "Change Only Update",
                "E123 July 2026 Update",
                "5469015",
            ),
        ),
    ),
    PackageSpec(
        "0040163538",
        "AB Prem Cardiff tiles (COU)",
        "2026-04-03",
        "ABP",
        "AddressBase Premium",
        "CSV",
        (
            PackageVersionSpec(
                "6403301", "2026-04-03", "INITIAL", "Full", "E120 April 2026 Update", "5452419"
            ),
            PackageVersionSpec(
                "6403302",
                "2026-05-08",
                "UPDATE",
                "Change Only Update",
                "E121 May 2026 Update",
                "5457952",
            ),
            PackageVersionSpec(
                "6403303",
                "2026-06-05",
                "UPDATE",
                "Change Only Update",
                "E122 June 2026 Update",
                "5463531",
            ),
            PackageVersionSpec(
                "6403304",
                "2026-07-03",
                "UPDATE",
                "Change Only Update",
                "E123 July 2026 Update",
                "5469126",
            ),
        ),
    ),
)

# Holding packages supplied as 5 km tiles ("geographic chunks"): a change-only update
# sends every record of each changed tile as an insert, replacing the tile.
HOLDING_TILE_SUPPLIES: Tuple[str, ...] = ("0040163538",)

# Further change-only updates of the holding packages, generated but not listed: tests
# publish them at run time (sample_holdings.publish_next_update). Their ids are the ones
# the replica gives the next published versions of a package.
HOLDING_NEXT_VERSIONS: Dict[str, Tuple[PackageVersionSpec, ...]] = {
    "0040163512": (
        PackageVersionSpec("6401105", "2026-08-05", "UPDATE", "COU", "Epoch 114", "5474470"),
        PackageVersionSpec("6401106", "2026-09-02", "UPDATE", "COU", "Epoch 115", "5480012"),
    ),
    "0040163520": (
        PackageVersionSpec(
            "6402205",
            "2026-08-06",
            "UPDATE",
            "Change Only Update",
            "E124 August 2026 Update",
            "5474581",
        ),
        PackageVersionSpec(
            "6402206",
            "2026-09-03",
            "UPDATE",
            "Change Only Update",
            "E125 September 2026 Update",
            "5480123",
        ),
    ),
}
