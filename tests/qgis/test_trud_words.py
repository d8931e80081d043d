"""The NHS TRUD tab's words (issue 16 §7): key checked before it is stored, items by
name, why "Place on map" is off, no stale item in the buttons, hints naming the tab."""

from __future__ import annotations

import pytest
from conftest import wait_until

from os_downloads.replica.server.trud import TRUD_API_KEY, api_url


@pytest.fixture
def trud_no_key(replica, plugin_settings, master_password):
    """TRUD pointed at the replica, items 58 and 341 remembered, no key stored yet."""
    from os_downloads.integration import auth, settings

    settings.save_trud_settings(settings.TrudSettings(api_url=api_url(replica), items="58,341"))
    yield
    values = settings.load_trud_settings()
    auth.remove_trud_key(values.authcfg)
    settings.save_trud_settings(settings.TrudSettings())


@pytest.fixture
def tab(dock, trud_no_key):
    from os_downloads.ui.trud_tab import TrudTab

    widget = TrudTab(dock.context)
    dock.tabs.setCurrentIndex(dock.add_tab(widget, "NHS TRUD"))
    yield widget


def _save(tab, key: str) -> bool:
    results = []
    tab.key_checked.connect(results.append)
    tab.key_edit.setText(key)
    tab.key_button.click()
    wait_until(lambda: results, 30, "the key check")
    return results[0]


def test_before_the_first_key_it_says_qgis_asks_for_its_master_password(tab):
    assert "master password" in tab.key_state.text()


def test_a_key_trud_rejects_is_not_stored_and_the_hint_names_this_tab(tab, replica):
    from os_downloads.integration import settings

    assert _save(tab, "not-a-real-trud-key") is False
    assert settings.load_trud_settings().authcfg == ""
    assert not tab.service.has_stored_key()
    text = tab.key_state.text()
    assert text.startswith("Not saved: TRUD did not accept the API key"), text
    assert "API key box of this tab" in text and "TRUD_API_KEY" not in text


def test_a_key_trud_accepts_is_stored_and_items_show_their_names(tab):
    assert _save(tab, TRUD_API_KEY) is True
    assert tab.service.has_stored_key()
    assert "Key stored" in tab.key_state.text()
    wait_until(lambda: set(tab.releases) == {58, 341}, 30, "both items listed")
    names = [tab.tree.topLevelItem(i).text(0) for i in range(tab.tree.topLevelItemCount())]
    assert names == [
        "NHS ODS weekly prescribing-related data, retired — item 58",
        "NHS ODS XML Organisation Data — item 341",
    ]
    assert not any(n.startswith("Item ") for n in names)


def test_after_removing_an_item_no_button_names_it(tab):
    assert _save(tab, TRUD_API_KEY)
    wait_until(lambda: set(tab.releases) == {58, 341}, 30, "both items listed")
    tab.tree.setCurrentItem(tab._top_item(58))
    assert "item 58" in tab.download_button.text()
    tab.remove_button.click()
    assert "58" not in tab.download_button.text()
    assert not tab.download_button.isEnabled()


def test_place_on_map_says_why_it_is_disabled(tab):
    tab._update_place_button()
    assert not tab.place_button.isEnabled()
    assert "postcode column" in tab.place_button.toolTip()
