"""Several 100 km squares of one product in one job with one progress.

Each square keeps its own folder and manifest (``os_products.fetch_product``), so
what is on disk is the same whether squares were fetched together or alone;
the progress handed on covers the whole set: bytes of all squares' files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..api.models import ProductDownload
from ..engine.download import DEFAULT_WORKERS
from ..engine.pipeline import JobResult
from ..engine.progress import PHASE_DOWNLOAD, PHASE_VERIFY, Progress
from ..errors import ConfigurationError
from ..sources.os_products import fetch_product
from . import bng


@dataclass(frozen=True)
class AreaChoice:
    """What to fetch: one product in one format, several areas."""

    product_id: str
    format: str
    areas: tuple
    subformat: Optional[str] = None


def normalise_areas(areas: Sequence[str]) -> List[str]:
    """Upper case, each once, in the order given; an empty list is an error."""
    seen: List[str] = []
    for area in areas:
        name = (area or "").strip().upper()
        if name and name not in seen:
            seen.append(name)
    if not seen:
        raise ConfigurationError("No area was chosen.", hint="Choose at least one square.")
    return seen


def select_area_downloads(
    downloads: Sequence[ProductDownload],
    format: str,
    subformat: Optional[str],
    areas: Sequence[str],
) -> Dict[str, List[ProductDownload]]:
    """From one listing of a product's files: each chosen area's files in the format.

    An area the format is not offered for is an error naming the areas that are."""
    wanted = normalise_areas(areas)

    def same(a: Optional[str], b: Optional[str]) -> bool:
        return (a or "").strip().casefold() == (b or "").strip().casefold()

    in_format = [
        d
        for d in downloads
        if same(d.format, format) and (subformat is None or same(d.subformat, subformat))
    ]
    subformats = sorted({d.subformat or "" for d in in_format})
    if len(subformats) > 1:
        raise ConfigurationError(
            f"{format} comes in several subformats: "
            + ", ".join(repr(s) for s in subformats if s)
            + ".",
            hint="Choose one with the subformat option.",
        )
    chosen: Dict[str, List[ProductDownload]] = {}
    for area in wanted:
        chosen[area] = [d for d in in_format if same(d.area, area)]
    missing = [a for a, found in chosen.items() if not found]
    if missing:
        offered = sorted({d.area for d in in_format})
        raise ConfigurationError(
            f"{format} is not offered for {', '.join(missing)}.",
            hint=("Offered: " + ", ".join(offered)) if offered else "",
        )
    return chosen


def areas_in_bbox(downloads: Sequence[ProductDownload], format: str, box: bng.BBox) -> List[str]:
    """The offered squares (in ``format``) a box in EPSG:27700 touches."""
    fmt = format.casefold()
    offered = {d.area.upper() for d in downloads if (d.format or "").casefold() == fmt}
    found = [sq.name for sq in bng.squares_in_bbox(box, among=offered)]
    if not found:
        raise ConfigurationError(
            f"The box touches no square offered in {format}.",
            hint="Offered: " + ", ".join(sorted(offered)) if offered else "",
        )
    return found


def fetch_product_areas(
    client: Any,
    product_id: str,
    format: str,
    areas: Sequence[str],
    *,
    subformat: Optional[str] = None,
    dest_root: Path,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[Any] = None,
    cancel: Optional[threading.Event] = None,
) -> List[JobResult]:
    """Fetch each area in turn; ``progress`` sees one job over all their bytes."""
    chosen = select_area_downloads(client.product_downloads(product_id), format, subformat, areas)
    sizes = {area: sum(d.size or 0 for d in files) for area, files in chosen.items()}
    counts = {area: len(files) for area, files in chosen.items()}
    total_bytes, total_files = sum(sizes.values()), sum(counts.values())
    results: List[JobResult] = []
    bytes_before = files_before = 0
    for area in chosen:

        def relay(
            p: Progress,
            _bytes: int = bytes_before,
            _files: int = files_before,
            _size: int = sizes[area],
            _count: int = counts[area],
        ) -> None:
            if progress is None:
                return
            if p.phase in (PHASE_DOWNLOAD, PHASE_VERIFY):
                done, files = _bytes + p.bytes_done, _files + min(p.files_done, _count)
            else:  # extraction and discovery: this area's files are all in
                done, files = _bytes + _size, _files + _count
            progress(
                replace(
                    p,
                    bytes_done=min(done, total_bytes) if total_bytes else 0,
                    bytes_total=total_bytes,
                    files_done=files,
                    files_total=total_files,
                )
            )

        results.append(
            fetch_product(
                client,
                product_id,
                format,
                area=area,
                subformat=subformat,
                dest_root=dest_root,
                extract=extract,
                workers=workers,
                progress=relay,
                cancel=cancel,
            )
        )
        bytes_before += sizes[area]
        files_before += counts[area]
    return results


MERGED_FOLDER = "merged"


def merged_path(format_folder: Path, areas: Sequence[str]) -> Path:
    """Where several squares' merge goes: ``<product>/<version>/<format>/merged/TL-TQ.gpkg``
    (the dock and ``download --merge`` write the same file)."""
    name = "-".join(sorted({a.upper() for a in areas})) or "all"
    return Path(format_folder) / MERGED_FOLDER / f"{name}.gpkg"
