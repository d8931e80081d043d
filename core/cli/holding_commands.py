"""``os-downloads holding update|status``: keep a data package current in one GeoPackage
or PostGIS schema.

::

    holding update PKG --into (PATH.gpkg | postgresql://… | PG:service=NAME) [--schema NAME]
                   [--to VERSION] [--downloads DIR] [--rebuild] [--json]
    holding status (PATH.gpkg | postgresql://… | PG:…) [--schema NAME] [--json] [--offline]

``update`` exits 0 when it applied something, 10 when the holding was already
current, 1 when it failed (one ``error:`` line; the holding is left at its last
complete version), 2 for a bad command line. ``status`` prints the package,
the product, the applied versions and, when the API answers, what is pending.

This module imports nothing of the holding engine at import time: the rest of
the command line loads without it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_NOTHING_NEW = 10
DEFAULT_DOWNLOADS = "holdings"  # a PostgreSQL holding's downloads: holdings/<package id>/


def register(commands: Any) -> None:
    from .context import ctx_parent

    parent = ctx_parent()
    holding = commands.add_parser(
        "holding",
        help="keep a data package current in one GeoPackage or PostGIS schema "
        "(MasterMap, AddressBase Premium, OS NGD)",
        description="A holding is one GeoPackage (or one PostGIS schema) per data package: "
        "built from the newest full supply, kept current by applying each change-only update "
        "in order. A PostgreSQL database is named as postgresql://USER@HOST:PORT/DB or "
        "PG:service=NAME (or PG:'dbname=DB host=HOST user=USER'); keep its password in "
        "~/.pgpass or a service file, not on the command line.",
    )
    actions = holding.add_subparsers(dest="holding_command", metavar="ACTION")
    actions.required = True

    update = actions.add_parser(
        "update",
        parents=[parent],
        help="download and apply the versions the holding lacks",
        description="Download and apply, oldest first, every version the holding lacks. "
        "Exit codes: 0 updated, 10 nothing new, 1 failed, 2 usage.",
    )
    update.add_argument("package_id", metavar="PACKAGE_ID")
    update.add_argument(
        "--into",
        required=True,
        metavar="PATH.gpkg|postgresql://…|PG:service=NAME",
        help="the GeoPackage file, or the PostgreSQL + PostGIS database, of the holding",
    )
    update.add_argument(
        "--schema",
        default="",
        metavar="NAME",
        help="a PostgreSQL holding's schema (default public; made if missing)",
    )
    update.add_argument(
        "--downloads",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the version files are downloaded (default: beside a GeoPackage holding; "
        f"for a PostgreSQL one {DEFAULT_DOWNLOADS}/PACKAGE_ID/ under the current folder)",
    )
    update.add_argument(
        "--rebuild",
        action="store_true",
        help="start again from the newest full supply (replaces what the holding holds)",
    )
    update.add_argument(
        "--to", dest="to_version", default="", metavar="VERSION", help="stop after this version"
    )
    update.add_argument("--json", action="store_true", help="print JSON")
    update.set_defaults(handler=cmd_update)

    status = actions.add_parser(
        "status",
        parents=[parent],
        help="what a holding holds and what is pending",
        description="The package, the product and the applied versions of a holding; "
        "what is pending when the API is reachable.",
    )
    status.add_argument("path", metavar="PATH.gpkg|postgresql://…|PG:service=NAME")
    status.add_argument(
        "--schema",
        default="",
        metavar="NAME",
        help="a PostgreSQL holding's schema (default public)",
    )
    status.add_argument("--offline", action="store_true", help="do not ask the API")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=cmd_status)


def cmd_update(ctx: Any) -> int:
    from ..holdings.target import GeoPackageTarget, parse_target
    from ..holdings.update import update_holding
    from .output import ProgressBar

    args: argparse.Namespace = ctx.args
    target = parse_target(args.into, args.schema)
    downloads = args.downloads
    if downloads is None and not isinstance(target, GeoPackageTarget):
        downloads = Path(DEFAULT_DOWNLOADS) / args.package_id
    bar = ctx.progress()
    try:
        result = update_holding(
            ctx.client(),
            args.package_id,
            target,
            downloads=downloads,
            rebuild=args.rebuild,
            to_version=args.to_version,
            workers=ctx.workers,
            progress=bar,
            cancel=ctx.cancel,
        )
    finally:
        if isinstance(bar, ProgressBar):
            bar.close()
    if ctx.json:
        ctx.print_json(result.to_json())
    else:
        for outcome in result.applied:
            totals = outcome.totals()
            ctx.say(
                f"applied {outcome.description}: {totals['inserted']} inserted, "
                f"{totals['updated']} updated, {totals['deleted']} deleted, "
                f"{totals['ignored']} unchanged ({outcome.seconds:.1f}s)"
            )
        for note in result.notes:
            ctx.say(note)
        ctx.say(f"{result.label}: holds {', '.join(result.held) or 'nothing'}")
    return EXIT_OK if result.updated else EXIT_NOTHING_NEW


def cmd_status(ctx: Any) -> int:
    from ..errors import ConfigurationError
    from ..holdings.status import holding_status
    from ..holdings.target import GeoPackageTarget, parse_target

    args: argparse.Namespace = ctx.args
    target = parse_target(args.path, args.schema)
    if isinstance(target, GeoPackageTarget) and not target.path.exists():
        raise ConfigurationError(f"{args.path} does not exist.", hint="Run holding update first.")
    client = None if args.offline else ctx.client()
    status = holding_status(target, client)
    if ctx.json:
        ctx.print_json(status.to_json())
        return EXIT_OK
    info = status.info
    out = ctx.stdout
    if info is None:
        print(f"{status.label}: an empty holding (no version applied yet)", file=out)
        return EXIT_OK
    print(f"Holding:  {status.label}", file=out)
    print(f"Package:  {info.package_id} {info.package_name}", file=out)
    print(f"Product:  {info.product_id} {info.product_name}", file=out)
    ctx.print_table(
        ("VERSION", "CREATED", "SUPPLY", "PRODUCT VERSION", "APPLIED"),
        [
            (v.version_id, v.created_on, v.supply_type, v.product_version, v.applied_at)
            for v in status.versions
        ],
    )
    for table, count in status.counts.items():
        print(f"  {table}: {count}", file=out)
    if status.checked:
        pending = ", ".join(status.pending) if status.pending else "nothing: up to date"
        print(f"Pending:  {pending}", file=out)
    elif status.pending_error:
        print(f"Pending:  unknown ({status.pending_error})", file=out)
    print(f"Attribution: {info.attribution}", file=out)
    return EXIT_OK
