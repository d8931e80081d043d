"""The dock's "Keep up to date in one GeoPackage": builds, loads, then refreshes in place."""

from __future__ import annotations

from pathlib import Path

from conftest import wait_for_task, wait_until
from qgis.core import QgsFeatureRequest, QgsProject

TOPO = "0040163512"


def _features(layer, toid: str):
    request = QgsFeatureRequest().setFilterExpression(f"\"toid\" = '{toid}'")
    return list(layer.getFeatures(request))


def test_the_holding_is_built_loaded_then_refreshed_in_place(
    dock, stored_key, replica, tmp_path: Path
) -> None:
    from os_downloads.integration.holdings import remember_path, remembered_path
    from os_downloads.replica.data.holdings_truth import holdings_truth, publish_next_update

    holding = tmp_path / "exeter.gpkg"
    remember_path(TOPO, str(holding))  # as if chosen in the file dialog once
    tab = dock.packages_tab
    tab.refresh()
    wait_until(lambda: TOPO in tab.packages, 20, "the packages")
    row = next(
        tab.packages_tree.topLevelItem(i)
        for i in range(tab.packages_tree.topLevelItemCount())
        if tab.packages_tree.topLevelItem(i).text(0) == "Exeter Topography (COU)"
    )
    tab.packages_tree.setCurrentItem(row)
    assert tab.holding_button.isEnabled()
    wait_until(lambda: tab.files_tree.topLevelItemCount() > 0, 20, "the latest version's files")
    assert "change-only update alone" in tab.download_button.text()  # the latest is a COU

    ended = []
    tab.holdings.ended.connect(ended.append)
    tab.holding_button.click()
    wait_until(lambda: ended, 60, "the holding built")
    QgsProject.instance()  # the layers are in the project now
    outcome = ended[-1]
    assert outcome.ok, outcome.error
    assert outcome.report is not None and outcome.report.layer_count == 6
    layers = {layer.name(): layer for layer in outcome.report.layers}
    truth = holdings_truth(TOPO, "6401104")
    areas = layers["topographic_area"]
    assert areas.featureCount() == len(truth.features["TopographicArea"])
    premium = "© Crown copyright and database rights 2026 Ordnance Survey"
    assert areas.customProperty("os_downloads/attribution") == premium  # not OpenData's
    group = QgsProject.instance().layerTreeRoot().findGroup(outcome.report.group_name)
    assert group is not None and len(group.findLayers()) == 6

    published = publish_next_update(replica, TOPO)
    before = truth.features["TopographicArea"]
    after = published.truth.features["TopographicArea"]
    gone = sorted(set(before) - set(after))[0]
    moved = sorted(
        t for t in set(before) & set(after) if before[t]["geometry"] != after[t]["geometry"]
    )[0]
    assert _features(areas, gone)
    old_box = _features(areas, moved)[0].geometry().boundingBox()

    tab.holding_button.click()
    wait_until(lambda: len(ended) == 2, 60, "the new COU applied")
    outcome = ended[-1]
    assert outcome.ok, outcome.error
    assert outcome.report is None and areas in outcome.refreshed  # the same layer, in place
    assert len(QgsProject.instance().mapLayers()) == 6
    assert areas.featureCount() == len(after)
    assert not _features(areas, gone)
    new_box = _features(areas, moved)[0].geometry().boundingBox()
    assert new_box != old_box
    assert remembered_path(TOPO) == str(holding)


def test_download_and_load_of_a_full_supply_gives_the_holding_tables(dock, stored_key) -> None:
    from os_downloads.replica.data.holdings_truth import holdings_truth

    task = dock.download_and_load_package_version("0040163520", "6402201")
    wait_for_task(task)
    outcome = dock.outcomes[-1]
    assert outcome.ok, outcome.error
    layers = {layer.name(): layer for layer in outcome.report.layers}
    truth = holdings_truth("0040163520", "6402201")
    assert set(truth.records) <= set(layers)  # one table per record type
    blpu = layers["blpu"]
    assert blpu.isSpatial() and blpu.crs().authid() == "EPSG:27700"
    assert blpu.featureCount() == len(truth.records["blpu"])
    assert "postcode_locator" in blpu.fields().names()  # every column, none dropped
    assert layers["lpi"].featureCount() == len(truth.records["lpi"])
    assert list(outcome.folder.glob("*.gpkg")) == [outcome.folder / "0040163520-6402201.gpkg"]
