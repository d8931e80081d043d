"""A holding kept in PostGIS through a saved QGIS PostgreSQL connection: the dock's "Keep up
to date", Processing and My downloads, against the real test server and the replica."""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path
from typing import List

import pytest
from conftest import wait_until
from postgis_fixtures import server_parts
from qgis.core import QgsApplication, QgsFeatureRequest, QgsProject

from os_downloads.integration.holding_homes import HoldingHome, remember_home
from os_downloads.ui.packages_tab import ID_ROLE

TOPO = "0040163512"
ABP = "0040163520"
NGD = "0040163546"
NEEDS_CORE = pytest.mark.skipif(
    importlib.util.find_spec("os_downloads.core.holdings.target") is None,
    reason="needs core PostGIS holding",
)


class _LogLines(logging.Handler):
    """Every line the plugin and its core log (DEBUG and up) and QGIS's message log get."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []
        self._logger = logging.getLogger("os_downloads")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def _qgis(self, message, tag, level) -> None:
        self.lines.append(f"{tag}: {message}")

    def __enter__(self) -> _LogLines:
        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self)
        QgsApplication.messageLog().messageReceived.connect(self._qgis)
        return self

    def __exit__(self, *exc) -> None:
        QgsApplication.messageLog().messageReceived.disconnect(self._qgis)
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


def _table(feature_class: str) -> str:
    """ "TopographicArea" -> "topographic_area" (the holding's table names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", feature_class).lower()


def _features(layer, toid: str):
    request = QgsFeatureRequest().setFilterExpression(f"\"toid\" = '{toid}'")
    return list(layer.getFeatures(request))


def _select_package(tab, package_id: str) -> None:
    tab.refresh()
    wait_until(lambda: package_id in tab.packages, 20, "the packages")
    for index in range(tab.packages_tree.topLevelItemCount()):
        row = tab.packages_tree.topLevelItem(index)
        if row.data(0, ID_ROLE) == package_id:
            tab.packages_tree.setCurrentItem(row)
            return
    raise AssertionError(f"{package_id} not listed")


@pytest.fixture
def team_connection(save_connection, basic_auth_entry, password_role, postgres_cluster):
    """A saved connection whose password is in the Authentication Manager only."""
    authcfg = basic_auth_entry(password_role.name, password_role.password)
    save_connection(
        "OSD team", authcfg=authcfg, **server_parts(postgres_cluster, password_role.database)
    )
    return password_role


@NEEDS_CORE
def test_the_dock_keeps_a_holding_in_postgis_and_refreshes_its_layers(
    dock, stored_key, replica, team_connection, tmp_path: Path
) -> None:
    from os_downloads.integration.holdings import holding_text
    from os_downloads.replica.data.holdings_truth import holdings_truth, publish_next_update

    remember_home(TOPO, HoldingHome.postgis("OSD team", "exeter_topo"))
    tab = dock.packages_tab
    _select_package(tab, TOPO)
    assert tab.holding_button.text() == "Keep up to date in PostGIS"
    assert tab.holding_where.text() == "Kept in PostGIS: schema exeter_topo in OSD team"
    ended = []
    tab.holdings.ended.connect(ended.append)
    logged = _LogLines()
    with logged:
        tab.holding_button.click()
        wait_until(lambda: ended, 120, "the PostGIS holding built")
    assert logged.lines and not [line for line in logged.lines if team_connection.mark in line]
    outcome = ended[-1]
    assert outcome.ok, holding_text(outcome)
    assert "schema exeter_topo in OSD team" in holding_text(outcome)
    assert outcome.report is not None and outcome.report.layer_count == 6
    assert "schema exeter_topo in OSD team" in outcome.report.group_name
    layers = {layer.name(): layer for layer in outcome.report.layers}
    truth = holdings_truth(TOPO, "6401104")
    for feature_class, features in truth.features.items():
        layer = layers[_table(feature_class)]
        assert layer.providerType() == "postgres"
        assert layer.featureCount() == len(features), feature_class
        assert layer.crs().authid() == "EPSG:27700"
        assert team_connection.mark not in layer.source()
        assert "authcfg=" in layer.source()
    areas = layers["topographic_area"]
    assert areas.isSpatial() and areas.styleManager() is not None
    assert areas.customProperty("os_downloads/style", "")  # styled like the GeoPackage's
    premium = "© Crown copyright and database rights 2026 Ordnance Survey"
    assert areas.customProperty("os_downloads/attribution") == premium

    saved = tmp_path / "team.qgs"
    assert QgsProject.instance().write(str(saved))
    assert team_connection.mark not in saved.read_text(encoding="utf-8")

    published = publish_next_update(replica, TOPO)
    before, after = truth.features["TopographicArea"], published.truth.features["TopographicArea"]
    gone = sorted(set(before) - set(after))[0]
    assert _features(areas, gone)
    tab.holding_button.click()
    wait_until(lambda: len(ended) == 2, 120, "the new COU applied")
    outcome = ended[-1]
    assert outcome.ok, holding_text(outcome)
    assert outcome.report is None and areas in outcome.refreshed  # the same layer, in place
    assert areas.featureCount() == len(after)
    assert not _features(areas, gone)


@NEEDS_CORE
def test_my_downloads_lists_a_postgis_holding_and_loads_it(
    dock, replica, save_connection, postgres_cluster, postgis_database, tmp_path: Path
) -> None:
    from os_downloads.core.api.auth import ApiKeyAuth
    from os_downloads.core.api.client import OSDownloadsClient
    from os_downloads.core.holdings.update import update_holding
    from os_downloads.integration.postgres_connections import conninfo
    from os_downloads.replica.data.holdings_truth import holdings_truth

    database = postgis_database.rsplit("/", 1)[-1]
    save_connection("OSD trust", username="osd_test", **server_parts(postgres_cluster, database))
    with OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key)) as client:
        result = update_holding(
            client, NGD, conninfo("OSD trust"), schema="ngd", downloads=tmp_path / "versions"
        )
        addresses = update_holding(
            client, ABP, conninfo("OSD trust"), schema="abp", downloads=tmp_path / "versions"
        )
    latest = result.held[-1]
    truth = holdings_truth(NGD, latest)
    remember_home(NGD, HoldingHome.postgis("OSD trust", "ngd"))
    remember_home(ABP, HoldingHome.postgis("OSD trust", "abp"))
    tab = dock.my_downloads_tab
    dock.tabs.setCurrentWidget(tab)
    wait_until(lambda: len(_postgis_rows(tab)) == 2, 30, "the PostGIS holdings listed")
    row = next(r for r in _postgis_rows(tab) if "schema ngd" in r.text(3))
    assert row.text(0) == "NGD Exeter buildings, land, roads and addresses (COU)"
    assert row.text(2) == latest and row.text(3) == "PostGIS: schema ngd in OSD trust"
    assert row.text(1) == "not checked for updates"
    tab.tree.setCurrentItem(row)
    assert tab.load_button.isEnabled() and tab.update_button.isEnabled()
    assert not tab.delete_button.isEnabled() and not tab.folder_button.isEnabled()
    reports = []
    tab.loaded.connect(reports.append)
    tab.load_selected()
    wait_until(lambda: reports, 30, "the PostGIS holding's layers loaded")
    layers = {layer.name(): layer for layer in reports[0].layers}
    assert set(layers) == set(truth.features)
    for feature_type, features in truth.features.items():
        layer = layers[feature_type]
        assert layer.providerType() == "postgres" and layer.isSpatial()
        assert layer.featureCount() == len(features), feature_type
        assert layer.crs().authid() == "EPSG:27700"

    tab.load_selected()  # again: no second group
    wait_until(lambda: len(reports) == 2, 30, "the second load")
    assert reports[1].already_loaded

    # AddressBase Premium: BLPU points, and tables without geometry loaded as tables.
    abp = holdings_truth(ABP, addresses.held[-1])
    tab.tree.setCurrentItem(next(r for r in _postgis_rows(tab) if "schema abp" in r.text(3)))
    tab.load_selected()
    wait_until(lambda: len(reports) == 3, 30, "the AddressBase Premium layers loaded")
    layers = {layer.name(): layer for layer in reports[2].layers}
    assert layers["blpu"].isSpatial() and layers["blpu"].crs().authid() == "EPSG:27700"
    assert layers["blpu"].featureCount() == len(abp.records["blpu"])
    assert not layers["lpi"].isSpatial() and layers["lpi"].featureCount() == len(abp.records["lpi"])


def _postgis_rows(tab):
    rows = [tab.tree.topLevelItem(i) for i in range(tab.tree.topLevelItemCount())]
    return [r for r in rows if r.text(3).startswith("PostGIS:")]


@NEEDS_CORE
def test_a_refused_connection_and_a_wrong_password_are_said_in_plain_words(
    dock, stored_key, save_connection, basic_auth_entry, password_role, postgres_cluster
) -> None:
    from os_downloads.integration.holdings import holding_text

    authcfg = basic_auth_entry(password_role.name, "not the password")
    save_connection(
        "OSD wrong", authcfg=authcfg, **server_parts(postgres_cluster, password_role.database)
    )
    closed = dict(server_parts(postgres_cluster, password_role.database), port="1")
    save_connection("OSD closed", username="osd_test", **closed)
    ended = []
    dock.packages_tab.holdings.ended.connect(ended.append)
    for count, name in enumerate(("OSD wrong", "OSD closed"), start=1):
        dock.packages_tab.start_holding(TOPO, HoldingHome.postgis(name, "exeter_topo"))
        wait_until(lambda wanted=count: len(ended) >= wanted, 60, f"{name} refused")
    wrong, closed_text = (holding_text(o) for o in ended)
    for text in (wrong, closed_text):
        assert not ended[0].ok and "Unexpected error" not in text and "Traceback" not in text
        assert "not the password" not in text
    assert wrong.startswith('Cannot connect to PostgreSQL connection "OSD wrong"')
    assert "password authentication failed" in wrong
    assert closed_text.startswith('Cannot connect to PostgreSQL connection "OSD closed"')
    assert "Connection refused" in closed_text
    for text in (wrong, closed_text):  # QGIS's way out, not the command line's
        assert "Edit Connection" in text and "Authentication Manager" in text
        assert "command line" not in text


def test_the_chooser_offers_a_geopackage_or_a_saved_connection_and_remembers_no_password(
    dock, team_connection, plugin_settings, monkeypatch
) -> None:
    from qgis.core import QgsSettings
    from qgis.PyQt.QtWidgets import QDialog

    from os_downloads.core.api.models import DataPackage
    from os_downloads.integration.holding_homes import remembered_home

    tab = dock.packages_tab
    tab.packages = {TOPO: DataPackage(TOPO, "Exeter Topography (COU)", "", "", "MMTOPO", "")}
    dialog = tab.home_dialog(TOPO)
    assert dialog.geopackage_choice.isChecked() and dialog.path_edit.text().endswith(".gpkg")
    labels = [dialog.connection_combo.itemText(i) for i in range(dialog.connection_combo.count())]
    assert any(label.startswith("OSD team (") for label in labels)
    dialog.postgis_choice.setChecked(True)
    dialog.connection_combo.setCurrentIndex(dialog.connection_combo.findData("OSD team"))
    dialog.schema_edit.setText("Not A Schema!")  # the validator keeps what it can
    dialog.schema_edit.setText("")
    assert dialog.home() is None
    dialog.schema_edit.setText("team_topo")
    assert dialog.home() == HoldingHome.postgis("OSD team", "team_topo")
    monkeypatch.setattr(dialog, "exec", lambda: QDialog.DialogCode.Accepted)  # "Keep it here"
    monkeypatch.setattr(tab, "home_dialog", lambda package_id: dialog)
    assert tab.ask_home(TOPO) == HoldingHome.postgis("OSD team", "team_topo")
    assert remembered_home(TOPO) == HoldingHome.postgis("OSD team", "team_topo")
    assert remembered_home(TOPO).package_name == "Exeter Topography (COU)"
    assert tab.holding_where.text() == "Kept in PostGIS: schema team_topo in OSD team"
    monkeypatch.undo()
    settings = QgsSettings()
    stored = "\n".join(f"{k}={settings.value(k)}" for k in settings.allKeys())
    assert team_connection.mark not in stored
    again = tab.home_dialog(TOPO)  # asked again: the current choice shown
    assert again.postgis_choice.isChecked() and again.schema_edit.text() == "team_topo"
    dialog.deleteLater()
    again.deleteLater()


def test_my_downloads_lists_a_postgis_holding_whose_connection_is_gone(dock, plugin_settings):
    remember_home(NGD, HoldingHome.postgis("Connection removed since", "ngd", "NGD Exeter"))
    tab = dock.my_downloads_tab
    dock.tabs.setCurrentWidget(tab)
    wait_until(lambda: _postgis_rows(tab), 30, "the PostGIS holding listed")
    row = _postgis_rows(tab)[0]
    assert row.text(0) == "NGD Exeter" and row.text(1) == "database not reachable"
    assert 'no saved PostgreSQL connection called "Connection removed since"' in row.toolTip(1)
    tab.tree.setCurrentItem(row)
    assert not tab.delete_button.isEnabled() and not tab.folder_button.isEnabled()
