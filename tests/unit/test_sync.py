"""Sync: the config a person writes, which versions a run fetches, and the lock.

The runs go against the replica over real HTTP, through the command line a
scheduler would call (``python -m os_downloads sync``), and read what a person
would: the exit code, the printed report, the files on disk, and the replica's
request log (a run with nothing new asks storage for nothing).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import List

import pytest

from os_downloads.core import sync
from os_downloads.core.errors import ConfigurationError, LockHeldError
from os_downloads.core.lock import FileLock
from os_downloads.core.models import DataPackageVersionSummary

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
    wanted, superseded = sync.versions_to_fetch(VERSIONS, set())
    assert ids(wanted) == ["13", "14"]
    assert ids(superseded) == ["11", "12"]


def test_later_runs_take_only_new_versions_in_order() -> None:
    assert ids(sync.versions_to_fetch(VERSIONS, {"13"})[0]) == ["14"]
    assert ids(sync.versions_to_fetch(VERSIONS, {"13", "14"})[0]) == []


def test_a_new_full_supply_supersedes_unfetched_updates_before_it() -> None:
    wanted, superseded = sync.versions_to_fetch(VERSIONS, {"11"})
    assert ids(wanted) == ["13", "14"]
    assert ids(superseded) == ["12"]


def test_without_any_full_supply_every_version_is_fetched_oldest_first() -> None:
    only_updates = [version("3", "2026-03-01", "COU"), version("2", "2026-02-01", "COU")]
    assert ids(sync.versions_to_fetch(only_updates, set())[0]) == ["2", "3"]


# --- the lock -------------------------------------------------------------------------------


def test_a_second_lock_on_the_same_file_is_refused_until_released(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    with FileLock(path):
        with pytest.raises(LockHeldError) as caught:
            FileLock(path).acquire()
        assert f"pid {os.getpid()}" in str(caught.value)
    with FileLock(path) as again:
        assert again.held
