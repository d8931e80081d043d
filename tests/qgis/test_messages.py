"""The words a user reads when a download ends or waits (issue 16 §4), under the replica's faults.

Each test reads the QGIS message bar (title, text, level, buttons) or the task's
status line in the dock, as a user would.
"""

from __future__ import annotations

import socket

import pytest
from conftest import wait_for_task, wait_until
from qgis.core import Qgis, QgsApplication, QgsProject, QgsTask
from qgis.PyQt.QtWidgets import QPushButton

RIVERS_GROUP = "OS Open Rivers 2025-10 (GeoPackage)"


def _items(iface):
    return list(iface.messageBar().items())


def _buttons(item):
    return {b.text(): b for b in item.findChildren(QPushButton)}


def _ready(dock, product_id="OpenRivers"):
    from os_downloads.integration import task as tasks

    # a retry notice logged by a download worker goes to the one task running: tasks
    # of earlier tests still winding down would leave it with no single owner
    wait_until(lambda: not tasks.executing_tasks(), 60, "earlier tasks to end")
    QgsProject.instance().clear()  # a download already in the project is only focused
    tab = dock.opendata_tab
    wait_until(lambda: tab.select_product(product_id), 20, f"{product_id} in the list")
    wait_until(lambda: tab.format_combo.count(), 20, "formats")


def _download(dock, product_id, fmt, area="GB", sub=None):
    task = dock.download_and_load_product(product_id, fmt, area, sub)
    assert task is not None, dock.notice.text()
    wait_for_task(task, 120)
    return task, dock.outcomes[-1]


def test_first_download_says_how_much_then_nothing_new(dock, plugin_iface):
    _ready(dock)
    _task, outcome = _download(dock, "OpenRivers", "GeoPackage")
    assert outcome.ok, outcome.error
    [item] = _items(plugin_iface)
    assert item.level() == Qgis.MessageLevel.Success
    assert item.text().startswith("Downloaded "), item.text()
    assert " MB" in item.text() or " kB" in item.text() or " KB" in item.text(), item.text()
    assert item.text().endswith(f': 2 layers in "{RIVERS_GROUP}".'), item.text()
    assert str(outcome.folder) not in item.text()  # behind "Open folder"
    assert _buttons(item)["Open folder"].toolTip() == str(outcome.folder)

    plugin_iface.messageBar().clearWidgets()
    QgsProject.instance().clear()  # else it is only shown again ("Already in the project")
    _task, again = _download(dock, "OpenRivers", "GeoPackage")
    [item] = _items(plugin_iface)
    assert item.text() == (
        f'Loaded from your earlier download (nothing new): 2 layers in "{RIVERS_GROUP}".'
    )
    assert item.level() == Qgis.MessageLevel.Success


def test_one_message_per_download_not_buried_under_qgis_task_notice(dock, plugin_iface):
    """QGIS's app shows "Task complete: <description>" after a task's finished();
    3.26+ is told not to (Silent), 3.22 gets our text and the notice is taken off."""
    bar = plugin_iface.messageBar()
    manager = QgsApplication.taskManager()

    def like_qgis_app(task_id, status):  # what qgisapp.cpp does on 3.22
        task = manager.task(task_id)
        if task is None or status not in (
            QgsTask.TaskStatus.Complete,
            QgsTask.TaskStatus.Terminated,
        ):
            return
        if hasattr(QgsTask.Flag, "Silent") and task.flags() & QgsTask.Flag.Silent:
            return
        title = "Task complete" if status == QgsTask.TaskStatus.Complete else "Task failed"
        bar.pushInfo(title, task.description())
        seen.append(task.description())

    seen = []
    # connected before the dock's slot, as QgisApp's is (it exists before any plugin)
    manager.statusChanged.connect(like_qgis_app)
    try:
        _ready(dock)
        task, outcome = _download(dock, "OpenRivers", "GeoPackage")
        for _ in range(5):
            QgsApplication.processEvents()
    finally:
        manager.statusChanged.disconnect(like_qgis_app)
    titles = [item.title() for item in _items(plugin_iface)]
    assert titles == ["OS Downloads"], plugin_iface.message_texts()
    if not hasattr(QgsTask.Flag, "Silent"):
        assert seen == [_items(plugin_iface)[0].text()]  # QGIS's notice carried our words


def test_file_without_checksum_is_a_warning_not_a_green_success(dock, plugin_iface):
    _ready(dock, "GBOverviewMaps")
    _task, outcome = _download(dock, "GBOverviewMaps", "GeoTIFF", "GB", "Full Colour")
    assert outcome.ok, outcome.error
    [item] = _items(plugin_iface)
    assert item.level() == Qgis.MessageLevel.Warning
    assert "loaded with warnings" in item.title()
    assert "1 file could not be checked: the listing has no checksum" in item.text()
    assert "gboverviewmaps_gtiff_gb.zip" in item.text()


def test_unreadable_dataset_is_named_in_a_warning(dock, plugin_iface):
    _ready(dock)
    _task, outcome = _download(dock, "OpenRivers", "GeoPackage")
    gpkg = next(outcome.folder.rglob("*.gpkg"))
    gpkg.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)  # damaged on disk since
    plugin_iface.messageBar().clearWidgets()
    QgsProject.instance().clear()  # else it is only shown again ("Already in the project")
    _task, again = _download(dock, "OpenRivers", "GeoPackage")
    [item] = _items(plugin_iface)
    unreadable = again.prepared.result.manifest.unreadable
    assert unreadable, "discovery should mark the damaged GeoPackage"
    assert item.level() == Qgis.MessageLevel.Warning
    assert f"{gpkg.name} could not be read:" in item.text(), item.text()


def test_rate_limit_wait_shows_in_the_task_status(dock, replica, plugin_iface):
    _ready(dock)
    replica.set_faults(api_429_count=2, retry_after=1)
    task, outcome = _download(dock, "OpenRivers", "GeoPackage")
    assert outcome.ok, outcome.error
    assert "Waiting 1 s: the API's request limit was reached (retry 1 of 5)" in task.notices
    assert "Waiting 1 s: the API's request limit was reached (retry 2 of 5)" in task.notices


def test_dropped_connection_says_resuming(dock, replica):
    _ready(dock)
    # two drops: a picture the dock fetches meanwhile from storage may take the first
    replica.set_faults(drop_count=2, drop_after_bytes=5000)
    task, outcome = _download(dock, "OpenRivers", "GeoPackage")
    assert outcome.ok, outcome.error
    assert "Connection lost, resuming oprvrs_gpkg_gb.zip…" in task.notices, task.notices


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_error_in_words_with_a_settings_button(dock, plugin_iface, plugin_settings):
    from os_downloads.integration import settings

    _ready(dock)
    values = settings.load()
    values.api_url = f"http://127.0.0.1:{_closed_port()}/downloads/v1"
    settings.save(values)
    opened = []
    dock.open_settings = lambda: opened.append(True)  # the dialog itself is modal
    pages = []
    plugin_iface.showOptionsDialog = lambda parent, page="": pages.append(page)
    _task, outcome = _download(dock, "OpenRivers", "GeoPackage")
    assert not outcome.ok
    [item] = _items(plugin_iface)
    assert item.level() == Qgis.MessageLevel.Critical
    assert item.title() == "OS Open Rivers: download failed"
    assert "proxy" in item.text() and "urllib3" not in item.text(), item.text()
    assert "HTTPConnectionPool" not in item.text()
    _buttons(item)["Settings"].click()
    assert opened == [True]
    _buttons(item)["Network settings"].click()  # QGIS's proxy options
    assert pages == ["mOptionsPageNetwork"]


@pytest.fixture
def locked_auth_db(stored_key, master_password):
    """Keys stored, then QGIS restarted as it were: the master password not yet entered.
    A recording credentials handler stands in for the password dialog."""
    from qgis.core import QgsCredentials

    from os_downloads.integration.auth import remove_trud_key, store_trud_key
    from os_downloads.integration.settings import load_trud_settings, save_trud_settings

    values = load_trud_settings()
    values.authcfg = store_trud_key("trud-test-key", values.authcfg)
    values.items = "341"
    save_trud_settings(values)

    class Recorder(QgsCredentials):
        def __init__(self):
            super().__init__()
            self.asked = 0
            self.setInstance(self)

        def request(self, realm, username, password, message=""):
            return False, username, password

        def requestMasterPassword(self, password, stored=False):  # noqa: N802
            self.asked += 1
            return False, password

    recorder = Recorder()
    manager = QgsApplication.authManager()
    manager.clearMasterPassword()
    yield recorder
    assert manager.setMasterPassword(master_password, True)
    remove_trud_key(values.authcfg)
    values.authcfg = ""
    values.items = ""
    save_trud_settings(values)


def test_showing_tabs_never_asks_for_the_master_password(
    locked_auth_db, plugin_iface, plugin_settings, qgis_new_project
):
    from os_downloads.ui.dock import OSDownloadsDock

    dock = OSDownloadsDock(plugin_iface)
    try:
        dock.show()
        for index in range(dock.tabs.count()):
            dock.tabs.setCurrentIndex(index)
            for _ in range(20):
                QgsApplication.processEvents()
        assert locked_auth_db.asked == 0
        assert not QgsApplication.authManager().masterPasswordIsSet()
        # and the tabs say what a click will do
        assert "master password" in dock.trud_tab.status_label.text()
        assert "master password" in dock.packages_tab.status_label.text()
    finally:
        dock.shutdown()
        dock.deleteLater()
        QgsApplication.processEvents()


def test_a_stalled_transfer_says_so_instead_of_the_last_rate(dock, replica):
    _ready(dock)
    replica.set_faults(storage_hang_seconds=9)  # the file server answers nothing for 9 s
    task = dock.download_and_load_product("OpenRivers", "GeoPackage")
    seen = set()

    def stalled():
        seen.add(dock.progress.status_label.text())
        return any(t.startswith("Stalled: no data for ") for t in seen) or task.ended

    wait_until(stalled, 60, "a stall to be reported")
    task.cancel()
    wait_for_task(task, 30)
    assert any(t.startswith("Stalled: no data for ") for t in seen), seen
    assert not any("/s)" in t for t in seen if t.startswith("Stalled")), seen
