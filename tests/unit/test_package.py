"""The plugin zip holds the plugin, and nothing of the development kit.

Runs scripts/package.py, the script `make package` and `make install` call.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "package.py"
EXCLUDED_TOP = {
    "replica",
    "tests",
    "bench",
    "scripts",
    ".venv",
    ".build",
    ".git",
    ".ci",
    "requirements",
    "pyproject.toml",
    "Makefile",
    "dist",
}
NOT_SHIPPED_PACKAGES = {"replica", "tests", "bench", "scripts"}


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "os_downloads-test.zip"
    assert _run("zip", "--out", str(out)) == str(out)
    return out


@pytest.fixture(scope="module")
def names(plugin_zip: Path) -> List[str]:
    with zipfile.ZipFile(plugin_zip) as archive:
        assert archive.testzip() is None
        return archive.namelist()


def test_single_top_folder_named_os_downloads(names: List[str]) -> None:
    assert {PurePosixPath(n).parts[0] for n in names} == {"os_downloads"}


def test_holds_the_plugin(names: List[str]) -> None:
    expected = [
        "metadata.txt",
        "__init__.py",
        "LICENSE",
        "icons/icon.svg",
        "core/__init__.py",
        "core/client.py",
    ]
    if (ROOT / "plugin.py").exists():
        expected.append("plugin.py")
    missing = [e for e in expected if f"os_downloads/{e}" not in names]
    assert not missing, f"the zip lacks {missing}"


def test_leaves_out_the_development_kit(names: List[str]) -> None:
    leaked = [
        n
        for n in names
        if PurePosixPath(n).parts[1] in EXCLUDED_TOP
        or "__pycache__" in n
        or n.endswith((".pyc", ".part"))
    ]
    assert not leaked, f"the zip ships development files: {leaked[:20]}"


def test_is_under_the_25_mb_limit(plugin_zip: Path) -> None:
    assert plugin_zip.stat().st_size < 25 * 1024 * 1024


def test_shipped_code_never_imports_what_is_left_out(plugin_zip: Path) -> None:
    problems = []
    with zipfile.ZipFile(plugin_zip) as archive:
        for name in archive.namelist():
            if not name.endswith(".py"):
                continue
            tree = ast.parse(archive.read(name).decode("utf-8"), filename=name)
            depth = len(PurePosixPath(name).parts) - 2  # below os_downloads/
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if node.level == 0 and module.startswith("os_downloads."):
                        top = module.split(".")[1]
                    elif node.level == depth + 1:
                        top = module.split(".")[0]
                    else:
                        continue
                    if top in NOT_SHIPPED_PACKAGES:
                        problems.append(f"{name}:{node.lineno} imports {top}")
    assert not problems, "\n".join(problems)


def test_version_in_the_default_name_is_metadata_version() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import package  # scripts/package.py
    finally:
        sys.path.remove(str(SCRIPT.parent))
    from os_downloads import core

    assert package.plugin_version() == core.__version__


def test_install_copies_the_same_files(tmp_path: Path, names: List[str]) -> None:
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    installed = Path(_run("install", "--dest", str(plugins)))
    assert installed == plugins / "os_downloads"
    copied = sorted(
        "os_downloads/" + p.relative_to(installed).as_posix()
        for p in installed.rglob("*")
        if p.is_file()
    )
    assert copied == sorted(names)
    # Installing again replaces the copy rather than failing or nesting.
    _run("install", "--dest", str(plugins))
    assert not (installed / "os_downloads").exists()


def test_install_link_points_at_the_checkout(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    installed = Path(_run("install", "--dest", str(plugins), "--link"))
    assert installed.is_symlink()
    assert installed.resolve() == ROOT.resolve()
