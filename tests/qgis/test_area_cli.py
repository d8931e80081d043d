"""The command line's several areas (--area twice, --bbox) with --merge give the dock's result.

``download`` takes them itself; the merge is the entry point's (``__main__.merge_writer``),
handed to ``main`` as ``python -m os_downloads`` does.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Dict, Set

from conftest import wait_until
from osgeo import ogr

from os_downloads.__main__ import merge_writer
from os_downloads.core.cli import main as cli


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
        ["download", *argv, "--api-url", replica.api_url, "--json"],
        stdout=out,
        stderr=err,
        env={},
        merge_writer=merge_writer,
    )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_area_twice_and_a_box_merge_like_the_dock(dock, replica, tmp_path):
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
