"""What every source of data implements, and the types its update check returns.

A *source* is one kind of thing a user downloads: OS OpenData products, OS
data packages, NHS TRUD items. Each is a small adapter (``os_products.py``,
``os_packages.py``, ``trud/``) over the source-agnostic engine
(``core/engine/``): it knows the source's API and naming; the engine knows
downloading, checksums, extraction, discovery and manifests. The adapters are
listed once, in ``registry.py``; the command line, sync, check-updates,
Processing and the dock all reach a source through it.

The contract, in order of a job:

- ``kind``: the manifest's ``source`` value (``"os-opendata"``, ``"os-package"``,
  ``"trud"``): how a folder on disk says where it came from.
- ``title``: the source in words, for messages.
- ``releases(client, id)`` / ``describe(client, id)``: what exists (newest first)
  and the thing itself, for listings.
- ``plan_fetch(client, dest_root, **what) -> FetchPlan``: the files of one release
  as ``RemoteFile``s with their checksum kind, its folder, the manifest's fields,
  resolve/session/retry for its downloads, and its hooks (``after_download``:
  post-download checks such as a signature; ``after_extract``: e.g. ODS XML
  flattening; ``describe``: extra manifest data such as TRUD tables). The
  engine's ``run_plan`` runs it (``core/engine/pipeline.py``).
- ``held_key(manifest)``: which manifests are versions of one thing, and its label.
- ``check_update(held, client_for) -> UpdateCheck``: is there something newer?
- ``sync``: the ``[[table]]`` kind of a sync config (``SyncKind``): ``parse``
  one entry, ``check`` what is new, ``apply`` one step (``core/sync/plan.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Protocol,
    Tuple,
    runtime_checkable,
)

from ..engine.manifest import Manifest

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..engine.pipeline import FetchPlan
    from ..sync.plan import Entry, Plan, Step, SyncContext

UPDATE, CURRENT, ERROR, NOT_CHECKED = "update available", "up to date", "error", "not checked"

ClientFor = Callable[[str], Any]  # manifest source -> the API client for it


@dataclass
class Held:
    """What is on disk of one thing (a product in one format/area, a package, a TRUD item)."""

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


def version_check(held: Held, latest: str) -> UpdateCheck:
    """The check for sources where only the newest release matters (products, TRUD)."""
    have = held.newest.version
    newer = latest != have and latest not in held.versions
    return UpdateCheck(
        held.source,
        held.id,
        held.label,
        have,
        UPDATE if newer else CURRENT,
        latest_version=latest,
        newer_versions=[latest] if newer else [],
    )


def default_held_key(manifest: Manifest) -> Tuple[Tuple[str, ...], str]:
    """One thing per (source, id), labelled by its name."""
    label = f"{manifest.name or manifest.id} ({manifest.source} {manifest.id})"
    return (manifest.source, manifest.id), label


@runtime_checkable
class SyncKind(Protocol):
    """A ``[[name]]`` table of a sync config. ``check`` raising ends that entry as
    failed; so does ``apply``, after which later steps of the entry are not tried."""

    name: str  # the config table: "products" for [[products]]
    options: Tuple[str, ...]  # top-level config keys it accepts, e.g. ("trud_key_env",)

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry: ...

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan: ...

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> str:
        """Fetch one step; update ``state`` (the entry's JSON-able dict); return the folder."""
        ...


@runtime_checkable
class Source(Protocol):
    """One source of downloads; see the module's docstring for the contract."""

    kind: str
    title: str
    sync: SyncKind

    def releases(self, client: Any, id: str) -> List[Any]: ...

    def describe(self, client: Any, id: str) -> Any: ...

    def plan_fetch(self, client: Any, dest_root: Path, **what: Any) -> FetchPlan: ...

    def held_key(self, manifest: Manifest) -> Tuple[Tuple[str, ...], str]: ...

    def check_update(self, held: Held, client_for: ClientFor) -> UpdateCheck: ...
