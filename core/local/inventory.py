"""Every download under the download folder(s), from the manifests, with its state.

Offline: nothing here asks an API. The state of each download comes from its
files on disk against its manifest (missing, a different size, or with
``rehash``, a different checksum), then, when an update check was run
(``core.sources.updates.check_updates``), from its answer:

- ``up to date`` / ``update available`` (a new version) /
  ``N change-only updates pending`` (data packages) come from the check;
- ``files missing or modified`` and ``not verified`` from the disk.

The dock's "My downloads" tab and ``downloads [--json] [--check]`` show these;
holdings (GeoPackage and PostGIS) are listed by ``holdings_inventory``.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from ..engine.manifest import (
    MANIFEST_NAME,
    SOURCE_OPENDATA,
    SOURCE_PACKAGE,
    Manifest,
    read_manifest,
)
from ..errors import Cancelled, ConfigurationError
from ..sources.updates import CURRENT, UPDATE, UpdateCheck

STATE_CURRENT = "up to date"
STATE_UPDATE = "update available"
STATE_PENDING = "change-only updates pending"
STATE_DAMAGED = "files missing or modified"
STATE_UNVERIFIED = "not verified"
STATE_UNCHECKED = "not checked"
_CHUNK = 1024 * 1024


@dataclass
class LocalDownload:
    """One folder with a manifest: what it is, how big, and its state."""

    folder: Path
    manifest: Manifest
    size_on_disk: int = 0
    missing: List[str] = field(default_factory=list)
    modified: List[str] = field(default_factory=list)
    update: Optional[UpdateCheck] = None

    @property
    def source(self) -> str:
        return self.manifest.source

    @property
    def location(self) -> Path:
        """What identifies the row: the download's folder."""
        return self.folder

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def when(self) -> str:
        return self.manifest.created_at

    @property
    def title(self) -> str:
        return self.manifest.name or self.manifest.id

    @property
    def kind(self) -> str:
        """ "GML 3" or the package's format."""
        return " ".join(p for p in (self.manifest.format, self.manifest.subformat) if p)

    @property
    def area(self) -> str:
        return self.manifest.area or ("" if self.source == SOURCE_PACKAGE else "GB")

    @property
    def verified(self) -> bool:
        return bool(self.manifest.files) and all(f.verified for f in self.manifest.files)

    @property
    def pending_updates(self) -> int:
        if self.update is None or self.update.status != UPDATE:
            return 0
        return len(self.update.newer_versions)

    @property
    def state(self) -> str:
        """The badge: the disk's problems first, then what the update check said."""
        if self.missing or self.modified:
            return STATE_DAMAGED
        if self.update is not None and self.update.status == UPDATE:
            if self.source == SOURCE_PACKAGE and self.pending_updates:
                return f"{self.pending_updates} {STATE_PENDING}"
            return STATE_UPDATE
        if not self.verified:
            return STATE_UNVERIFIED
        if self.update is not None and self.update.status == CURRENT:
            return STATE_CURRENT
        return STATE_UNCHECKED

    def key(self) -> tuple:
        m = self.manifest
        return (m.source, m.id, m.format or "", m.subformat or "", self.area)

    def to_json(self) -> Dict[str, Any]:
        return {
            "folder": str(self.folder),
            "source": self.source,
            "id": self.manifest.id,
            "name": self.title,
            "version": self.manifest.version,
            "format": self.kind,
            "area": self.area,
            "size_on_disk": self.size_on_disk,
            "created_at": self.manifest.created_at,
            "verified": self.verified,
            "missing": list(self.missing),
            "modified": list(self.modified),
            "state": self.state,
            "datasets": list(self.manifest.datasets),
        }


def list_downloads(roots: Iterable[Path], *, rehash: bool = False) -> List[LocalDownload]:
    """Every manifest's folder under ``roots``, newest first; files checked by size
    (``rehash``: by checksum too, which reads every byte)."""
    found: List[LocalDownload] = []
    seen = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(MANIFEST_NAME)):
            folder = path.parent.resolve()
            if folder in seen:
                continue
            seen.add(folder)
            manifest = read_manifest(path)
            if manifest is not None:
                found.append(inspect(folder, manifest, rehash=rehash))
    found.sort(key=lambda d: d.manifest.created_at, reverse=True)
    return found


def inspect(
    folder: Path,
    manifest: Manifest,
    *,
    rehash: bool = False,
    cancel: Optional[threading.Event] = None,
) -> LocalDownload:
    """The folder's size and which of the manifest's files are missing or changed."""
    item = LocalDownload(Path(folder), manifest, size_on_disk=folder_size(folder))
    for entry in manifest.files:
        path = Path(folder) / entry.name
        if not path.is_file():
            item.missing.append(entry.name)
            continue
        if entry.size is not None and path.stat().st_size != entry.size:
            item.modified.append(entry.name)
            continue
        if rehash:
            algorithm = "md5" if entry.md5 else "sha256" if entry.sha256 else ""
            if algorithm and file_digest(path, algorithm, cancel) != entry.digest(algorithm):
                item.modified.append(entry.name)
    return item


def attach_updates(items: Sequence[LocalDownload], checks: Sequence[UpdateCheck]) -> None:
    """Give each download the update check of its group (matched by folder)."""
    by_folder = {Path(f).resolve(): check for check in checks for f in check.folders}
    for item in items:
        item.update = by_folder.get(Path(item.folder).resolve())


def downloaded_areas(
    roots: Iterable[Path], product_id: str, format: str, subformat: Optional[str] = None
) -> List[str]:
    """The areas of a product already on disk in a format (any version)."""
    areas = set()
    for item in list_downloads(roots):
        m = item.manifest
        if m.source != SOURCE_OPENDATA or m.id != product_id:
            continue
        if (m.format or "").casefold() != (format or "").casefold():
            continue
        if subformat is not None and (m.subformat or "").casefold() != subformat.casefold():
            continue
        if not item.missing and m.area:
            areas.add(m.area.upper())
    return sorted(areas)


def delete_download(folder: Path, roots: Iterable[Path]) -> None:
    """Remove a download's folder (files and manifest). Only a folder with a manifest
    inside one of ``roots`` is ever removed."""
    target = Path(folder).resolve()
    inside = any(_is_within(target, Path(r).resolve()) for r in roots)
    if not inside or not (target / MANIFEST_NAME).is_file():
        raise ConfigurationError(
            f"{target} is not a download folder of OS Downloads; nothing was deleted."
        )
    shutil.rmtree(target)
    parent = target.parent  # tidy empty version/format folders up to the root
    while parent.exists() and not any(parent.iterdir()):
        if any(parent == Path(r).resolve() for r in roots):
            break
        parent.rmdir()
        parent = parent.parent


def folder_size(folder: Path) -> int:
    total = 0
    for path in Path(folder).rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def file_digest(path: Path, algorithm: str, cancel: Optional[threading.Event] = None) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            if cancel is not None and cancel.is_set():
                raise Cancelled("Cancelled.")
            digest.update(chunk)
    return digest.hexdigest()


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return path != root
