"""The plugin object: toolbar button and Web menu toggle the dock; unload leaves nothing."""

from __future__ import annotations

import logging

from conftest import wait_until

from os_downloads.core.redact import get_logger
from os_downloads.integration.log import PACKAGE_LOGGER, QgisLogHandler
from os_downloads.plugin import OSDownloadsPlugin


def _our_handlers():
    return [h for h in get_logger(PACKAGE_LOGGER).handlers if isinstance(h, QgisLogHandler)]


def test_init_gui_toggle_and_clean_unload(plugin_iface, plugin_settings):
    before = len(_our_handlers())
    plugin = OSDownloadsPlugin(plugin_iface)
    plugin.initGui()
    assert plugin.toggle_action in plugin_iface.web_toolbar
    menu = plugin_iface.web_menu[plugin.menu_name]
    assert plugin.toggle_action in menu and plugin.settings_action in menu
    assert len(plugin_iface.options_factories) == 1
    assert len(_our_handlers()) == before + 1
    assert plugin.dock is None  # nothing is built (or fetched) until asked for
    plugin_iface.mainWindow().show()  # offscreen; the dock lists products when it shows

    plugin.toggle_action.trigger()
    dock = plugin.dock
    assert dock is not None and dock.isVisible() and dock in plugin_iface.docks
    wait_until(lambda: dock.opendata_tab.products, 20, "products listed on first show")
    plugin.toggle_action.trigger()
    assert not dock.isVisible()
    assert plugin.show_dock() is dock and dock.isVisible()
    assert plugin.toggle_action.isChecked()

    plugin.unload()
    assert plugin_iface.web_toolbar == [] and plugin_iface.web_menu == {}
    assert plugin_iface.docks == [] and plugin_iface.options_factories == []
    assert plugin.dock is None and plugin.toggle_action is None
    assert len(_our_handlers()) == before
    plugin_iface.mainWindow().hide()


def test_log_records_reach_the_qgis_log_panel_redacted(qgis_app):
    from qgis.core import QgsApplication

    from os_downloads.core.redact import register_secret
    from os_downloads.integration.log import LOG_TAB, install_log_handler, remove_log_handler

    seen = []

    def collect(message, tag, level):
        seen.append((tag, message))

    QgsApplication.messageLog().messageReceived.connect(collect)
    handler = install_log_handler()
    try:
        register_secret("super-secret-key-123")
        get_logger(f"{PACKAGE_LOGGER}.test").warning("calling ?key=super-secret-key-123 now")
        wait_until(lambda: any(tag == LOG_TAB for tag, _m in seen), 5, "the log message")
    finally:
        remove_log_handler(handler)
        QgsApplication.messageLog().messageReceived.disconnect(collect)
    ours = [m for tag, m in seen if tag == LOG_TAB]
    assert any("calling" in m for m in ours)
    assert not any("super-secret-key-123" in m for m in ours)
    assert logging.getLogger(PACKAGE_LOGGER).handlers.count(handler) == 0
