"""A good download keeps its manifest even when a later step stumbles on the data.

Real HTTP against the replica; the stumbling block is a real GeoPackage whose
spatial reference code is text (seen in the wild), lying in the extracted folder.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.cli import context
from os_downloads.core.cli import main as cli
from os_downloads.core.engine.manifest import MANIFEST_NAME
from os_downloads.core.engine.pipeline import EXTRACTED_FOLDER
from os_downloads.core.sources.os_products import product_folder

PRODUCT = "OpenUSRN"  # one GeoPackage zip in the replica


def geopackage_with_a_text_srs_code(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            """
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY,
                organization TEXT, organization_coordsys_id INTEGER, definition TEXT);
            INSERT INTO gpkg_spatial_ref_sys VALUES ('odd', 1, 'EPSG', 'twenty-seven-700', '');
            CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT,
                identifier TEXT, srs_id INTEGER);
            INSERT INTO gpkg_contents VALUES ('roads', 'features', 'roads', 1);
            """
        )
        connection.commit()
    finally:
        connection.close()
    return path


def test_a_failure_while_looking_for_datasets_keeps_the_verified_download(replica, tmp_path):
    with OSDownloadsClient(replica.api_url) as client:
        product = client.product(PRODUCT)
        (listed,) = client.product_downloads(PRODUCT, format="GeoPackage", area="GB")
    folder = product_folder(tmp_path, PRODUCT, product.version, "GeoPackage", None, "GB")
    geopackage_with_a_text_srs_code(folder / EXTRACTED_FOLDER / "extra" / "odd.gpkg")

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["--api-url", replica.api_url, "download", PRODUCT, "--format", "GeoPackage"]
        + ["--dest", str(tmp_path), "--extract", "--json"],
        stdout=out,
        stderr=err,
        env={},
    )

    assert code == context.EXIT_OK, err.getvalue()
    result = json.loads(out.getvalue())
    assert [f["verified"] for f in result["files"]] == [True]
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["files"][0]["name"] == listed.file_name and manifest["files"][0]["verified"]
    lines = err.getvalue().splitlines()
    if lines:  # discovery that copes with the file itself needs no warning
        assert len(lines) == 1 and lines[0].startswith("warning: The files were downloaded")
        assert manifest["extra"]["problems"]
