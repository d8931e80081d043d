"""Build the plugin zip, or install the plugin into a QGIS profile.

The repository root is the plugin, but much of it (the replica, tests, tooling)
must not reach users. This script is the one place that decides which files
ship, so `make package` and `make install` always agree.

    python scripts/package.py zip [--out dist/os_downloads-<version>.zip]
    python scripts/package.py install --dest PLUGINS_DIR [--link]
    python scripts/package.py list
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Iterable, List

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "os_downloads"
MAX_ZIP_BYTES = 25 * 1024 * 1024  # the plugins.qgis.org upload limit

# Top-level folders and files that are development-only.
EXCLUDED_TOP = frozenset(
    {
        ".build",
        ".ci",
        ".git",
        ".github",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        "bench",
        "dist",
        "replica",
        "requirements",
        "scripts",
        "tests",
        ".gitignore",
        ".gitattributes",
        "CONTRIBUTING.md",
        "Makefile",
        "pyproject.toml",
    }
)
EXCLUDED_DIR_NAMES = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".part", ".orig", ".rej", "~")


def plugin_version(root: Path = ROOT) -> str:
    """The version in metadata.txt (kept equal to core.__version__ by a test)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(root / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"].strip()


def is_shipped(relative: PurePosixPath) -> bool:
    """Whether a path (relative to the repository root) belongs in the plugin."""
    parts = relative.parts
    if not parts or parts[0] in EXCLUDED_TOP:
        return False
    if any(part in EXCLUDED_DIR_NAMES for part in parts):
        return False
    return not relative.name.endswith(EXCLUDED_SUFFIXES)


def _git_files(root: Path) -> List[str]:
    """Tracked plus untracked-but-not-ignored files, as git sees the working tree."""
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout
    return [name for name in out.decode("utf-8").split("\0") if name]


def _walked_files(root: Path) -> List[str]:
    """Every file under root, for a copy of the source without .git."""
    names = []
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        dirs[:] = [d for d in dirs if is_shipped(PurePosixPath((rel_folder / d).as_posix()))]
        names.extend((rel_folder / f).as_posix() for f in files)
    return names


def shipped_files(root: Path = ROOT) -> List[PurePosixPath]:
    """The plugin's files, sorted, relative to root; only files that exist now."""
    names: Iterable[str]
    names = _git_files(root) if (root / ".git").exists() else _walked_files(root)
    chosen = set()
    for name in names:
        rel = PurePosixPath(name)
        path = root / name
        if is_shipped(rel) and path.is_file() and not path.is_symlink():
            chosen.add(rel)
    return sorted(chosen)


def build_zip(out: Path, root: Path = ROOT) -> Path:
    """Write the zip with the single top folder ``os_downloads/``."""
    files = shipped_files(root)
    if not any(str(f) == "metadata.txt" for f in files):
        raise SystemExit("metadata.txt is missing: nothing to package")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel in files:
            archive.write(root / str(rel), f"{PLUGIN_NAME}/{rel}")
    size = partial.stat().st_size
    if size > MAX_ZIP_BYTES:
        partial.unlink()
        raise SystemExit(f"{out.name} would be {size} bytes, over the 25 MB plugin limit")
    partial.replace(out)
    return out


def install(dest_plugins: Path, link: bool, root: Path = ROOT) -> Path:
    """Put the plugin at PLUGINS_DIR/os_downloads: a fresh copy, or a symlink to root."""
    target = dest_plugins / PLUGIN_NAME
    if target.resolve() == root.resolve() and not target.is_symlink():
        raise SystemExit(f"{target} is this checkout itself: it is already installed")
    dest_plugins.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if link:
        target.symlink_to(root, target_is_directory=True)
        return target
    for rel in shipped_files(root):
        copy_to = target / str(rel)
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / str(rel), copy_to)
    return target


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    zip_cmd = sub.add_parser("zip", help="build dist/os_downloads-<version>.zip")
    zip_cmd.add_argument("--out", type=Path, default=None)
    inst = sub.add_parser("install", help="install into a QGIS profile's plugins folder")
    inst.add_argument("--dest", type=Path, required=True, help="…/profiles/NAME/python/plugins")
    inst.add_argument("--link", action="store_true", help="symlink the checkout (development)")
    sub.add_parser("list", help="print the files that ship")
    args = parser.parse_args(argv)

    if args.command == "zip":
        out = args.out or ROOT / "dist" / f"{PLUGIN_NAME}-{plugin_version()}.zip"
        print(build_zip(out.resolve()))
    elif args.command == "install":
        print(install(args.dest.expanduser().resolve(), args.link))
    else:
        for rel in shipped_files():
            print(rel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
