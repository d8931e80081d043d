"""Sync for ``[[packages]]`` entries with ``holding = "path.gpkg"``: keep that holding current.

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
from .update import update_holding


def holding_path(spec: Any, dest_root: Path) -> Path:
    path = Path(str(spec["holding"])).expanduser()
    return path if path.is_absolute() else Path(dest_root) / path


def check_holding(entry: Any, plan: Any, step_type: Any, ctx: Any) -> Any:
    """Fill ``plan`` (core.sync.Plan) with the versions the holding lacks."""
    client = ctx.os_client()
    package_id = entry.spec["id"]
    path = holding_path(entry.spec, ctx.dest_root)
    applied = []
    if path.exists():
        with Holding.open(path) as holding:
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
        plan.steps.append(step_type(version.id, f"{text} into {path.name}"))
    plan.notes.extend(chain.notes)
    if not chain.to_apply:
        plan.notes.append(f"holding {path} already has the newest version {applied[-1]}")
    return plan


def apply_holding(entry: Any, step: Any, state: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
    """Download and apply one version; the report item with the holding's changes."""
    package_id = entry.spec["id"]
    path = holding_path(entry.spec, ctx.dest_root)
    result = update_holding(
        ctx.os_client(),
        package_id,
        path,
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
        "holding": str(path),
    }
    state["holding"] = str(path)
    return {
        "folder": str(folder),
        "holding": str(path),
        "changes": {
            table: {k: counts.get(k, 0) for k in ("inserted", "updated", "deleted")}
            for table, counts in changes.items()
        },
    }
