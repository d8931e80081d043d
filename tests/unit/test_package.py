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
# Stand-ins for the real contact details a release needs (set in the zip only).
RELEASE_FIELDS = (
    "--set",
    "email=plugins@os-downloads-maintainers.org.uk",
    "--set",
    "homepage=https://gitlab.com/os-downloads-maintainers/os_downloads",
    "--set",
    "repository=https://gitlab.com/os-downloads-maintainers/os_downloads",
    "--set",
    "tracker=https://gitlab.com/os-downloads-maintainers/os_downloads/-/issues",
)


def _script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run(*args: str) -> str:
    result = _script(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _package_module():  # scripts/package.py, imported
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import package
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return package


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "os_downloads-test.zip"
    assert _run("zip", "--out", str(out), *RELEASE_FIELDS) == str(out)
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
        "core/api/client.py",
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
    from os_downloads import core

    assert _package_module().plugin_version() == core.__version__


def test_ships_only_what_runs(names: List[str]) -> None:
    """Translation sources and tools, Qt resource files: development only."""
    shipped = [PurePosixPath(n).relative_to("os_downloads").as_posix() for n in names]
    leaked = [
        n
        for n in shipped
        if n in ("i18n/update_translations.py", "resources.qrc")
        or (n.endswith((".ts", ".qrc", ".md", ".toml", ".txt")) and n != "metadata.txt")
    ]
    assert not leaked, leaked
    assert "i18n/__init__.py" in shipped  # tr() lives there


@pytest.mark.parametrize(
    "path, shipped",
    [
        ("core/api/client.py", True),
        ("ui/widgets/panel.py", True),
        ("i18n/os_downloads_de.qm", True),
        ("i18n/os_downloads_de.ts", False),
        ("i18n/update_translations.py", False),
        ("resources.qrc", False),
        ("replica/server.py", False),
        ("replica/server/routing.py", False),
        ("replica/data/catalogue_products.json", False),
        ("core/api/__pycache__/client.cpython-311.pyc", False),
        ("notes.txt", False),
        ("icons/icon.svg", True),
    ],
)
def test_the_allow_list(path: str, shipped: bool) -> None:
    assert _package_module().is_shipped(PurePosixPath(path)) is shipped


def test_a_release_is_refused_while_contact_details_are_placeholders(tmp_path: Path) -> None:
    out = tmp_path / "release.zip"
    result = _script("zip", "--out", str(out))
    assert result.returncode == 1
    assert "placeholder email, homepage, repository, tracker" in result.stderr
    assert "DEV=1" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_one_placeholder_left_is_enough_to_refuse(tmp_path: Path) -> None:
    fields = list(RELEASE_FIELDS[:-2]) + ["--set", "tracker=http://bugs"]
    result = _script("zip", "--out", str(tmp_path / "r.zip"), *fields)
    assert result.returncode == 1 and "placeholder tracker." in result.stderr


def test_a_dev_zip_may_keep_the_placeholders(tmp_path: Path) -> None:
    out = tmp_path / "dev.zip"
    assert _run("zip", "--dev", "--out", str(out)) == str(out)
    with zipfile.ZipFile(out) as archive:
        metadata = archive.read("os_downloads/metadata.txt").decode("utf-8")
    assert metadata == (ROOT / "metadata.txt").read_text(encoding="utf-8")


def test_overrides_change_the_zip_not_the_checkout(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as archive:
        metadata = archive.read("os_downloads/metadata.txt").decode("utf-8")
    assert "email=plugins@os-downloads-maintainers.org.uk\n" in metadata
    checkout = (ROOT / "metadata.txt").read_text(encoding="utf-8")
    assert "plugins@os-downloads-maintainers.org.uk" not in checkout
    assert metadata.count("\n") == checkout.count("\n")


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
