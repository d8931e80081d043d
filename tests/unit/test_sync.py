"""Sync: the config a person writes, which versions a run fetches, and the lock.

The runs go against the replica over real HTTP, through the command line a
scheduler would call (``python -m os_downloads sync``), and read what a person
would: the exit code, the printed report, the files on disk, and the replica's
request log (a run with nothing new asks storage for nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from os_downloads.core.api.models import DataPackageVersionSummary
from os_downloads.core.engine.lock import FileLock
from os_downloads.core.errors import ConfigurationError, LockHeldError
from os_downloads.core.sources.os_packages import versions_to_fetch
from os_downloads.core.sync import run as sync

PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
TOPOGRAPHY = "0040154231"  # replica package: FULL 6307037, COU 6307152, COU 6307290


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- the config file ------------------------------------------------------------------


def test_toml_config_lists_products_and_packages(tmp_path: Path) -> None:
    config = sync.load_config(
        write(
            tmp_path / "sync.toml",
            """
            dest_root = "data"
            extract = false

            [[products]]
            id = "OpenRoads"
            format = "GeoPackage"

            [[products]]
            id = "Terrain50"
            format = "Vector Tiles"
            subformat = "(MBTiles)"
            extract = true

            [[packages]]
            id = "0040154231"
            """,
        )
    )
    assert config.dest_root == tmp_path / "data"  # relative to the config file
    assert [e.label for e in config.entries] == [
        "OpenRoads GeoPackage (GB)",
        "Terrain50 Vector Tiles (MBTiles) (GB)",
        "package 0040154231",
    ]
    assert [config.extract_for(e) for e in config.entries] == [False, True, False]


def test_json_config_is_the_same_structure(tmp_path: Path) -> None:
    path = tmp_path / "sync.json"
    path.write_text(
        json.dumps(
            {
                "dest_root": str(tmp_path / "out"),
                "products": [{"id": "CodePointOpen", "format": "CSV", "area": "GB"}],
            }
        )
    )
    config = sync.load_config(path)
    assert config.dest_root == tmp_path / "out"
    assert config.entries[0].spec == {
        "id": "CodePointOpen",
        "format": "CSV",
        "area": "GB",
        "subformat": None,
    }


@pytest.mark.parametrize(
    "text, words",
    [
        ('dest_root = "d"\nkey = "abc123456"\n[[packages]]\nid = "1"\n', "must not hold a key"),
        ('dest_root = "d"\n[[packages]]\nid = "1"\napi_key = "abc123456"\n', "must not hold a key"),
        ('dest_root = "d"\n[[product]]\nid = "OpenRoads"\nformat = "CSV"\n', "unknown setting"),
        ('dest_root = "d"\n[[products]]\nid = "OpenRoads"\n', "format is missing"),
        ('[[products]]\nid = "OpenRoads"\nformat = "CSV"\n', "dest_root is missing"),
        ('dest_root = "d"\n', "nothing to keep current"),
        (
            'dest_root = "d"\n[[products]]\nid = "A"\nformat = "CSV"\n[[products]]\n'
            'id = "A"\nformat = "CSV"\n',
            "repeats",
        ),
        ('dest_root = "d"\n[[products]\n', "not valid TOML"),
    ],
)
def test_bad_configs_say_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sync.load_config(write(tmp_path / "sync.toml", text))
    assert words in str(caught.value)
    assert "abc123456" not in str(caught.value)


# --- which package versions a run fetches ------------------------------------------------


def version(vid: str, created: str, supply: str) -> DataPackageVersionSummary:
    return DataPackageVersionSummary(
        id=vid,
        url="",
        created_on=created,
        reason="INITIAL" if supply == "FULL" else "UPDATE",
        supply_type=supply,
        product_version="",
        format="GML",
    )


VERSIONS = [  # newest first, as the API client returns them
    version("14", "2026-04-01", "COU"),
    version("13", "2026-03-01", "FULL"),
    version("12", "2026-02-01", "COU"),
    version("11", "2026-01-01", "FULL"),
]


def ids(versions: List[DataPackageVersionSummary]) -> List[str]:
    return [v.id for v in versions]


def test_first_run_takes_the_newest_full_supply_then_its_updates() -> None:
    wanted, superseded = versions_to_fetch(VERSIONS, set())
    assert ids(wanted) == ["13", "14"]
    assert ids(superseded) == ["11", "12"]


def test_later_runs_take_only_new_versions_in_order() -> None:
    assert ids(versions_to_fetch(VERSIONS, {"13"})[0]) == ["14"]
    assert ids(versions_to_fetch(VERSIONS, {"13", "14"})[0]) == []


def test_a_new_full_supply_supersedes_unfetched_updates_before_it() -> None:
    wanted, superseded = versions_to_fetch(VERSIONS, {"11"})
    assert ids(wanted) == ["13", "14"]
    assert ids(superseded) == ["12"]


def test_without_any_full_supply_every_version_is_fetched_oldest_first() -> None:
    only_updates = [version("3", "2026-03-01", "COU"), version("2", "2026-02-01", "COU")]
    assert ids(versions_to_fetch(only_updates, set())[0]) == ["2", "3"]


# --- the lock -------------------------------------------------------------------------------


def test_a_second_lock_on_the_same_file_is_refused_until_released(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    with FileLock(path):
        with pytest.raises(LockHeldError) as caught:
            FileLock(path).acquire()
        assert f"pid {os.getpid()}" in str(caught.value)
    with FileLock(path) as again:
        assert again.held


# --- runs against the replica -------------------------------------------------------------

SMALL_PRODUCT = "OpenUSRN"  # one GeoPackage zip in the replica


def sync_config(tmp_path: Path, replica, *, products=(SMALL_PRODUCT,), packages=(TOPOGRAPHY,)):
    lines = [f'dest_root = "{(tmp_path / "data").as_posix()}"', f'api_url = "{replica.api_url}"']
    for product in products:
        lines += ["[[products]]", f'id = "{product}"', 'format = "GeoPackage"']
    for package in packages:
        lines += ["[[packages]]", f'id = "{package}"']
    path = tmp_path / "sync.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(config: Path, replica, *args: str) -> subprocess.CompletedProcess:
    """``python -m os_downloads sync CONFIG``, as cron or Task Scheduler would run it."""
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH), OS_API_KEY=replica.api_key)
    env.pop("OS_API_SECRET", None)
    return subprocess.run(
        [sys.executable, "-m", "os_downloads", "sync", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def storage_gets(replica) -> List[str]:
    return [e["path"] for e in replica.requests("storage") if e["method"] == "GET"]


def test_runs_fetch_everything_then_nothing_then_only_the_new_version(tmp_path, replica) -> None:
    config = sync_config(tmp_path, replica)
    data = tmp_path / "data"

    first = run_cli(config, replica, "--json")
    assert first.returncode == sync.EXIT_UPDATED, first.stderr
    report = json.loads(first.stdout)
    assert report["outcome"] == "updated"
    product, package = report["entries"]
    assert product["status"] == package["status"] == "updated"
    # the only full supply first, then its change-only updates, oldest first
    assert [f["version"] for f in package["fetched"]] == ["6307037", "6307152", "6307290"]
    for version_id in ("6307037", "6307152", "6307290"):
        assert (
            data / "packages" / TOPOGRAPHY / version_id / "os_downloads_manifest.json"
        ).is_file()
    assert list(data.glob(f"{SMALL_PRODUCT}/*/GeoPackage/GB/os_downloads_manifest.json"))
    assert storage_gets(replica)

    replica.request_log.clear()
    second = run_cli(config, replica)
    assert second.returncode == sync.EXIT_NOTHING_NEW, second.stderr
    assert "nothing new" in second.stdout
    assert second.stdout.count("UP TO DATE") == 2
    assert " fetched version" not in second.stdout
    assert storage_gets(replica) == []

    new = replica.publish_package_version(TOPOGRAPHY, reason="UPDATE", supply_type="COU")
    replica.request_log.clear()
    third = run_cli(config, replica, "--json")
    assert third.returncode == sync.EXIT_UPDATED, third.stderr
    product, package = json.loads(third.stdout)["entries"]
    assert product["status"] == "up to date"
    assert [f["version"] for f in package["fetched"]] == [new.id]
    assert all(f"/{new.id}/" in path for path in storage_gets(replica))
    assert (data / sync.REPORT_TEXT).read_text(encoding="utf-8").count("fetched version") == 1
    assert replica.api_key not in (data / sync.REPORT_JSON).read_text(encoding="utf-8")


def test_a_new_product_version_is_fetched_into_its_own_folder(tmp_path, replica) -> None:
    config = sync.load_config(sync_config(tmp_path, replica, packages=()))
    assert sync.run_sync(config, env={}).exit_code == sync.EXIT_UPDATED
    replica.publish_product_version(SMALL_PRODUCT, "2099-01")
    report = sync.run_sync(config, env={})
    assert report.exit_code == sync.EXIT_UPDATED
    assert report.entries[0].fetched[0]["version"] == "2099-01"
    assert "2099-01" in report.entries[0].fetched[0]["folder"]


def test_a_failing_entry_is_reported_while_the_others_are_fetched(tmp_path, replica) -> None:
    config = sync_config(tmp_path, replica, products=("NoSuchProduct", SMALL_PRODUCT), packages=())
    result = run_cli(config, replica)
    assert result.returncode == sync.EXIT_FAILED
    assert "FAILED       NoSuchProduct GeoPackage (GB)" in result.stdout
    assert "404" in result.stdout
    assert f"UPDATED      {SMALL_PRODUCT} GeoPackage (GB)" in result.stdout


def test_a_run_while_another_holds_the_lock_does_nothing(tmp_path, replica) -> None:
    config = sync_config(tmp_path, replica)
    with FileLock(tmp_path / "data" / sync.LOCK_FILE):
        result = run_cli(config, replica)
    assert result.returncode == sync.EXIT_LOCKED
    assert "already in progress" in result.stderr
    assert result.stderr.count("\n") == 1  # one line for the scheduler's mail
    assert replica.requests("storage") == []
    assert not (tmp_path / "data" / sync.STATE_FILE).exists()


def test_a_dry_run_says_what_it_would_fetch_and_writes_nothing(tmp_path, replica) -> None:
    config = sync_config(tmp_path, replica)
    result = run_cli(config, replica, "--dry-run")
    assert result.returncode == sync.EXIT_UPDATED, result.stderr
    assert "would fetch version 6307037 (FULL, INITIAL" in result.stdout
    assert not (tmp_path / "data").exists()
    assert replica.requests("storage") == []


def test_packages_without_a_key_fail_with_a_clear_message(tmp_path, replica) -> None:
    config = sync.load_config(sync_config(tmp_path, replica, products=()))
    report = sync.run_sync(config, env={})
    assert report.exit_code == sync.EXIT_FAILED
    assert "need an OS Data Hub API key" in report.entries[0].error


def test_check_updates_reads_the_manifests_and_downloads_nothing(tmp_path, replica) -> None:
    from os_downloads.core.sources.updates import check_updates, find_manifests, group_manifests

    config = sync.load_config(sync_config(tmp_path, replica))
    sync.run_sync(config, env={"OS_API_KEY": replica.api_key})
    replica.publish_product_version(SMALL_PRODUCT, "2099-01")
    replica.request_log.clear()
    client = sync.default_client(config, {"OS_API_KEY": replica.api_key})
    held = group_manifests(find_manifests(tmp_path / "data"))
    results = {r.id: r for r in check_updates(held, lambda source: client)}
    assert (results[SMALL_PRODUCT].status, results[SMALL_PRODUCT].newer_versions) == (
        "update available",
        ["2099-01"],
    )
    # three version folders of one package are one item, current at its newest
    assert (results[TOPOGRAPHY].status, results[TOPOGRAPHY].held_version) == (
        "up to date",
        "6307290",
    )
    assert len(results[TOPOGRAPHY].folders) == 3
    assert replica.requests("storage") == []
