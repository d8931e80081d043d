"""The command line's several areas (--area twice, --bbox) with --merge give the dock's result.

The glue (core/cli/area_commands.py) is not wired into ``download`` yet; this test
adds it as a command of its own through ``register_commands``, the way the lead
wires it, and compares the merged GeoPackage with the one the dock writes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Dict, Set

from conftest import wait_until
from osgeo import ogr

from os_downloads.core.cli import area_commands
from os_downloads.core.cli import main as cli
from os_downloads.integration.merge import merge_vector_datasets


def _register(commands) -> None:
    sub = commands.add_parser("download-areas-under-test", parents=[cli.ctx_parent()])
    sub.add_argument("product_id")
    sub.add_argument("--format", required=True)
    sub.add_argument("--subformat", default=None)
    sub.add_argument("--dest", type=Path, required=True)
    sub.add_argument("--extract", action="store_true")
    sub.add_argument("--json", action="store_true")
    area_commands.add_area_arguments(sub)
    sub.set_defaults(
        handler=lambda ctx: area_commands.cmd_download_areas(ctx, merge_vector_datasets)
    )


def _tables(path: Path) -> Dict[str, Set[str]]:
    source = ogr.Open(str(path))
    found = {}
    for i in range(source.GetLayerCount()):
        layer = source.GetLayer(i)
        found[layer.GetName()] = {f.GetField("id") for f in layer}
    source = None
    return found


def _cli(replica, *argv) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["download-areas-under-test", *argv, "--api-url", replica.api_url, "--json"],
        stdout=out,
        stderr=err,
        env={},
    )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_area_twice_and_a_box_merge_like_the_dock(dock, replica, tmp_path):
    cli.register_commands(_register)
    by_area = _cli(
        replica, "OpenGreenspace", "--format", "GML", "--area", "TQ", "--area", "TL",
        "--merge", "--dest", str(tmp_path / "a"),
    )  # fmt: skip
    by_box = _cli(
        replica, "OpenGreenspace", "--format", "GML", "--bbox", "540000,190000,560000,210000",
        "--merge", "--dest", str(tmp_path / "b"),
    )  # fmt: skip
    assert sorted(by_area["areas"]) == sorted(by_box["areas"]) == ["TL", "TQ"]
    assert Path(by_area["merged"]["path"]).name == "TL-TQ.gpkg"
    assert by_area["merged"]["tables"]["greenspace_site"]["duplicates"] >= 1

    task = dock.opendata_tab.start_download_areas("OpenGreenspace", "GML", ["TQ", "TL"], "3")
    wait_until(lambda: dock.outcomes, 120, "the dock's download")
    assert dock.outcomes[-1].ok, dock.outcomes[-1].error
    assert task is dock.outcomes[-1].task
    layer = next(iter(dock.outcomes[-1].report.layers))
    dock_gpkg = Path(layer.source().split("|")[0])

    expected = _tables(dock_gpkg)
    assert expected == _tables(Path(by_area["merged"]["path"]))
    assert expected == _tables(Path(by_box["merged"]["path"]))
    assert set(expected) == {"greenspace_site", "access_point"}
