"""Issue 11's "done when": the command line against captured real answers.

A replica serves the products, Zoomstack downloads and the AddressBase COU
package recorded in ``tests/fixtures/real_api`` (see its README for sources),
and the command line, run as a user runs it, must list all 26 products, keep
partner details, find the bare ``OS_Open_Zoomstack.mbtiles`` as a dataset, and
sync the package (versions Full / Change Only Update) as the Full base and then
every update, oldest first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from os_downloads.core.sync import run as sync
from os_downloads.replica import CATALOGUE_NAME
from os_downloads.replica.server import ReplicaServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "real_api"
PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
PACKAGE = "0040143634"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _captured_catalogue(data_dir: Path, samples: Path) -> Dict[str, Any]:
    """catalogue.json for the replica: captured records, captured names, small files."""
    files = data_dir / "files"
    files.mkdir(parents=True)
    products: List[Dict[str, Any]] = _load("products.json")
    zoomstack = next(p for p in products if p["id"] == "OpenZoomstack")
    zoomstack["downloads"] = []
    for entry in _load("zoomstack_downloads.json"):
        shutil.copyfile(
            samples / "files" / "OpenZoomstack" / entry["fileName"], files / entry["fileName"]
        )
        zoomstack["downloads"].append(
            {
                "fileName": entry["fileName"],
                "area": entry["area"],
                "format": entry["format"],
                "subformat": entry.get("subformat"),
                "path": f"files/{entry['fileName']}",
            }
        )
    (package,) = _load("data_packages.json")
    file_name = _load("data_package_version.json")["downloads"][0]["fileName"]
    for version in package["versions"]:
        path = files / version["id"] / file_name
        path.parent.mkdir()
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(
                f"ABPLIS_{version['id']}.csv", f"UPRN,VERSION\r\n1,{version['id']}\r\n"
            )
        version["files"] = [{"fileName": file_name, "path": path.relative_to(data_dir).as_posix()}]
    catalogue = {"products": products, "dataPackages": [package]}
    (data_dir / CATALOGUE_NAME).write_text(json.dumps(catalogue, ensure_ascii=False), "utf-8")
    return catalogue


@pytest.fixture(scope="module")
def captured(tmp_path_factory, replica_data_dir):
    data_dir = tmp_path_factory.mktemp("real-api")
    _captured_catalogue(data_dir, replica_data_dir)
    with ReplicaServer(data_dir) as server:
        yield server


def cli(server: ReplicaServer, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH), OS_API_KEY=server.api_key)
    env.pop("OS_API_SECRET", None)
    env.pop("OS_DOWNLOADS_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "os_downloads", *args, "--api-url", server.api_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_the_command_line_lists_all_26_captured_products(captured):
    result = cli(captured, "products", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [p["id"] for p in listed] == [p["id"] for p in _load("products.json")]
    assert len(listed) == 26
    radon = next(p for p in listed if p["id"] == "Radon_Indicative_Atlas")
    assert radon["version"] == "Version 3 (GB); Version 1 (NI)"


def test_partner_products_keep_their_details(captured):
    result = cli(captured, "product", "Radon_Indicative_Atlas", "--json")
    assert result.returncode == 0, result.stderr
    radon = json.loads(result.stdout)
    assert radon["documentation_url"] == (
        "https://www.bgs.ac.uk/datasets/radon-data-indicative-atlas-of-radon/"
    )
    assert [link["name"] for link in radon["supporting_info"]] == [
        "User Guide Great Britain",
        "User Guide Northern Ireland",
    ]
    assert radon["areas"] == ["GB", "NI"]
    text = cli(captured, "product", "GeoScour_Open")
    assert "Link:     Storymap Case Study - River Erosion: https://storymaps.arcgis.com/" in (
        text.stdout
    )


def test_the_bare_mbtiles_is_found_as_a_dataset(captured, tmp_path):
    result = cli(
        captured,
        "download",
        "OpenZoomstack",
        "--format",
        "Vector Tiles",
        "--subformat",
        "(MBTiles)",
        "--dest",
        str(tmp_path),
        "--extract",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert [f["name"] for f in job["files"]] == ["OS_Open_Zoomstack.mbtiles"]
    assert job["datasets"] == ["OS_Open_Zoomstack.mbtiles"]
    manifest = json.loads(Path(job["manifest"]).read_text(encoding="utf-8"))
    assert manifest["datasets"] == ["OS_Open_Zoomstack.mbtiles"]


def test_versions_say_full_and_change_only_whatever_the_spelling(captured):
    result = cli(captured, "versions", PACKAGE)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert [(r[0], r[2]) for r in rows] == [
        ("5668869", "COU"),
        ("5587319", "COU"),
        ("5527712", "COU"),
        ("5469630", "FULL"),
    ]


def test_sync_fetches_the_full_base_then_every_update_in_order(captured, tmp_path):
    config = tmp_path / "sync.toml"
    config.write_text(
        f'dest_root = "{(tmp_path / "data").as_posix()}"\napi_url = "{captured.api_url}"\n'
        f'[[packages]]\nid = "{PACKAGE}"\n',
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH), OS_API_KEY=captured.api_key)
    captured.request_log.clear()
    result = subprocess.run(
        [sys.executable, "-m", "os_downloads", "sync", str(config), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == sync.EXIT_UPDATED, result.stderr
    (entry,) = json.loads(result.stdout)["entries"]
    assert [f["version"] for f in entry["fetched"]] == ["5469630", "5527712", "5587319", "5668869"]
    versions = ("5469630", "5527712", "5587319", "5668869")
    gets = [e["path"] for e in captured.requests("storage") if e["method"] == "GET"]
    fetched = [next(v for v in versions if v in path) for path in gets if PACKAGE in path]
    assert fetched == list(versions)  # the files came in that order too
