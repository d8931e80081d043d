"""The settings page's checks (issue 16 §5): which server is in use, "Test connection",
"Test key", the download folder checked when chosen, the master-password note."""

from __future__ import annotations

import pytest
from conftest import wait_until


@pytest.fixture
def page(plugin_settings):
    from os_downloads.ui.settings_page import SettingsWidget

    widget = SettingsWidget()
    yield widget
    widget.deleteLater()


def _answer(page, button):
    answers = []
    page.checked.connect(answers.append)
    button.click()
    wait_until(lambda: answers, 30, "the check's answer")
    return answers[0], page.check_state.text()


def test_test_connection_lists_the_products(page, replica):
    ok, text = _answer(page, page.test_connection_button)
    assert ok, text
    assert text.startswith(f"Connected to {replica.api_url}:") and "products listed" in text


def test_test_key_with_a_good_and_a_bad_key(page, replica):
    page.key_edit.setText(replica.api_key)
    ok, text = _answer(page, page.test_key_button)
    assert ok and text.startswith("The key works:"), text
    page.key_edit.setText("not-the-key")
    ok, text = _answer(page, page.test_key_button)
    assert not ok and "key" in text.lower(), text
    assert "the key field above" in text or "HTTP 401" in text, text


def test_no_key_yet_says_qgis_will_ask_for_its_master_password(page):
    assert "master password" in page.key_state.text()


def test_the_api_url_field_shows_the_server_an_environment_variable_set(
    plugin_settings, monkeypatch
):
    from os_downloads.ui.settings_page import SettingsWidget

    monkeypatch.setenv("OS_DOWNLOADS_API_URL", "http://127.0.0.1:9/downloads/v1")
    widget = SettingsWidget()
    widget.url_edit.clear()
    assert widget.url_state.text() == (
        "In use: http://127.0.0.1:9/downloads/v1 "
        "(from the OS_DOWNLOADS_API_URL environment variable)."
    )
    assert widget.url_edit.placeholderText() == "http://127.0.0.1:9/downloads/v1"
    widget.deleteLater()


def test_a_folder_nothing_can_be_written_in_is_said_when_chosen(page, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    page.folder_widget.setFilePath(str(blocker / "downloads"))
    assert page.folder_state.text().startswith("Files cannot be written in"), (
        page.folder_state.text()
    )
    page.folder_widget.setFilePath(str(tmp_path / "fine"))
    assert "sub-folder" in page.folder_state.text()
