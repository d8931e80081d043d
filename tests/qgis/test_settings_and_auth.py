"""Settings and the key: typed values in QgsSettings, the key only in the auth manager."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings

from os_downloads.core.api.auth import ApiKeyAuth, OAuth2ClientCredentials
from os_downloads.integration import auth, settings
from os_downloads.ui.settings_page import SettingsPageFactory, SettingsWidget

KEY = "pytest-secret-key-7f3a9c"
SECRET = "pytest-secret-secret-91bd"


def _settings_file_text() -> str:
    qs = QgsSettings()
    qs.sync()
    return Path(qs.fileName()).read_text(encoding="utf-8", errors="replace")


def test_defaults_and_typed_round_trip(plugin_settings, tmp_path):
    settings.save(settings.PluginSettings())
    values = settings.load()
    assert values.parallel_downloads == 4
    assert values.extract_after_download is True and values.load_after_download is True
    assert values.download_root == settings.default_download_folder()

    values.parallel_downloads = 2
    values.load_after_download = False
    values.download_folder = str(tmp_path)
    settings.save(values)
    again = settings.load()
    assert again.parallel_downloads == 2 and again.load_after_download is False
    assert again.download_root == tmp_path


def test_the_settings_page_stores_the_key_in_the_auth_manager_only(plugin_settings):
    page = SettingsWidget()
    page.key_edit.setText(KEY)
    page.secret_edit.setText(SECRET)
    page.workers_spin.setValue(3)
    assert page.save(), page.error_label.text()

    values = settings.load()
    assert values.authcfg and values.parallel_downloads == 3
    credentials = auth.load_credentials(values.authcfg)
    assert credentials.key == KEY and credentials.secret == SECRET
    assert isinstance(credentials.to_auth(), OAuth2ClientCredentials)
    assert KEY not in repr(credentials)
    text = _settings_file_text()
    assert values.authcfg in text
    assert KEY not in text and SECRET not in text
    assert page.key_edit.text() == ""  # write-only fields
    assert values.authcfg in page.key_state.text()

    # Replacing the key keeps the same entry; removing it deletes the entry.
    page.key_edit.setText(KEY + "-new")
    assert page.save()
    assert settings.load().authcfg == values.authcfg
    replaced = auth.load_credentials(values.authcfg)
    assert replaced.key == KEY + "-new" and replaced.secret == ""
    assert isinstance(replaced.to_auth(), ApiKeyAuth)
    page.remove_key_button.click()
    assert page.save()
    assert settings.load().authcfg == ""
    assert not auth.has_credentials(values.authcfg)
    assert KEY not in _settings_file_text()


def test_options_page_factory_makes_the_page(plugin_settings):
    factory = SettingsPageFactory()
    widget = factory.createWidget(None)
    assert isinstance(widget, SettingsWidget)
    assert factory.title() == "OS Downloads"
