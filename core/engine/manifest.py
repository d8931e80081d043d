"""``os_downloads_manifest.json``: what a download folder holds and where it came from.

Written beside the downloaded files at the end of every job, read by later
runs (a file without a listed checksum is trusted again only when the manifest
recorded it), by sync, and by the plugin (which layers a folder offers).
Written atomically: a reader never sees half a manifest.

Shape (``schema`` 1)::

    {"schema": 1, "source": "os-opendata" | "os-package" | "trud",
     "id": "OpenRoads", "name": "OS Open Roads",
     "version": "2025-10",               # product version, package version id, TRUD release id
     "format": "GeoPackage", "subformat": null, "area": "GB",
     "reason": null, "supply_type": null,  # package versions: e.g. "UPDATE", "COU"
     "product_id": null, "product_version": null,  # package versions: their product
     "files": [{"name": "oproad_gpkg_gb.zip", "size": 123, "md5": "...",
                "sha256": null, "verified": true}],
     "extracted_folder": "extracted",     # relative to the manifest's folder, or null
     "datasets": ["extracted/Data/oproad_gb.gpkg|layername=road_link", ...],  # loadable
     "unreadable": {"extracted/Data/broken.tif": "It is cut off: ..."},  # found, not loadable
     "created_at": "2026-01-31T12:00:00Z", "extra": {...}}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ..atomic import atomic_write_text
from ..redact import get_logger, redact

log = get_logger(__name__)

MANIFEST_NAME = "os_downloads_manifest.json"
SCHEMA = 1
SOURCE_OPENDATA = "os-opendata"
SOURCE_PACKAGE = "os-package"
SOURCE_TRUD = "trud"


def utc_now() -> str:
    """Now as an ISO 8601 UTC timestamp with a ``Z``, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ManifestFile:
    """One downloaded file; ``verified`` is False when only its size could be checked."""

    name: str
    size: Optional[int] = None
    md5: Optional[str] = None
    sha256: Optional[str] = None
    verified: bool = False

    def digest(self, algorithm: str) -> Optional[str]:
        return {"md5": self.md5, "sha256": self.sha256}.get(algorithm.lower())

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> ManifestFile:
        size = data.get("size")
        return cls(
            name=str(data.get("name", "")),
            size=int(size) if isinstance(size, (int, float)) else None,
            md5=_opt_str(data.get("md5")),
            sha256=_opt_str(data.get("sha256")),
            verified=bool(data.get("verified", False)),
        )


@dataclass
class Manifest:
    source: str
    id: str
    name: str = ""
    version: str = ""
    format: Optional[str] = None
    subformat: Optional[str] = None
    area: Optional[str] = None
    reason: Optional[str] = None
    supply_type: Optional[str] = None
    product_id: Optional[str] = None
    product_version: Optional[str] = None
    files: List[ManifestFile] = field(default_factory=list)
    extracted_folder: Optional[str] = None
    datasets: List[str] = field(default_factory=list)
    created_at: str = field(default_factory=utc_now)
    extra: Dict[str, Any] = field(default_factory=dict)
    unreadable: Dict[str, str] = field(default_factory=dict)

    def file(self, name: str) -> Optional[ManifestFile]:
        return next((f for f in self.files if f.name == name), None)

    def record_datasets(self, found: Iterable[Tuple[str, Optional[str]]]) -> None:
        """``(reference, problem)`` per dataset discovery found (``problem`` None: loadable).

        Loadable ones go to ``datasets``; the others to ``unreadable`` with the
        reason, so a later reader knows the file is there but cannot be loaded.
        """
        self.datasets, self.unreadable = [], {}
        for reference, problem in found:
            if problem:
                self.unreadable[reference] = problem
            else:
                self.datasets.append(reference)

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"schema": SCHEMA}
        data.update(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Manifest:
        """Tolerant: unknown keys are ignored, missing optional ones defaulted."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["files"] = [
            ManifestFile.from_json(f) for f in data.get("files") or () if isinstance(f, dict)
        ]
        values["datasets"] = [str(d) for d in data.get("datasets") or ()]
        values["extra"] = dict(data.get("extra") or {})
        unreadable = data.get("unreadable")
        values["unreadable"] = (
            {str(k): str(v) for k, v in unreadable.items()} if isinstance(unreadable, dict) else {}
        )
        values.setdefault("source", "")
        values["id"] = str(values.get("id", ""))
        values["version"] = str(values.get("version") or "")
        return cls(**values)


def manifest_path(folder: Union[str, Path]) -> Path:
    return Path(folder) / MANIFEST_NAME


def read_manifest(folder: Union[str, Path]) -> Optional[Manifest]:
    """The manifest in ``folder`` (or at that path), or None if absent or unreadable."""
    path = Path(folder)
    if path.name != MANIFEST_NAME:
        path = manifest_path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable manifest %s: %s", redact(str(path)), exc)
        return None
    if not isinstance(data, dict):
        log.warning("Ignoring manifest %s: not a JSON object", redact(str(path)))
        return None
    try:
        return Manifest.from_json(data)
    except (TypeError, ValueError) as exc:
        log.warning("Ignoring manifest %s: %s", redact(str(path)), exc)
        return None


def write_manifest(folder: Union[str, Path], manifest: Manifest) -> Path:
    """Write ``manifest`` into ``folder`` atomically (``core/atomic.py``)."""
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    return atomic_write_text(manifest_path(folder), text)


def _opt_str(value: Any) -> Optional[str]:
    return None if value in (None, "") else str(value)
