"""The OS commands: OpenData products and data packages (``products`` ... ``download-package``).

``register(commands)`` adds them to the parser (``main.COMMANDS``).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

from ..formatting import format_bytes, format_size
from ..safe_text import safe_block, safe_line
from .context import EXIT_OK, CliContext, ctx_parent
from .output import ProgressBar, job_json


def register(commands: Any) -> None:
    parent = ctx_parent()

    def add(name: str, handler: Callable[[CliContext], int], help_text: str, *, lists: bool = True):
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[parent])
        if lists:
            sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
        return sub

    add("products", cmd_products, "list the OpenData products")

    sub = add("product", cmd_product, "show one OpenData product")
    sub.add_argument("product_id", metavar="ID")

    sub = add("files", cmd_files, "list a product's downloadable files")
    sub.add_argument("product_id", metavar="ID")
    _add_filters(sub, required_format=False)

    sub = add("download", cmd_download, "download an OpenData product's files")
    sub.add_argument("product_id", metavar="ID")
    _add_filters(sub, required_format=True)
    _add_destination(sub)

    add("packages", cmd_packages, "list your data packages (needs a key)")

    sub = add("versions", cmd_versions, "list a data package's versions, newest first")
    sub.add_argument("package_id", metavar="PKG")

    sub = add("download-package", cmd_download_package, "download a data package version")
    sub.add_argument("package_id", metavar="PKG")
    sub.add_argument(
        "--version", dest="version_id", default="latest", metavar="ID", help="default: latest"
    )
    _add_destination(sub)


def _add_filters(sub: argparse.ArgumentParser, *, required_format: bool) -> None:
    sub.add_argument("--format", required=required_format, help='e.g. "GeoPackage"')
    sub.add_argument(
        "--area", default="GB" if required_format else None, help="e.g. GB (default for download)"
    )
    sub.add_argument("--subformat", default=None, help='e.g. "(MBTiles)"')


def _add_destination(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--dest", required=True, type=Path, help="folder to download into")
    sub.add_argument("--extract", action="store_true", help="unzip after downloading")


def cmd_products(ctx: CliContext) -> int:
    products = ctx.client().products()
    if ctx.json:
        ctx.print_json([dataclasses.asdict(p) for p in products])
        return EXIT_OK
    ctx.print_table(("ID", "NAME", "VERSION"), [(p.id, p.name, p.version) for p in products])
    return EXIT_OK


def cmd_product(ctx: CliContext) -> int:
    product = ctx.client().product(ctx.args.product_id)
    if ctx.json:
        ctx.print_json(dataclasses.asdict(product))
        return EXIT_OK
    out = ctx.stdout
    print(f"{safe_line(product.name)} ({safe_line(product.id)})", file=out)
    print(f"Version:  {safe_line(product.version)}", file=out)
    if product.formats:
        print("Formats:  " + "; ".join(safe_line(f.label) for f in product.formats), file=out)
    if product.areas:
        print("Areas:    " + ", ".join(safe_line(a) for a in product.areas), file=out)
    if product.documentation_url:
        print(f"Docs:     {safe_line(product.documentation_url)}", file=out)
    if product.warning:
        print(f"Warning:  {safe_line(product.warning)}", file=out)
    info = product.third_party_info
    if info is not None and info.data_provider is not None:
        provider = info.data_provider
        homepage = f" <{provider.homepage}>" if provider.homepage else ""
        print(f"Provider: {safe_line(provider.name + homepage)}", file=out)
    if info is not None and info.support_email:
        print(f"Support:  {safe_line(info.support_email)}", file=out)
    links = product.supporting_info + (info.supporting_info + info.also_available if info else ())
    for link in links:
        print(f"Link:     {safe_line(link.name)}: {safe_line(link.link)}", file=out)
    if product.description:
        print("", file=out)
        print(safe_block(product.description), file=out)
    return EXIT_OK


def cmd_files(ctx: CliContext) -> int:
    args = ctx.args
    downloads = ctx.client().product_downloads(
        args.product_id, format=args.format, subformat=args.subformat, area=args.area
    )
    if ctx.json:
        ctx.print_json([dataclasses.asdict(d) for d in downloads])
        return EXIT_OK
    ctx.print_table(
        ("FILE", "FORMAT", "SUBFORMAT", "AREA", "SIZE", "MD5"),
        [
            (d.file_name, d.format, d.subformat, d.area, format_size(d.size), d.md5)
            for d in downloads
        ],
    )
    return EXIT_OK


def cmd_download(ctx: CliContext) -> int:
    from ..sources.os_products import fetch_product

    args = ctx.args
    return run_job(
        ctx,
        lambda progress: fetch_product(
            ctx.client(),
            args.product_id,
            args.format,
            area=args.area,
            subformat=args.subformat,
            dest_root=args.dest,
            extract=args.extract,
            workers=ctx.workers,
            progress=progress,
            cancel=ctx.cancel,
        ),
    )


def cmd_packages(ctx: CliContext) -> int:
    packages = ctx.client().data_packages()
    if ctx.json:
        ctx.print_json([dataclasses.asdict(p) for p in packages])
        return EXIT_OK
    ctx.print_table(
        ("ID", "NAME", "PRODUCT", "CREATED", "VERSIONS"),
        [(p.id, p.name, p.product_id, p.created_on, len(p.versions)) for p in packages],
    )
    return EXIT_OK


def cmd_versions(ctx: CliContext) -> int:
    versions = ctx.client().data_package_versions(ctx.args.package_id)
    if ctx.json:
        ctx.print_json([dataclasses.asdict(v) for v in versions])
        return EXIT_OK
    ctx.print_table(
        ("ID", "CREATED", "SUPPLY", "REASON", "PRODUCT VERSION", "FORMAT"),
        [
            (v.id, v.created_on, v.supply_type, v.reason, v.product_version, v.format)
            for v in versions
        ],
    )
    return EXIT_OK


def cmd_download_package(ctx: CliContext) -> int:
    from ..sources.os_packages import fetch_package_version

    args = ctx.args
    return run_job(
        ctx,
        lambda progress: fetch_package_version(
            ctx.client(),
            args.package_id,
            args.version_id,
            dest_root=args.dest,
            extract=args.extract,
            workers=ctx.workers,
            progress=progress,
            cancel=ctx.cancel,
        ),
    )


def run_job(ctx: CliContext, run: Callable[[Any], Any]) -> int:
    bar = ctx.progress()
    started = time.monotonic()
    try:
        result = run(bar)
    finally:
        if isinstance(bar, ProgressBar):
            bar.close()
    if ctx.json:
        ctx.print_json(job_json(result))
        return EXIT_OK
    elapsed = time.monotonic() - started
    download = result.download
    ctx.say(
        f"{download.downloaded_count} downloaded ({format_bytes(download.bytes_transferred)}), "
        f"{download.skipped_count} already there, in {elapsed:.1f}s: {safe_line(result.folder)}"
    )
    for f in result.unverified:
        ctx.warn(f"{f.name}: the listing gives no checksum; checked by size only.")
    for ref in result.manifest.datasets:
        ctx.say(f"  {safe_line(ref)}")
    return EXIT_OK
