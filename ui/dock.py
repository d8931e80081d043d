"""The OS Downloads dock: tabs for OpenData and data packages, a message bar, progress.

More tabs (NHS TRUD) are added with ``add_tab``; each gets the shared
``DockContext``. The dock lists nothing until it is first shown, so QGIS
starts without network calls.
"""

from __future__ import annotations

from typing import Any, List, Optional

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateTransform,
    QgsCsException,
    QgsProject,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import Qt, QTimer, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QPushButton, QTabWidget, QToolButton, QVBoxLayout, QWidget

from ..i18n import tr
from ..integration.background import BackgroundRunner
from ..integration.compat import QGIS_TASK_NOTICE_TITLES, null_rectangle
from ..integration.downloads import DownloadOutcome, DownloadService
from ..integration.layers import add_layers
from ..integration.log import plugin_logger
from ..integration.task import JobTask
from .context import DockContext
from .my_downloads_tab import MyDownloadsTab
from .notice import Notice
from .opendata_tab import OpenDataTab
from .outcome_text import outcome_message
from .packages_tab import PackagesTab
from .progress_panel import ProgressPanel
from .settings_page import SettingsDialog
from .trud_tab import TrudTab

log = plugin_logger("dock")

RESULT_SECONDS = 20
NETWORK_OPTIONS_PAGE = "mOptionsPageNetwork"  # QGIS Options' Network page (its object name)


class OSDownloadsDock(QgsDockWidget):
    """The dock. Public API (demo script, tests): ``download_and_load_product``,
    ``download_and_load_package_version``, ``add_tab``, ``opendata_tab``,
    ``packages_tab``, ``trud_tab``, ``outcomes``."""

    outcome_shown = pyqtSignal(object)  # DownloadOutcome, after its message is up

    def __init__(self, iface, parent: Optional[QWidget] = None) -> None:
        super().__init__(tr("OS Downloads"), parent)
        self.setObjectName("OSDownloadsDock")
        self.iface = iface
        self.runner = BackgroundRunner(self)
        self.downloads = DownloadService(self)
        self.outcomes: List[DownloadOutcome] = []
        self._listed = False

        body = QWidget()
        self.notice = Notice(body)
        self.tabs = QTabWidget(body)
        self.progress = ProgressPanel(body)
        self.settings_button = QToolButton(self.tabs)
        self.settings_button.setIcon(QgsApplication.getThemeIcon("/mActionOptions.svg"))
        self.settings_button.setText(tr("Settings"))
        self.settings_button.setToolTip(
            tr("OS Downloads settings: API key, API address, download folder")
        )
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setAutoRaise(True)
        self.tabs.setUsesScrollButtons(True)  # narrow docks: tabs scroll, the button stays
        self.settings_button.clicked.connect(self.open_settings)
        self.tabs.setCornerWidget(self.settings_button)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.progress)
        self.setWidget(body)

        self.context = DockContext(
            iface=iface,
            runner=self.runner,
            downloads=self.downloads,
            notice=self.notice,
            open_settings=self.open_settings,
        )
        self.opendata_tab = OpenDataTab(self.context)
        self.packages_tab = PackagesTab(self.context)
        self.add_tab(self.opendata_tab, tr("OS OpenData"))
        self.add_tab(self.packages_tab, tr("My data packages"))
        self.trud_tab = TrudTab(self.context)
        self.add_tab(self.trud_tab, tr("NHS TRUD"))
        self.my_downloads_tab = MyDownloadsTab(self.context, holdings=self.packages_tab.holdings)
        self.add_tab(self.my_downloads_tab, tr("My downloads"))
        self.tabs.currentChanged.connect(self._tab_shown)

        self.downloads.started.connect(self.progress.track)
        self.downloads.shown.connect(self.progress.bring_forward)
        self.downloads.ended.connect(self._on_ended)
        self.packages_tab.holdings.started.connect(self.progress.track)
        self.packages_tab.holdings.ended.connect(self._on_holding_ended)
        # QGIS 3.22 has no QgsTask.Flag.Silent: its own "Task complete" notice is
        # taken off the bar again (it carries our text, see _on_ended).
        self._ended_tasks: dict = {}
        QgsApplication.taskManager().statusChanged.connect(self._drop_qgis_task_notice)

    # --- public API -------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str, icon: Optional[QIcon] = None) -> int:
        """Add a tab (it should take ``dock.context``); returns its index."""
        if icon is not None:
            return self.tabs.addTab(widget, icon, title)
        return self.tabs.addTab(widget, title)

    def download_and_load_product(
        self, product_id: str, format: str, area: str = "GB", subformat: Optional[str] = None
    ) -> Optional[JobTask]:
        """What the "Download and load" button does, for scripts; returns the running task."""
        return self.opendata_tab.start_download(product_id, format, area, subformat)

    def download_and_load_package_version(
        self, package_id: str, version_id: str = "latest"
    ) -> Optional[JobTask]:
        return self.packages_tab.start_download(package_id, version_id)

    def refresh(self) -> None:
        """(Re)list products and data packages in the background."""
        self._listed = True
        self.opendata_tab.load_products()
        self.packages_tab.refresh()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.iface.mainWindow() if self.iface else self)
        dialog.page.saved.connect(self.settings_changed)
        dialog.exec()

    def settings_changed(self) -> None:
        """After the settings were saved (here or in QGIS Options): list again."""
        if self._listed:
            self.refresh()

    def shutdown(self) -> None:
        """Plugin unload: stop background work, cancel downloads, drop connections."""
        self.opendata_tab.finish_choosing()
        self.downloads.cancel_all()
        self.runner.shutdown()
        try:
            self.downloads.started.disconnect()
            self.downloads.ended.disconnect()
            QgsApplication.taskManager().statusChanged.disconnect(self._drop_qgis_task_notice)
            self.downloads.shown.disconnect()
        except (TypeError, RuntimeError):
            pass

    # --- events -----------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._listed:  # never a master-password prompt just for showing
            self._listed = True
            self.opendata_tab.load_products()
            self.packages_tab.refresh(asked=False)

    def _tab_shown(self, index: int) -> None:
        """My downloads: list what is on disk; check for updates at most once a day."""
        if self.tabs.widget(index) is self.my_downloads_tab:
            self.my_downloads_tab.refresh()
            self.my_downloads_tab.check_updates()

    def _on_ended(self, outcome: DownloadOutcome) -> None:
        self.progress.untrack(outcome.task)
        self.outcomes.append(outcome)
        try:
            text = outcome_message(outcome).text
            # QGIS's own end-of-task notice (if it shows one) reads the description.
            outcome.task.setDescription(text)
            if outcome.task.task_id is not None:
                self._ended_tasks[outcome.task.task_id] = text
            show_outcome(self.iface, outcome, self.open_settings)
        finally:
            self.outcome_shown.emit(outcome)

    def _on_holding_ended(self, outcome: Any) -> None:
        from ..integration.holdings import holding_text

        self.progress.untrack(outcome.task)
        level = Qgis.MessageLevel.Success if outcome.ok else Qgis.MessageLevel.Critical
        if outcome.cancelled:
            level = Qgis.MessageLevel.Info
        self.iface.messageBar().pushMessage(tr("OS Downloads"), holding_text(outcome), level, 10)

    def _drop_qgis_task_notice(self, task_id: int, status: int) -> None:
        """After QGIS pushed "Task complete: <our text>" for one of our tasks, remove
        it: our own message with its buttons is already there."""
        text = self._ended_tasks.pop(task_id, None)
        if text is not None:  # after every other listener of this signal has run
            QTimer.singleShot(0, lambda: self._pop_task_notice(text))

    def _pop_task_notice(self, text: str) -> None:
        bar = self.iface.messageBar() if self.iface else None
        for item in list(bar.items()) if bar is not None else []:
            if item.title() in QGIS_TASK_NOTICE_TITLES and item.text() == text:
                bar.popWidget(item)


def outcome_text(outcome: DownloadOutcome) -> str:
    """The words the message bar shows when a download ends (see ``outcome_text``)."""
    return outcome_message(outcome).text


def show_outcome(iface, outcome: DownloadOutcome, open_settings=None) -> None:
    """Push the result to the QGIS message bar: "Zoom to", "Open folder", and
    "Settings" when the key or the network set-up is the cause of a failure."""
    bar = iface.messageBar()
    message = outcome_message(outcome)
    folder = outcome.folder
    if outcome.report is not None and outcome.report.already_loaded:
        focus_group(iface, outcome.report)
    offer_settings = message.settings_help and open_settings is not None
    if (folder is None and not offer_settings and not message.network_help) or not hasattr(
        bar, "createMessage"
    ):
        bar.pushMessage(message.title, message.text, message.level, RESULT_SECONDS)
        return
    item = bar.createMessage(message.title, message.text)
    layers = list(outcome.report.layers) if outcome.report else []
    if outcome.report is not None and outcome.report.already_loaded and outcome.prepared:
        prepared = outcome.prepared
        again = QPushButton(tr("Add again"), item)
        again.setToolTip(tr("Add a second copy of the layers"))
        again.clicked.connect(
            lambda: add_layers(
                prepared.sources,
                prepared.group_name,
                manifest=prepared.result.manifest,
                names=prepared.layer_names,
                again=True,
            )
        )
        item.layout().addWidget(again)
    if layers and hasattr(iface, "mapCanvas"):
        zoom = QPushButton(tr("Zoom to"), item)
        zoom.setToolTip(tr("Show the loaded layers on the map"))
        zoom.clicked.connect(lambda: zoom_to_layers(iface.mapCanvas(), layers))
        item.layout().addWidget(zoom)
    if folder is not None:
        button = QPushButton(tr("Open folder"), item)
        button.setToolTip(str(folder))
        button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
        item.layout().addWidget(button)
    if offer_settings:
        settings = QPushButton(tr("Settings"), item)
        settings.setToolTip(tr("Open the OS Downloads settings (API key, API address, proxy)"))
        settings.clicked.connect(open_settings)
        item.layout().addWidget(settings)
    if message.network_help and hasattr(iface, "showOptionsDialog"):
        network = QPushButton(tr("Network settings"), item)
        network.setToolTip(tr("QGIS's proxy and network options (Settings > Options > Network)"))
        network.clicked.connect(
            lambda: iface.showOptionsDialog(iface.mainWindow(), NETWORK_OPTIONS_PAGE)
        )
        item.layout().addWidget(network)
    duration = 0 if message.level == Qgis.MessageLevel.Critical else RESULT_SECONDS
    bar.pushWidget(item, message.level, duration)


def focus_group(iface, report) -> None:
    """Select the group already holding a download's layers in the Layers panel."""
    view = iface.layerTreeView() if hasattr(iface, "layerTreeView") else None
    if view is None or report.group is None:
        return
    try:
        index = view.layerTreeModel().node2index(report.group)
        proxy = view.proxyModel() if hasattr(view, "proxyModel") else None
        view.setCurrentIndex(proxy.mapFromSource(index) if proxy is not None else index)
        report.group.setExpanded(True)
    except (AttributeError, RuntimeError, TypeError):
        log.debug("Could not select the group %s", report.group_name, exc_info=True)


def zoom_to_layers(canvas, layers) -> None:
    """Fit the map to the layers (in the canvas CRS); layers removed since are skipped."""
    project = QgsProject.instance()
    extent = null_rectangle()
    for layer in layers:
        try:
            if project.mapLayer(layer.id()) is None or not layer.isSpatial():
                continue
            transform = QgsCoordinateTransform(
                layer.crs(), canvas.mapSettings().destinationCrs(), project
            )
            extent.combineExtentWith(transform.transformBoundingBox(layer.extent()))
        except (RuntimeError, QgsCsException):
            continue
    if not extent.isNull() and not extent.isEmpty():
        extent.scale(1.05)
        canvas.setExtent(extent)
        canvas.refresh()
