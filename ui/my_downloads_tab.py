"""The "My downloads" tab: everything already on disk, with its state, and what to do with it."""

from __future__ import annotations

from typing import List, Optional

from qgis.PyQt.QtCore import Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QBrush, QColor, QDesktopServices
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.formatting import format_bytes
from ..core.local.holdings_inventory import STATE_UNREACHABLE, LocalHolding
from ..core.local.inventory import (
    STATE_CURRENT,
    STATE_DAMAGED,
    STATE_UNCHECKED,
    STATE_UNVERIFIED,
    LocalDownload,
)
from ..i18n import tr
from ..integration.holdings import HoldingService
from ..integration.layers import LoadReport
from ..integration.my_downloads_service import MyDownloadsService
from .context import DockContext

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
BADGE_COLOURS = {
    STATE_CURRENT: "#2e7d32",
    STATE_DAMAGED: "#b71c1c",
    STATE_UNVERIFIED: "#a04000",
    STATE_UNCHECKED: "#606060",
    STATE_UNREACHABLE: "#b71c1c",
}
UPDATE_COLOUR = "#1565c0"
STATE_COLUMN = 1


def _state_tip(item) -> str:
    """Which files are missing or changed; which versions are newer (pending, a holding)."""
    if isinstance(item, LocalHolding):
        lines = [item.problem] if item.problem else []
        lines += list(item.pending or [])
        if item.pending_error:
            lines.append(item.pending_error)
        return "\n".join(lines) or _where(item)
    lines = [tr("Missing: {name}").format(name=n) for n in item.missing]
    lines += [tr("Changed since download: {name}").format(name=n) for n in item.modified]
    if item.update is not None and item.update.newer_versions:
        lines.append(tr("Newer: {versions}").format(versions=", ".join(item.update.newer_versions)))
    return "\n".join(lines) or str(item.folder)


def _where(item) -> str:
    """A holding's home in words: its file, or its schema and saved connection."""
    if isinstance(item, LocalHolding) and item.is_postgis:
        return tr("PostGIS: schema {schema} in {connection}").format(
            schema=item.schema, connection=item.connection
        )
    return str(getattr(item, "path", item.folder))


def state_words(state: str) -> str:
    words = {
        STATE_CURRENT: tr("up to date"),
        STATE_DAMAGED: tr("files missing or modified"),
        STATE_UNVERIFIED: tr("not verified"),
        STATE_UNCHECKED: tr("not checked for updates"),
        STATE_UNREACHABLE: tr("database not reachable"),
        "update available": tr("update available"),
    }
    if state in words:
        return words[state]
    count = state.split(" ", 1)[0]
    return tr("{count} change-only updates pending").format(count=count)


class MyDownloadsTab(QWidget):
    listed = pyqtSignal(int)
    loaded = pyqtSignal(object)  # LoadReport

    def __init__(
        self,
        context: DockContext,
        parent: Optional[QWidget] = None,
        holdings: Optional[HoldingService] = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.service = MyDownloadsService(
            context.runner, context.downloads, holdings or HoldingService(self)
        )
        self.items: List[LocalDownload] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(
            [
                tr("Download"),
                tr("State"),
                tr("Version"),
                tr("Format"),
                tr("Area"),
                tr("Size"),
                tr("When"),
                tr("Verified"),
            ]
        )
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 150)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.check_button = QPushButton(tr("Check for updates"))
        self.load_button = QPushButton(tr("Load"))
        self.load_button.setToolTip(tr("Add the layers from disk; no internet needed"))
        self.update_button = QPushButton(tr("Update"))
        self.verify_button = QPushButton(tr("Verify again"))
        self.verify_button.setToolTip(tr("Read every file again and compare its checksum"))
        self.folder_button = QPushButton(tr("Open folder"))
        self.delete_button = QPushButton(tr("Delete…"))
        top = QHBoxLayout()
        top.addWidget(self.refresh_button)
        top.addWidget(self.check_button)
        top.addStretch(1)
        actions = QHBoxLayout()
        for button in (
            self.load_button,
            self.update_button,
            self.verify_button,
            self.folder_button,
            self.delete_button,
        ):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status_label)

        self.refresh_button.clicked.connect(self.refresh)
        self.check_button.clicked.connect(lambda: self.check_updates(force=True))
        self.load_button.clicked.connect(self.load_selected)
        self.update_button.clicked.connect(self.update_selected)
        self.verify_button.clicked.connect(self.verify_selected)
        self.folder_button.clicked.connect(self.open_selected_folder)
        self.delete_button.clicked.connect(self.delete_selected)
        self.tree.itemSelectionChanged.connect(self._enable)
        self.tree.itemDoubleClicked.connect(lambda *_: self.load_selected())
        context.downloads.ended.connect(lambda _outcome: self.refresh())
        self.service.holdings.ended.connect(lambda _outcome: self.refresh())
        self._enable()

    # --- listing ----------------------------------------------------------------------

    def refresh(self) -> None:
        self.status_label.setText(tr("Looking in the download folder…"))
        self.service.list(self._show, lambda e: self._failed(e, tr("Listing downloads")))

    def check_updates(self, force: bool = False) -> bool:
        """In the background; without ``force`` at most once a day."""
        started = self.service.check_updates(
            self._show, lambda e: self._failed(e, tr("Checking for updates")), force=force
        )
        if started:
            self.status_label.setText(tr("Checking for updates…"))
        return started

    def _failed(self, error: BaseException, doing: str) -> None:
        self.context.report_error(error, doing)
        self.status_label.setText(tr("{doing} failed.").format(doing=doing))

    def _show(self, items: List[LocalDownload]) -> None:
        selected = self.selected()
        self.items = list(items)
        self.tree.clear()
        for item in self.items:
            is_holding = isinstance(item, LocalHolding)
            postgis = is_holding and item.is_postgis
            kind = item.kind
            if is_holding:
                kind = _where(item) if postgis else tr("holding")
            row = QTreeWidgetItem(
                [
                    item.title,
                    state_words(item.state),
                    item.version,
                    kind,
                    item.area,
                    "" if postgis else format_bytes(item.size_on_disk),
                    item.when.replace("T", " ").rstrip("Z"),
                    "" if is_holding else tr("yes") if item.verified else tr("no"),
                ]
            )
            row.setData(0, ITEM_ROLE, str(item.location))
            row.setToolTip(0, _where(item) if is_holding else str(item.location))
            colour = BADGE_COLOURS.get(item.state, UPDATE_COLOUR)
            row.setForeground(STATE_COLUMN, QBrush(QColor(colour)))
            row.setToolTip(STATE_COLUMN, _state_tip(item))
            self.tree.addTopLevelItem(row)
            if selected is not None and str(selected.location) == str(item.location):
                self.tree.setCurrentItem(row)
        for column in range(1, 8):
            self.tree.resizeColumnToContents(column)
        total = sum(i.size_on_disk for i in self.items)
        self.status_label.setText(
            tr("{count} download(s), {size} on disk").format(
                count=len(self.items), size=format_bytes(total)
            )
        )
        self._enable()
        self.listed.emit(len(self.items))

    def selected(self) -> Optional[LocalDownload]:
        row = self.tree.currentItem()
        if row is None:
            return None
        location = row.data(0, ITEM_ROLE)
        return next((i for i in self.items if str(i.location) == location), None)

    def select(self, folder) -> bool:
        for index in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(index)
            if row.data(0, ITEM_ROLE) == str(folder):
                self.tree.setCurrentItem(row)
                return True
        return False

    def _enable(self) -> None:
        item = self.selected()
        for button in (
            self.load_button,
            self.update_button,
            self.verify_button,
            self.folder_button,
            self.delete_button,
        ):
            button.setEnabled(item is not None)
        holding = isinstance(item, LocalHolding)
        postgis = holding and item.is_postgis
        for button in (self.verify_button, self.delete_button):
            button.setEnabled(item is not None and not holding)
        self.folder_button.setEnabled(item is not None and not postgis)
        if postgis:
            self.delete_button.setToolTip(
                tr("A holding is not deleted from here: drop its schema in the database yourself")
            )
        else:
            self.delete_button.setToolTip(
                tr("A holding is not deleted from here: remove its GeoPackage yourself")
                if holding
                else ""
            )

    # --- actions ----------------------------------------------------------------------

    def load_selected(self, again: bool = False) -> None:
        item = self.selected()
        if item is None:
            return
        self.status_label.setText(tr("Loading {title}…").format(title=item.title))
        self.service.load(item, self._loaded, lambda e: self._failed(e, tr("Loading")), again=again)

    def _loaded(self, report: LoadReport) -> None:
        if report.already_loaded:
            text = tr('Already in the project as "{group}".').format(group=report.group_name)
        elif report.layers:
            text = tr('Loaded {count} layer(s) into "{group}".').format(
                count=report.layer_count, group=report.group_name
            )
        else:
            text = tr("No layers were found to load.")
        self.status_label.setText(text)
        self.loaded.emit(report)

    def update_selected(self) -> None:
        item = self.selected()
        if item is None:
            return
        try:
            self.service.update(item)
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Starting the update"))

    def verify_selected(self) -> None:
        item = self.selected()
        if item is None:
            return
        self.status_label.setText(tr("Checking every file of {title}…").format(title=item.title))

        def done(fresh: LocalDownload) -> None:
            self.items = [fresh if str(i.folder) == str(fresh.folder) else i for i in self.items]
            self._show(self.items)

        self.service.verify(item, done, lambda e: self._failed(e, tr("Verifying")))

    def open_selected_folder(self) -> None:
        item = self.selected()
        if item is not None and not getattr(item, "is_postgis", False):
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(item.folder)))

    def delete_selected(self, confirm: bool = True) -> bool:
        item = self.selected()
        if item is None:
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                tr("Delete download"),
                tr("Delete {title} ({size}) and its files from {folder}?").format(
                    title=item.title, size=format_bytes(item.size_on_disk), folder=item.folder
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.service.delete(item)
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Deleting"))
            return False
        self._show(self.service.items)
        return True
