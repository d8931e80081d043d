"""QGIS fixtures for the dock tests: an iface with real menus/message bar, settings, keys.

pytest-qgis's stub iface lacks the Web menu/toolbar, Options pages and a real
message bar; ``plugin_iface`` wraps it with those, so tests read what a user
would see (message bar items, layer tree). ``plugin_settings`` points the
plugin at the replica and a temporary download folder.
"""

from __future__ import annotations

import faulthandler
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from postgis_fixtures import basic_auth_entry, password_role, save_connection  # noqa: F401
from qgis.core import QgsApplication, QgsProject, QgsSettings
from qgis.gui import QgsMessageBar
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QThreadPool

MASTER_PASSWORD = "pytest-master-password"
PROXY_KEYS = (
    "proxy/proxyEnabled",
    "proxy/proxyType",
    "proxy/proxyHost",
    "proxy/proxyPort",
    "proxy/proxyUser",
    "proxy/proxyPassword",
    "proxy/noProxyUrls",
    "proxy/proxyExcludedUrls",
    "proxy/authcfg",
)
# Where a holding is kept, remembered per data package (a GeoPackage, or a saved
# PostgreSQL connection's name and a schema).
HOLDING_KEYS = ("os_downloads/holdings", "os_downloads/holdings_postgis")


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Process Qt events until ``predicate()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        QgsApplication.processEvents()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(0.005)


def wait_for_task(task, timeout: float = 60.0) -> None:
    """Until the task's ``finished()`` ran (layers loaded, outcome emitted)."""
    wait_until(lambda: task.ended, timeout, f"task {task.title!r}")
    QgsApplication.processEvents()


class PluginIface:
    """pytest-qgis's iface plus what the plugin uses that the stub lacks."""

    def __init__(self, base: Any) -> None:
        self._base = base
        self._bar = QgsMessageBar(base.mainWindow())
        self.web_menu: Dict[str, List[Any]] = {}
        self.web_toolbar: List[Any] = []
        self.docks: List[Any] = []
        self.options_factories: List[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)

    def messageBar(self) -> QgsMessageBar:  # noqa: N802
        return self._bar

    def addPluginToWebMenu(self, name: str, action: Any) -> None:  # noqa: N802
        self.web_menu.setdefault(name, []).append(action)

    def removePluginWebMenu(self, name: str, action: Any) -> None:  # noqa: N802
        actions = self.web_menu.get(name, [])
        if action in actions:
            actions.remove(action)
        if not actions:
            self.web_menu.pop(name, None)

    def addWebToolBarIcon(self, action: Any) -> None:  # noqa: N802
        self.web_toolbar.append(action)

    def removeWebToolBarIcon(self, action: Any) -> None:  # noqa: N802
        self.web_toolbar.remove(action)

    def addDockWidget(self, area: Any, dock: Any) -> None:  # noqa: N802
        self.docks.append(dock)

    def removeDockWidget(self, dock: Any) -> None:  # noqa: N802
        self.docks.remove(dock)

    def registerOptionsWidgetFactory(self, factory: Any) -> None:  # noqa: N802
        self.options_factories.append(factory)

    def unregisterOptionsWidgetFactory(self, factory: Any) -> None:  # noqa: N802
        self.options_factories.remove(factory)

    def message_texts(self) -> List[str]:
        """Title and text of every message in the bar, as a user reads them."""
        texts = []
        for item in self._bar.items():
            texts.append(f"{item.title()}: {item.text()}")
        return texts


def stop_renders(canvas: Any) -> None:
    """Cancel the canvas's map renders (its main and preview jobs).

    ``stopRendering`` returns once the jobs' threads have ended, so no render
    of one test's layers runs on into the next test or into QGIS's exit.
    """
    if canvas is not None and not sip.isdeleted(canvas):
        canvas.stopRendering()
    QgsApplication.processEvents()


def wait_for_idle_thread_pool(timeout: float = 60.0) -> None:
    """Until Qt's global thread pool (renders and QgsTasks) has nothing running.

    QgsApplication.exitQgis(), pytest-qgis's last teardown, waits for that pool
    with no time limit; waiting here first, with events processed and a limit,
    turns a stuck thread into a reported failure instead of a hang.
    """
    pool = QThreadPool.globalInstance()
    deadline = time.monotonic() + timeout
    while pool.activeThreadCount() and time.monotonic() < deadline:
        QgsApplication.processEvents()
        pool.waitForDone(50)
    if pool.activeThreadCount():
        faulthandler.dump_traceback(all_threads=True)
        raise AssertionError(
            f"{pool.activeThreadCount()} pooled thread(s) still running before QGIS exits"
        )


@pytest.fixture(autouse=True)
def no_render_left_running(qgis_canvas):
    """After each test, no map render of its layers is still running."""
    yield
    stop_renders(qgis_canvas)


@pytest.fixture(autouse=True, scope="session")
def no_render_left_at_exit(qgis_app, qgis_canvas):
    """Before QGIS exits: no layers left to render, no render or task running."""
    yield
    if not sip.isdeleted(qgis_canvas):
        qgis_canvas.setLayers([])
    stop_renders(qgis_canvas)
    QgsProject.instance().clear()
    wait_for_idle_thread_pool()


@pytest.fixture
def plugin_iface(qgis_iface) -> PluginIface:
    iface = PluginIface(qgis_iface)
    yield iface
    iface.messageBar().clearWidgets()


@pytest.fixture(scope="session")
def master_password(qgis_app) -> str:
    """The auth database unlocked, as after the user typed the master password."""
    manager = QgsApplication.authManager()
    assert manager.setMasterPassword(MASTER_PASSWORD, True)
    return MASTER_PASSWORD


@pytest.fixture
def plugin_settings(replica, tmp_path: Path, master_password):
    """Plugin settings pointing at the replica and a fresh download folder; QGIS proxy off."""
    from os_downloads.integration import settings

    values = settings.PluginSettings(
        download_folder=str(tmp_path / "downloads"), api_url=replica.api_url
    )
    settings.save(values)
    qs = QgsSettings()
    for key in PROXY_KEYS + HOLDING_KEYS:  # a holding remembered by another test is not ours
        qs.remove(key)
    yield values
    settings.save(settings.PluginSettings())
    for key in PROXY_KEYS + HOLDING_KEYS:
        qs.remove(key)


@pytest.fixture
def stored_key(plugin_settings, replica):
    """The replica's key stored in the auth manager and referenced by the settings."""
    from os_downloads.integration import auth, settings

    authcfg = auth.store_credentials(auth.ApiCredentials(replica.api_key))
    values = settings.load()
    values.authcfg = authcfg
    settings.save(values)
    yield authcfg
    auth.remove_credentials(authcfg)


@pytest.fixture
def dock(plugin_iface, plugin_settings, qgis_new_project):
    """The dock, shown (so it lists products), on a clean project."""
    from os_downloads.ui.dock import OSDownloadsDock

    widget = OSDownloadsDock(plugin_iface)
    widget.show()
    yield widget
    widget.shutdown()
    widget.deleteLater()
    QgsProject.instance().clear()
    QgsApplication.processEvents()
