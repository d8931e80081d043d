"""Is there something newer than what is on disk? Asked of the API, downloading nothing.

Reads the ``os_downloads_manifest.json`` files of earlier downloads. Several
folders of one thing (the versions of a package, each in its own folder; a
product fetched twice) are one item: what counts is the newest version held.

Each source answers for its own (``Source.check_update``, ``Source.held_key``;
every source is in ``registry.SOURCES``): an OpenData product is newer when its
``version`` changed; a data package has the versions created after the newest
one held (oldest first); a TRUD item when its newest release is not one held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Sequence

from ..engine.manifest import MANIFEST_NAME, read_manifest
from ..errors import describe
from ..redact import get_logger
from .base import (
    CURRENT,
    ERROR,
    NOT_CHECKED,
    UPDATE,
    ClientFor,
    Held,
    UpdateCheck,
    default_held_key,
)
from .registry import source_for

__all__ = [
    "CURRENT",
    "ERROR",
    "NOT_CHECKED",
    "UPDATE",
    "Held",
    "UpdateCheck",
    "check_updates",
    "find_manifests",
    "group_manifests",
]

log = get_logger(__name__)


def find_manifests(folder: Path) -> List[Path]:
    """Every manifest under ``folder`` (the download root, or one product's folder)."""
    return sorted(Path(folder).rglob(MANIFEST_NAME))


def group_manifests(paths: Iterable[Path]) -> List[Held]:
    """Manifests grouped into the things they are versions of."""
    groups: dict = {}
    for path in paths:
        manifest = read_manifest(path)
        if manifest is None:
            continue
        source = source_for(manifest.source)
        key, label = (source.held_key if source else default_held_key)(manifest)
        held = groups.setdefault(key, Held(manifest.source, manifest.id, label))
        held.manifests.append((Path(path).parent, manifest))
    return list(groups.values())


def check_updates(held: Sequence[Held], client_for: ClientFor) -> List[UpdateCheck]:
    """One result per item; a failing check is an ``error`` row, never an exception.

    ``client_for(source)`` gives the API client for a manifest source."""
    results = []
    for item in held:
        source = source_for(item.source)
        try:
            if source is None:
                result = UpdateCheck(
                    item.source,
                    item.id,
                    item.label,
                    item.newest.version,
                    NOT_CHECKED,
                    message=f"Checking {item.source} downloads is not supported yet.",
                )
            else:
                result = source.check_update(item, client_for)
        except Exception as err:  # noqa: BLE001 - one item's failure is reported, not raised
            message = describe(err)
            log.warning("Update check of %s failed: %s", item.label, message)
            result = UpdateCheck(
                item.source, item.id, item.label, item.newest.version, ERROR, message=message
            )
        result.folders = [str(folder) for folder, _ in item.manifests]
        results.append(result)
    return results
