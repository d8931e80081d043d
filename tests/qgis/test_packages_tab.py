"""The "My data packages" tab against the replica: key prompt, packages, versions, files."""

from __future__ import annotations

import sys

from conftest import wait_until

from os_downloads.ui.packages_tab import NO_KEY_PAGE, PACKAGES_PAGE


def test_without_a_key_the_tab_asks_for_one(dock):
    tab = dock.packages_tab
    assert tab.stack.currentIndex() == NO_KEY_PAGE
    assert tab.settings_button.isVisibleTo(tab)
    assert "API key" in tab.stack.currentWidget().findChildren(type(tab.status_label))[0].text()


def test_packages_versions_latest_first_and_files(dock, stored_key):
    tab = dock.packages_tab
    tab.refresh()
    assert tab.stack.currentIndex() == PACKAGES_PAGE
    wait_until(lambda: tab.packages_tree.topLevelItemCount() == 6, 20, "the packages")
    names = {tab.packages_tree.topLevelItem(i).text(0) for i in range(6)}
    assert names == {
        "Southampton Topography",
        "AB Prem (Full)",
        "Exeter Topography (COU)",
        "AB Prem Cardiff (COU)",
        "AB Prem Cardiff tiles (COU)",
        "NGD Exeter buildings, land, roads and addresses (COU)",
    }
    row = next(
        tab.packages_tree.topLevelItem(i)
        for i in range(6)
        if tab.packages_tree.topLevelItem(i).text(0) == "Southampton Topography"
    )
    assert row.text(1) == "OS MasterMap Topography Layer" and row.text(2) == "2026-01-20"

    tab.packages_tree.setCurrentItem(row)
    wait_until(lambda: tab.versions_tree.topLevelItemCount() == 3, 20, "the versions")
    rows = [[tab.versions_tree.topLevelItem(i).text(c) for c in range(4)] for i in range(3)]
    assert rows[0] == ["2026-03-17 (latest)", "Change-only (COU)", "Epoch 109", "GML"]
    assert rows[-1][:2] == ["2026-01-20", "Full"]
    assert "Initial supply" in tab.versions_tree.topLevelItem(2).toolTip(0)

    wait_until(lambda: tab.files_tree.topLevelItemCount() == 2, 20, "the latest version's files")
    files = {tab.files_tree.topLevelItem(i).text(0) for i in range(2)}
    assert files == {"5447155-SU4011.gz", "5447155-Order_Details.txt"}
    assert all(tab.files_tree.topLevelItem(i).text(1)[0].isdigit() for i in range(2))
    assert "change-only" in tab.status_label.text()
    assert tab.download_button.isEnabled()


def test_a_bad_key_shows_what_to_do_without_a_traceback(dock, plugin_settings, monkeypatch):
    from os_downloads.integration import auth, settings

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: hooked.append(info))
    values = settings.load()
    values.authcfg = auth.store_credentials(auth.ApiCredentials("not-the-right-key-123"))
    settings.save(values)
    try:
        dock.packages_tab.refresh()
        text = wait_until(dock.notice.text, 20, "an error message")
        assert "Listing data packages" in text
        assert (
            "not accepted (HTTP 401)" in text
            and "API key" in text
            and "OS Downloads settings" in text
        )
        assert "Traceback" not in text and "not-the-right-key-123" not in text
        assert dock.packages_tab.status_label.text() == "Listing data packages failed."
        assert hooked == []
    finally:
        auth.remove_credentials(values.authcfg)
