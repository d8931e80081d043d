"""The small documents that travel in OS zips: licence, readme, metadata.

OS ``licence.txt`` files are Windows-1252 with a bare copyright byte (0xA9),
not UTF-8; readers that assume UTF-8 trip on them, so the samples keep that.
"""

from __future__ import annotations

from typing import Dict, Iterable, Tuple


def licence(product_name: str, year: int = 2026, *, bgs: bool = False) -> bytes:
    """``Doc/licence.txt``: Windows-1252, CRLF, with a raw © byte."""
    owner = "UKRI. All rights reserved" if bgs else "Crown copyright and database rights"
    source = "British Geological Survey materials" if bgs else "OS data"
    text = (
        f"{product_name}\r\n"
        f"Contains {source} \u00a9 {owner} {year}\r\n"
        "\r\n"
        "This data is licensed under the Open Government Licence v3.0.\r\n"
        "To view this licence visit "
        "www.nationalarchives.gov.uk/doc/open-government-licence/version/3\r\n"
        "\r\n"
        "You must acknowledge the source of the data by including the attribution"
        " statement above.\r\n"
    )
    return text.encode("cp1252")


def readme(product_name: str, edition: str, contents: Iterable[str]) -> bytes:
    """``readme.txt``: what is in the zip (Windows-1252 like the licence, CRLF)."""
    lines = [
        f"{product_name} - edition {edition}",
        "",
        "This supply contains:",
        *(f"  {item}" for item in contents),
        "",
        "Coordinates are British National Grid (EPSG:27700).",
        "Product documentation: https://docs.os.uk/os-downloads",
        "",
    ]
    return "\r\n".join(lines).encode("cp1252")


def codepoint_headers() -> bytes:
    """``Doc/Code-Point_Open_Column_Headers.csv``: short codes, then the long names."""
    short = "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC"
    long = (
        "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
        "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code"
    )
    return f"{short}\r\n{long}\r\n".encode("ascii")


def codepoint_metadata(version: str, counts: Dict[str, int]) -> bytes:
    """``Doc/metadata.txt``: dataset version, dates and row counts per postcode area."""
    year, month = version.split("-")
    lines = [
        "Code-Point Open",
        f"DATASET VERSION NUMBER: {year}.{int(month)}.0",
        f"COPYRIGHT DATE: {year}{month}01",
        f"RM UPDATE DATE: {year}{month}01",
        "",
        "Postcode area   Number of records",
        *(f"{area.upper():<16}{count}" for area, count in sorted(counts.items())),
        f"{'TOTAL':<16}{sum(counts.values())}",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def open_uprn_versions(product_name: str, file_name: str, extracted: str) -> bytes:
    """``versions.txt`` of OS Open UPRN (extraction date as DD-MM-YYYY)."""
    return (
        f"Product Name: {product_name}\r\n"
        f"File Name: {file_name}\r\n"
        f"Data Extraction Date: {extracted}\r\n"
    ).encode("ascii")


OPEN_NAMES_COLUMNS: Tuple[str, ...] = (
    "ID", "NAMES_URI", "NAME1", "NAME1_LANG", "NAME2", "NAME2_LANG", "TYPE", "LOCAL_TYPE",
    "GEOMETRY_X", "GEOMETRY_Y", "MOST_DETAIL_VIEW_RES", "LEAST_DETAIL_VIEW_RES",
    "MBR_XMIN", "MBR_YMIN", "MBR_XMAX", "MBR_YMAX", "POSTCODE_DISTRICT", "POSTCODE_DISTRICT_URI",
    "POPULATED_PLACE", "POPULATED_PLACE_URI", "POPULATED_PLACE_TYPE", "DISTRICT_BOROUGH",
    "DISTRICT_BOROUGH_URI", "DISTRICT_BOROUGH_TYPE", "COUNTY_UNITARY", "COUNTY_UNITARY_URI",
    "COUNTY_UNITARY_TYPE", "REGION", "REGION_URI", "COUNTRY", "COUNTRY_URI",
    "RELATED_SPATIAL_OBJECT", "SAME_AS_DBPEDIA", "SAME_AS_GEONAMES",
)  # fmt: skip


def _text(tag: str, value: str) -> str:
    return f"<gmd:{tag}><gco:CharacterString>{value}</gco:CharacterString></gmd:{tag}>"


def terrain_metadata(tile: str, west: int, south: int, release: str) -> bytes:
    """``Metadata_<TILE>.xml``: a short ISO 19139 record for one Terrain 50 tile."""
    gmd, gco = "http://www.isotc211.org/2005/gmd", "http://www.isotc211.org/2005/gco"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gmd:MD_Metadata xmlns:gmd="{gmd}" xmlns:gco="{gco}">',
        f"  {_text('fileIdentifier', f'OS-Terrain-50-{tile}')}",
        f"  <gmd:dateStamp><gco:Date>{release}</gco:Date></gmd:dateStamp>",
        "  <gmd:referenceSystemInfo><gmd:MD_ReferenceSystem>",
        f"    <gmd:referenceSystemIdentifier><gmd:RS_Identifier>{_text('code', 'EPSG:27700')}",
        "    </gmd:RS_Identifier></gmd:referenceSystemIdentifier>",
        "  </gmd:MD_ReferenceSystem></gmd:referenceSystemInfo>",
        "  <gmd:identificationInfo><gmd:MD_DataIdentification>",
        f"    <gmd:citation><gmd:CI_Citation>{_text('title', f'OS Terrain 50 {tile}')}",
        "    </gmd:CI_Citation></gmd:citation>",
        f"    {_text('abstract', f'Height grid of 50 m cells for the 10 km square {tile}.')}",
        "    <gmd:extent><gmd:EX_Extent>",
        f"      {_text('description', f'{west} {south} {west + 10000} {south + 10000}')}",
        "    </gmd:EX_Extent></gmd:extent>",
        "  </gmd:MD_DataIdentification></gmd:identificationInfo>",
        "</gmd:MD_Metadata>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def order_details(
    package_name: str, order: str, version_id: str, created_on: str, files: Iterable[str]
) -> bytes:
    """A premium supply's order summary, listing the files of the version."""
    names = list(files)
    lines = [
        "Ordnance Survey - Order Details",
        f"Data package: {package_name}",
        f"Order number: {order}",
        f"Data package version: {version_id}",
        f"Created on: {created_on}",
        f"Number of files: {len(names)}",
        *(f"  {name}" for name in names),
        "",
    ]
    return "\r\n".join(lines).encode("ascii")
