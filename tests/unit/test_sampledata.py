"""The replica's sample data: deterministic, complete, and in the real products' layouts.

What a user of the plugin would meet in the real zips is what these check: the
folder names, the headerless Code-Point CSVs with their header file, the nested
Terrain 50 zips, mode-000 Open UPRN entries, Windows-1252 licences, layers that
GDAL opens in EPSG:27700.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

gdal = pytest.importorskip("osgeo.gdal")
from osgeo import ogr, osr  # noqa: E402

from os_downloads.replica.data import sample_opendata, sample_packages  # noqa: E402
from os_downloads.replica.data.sample_build import Contributor, SampleBuild  # noqa: E402
from os_downloads.replica.data.sample_vector import Layer, write_mapinfo  # noqa: E402
from os_downloads.replica.data.sampledata import SAMPLE_POSTCODES, generate  # noqa: E402

gdal.UseExceptions()
ogr.UseExceptions()

TQ = (500000, 100000, 600000, 200000)
TL = (500000, 200000, 600000, 300000)


@pytest.fixture(scope="module")
def data(replica_data_dir: Path) -> Path:
    """The shared generated data (.build/replica-data), made once per test session."""
    return replica_data_dir


@pytest.fixture(scope="module")
def catalogue(data: Path) -> Dict[str, Any]:
    return json.loads((data / "catalogue.json").read_text("utf-8"))


def _product(catalogue: Dict[str, Any], product_id: str) -> Dict[str, Any]:
    return next(p for p in catalogue["products"] if p["id"] == product_id)


def _download(catalogue: Dict[str, Any], product_id: str, file_name: str) -> Dict[str, Any]:
    return next(
        d for d in _product(catalogue, product_id)["downloads"] if d["fileName"] == file_name
    )


def _zip(data: Path, catalogue: Dict[str, Any], product_id: str, file_name: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(data / _download(catalogue, product_id, file_name)["path"])


def _files(names: List[str]) -> List[str]:
    return sorted(n for n in names if not n.endswith("/"))


def _bng() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    return srs


def _layers(path: str) -> Tuple[gdal.Dataset, Dict[str, ogr.Layer]]:
    """The dataset (keep it referenced while using its layers) and its layers by name."""
    source = gdal.OpenEx(path, gdal.OF_VECTOR)
    return source, {
        source.GetLayer(i).GetName(): source.GetLayer(i) for i in range(source.GetLayerCount())
    }


def _inside(layer: ogr.Layer, box) -> bool:
    min_e, max_e, min_n, max_n = layer.GetExtent()
    return box[0] <= min_e and max_e <= box[2] and box[1] <= min_n and max_n <= box[3]


def _each_touches(layer: ogr.Layer, box) -> bool:
    """Every feature's envelope overlaps the box (a tile holds what touches it)."""
    layer.ResetReading()
    for feature in layer:
        min_e, max_e, min_n, max_n = feature.GetGeometryRef().GetEnvelope()
        if max_e < box[0] or min_e > box[2] or max_n < box[1] or min_n > box[3]:
            return False
    layer.ResetReading()
    return True


# --- generation -------------------------------------------------------------------------


def _os_paths(catalogue: Dict[str, Any]) -> List[str]:
    paths = []
    for product in catalogue["products"]:
        paths += [d["path"] for d in product["downloads"]]
        paths += product["images"] + product["imagesLarge"]
    for package in catalogue["dataPackages"]:
        paths += [f["path"] for v in package["versions"] for f in v["files"]]
    return paths


def test_two_generations_give_identical_bytes(
    data: Path, catalogue: Dict[str, Any], tmp_path: Path
) -> None:
    # Only the OS generators: another contributor (TRUD) may sign with a per-folder key.
    os_only = [sample_opendata.CONTRIBUTOR, sample_packages.CONTRIBUTOR]
    again_path = generate(tmp_path / "again", contributors=os_only)
    again = json.loads(again_path.read_text("utf-8"))
    assert again["products"] == catalogue["products"]
    assert again["dataPackages"] == catalogue["dataPackages"]
    for relative in _os_paths(catalogue):
        assert (again_path.parent / relative).read_bytes() == (data / relative).read_bytes(), (
            relative
        )


def test_mapinfo_field_names_carry_no_leftover_bytes(tmp_path: Path) -> None:
    """GDAL 3.10+ leaves stray bytes after each field name's NUL in the .dat
    header; the writer zeroes them, so the file is the same every run."""
    layer = Layer(
        "sites",
        "point",
        (("NAME", "str"), ("ID", "int"), ("TENCHARSXY", "real")),
        (("POINT (530000 180000)", {"NAME": "Kew", "ID": 7, "TENCHARSXY": 1.5}),),
    )
    dat = tmp_path / "sites.dat"
    assert dat in write_mapinfo(tmp_path, [layer])
    header = dat.read_bytes()[: int.from_bytes(dat.read_bytes()[8:10], "little")]
    names = [header[i : i + 11] for i in range(32, len(header) - 1, 32)]
    assert [n.split(b"\0")[0] for n in names] == [b"NAME", b"ID", b"TENCHARSXY"]
    assert all(n.rstrip(b"\0") == n.split(b"\0")[0] for n in names), names
    source = ogr.Open(str(tmp_path / "sites.tab"))
    feature = source.GetLayer(0).GetNextFeature()
    assert (feature.GetField("NAME"), feature.GetField("ID")) == ("Kew", 7)


def test_a_second_call_reuses_the_output(tmp_path: Path) -> None:
    calls = []

    def build(out: SampleBuild) -> Dict[str, Any]:
        calls.append(out.write_bytes("extra/one.txt", b"one"))
        return {"extra": {"files": calls[-1:]}}

    contributors = [Contributor("extra", "1", build)]
    generate(tmp_path, contributors=contributors)
    catalogue = tmp_path / "catalogue.json"
    written = catalogue.stat().st_mtime_ns
    generate(tmp_path, contributors=contributors)
    assert len(calls) == 1
    assert catalogue.stat().st_mtime_ns == written
    generate(tmp_path, contributors=[Contributor("extra", "2", build)])
    assert len(calls) == 2  # a new contributor version rebuilds


def test_another_generator_plugs_in_with_its_own_key(tmp_path: Path) -> None:
    def trud(out: SampleBuild) -> Dict[str, Any]:
        return {"trud": {"items": [{"path": out.write_bytes("trud/item.zip", b"PK")}]}}

    catalogue = json.loads(
        generate(tmp_path, contributors=[Contributor("trud", "1", trud)]).read_text("utf-8")
    )
    assert catalogue["trud"] == {"items": [{"path": "files/trud/item.zip"}]}
    assert (tmp_path / "files" / "trud" / "item.zip").read_bytes() == b"PK"
    with pytest.raises(ValueError, match="trud"):
        generate(
            tmp_path / "twice",
            contributors=[Contributor("a", "1", trud), Contributor("b", "1", trud)],
        )


def test_large_benchmark_file_is_a_valid_zip_written_once(tmp_path: Path) -> None:
    catalogue = json.loads(generate(tmp_path, large_gb=0.002, contributors=[]).read_text("utf-8"))
    (bench,) = [p for p in catalogue["products"] if p["id"] == "BenchLargeFile"]
    path = tmp_path / bench["downloads"][0]["path"]
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.infolist()
        assert member.file_size == 2_000_000
        assert archive.testzip() is None
    written = path.stat().st_mtime_ns
    generate(tmp_path, large_gb=0.002, contributors=[])
    assert path.stat().st_mtime_ns == written
    without = json.loads(generate(tmp_path, contributors=[]).read_text("utf-8"))
    assert all(p["id"] != "BenchLargeFile" for p in without["products"])


# --- catalogue --------------------------------------------------------------------------


def test_every_catalogue_path_exists(data: Path, catalogue: Dict[str, Any]) -> None:
    for product in catalogue["products"]:
        assert product["imageCount"] == len(product["images"]) == len(product["imagesLarge"]) >= 1
    paths = _os_paths(catalogue)
    assert len(paths) > 150
    for relative in paths:
        assert relative.startswith("files/")
        assert (data / relative).is_file(), relative
    for product in catalogue["products"]:
        for download in product["downloads"]:
            if download["fileName"].endswith(".zip"):
                with zipfile.ZipFile(data / download["path"]) as archive:
                    assert archive.testzip() is None


def test_products_carry_the_real_apis_quirks(catalogue: Dict[str, Any]) -> None:
    ids = [p["id"] for p in catalogue["products"]]
    assert len(ids) == 27 and "OpenRivers" in ids and "GeoClimate_UKCP18_Open" in ids
    for product in catalogue["products"]:
        assert isinstance(product["description"], list) and product["description"]
        assert not {"url", "downloadsUrl", "imageTemplate"} & set(product)
        listed = {(f["format"], f.get("subformat")) for f in product["formats"]}
        assert {(d["format"], d["subformat"]) for d in product["downloads"]} <= listed
    radon = _product(catalogue, "Radon_Indicative_Atlas")
    assert radon["version"] == "Version 3 (GB); Version 1 (NI)"
    assert radon["areas"] == ["GB", "NI"]
    assert radon["thirdPartyInfo"]["dataProvider"]["shortName"] == "BGS"
    assert _product(catalogue, "BGS_Geology_625k")["areas"] == ["UK"]
    assert _product(catalogue, "LIDS")["dataStructures"] == ["Identifier"]
    terrain = _product(catalogue, "Terrain50")
    assert {"format": "ASCII Grid and GML (Grid)"} in terrain["formats"]
    assert {"format": "Vector Tiles", "subformat": "(MBTiles)"} in terrain["formats"]
    assert {"format": "ESRI® Shapefile"} in _product(catalogue, "BoundaryLine")["formats"]
    assert {"format": "GML", "subformat": "3"} in _product(catalogue, "OpenGreenspace")["formats"]
    areas = {d["area"] for d in _product(catalogue, "OpenGreenspace")["downloads"]}
    assert {"GB", "TQ", "TL"} <= areas
    # Every square a product's areas list can be downloaded; the list is alphabetical.
    for pid in ("OpenGreenspace", "OpenMapLocal", "VectorMapDistrict", "OpenTOID"):
        product = _product(catalogue, pid)
        assert {d["area"] for d in product["downloads"]} == set(product["areas"]), pid
        assert product["areas"] == sorted(product["areas"]), pid
    assert "GB" not in _product(catalogue, "OpenTOID")["areas"]
    assert len(_product(catalogue, "OpenMapLocal")["areas"]) == 56  # GB + 55 squares, OV too
    unverified = [d for p in catalogue["products"] for d in p["downloads"] if d.get("unverified")]
    assert len(unverified) == 1


def test_thumbnails_are_jpegs_and_the_large_one_is_larger(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    product = _product(catalogue, "OpenRivers")
    small = gdal.Open(str(data / product["images"][0]))
    large = gdal.Open(str(data / product["imagesLarge"][0]))
    assert small.GetDriver().ShortName == large.GetDriver().ShortName == "JPEG"
    assert large.RasterXSize > small.RasterXSize and small.RasterCount == 3


# --- the products' files ------------------------------------------------------------------


def test_open_rivers_geopackage(data: Path, catalogue: Dict[str, Any]) -> None:
    with _zip(data, catalogue, "OpenRivers", "oprvrs_gpkg_gb.zip") as archive:
        assert _files(archive.namelist()) == [
            "Data/oprvrs_gb.gpkg",
            "Doc/licence.txt",
            "Doc/readme.txt",
        ]
        licence = archive.read("Doc/licence.txt")
    assert b"\xa9" in licence  # Windows-1252, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        licence.decode("utf-8")
    path = data / _download(catalogue, "OpenRivers", "oprvrs_gpkg_gb.zip")["path"]
    source, layers = _layers(f"/vsizip/{path}/Data/oprvrs_gb.gpkg")
    assert set(layers) == {"watercourse_link", "hydro_node"}
    assert layers["watercourse_link"].GetGeomType() == ogr.wkbLineString
    assert layers["hydro_node"].GetGeomType() == ogr.wkbPoint
    for layer in layers.values():
        assert layer.GetSpatialRef().IsSame(_bng())
        assert layer.GetFeatureCount() > 10
    thames = [f for f in layers["watercourse_link"] if f.GetField("name1") == "River Thames"]
    assert thames and all(_geometry_in(f.GetGeometryRef(), TQ) for f in thames)


def _geometry_in(geometry: ogr.Geometry, box) -> bool:
    min_e, max_e, min_n, max_n = geometry.GetEnvelope()
    return box[0] <= min_e and max_e <= box[2] and box[1] <= min_n and max_n <= box[3]


def test_boundary_line_shapefiles(data: Path, catalogue: Dict[str, Any]) -> None:
    with _zip(data, catalogue, "BoundaryLine", "bdline_essh_gb.zip") as archive:
        names = _files(archive.namelist())
    assert "Doc/licence.txt" in names
    path = data / _download(catalogue, "BoundaryLine", "bdline_essh_gb.zip")["path"]
    for stem in ("county_region", "district_borough_unitary_region", "westminster_const_region"):
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            assert f"Data/GB/{stem}{suffix}" in names
        source, layers = _layers(f"/vsizip/{path}/Data/GB/{stem}.shp")
        (layer,) = layers.values()
        assert ogr.GT_Flatten(layer.GetGeomType()) == ogr.wkbPolygon
        assert layer.GetSpatialRef().IsSame(_bng())
        assert layer.GetFeatureCount() >= 1
    gpkg = data / _download(catalogue, "BoundaryLine", "bdline_gpkg_gb.zip")["path"]
    source, layers = _layers(f"/vsizip/{gpkg}/Data/bdline_gb.gpkg")
    assert {"county", "district_borough_unitary", "westminster_const"} <= set(layers)


def test_greenspace_gml_sits_in_a_folder_with_spaces_and_brackets(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    ids = {}
    for area, box in (("TQ", TQ), ("TL", TL)):
        top = f"OS Open Greenspace (GML) {area}"
        file_name = f"opgrsp_gml3_{area.lower()}.zip"
        with _zip(data, catalogue, "OpenGreenspace", file_name) as archive:
            assert _files(archive.namelist()) == [
                f"{top}/data/OSOpenGreenspace_{area}.gml",
                f"{top}/doc/licence.txt",
                f"{top}/readme.txt",
            ]
        path = data / _download(catalogue, "OpenGreenspace", file_name)["path"]
        source, layers = _layers(f"/vsizip/{path}/{top}/data/OSOpenGreenspace_{area}.gml")
        site = layers["GreenspaceSite"]
        kinds = {ogr.GT_Flatten(f.GetGeometryRef().GetGeometryType()) for f in site}
        assert kinds <= {ogr.wkbPolygon, ogr.wkbMultiPolygon, ogr.wkbCurvePolygon}
        assert site.GetSpatialRef().IsSame(_bng())
        assert site.GetFeatureCount() >= 5 and _each_touches(site, box)
        assert layers["AccessPoint"].GetFeatureCount() == 2 * site.GetFeatureCount()
        ids[area] = {f.GetField("id") for f in site}
    # A site across the squares' edge is in both tiles' files, as OS supplies them.
    assert len(ids["TQ"] & ids["TL"]) == 1


def test_code_point_open_csv_is_headerless_with_headers_in_doc(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    with _zip(data, catalogue, "CodePointOpen", "codepo_gb.zip") as archive:
        names = _files(archive.namelist())
        assert {"Data/CSV/so.csv", "Data/CSV/se.csv", "Doc/licence.txt", "Doc/metadata.txt"} <= set(
            names
        )
        headers = list(
            csv.reader(io.StringIO(archive.read("Doc/Code-Point_Open_Column_Headers.csv").decode()))
        )
        rows = {}
        for name in names:
            if name.startswith("Data/CSV/"):
                text = archive.read(name).decode("ascii")
                assert text.startswith('"') and "\r\n" in text  # no header row; quoted postcodes
                rows.update({r[0]: r for r in csv.reader(io.StringIO(text))})
    assert headers[0] == ["PC", "PQ", "EA", "NO", "CY", "RH", "LH", "CC", "DC", "WC"]
    assert headers[1][:4] == ["Postcode", "Positional_quality_indicator", "Eastings", "Northings"]
    assert 200 <= len(rows) <= 1000
    assert all(len(r) == 10 for r in rows.values())
    assert len(SAMPLE_POSTCODES) >= 20
    for known in SAMPLE_POSTCODES:
        row = rows[known.codepoint]
        assert (int(row[2]), int(row[3])) == (known.easting, known.northing)
    gpkg = data / _download(catalogue, "CodePointOpen", "codepo_gpkg_gb.zip")["path"]
    source, layers = _layers(f"/vsizip/{gpkg}/Data/codepo_gb.gpkg")
    (layer,) = layers.values()
    assert layer.GetFeatureCount() == len(rows) and layer.GetSpatialRef().IsSame(_bng())


def test_terrain_50_outer_zip_holds_per_tile_zips_with_grid_and_projection(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    path = data / _download(catalogue, "Terrain50", "terr50_gagg_gb.zip")["path"]
    with zipfile.ZipFile(path) as archive:
        inner = [n for n in archive.namelist() if n.endswith(".zip")]
        assert 4 <= len(inner) <= 6 and "data/tq/tq28_OST50GRID_20250701.zip" in inner
        for name in inner:
            tile = name.split("/")[-1][:4].upper()
            with zipfile.ZipFile(io.BytesIO(archive.read(name))) as tile_zip:
                assert {f"{tile}.asc", f"{tile}.prj"} <= set(tile_zip.namelist())
    grid = gdal.Open(f"/vsizip/{{/vsizip/{path}/data/tq/tq28_OST50GRID_20250701.zip}}/TQ28.asc")
    assert (grid.RasterXSize, grid.RasterYSize) == (200, 200)
    assert grid.GetGeoTransform() == (520000.0, 50.0, 0.0, 190000.0, 0.0, -50.0)
    assert grid.GetSpatialRef().IsSame(_bng())
    low, high = grid.GetRasterBand(1).ComputeRasterMinMax(False)
    assert 0 <= low < high < 200


def test_250k_raster_is_an_lzw_geotiff_in_british_national_grid(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    path = data / _download(catalogue, "250kScaleColourRaster", "ras250_gb.zip")["path"]
    with zipfile.ZipFile(path) as archive:
        assert "ras250_gb/data/TQ.tif" in archive.namelist()
    tif = gdal.Open(f"/vsizip/{path}/ras250_gb/data/TQ.tif")
    assert tif.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION") == "LZW"
    assert tif.GetSpatialRef().IsSame(_bng())
    west, _, _, north, _, _ = tif.GetGeoTransform()
    assert (west, north) == (500000.0, 200000.0)


def test_open_uprn_entries_carry_mode_000(data: Path, catalogue: Dict[str, Any]) -> None:
    with _zip(data, catalogue, "OpenUPRN", "osopenuprn_202601_csv.zip") as archive:
        assert sorted(archive.namelist()) == [
            "licence.txt",
            "osopenuprn_202601.csv",
            "versions.txt",
        ]
        for info in archive.infolist():
            assert (info.external_attr >> 16) & 0o777 == 0, info.filename
        text = archive.read("osopenuprn_202601.csv").decode("ascii")
    assert text.startswith("UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE\r\n")
    assert len(text.splitlines()) > 100


def test_open_names_csv_has_bom_crlf_and_a_separate_header(
    data: Path, catalogue: Dict[str, Any]
) -> None:
    with _zip(data, catalogue, "OpenNames", "opname_csv_gb.zip") as archive:
        header = archive.read("Doc/OS_Open_Names_Header.csv")
        tile = archive.read("Data/TQ28.csv")
    assert (
        header.startswith(b"\xef\xbb\xbfID,NAMES_URI,NAME1")
        and len(header.decode("utf-8-sig").split(",")) == 34
    )
    assert tile.startswith(b"\xef\xbb\xbfosgb") and b"\r\n" in tile


def test_data_packages_have_full_then_change_only_versions(
    data: Path, catalogue: Dict[str, Any], tmp_path: Path
) -> None:
    packages = {p["id"]: p for p in catalogue["dataPackages"]}
    # The holding packages (0040163512, 0040163520, 0040163538, NGD 0040163546):
    # test_holdings_data.py, test_holdings_ngd.py.
    holdings = {"0040163512", "0040163520", "0040163538", "0040163546"}
    assert set(packages) == {"0040154231", "0040156306"} | holdings
    # One package spells supplyType as the spec does, the other as production does.
    spellings = {
        "0040154231": ("FULL", "COU"),
        "0040156306": ("Full", "Change Only Update"),
        "0040163512": ("FULL", "COU"),
        "0040163520": ("Full", "Change Only Update"),
        "0040163538": ("Full", "Change Only Update"),
        "0040163546": ("Full", "Change Only Update"),
    }
    for package_id, package in packages.items():
        full, cou = spellings[package_id]
        kinds = [(v["reason"], v["supplyType"]) for v in package["versions"]]
        assert kinds[0] == ("INITIAL", full) and len(kinds) >= 2
        assert all(kind == ("UPDATE", cou) for kind in kinds[1:])
        names = [f["fileName"] for v in package["versions"] for f in v["files"]]
        assert len(names) == len(set(names))  # change-only supplies get new file names
    topo = packages["0040154231"]["versions"][0]
    chunk = next(f for f in topo["files"] if f["fileName"].endswith(".gz"))
    gml = tmp_path / "chunk.gml"  # not /vsigzip/: it would leave a .properties file in the data
    gml.write_bytes(gzip.decompress((data / chunk["path"]).read_bytes()))
    source, layers = _layers(str(gml))
    area = layers["TopographicArea"]
    assert area.GetFeatureCount() > 50 and area.GetSpatialRef().IsSame(_bng())
    abp = packages["0040156306"]["versions"][0]
    archive_entry = next(f for f in abp["files"] if f["fileName"].endswith(".zip"))
    with zipfile.ZipFile(data / archive_entry["path"]) as archive:
        (csv_name,) = archive.namelist()
        first = archive.read(csv_name).decode("ascii").splitlines()[0]
    assert csv_name.endswith(".csv") and first.startswith("10,")
