"""``os-downloads trud ...``: NHS TRUD release lists and downloads on the command line.

::

    os-downloads trud releases ITEM [--latest] [--json]
    os-downloads trud download ITEM [--release ID|latest] --dest DIR [--extract]
                               [--no-signature] [--trusted-fingerprint FPR]... [--json]

The key comes from the environment variable ``TRUD_API_KEY`` (as TRUD's own
sample scripts read it; never an option, which other users could see in the
process list), the API from ``--trud-url`` or ``TRUD_API_URL``. ITEM is the
item number or the item's TRUD releases web address. Listed in
``cli/main.py``'s ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..formatting import format_bytes, format_size
from ..safe_text import safe_line
from ..sources.trud.client import BASE_URL_ENV, KEY_ENV, TrudClient, TrudRelease
from ..sources.trud.signature import require_verifier
from .context import EXIT_OK, CliContext, ctx_parent
from .output import ProgressBar, job_json


def register(commands: Any) -> None:
    trud = commands.add_parser(
        "trud",
        help="NHS TRUD: list and download releases (key: env TRUD_API_KEY)",
        description="NHS TRUD release lists and downloads. The API key is read from the "
        f"environment variable {KEY_ENV}; the API URL from --trud-url or {BASE_URL_ENV}.",
    )
    actions = trud.add_subparsers(dest="trud_command", metavar="ACTION")
    actions.required = True
    parent = ctx_parent()

    def add(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text, parents=[parent])
        sub.add_argument("item", metavar="ITEM", help="item number (or its TRUD releases address)")
        sub.add_argument("--trud-url", default=None, help=f"TRUD API base URL (env {BASE_URL_ENV})")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
        return sub

    sub = add("releases", cmd_releases, "list an item's releases, newest first")
    sub.add_argument("--latest", action="store_true", help="only the newest release")

    sub = add("download", cmd_download, "download (and check) one release of an item")
    sub.add_argument(
        "--release", default="latest", metavar="ID", help="release id (default: latest)"
    )
    sub.add_argument("--dest", required=True, type=Path, help="folder to download into")
    sub.add_argument("--extract", action="store_true", help="unzip after downloading")
    sub.add_argument(
        "--no-signature",
        dest="signature",
        action="store_false",
        help="do not fetch and check the PGP-signed checksum file (SHA-256 is always checked)",
    )
    sub.add_argument(
        "--trusted-fingerprint",
        action="append",
        default=[],
        metavar="FPR",
        help="accept signatures only from this key (repeatable)",
    )


def _client(ctx: CliContext) -> TrudClient:
    url = ctx.args.trud_url or ctx.env.get(BASE_URL_ENV) or None
    return TrudClient(ctx.env.get(KEY_ENV), url, cancel=ctx.cancel)


def cmd_releases(ctx: CliContext) -> int:
    client = _client(ctx)
    try:
        releases = client.releases(ctx.args.item, latest=ctx.args.latest)
    finally:
        client.session.close()
    if ctx.json:
        ctx.print_json([r.to_json() for r in releases])
        return EXIT_OK
    ctx.print_table(
        ("RELEASE", "DATE", "SIZE", "ID", "ARCHIVE"),
        [(r.name, r.release_date, format_size(r.size), r.id, _archive_if_new(r)) for r in releases],
    )
    return EXIT_OK


def _archive_if_new(release: TrudRelease) -> str:
    """The archive's name when the id does not already say it."""
    return "" if release.archive.file_name == release.id else release.archive.file_name


def cmd_download(ctx: CliContext) -> int:
    from ..sources.trud.fetch import fetch_trud_release

    args = ctx.args
    if args.signature:
        require_verifier(args.trusted_fingerprint)  # before anything is downloaded
    client = _client(ctx)
    bar = ctx.progress()
    started = time.monotonic()
    try:
        result = fetch_trud_release(
            client,
            args.item,
            args.release,
            dest_root=args.dest,
            extract=args.extract,
            verify_signature=args.signature,
            trusted_fingerprints=args.trusted_fingerprint,
            workers=min(ctx.workers, 4),
            progress=bar,
            cancel=ctx.cancel,
        )
    finally:
        if isinstance(bar, ProgressBar):
            bar.close()
        client.session.close()
    signature = result.signature
    if ctx.json:
        data = job_json(result.job)
        data["release"] = result.release.to_json()
        data["signature"] = signature.to_json() if signature else None
        data["tables"] = result.manifest.extra.get("tables", [])
        ctx.print_json(data)
        return EXIT_OK
    download = result.download
    release = result.release
    ctx.say(
        f"{safe_line(release.name)} ({safe_line(release.release_date)}) of TRUD item "
        f"{release.item}: {download.downloaded_count} downloaded "
        f"({format_bytes(download.bytes_transferred)}), {download.skipped_count} already there, "
        f"in {time.monotonic() - started:.1f}s: {safe_line(result.folder)}"
    )
    ctx.say("SHA-256 checked: " + safe_line(release.archive.file_name))
    if signature is not None:
        stream = ctx.stdout if signature.checked else ctx.stderr
        prefix = "" if signature.checked else "warning: "
        print(prefix + safe_line(signature.message), file=stream)
    for table in result.tables:
        where = table.path.relative_to(result.folder).as_posix()
        postcode = f" (postcodes in {table.postcode_column})" if table.postcode_column else ""
        ctx.say(safe_line(f"  table {where}{postcode}"))
    return EXIT_OK
