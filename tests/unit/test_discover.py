"""Finding loadable datasets in extracted folders (GIS files made with GDAL, in tests only)."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import struct
import sys
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from archive_factory import file, make_zip, zip_bytes

from os_downloads.core.engine.crs import crs_from_wkt
from os_downloads.core.engine.discover import (
    DEFAULT_CRS,
    Dataset,
    find_datasets,
    group_tiles,
)
from os_downloads.core.engine.extract import extract_all, extract_archive
from os_downloads.core.engine.manifest import Manifest, read_manifest

BNG_ESRI = (
    'PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",'
    'SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],'
    'PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],'
    'PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]'
)
WGS84_ESRI = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
CODEPOINT_HEADERS = (
    "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\r\n"
    "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
    "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code\r\n"
)
CODEPOINT_ROW = (
    '"{pc}",10,{e},{n},"E92000001","E19000003","E18000007","","E09000033","E05000644"\r\n'
)


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def _summary(datasets: List[Dataset], root: Path) -> List[tuple]:
    return [
        (d.path.relative_to(root).as_posix(), d.kind, d.format, d.layer, d.name, d.crs)
        for d in datasets
    ]


# --- GIS files -------------------------------------------------------------------------


def _geopackage(path: Path, epsg: int = 27700) -> Path:
    ogr = pytest.importorskip("osgeo.ogr")
    osr = pytest.importorskip("osgeo.osr")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name, kind in (("watercourse_link", ogr.wkbMultiLineString), ("hydro_node", ogr.wkbPoint)):
        layer = source.CreateLayer(name, srs, kind)
        feature = ogr.Feature(layer.GetLayerDefn())
        wkt = "POINT (1 2)" if kind == ogr.wkbPoint else "MULTILINESTRING ((0 0,1 1))"
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    table = source.CreateLayer("metadata_table", None, ogr.wkbNone)
    table.CreateField(ogr.FieldDefn("note", ogr.OFTString))
    source = None  # noqa: F841 (closes the file)
    return path


def test_geopackage_layers_are_read_from_gpkg_contents(tmp_path: Path) -> None:
    gpkg = _geopackage(tmp_path / "Data" / "oprvrs_gb.gpkg")

    found = find_datasets(tmp_path)

    assert _summary(found, tmp_path) == [
        ("Data/oprvrs_gb.gpkg", "vector", "GPKG", "hydro_node", "hydro_node", "EPSG:27700"),
        ("Data/oprvrs_gb.gpkg", "table", "GPKG", "metadata_table", "metadata_table", None),
        ("Data/oprvrs_gb.gpkg", "vector", "GPKG", "watercourse_link", "watercourse_link",
         "EPSG:27700"),
    ]  # fmt: skip
    assert [d.geometry_type for d in found] == ["Point", None, "MultiLineString"]
    assert found[0].uri == f"{gpkg}|layername=hydro_node"


def test_geopackage_crs_other_than_bng_and_undefined(tmp_path: Path) -> None:
    wgs = _geopackage(tmp_path / "wgs" / "x.gpkg", epsg=4326)
    assert {d.crs for d in find_datasets(wgs.parent) if d.kind == "vector"} == {"EPSG:4326"}

    undefined = tmp_path / "undefined" / "y.gpkg"
    undefined.parent.mkdir()
    with sqlite3.connect(undefined) as db:
        db.executescript(
            "CREATE TABLE gpkg_spatial_ref_sys (srs_name, srs_id INTEGER PRIMARY KEY, "
            "organization, organization_coordsys_id, definition, description);"
            "INSERT INTO gpkg_spatial_ref_sys "
            "VALUES ('Undefined', -1, 'NONE', -1, 'undefined', '');"
            "CREATE TABLE gpkg_contents (table_name, data_type, identifier, srs_id);"
            "INSERT INTO gpkg_contents VALUES ('grid', 'tiles', 'grid', -1);"
        )
    db.close()
    assert _summary(find_datasets(undefined.parent), undefined.parent) == [
        ("y.gpkg", "raster", "GPKG", "grid", "grid", DEFAULT_CRS)
    ]


def test_unreadable_geopackage_is_listed_once_and_marked(tmp_path: Path) -> None:
    _write(tmp_path / "broken.gpkg", b"not a database at all" * 100)

    found = find_datasets(tmp_path)

    assert _summary(found, tmp_path) == [("broken.gpkg", "vector", "GPKG", None, "broken", None)]
    assert found[0].problem == "It is not a GeoPackage (not an SQLite database), or it is damaged."


def _shapefile(folder: Path, name: str, prj: Any = None) -> Path:
    ogr = pytest.importorskip("osgeo.ogr")
    folder.mkdir(parents=True, exist_ok=True)
    source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(str(folder))
    layer = source.CreateLayer(name, None, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((0 0,1 0,1 1,0 0))"))
    layer.CreateFeature(feature)
    source = None  # noqa: F841
    if prj is not None:
        _write(folder / f"{name}.prj", prj)
    return folder / f"{name}.shp"


def test_shapefiles_with_and_without_prj(tmp_path: Path) -> None:
    data = tmp_path / "Data" / "GB"
    _shapefile(data, "county_region", BNG_ESRI)
    _shapefile(data, "wgs_layer", WGS84_ESRI)
    _shapefile(data, "no_prj")
    _shapefile(data, "odd_prj", 'PROJCS["Mystery",GEOGCS["Somewhere"]]')

    found = find_datasets(tmp_path)

    assert [(d.name, d.crs, d.geometry_type, d.format) for d in found] == [
        ("county_region", "EPSG:27700", "Polygon", "ESRI Shapefile"),
        ("no_prj", DEFAULT_CRS, "Polygon", "ESRI Shapefile"),
        ("odd_prj", None, "Polygon", "ESRI Shapefile"),  # None: the loader reads the file's own
        ("wgs_layer", "EPSG:4326", "Polygon", "ESRI Shapefile"),
    ]


def test_reading_the_prj_files_leaves_no_folder_open(tmp_path: Path) -> None:
    """Each .prj is found by listing its folder; the listing is closed every time
    (a QGIS session discovering many downloads must not run out of handles)."""
    data = tmp_path / "Data"
    for name in ("one", "two", "three"):
        _shapefile(data, name, BNG_ESRI)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        found = find_datasets(tmp_path)
        gc.collect()

    assert [d.crs for d in found] == ["EPSG:27700"] * 3
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


@pytest.mark.parametrize(
    "wkt, expected",
    [
        (BNG_ESRI, "EPSG:27700"),
        ('PROJCS["OSGB36 / British National Grid",AUTHORITY["EPSG","27700"]]', "EPSG:27700"),
        ('PROJCRS["OSGB36 / British National Grid",ID["EPSG",27700]]', "EPSG:27700"),
        ('PROJCS["TM75_Irish_Grid",GEOGCS["GCS_TM75"]]', "EPSG:29903"),
        ('PROJCS["IRENET95_Irish_Transverse_Mercator"]', "EPSG:2157"),
        (WGS84_ESRI, "EPSG:4326"),
        ('LOCAL_CS["nowhere"]', None),
    ],
)
def test_crs_from_prj_text(wkt: str, expected: Any) -> None:
    assert crs_from_wkt(wkt) == expected


def _geotiff(path: Path, epsg: Any = 27700, pixels: int = 4) -> Path:
    gdal = pytest.importorskip("osgeo.gdal")
    osr = pytest.importorskip("osgeo.osr")
    path.parent.mkdir(parents=True, exist_ok=True)
    raster = gdal.GetDriverByName("GTiff").Create(str(path), pixels, pixels, 1, gdal.GDT_Byte)
    raster.GetRasterBand(1).Fill(7)
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        raster.SetProjection(srs.ExportToWkt())
        raster.SetGeoTransform((400000, 50, 0, 100400, 0, -50))
    raster = None  # noqa: F841
    return path


def test_geotiffs_crs_from_geokeys_and_world_files_elsewhere(tmp_path: Path) -> None:
    data = tmp_path / "ras250_gb" / "data"
    _geotiff(data / "NY.tif")
    _geotiff(data / "SU.tif")
    _geotiff(tmp_path / "other" / "wgs.tiff", epsg=4326)
    _geotiff(tmp_path / "minisc" / "data" / "RGB_TIF" / "MiniScale_(mono)_R21.tif", None)
    tfw = _write(
        tmp_path / "minisc" / "data" / "World_Files" / "MiniScale_(mono)_R21.tfw", "1\n0\n0\n-1\n"
    )

    found = {d.name: d for d in find_datasets(tmp_path)}

    assert found["NY"].crs == found["SU"].crs == "EPSG:27700"
    assert found["NY"].tile_group == found["SU"].tile_group == "GTiff:ras250_gb/data:EPSG:27700"
    assert found["wgs"].crs == "EPSG:4326" and found["wgs"].tile_group is None
    mono = found["MiniScale_(mono)_R21"]
    assert (mono.kind, mono.crs, mono.world_file, mono.tile_group) == (
        "raster",
        DEFAULT_CRS,
        tfw,
        None,
    )
    assert found["NY"].world_file is None


def test_ascii_grids_gml_and_mbtiles(tmp_path: Path) -> None:
    tile = tmp_path / "data" / "su" / "su41_OST50GRID_20250701"
    _write(tile / "SU41.asc", "ncols 200\nnrows 200\nxllcorner 440000\n")
    _write(tile / "SU41.prj", BNG_ESRI)
    _write(tile / "SU41.gml", "<gml/>")  # the same grid in GML: not listed twice
    _write(tile / "SU41.asc.aux.xml", "<PAMDataset/>")
    _write(tile / "Metadata_SU41.xml", "<metadata/>")
    _write(tmp_path / "sig" / "release.zip.asc", "-----BEGIN PGP SIGNATURE-----\n")
    _write(
        tmp_path / "Data" / "oprvrs_gb.gml",
        '<?xml version="1.0"?><gml:FeatureCollection><gml:Envelope '
        'srsName="urn:ogc:def:crs:EPSG::27700"/></gml:FeatureCollection>',
    )
    _write(tmp_path / "Data" / "oprvrs_gb.xsd", "<schema/>")
    _write(tmp_path / "Data" / "oprvrs_gb.gfs", "<GMLFeatureClassList/>")
    _write(
        tmp_path / "Data" / "wgs.gml", '<x srsName="http://www.opengis.net/def/crs/EPSG/0/4326"/>'
    )
    for name, fmt in (("roads.mbtiles", "pbf"), ("raster.mbtiles", "png")):
        with sqlite3.connect(tmp_path / "Data" / name) as db:
            db.execute("CREATE TABLE metadata (name text, value text)")
            db.execute("INSERT INTO metadata VALUES ('format', ?)", (fmt,))
        db.close()

    assert _summary(find_datasets(tmp_path), tmp_path) == [
        ("Data/oprvrs_gb.gml", "vector", "GML", None, "oprvrs_gb", "EPSG:27700"),
        ("Data/raster.mbtiles", "raster", "MBTiles", None, "raster", "EPSG:3857"),
        ("Data/roads.mbtiles", "vector", "MBTiles", None, "roads", "EPSG:3857"),
        ("data/su/su41_OST50GRID_20250701/SU41.asc", "raster", "AAIGrid", None, "SU41",
         "EPSG:27700"),
        ("Data/wgs.gml", "vector", "GML", None, "wgs", "EPSG:4326"),
    ]  # fmt: skip


# --- CSV -------------------------------------------------------------------------------


def _codepoint(root: Path) -> None:
    _write(root / "Doc" / "Code-Point_Open_Column_Headers.csv", CODEPOINT_HEADERS)
    _write(root / "Doc" / "licence.txt", "© Crown copyright".encode("cp1252"))
    _write(root / "Doc" / "metadata.txt", "SE 12\r\n")
    _write(root / "Doc" / "Codelist.xlsx", b"PK\x03\x04")
    for area, pc in (("se", "SE1 7PB"), ("ab", "AB10 1AU"), ("e", "E1 6AN")):
        _write(
            root / "Data" / "CSV" / f"{area}.csv",
            CODEPOINT_ROW.format(pc=pc, e=530000, n=180000) * 3,
        )


def test_headerless_code_point_csv_takes_names_from_its_header_file(tmp_path: Path) -> None:
    _codepoint(tmp_path)

    found = find_datasets(tmp_path, product_name="Code-Point Open")

    assert [d.name for d in found] == [
        "Code-Point Open: ab",
        "Code-Point Open: e",
        "Code-Point Open: se",
    ]
    se = found[2]
    options = se.csv_options
    assert (se.kind, se.format, se.crs, se.geometry_type) == (
        "vector",
        "CSV",
        "EPSG:27700",
        "Point",
    )
    assert options is not None and not options.has_header
    assert options.field_names[:4] == (
        "Postcode",
        "Positional_quality_indicator",
        "Eastings",
        "Northings",
    )
    assert (options.x_field, options.y_field) == ("Eastings", "Northings")
    assert (options.column("Eastings"), options.column("Northings")) == (2, 3)
    assert options.header_file == tmp_path / "Doc" / "Code-Point_Open_Column_Headers.csv"
    assert len(group_tiles(found)) == 1 and len(next(iter(group_tiles(found).values()))) == 3


def test_open_names_csv_with_bom_and_separate_header(tmp_path: Path) -> None:
    names = (
        "ID,NAMES_URI,NAME1,NAME1_LANG,TYPE,LOCAL_TYPE,GEOMETRY_X,GEOMETRY_Y,"
        "POSTCODE_DISTRICT,COUNTRY"
    )
    _write(tmp_path / "Doc" / "OS_Open_Names_Header.csv", ("\ufeff" + names + "\r\n").encode())
    row = "osgb4000000074552466,http://x/1,Southampton,,populatedPlace,City,442500,112500,SO14,"
    _write(tmp_path / "Data" / "SU41.csv", ("\ufeff" + row + "England\r\n").encode())
    _write(tmp_path / "readme.txt", "readme")

    (su41,) = find_datasets(tmp_path)

    options = su41.csv_options
    assert options is not None
    assert (options.encoding, options.has_header) == ("utf-8-sig", False)
    assert options.field_names[0] == "ID" and len(options.field_names) == 10
    assert (options.x_field, options.y_field, su41.kind) == ("GEOMETRY_X", "GEOMETRY_Y", "vector")


def test_csvs_with_header_rows(tmp_path: Path) -> None:
    _write(
        tmp_path / "osopenuprn_202601.csv",
        "UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE\r\n1,543254.74,177753.68,51.48,0.06\r\n",
    )
    _write(tmp_path / "lids.csv", "CORRELATION_ID,IDENTIFIER_1,IDENTIFIER_2\r\n1_2,1,2\r\n")
    _write(tmp_path / "latlon.tsv.csv", "name\tLatitude\tLongitude\r\nx\t51.5\t-0.1\r\n")
    _write(
        tmp_path / "opbua_gb.csv",
        'GSSCODE,NAME1_TEXT,GEOMETRY\r\nE1,London,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\r\n',
    )
    _write(tmp_path / "accents.csv", "NAME;EASTING;NORTHING\r\nCaf\xe9;1;2\r\n".encode("cp1252"))
    _write(tmp_path / "versions.txt", "Product Name: OS Open UPRN\r\n")

    found = {d.name: d for d in find_datasets(tmp_path)}

    assert sorted(found) == ["accents", "latlon.tsv", "lids", "opbua_gb", "osopenuprn_202601"]
    uprn = found["osopenuprn_202601"]
    assert uprn.csv_options is not None and uprn.csv_options.has_header
    assert (uprn.csv_options.x_field, uprn.csv_options.y_field) == ("X_COORDINATE", "Y_COORDINATE")
    assert (uprn.kind, uprn.crs) == ("vector", "EPSG:27700")
    lids = found["lids"]
    assert (lids.kind, lids.crs, lids.geometry_type) == ("table", None, None)
    latlon = found["latlon.tsv"]
    assert latlon.csv_options is not None and latlon.csv_options.delimiter == "\t"
    assert (latlon.crs, latlon.csv_options.x_field) == ("EPSG:4326", "Longitude")
    bua = found["opbua_gb"]
    assert bua.csv_options is not None and bua.csv_options.wkt_field == "GEOMETRY"
    assert (bua.kind, bua.geometry_type) == ("vector", "Polygon")
    accents = found["accents"].csv_options
    assert accents is not None
    assert (accents.encoding, accents.delimiter, accents.x_field) == ("cp1252", ";", "EASTING")


def test_headerless_csv_without_header_file_is_a_table(tmp_path: Path) -> None:
    _write(tmp_path / "AddressBasePremium_FULL_001.csv", '10,"Ordnance Survey",7655,2026-01-22\r\n')

    (found,) = find_datasets(tmp_path)

    assert found.kind == "table" and found.csv_options is not None
    assert (found.csv_options.has_header, found.csv_options.field_names) == (False, ())


# --- what is left out, order, layouts -----------------------------------------------------


def test_documentation_and_licence_files_are_left_out(tmp_path: Path) -> None:
    _codepoint(tmp_path)
    for name in (
        "readme.txt",
        "licence.txt",
        "versions.txt",
        "Doc/readme.pdf",
        "doc/Codelist.xls",
        "docs/extra.csv",
        "Data/CSV/metadata.csv",
        "Data/CSV/licence.csv",
        "Data/x.xml",
        "Data/x.tfw",
        "Data/x.prj",
        "Data/x.aux.xml",
        ".os_downloads_extracted.json",
        "__MACOSX/Data/._se.csv",
        "Doc/spec.gml",
    ):
        _write(tmp_path / name, "1,2,3\r\n")

    assert [d.path.relative_to(tmp_path).as_posix() for d in find_datasets(tmp_path)] == [
        "Data/CSV/ab.csv",
        "Data/CSV/e.csv",
        "Data/CSV/se.csv",
    ]


def test_order_is_stable_and_casing_and_spaces_do_not_matter(tmp_path: Path) -> None:
    _write(tmp_path / "OS Open Greenspace (GML) TQ" / "data" / "OSOpenGreenspace_TQ.gml", "<a/>")
    _write(tmp_path / "Data" / "b.gml", "<a/>")
    _write(tmp_path / "data2" / "A.gml", "<a/>")

    first = find_datasets(tmp_path)

    assert [d.path.relative_to(tmp_path).as_posix() for d in first] == [
        "Data/b.gml",
        "data2/A.gml",
        "OS Open Greenspace (GML) TQ/data/OSOpenGreenspace_TQ.gml",
    ]
    assert find_datasets(tmp_path) == first


def test_terrain50_tiles_from_nested_zips_form_one_tile_group(tmp_path: Path) -> None:
    tiles = []
    for square, tile in (("su", "SU41"), ("su", "SU42"), ("tq", "TQ28")):
        inner = zip_bytes(
            [file(f"{tile}.asc", "ncols 2\nnrows 2\n"), file(f"{tile}.prj", BNG_ESRI)]
        )
        tiles.append(file(f"data/{square}/{tile.lower()}_OST50GRID_20250701.zip", inner))
    archive = make_zip(tmp_path / "terr50_gagg_gb.zip", [*tiles, file("doc/licence.txt", "l")])
    dest = extract_archive(archive, tmp_path / "extracted" / "terr50_gagg_gb").dest

    found = find_datasets(dest)

    assert [(d.name, d.format, d.crs) for d in found] == [
        ("SU41", "AAIGrid", "EPSG:27700"),
        ("SU42", "AAIGrid", "EPSG:27700"),
        ("TQ28", "AAIGrid", "EPSG:27700"),
    ]
    assert list(group_tiles(found)) == ["AAIGrid:data:EPSG:27700"]


def test_a_lone_tile_has_no_group(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "TQ28.asc", "ncols 2\n")

    (found,) = find_datasets(tmp_path)

    assert found.tile_group is None and group_tiles([found]) == {}


# --- every sample product the replica serves --------------------------------------------


def _catalogue_archives(data_dir: Path) -> Dict[str, List[Path]]:
    catalogue = json.loads((data_dir / "catalogue.json").read_text("utf-8"))
    archives: Dict[str, List[Path]] = {}
    for product in catalogue["products"]:
        for download in product.get("downloads", []):
            if "path" in download:
                archives.setdefault(product["id"], []).append(data_dir / download["path"])
    return archives


def test_every_sample_product_extracts_and_has_datasets(tmp_path: Path) -> None:
    pytest.importorskip("os_downloads.replica.data.sampledata")
    from os_downloads.replica.data.datadir import ensure_sample_data

    data_dir = ensure_sample_data()
    products = _catalogue_archives(data_dir)
    packages = sorted((data_dir / "files" / "packages").rglob("*.*"))
    assert len(products) >= 20

    empty = []
    for product_id, archives in sorted(products.items()):
        for result in extract_all(archives, tmp_path / product_id):
            if not find_datasets(result.dest):
                empty.append(result.archive.name)
    assert empty == []

    results = extract_all(packages, tmp_path / "packages")
    assert results and all(find_datasets(r.dest) for r in results)
    gml = [r for r in results if r.archive.name.endswith(".gz")]
    assert gml and all(f.suffix == ".gml" for r in gml for f in r.files)

    codepoint = find_datasets(tmp_path / "CodePointOpen" / "codepo_gb")
    assert {d.kind for d in codepoint} == {"vector"}
    assert all(d.csv_options and d.csv_options.x_field == "Eastings" for d in codepoint)
    terrain = find_datasets(tmp_path / "Terrain50" / "terr50_gagg_gb")
    assert {d.format for d in terrain} == {"AAIGrid"} and len(group_tiles(terrain)) == 1
    with zipfile.ZipFile(products["Terrain50"][0]) as check:
        assert check.namelist()  # the sample archive itself was left untouched


# --- unreadable and hostile files: one bad file never sinks the rest -------------------------


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _tiff_tag_entry(path: Path, tag: int) -> int:
    """The file offset of ``tag``'s entry in the first directory of a little-endian TIFF."""
    data = path.read_bytes()
    assert data[:4] == b"II*\x00"
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd : ifd + 2])
    for index in range(count):
        at = ifd + 2 + 12 * index
        if struct.unpack("<H", data[at : at + 2])[0] == tag:
            return at
    raise AssertionError(f"no tag {tag}")


def _with_geokey_count(path: Path, count: int) -> Path:
    """Make the GeoKeyDirectory tag (34735) claim ``count`` values."""
    data = bytearray(path.read_bytes())
    at = _tiff_tag_entry(path, 34735)
    data[at + 4 : at + 8] = struct.pack("<I", count)
    path.write_bytes(bytes(data))
    return path


@contextmanager
def _memory_cap(extra: int) -> Iterator[None]:
    """Cap this process's address space at what it uses now plus ``extra`` bytes (Linux)."""
    resource = pytest.importorskip("resource")
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs /proc to read the process size")
    kib = next(int(line.split()[1]) for line in status.read_text().splitlines()
               if line.startswith("VmSize:"))  # fmt: skip
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (kib * 1024 + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_one_unreadable_dataset_is_marked_and_the_rest_are_returned(tmp_path: Path) -> None:
    data = tmp_path / "Data"
    _geopackage(data / "good.gpkg")
    _geotiff(data / "good.tif")
    _write(data / "points.csv", "EASTING,NORTHING,NAME\r\n530000,180000,x\r\n")
    _cut(_geopackage(data / "cut.gpkg"), 0.5)
    _write(data / "empty.gpkg", b"")
    _cut(_geotiff(data / "cut.tif", None, pixels=300), 0.6)
    _write(data / "garbage.tif", os.urandom(3000))
    _write(data / "garbage_ii.tif", b"II*\x00" + struct.pack("<I", 10**9) + os.urandom(200))

    found = {d.path.name: d for d in find_datasets(tmp_path)}

    problems = {name: d.problem for name, d in found.items() if d.problem}
    assert sorted(problems) == ["cut.gpkg", "cut.tif", "empty.gpkg", "garbage.tif",
                                "garbage_ii.tif"]  # fmt: skip
    assert problems["cut.gpkg"].startswith("It is cut off: ")
    assert "probably an incomplete download or copy" in problems["cut.gpkg"]
    assert problems["cut.tif"].startswith("It is cut off: its image data run to byte ")
    assert problems["empty.gpkg"] == "It is empty (0 bytes), not a GeoPackage."
    assert problems["garbage.tif"] == "It is not a TIFF image, or it is damaged."
    assert "past the end of the file" in problems["garbage_ii.tif"]
    assert all("\n" not in p and str(tmp_path) not in p for p in problems.values())
    assert {d.path.name for d in found.values() if not d.problem} == {
        "good.gpkg", "good.tif", "points.csv"
    }  # fmt: skip
    assert found["cut.tif"].kind == "raster" and found["cut.tif"].format == "GTiff"


def test_a_broken_tile_is_kept_out_of_its_tile_group(tmp_path: Path) -> None:
    """A mosaic of the good tiles still loads; the broken one is listed on its own, marked."""
    data = tmp_path / "ras250_gb" / "data"
    for square in ("NY", "SU", "TQ"):
        _geotiff(data / f"{square}.tif", pixels=100)
    _cut(data / "TQ.tif", 0.5)

    found = {d.name: d for d in find_datasets(tmp_path)}

    assert found["TQ"].problem and found["TQ"].tile_group is None
    assert list(group_tiles(found.values())) == ["GTiff:ras250_gb/data:EPSG:27700"]
    assert [d.name for d in group_tiles(found.values())["GTiff:ras250_gb/data:EPSG:27700"]] == [
        "NY",
        "SU",
    ]


def test_a_geotiff_with_an_absurd_geokey_count_is_read_within_bounded_memory(
    tmp_path: Path,
) -> None:
    """A GeoKey directory claiming 4 billion values: ignored, nothing huge is read or built."""
    absurd = _with_geokey_count(_geotiff(tmp_path / "data" / "SU.tif", 4326), 0xFFFFFFFF)
    _write(tmp_path / "data" / "SU.prj", BNG_ESRI)
    past_end = _with_geokey_count(_geotiff(tmp_path / "other" / "wgs.tif", 4326), 60_000)

    with _memory_cap(512 << 20):
        found = {d.path: d for d in find_datasets(tmp_path)}

    assert found[absurd].problem is None and found[absurd].crs == "EPSG:27700"  # from the .prj
    assert "past the end of the file" in (found[past_end].problem or "")


def _odd_geopackage(path: Path) -> Path:
    """A hand-made GeoPackage whose tables hold what the specification does not allow."""
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
            "organization_coordsys_id, definition, description);"
            "INSERT INTO gpkg_spatial_ref_sys VALUES "
            "('bng as text', 1, 'EPSG', '27700', '', ''),"
            "('prefixed', 2, 'epsg', 'EPSG:4326', '', ''),"
            "('words', 3, 'EPSG', 'twenty-seven thousand', '', ''),"
            "('real', 4, 'EPSG', 3857.0, '', ''),"
            "('blob', 5, X'45505347', X'00ff', '', ''),"
            "('no organisation', 6, NULL, NULL, '', '');"
            "CREATE TABLE gpkg_contents (table_name, data_type, identifier, srs_id);"
            "INSERT INTO gpkg_contents VALUES "
            "('a_text_code', 'features', 'a', 1), ('b_prefixed', 'features', 'b', 2),"
            "('c_words', 'features', 'c', 3), ('d_real', ' Features ', 'd', 4),"
            "('e_blob', 'tiles', 'e', 5), ('f_null_org', 'features', 'f', 6),"
            "('g_no_srs_row', 'features', 'g', 99), ('h_text_srs_id', 'features', 'h', '1'),"
            "(NULL, 'features', 'nameless', 1), (42, 'attributes', 'number name', 1),"
            "('i_unknown', 'elevation?', 'i', 1);"
            "CREATE TABLE gpkg_geometry_columns (table_name, column_name, geometry_type_name);"
            "INSERT INTO gpkg_geometry_columns VALUES ('a_text_code', 'geom', 'POINT'),"
            "('b_prefixed', 'geom', NULL), (NULL, NULL, X'00');"
        )
    db.close()
    return path


def test_geopackage_with_text_srs_codes_and_odd_values(tmp_path: Path) -> None:
    gpkg = _odd_geopackage(tmp_path / "odd.gpkg")

    found = find_datasets(tmp_path)

    assert [(d.layer, d.kind, d.crs, d.geometry_type, d.problem) for d in found] == [
        ("42", "table", None, None, None),
        ("a_text_code", "vector", "EPSG:27700", "Point", None),
        ("b_prefixed", "vector", "EPSG:4326", "", None),
        ("c_words", "vector", None, None, None),  # no code core can read: the file's own
        ("d_real", "vector", "EPSG:3857", None, None),
        ("e_blob", "raster", None, None, None),
        ("f_null_org", "vector", DEFAULT_CRS, None, None),
        ("g_no_srs_row", "vector", DEFAULT_CRS, None, None),
        ("h_text_srs_id", "vector", DEFAULT_CRS, None, None),
    ]
    assert all(d.path == gpkg for d in found)


def test_a_geopackage_without_its_table_of_contents_is_marked(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "plain.gpkg") as db:
        db.execute("CREATE TABLE roads (id INTEGER)")
    db.close()

    [dataset] = find_datasets(tmp_path)

    assert dataset.problem is not None
    assert dataset.problem.startswith("It is not a valid GeoPackage: its table of contents")


def test_damaged_gis_files_never_make_discovery_raise(tmp_path: Path) -> None:
    """Bytes flipped in real GeoPackages and GeoTIFFs: always a list, never an exception."""
    import random

    originals = {
        "x.gpkg": _geopackage(tmp_path / "src" / "x.gpkg").read_bytes(),
        "x.tif": _geotiff(tmp_path / "src" / "x.tif").read_bytes(),
    }
    rng = random.Random(8)
    folder = tmp_path / "fuzz"
    for round_ in range(120):
        name, blob = rng.choice(sorted(originals.items()))
        damaged = bytearray(blob)
        span = min(600, len(damaged)) if name.endswith(".tif") else len(damaged)  # its header
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(span)] = rng.randrange(256)
        target = _write(folder / f"{round_}_{name}", bytes(damaged))
        found = find_datasets(folder)
        assert found and all(d.path == target for d in found)
        assert all(d.problem is None or d.problem.startswith("It ") for d in found)
        target.unlink()


def test_discovery_closes_every_directory_listing(tmp_path: Path, monkeypatch: Any) -> None:
    """No ``ResourceWarning: unclosed scandir iterator`` (the QGIS log showed 15 and more)."""
    for name in ("a", "b", "c"):
        _write(tmp_path / "shp" / f"{name}.shp", b"\x00" * 100)
        _write(tmp_path / "shp" / f"{name}.prj", BNG_ESRI)
        _write(tmp_path / "shp" / f"{name}.dbf", b"")
    _geotiff(tmp_path / "ras" / "SU.tif", None)
    _write(tmp_path / "ras" / "SU.tfw", "1\n0\n0\n-1\n400000\n100000\n")
    _write(tmp_path / "ras" / "SU.prj", BNG_ESRI)
    unraisable: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        found = find_datasets(tmp_path)
        gc.collect()

    assert len(found) == 4
    assert [u.exc_value for u in unraisable] == []


def test_the_manifest_records_which_datasets_cannot_be_read(tmp_path: Path) -> None:
    """Through ``finish_job``, as every job ends: loadable ones listed, the others marked."""
    from os_downloads.core.api.models import Checksum, RemoteFile
    from os_downloads.core.engine.download import DownloadResult, FileResult
    from os_downloads.core.engine.pipeline import finish_job

    broken = _cut(_geotiff(tmp_path / "src" / "SU.tif", pixels=300), 0.5).read_bytes()
    archive = make_zip(
        tmp_path / "job" / "product.zip",
        [
            file("Data/points.csv", "EASTING,NORTHING\r\n530000,180000\r\n"),
            file("Data/SU.tif", broken),
            file("Data/empty.gpkg", b""),
        ],
    )
    size = archive.stat().st_size
    result = DownloadResult(
        tmp_path / "job",
        (
            FileResult(
                RemoteFile("http://127.0.0.1/x", archive.name, size),
                archive,
                "downloaded",
                False,
                size,
                Checksum("md5", "0" * 32),
            ),
        ),
    )

    job = finish_job(result, Manifest("os-opendata", "Test", name="Test"))

    manifest = read_manifest(tmp_path / "job")
    assert manifest is not None
    assert manifest.datasets == ["extracted/product/Data/points.csv"]
    assert sorted(manifest.unreadable) == [
        "extracted/product/Data/SU.tif",
        "extracted/product/Data/empty.gpkg",
    ]
    assert manifest.unreadable["extracted/product/Data/empty.gpkg"] == (
        "It is empty (0 bytes), not a GeoPackage."
    )
    assert len(job.datasets) == 3
    assert json.loads((tmp_path / "job" / "os_downloads_manifest.json").read_text())["unreadable"]
