"""Several areas in one download, a box, and what is on disk (the command line's side).

- ``download``: ``--area`` may be given more than once, ``--bbox E1,N1,E2,N2``
  adds the offered 100 km squares the box touches, ``--merge`` writes the
  merged GeoPackage beside the files (one table per feature type, tile-edge
  duplicates once); with one area and no ``--merge`` it is the plain download.
- ``downloads [--dest DIR]... [--json] [--check] [--verify]``: what is on disk,
  with the same states as the dock's My downloads.

Merging needs GDAL, which core/ may not import: ``cmd_download_areas`` takes the
merge as a function (``merge_writer(datasets, out_path) -> result with .path and
.tables``); the program's entry point (the root ``__main__.py``) hands in
``integration.merge.merge_vector_datasets``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..engine.manifest import SOURCE_OPENDATA, SOURCE_PACKAGE
from ..errors import ConfigurationError
from ..formatting import format_bytes
from ..grid.bng import parse_bbox
from ..grid.multi_area import areas_in_bbox, fetch_product_areas, merged_path, normalise_areas
from ..local.inventory import attach_updates, list_downloads
from ..safe_text import safe_line
from ..sources.updates import check_updates, find_manifests, group_manifests

MergeWriter = Callable[[List[Any], Path], Any]


def add_area_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--area",
        action="append",
        default=None,
        help="GB or a 100 km square such as TQ; give it more than once for several",
    )
    sub.add_argument(
        "--bbox",
        default=None,
        metavar="E1,N1,E2,N2",
        help="the 100 km squares this box touches (metres, EPSG:27700)",
    )
    sub.add_argument(
        "--merge",
        action="store_true",
        help="merge the squares' vector files into one GeoPackage, one table per feature type",
    )


def resolve_areas(client: Any, product_id: str, format: str, args: argparse.Namespace) -> List[str]:
    """``--area`` values plus the squares of ``--bbox``; GB when neither is given."""
    areas = list(getattr(args, "area", None) or [])
    if getattr(args, "bbox", None):
        box = parse_bbox(args.bbox)
        areas += areas_in_bbox(client.product_downloads(product_id), format, box)
    return normalise_areas(areas or ["GB"])


def cmd_download_areas(ctx: Any, merge_writer: Optional[MergeWriter] = None) -> int:
    args = ctx.args
    client = ctx.client()
    areas = resolve_areas(client, args.product_id, args.format, args)
    if args.merge and merge_writer is None:
        raise ConfigurationError(
            "--merge needs GDAL's Python bindings (osgeo), which were not found.",
            hint="Run the command with the Python that QGIS uses, or leave --merge out.",
        )
    bar = ctx.progress()
    results = fetch_product_areas(
        client,
        args.product_id,
        args.format,
        areas,
        subformat=args.subformat,
        dest_root=args.dest,
        extract=args.extract or args.merge,
        workers=ctx.workers,
        progress=bar,
        cancel=ctx.cancel,
    )
    if hasattr(bar, "close"):
        bar.close()
    merged = None
    if args.merge and merge_writer is not None:
        datasets = [d for r in results for d in r.datasets if not getattr(d, "problem", None)]
        merged = merge_writer(datasets, merged_path(results[0].folder.parent, areas))
    if ctx.json:
        ctx.print_json(
            {
                "areas": areas,
                "results": [
                    {
                        "area": r.manifest.area,
                        "folder": str(r.folder),
                        "downloaded": r.downloaded_count,
                        "skipped": r.skipped_count,
                    }
                    for r in results
                ],
                "merged": _merged_json(merged),
            }
        )
        return 0
    for r in results:
        ctx.say(
            f"{r.manifest.area}: {r.downloaded_count} downloaded, {r.skipped_count} already "
            f"there: {safe_line(r.folder)}"
        )
    if merged is not None:
        ctx.say(f"Merged into {safe_line(merged.path)}:")
        for table in merged.tables:
            ctx.say(
                f"  {table.table}: {table.features} features "
                f"({table.duplicates} duplicates across square edges left out)"
            )
    return 0


def _merged_json(merged: Any) -> Optional[Dict[str, Any]]:
    if merged is None:
        return None
    return {
        "path": str(merged.path),
        "tables": {
            t.table: {"features": t.features, "duplicates": t.duplicates} for t in merged.tables
        },
    }


def register(commands: Any) -> None:
    from .context import ctx_parent

    help_text = "list what is already downloaded, with its state"
    sub = commands.add_parser(
        "downloads", help=help_text, description=help_text, parents=[ctx_parent()]
    )
    sub.add_argument(
        "--dest", action="append", type=Path, required=True, help="a download folder (repeatable)"
    )
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.add_argument("--check", action="store_true", help="ask the API for updates")
    sub.add_argument("--verify", action="store_true", help="re-hash every file")
    sub.set_defaults(handler=cmd_downloads)


def cmd_downloads(ctx: Any) -> int:
    args = ctx.args
    roots = list(args.dest)
    items = list_downloads(roots, rehash=bool(getattr(args, "verify", False)))
    if getattr(args, "check", False):
        paths = [p for root in roots if Path(root).is_dir() for p in find_manifests(Path(root))]

        def client_for(source: str) -> Any:
            if source in (SOURCE_OPENDATA, SOURCE_PACKAGE):
                return ctx.client()
            raise ConfigurationError(f"Checking {source} downloads is not supported here.")

        attach_updates(items, check_updates(group_manifests(paths), client_for))
    if ctx.json:
        ctx.print_json([item.to_json() for item in items])
        return 0
    ctx.print_table(
        ("NAME", "VERSION", "FORMAT", "AREA", "SIZE", "WHEN", "VERIFIED", "STATE"),
        [
            (
                i.title,
                i.manifest.version,
                i.kind,
                i.area,
                format_bytes(i.size_on_disk),
                i.manifest.created_at,
                "yes" if i.verified else "no",
                i.state,
            )
            for i in items
        ],
    )
    return 0
