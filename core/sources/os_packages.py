"""OS data packages (premium and public-sector data): the ``"os-package"`` source.

Each version of a package is fetched into
``<dest_root>/packages/<package_id>/<version_id>/``; its files carry MD5s and
are resolved through the API like products. Newer means versions created
after the newest one held; sync fetches the newest full supply and then each
change-only update after it, in order.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..api.models import LATEST, DataPackageVersionSummary, sort_versions_newest_first
from ..engine.download import DEFAULT_WORKERS, ProgressCallback
from ..engine.folders import safe_folder_name
from ..engine.manifest import SOURCE_PACKAGE, Manifest
from ..engine.pipeline import FetchPlan, JobResult, run_plan
from ..errors import ConfigurationError
from ..sync.plan import (
    Entry,
    Plan,
    Step,
    SyncContext,
    no_extra,
    now,
    opt_bool,
    required_str,
    state_warning,
)
from .base import CURRENT, UPDATE, ClientFor, Held, UpdateCheck, default_held_key

PACKAGES_FOLDER = "packages"


class OSPackages:
    """The data packages source (``core/sources/base.py`` says what each part is for)."""

    kind = SOURCE_PACKAGE
    title = "OS data package"

    def __init__(self) -> None:
        self.sync = DataPackages()

    def releases(self, client: Any, id: str) -> List[Any]:
        """The package's versions, newest first."""
        return list(client.data_package_versions(id))

    def describe(self, client: Any, id: str) -> Any:
        return client.data_package(id)

    def plan_fetch(
        self, client: Any, dest_root: Path, *, package_id: str, version_id: str = LATEST
    ) -> FetchPlan:
        package = client.data_package(package_id)
        version = client.data_package_version(package_id, version_id or LATEST)
        files = [d.remote_file() for d in version.downloads]
        if not files:
            raise ConfigurationError(
                f"Version {version.id} of data package {package_id} has no files."
            )
        manifest = Manifest(
            source=SOURCE_PACKAGE,
            id=package.id or package_id,
            name=package.name,
            version=version.id,
            format=version.format or None,
            reason=version.reason or None,
            supply_type=version.supply_type or None,
            product_id=package.product_id or None,
            product_version=version.product_version or None,
            extra={"created_on": version.created_on, "product_name": package.product_name},
        )
        return FetchPlan(
            folder=package_folder(Path(dest_root), package.id or package_id, version.id),
            files=files,
            manifest=manifest,
            resolve=lambda f: client.resolve_download(f.url),
            session=client.storage_session,
        )

    def held_key(self, manifest: Manifest) -> Tuple[Tuple[str, ...], str]:
        return default_held_key(manifest)

    def check_update(self, held: Held, client_for: ClientFor) -> UpdateCheck:
        versions = client_for(SOURCE_PACKAGE).data_package_versions(held.id)
        ordered = list(reversed(sort_versions_newest_first(list(versions))))
        ids = [v.id for v in ordered]
        positions = [ids.index(v) for v in set(held.versions) if v in ids]
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


def fetch_package_version(
    client: Any,
    package_id: str,
    version_id: str = LATEST,
    *,
    dest_root: Path,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """Download one version of a premium data package (default: the newest), then extract."""
    """Download one version of a premium data package (default: the newest), then extract."""
    plan = OSPackages().plan_fetch(client, dest_root, package_id=package_id, version_id=version_id)
    return run_plan(plan, extract=extract, workers=workers, progress=progress, cancel=cancel)


def package_folder(dest_root: Path, package_id: str, version_id: str) -> Path:
    return (
        Path(dest_root)
        / PACKAGES_FOLDER
        / safe_folder_name(package_id)
        / safe_folder_name(version_id)
    )


# --- [[packages]] in a sync config ------------------------------------------------


class DataPackages:
    """``[[packages]]``: every new version of a premium data package, in order."""

    name = "packages"
    options: Tuple[str, ...] = ()
    fields = ("id", "extract", "holding", "schema")

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry:
        no_extra(raw, self.fields, where)
        package_id = required_str(raw, "id", where)
        holding = required_str(raw, "holding", where) if "holding" in raw else None
        schema = required_str(raw, "schema", where) if "schema" in raw else ""
        shown = holding
        if holding:
            from ..holdings.target import holding_in_config  # on demand: holdings are big

            shown = holding_in_config(holding, schema, where)
        return Entry(
            kind=self.name,
            key=f"packages/{package_id}",
            label=f"package {package_id}" + (f" -> {shown}" if holding else ""),
            spec={"id": package_id, "holding": holding, "schema": schema},
            extract=opt_bool(raw.get("extract"), "extract", where, default=None),
        )

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan:
        if entry.spec.get("holding"):  # loaded on demand: holdings need GDAL
            from ..holdings.sync import check_holding

            return check_holding(entry, Plan(entry), Step, ctx)
        versions = ctx.os_client().data_package_versions(entry.spec["id"])
        fetched = state.get("fetched", {})
        if not isinstance(fetched, dict):
            state_warning(entry, "fetched", fetched)
            fetched = state["fetched"] = {}
        plan = Plan(entry)
        wanted, superseded = versions_to_fetch(versions, set(fetched))
        for version in wanted:
            plan.steps.append(Step(version.id, _describe_version(version)))
        if superseded:
            plan.notes.append(
                f"{len(superseded)} older version(s) superseded by a later full supply, not fetched"
            )
        if not wanted:
            newest = versions[0].id if versions else "none"
            plan.notes.append(f"newest version {newest} already fetched")
        return plan

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> Any:
        """The folder written, or for a holding a dict with it and what each table changed."""
        if entry.spec.get("holding"):
            from ..holdings.sync import apply_holding

            return apply_holding(entry, step, state, ctx)  # {folder, holding, changes}
        result = fetch_package_version(
            ctx.os_client(),
            entry.spec["id"],
            step.version,
            dest_root=ctx.dest_root,
            extract=ctx.config.extract_for(entry),
            workers=ctx.config.workers,
            progress=ctx.job_progress,
            cancel=ctx.cancel,
        )
        folder = str(result.folder)
        state.setdefault("fetched", {})[step.version] = {
            "description": step.description,
            "folder": folder,
            "fetched_at": now(),
        }
        return folder


def versions_to_fetch(
    versions: List[DataPackageVersionSummary], fetched: set
) -> Tuple[List[DataPackageVersionSummary], List[DataPackageVersionSummary]]:
    """(to fetch oldest first, superseded and skipped) for a package's versions.

    The newest full supply is the base: fetched first if it never was, then
    every change-only update after it in order. Unfetched versions before the
    base are superseded by it. With no full supply at all, every unfetched
    version is fetched in order.
    """
    ordered = list(reversed(sort_versions_newest_first(list(versions))))
    fulls = [i for i, v in enumerate(ordered) if not v.is_change_only]
    base = fulls[-1] if fulls else 0
    wanted = [v for v in ordered[base:] if v.id not in fetched]
    superseded = [v for v in ordered[:base] if v.id not in fetched]
    return wanted, superseded


def _describe_version(version: DataPackageVersionSummary) -> str:
    bits = [b for b in (version.supply_type, version.reason, version.created_on) if b]
    text = f"version {version.id}"
    if bits:
        text += f" ({', '.join(bits)})"
    if version.product_version:
        text += f" {version.product_version}"
    return text
