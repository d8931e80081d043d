"""Is there something newer than what is on disk? Asked of the API, downloading nothing.

Reads the ``os_downloads_manifest.json`` files of earlier downloads. Several
folders of one thing (the versions of a package, each in its own folder; a
product fetched twice) are one item: what counts is the newest version held.

- OpenData product: newer when the product's ``version`` differs from the newest held.
- Data package: the versions created after the newest one held (oldest first).

Other sources (TRUD) plug in with ``UPDATE_CHECKERS[source] = fn(client_for, held)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..api.models import sort_versions_newest_first
from ..engine.manifest import (
    MANIFEST_NAME,
    SOURCE_OPENDATA,
    SOURCE_PACKAGE,
    Manifest,
    read_manifest,
)
from ..errors import describe
from ..redact import get_logger

log = get_logger(__name__)

UPDATE, CURRENT, ERROR, NOT_CHECKED = "update available", "up to date", "error", "not checked"


@dataclass
class Held:
    """What is on disk of one product (in one format/area) or one package."""

    source: str
    id: str
    label: str
    manifests: List[Tuple[Path, Manifest]] = field(default_factory=list)

    @property
    def newest(self) -> Manifest:
        return max((m for _, m in self.manifests), key=lambda m: (m.created_at, m.version))

    @property
    def versions(self) -> List[str]:
        return sorted({m.version for _, m in self.manifests})


@dataclass
class UpdateCheck:
    source: str
    id: str
    label: str
    held_version: str
    status: str
    latest_version: str = ""
    newer_versions: List[str] = field(default_factory=list)
    folders: List[str] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> Dict[str, Any]:
        return dict(vars(self))


Checker = Callable[[Callable[[str], Any], Held], UpdateCheck]


def find_manifests(folder: Path) -> List[Path]:
    """Every manifest under ``folder`` (the download root, or one product's folder)."""
    return sorted(Path(folder).rglob(MANIFEST_NAME))


def group_manifests(paths: Iterable[Path]) -> List[Held]:
    """Manifests grouped into the things they are versions of."""
    groups: Dict[Tuple[str, ...], Held] = {}
    for path in paths:
        manifest = read_manifest(path)
        if manifest is None:
            continue
        if manifest.source == SOURCE_OPENDATA:
            parts = [manifest.format or "", manifest.subformat or "", manifest.area or ""]
            key = (manifest.source, manifest.id, *parts)
            label = f"{manifest.id} {' '.join(p for p in parts[:2] if p)} ({parts[2] or 'GB'})"
        else:
            key = (manifest.source, manifest.id)
            label = f"{manifest.name or manifest.id} ({manifest.source} {manifest.id})"
        held = groups.setdefault(key, Held(manifest.source, manifest.id, label))
        held.manifests.append((Path(path).parent, manifest))
    return list(groups.values())


def check_updates(held: Sequence[Held], client_for: Callable[[str], Any]) -> List[UpdateCheck]:
    """One result per item; a failing check is an ``error`` row, never an exception.

    ``client_for(source)`` gives the API client for a manifest source."""
    results = []
    for item in held:
        checker = UPDATE_CHECKERS.get(item.source)
        try:
            if checker is None:
                result = UpdateCheck(
                    item.source,
                    item.id,
                    item.label,
                    item.newest.version,
                    NOT_CHECKED,
                    message=f"Checking {item.source} downloads is not supported yet.",
                )
            else:
                result = checker(client_for, item)
        except Exception as err:  # noqa: BLE001 - one item's failure is reported, not raised
            message = describe(err)
            log.warning("Update check of %s failed: %s", item.label, message)
            result = UpdateCheck(
                item.source, item.id, item.label, item.newest.version, ERROR, message=message
            )
        result.folders = [str(folder) for folder, _ in item.manifests]
        results.append(result)
    return results


def _check_product(client_for: Callable[[str], Any], held: Held) -> UpdateCheck:
    product = client_for(SOURCE_OPENDATA).product(held.id)
    have = held.newest.version
    newer = product.version != have and product.version not in held.versions
    return UpdateCheck(
        held.source,
        held.id,
        held.label,
        have,
        UPDATE if newer else CURRENT,
        latest_version=product.version,
        newer_versions=[product.version] if newer else [],
    )


def _check_package(client_for: Callable[[str], Any], held: Held) -> UpdateCheck:
    versions = client_for(SOURCE_PACKAGE).data_package_versions(held.id)
    ordered = list(reversed(sort_versions_newest_first(list(versions))))
    ids = [v.id for v in ordered]
    have = set(held.versions)
    positions = [ids.index(v) for v in have if v in ids]
    newest_held: Optional[int] = max(positions) if positions else None
    newer = ids if newest_held is None else ids[newest_held + 1 :]
    return UpdateCheck(
        held.source,
        held.id,
        held.label,
        ids[newest_held] if newest_held is not None else held.newest.version,
        UPDATE if newer else CURRENT,
        latest_version=ids[-1] if ids else "",
        newer_versions=newer,
    )


UPDATE_CHECKERS: Dict[str, Checker] = {
    SOURCE_OPENDATA: _check_product,
    SOURCE_PACKAGE: _check_package,
}
