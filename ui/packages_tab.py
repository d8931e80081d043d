"""The "My data packages" tab: premium orders, their versions (latest first) and files."""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, List, Optional, Sequence

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.api.models import DataPackage, DataPackageVersion, DataPackageVersionSummary
from ..core.formatting import format_bytes, format_size
from ..i18n import tr
from ..integration import settings as plugin_settings
from ..integration.auth import is_unlocked
from ..integration.holding_homes import (
    HoldingHome,
    default_schema,
    remember_home,
    remembered_home,
)
from ..integration.holdings import HoldingService, is_holding_product
from ..integration.packages_service import PackagesService
from ..integration.postgres_connections import saved_connections
from .context import DockContext, locked_text, no_key_text
from .holding_home_dialog import HoldingHomeDialog

ID_ROLE = Qt.ItemDataRole.UserRole + 1
NO_KEY_PAGE, PACKAGES_PAGE = 0, 1


def supply_label(version: DataPackageVersionSummary) -> str:
    """The same words for every spelling the API uses (FULL/Full, COU/Change Only Update)."""
    if version.is_change_only:
        return tr("Change-only (COU)")
    if version.is_full_supply:
        return tr("Full")
    return version.supply_type


def reason_label(reason: str) -> str:
    labels = {
        "INITIAL": tr("Initial supply"),
        "UPDATE": tr("Update"),
        "EXPANSION": tr("Expansion"),
        "RESUPPLY": tr("Resupply"),
        "ONLINE_ORDER": tr("Online order"),
    }
    return labels.get(reason.upper(), reason.title())


def holding_tip(home: Optional[HoldingHome] = None) -> str:
    tip = tr(
        "Builds one holding (a GeoPackage, or a schema in a PostGIS database) from "
        "the newest full supply and applies every change-only update after it; each "
        "later click applies what is new and refreshes the layers."
    )
    if home is not None and not home.is_postgis:
        tip += "\n" + home.path
    return tip


def _tree(headers: Sequence[str], stretch: int) -> QTreeWidget:
    """A read-only table; column ``stretch`` takes (and elides in) the spare width, the
    others fit their contents, so short facts (dates, sizes) are never cut."""
    tree = QTreeWidget()
    tree.setHeaderLabels(list(headers))
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = tree.header()
    header.setStretchLastSection(False)
    for column in range(len(headers)):
        mode = (
            QHeaderView.ResizeMode.Stretch
            if column == stretch
            else (QHeaderView.ResizeMode.ResizeToContents)
        )
        header.setSectionResizeMode(column, mode)
    return tree


class PackagesTab(QWidget):
    """Shows a key prompt when no key is stored, else the packages of the key's project."""

    packages_loaded = pyqtSignal(int)
    versions_loaded = pyqtSignal(str)  # package id
    files_loaded = pyqtSignal(str)  # version id

    def __init__(self, context: DockContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.service = PackagesService(context.runner, context.downloads)
        self.packages: Dict[str, DataPackage] = {}
        self.versions: List[DataPackageVersionSummary] = []
        self.version: Optional[DataPackageVersion] = None
        self._serial = 0
        self.holdings = HoldingService(self)
        self._build()

    def _build(self) -> None:
        self.stack = QStackedWidget()

        no_key = QWidget()
        no_key_layout = QVBoxLayout(no_key)
        message = QLabel(no_key_text())
        message.setWordWrap(True)
        self.settings_button = QPushButton(tr("Open settings…"))
        self.settings_button.clicked.connect(self.context.open_settings)
        no_key_layout.addWidget(message)
        no_key_layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        no_key_layout.addStretch(1)
        self.stack.addWidget(no_key)

        content = QWidget()
        self.packages_tree = _tree([tr("Data package"), tr("Product"), tr("Created")], 1)
        self.versions_tree = _tree(
            [tr("Created"), tr("Supply"), tr("Product version"), tr("Format")], 2
        )
        self.files_tree = _tree([tr("File"), tr("Size")], 0)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.reload_button = QPushButton(tr("Reload"))
        self.download_button = QPushButton(tr("Download and load this version"))
        self.download_button.setEnabled(False)
        self.holding_button = QPushButton(tr("Keep up to date…"))
        self.holding_button.setToolTip(holding_tip())
        self.holding_button.setEnabled(False)
        self.holding_home_button = QPushButton(tr("Change where…"))
        self.holding_home_button.setToolTip(
            tr("Choose another GeoPackage or PostGIS schema for this package's holding")
        )
        self.holding_home_button.setEnabled(False)
        self.holding_where = QLabel()
        self.holding_where.setWordWrap(True)
        self.holding_where.setEnabled(False)  # greyed: a note, not a control
        self.holding_where.setVisible(False)

        def titled(title: str, widget: QWidget) -> QWidget:
            box = QWidget()
            layout = QVBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(QLabel(f"<b>{title}</b>"))
            layout.addWidget(widget)
            return box

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(titled(tr("Data packages"), self.packages_tree))
        splitter.addWidget(titled(tr("Versions (latest first)"), self.versions_tree))
        splitter.addWidget(titled(tr("Files of the chosen version"), self.files_tree))
        splitter.setChildrenCollapsible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.reload_button)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        holding_row = QHBoxLayout()
        holding_row.addWidget(self.holding_button, 1)
        holding_row.addWidget(self.holding_home_button)
        layout.addLayout(holding_row)
        layout.addWidget(self.holding_where)
        layout.addWidget(self.download_button)
        self.stack.addWidget(content)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.stack)

        self.reload_button.clicked.connect(self.refresh)
        self.packages_tree.currentItemChanged.connect(self._package_changed)
        self.versions_tree.currentItemChanged.connect(self._version_changed)
        self.download_button.clicked.connect(self._download_clicked)
        self.holding_button.clicked.connect(self._holding_clicked)
        self.holding_home_button.clicked.connect(self._change_home_clicked)

    # --- listing ----------------------------------------------------------------------

    def refresh(self, asked: bool = True) -> None:
        """Show the key prompt or (re)list the packages, depending on the settings.

        ``asked`` False (the dock was just shown): list only when the key can be
        read without QGIS's master-password prompt; else say what Reload will do.
        """
        self._serial += 1
        if not self.service.has_key():
            self.stack.setCurrentIndex(NO_KEY_PAGE)
            return
        self.stack.setCurrentIndex(PACKAGES_PAGE)
        if not asked and not is_unlocked():
            self.status_label.setText(locked_text())
            return
        self.packages_tree.clear()
        self.versions_tree.clear()
        self.files_tree.clear()
        self.download_button.setEnabled(False)
        self.status_label.setText(tr("Loading data packages…"))
        serial = self._serial
        self.service.list_packages(
            lambda found: self._show_packages(serial, found),
            lambda exc: self._failed(serial, exc, tr("Listing data packages")),
        )

    def _failed(self, serial: int, error: BaseException, doing: str) -> None:
        if serial == self._serial:
            self.context.report_error(error, doing)  # the details, in the dock's notice
            self.status_label.setText(tr("{doing} failed.").format(doing=doing))

    def _show_packages(self, serial: int, packages: Sequence[DataPackage]) -> None:
        if serial != self._serial:
            return
        self.packages = {p.id: p for p in packages}
        self.context.notice.dismiss()  # an earlier error no longer applies
        for package in packages:
            item = QTreeWidgetItem([package.name, package.product_name, package.created_on])
            item.setData(0, ID_ROLE, package.id)
            item.setToolTip(0, f"{package.name} ({package.id})")
            item.setToolTip(1, f"{package.product_name} ({package.product_id})")
            self.packages_tree.addTopLevelItem(item)
        if packages:
            self.status_label.setText(tr("{count} data packages").format(count=len(packages)))
        else:
            self.status_label.setText(
                tr("No data packages: order one in the OS Data Hub, then reload.")
            )
        self.packages_loaded.emit(len(packages))

    def _package_changed(self, item: Optional[QTreeWidgetItem], _previous=None) -> None:
        if item is None:
            return
        package_id = str(item.data(0, ID_ROLE))
        self._serial += 1
        serial = self._serial
        self.versions_tree.clear()
        self.files_tree.clear()
        self.download_button.setEnabled(False)
        package = self.packages.get(package_id)
        holdable = package is not None and is_holding_product(
            package.product_id, package.product_name
        )
        self.holding_button.setEnabled(holdable)
        self.holding_home_button.setEnabled(holdable)
        self.holding_where.setVisible(holdable)
        self._show_home(package_id)
        self.status_label.setText(tr("Loading versions…"))
        self.service.list_versions(
            package_id,
            lambda found: self._show_versions(serial, package_id, found),
            lambda exc: self._failed(serial, exc, tr("Listing versions")),
        )

    def _show_versions(
        self, serial: int, package_id: str, versions: Sequence[DataPackageVersionSummary]
    ) -> None:
        if serial != self._serial:
            return
        self.versions = list(versions)
        for index, version in enumerate(versions):
            created = version.created_on + (f" ({tr('latest')})" if index == 0 else "")
            item = QTreeWidgetItem(
                [created, supply_label(version), version.product_version, version.format]
            )
            item.setData(0, ID_ROLE, version.id)
            tip = tr("Version {id}: {reason}, {supply}").format(
                id=version.id, reason=reason_label(version.reason), supply=supply_label(version)
            )
            for column in range(4):
                item.setToolTip(column, tip)
            self.versions_tree.addTopLevelItem(item)
        self.status_label.setText(tr("{count} versions").format(count=len(versions)))
        self.versions_loaded.emit(package_id)
        if versions:
            self.versions_tree.setCurrentItem(self.versions_tree.topLevelItem(0))

    def _version_changed(self, item: Optional[QTreeWidgetItem], _previous=None) -> None:
        package = self.packages_tree.currentItem()
        if item is None or package is None:
            return
        package_id = str(package.data(0, ID_ROLE))
        version_id = str(item.data(0, ID_ROLE))
        self._serial += 1
        serial = self._serial
        self.files_tree.clear()
        self.download_button.setEnabled(False)
        self.service.get_version(
            package_id,
            version_id,
            lambda found: self._show_files(serial, found),
            lambda exc: self._failed(serial, exc, tr("Listing files")),
        )

    def _show_files(self, serial: int, version: DataPackageVersion) -> None:
        if serial != self._serial:
            return
        self.version = version
        total = 0
        for download in version.downloads:
            size = format_size(download.size, tr("unknown"))
            total += download.size or 0
            self.files_tree.addTopLevelItem(QTreeWidgetItem([download.file_name, size]))
        kind = tr("change-only update") if version.is_change_only else tr("full supply")
        self.status_label.setText(
            tr("{count} files, {size}; {kind}").format(
                count=len(version.downloads), size=format_bytes(total), kind=kind
            )
        )
        self.download_button.setEnabled(bool(version.downloads))
        if version.is_change_only:
            self.download_button.setText(tr("Download and load this change-only update alone"))
            self.download_button.setToolTip(
                tr(
                    "A change-only update applies to a holding, not a dataset on its own: "
                    "use Keep up to date in one GeoPackage to see the data as it now is."
                )
            )
        else:
            self.download_button.setText(tr("Download and load this version"))
            self.download_button.setToolTip("")
        self.files_loaded.emit(version.id)

    # --- download ---------------------------------------------------------------------

    def _download_clicked(self) -> None:
        package = self.packages_tree.currentItem()
        version = self.versions_tree.currentItem()
        if package is None or version is None:
            return
        self.start_download(str(package.data(0, ID_ROLE)), str(version.data(0, ID_ROLE)))

    def start_download(self, package_id: str, version_id: str = "latest"):
        package = self.packages.get(package_id)
        title = package.name if package else package_id
        try:
            return self.service.start_download(package_id, version_id, title=title)
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Starting the download"))
            return None

    # --- holding ----------------------------------------------------------------------

    def _current_package_id(self) -> str:
        item = self.packages_tree.currentItem()
        return str(item.data(0, ID_ROLE)) if item is not None else ""

    def _show_home(self, package_id: str) -> None:
        """The button and the line under it say where the holding is kept, once chosen."""
        home = remembered_home(package_id) if package_id else None
        if home is None:
            self.holding_button.setText(tr("Keep up to date…"))
            where = tr("Asks once where to keep it: a GeoPackage file or a PostGIS database.")
        elif home.is_postgis:
            self.holding_button.setText(tr("Keep up to date in PostGIS"))
            where = tr("Kept in PostGIS: {where}").format(where=home.label)
        else:
            self.holding_button.setText(tr("Keep up to date in a GeoPackage"))
            where = tr("Kept in {path}").format(path=home.path)
        self.holding_where.setText(where)
        self.holding_where.setToolTip(where)
        self.holding_button.setToolTip(holding_tip(home))

    def _holding_clicked(self) -> None:
        package_id = self._current_package_id()
        if not package_id:
            return
        home = remembered_home(package_id) or self.ask_home(package_id)
        if home is not None:
            self.start_holding(package_id, home)

    def _change_home_clicked(self) -> None:
        package_id = self._current_package_id()
        if package_id:
            self.ask_home(package_id)

    def home_dialog(self, package_id: str) -> HoldingHomeDialog:
        """The chooser for ``package_id``, filled with what was chosen before."""
        package = self.packages.get(package_id)
        name = package.name if package else package_id
        return HoldingHomeDialog(
            name,
            suggested_path=str(plugin_settings.load().download_root / f"{package_id}.gpkg"),
            suggested_schema=default_schema(package_id, name),
            connections=saved_connections(),
            current=remembered_home(package_id),
            parent=self,
        )

    def ask_home(self, package_id: str) -> Optional[HoldingHome]:
        """Ask where to keep the holding; remember the answer. None: cancelled."""
        dialog = self.home_dialog(package_id)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.home() is None:
            return None
        home = dialog.home()
        package = self.packages.get(package_id)
        if home.is_postgis and package is not None:
            home = replace(home, package_name=package.name)
        remember_home(package_id, home)
        self._show_home(package_id)
        return home

    def start_holding(self, package_id: str, home):
        """Download and apply what the holding lacks (``home``: a ``HoldingHome`` or a
        GeoPackage path), then load or refresh its layers."""
        package = self.packages.get(package_id)
        try:
            return self.holdings.start(package_id, home, title=package.name if package else "")
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Starting the update of the holding"))
            return None
