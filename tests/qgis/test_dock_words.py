"""The OpenData tab's words and keys (issue 16 §3 and §5): search in descriptions,
"No product matches", Enter starts the download, tooltips, the licence with its link,
a labelled settings button."""

from __future__ import annotations

from conftest import wait_for_task, wait_until
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest


def _listed(dock):
    tab = dock.opendata_tab
    wait_until(lambda: tab.products, 20, "the product list")
    return tab


def test_search_matches_descriptions_and_says_when_nothing_does(dock):
    tab = _listed(dock)
    tab.filter_edit.setText("postcode")
    assert "CodePointOpen" in tab.visible_product_ids()
    tab.filter_edit.setText("zzqx")
    assert tab.visible_product_ids() == []
    assert tab.status_label.text() == "No product matches 'zzqx'."
    tab.filter_edit.clear()
    assert tab.status_label.text() == f"{len(tab.products)} products"


def test_enter_on_a_product_starts_its_download(dock):
    tab = _listed(dock)
    assert tab.select_product("OpenRivers")
    wait_until(lambda: tab.download_button.isEnabled(), 20, "formats listed")
    before = len(dock.downloads.running())
    tab.list_view.setFocus()
    QTest.keyClick(tab.list_view, Qt.Key.Key_Return)
    task = wait_until(lambda: dock.downloads.running()[before:] or dock.outcomes, 10, "a task")
    if isinstance(task, list) and task and hasattr(task[0], "ended"):
        wait_for_task(task[0])
    wait_until(lambda: dock.outcomes, 60, "the download to end")
    assert dock.outcomes[-1].ok and dock.outcomes[-1].title == "OS Open Rivers"


def test_controls_have_tooltips_and_the_licence_links(dock):
    tab = _listed(dock)
    for widget in (tab.format_combo, tab.area_combo, tab.download_button):
        assert widget.toolTip(), widget
    assert tab.select_product("OpenRivers")
    html = tab.details.toHtml()
    assert "Open Government Licence v3.0" in html
    assert "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/" in html
    assert "Contains OS data © Crown copyright and database right" in html


def test_the_settings_entry_is_a_labelled_button(dock):
    button = dock.settings_button
    assert button.text() == "Settings"
    assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
