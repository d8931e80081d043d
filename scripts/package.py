"""Build the plugin zip, or install the plugin into a QGIS profile.

The repository root is the plugin, but much of it (the replica, tests, tooling,
translation sources) must not reach users. This script is the one place that
decides which files ship, from an allow list (``ALLOWED``), so `make package`
and `make install` always agree and a new development file never leaks.

A release zip is refused while metadata.txt still carries placeholder contact
details (plugins.qgis.org needs an email it can confirm and addresses that
resolve); ``--dev`` builds one anyway, named ``…-dev.zip``.

    python scripts/package.py zip [--out FILE] [--dev] [--set KEY=VALUE ...]
    python scripts/package.py install --dest PLUGINS_DIR [--link]
    python scripts/package.py list
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "os_downloads"
MAX_ZIP_BYTES = 25_000_000  # plugins.qgis.org's PLUGIN_MAX_UPLOAD_SIZE

# What ships: (folder relative to the root, name patterns, whether subfolders count).
# Everything else stays out: replica, tests, bench, scripts, requirements,
# i18n/update_translations.py, resources.qrc, .ts sources, caches.
ALLOWED: Tuple[Tuple[str, Tuple[str, ...], bool], ...] = (
    ("", ("metadata.txt", "LICENSE", "__init__.py", "__main__.py", "plugin.py"), False),
    ("core", ("*.py",), True),
    ("integration", ("*.py",), True),
    ("ui", ("*.py", "*.ui"), True),
    ("processing_provider", ("*.py",), True),
    ("icons", ("*.svg", "*.png"), True),
    ("i18n", ("__init__.py", "*.qm"), False),
)
EXCLUDED_DIR_NAMES = frozenset({"__pycache__", ".git", "__MACOSX"})

# The metadata.txt fields plugins.qgis.org checks for real contact details.
PUBLISHING_FIELDS = ("email", "homepage", "repository", "tracker")
# A value containing one of these (case-insensitive) is a placeholder: the
# project's not-yet-public addresses, reserved example domains (an email there
# can never be confirmed) and the site's own forbidden defaults.
PLACEHOLDER_MARKERS = (
    "github.com/os-downloads/os_downloads",
    "example.org",
    "example.com",
    "example.net",
    ".example",
    ".invalid",
    ".test",
    "localhost",
    "placeholder",
    "changeme",
    "http://bugs",
    "http://repo",
    "http://homepage",
)


class PackagingError(Exception):
    """A zip that must not be built; the message says what to do."""


def read_metadata(text: str) -> Dict[str, str]:
    """metadata.txt's [general] section, keys as written (QGIS's are case-sensitive)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["general"])


def plugin_version(root: Path = ROOT) -> str:
    """The version in metadata.txt (kept equal to core.__version__ by a test)."""
    return read_metadata((root / "metadata.txt").read_text(encoding="utf-8"))["version"].strip()


def placeholder_fields(metadata: Mapping[str, str]) -> List[str]:
    """The publishing fields that are empty or still placeholders."""
    found = []
    for key in PUBLISHING_FIELDS:
        value = metadata.get(key, "").strip().lower()
        if not value or any(marker in value for marker in PLACEHOLDER_MARKERS):
            found.append(key)
    return found


def with_overrides(text: str, overrides: Mapping[str, str]) -> str:
    """metadata.txt with single-line ``key=value`` fields replaced, layout kept."""
    for key, value in overrides.items():
        if "\n" in value or "\r" in value:
            raise PackagingError(f"--set {key}: a value must be a single line")
        pattern = re.compile(rf"^{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
        if not pattern.search(text):
            raise PackagingError(f"--set {key}: metadata.txt has no {key}= line")
        text = pattern.sub(lambda _m, k=key, v=value: f"{k}={v}", text, count=1)
    return text


def is_shipped(relative: PurePosixPath) -> bool:
    """Whether a path (relative to the repository root) belongs in the plugin."""
    parts = relative.parts
    if not parts or any(part in EXCLUDED_DIR_NAMES for part in parts):
        return False
    folder, name = parts[:-1], parts[-1]
    for allowed_folder, patterns, recursive in ALLOWED:
        top = tuple(PurePosixPath(allowed_folder).parts) if allowed_folder else ()
        if folder[: len(top)] != top:
            continue
        if len(folder) > len(top) and not recursive:
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            return True
    return False


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
        dirs[:] = [d for d in dirs if d not in EXCLUDED_DIR_NAMES and not d.startswith(".")]
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


def build_zip(
    out: Path,
    root: Path = ROOT,
    *,
    dev: bool = False,
    overrides: Optional[Mapping[str, str]] = None,
) -> Path:
    """Write the zip with the single top folder ``os_downloads/``.

    ``overrides`` replace metadata.txt fields in the zip only (the checkout is
    unchanged); a release (``dev=False``) is refused while the publishing
    fields are placeholders.
    """
    files = shipped_files(root)
    if PurePosixPath("metadata.txt") not in files:
        raise PackagingError("metadata.txt is missing: nothing to package")
    metadata_text = with_overrides(
        (root / "metadata.txt").read_text(encoding="utf-8"), dict(overrides or {})
    )
    placeholders = placeholder_fields(read_metadata(metadata_text))
    if placeholders and not dev:
        raise PackagingError(
            "not building a release zip: metadata.txt still has placeholder "
            + ", ".join(placeholders)
            + ". plugins.qgis.org needs an email address it can confirm and homepage, "
            "repository and tracker addresses that answer; set them in metadata.txt "
            "(see README, Publishing), or build a development zip with "
            "`make package DEV=1` (scripts/package.py zip --dev)."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel in files:
            arcname = f"{PLUGIN_NAME}/{rel}"
            if str(rel) == "metadata.txt":
                archive.writestr(zipfile.ZipInfo.from_file(root / str(rel), arcname), metadata_text)
            else:
                archive.write(root / str(rel), arcname)
    size = partial.stat().st_size
    if size > MAX_ZIP_BYTES:
        partial.unlink()
        raise PackagingError(f"{out.name} would be {size} bytes, over the 25 MB plugin limit")
    partial.replace(out)
    return out


def install(dest_plugins: Path, link: bool, root: Path = ROOT) -> Path:
    """Put the plugin at PLUGINS_DIR/os_downloads: a fresh copy, or a symlink to root."""
    target = dest_plugins / PLUGIN_NAME
    if target.resolve() == root.resolve() and not target.is_symlink():
        raise PackagingError(f"{target} is this checkout itself: it is already installed")
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


def _key_value(text: str) -> Tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    zip_cmd = sub.add_parser("zip", help="build dist/os_downloads-<version>.zip")
    zip_cmd.add_argument("--out", type=Path, default=None)
    zip_cmd.add_argument(
        "--dev", action="store_true", help="a development zip: placeholders allowed"
    )
    zip_cmd.add_argument(
        "--set",
        dest="overrides",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="replace a metadata.txt field in the zip only (the checkout is unchanged)",
    )
    inst = sub.add_parser("install", help="install into a QGIS profile's plugins folder")
    inst.add_argument("--dest", type=Path, required=True, help="…/profiles/NAME/python/plugins")
    inst.add_argument("--link", action="store_true", help="symlink the checkout (development)")
    sub.add_parser("list", help="print the files that ship")
    args = parser.parse_args(list(argv))

    try:
        if args.command == "zip":
            suffix = "-dev" if args.dev else ""
            default = ROOT / "dist" / f"{PLUGIN_NAME}-{plugin_version()}{suffix}.zip"
            out = args.out or default
            print(build_zip(out.resolve(), dev=args.dev, overrides=dict(args.overrides)))
        elif args.command == "install":
            print(install(args.dest.expanduser().resolve(), args.link))
        else:
            for rel in shipped_files():
                print(rel)
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
