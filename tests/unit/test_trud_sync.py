"""``[[trud]]`` entries in a sync config: newest release only, TRUD's windows, the key from env."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import List

import pytest

from os_downloads.core.errors import ConfigurationError
from os_downloads.core.sources.trud import sync_kind as trud_sync
from os_downloads.core.sync import run as sync
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url, publish_next_release, restore

MONDAY_10AM = datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc)
SATURDAY_2PM = datetime(2026, 3, 7, 14, 2, tzinfo=timezone.utc)
MONDAY_7AM = datetime(2026, 3, 9, 7, 0, tzinfo=timezone.utc)


@pytest.fixture()
def clock(monkeypatch):
    """Set "now" for the TRUD kind; records any waits instead of sleeping."""
    waits: List[float] = []
    now = {"value": MONDAY_10AM}
    monkeypatch.setattr(trud_sync.KIND, "clock", lambda: now["value"])
    monkeypatch.setattr(trud_sync.KIND, "sleep", lambda seconds, cancel=None: waits.append(seconds))
    now["waits"] = waits
    return now


@pytest.fixture()
def republished(replica):
    yield replica
    restore(replica)


def config_file(tmp_path: Path, replica, *extra: str, items=(58,)) -> Path:
    lines = [
        f'dest_root = "{(tmp_path / "data").as_posix()}"',
        f'trud_api_url = "{api_url(replica)}"',
        *extra,
    ]
    for item in items:
        lines += ["[[trud]]", f"item = {item}"]
    path = tmp_path / "sync.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ENV = {"TRUD_API_KEY": TRUD_API_KEY}


def test_trud_entries_fetch_the_newest_release_then_nothing_then_the_new_one(
    tmp_path, republished, clock
):
    replica = republished
    config = sync.load_config(config_file(tmp_path, replica, items=(58, 14)))
    assert [e.label for e in config.entries] == ["NHS TRUD item 58", "NHS TRUD item 14"]

    first = sync.run_sync(config, env=ENV)
    assert first.exit_code == sync.EXIT_UPDATED, first.to_text()
    odsweekly = first.entries[0]
    assert odsweekly.fetched[0]["version"] == "nhs_odsweekly_5.2.0_20250508000001.zip"
    assert "Release 5.2.0 (2025-05-08" in odsweekly.fetched[0]["description"]
    assert Path(odsweekly.fetched[0]["folder"], "os_downloads_manifest.json").is_file()

    second = sync.run_sync(config, env=ENV)
    assert second.exit_code == sync.EXIT_NOTHING_NEW
    assert "already fetched" in second.entries[0].notes[0]

    name = publish_next_release(replica, 58)
    third = sync.run_sync(config, env=ENV)
    assert third.exit_code == sync.EXIT_UPDATED
    assert third.entries[0].fetched[0]["version"] == name
    assert "(had Release 5.2.0)" in third.entries[0].fetched[0]["description"]
    assert third.entries[1].status == sync.UP_TO_DATE
    report = (tmp_path / "data" / sync.REPORT_JSON).read_text("utf-8")
    state = (tmp_path / "data" / sync.STATE_FILE).read_text("utf-8")
    assert TRUD_API_KEY not in report + state + third.to_text()


def test_outside_the_windows_the_run_exits_with_the_next_window(tmp_path, replica, clock):
    clock["value"] = SATURDAY_2PM
    config = sync.load_config(config_file(tmp_path, replica))
    report = sync.run_sync(config, env=ENV)
    assert report.exit_code == sync.EXIT_FAILED
    error = report.entries[0].error
    assert "weekdays 00:00-06:00 and 09:00-18:00 UK time" in error
    assert "now Sat 14:02 UK time; the next window opens Mon 00:00 (in 33 h 58 min)" in error
    assert 'trud_outside_window = "wait"' in error
    assert replica.requests("trud") == []  # TRUD was not asked anything


def test_outside_the_windows_the_run_can_wait_for_the_next_one(tmp_path, replica, clock):
    clock["value"] = MONDAY_7AM
    config = sync.load_config(config_file(tmp_path, replica, 'trud_outside_window = "wait"'))
    report = sync.run_sync(config, env=ENV)
    assert report.exit_code == sync.EXIT_UPDATED
    assert clock["waits"] == [2 * 3600]  # 07:00 GMT -> 09:00


def test_ignore_runs_at_any_time(tmp_path, replica, clock):
    clock["value"] = SATURDAY_2PM
    config = sync.load_config(config_file(tmp_path, replica, 'trud_outside_window = "ignore"'))
    assert sync.run_sync(config, env=ENV).exit_code == sync.EXIT_UPDATED


def test_the_key_must_be_in_the_environment(tmp_path, replica, clock):
    config = sync.load_config(config_file(tmp_path, replica))
    report = sync.run_sync(config, env={})
    assert "TRUD_API_KEY is not set" in report.entries[0].error
    custom = sync.load_config(config_file(tmp_path, replica, 'trud_key_env = "MY_TRUD"'))
    assert sync.run_sync(custom, env={"MY_TRUD": TRUD_API_KEY}).exit_code == sync.EXIT_UPDATED


@pytest.mark.parametrize(
    "table,words",
    [
        ("[[trud]]\n", "item is missing"),
        ('[[trud]]\nitem = "abc"\n', "not a TRUD item number"),
        ("[[trud]]\nitem = 58\nrelease = 3\n", "unknown setting(s) release"),
        ('[[trud]]\nitem = 58\napi_key = "x"\n', "must not hold a key"),
    ],
)
def test_bad_trud_tables_say_what_is_wrong(tmp_path, table, words):
    path = tmp_path / "sync.toml"
    path.write_text(f'dest_root = "data"\n{table}', encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        sync.load_config(path)
    assert words in str(caught.value)
