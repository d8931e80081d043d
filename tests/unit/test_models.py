"""The models accept what the real API sends, quirks included."""

from __future__ import annotations

from os_downloads.core.api.models import (
    Checksum,
    DataPackage,
    DataPackageVersion,
    Product,
    ProductDownload,
    sort_versions_newest_first,
)


def test_bgs_product_quirks_are_accepted():
    product = Product.from_json(
        {
            "id": "Radon_Indicative_Atlas",
            "name": "BGS/UKHSA Radon data: Indicative Atlas of Radon",
            "description": ["First paragraph.", "Second paragraph."],
            "version": "Version 3 (GB); Version 1 (NI)",
            "url": "https://api.os.uk/downloads/v1/products/Radon_Indicative_Atlas",
            "areas": ["GB", "NI"],
            "dataStructures": ["Vector"],
            "formats": [{"format": "ESRI® Shapefile"}, {"format": "GeoPackage"}],
            "thirdPartyInfo": {"dataProvider": {"name": "British Geological Survey"}},
            "somethingNew": {"nested": True},
        }
    )
    assert product.description == "First paragraph.\n\nSecond paragraph."
    assert product.version == "Version 3 (GB); Version 1 (NI)"
    assert product.areas == ("GB", "NI")
    assert [f.label for f in product.formats] == ["ESRI® Shapefile", "GeoPackage"]
    assert product.data_provider == "British Geological Survey"


def test_identifier_data_structure_and_missing_optional_fields():
    product = Product.from_json(
        {
            "id": "LIDS",
            "name": "OS Open Linked Identifiers",
            "description": "plain",
            "version": "2026-01",
            "url": "u",
            "dataStructures": ["Identifier"],
        }
    )
    assert product.data_structures == ("Identifier",)
    assert product.formats == () and product.image_count == 0 and product.documentation_url is None


def test_download_without_size_or_md5_is_unverifiable():
    download = ProductDownload.from_json(
        {"url": "u", "fileName": "x.zip", "area": "GB", "format": "CSV"}
    )
    assert download.size is None and download.md5 is None
    assert download.remote_file().checksum is None


def test_md5_becomes_lower_case_checksum():
    download = ProductDownload.from_json(
        {
            "md5": "4A7D2D0D24BE0470771B9CC170CA2AEE",
            "size": "103259564",
            "fileName": "opname_csv_gb.zip",
            "url": "u",
            "format": "CSV",
            "area": "GB",
        }
    )
    assert download.size == 103259564
    assert download.remote_file().checksum == Checksum("md5", "4a7d2d0d24be0470771b9cc170ca2aee")


def test_version_uses_format_where_spec_says_product_format():
    version = DataPackageVersion.from_json(
        {
            "id": "110012",
            "url": "u",
            "createdOn": "2021-04-01",
            "reason": "UPDATE",
            "supplyType": "COU",
            "productVersion": "E37 December 2015 Update",
            "format": "CSV",
            "downloads": [{"url": "d", "fileName": "data.zip", "size": 1234}],
            "nextVersionUrl": "n",
        }
    )
    assert version.format == "CSV" and version.is_change_only
    assert version.downloads[0].file_name == "data.zip" and version.previous_version_url is None
    legacy = DataPackageVersion.from_json(
        {
            "id": "1",
            "url": "u",
            "createdOn": "2021-01-01",
            "reason": "INITIAL",
            "supplyType": "FULL",
            "productVersion": "v",
            "productFormat": "GML",
        }
    )
    assert legacy.format == "GML" and not legacy.is_change_only


def test_versions_sort_newest_first():
    package = DataPackage.from_json(
        {
            "id": "0040046952",
            "name": "Southampton Addresses",
            "url": "u",
            "createdOn": "2021-01-20",
            "productId": "ABPOSTSLA",
            "productName": "AddressBase",
            "versions": [
                {"id": "9", "createdOn": "2021-04-01", "reason": "INITIAL", "supplyType": "FULL"},
                {"id": "11", "createdOn": "2021-06-01", "reason": "UPDATE", "supplyType": "COU"},
                {"id": "10", "createdOn": "2021-06-01", "reason": "UPDATE", "supplyType": "COU"},
            ],
        }
    )
    assert [v.id for v in sort_versions_newest_first(list(package.versions))] == ["11", "10", "9"]
