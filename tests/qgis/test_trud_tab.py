"""The NHS TRUD tab as a user drives it, against the replica: list, download and load, place.

The postcode layer is Code-Point Open from the replica's OS API, loaded by the
plugin's own loader, so a TRUD table is joined to what a user would have.
"""

from __future__ import annotations

from typing import List

import pytest
from conftest import wait_for_task, wait_until
from qgis.core import QgsApplication, QgsProject, QgsSettings, QgsVectorLayer, QgsWkbTypes

from os_downloads.core.errors import SignatureError
from os_downloads.core.sources.trud.signature import find_verifier
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url

CPO_GROUP = "Code-Point® Open 2026-02 (CSV)"
ODS_WEEKLY_GROUP = "NHS TRUD 58: Release 5.2.0 (2025-05-08)"


@pytest.fixture
def trud_settings(replica, plugin_settings, master_password):
    """TRUD pointed at the replica: the key in the auth manager, items 58 and 341 added."""
    from os_downloads.integration import auth, settings

    authcfg = auth.store_trud_key(TRUD_API_KEY)
    values = settings.TrudSettings(authcfg=authcfg, api_url=api_url(replica), items="58,341")
    settings.save_trud_settings(values)
    yield values
    auth.remove_trud_key(authcfg)
    settings.save_trud_settings(settings.TrudSettings())


@pytest.fixture
def tab(dock, trud_settings):
    from os_downloads.ui.trud_tab import TrudTab

    widget = TrudTab(dock.context)
    dock.tabs.setCurrentIndex(dock.add_tab(widget, "NHS TRUD"))
    wait_until(lambda: set(widget.releases) == {58, 341}, 30, "both items listed")
    yield widget


def release_rows(tab, item: int) -> List[List[str]]:
    node = tab._top_item(item)
    return [[node.child(i).text(c) for c in range(3)] for i in range(node.childCount())]


def load_codepoint(dock) -> QgsVectorLayer:
    task = dock.download_and_load_product("CodePointOpen", "CSV")
    wait_for_task(task)
    assert dock.outcomes[-1].ok, dock.outcomes[-1].error
    group = QgsProject.instance().layerTreeRoot().findGroup(CPO_GROUP)
    return group.findLayers()[0].layer()


def download(tab, dock, item: int, release_id: str = "latest"):
    task = tab.start_download(item, release_id)
    assert task is not None
    wait_for_task(task)
    return dock.outcomes[-1]


def test_releases_are_listed_newest_first_with_date_and_size(tab):
    rows = release_rows(tab, 58)
    assert [r[:2] for r in rows] == [
        ["Release 5.2.0", "2025-05-08"],
        ["Release 5.1.0", "2025-05-01"],
        ["Release 5.0.0", "2025-04-24"],
    ]
    assert rows[0][2].endswith("KB")
    assert tab._top_item(341).text(1) == "3 releases"
    # Item numbers are remembered; the key is not in the QGIS settings file.
    settings = QgsSettings()
    assert settings.value("os_downloads/trud/items") == "58,341"
    with open(settings.fileName(), encoding="utf-8", errors="replace") as handle:
        assert TRUD_API_KEY not in handle.read()


def test_a_release_loads_as_tables_and_its_postcodes_join_code_point_open(tab, dock, plugin_iface):
    codepoint = load_codepoint(dock)
    outcome = download(tab, dock, 58)
    assert outcome.ok, outcome.error

    group = QgsProject.instance().layerTreeRoot().findGroup(ODS_WEEKLY_GROUP)
    assert group is not None
    tables = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert set(tables) == {
        "epraccur (GP practices)",
        "ebranchs (Branch surgeries)",
        "egpcur (General practitioners)",
    }
    practices = tables["epraccur (GP practices)"]
    assert practices.geometryType() == QgsWkbTypes.GeometryType.NullGeometry
    assert practices.featureCount() == 22
    assert practices.fields().names()[:2] == ["organisation_code", "name"]
    assert practices.metadata().rights()[0].startswith("Source: NHS England, Technology Reference")
    assert "NHS TRUD" in practices.metadata().licenses()[0]
    from qgis.core import QgsExpressionContextUtils

    scope = QgsExpressionContextUtils.projectScope(QgsProject.instance())
    attribution = scope.variable("os_attribution").splitlines()
    assert attribution[0].startswith("Source: NHS England")  # the release, then Code-Point's
    assert any(a.startswith("Contains Royal Mail data") for a in attribution)
    texts = plugin_iface.message_texts()
    assert any(f'Loaded 3 layer(s) into "{ODS_WEEKLY_GROUP}"' in t for t in texts), texts
    if find_verifier() is not None:
        assert "Signature good" in tab.status_label.text()

    # The tab offers the join: the GP practices and the Code-Point Open layer are chosen.
    tab.table_combo.setCurrentIndex(tab.table_combo.findText("epraccur (GP practices)"))
    assert tab.postcode_combo.currentLayer() == codepoint
    assert tab.place_button.isEnabled()
    placed: list = []
    tab.placed.connect(placed.append)
    tab.place_button.click()
    wait_until(lambda: placed, 60, "the placement")
    placement = placed[0]
    assert (placement.matched, placement.unmatched) == (21, 1)
    assert "21 of 22 rows placed by postcode; 1 without a match." in tab.status_label.text()
    layer = placement.layer
    assert layer.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
    assert layer.crs().authid() == "EPSG:27700"
    assert group.findLayer(layer.id()) is not None  # beside its table
    by_code = {f["organisation_code"]: f for f in layer.getFeatures()}
    tremona = next(f for f in by_code.values() if f["postcode"] == "SO16 6YD")
    assert tremona.hasGeometry() and tremona["postcode_matched"]
    point = tremona.geometry().asPoint()
    cpo = next(f for f in codepoint.getFeatures() if f["Postcode"] == "SO166YD")
    assert (point.x(), point.y()) == (cpo["Eastings"], cpo["Northings"])
    assert tremona["pc_Admin_district_code"] == "E06000045"
    new_build = next(f for f in by_code.values() if f["postcode"] == "SO14 0AA")
    assert new_build.geometry().isEmpty() and not new_build["postcode_matched"]


def test_ods_xml_organisations_load_as_a_table_with_postcodes(tab, dock):
    outcome = download(tab, dock, 341)
    assert outcome.ok, outcome.error
    group = (
        QgsProject.instance().layerTreeRoot().findGroup("NHS TRUD 341: Release 8.0.0 (2026-05-01)")
    )
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    organisations = layers["HSCOrgRefData_Full_20260501_organisations"]
    names = [f["name"] for f in organisations.getFeatures()]
    assert "UNIVERSITY HOSPITAL SOUTHAMPTON NHS FOUNDATION TRUST" in names
    assert tab.table_combo.findText("HSCOrgRefData_Full_20260501_organisations") >= 0


def test_an_unsubscribed_item_says_so_in_the_list(tab):
    assert (
        tab.add_item_number(
            "https://isd.digital.nhs.uk/trud/users/guest/filters/0/categories/26/items/101/releases"
        )
        == 101
    )
    wait_until(lambda: tab._top_item(101).text(1) == "not listed", 30, "item 101 to fail")
    problem = tab._top_item(101).child(0).text(0)
    assert "no item 101, or this account is not subscribed to it" in problem
    assert TRUD_API_KEY not in problem


def test_a_tampered_signature_stops_the_load(tab, dock, replica, plugin_iface):
    if find_verifier() is None:
        pytest.skip("no gpgv/gpg on this machine")
    release = tab.releases[341][0]
    replica.set_faults(corrupt_files={release.checksum_file.file_name: 1})
    outcome = download(tab, dock, 341, release.id)
    assert isinstance(outcome.error, SignatureError)
    assert (
        QgsProject.instance().layerTreeRoot().findGroup("NHS TRUD 341: Release 8.0.0 (2026-05-01)")
        is None
    )
    texts = plugin_iface.message_texts()
    assert any(t.startswith("Download failed") and "BAD" in t for t in texts), texts
    QgsApplication.processEvents()


def test_placing_survives_the_group_being_removed_meanwhile(tab, dock):
    load_codepoint(dock)
    assert download(tab, dock, 58).ok
    tab.table_combo.setCurrentIndex(tab.table_combo.findText("epraccur (GP practices)"))
    placed: list = []
    tab.placed.connect(placed.append)
    tab.place_button.click()
    root = QgsProject.instance().layerTreeRoot()
    root.removeChildNode(root.findGroup(ODS_WEEKLY_GROUP))  # the user tidies up meanwhile
    wait_until(lambda: placed, 60, "the placement")
    layer = placed[0].layer
    assert root.findLayer(layer.id()) is not None  # at the top of the tree instead
    assert layer.featureCount() == 22
