"""Sync for ``[[packages]]`` entries with ``holding = "path.gpkg"`` (or ``holding =
"postgresql://…"`` / ``"PG:service=name"`` with ``schema = "…"``): keep that holding current.

``core/sync.py`` hands such entries here (imported only then). The plan is
what the *holding* lacks (the chain, ``chain.plan_chain``), not what the sync
state says was fetched; each step downloads one version into the usual
version folder under ``dest_root`` (``packages/<id>/<version>/``, files as
downloaded) and applies it to the holding in one transaction. The step's
report entry carries the holding's path and, per table, how many features or
records it inserted, updated and deleted.

A relative holding path is relative to ``dest_root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from ..sources.os_packages import package_folder
from .chain import plan_chain, previous_id
from .holding import Holding
from .target import GeoPackageTarget, HoldingTarget, parse_target
from .update import update_holding


def holding_target(spec: Any, dest_root: Path) -> HoldingTarget:
    target = parse_target(str(spec["holding"]), str(spec.get("schema") or ""))
    if isinstance(target, GeoPackageTarget) and not target.path.is_absolute():
        return GeoPackageTarget(Path(dest_root) / target.path)
    return target


def _exists(target: HoldingTarget) -> bool:
    return not isinstance(target, GeoPackageTarget) or target.path.exists()


def check_holding(entry: Any, plan: Any, step_type: Any, ctx: Any) -> Any:
    """Fill ``plan`` (core.sync.Plan) with the versions the holding lacks."""
    client = ctx.os_client()
    package_id = entry.spec["id"]
    target = holding_target(entry.spec, ctx.dest_root)
    name = target.path.name if isinstance(target, GeoPackageTarget) else target.label
    applied = []
    if _exists(target):
        with Holding.at(target, create=True) as holding:
            holding.check_package(package_id)
            applied = holding.applied_ids
    versions = client.data_package_versions(package_id)
    chain = plan_chain(
        versions,
        applied,
        predecessor=lambda v: previous_id(
            client.data_package_version(package_id, v.id).previous_version_url
        ),
    )
    for version in chain.to_apply:
        text = f"version {version.id} ({version.supply_type}, {version.created_on})"
        plan.steps.append(step_type(version.id, f"{text} into {name}"))
    plan.notes.extend(chain.notes)
    if not chain.to_apply:
        plan.notes.append(f"holding {target.label} already has the newest version {applied[-1]}")
    return plan


def apply_holding(entry: Any, step: Any, state: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
    """Download and apply one version; the report item with the holding's changes."""
    package_id = entry.spec["id"]
    target = holding_target(entry.spec, ctx.dest_root)
    result = update_holding(
        ctx.os_client(),
        package_id,
        target,
        downloads=ctx.dest_root,
        to_version=step.version,
        workers=ctx.config.workers,
        progress=ctx.job_progress,
        cancel=ctx.cancel,
    )
    changes: Dict[str, Dict[str, int]] = {}
    for outcome in result.applied:
        changes = outcome.changes
    folder = package_folder(Path(ctx.dest_root), package_id, step.version)
    state.setdefault("fetched", {})[step.version] = {
        "description": step.description,
        "folder": str(folder),
        "holding": target.label,
    }
    state["holding"] = target.label
    return {
        "folder": str(folder),
        "holding": target.label,
        "changes": {
            table: {k: counts.get(k, 0) for k in ("inserted", "updated", "deleted")}
            for table, counts in changes.items()
        },
    }
