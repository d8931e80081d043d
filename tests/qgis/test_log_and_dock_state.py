"""The log panel's lines (issue 16 §6) and the dock remembered between sessions (§5)."""

from __future__ import annotations

import warnings

from conftest import wait_until
from qgis.core import Qgis, QgsApplication, QgsSettings

from os_downloads.core.redact import get_logger
from os_downloads.integration.log import (
    LOG_TAB,
    PACKAGE_LOGGER,
    install_log_handler,
    remove_log_handler,
)
from os_downloads.plugin import DOCK_STATE_KEY, OSDownloadsPlugin


def test_log_lines_are_plain_one_level_each(qgis_app):
    seen = []

    def collect(message, tag, level):
        if tag == LOG_TAB:
            seen.append((message, level))

    QgsApplication.messageLog().messageReceived.connect(collect)
    handler = install_log_handler()
    try:
        with warnings.catch_warnings(record=True) as python_warnings:
            warnings.simplefilter("always")
            get_logger(f"{PACKAGE_LOGGER}.downloads").info("Started: OS Open Rivers")
            get_logger(f"{PACKAGE_LOGGER}.core.net.http").warning("HTTP 503; trying again in 2 s")
            wait_until(lambda: len(seen) >= 2, 5, "the log lines")
    finally:
        remove_log_handler(handler)
        QgsApplication.messageLog().messageReceived.disconnect(collect)
    assert seen == [
        ("Started: OS Open Rivers", Qgis.MessageLevel.Info),
        ("HTTP 503; trying again in 2 s", Qgis.MessageLevel.Warning),
    ]
    assert [w for w in python_warnings if "os_downloads" in str(w.filename)] == []


def test_the_dock_comes_back_as_it_was_left(plugin_iface, plugin_settings):
    qs = QgsSettings()
    plugin_iface.mainWindow().show()
    try:
        plugin = OSDownloadsPlugin(plugin_iface)
        plugin.initGui()
        plugin.toggle_action.trigger()  # the user opens it
        wait_until(lambda: plugin.dock is not None and plugin.dock.isVisible(), 5, "the dock")
        plugin.unload()  # QGIS closes
        assert str(qs.value(f"{DOCK_STATE_KEY}/visible")).lower() == "true"

        again = OSDownloadsPlugin(plugin_iface)  # the next start
        again.initGui()
        wait_until(lambda: again.dock is not None and again.dock.isVisible(), 5, "restored")
        assert again.toggle_action.isChecked()
        again.toggle_action.trigger()  # the user closes it
        again.unload()
        assert str(qs.value(f"{DOCK_STATE_KEY}/visible")).lower() == "false"

        third = OSDownloadsPlugin(plugin_iface)
        third.initGui()
        for _ in range(20):
            QgsApplication.processEvents()
        assert third.dock is None  # left closed, stays closed
        third.unload()
    finally:
        qs.remove(DOCK_STATE_KEY)
        plugin_iface.mainWindow().hide()
