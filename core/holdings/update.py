"""``update_holding``: download what a holding lacks, then apply it, oldest first.

One call per user action (command line, sync, Processing, the dock's task):

1. open the holding (refusing another package's or a GeoPackage that is not a
   holding), ask the API for the package's versions and plan the chain
   (``chain.plan_chain``: refuses a gap);
2. download every version to apply through the engine
   (``core.jobs.fetch_package_version``: verified by MD5, resumable, skipped
   when already on disk) *before* applying any, so a bad file stops the update
   with the holding untouched;
3. apply each version in its own SQLite transaction: the holding is always at
   a version boundary, whatever happens (crash, kill -9, full disk, bad file).

``into`` is a GeoPackage path or a PostgreSQL database (``target.parse_target``:
``postgresql://…``, ``PG:service=name``, with ``schema``). Downloads go to
``<holding folder>/<holding name>_downloads/`` for a GeoPackage unless told
otherwise (a PostgreSQL holding must be told: ``downloads``), in the engine's
layout (``packages/<id>/<version>/``), and stay there: an interrupted update
does not download them again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ..engine.manifest import utc_now
from ..engine.progress import Progress
from ..errors import ConfigurationError
from ..redact import get_logger
from ..sources.os_packages import fetch_package_version
from .chain import ChainPlan, plan_chain, previous_id
from .errors import HoldingError, UnsupportedSupplyError
from .holding import AppliedVersion, Holding, HoldingInfo, attribution
from .kinds import (  # noqa: F401 - product_kind is asked of update by the QGIS side
    KIND_ADDRESSBASE,
    KIND_MASTERMAP,
    KIND_NGD,
    detect_kind,
    product_kind,
)
from .store import StoreFailure
from .target import GeoPackageTarget, HoldingTarget, parse_target

log = get_logger(__name__)

PHASE_APPLY = "apply"
Changes = Dict[str, Dict[str, int]]


@dataclass
class AppliedOutcome:
    version_id: str
    supply_type: str
    description: str
    changes: Changes
    seconds: float = 0.0

    def totals(self) -> Dict[str, int]:
        out = {"inserted": 0, "updated": 0, "deleted": 0, "ignored": 0}
        for counts in self.changes.values():
            for name in out:
                out[name] += counts.get(name, 0)
        return out


@dataclass
class UpdateResult:
    path: Optional[Path]  # a GeoPackage's file; None for a PostgreSQL holding
    package_id: str
    applied: List[AppliedOutcome] = field(default_factory=list)
    held: List[str] = field(default_factory=list)  # applied version ids after the update
    notes: List[str] = field(default_factory=list)
    label: str = ""  # the file, or the database and schema: for people

    @property
    def updated(self) -> bool:
        return bool(self.applied)

    def to_json(self) -> Dict[str, Any]:
        return {
            "holding": self.label or str(self.path),
            "package": self.package_id,
            "updated": self.updated,
            "applied": [
                {
                    "version": a.version_id,
                    "supply_type": a.supply_type,
                    "description": a.description,
                    "changes": a.changes,
                    "totals": a.totals(),
                    "seconds": round(a.seconds, 3),
                }
                for a in self.applied
            ],
            "versions": list(self.held),
            "notes": list(self.notes),
        }


def default_downloads(path: Path) -> Path:
    return Path(path).with_name(Path(path).stem + "_downloads")


def update_holding(
    client: Any,
    package_id: str,
    into: Union[HoldingTarget, str, Path],
    *,
    schema: str = "",
    downloads: Optional[Path] = None,
    rebuild: bool = False,
    to_version: str = "",
    workers: int = 4,
    progress: Optional[Callable[[Progress], None]] = None,
    cancel: Optional[threading.Event] = None,
) -> UpdateResult:
    """Bring the holding at ``into`` up to the package's newest version, or up to
    ``to_version`` (see the module docstring)."""
    target = parse_target(into, schema)
    if not isinstance(target, GeoPackageTarget):
        if downloads is None:
            raise ConfigurationError(
                f"{target.label}: a PostgreSQL holding needs a folder for the downloaded "
                "versions (--downloads DIR)."
            )
        return _update(
            client, package_id, target, downloads, rebuild, to_version, workers, progress, cancel
        )
    if target.path.suffix.lower() != ".gpkg":
        raise ConfigurationError(
            f"{target.path}: a holding is a GeoPackage; give a .gpkg file name."
        )
    created = not target.path.exists()
    try:
        return _update(
            client, package_id, target, downloads, rebuild, to_version, workers, progress, cancel
        )
    except BaseException:
        if created:
            _remove_if_empty(target.path)
        raise


def _remove_if_empty(path: Path) -> None:
    """A holding made by a first update that failed before applying anything is removed."""
    try:
        with Holding.open(path) as holding:
            empty = not holding.applied_ids
    except (HoldingError, OSError):
        return
    if empty:
        for leftover in (path, path.with_name(path.name + "-journal")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


def _update(
    client: Any,
    package_id: str,
    target: HoldingTarget,
    downloads: Optional[Path],
    rebuild: bool,
    to_version: str,
    workers: int,
    progress: Optional[Callable[[Progress], None]],
    cancel: Optional[threading.Event],
) -> UpdateResult:
    with Holding.at(target, create=True) as holding:
        holding.check_package(package_id)
        result = UpdateResult(holding.path, package_id, label=holding.label)
        package = client.data_package(package_id)
        versions = client.data_package_versions(package_id)
        details: Dict[str, Any] = {}

        def details_of(version_id: str) -> Any:
            if version_id not in details:
                details[version_id] = client.data_package_version(package_id, version_id)
            return details[version_id]

        def predecessor(summary: Any) -> str:
            return previous_id(details_of(summary.id).previous_version_url)

        plan: ChainPlan = plan_chain(
            versions,
            holding.applied_ids,
            rebuild=rebuild,
            predecessor=predecessor,
            to_version=to_version,
        )
        result.notes += plan.notes
        if not plan.to_apply:
            result.held = holding.applied_ids
            newest = "the one asked for" if to_version else "the newest"
            result.notes.append(f"up to date: version {result.held[-1]} is {newest}")
            return result
        kind = holding.info.kind if holding.info else ""
        kind = kind or product_kind(package.product_id, package.product_name)
        root = Path(downloads) if downloads else default_downloads(holding.path)
        planned = holding.applied_ids
        fetched = []
        for version in plan.to_apply:
            job = fetch_package_version(
                client,
                package_id,
                version.id,
                dest_root=root,
                extract=False,
                workers=workers,
                progress=progress,
                cancel=cancel,
            )
            fetched.append((version, job))
        for version, job in fetched:
            _check_cancel(cancel)
            files = sorted(job.files)
            kind = kind or detect_kind(package.product_id, files, package.product_name)
            info = HoldingInfo(
                package_id=package.id or package_id,
                package_name=package.name,
                product_id=package.product_id,
                product_name=package.product_name,
                kind=kind,
                attribution=attribution((version.created_on or utc_now())[:4]),
                created_at="",
            )
            detail = details_of(version.id)
            outcome = apply_version(
                holding,
                info,
                AppliedVersion(
                    version_id=version.id,
                    created_on=version.created_on,
                    supply_type=version.supply_type,
                    reason=version.reason,
                    product_version=version.product_version,
                    previous_version_id=previous_id(detail.previous_version_url),
                    files=[
                        {"name": f.name, "size": f.size, "md5": f.md5} for f in job.manifest.files
                    ],
                ),
                files,
                progress=progress,
                cancel=cancel,
                planned=planned,
            )
            if outcome is None:
                result.notes.append(f"version {version.id} was applied by another update")
                continue
            result.applied.append(outcome)
            log.info("holding %s: applied %s %s", holding.label, version.id, outcome.totals())
        result.held = holding.applied_ids
        return result


def apply_version(
    holding: Holding,
    info: HoldingInfo,
    version: AppliedVersion,
    files: Sequence[Path],
    *,
    progress: Optional[Callable[[Progress], None]] = None,
    cancel: Optional[threading.Event] = None,
    planned: Optional[Sequence[str]] = None,
) -> Optional[AppliedOutcome]:
    """Apply one downloaded version in ONE transaction; record it in the same one.

    None when the holding has this change-only update already, or this full supply
    when it was not there as the update was ``planned`` (the versions held then):
    another update of it applied it meanwhile (checked again inside the
    transaction, once the holding's lock is ours). Otherwise a full supply is
    applied: it replaces what the holding holds."""
    full = version.supply_type.upper() != "COU"
    if not full and version.version_id in holding.applied_ids:
        return None  # a full supply is always applied: it replaces everything (--rebuild)
    started = time.monotonic()
    data_files = [f for f in files if _is_data_file(f, info.kind)]

    def relay(done: int, total: int, name: str) -> None:
        if progress is not None:
            progress(Progress(0, 0, done, total, name, 0.0, PHASE_APPLY))

    try:
        changes = _apply_in_one_transaction(
            holding, info, version, data_files, full, relay, cancel, planned
        )
    except StoreFailure as err:  # disk full, locked, connection lost, no rights
        try:
            held = holding.applied_ids
        except StoreFailure:
            held = []
        name = holding.path.name if holding.path else holding.label
        raise HoldingError(
            f"Version {version.version_id} could not be written to {name} "
            f"({err.reason}); the holding is left as it was"
            + (f", at version {held[-1]}." if held else "."),
            hint=err.hint,
        ) from None
    if changes is None:
        return None
    description = f"version {version.version_id} ({version.supply_type}, {version.created_on})"
    return AppliedOutcome(
        version.version_id, version.supply_type, description, changes, time.monotonic() - started
    )


def _apply_in_one_transaction(
    holding: Holding,
    info: HoldingInfo,
    version: AppliedVersion,
    data_files: Sequence[Path],
    full: bool,
    progress: Callable[[int, int, str], None],
    cancel: Optional[threading.Event],
    planned: Optional[Sequence[str]],
) -> Optional[Changes]:
    # A first build is built aside (appears whole or not at all), the rest in place.
    aside = full and holding.is_empty()
    with holding.built_aside() if aside else _in_transaction(holding) as into:
        into.store.lock(info.package_id, cancel)  # a second updater waits here
        applied = into.applied_ids
        if version.version_id in applied and (
            not full or (planned is not None and version.version_id not in planned)
        ):
            return None  # another update of this holding applied it meanwhile
        if full and not into.is_empty():
            into.drop_data_tables()
            into.forget_versions()
        return _apply_into(into, info, version, data_files, full, progress, cancel)


@contextlib.contextmanager
def _in_transaction(holding: Holding) -> Iterator[Holding]:
    with holding.transaction():
        yield holding


def _apply_into(
    holding: Holding,
    info: HoldingInfo,
    version: AppliedVersion,
    data_files: Sequence[Path],
    full: bool,
    relay: Callable[[int, int, str], None],
    cancel: Optional[threading.Event],
) -> Changes:
    """The version's changes and its record, inside the caller's transaction."""
    store = holding.store
    if holding.info is None or full:
        holding.claim(info)
    applier = _applier(info.kind, store, info)
    if hasattr(applier, "check_follows"):  # NGD: in productVersion date order
        applier.check_follows(holding.versions(), version, full=full)
    if full:
        applier.create_all_tables()
    if info.kind == KIND_MASTERMAP:
        changes = applier.apply(data_files, cancel=cancel, progress=relay)
    else:
        changes = applier.apply(data_files, full=full, cancel=cancel, progress=relay)
    if full:
        store.update_extents(applier.table_names)
    else:
        store.extend_extents(applier.written)
    version.changes = changes
    version.applied_at = utc_now()
    holding.record_version(version)
    return changes


def _applier(kind: str, store: Any, info: HoldingInfo) -> Any:
    description = f"{info.product_name or info.product_id} — data package {info.package_id}. "
    description += info.attribution
    if kind == KIND_MASTERMAP:
        from .topography import TopographyApplier

        return TopographyApplier(store, description)
    if kind == KIND_ADDRESSBASE:
        from .addressbase_apply import AddressBaseApplier

        return AddressBaseApplier(store, description)
    if kind == KIND_NGD:
        from .ngd_apply import NgdApplier

        return NgdApplier(store, description)
    raise UnsupportedSupplyError(f"Unknown holding kind {kind!r}.")


def _is_data_file(path: Path, kind: str) -> bool:
    name = path.name.lower()
    if kind in (KIND_ADDRESSBASE, KIND_NGD):
        return name.endswith((".csv", ".zip"))
    return name.endswith((".gz", ".gml", ".xml")) and not name.endswith(".txt")


def _check_cancel(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        from ..errors import Cancelled

        raise Cancelled("Cancelled; the holding was left at its last complete version.")
