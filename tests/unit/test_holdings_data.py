"""The holding packages' data: deterministic, true to OS's formats, and a truth that follows.

The truth (the expected holding after each version) comes from the generator's
model; these tests check that it is what OS's rules give when the model's
supplies are applied, that the supplies hold every case a holding must handle,
and that the files are what OS sends (GML 2.1.2 chunks, ABP CSV layouts).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.replica.data.catalogue import HOLDING_NEXT_VERSIONS, HOLDING_PACKAGES
from os_downloads.replica.data.holdings_truth import (
    apply_abp,
    apply_abp_tiles,
    apply_mastermap,
    compute_truth,
    holdings_truth,
    publish_next_update,
)
from os_downloads.replica.data.sample_abp import COLUMNS, FIELD_COUNTS, TABLES, key_of
from os_downloads.replica.data.sample_build import SampleBuild
from os_downloads.replica.data.sample_holdings import (
    SMALL,
    abp_key_text,
    abp_state,
    build_holding_packages,
    ensure_bench_data,
    mastermap_state,
    package_versions,
)
from os_downloads.replica.data.sample_mastermap import OSGB_NS

TOPOGRAPHY = "0040163512"
ADDRESSES = "0040163520"
ADDRESS_TILES = "0040163538"  # the same world supplied as 5 km tiles
GML2 = "{http://www.opengis.net/gml}"
GML32 = "{http://www.opengis.net/gml/3.2}"
TOID = re.compile(r"^osgb\d{16}$")


def _package(package_id: str):
    return next(p for p in HOLDING_PACKAGES if p.id == package_id)


def _generate(folder: Path) -> List[Dict[str, Any]]:
    build = SampleBuild(data_dir=folder, files_dir=folder / "files", work_dir=folder / "work")
    return build_holding_packages(build)


def _catalogue(data_dir: Path) -> Dict[str, Dict[str, Any]]:
    catalogue = json.loads((data_dir / "catalogue.json").read_text("utf-8"))
    return {p["id"]: p for p in catalogue["dataPackages"]}


# --- determinism and the truth --------------------------------------------------------------


def test_two_generations_give_identical_bytes(tmp_path: Path) -> None:
    first, second = _generate(tmp_path / "a"), _generate(tmp_path / "b")
    assert first == second
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert any(str(p).startswith("truth/") for p in files) and len(files) > 20
    for relative in files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()


def test_applying_the_mastermap_supplies_by_the_rules_gives_the_truth() -> None:
    held: Dict[str, Any] = {}
    naive: Dict[str, Any] = {}  # the last copy read wins, no version check: what must not happen
    steps = set()
    for number, data in enumerate(package_versions(_package(TOPOGRAPHY))):
        supply, before = data.supply, held
        held = apply_mastermap(held, supply)
        assert mastermap_state(held) == data.truth["mastermap"], data.spec.id
        assert (
            data.truth["applied"][-1] == data.spec.id and len(data.truth["applied"]) == number + 1
        )
        for chunk in supply.chunks:
            naive.update((f.toid, f) for f in chunk.features)
            for gone in chunk.departures:
                naive.pop(gone.toid, None)
        copies = Counter(f.toid for c in supply.chunks for f in c.features)
        assert any(n > 1 for n in copies.values())  # features repeated across chunks
        if number == 0:
            naive = dict(held)
            continue
        supplied = [f for c in supply.chunks for f in c.features]
        departed = {d.toid for c in supply.chunks for d in c.departures}
        steps |= {f.version - before[f.toid].version for f in supplied if f.toid in before}
        lower = [f for f in supplied if f.toid in before and f.version < before[f.toid].version]
        equal = [
            f
            for f in supplied
            if f.toid in before and f.version == before[f.toid].version and f != before[f.toid]
        ]
        assert lower and equal  # stale copies a holding must ignore
        assert departed - set(before) and departed & set(before)  # never-held and held TOIDs
        assert mastermap_state(naive) != data.truth["mastermap"]  # the cases discriminate
        naive = dict(held)
    assert {1, 2} <= steps  # higher versions, sometimes skipping one


def test_applying_the_abp_supplies_in_pro_order_gives_the_truth() -> None:
    held: Dict[int, Dict[Any, tuple]] = {}
    volumes_checked = False
    for number, data in enumerate(package_versions(_package(ADDRESSES))):
        supply, before = data.supply, held
        held = apply_abp(held, supply)
        assert abp_state(held) == data.truth["abp"], data.spec.id
        changes = [c for volume in supply.volumes for c in volume]
        if number == 0:
            assert {c.change_type for c in changes} == {"I"} and len(supply.volumes) == 2
            continue
        assert {c.change_type for c in changes} == {"I", "U", "D"}
        for volume in supply.volumes:
            orders = [c.pro_order for c in volume]
            assert orders != sorted(orders)  # out of PRO_ORDER in the file
        by_key: Dict[Any, List[Any]] = {}
        for c in changes:
            by_key.setdefault((c.record_type, c.row[3:5]), []).append(c)
        kinds = {tuple(sorted(x.change_type for x in v)) for v in by_key.values() if len(v) > 1}
        assert ("D", "U") in kinds and ("U", "U") in kinds  # U then D, U then U
        file_order = {t: dict(rows) for t, rows in before.items()}
        for change in changes:  # in file order, not PRO_ORDER: must give another result
            key = key_of(change.record_type, change.row)
            if change.change_type == "D":
                file_order[change.record_type].pop(key, None)
            else:
                file_order[change.record_type][key] = change.row
        assert abp_state(file_order) != data.truth["abp"]
        if len(supply.volumes) > 1:  # volumes out of order: another result too
            backwards = replace(supply, volumes=supply.volumes[::-1])
            assert abp_state(apply_abp(before, backwards)) != data.truth["abp"]
            volumes_checked = True
    assert volumes_checked


def test_applying_the_tile_supplies_tile_by_tile_gives_the_truth() -> None:
    held: Dict[Any, Any] = {}
    skipped: set = set()
    tiles_before: set = set()
    for number, data in enumerate(package_versions(_package(ADDRESS_TILES))):
        supply = data.supply
        held = apply_abp_tiles(held, supply)
        rows: Dict[int, Dict[Any, tuple]] = {}
        for (record_type, key), (_, row) in held.items():
            rows.setdefault(record_type, {})[key] = row
        assert abp_state({t: rows.get(t, {}) for t in TABLES}) == data.truth["abp"], data.spec.id
        where = {TABLES[t][0] + ":" + abp_key_text(k): tile for (t, k), (tile, _) in held.items()}
        truth_tiles = {
            f"{table}:{k}": tile
            for table, keys in data.truth["tiles"].items()
            for k, tile in keys.items()
        }
        assert where == truth_tiles
        changes = [c for tile in supply.tiles.values() for c in tile]
        assert {c.change_type for c in changes} == {"I"}  # change chunks: inserts only
        held_tiles = {tile for tile, _ in held.values()}
        if number == 0:
            assert len(supply.tiles) >= 3
        else:
            assert data.truth["changes"]["blpu"]["deleted"]
            skipped |= (tiles_before & held_tiles) - set(supply.tiles)
        tiles_before = held_tiles
    assert skipped  # an unchanged tile is not supplied again


def test_the_tile_supply_holds_the_same_addresses_as_the_volume_supply() -> None:
    volumes = [d.truth["abp"] for d in package_versions(_package(ADDRESSES))][:4]
    tiles = [d.truth["abp"] for d in package_versions(_package(ADDRESS_TILES))]
    for by_volume, by_tile in zip(volumes, tiles):
        for table, rows in by_volume.items():
            assert set(rows) == set(by_tile[table])
            for key, row in rows.items():  # the same records; the supplies' dates differ
                same = {c: v for c, v in row.items() if c != "CHANGE_TYPE" and "DATE" not in c}
                assert same.items() <= by_tile[table][key].items()
                assert by_tile[table][key]["CHANGE_TYPE"] == "I"


def test_the_truth_files_match_the_model_and_the_api(replica_data_dir: Path) -> None:
    for package in HOLDING_PACKAGES:
        for version in package.versions + HOLDING_NEXT_VERSIONS.get(package.id, ()):
            truth = holdings_truth(package.id, version.id, replica_data_dir)
            model = json.loads(json.dumps(compute_truth(package.id, version.id)))
            assert truth.raw == model and truth.version_id == version.id
            assert truth.count() > 200
    blpu = holdings_truth(ADDRESSES, "6402201", replica_data_dir).records["blpu"]
    uprn, row = next(iter(blpu.items()))
    assert isinstance(uprn, int) and row["UPRN"] == uprn and isinstance(row["X_COORDINATE"], float)
    descriptors = holdings_truth(ADDRESSES, "6402201", replica_data_dir).records[
        "street_descriptor"
    ]
    assert {language for _, language in descriptors} == {"ENG", "CYM"}
    area = holdings_truth(TOPOGRAPHY, "6401101", replica_data_dir).features["TopographicArea"]
    toid, feature = next(iter(area.items()))
    assert TOID.match(toid) and feature["geometry"].startswith("POLYGON ((")
    assert any("), (" in f["geometry"] for f in area.values())  # gardens round their houses
    assert isinstance(feature["attributes"]["theme"], list)
    for rows in holdings_truth(TOPOGRAPHY, "6401104", replica_data_dir).features.values():
        assert len({tuple(sorted(f["attributes"])) for f in rows.values()}) == 1  # one schema
    texts = holdings_truth(TOPOGRAPHY, "6401101", replica_data_dir).features["CartographicText"]
    assert any("&" in t["attributes"]["text_string"] for t in texts.values())  # to escape
    assert any("Ŵ" in row["STREET_DESCRIPTION"] for row in descriptors.values())  # UTF-8


# --- the files are what OS sends ---------------------------------------------------------------


def _files(data_dir: Path, package_id: str) -> List[Dict[str, Any]]:
    package = _catalogue(data_dir)[package_id]
    return [dict(f, version=v["id"]) for v in package["versions"] for f in v["files"]]


def test_mastermap_chunks_are_os_gml(replica_data_dir: Path) -> None:
    encodings = Counter()
    full_versions: Dict[str, int] = {}
    for entry in _files(replica_data_dir, TOPOGRAPHY):
        name = entry["fileName"]
        if name.endswith("-Order_Details.txt"):
            continue
        assert re.match(r"^\d{7}-S[XY]\d{4}\.gz$", name), name
        root = ET.fromstring(gzip.decompress((replica_data_dir / entry["path"]).read_bytes()))
        assert root.tag == f"{{{OSGB_NS}}}FeatureCollection" or root.tag.endswith(
            "}FeatureCollection"
        )
        if root.tag.startswith(f"{{{OSGB_NS}}}"):
            encodings["gml2"] += 1
            members = list(root)
            features = [m[0] for m in members if m.tag.endswith("Member")]
            assert features and all(TOID.match(f.get("fid", "")) for f in features)
            assert root.iter(f"{GML2}coordinates") and not list(root.iter(f"{GML32}posList"))
            ids = [(f.get("fid"), f) for f in features]
        else:
            encodings["gml32"] += 1
            features = [m[0] for m in root if m.tag == f"{GML32}featureMember"]
            ids = [(f.get(f"{GML32}id"), f) for f in features]
            assert list(root.iter(f"{GML32}posList"))
        if entry["version"] == "6401101":
            for toid, element in ids:
                version = int(next(c for c in element if c.tag.endswith("}version")).text)
                full_versions[toid] = version
    assert encodings["gml2"] >= 8 and encodings["gml32"] == 1
    truth = holdings_truth(TOPOGRAPHY, "6401101", replica_data_dir)
    expected = {t: f["version"] for rows in truth.features.values() for t, f in rows.items()}
    assert full_versions == expected


@pytest.mark.parametrize("package_id", [ADDRESSES, ADDRESS_TILES, "0040156306"])
def test_abp_files_have_os_layouts_headers_and_trailers(replica_data_dir: Path, package_id) -> None:
    types = set()
    for entry in _files(replica_data_dir, package_id):
        name = entry["fileName"]
        if name.endswith("-Order_Details.txt"):
            continue
        if package_id == "0040156306":  # the older sample package: its own names
            match = re.match(r"^AB76GB_(?:(COU)_)?CSV(?:_\d+)?\.zip$", name)
        else:
            pattern = r"^AddressBasePremium_(FULL|COU)_\d{4}-\d\d-\d\d_(\d{3}|S[TS]\d{4})_csv\.zip$"
            match = re.match(pattern, name)
        assert match, name
        with zipfile.ZipFile(replica_data_dir / entry["path"]) as archive:
            (member,) = archive.namelist()
            text = archive.read(member).decode("utf-8")
        if package_id == ADDRESSES:
            assert member == name.replace("_csv.zip", ".csv")
        elif package_id == ADDRESS_TILES:  # a tile's file is named by the tile: ST1575.csv
            assert re.match(r"^S[TS]\d{4}\.csv$", member) and member[:-4] in name
        rows = list(
            csv.reader(
                io.StringIO(text),
                delimiter=",",
                quotechar='"',
                doublequote=False,
                skipinitialspace=True,
            )
        )
        for number, row in enumerate(rows, 1):
            assert len(row) == FIELD_COUNTS[int(row[0])], f"{member} line {number}"
        assert rows[0][0] == "10" and rows[-1][0] == "99"
        full = match.group(1) == "FULL" if package_id != "0040156306" else not match.group(1)
        assert rows[0][8] == ("F" if full else "C")
        assert int(rows[-1][2]) == len(rows)
        types |= {int(r[0]) for r in rows}
    if package_id != "0040156306":
        assert types == set(FIELD_COUNTS)  # every record type, 10 to 99
    assert FIELD_COUNTS == {
        10: 9,
        11: 24,
        15: 13,
        21: 22,
        23: 12,
        24: 26,
        28: 29,
        29: 17,
        30: 10,
        31: 11,
        32: 12,
        99: 5,
    }
    assert COLUMNS[15][7] == "ADMINSTRATIVE_AREA"  # OS's splitter's spelling


# --- served by the replica -----------------------------------------------------------------


def test_the_replica_lists_and_serves_the_holding_packages(replica, tmp_path: Path) -> None:
    client = OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key))
    packages = {p.id: p for p in client.data_packages()}
    assert {TOPOGRAPHY, ADDRESSES, ADDRESS_TILES} <= set(packages)
    production = ("Full", "Change Only Update")
    spellings = (
        (TOPOGRAPHY, ("FULL", "COU")),
        (ADDRESSES, production),
        (ADDRESS_TILES, production),
    )
    for package_id, spelling in spellings:
        raw = requests.get(
            f"{replica.api_url}/dataPackages/{package_id}/versions",
            headers={"key": replica.api_key},
            timeout=10,
        ).json()
        assert [v["supplyType"] for v in raw] == [spelling[1]] * 3 + [spelling[0]]
        versions = client.data_package_versions(package_id)  # newest first
        assert [v.supply_type for v in versions] == ["COU"] * 3 + ["FULL"]
        assert versions[-1].reason == "INITIAL"
        created = [v.created_on for v in versions]
        assert created == sorted(created, reverse=True)
        for newer, older in zip(versions, versions[1:]):
            detail = client.data_package_version(package_id, newer.id)
            assert detail.previous_version_url and detail.previous_version_url.endswith(older.id)
        oldest = client.data_package_version(package_id, versions[-1].id)
        assert oldest.previous_version_url is None
        download = oldest.downloads[0]
        signed = client.resolve_download(download.url)
        body = client.storage_session.get(signed, timeout=10).content
        assert hashlib.md5(body).hexdigest() == download.md5


def test_a_further_update_can_be_published_with_its_truth(replica) -> None:
    published = publish_next_update(replica, TOPOGRAPHY)
    assert published.version.id == "6401105"
    assert published.truth.applied[-1] == "6401105" and published.truth.applied[-2] == "6401104"
    listing = requests.get(
        f"{replica.api_url}/dataPackages/{TOPOGRAPHY}/versions/latest",
        headers={"key": replica.api_key},
        timeout=10,
    ).json()
    assert listing["id"] == "6401105" and listing["previousVersionUrl"].endswith("/6401104")
    names = sorted(d["fileName"] for d in listing["downloads"])
    assert names and all(n.startswith("5474470-") for n in names)
    before = holdings_truth(TOPOGRAPHY, "6401104", replica.data_dir)
    changed = published.truth.changed_since(before)
    area = changed["TopographicArea"]
    assert area["deleted"] and area["moved"] and area["inserted"]  # what a refresh must show
    gone = area["deleted"][0]
    assert gone in before.features["TopographicArea"]
    assert gone not in published.truth.features["TopographicArea"]
    replica.reset()
    assert [publish_next_update(replica, ADDRESSES).version.id for _ in range(2)] == [
        "6402205",
        "6402206",
    ]
    with pytest.raises(LookupError):
        publish_next_update(replica, ADDRESSES)


def test_bench_data_are_made_once_with_a_manifest(tmp_path: Path) -> None:
    out = ensure_bench_data(tmp_path / "bench", truth=True, scale=SMALL)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    packages = {p["id"]: p for p in manifest["packages"]}
    # A tile supply's updates touch every tile: not benched. NGD (0040163546) is.
    assert set(packages) == {TOPOGRAPHY, ADDRESSES, "0040163546"}
    for package in packages.values():
        versions = package["versions"]
        assert [v["supplyType"] for v in versions][1:] in (["COU"] * 3, ["Change Only Update"] * 3)
        for version in versions:
            assert all((out / version["folder"] / name).is_file() for name in version["files"])
            truth = out / "truth" / package["id"] / f"{version['id']}.json"
            assert json.loads(truth.read_text("utf-8"))["version_id"] == version["id"]
    stamp = (out / "manifest.json").stat().st_mtime_ns
    assert ensure_bench_data(out, truth=True, scale=SMALL) == out
    assert (out / "manifest.json").stat().st_mtime_ns == stamp  # kept, not made again
