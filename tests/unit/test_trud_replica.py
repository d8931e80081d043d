"""The replica's TRUD origin answers like TRUD's guide, and its sample data are reproducible."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from os_downloads.replica.data.sample_build import SampleBuild
from os_downloads.replica.data.sample_trud import SigningKey, build_trud, key_cache_dir
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url, publish_next_release, trud_state


def test_error_bodies_are_the_guides(replica):
    base = api_url(replica)
    bad = requests.get(f"{base}/keys/deadc0de/items/58/releases", timeout=10)
    assert (bad.status_code, bad.json()) == (
        400,
        {"apiVersion": "1", "httpStatus": 400, "message": "BAD REQUEST"},
    )
    missing = requests.get(f"{base}/keys/{TRUD_API_KEY}/items/9999/releases", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "apiVersion": "1",
        "releases": [],
        "httpStatus": 404,
        "message": f"NOT FOUND: No releases found for API key {TRUD_API_KEY}, item 9999.",
    }
    listed = requests.get(f"{base}/keys/{TRUD_API_KEY}/items/58/releases?latest", timeout=10)
    release = listed.json()["releases"][0]
    assert list(release)[:4] == ["id", "name", "releaseDate", "archiveFileUrl"]
    assert release["archiveFileSha256"] == release["archiveFileSha256"].upper()
    other_key = release["archiveFileUrl"].replace(TRUD_API_KEY, "deadc0de")
    assert requests.get(other_key, timeout=10).status_code == 404  # every download error


def test_downloads_honour_ranges(replica):
    base = api_url(replica)
    release = requests.get(f"{base}/keys/{TRUD_API_KEY}/items/14/releases", timeout=10).json()
    url = release["releases"][0]["archiveFileUrl"]
    whole = requests.get(url, timeout=10).content
    part = requests.get(url, headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206 and part.content == whole[100:]


def _releases(replica, item: int) -> list:
    url = f"{api_url(replica)}/keys/{TRUD_API_KEY}/items/{item}/releases"
    return requests.get(url, timeout=10).json()["releases"]


def test_the_served_releases_are_the_generated_catalogues(replica):
    assert "trud" in replica.inventory.catalogue
    newest = _releases(replica, 58)[0]
    served = trud_state(replica).item_file(58, newest["archiveFileName"])
    assert served is not None and replica.data_dir in served.parents
    assert newest["archiveFileSha256"] == hashlib.sha256(served.read_bytes()).hexdigest().upper()


def test_the_servers_reset_undoes_a_published_release(replica):
    before = [r["id"] for r in _releases(replica, 341)]
    name = publish_next_release(replica, 341)
    assert _releases(replica, 341)[0]["archiveFileName"] == name

    replica.reset()

    assert [r["id"] for r in _releases(replica, 341)] == before


@pytest.mark.skipif(not SigningKey(Path(".")).available, reason="no gpg")
def test_two_generations_give_identical_bytes(tmp_path_factory):
    digests = []
    for name in ("one", "two"):
        root = tmp_path_factory.mktemp(name)
        build = SampleBuild(root, root / "files", root / "work")
        build.files_dir.mkdir()
        build.work_dir.mkdir()
        catalogue = build_trud(build)["trud"]
        files = sorted(p for p in build.files_dir.rglob("*") if p.is_file())
        digests.append(
            {
                p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in files
            }
        )
        assert catalogue["publicKeys"]["6"]["fileName"] == "trud-public-key-2013-04-01.pgp"
        assert key_cache_dir(build).name == "trud-replica-key"
    assert digests[0] == digests[1]
    assert any(name.endswith(".xml.asc") for name in digests[0])
