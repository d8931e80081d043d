"""The one atomic-write helper: the old file or the new one, never half of one."""

from __future__ import annotations

import pytest

from os_downloads.core.atomic import atomic_write_bytes, atomic_write_text


def test_writes_the_whole_file_and_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "made" / "state.json"
    assert atomic_write_text(target, '{"a": 1}\n') == target
    assert target.read_text("utf-8") == '{"a": 1}\n'
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "caf\u00e9", encoding="ascii")
    assert target.read_text("utf-8") == "old"
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
