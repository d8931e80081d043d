"""ruff must pass on the whole repository, as part of the tests.

The config is pyproject.toml's; the venv's ruff (the one `make venv` pins) runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff() -> List[str]:
    beside_python = Path(sys.executable).with_name("ruff")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("ruff")
    if found:
        return [found]
    pytest.fail("ruff is not installed: run `make venv`")


def _run_ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_ruff(), *args, "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ruff_check_passes() -> None:
    result = _run_ruff("check")
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_ruff_format_is_applied() -> None:
    result = _run_ruff("format", "--check")
    assert result.returncode == 0, (
        "files need `make format` (ruff format):\n" + result.stdout + result.stderr
    )
