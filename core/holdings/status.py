"""What a holding holds, and (asked of the API) what it still lacks: ``holding status``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .chain import plan_chain, previous_id
from .holding import AppliedVersion, Holding, HoldingInfo
from .target import HoldingTarget, parse_target


@dataclass
class HoldingStatus:
    path: Optional[Path]  # a GeoPackage's file; None for a PostgreSQL holding
    info: Optional[HoldingInfo]
    versions: List[AppliedVersion]
    pending: List[str] = field(default_factory=list)  # descriptions; None-like when unknown
    pending_error: str = ""
    checked: bool = False
    counts: Dict[str, int] = field(default_factory=dict)
    label: str = ""  # the file, or the database and schema: for people

    def to_json(self) -> Dict[str, Any]:
        info = self.info
        return {
            "holding": self.label or str(self.path),
            "package": info.package_id if info else None,
            "package_name": info.package_name if info else None,
            "product": info.product_id if info else None,
            "product_name": info.product_name if info else None,
            "kind": info.kind if info else None,
            "attribution": info.attribution if info else None,
            "versions": [
                {
                    "version": v.version_id,
                    "created_on": v.created_on,
                    "supply_type": v.supply_type,
                    "reason": v.reason,
                    "product_version": v.product_version,
                    "previous_version": v.previous_version_id,
                    "files": v.files,
                    "changes": v.changes,
                    "applied_at": v.applied_at,
                }
                for v in self.versions
            ],
            "tables": self.counts,
            "pending": self.pending if self.checked else None,
            "pending_error": self.pending_error or None,
        }


def holding_status(
    into: Union[HoldingTarget, str, Path], client: Any = None, *, schema: str = ""
) -> HoldingStatus:
    """What the holding holds; with a client, what is pending (an API failure is noted)."""
    from ..errors import OSDownloadsError, describe

    with Holding.at(parse_target(into, schema)) as holding:
        info = holding.info
        status = HoldingStatus(holding.path, info, holding.versions(), label=holding.label)
        status.counts = {t: holding.count(t) for t in holding.data_tables()}
        if client is None or info is None:
            return status
        try:
            versions = client.data_package_versions(info.package_id)
            plan = plan_chain(
                versions,
                holding.applied_ids,
                predecessor=lambda v: previous_id(
                    client.data_package_version(info.package_id, v.id).previous_version_url
                ),
            )
            status.pending = [
                f"version {v.id} ({v.supply_type}, {v.created_on})" for v in plan.to_apply
            ]
            status.checked = True
        except OSDownloadsError as err:
            status.pending_error = describe(err)
        return status
