"""Group and layer names (issue 16 §7): no nested brackets, plurals by count,
every new group expanded."""

from __future__ import annotations

from conftest import wait_for_task
from qgis.core import QgsProject

from os_downloads.core.engine.manifest import SOURCE_OPENDATA, Manifest
from os_downloads.integration.layers import group_name_for
from os_downloads.integration.table_layers import group_name
from os_downloads.ui.outcome_text import layers_phrase


def test_group_names_never_nest_brackets():
    manifest = Manifest(
        SOURCE_OPENDATA,
        "MiniScale",
        "MiniScale®",
        "2026-01",
        format="Zip file (containing EPS, Illustrator and TIFF-LZW)",
    )
    name = group_name_for(manifest)
    assert name == "MiniScale® 2026-01 containing EPS, Illustrator and TIFF-LZW (Zip file)"
    assert group_name(58, "Release (weekly) 5.2.0", "2025-05-08") == (
        "NHS TRUD 58: Release weekly 5.2.0 (2025-05-08)"
    )


def test_plurals_by_count():
    assert layers_phrase(1) == "1 layer"
    assert layers_phrase(2) == "2 layers"


def test_new_groups_are_expanded(dock):
    task = dock.download_and_load_product("OpenRivers", "GeoPackage")
    wait_for_task(task)
    groups = QgsProject.instance().layerTreeRoot().findGroups()
    assert groups and all(g.isExpanded() for g in groups)
    assert dock.outcomes[-1].report.group.isExpanded()
