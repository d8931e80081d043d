"""Hostile or odd API answers: one clear error naming the endpoint, never the last-resort line.

The replica serves a given raw body for a path (``body_override``); the command
line runs in-process against it over real HTTP.
"""

from __future__ import annotations

import io
import json
from typing import Dict, Optional, Tuple

import pytest

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.api.models import Product, ProductDownload
from os_downloads.core.cli import context
from os_downloads.core.cli import main as cli
from os_downloads.core.errors import UnexpectedResponse

GOOD_DOWNLOAD = {
    "url": "https://api.os.uk/downloads/v1/products/OpenRoads/downloads?area=GB&format=GeoPackage",
    "fileName": "oproad_gpkg_gb.zip",
    "size": 1234,
    "md5": "2f9dd13abd56140afa3b5621e8864f59",
    "area": "GB",
    "format": "GeoPackage",
}


def run(replica, *args: str, env: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--api-url", replica.api_url, *args], stdout=out, stderr=err, env=env or {})
    return code, out.getvalue(), err.getvalue()


def download_with(**changes) -> str:
    entry = dict(GOOD_DOWNLOAD)
    for key, value in changes.items():
        if value is _DROP:
            entry.pop(key, None)
        else:
            entry[key] = value
    return json.dumps([entry], allow_nan=True)


_DROP = object()
DOWNLOADS = "/products/OpenRoads/downloads"

# (path, raw body, words the message must contain)
HOSTILE = [
    ("/products", '{"products": []}', "expected a list of products, got an object"),
    ("/products", "null", "expected a list of products, got null"),
    ("/products", '[1, "two", null]', "item 1 is a number"),
    ("/products/OpenRoads", "[]", "expected a product as an object"),
    ("/products/OpenRoads", '{"id": {"x": 1}, "name": "n"}', "id is an object"),
    ("/products/OpenRoads", '{"id": "OpenRoads", "formats": {"format": "x"}}', "formats"),
    ("/products/OpenRoads", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (DOWNLOADS, download_with(size="lots"), "size 'lots' is not a whole number"),
    (DOWNLOADS, download_with(size=-5), "size -5 is negative"),
    (DOWNLOADS, download_with(size=True), "size is true"),
    (DOWNLOADS, download_with(size=float("inf")), "Infinity"),
    (DOWNLOADS, download_with(size=float("nan")), "NaN"),
    (DOWNLOADS, download_with().replace("1234", "1e400"), "too large"),
    (DOWNLOADS, download_with(fileName="a" * 300), "300 characters long"),
    (DOWNLOADS, download_with(fileName="../../escape.zip"), "cannot have"),
    (DOWNLOADS, download_with(fileName=_DROP), "fileName is null"),
    (DOWNLOADS, download_with(md5=["x"]), "md5"),
]


@pytest.mark.parametrize(("path", "body", "words"), HOSTILE, ids=[h[2][:30] for h in HOSTILE])
def test_a_hostile_answer_is_one_typed_error_naming_the_endpoint(replica, path, body, words):
    replica.set_faults(body_override={path: body})
    with (
        OSDownloadsClient(base_url=replica.api_url) as client,
        pytest.raises(UnexpectedResponse) as caught,
    ):
        if path == "/products":
            client.products()
        elif path == DOWNLOADS:
            client.product_downloads("OpenRoads")
        else:
            client.product("OpenRoads")

    message = str(caught.value)
    assert message.startswith(f"The API answered with something unexpected for {path}: ")
    assert words in message


@pytest.mark.parametrize(
    ("command", "path", "body"),
    [
        (["products"], "/products", '{"not": "a list"}'),
        (["product", "OpenRoads"], "/products/OpenRoads", "[" * 100_000 + "]" * 100_000),
        (["files", "OpenRoads"], DOWNLOADS, download_with(size=-1)),
        (["files", "OpenRoads"], DOWNLOADS, download_with().replace("1234", "1e400")),
        (
            ["download", "OpenRoads", "--format", "GeoPackage", "--dest", "{tmp}"],
            DOWNLOADS,
            download_with(fileName="x" * 300),
        ),
    ],
    ids=["object-for-list", "deep", "negative-size", "1e400", "long-name"],
)
def test_the_command_line_prints_one_clear_error_not_the_last_resort(
    replica, tmp_path, command, path, body
):
    replica.set_faults(body_override={path: body})
    code, out, err = run(replica, *[a.replace("{tmp}", str(tmp_path)) for a in command])

    assert code == context.EXIT_ERROR and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: The API answered with something unexpected for {path}: ")
    assert "unexpected RecursionError" not in err and "Unexpected error" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_real_apis_quirks_are_still_accepted():
    product = Product.from_json(
        {
            "id": "GB-Hex-5km-GeoSure",
            "name": "BGS GeoSure",
            "description": ["First paragraph.", "Second."],
            "version": "Version 3 (GB); Version 1 (NI)",
            "url": "https://api.os.uk/downloads/v1/products/GB-Hex-5km-GeoSure",
            "areas": ["UK", "NI"],
            "dataStructures": ["Identifier"],
            "imageCount": 3,
            "somethingNew": {"nested": [1, 2]},
        }
    )
    assert product.description == "First paragraph.\n\nSecond." and product.areas == ("UK", "NI")
    listed = ProductDownload.from_json(
        {
            "url": "u",
            "fileName": "ABPLIS_CSV.zip",
            "size": "92599166",
            "area": "GB",
            "format": "CSV",
        }
    )
    assert listed.size == 92599166 and listed.md5 is None
    assert ProductDownload.from_json({**GOOD_DOWNLOAD, "size": 4301453983.0}).size == 4301453983
    assert ProductDownload.from_json({**GOOD_DOWNLOAD, "size": None}).size is None


def test_an_error_body_nested_too_deeply_still_gives_the_status_in_words(replica):
    deep = "[" * 100_000 + "]" * 100_000
    replica.set_faults(body_override={"/products/Deep": {"status": 404, "body": deep}})
    code, out, err = run(replica, "product", "Deep")

    assert code == context.EXIT_ERROR and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: Not found (HTTP 404)")
