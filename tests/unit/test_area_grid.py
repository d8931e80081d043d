"""The National Grid's squares, several areas in one job, and what is on disk (no QGIS)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.cli import main as cli
from os_downloads.core.errors import ConfigurationError
from os_downloads.core.grid import bng
from os_downloads.core.grid.feature_types import feature_type_table, feature_type_words
from os_downloads.core.grid.multi_area import areas_in_bbox, fetch_product_areas
from os_downloads.core.local.inventory import (
    STATE_DAMAGED,
    STATE_UNCHECKED,
    delete_download,
    downloaded_areas,
    list_downloads,
)


@pytest.mark.parametrize(
    "name, corner",
    [
        ("SV", (0, 0)),
        ("TV", (500000, 0)),
        ("SU", (400000, 100000)),
        ("TQ", (500000, 100000)),
        ("NN", (200000, 700000)),
        ("HP", (400000, 1200000)),
        ("tl", (500000, 200000)),
    ],
)
def test_square_corners_follow_the_grid_definition(name, corner):
    square = bng.square(name)
    assert (square.west, square.south) == corner


def test_known_places_fall_in_their_squares():
    assert bng.square_at(533600, 180500).name == "TQ"  # Tower of London, TQ 336 805
    assert bng.square_at(216600, 771200).name == "NN"  # Ben Nevis, NN 166 712
    assert bng.square_at(-1, 5) is None and bng.square_at(700000, 0) is None


def test_every_square_of_the_grid_round_trips():
    squares = bng.all_squares()
    assert len(squares) == 7 * 13
    assert len({s.name for s in squares}) == len(squares)
    assert all(bng.square(s.name) == s for s in squares)


def test_a_box_touches_the_squares_it_overlaps_not_those_it_only_touches():
    names = [s.name for s in bng.squares_in_bbox((450000, 150000, 560000, 210000))]
    assert sorted(names) == ["SP", "SU", "TL", "TQ"]
    edge = [s.name for s in bng.squares_in_bbox((500000, 100000, 600000, 200000))]
    assert edge == ["TQ"]
    only = bng.squares_in_bbox((0, 0, 700000, 1300000), among=["tq", "SU"])
    assert sorted(s.name for s in only) == ["SU", "TQ"]


@pytest.mark.parametrize("text", ["", "1,2,3", "a,b,c,d", "1;2;3;4"])
def test_a_bad_box_is_a_clear_error(text):
    with pytest.raises(ConfigurationError):
        bng.parse_bbox(text)


def test_bad_square_names_are_clear_errors():
    for name in ("TI", "Q", "TQ1", "", "ZZ"):
        with pytest.raises(ConfigurationError):
            bng.square(name)
    assert bng.parse_bbox("600000, 200000, 500000,100000") == (500000, 100000, 600000, 200000)


def test_feature_types_are_the_same_whatever_the_format():
    for name in ("TQ_GreenspaceSite", "GreenspaceSite", "greenspace_site"):
        assert feature_type_table(name) == "greenspace_site"
        assert feature_type_words(name) == "Greenspace site"
    assert feature_type_words("RoadLink") == "Road link"


def test_three_squares_in_one_job_with_one_progress(replica, tmp_path):
    client = OSDownloadsClient(base_url=replica.api_url)
    seen = []
    results = fetch_product_areas(
        client,
        "OpenGreenspace",
        "GML",
        ["tq", "TL", "TQ"],
        dest_root=tmp_path,
        progress=seen.append,
    )
    assert [r.manifest.area for r in results] == ["TQ", "TL"]
    totals = {p.bytes_total for p in seen}
    assert len(totals) == 1 and totals.pop() > 0
    done = [p.bytes_done for p in seen]
    assert done == sorted(done) and seen[-1].bytes_done == seen[-1].bytes_total
    assert seen[-1].files_done == seen[-1].files_total == 2
    assert downloaded_areas([tmp_path], "OpenGreenspace", "GML") == ["TL", "TQ"]
    assert downloaded_areas([tmp_path], "OpenGreenspace", "GeoPackage") == []
    with pytest.raises(ConfigurationError, match="not offered for TL"):
        fetch_product_areas(client, "OpenGreenspace", "ESRI® Shapefile", ["TL"], dest_root=tmp_path)
    box = areas_in_bbox(
        client.product_downloads("OpenGreenspace"), "GML", (540000, 190000, 560000, 210000)
    )
    assert sorted(box) == ["TL", "TQ"]


def test_my_downloads_offline_states_and_delete(replica, tmp_path):
    client = OSDownloadsClient(base_url=replica.api_url)
    (result,) = fetch_product_areas(client, "OpenRivers", "GeoPackage", ["GB"], dest_root=tmp_path)
    (item,) = list_downloads([tmp_path])
    assert item.verified and item.state == STATE_UNCHECKED and item.size_on_disk > 0
    archive = result.folder / "oprvrs_gpkg_gb.zip"
    data = bytearray(archive.read_bytes())
    data[100] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert (
        list_downloads([tmp_path])[0].state == STATE_UNCHECKED
    )  # same size: only a re-hash sees it
    assert list_downloads([tmp_path], rehash=True)[0].state == STATE_DAMAGED
    archive.unlink()
    assert list_downloads([tmp_path])[0].missing == ["oprvrs_gpkg_gb.zip"]
    with pytest.raises(ConfigurationError):
        delete_download(tmp_path, [tmp_path])  # the root itself: never
    with pytest.raises(ConfigurationError):
        delete_download(result.folder, [tmp_path / "elsewhere"])
    delete_download(result.folder, [tmp_path])
    assert not result.folder.exists() and list_downloads([tmp_path]) == []
    assert tmp_path.exists()


def test_the_downloads_command_lists_with_states(replica, tmp_path):
    client = OSDownloadsClient(base_url=replica.api_url)
    fetch_product_areas(client, "OpenRivers", "GeoPackage", ["GB"], dest_root=tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["downloads", "--dest", str(tmp_path), "--json", "--check", "--api-url", replica.api_url],
        stdout=out,
        stderr=err,
        env={},
    )
    assert code == 0, err.getvalue()
    (row,) = json.loads(out.getvalue())
    assert row["id"] == "OpenRivers" and row["state"] == "up to date" and row["verified"]
    assert Path(row["folder"]).is_dir()
