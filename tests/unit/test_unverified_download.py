"""A download listed without md5 and size (as some real listings are) still
reaches the user, who is told it could not be verified.

The replica lists GB Overview Maps' GeoTIFF that way; over real HTTP.
"""

from __future__ import annotations

import hashlib

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.engine.manifest import read_manifest
from os_downloads.core.sources.os_products import fetch_product

PRODUCT = "GBOverviewMaps"
FILE_NAME = "gboverviewmaps_gtiff_gb.zip"


def test_the_listing_has_no_md5_and_no_size(replica):
    client = OSDownloadsClient(replica.api_url)

    (listed,) = client.product_downloads(PRODUCT, file_name=FILE_NAME)

    assert listed.md5 is None and listed.size is None
    assert listed.format == "GeoTIFF" and listed.subformat == "Full Colour"


def test_the_file_is_fetched_extracted_and_marked_unverified(replica, tmp_path):
    client = OSDownloadsClient(replica.api_url)

    result = fetch_product(
        client, PRODUCT, "GeoTIFF", area="GB", subformat="Full Colour", dest_root=tmp_path
    )

    (got,) = result.download.files
    assert got.name == FILE_NAME and not got.verified
    assert result.unverified == [got]
    archive = result.folder / FILE_NAME
    assert got.size == archive.stat().st_size > 0
    assert got.checksum.hexdigest == hashlib.md5(archive.read_bytes()).hexdigest()
    assert [d.format for d in result.datasets] == ["GTiff"]
    manifest = read_manifest(result.folder)
    assert manifest is not None
    (record,) = manifest.files
    assert record.name == FILE_NAME and record.verified is False
    assert record.md5 == got.checksum.hexdigest  # kept, so a later run can skip it
