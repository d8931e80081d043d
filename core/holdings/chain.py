"""Which versions a holding still needs, and the check that none is missing.

A holding starts from the package's newest full supply and applies every
change-only update (COU) after it, oldest first. A COU applies only on top of
its predecessor (the API's ``previousVersionUrl``, else the version before it
in the API's order): if that is not the holding's last applied version, the
update is refused (``MissingVersionError``) with the way out: start again from
the newest full supply. A newer full supply than the holding's own replaces
the holding when it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from ..api.models import DataPackageVersionSummary, sort_versions_newest_first
from .errors import HoldingError, MissingVersionError


@dataclass
class ChainPlan:
    """The versions to apply, oldest first; ``rebuild``: the first one is a full supply
    that replaces what the holding holds."""

    to_apply: List[DataPackageVersionSummary] = field(default_factory=list)
    rebuild: bool = False
    newest_full: str = ""
    notes: List[str] = field(default_factory=list)


def previous_id(url: Optional[str]) -> str:
    """The version id at the end of a ``previousVersionUrl``."""
    if not url:
        return ""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def plan_chain(
    versions: Sequence[DataPackageVersionSummary],
    applied: Sequence[str],
    *,
    rebuild: bool = False,
    predecessor: Optional[Callable[[DataPackageVersionSummary], str]] = None,
    to_version: str = "",
) -> ChainPlan:
    """What to apply to a holding that holds ``applied`` (oldest first).

    ``predecessor(version)`` gives a COU's predecessor id from the API (its
    ``previousVersionUrl``); without it, or when the API gives none, the
    version before it in the API's order is its predecessor. ``to_version``:
    stop after that version (it must be one the chain reaches).
    """
    ordered = list(reversed(sort_versions_newest_first(list(versions))))
    fulls = [i for i, v in enumerate(ordered) if not v.is_change_only]
    if not fulls:
        raise HoldingError(
            "The package lists no full supply to build a holding from.",
            hint="A holding starts from a full supply; ask OS for a re-supply of the package.",
        )
    base = fulls[-1]
    plan = ChainPlan(newest_full=ordered[base].id)
    position = {v.id: i for i, v in enumerate(ordered)}
    last = applied[-1] if applied else ""
    if rebuild or not applied:
        plan.rebuild = bool(applied)
        held, pending = ordered[base].id, ordered[base + 1 :]
        plan.to_apply = [ordered[base]]
    elif last in position and position[last] >= base:
        held, pending = last, ordered[position[last] + 1 :]
    elif last in position or ordered[base].id not in applied:
        # The holding is older than the newest full supply: that supply replaces it.
        plan.rebuild = True
        plan.notes.append(
            f"full supply {ordered[base].id} is newer than this holding; it replaces the holding"
        )
        held, pending = ordered[base].id, ordered[base + 1 :]
        plan.to_apply = [ordered[base]]
    else:  # the last applied version is no longer listed: follow the links
        held = last
        pending = [v for v in ordered[base + 1 :] if v.id not in applied]
    if to_version and to_version not in position:
        raise HoldingError(f"The package lists no version {to_version}.")
    if to_version and to_version in applied and not plan.rebuild and not rebuild:
        plan.to_apply = []
        return plan
    if to_version and position[to_version] < base:
        raise HoldingError(
            f"Version {to_version} is older than the newest full supply "
            f"({plan.newest_full}); a holding starts from that full supply."
        )
    if plan.to_apply and plan.to_apply[0].id == to_version:
        return plan

    def wanted_before(version: DataPackageVersionSummary) -> str:
        return (predecessor(version) if predecessor else "") or _before(ordered, version)

    for version in pending:
        wanted = wanted_before(version)
        if wanted != held:
            after_full = ordered[base + 1 :]
            intact = all(wanted_before(v) == _before(ordered, v) for v in after_full)
            raise MissingVersionError(
                version.id,
                wanted or "(unknown)",
                "" if plan.to_apply else held,
                plan.newest_full,
                rebuild_helps=intact and not plan.to_apply,
            )
        plan.to_apply.append(version)
        held = version.id
        if version.id == to_version:
            break
    return plan


def _before(ordered: List[DataPackageVersionSummary], version: DataPackageVersionSummary) -> str:
    index = next(i for i, v in enumerate(ordered) if v.id == version.id)
    return ordered[index - 1].id if index > 0 else ""
