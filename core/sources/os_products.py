"""OS OpenData products: the ``"os-opendata"`` source.

A product is fetched in one format (and subformat) for one area, into
``<dest_root>/<product_id>/<version>/<format[-subformat]>/<area>/``. Its files
carry MD5s from the API; downloads are resolved through the API's 307 to the
signed storage URL. Newer means the product's ``version`` changed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..api.models import ProductDownload
from ..engine.download import DEFAULT_WORKERS, ProgressCallback
from ..engine.folders import safe_folder_name
from ..engine.manifest import SOURCE_OPENDATA, Manifest
from ..engine.pipeline import FetchPlan, JobResult, run_plan
from ..errors import BadRequestError, ConfigurationError
from ..sync.plan import (
    Entry,
    Plan,
    Step,
    SyncContext,
    no_extra,
    now,
    opt_bool,
    required_str,
    state_str,
)
from .base import ClientFor, Held, UpdateCheck, version_check


class OSProducts:
    """The OpenData products source (``core/sources/base.py`` says what each part is for)."""

    kind = SOURCE_OPENDATA
    title = "OS OpenData product"

    def __init__(self) -> None:
        self.sync = OpenDataProducts()

    def releases(self, client: Any, id: str) -> List[Any]:
        """A product has one release at a time: its current version."""
        return [client.product(id).version]

    def describe(self, client: Any, id: str) -> Any:
        return client.product(id)

    def plan_fetch(
        self,
        client: Any,
        dest_root: Path,
        *,
        product_id: str,
        format: str,
        area: str = "GB",
        subformat: Optional[str] = None,
    ) -> FetchPlan:
        product = client.product(product_id)
        the_id = product.id or product_id
        downloads = select_product_downloads(client, the_id, format, subformat, area)
        chosen = downloads[0]
        manifest = Manifest(
            source=SOURCE_OPENDATA,
            id=the_id,
            name=product.name,
            version=product.version,
            format=chosen.format,
            subformat=chosen.subformat,
            area=chosen.area,
        )
        return FetchPlan(
            folder=product_folder(
                Path(dest_root),
                the_id,
                product.version,
                chosen.format,
                chosen.subformat,
                chosen.area,
            ),
            files=[d.remote_file() for d in downloads],
            manifest=manifest,
            resolve=lambda f: client.resolve_download(f.url),
            session=client.storage_session,
        )

    def held_key(self, manifest: Manifest) -> Tuple[Tuple[str, ...], str]:
        """One product in one format/subformat/area is one thing."""
        parts = [manifest.format or "", manifest.subformat or "", manifest.area or ""]
        label = f"{manifest.id} {' '.join(p for p in parts[:2] if p)} ({parts[2] or 'GB'})"
        return (manifest.source, manifest.id, *parts), label

    def check_update(self, held: Held, client_for: ClientFor) -> UpdateCheck:
        return version_check(held, client_for(SOURCE_OPENDATA).product(held.id).version)


def fetch_product(
    client: Any,
    product_id: str,
    format: str,
    *,
    area: str = "GB",
    subformat: Optional[str] = None,
    dest_root: Path,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """Download an OpenData product's files for one format/subformat/area, then extract."""
    """Download an OpenData product's files for one format/subformat/area, then extract."""
    plan = OSProducts().plan_fetch(
        client, dest_root, product_id=product_id, format=format, area=area, subformat=subformat
    )
    return run_plan(plan, extract=extract, workers=workers, progress=progress, cancel=cancel)


def select_product_downloads(
    client: Any, product_id: str, format: str, subformat: Optional[str], area: Optional[str]
) -> List[ProductDownload]:
    """The product's downloads for the filters; a clear error listing what exists if none.

    Asks the API with the filters first; when that finds nothing (or the API
    rejects a filter), matches the full list without regard to case
    ("geopackage", "gb"). Several subformats matching (GeoTIFF Backdrop and
    Full Colour) is an error asking for one.
    """
    try:
        found = client.product_downloads(product_id, format=format, subformat=subformat, area=area)
    except BadRequestError:  # e.g. "gb": the API only knows its own spelling of an area
        found = []
    if not found:
        everything = client.product_downloads(product_id)
        found = [d for d in everything if _matches(d, format, subformat, area)]
        if not found:
            raise ConfigurationError(
                f"{product_id} has no download for format {format!r}"
                + (f", subformat {subformat!r}" if subformat else "")
                + (f", area {area!r}" if area else "")
                + ".",
                hint="Available: " + describe_downloads(everything) if everything else "",
            )
    subformats = sorted({d.subformat or "" for d in found})
    if len(subformats) > 1:
        raise ConfigurationError(
            f"{product_id} in {format!r} comes in several subformats: "
            + ", ".join(repr(s) for s in subformats if s)
            + ".",
            hint="Choose one with the subformat option.",
        )
    return found


def describe_downloads(downloads: Sequence[ProductDownload]) -> str:
    """ "GeoPackage (GB); GML 3 (GB, TQ)": each format/subformat with its areas."""
    areas: dict = {}
    for d in downloads:
        label = f"{d.format} {d.subformat}" if d.subformat else d.format
        areas.setdefault(label, [])
        if d.area not in areas[label]:
            areas[label].append(d.area)
    return "; ".join(f"{label} ({', '.join(found)})" for label, found in areas.items())


def _matches(
    d: ProductDownload, format: str, subformat: Optional[str], area: Optional[str]
) -> bool:
    def same(a: Optional[str], b: Optional[str]) -> bool:
        return (a or "").strip().casefold() == (b or "").strip().casefold()

    return (
        same(d.format, format)
        and (subformat is None or same(d.subformat, subformat))
        and (area is None or same(d.area, area))
    )


def product_folder(
    dest_root: Path,
    product_id: str,
    version: str,
    format: str,
    subformat: Optional[str],
    area: str,
) -> Path:
    kind = f"{format}-{subformat}" if subformat else format
    return (
        Path(dest_root)
        / safe_folder_name(product_id)
        / safe_folder_name(version or "unversioned")
        / safe_folder_name(kind)
        / safe_folder_name(area or "all")
    )


# --- [[products]] in a sync config ------------------------------------------------


class OpenDataProducts:
    """``[[products]]``: an OpenData product in one format and area."""

    name = "products"
    options: Tuple[str, ...] = ()
    fields = ("id", "format", "area", "subformat", "extract")

    def parse(self, raw: Mapping[str, Any], where: str) -> Entry:
        no_extra(raw, self.fields, where)
        product_id = required_str(raw, "id", where)
        fmt = required_str(raw, "format", where)
        area = str(raw.get("area") or "GB").strip()
        subformat = str(raw["subformat"]).strip() if raw.get("subformat") else None
        label = f"{product_id} {fmt}{' ' + subformat if subformat else ''} ({area})"
        return Entry(
            kind=self.name,
            key=f"products/{product_id}/{fmt}/{subformat or '-'}/{area}",
            label=label,
            spec={"id": product_id, "format": fmt, "area": area, "subformat": subformat},
            extract=opt_bool(raw.get("extract"), "extract", where, default=None),
        )

    def check(self, entry: Entry, state: Dict[str, Any], ctx: SyncContext) -> Plan:
        product = ctx.os_client().product(entry.spec["id"])
        plan = Plan(entry)
        had = state_str(state, "version", entry)
        folder = state_str(state, "folder", entry)
        if had == product.version and folder and Path(folder).is_dir():
            plan.notes.append(f"version {product.version} already fetched")
        elif had == product.version:
            plan.steps.append(
                Step(product.version, f"version {product.version} again (its folder is gone)")
            )
        elif had:
            plan.steps.append(Step(product.version, f"version {product.version} (had {had})"))
        else:
            plan.steps.append(Step(product.version, f"version {product.version}"))
        return plan

    def apply(self, entry: Entry, step: Step, state: Dict[str, Any], ctx: SyncContext) -> str:
        spec = entry.spec
        result = fetch_product(
            ctx.os_client(),
            spec["id"],
            spec["format"],
            area=spec["area"],
            subformat=spec["subformat"],
            dest_root=ctx.dest_root,
            extract=ctx.config.extract_for(entry),
            workers=ctx.config.workers,
            progress=ctx.job_progress,
            cancel=ctx.cancel,
        )
        folder = str(result.folder)
        state.update(version=result.version or step.version, folder=folder, fetched_at=now())
        return folder
