"""The "NHS TRUD" tab: the items you subscribe to, their releases, download, place on the map.

TRUD has no "list my items" endpoint, so the user adds item numbers (or pastes
an item's TRUD releases address); they are remembered in the settings. Each
item shows its releases newest first (name, date, size). "Download and load"
fetches the chosen release (the newest when an item row is chosen), checks
SHA-256 and, when GnuPG is on the machine, the signature; its tables load as
non-spatial layers in a group named after the item and release. A table with
postcodes can then be placed on the map against a loaded postcode point
layer (Code-Point Open).
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional, Sequence

from qgis.core import QgsMapLayerProxyModel, QgsProject
from qgis.gui import QgsMapLayerComboBox, QgsPasswordLineEdit
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import OSDownloadsError, describe
from ..core.formatting import format_size
from ..core.sources.trud.client import KEY_ENV, KEY_HINT, TrudRelease
from ..i18n import tr
from ..integration.auth import is_unlocked
from ..integration.postcode_placement import Placement, is_postcode_layer
from ..integration.table_layers import LoadedTable
from ..integration.task import JobTask
from ..integration.trud_service import TrudLoad, TrudService
from .context import DockContext, first_key_text, locked_text

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
RELEASE_ROLE = Qt.ItemDataRole.UserRole + 2


class TrudTab(QWidget):
    """Public API (tests, demo): ``add_item_number``, ``refresh``, ``start_download``,
    ``loaded_tables``, ``place_table``, ``releases``."""

    releases_loaded = pyqtSignal(int)  # item number (listed or failed)
    key_checked = pyqtSignal(bool)  # the key was stored (True) or rejected
    tables_loaded = pyqtSignal(object)  # TrudLoad
    placed = pyqtSignal(object)  # Placement

    def __init__(self, context: DockContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.service = TrudService(context.runner, context.downloads, self)
        self.releases: Dict[int, List[TrudRelease]] = {}
        self.loaded_tables: List[LoadedTable] = []
        self._listed = False
        self._build()
        self._show_key_state()
        self._fill_items()

    # --- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.key_edit = QgsPasswordLineEdit()
        self.key_edit.setPlaceholderText(tr("Your TRUD API key (from your TRUD account page)"))
        self.key_button = QPushButton(tr("Save key"))
        self.key_state = QLabel()
        self.key_state.setWordWrap(True)
        key_row = QHBoxLayout()
        key_row.addWidget(QLabel(tr("API key:")))
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.key_button)

        self.item_edit = QLineEdit()
        self.item_edit.setPlaceholderText(tr("Item number, or the item's TRUD releases address"))
        self.add_button = QPushButton(tr("Add item"))
        item_row = QHBoxLayout()
        item_row.addWidget(self.item_edit, 1)
        item_row.addWidget(self.add_button)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([tr("Item / release"), tr("Date"), tr("Size")])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.remove_button = QPushButton(tr("Remove item"))
        self.refresh_button = QPushButton(tr("Reload"))
        list_row = QHBoxLayout()
        list_row.addWidget(self.remove_button)
        list_row.addStretch(1)
        list_row.addWidget(self.refresh_button)

        self.signature_check = QCheckBox(tr("Check the release's PGP signature (uses GnuPG)"))
        self.download_button = QPushButton(tr("Download and load the selected release"))
        self.download_button.setEnabled(False)

        self.table_combo = QComboBox()
        self.postcode_combo = QgsMapLayerComboBox()
        self.postcode_combo.setFilters(QgsMapLayerProxyModel.Filter.PointLayer)
        self.postcode_combo.setAllowEmptyLayer(True)
        self.place_button = QPushButton(tr("Place on map"))
        self.place_button.setEnabled(False)
        place_box = QGroupBox(tr("Place a table on the map by postcode"))
        form = QFormLayout(place_box)
        form.addRow(tr("Table:"), self.table_combo)
        form.addRow(tr("Postcode points:"), self.postcode_combo)
        form.addRow(self.place_button)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(key_row)
        layout.addWidget(self.key_state)
        layout.addLayout(item_row)
        layout.addWidget(self.tree, 1)
        layout.addLayout(list_row)
        layout.addWidget(self.signature_check)
        layout.addWidget(self.download_button)
        layout.addWidget(place_box)
        layout.addWidget(self.status_label)

        self.key_button.clicked.connect(self._save_key)
        self.key_edit.returnPressed.connect(self._save_key)
        self.add_button.clicked.connect(self._add_clicked)
        self.item_edit.returnPressed.connect(self._add_clicked)
        self.remove_button.clicked.connect(self._remove_clicked)
        self.refresh_button.clicked.connect(self.refresh)
        self.tree.currentItemChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self._download_clicked())
        self.download_button.clicked.connect(self._download_clicked)
        self.signature_check.toggled.connect(self._signature_toggled)
        self.table_combo.currentIndexChanged.connect(self._update_place_button)
        self.postcode_combo.layerChanged.connect(self._update_place_button)
        self.place_button.clicked.connect(self._place_clicked)
        self.service.loaded.connect(self._on_loaded)
        self.service.failed.connect(self._on_failed)
        self.service.placed.connect(self._on_placed)
        self.service.place_failed.connect(self._on_place_failed)

    # --- key ---------------------------------------------------------------------------------

    def _show_key_state(self) -> None:
        self.signature_check.setChecked(self.service.settings().verify_signature)
        if self.service.has_stored_key():
            text = tr("Key stored in the QGIS Authentication Manager.")
        elif os.environ.get(KEY_ENV, "").strip():
            text = tr("Using the key from the TRUD_API_KEY environment variable.")
        else:
            text = tr("No key yet: copy it from your TRUD account page.") + " " + first_key_text()
        self.key_state.setText(text)

    def _save_key(self) -> None:
        """Check the key with TRUD first; a key TRUD rejects is not stored."""
        key = self.key_edit.text().strip()
        if not key:
            return
        self.key_button.setEnabled(False)
        self.key_state.setText(tr("Checking the key with TRUD…"))
        self.service.check_and_save_key(key, self._key_saved, self._key_rejected)

    def _key_saved(self) -> None:
        self.key_button.setEnabled(True)
        self.key_edit.clear()
        self._show_key_state()
        self.key_checked.emit(True)
        self.refresh()

    def _key_rejected(self, error: BaseException) -> None:
        self.key_button.setEnabled(True)
        self._show_key_state()
        text = trud_error_text(error)
        self.key_state.setText(tr("Not saved: {why}").format(why=text))
        self.key_checked.emit(False)

    def _signature_toggled(self, checked: bool) -> None:
        self.service.set_verify_signature(checked)

    # --- items and releases --------------------------------------------------------------------

    def add_item_number(self, text: str) -> Optional[int]:
        """Remember an item (number or address) and list its releases; its number."""
        try:
            number = self.service.add_item(text)
        except OSDownloadsError as err:
            self.status_label.setText(trud_error_text(err))
            return None
        self._fill_items()
        self._list(number)
        return number

    def _add_clicked(self) -> None:
        text = self.item_edit.text().strip()
        if text and self.add_item_number(text) is not None:
            self.item_edit.clear()

    def _remove_clicked(self) -> None:
        number = self._selected_item()
        if number is None:
            return
        self.service.remove_item(number)
        self.releases.pop(number, None)
        self._fill_items()

    def _top_item(self, number: int) -> Optional[QTreeWidgetItem]:
        for index in range(self.tree.topLevelItemCount()):
            node = self.tree.topLevelItem(index)
            if node.data(0, ITEM_ROLE) == number:
                return node
        return None

    def _fill_items(self) -> None:
        """One row per remembered item, with its releases when already listed."""
        self.tree.clear()
        numbers = self.service.settings().item_numbers
        for number in numbers:
            node = QTreeWidgetItem([item_label(number, self.releases.get(number)), "", ""])
            node.setData(0, ITEM_ROLE, number)
            self.tree.addTopLevelItem(node)
            if number in self.releases:
                self._show_releases(number, self.releases[number])
        if not numbers:
            self.status_label.setText(
                tr("Add the numbers of the TRUD items your account is subscribed to.")
            )

    def refresh(self, asked: bool = True) -> None:
        """List every remembered item's releases again (in the background).

        ``asked`` False (the tab was just shown): only when the key can be read
        without QGIS's master-password prompt; otherwise say what Reload does.
        """
        self._listed = True
        self._show_key_state()
        self._fill_items()
        numbers = self.service.settings().item_numbers
        if not asked and numbers and self.service.has_stored_key() and not is_unlocked():
            self.status_label.setText(tr("Releases not listed yet.") + " " + locked_text())
            return
        for number in numbers:
            self._list(number)

    def _list(self, number: int) -> None:
        node = self._top_item(number)
        if node is None:
            return
        node.takeChildren()
        node.setText(1, tr("listing…"))
        self.service.list_releases(
            number,
            lambda releases, n=number: self._on_listed(n, releases),
            lambda error, n=number: self._show_error(n, error),
        )

    def _on_listed(self, number: int, releases: List[TrudRelease]) -> None:
        self.releases[number] = releases
        self._show_releases(number, releases)
        self.releases_loaded.emit(number)

    def _show_releases(self, number: int, releases: List[TrudRelease]) -> None:
        node = self._top_item(number)
        if node is None:
            return
        node.takeChildren()
        node.setText(0, item_label(number, releases))
        node.setText(1, releases_phrase(len(releases)))
        node.setToolTip(0, "")
        for release in releases:
            size = format_size(release.size)
            child = QTreeWidgetItem([release.name, release.release_date, size])
            child.setData(0, ITEM_ROLE, number)
            child.setData(0, RELEASE_ROLE, release.id)
            child.setToolTip(0, release.archive.file_name)
            node.addChild(child)
        node.setExpanded(True)

    def _show_error(self, number: int, error: BaseException) -> None:
        node = self._top_item(number)
        text = trud_error_text(error)
        if node is not None:
            node.takeChildren()
            node.setText(1, tr("not listed"))
            node.setToolTip(0, text)
            problem = QTreeWidgetItem([text, "", ""])
            problem.setToolTip(0, text)
            problem.setFlags(Qt.ItemFlag.ItemIsEnabled)
            node.addChild(problem)
            node.setExpanded(True)
        self.status_label.setText(text)
        self.releases_loaded.emit(number)

    def _selected_item(self) -> Optional[int]:
        node = self.tree.currentItem()
        value = node.data(0, ITEM_ROLE) if node is not None else None
        return int(value) if value is not None else None

    def _selected_release(self) -> Optional[TrudRelease]:
        node = self.tree.currentItem()
        if node is None or node.data(0, RELEASE_ROLE) is None:
            return None
        number, release_id = node.data(0, ITEM_ROLE), node.data(0, RELEASE_ROLE)
        return next((r for r in self.releases.get(number, []) if r.id == release_id), None)

    def _selection_changed(self, *_: object) -> None:
        number = self._selected_item()
        release = self._selected_release()
        self.download_button.setEnabled(number is not None)
        if number is None:  # nothing chosen (e.g. the item was just removed)
            self.download_button.setText(tr("Download and load the selected release"))
        elif release is not None:
            self.download_button.setText(tr("Download and load {name}").format(name=release.name))
        elif number is not None:
            self.download_button.setText(
                tr("Download and load the newest release of {item}").format(
                    item=item_label(number, self.releases.get(number))
                )
            )

    # --- download and load ------------------------------------------------------------------

    def start_download(self, number: int, release_id: str = "latest") -> Optional[JobTask]:
        """What "Download and load" does, for scripts and tests; the running task."""
        release = next((r for r in self.releases.get(number, []) if r.id == release_id), None)
        try:
            task = self.service.start_release(number, release_id, release=release)
        except OSDownloadsError as err:
            self.context.report_error(err, tr("Starting the TRUD download"))
            return None
        self.status_label.setText(tr("Downloading item {n}…").format(n=number))
        return task

    def _download_clicked(self) -> None:
        number = self._selected_item()
        if number is None:
            return
        release = self._selected_release()
        self.start_download(number, release.id if release else "latest")

    def _on_loaded(self, load: TrudLoad) -> None:
        with_postcodes = [t for t in load.tables if t.postcode_field]
        self.loaded_tables.extend(with_postcodes)
        for table in with_postcodes:
            self.table_combo.addItem(table.layer.name(), table.layer.id())
        if with_postcodes:
            self.table_combo.setCurrentIndex(self.table_combo.count() - 1)
        self._pick_postcode_layer()
        lines = []
        tooltip = ""
        if load.signature is not None:
            lines.append(first_sentence(load.signature.message))
            tooltip = load.signature.message
        lines.append(
            tr("{tables} loaded; {postcodes} with postcodes.").format(
                tables=tables_phrase(len(load.tables)), postcodes=len(with_postcodes)
            )
        )
        self.status_label.setText(" ".join(lines))
        self.status_label.setToolTip(tooltip)
        self.tables_loaded.emit(load)

    def _on_failed(self, error: BaseException) -> None:
        self.status_label.setText(trud_error_text(error))

    # --- placing on the map -------------------------------------------------------------------

    def _pick_postcode_layer(self) -> None:
        current = self.postcode_combo.currentLayer()
        if current is not None and is_postcode_layer(current):
            return
        for layer in QgsProject.instance().mapLayers().values():
            if is_postcode_layer(layer):
                self.postcode_combo.setLayer(layer)
                return

    def _current_table(self) -> Optional[LoadedTable]:
        layer_id = self.table_combo.currentData()
        for table in self.loaded_tables:
            try:
                if table.layer.id() == layer_id:
                    return table
            except RuntimeError:  # the layer was removed from the project
                continue
        return None

    def _update_place_button(self, *_: object) -> None:
        layer = self.postcode_combo.currentLayer()
        if self._current_table() is None:
            why = tr("Load a TRUD release with a postcode column first.")
        elif layer is None:
            why = tr("Load Code-Point Open (or another postcode point layer) and pick it above.")
        elif not is_postcode_layer(layer):
            why = tr("{name} has no postcode field; pick a postcode point layer.").format(
                name=layer.name()
            )
        else:
            why = ""
        self.place_button.setEnabled(not why)
        self.place_button.setToolTip(
            why or tr("Make a point layer of the table's rows at their postcodes")
        )

    def place_table(self, table: LoadedTable, postcode_layer) -> Optional[JobTask]:
        """Start placing ``table`` on ``postcode_layer``'s points; the running task."""
        try:
            task = self.service.start_placement(table.layer, table.postcode_field, postcode_layer)
        except OSDownloadsError as err:
            self.context.report_error(err, tr("Placing the table on the map"))
            return None
        self.status_label.setText(tr("Placing {name} by postcode…").format(name=table.layer.name()))
        return task

    def _place_clicked(self) -> None:
        table = self._current_table()
        layer = self.postcode_combo.currentLayer()
        if table is not None and layer is not None:
            self.place_table(table, layer)

    def _on_placed(self, placement: Placement) -> None:
        self.status_label.setText(placement.summary)
        self.context.notify(tr("NHS TRUD"), placement.summary, 10)
        self.placed.emit(placement)

    def _on_place_failed(self, error: BaseException) -> None:
        self.status_label.setText(trud_error_text(error))

    # --- events -------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._pick_postcode_layer()
        self._update_place_button()
        if not self._listed:
            self.refresh(asked=False)


# Well-known TRUD items (shared/research trud.md §3), for rows not yet listed.
KNOWN_ITEMS: Dict[int, str] = {
    14: "NHS National Interim Clinical Imaging Procedures",
    24: "NHSBSA dm+d",
    25: "NHSBSA dm+d supplementary",
    58: "NHS ODS weekly prescribing-related data, retired",
    101: "SNOMED CT UK Clinical Edition",
    105: "SNOMED CT UK Drug Extension",
    341: "NHS ODS XML Organisation Data",
    394: "CSDS pre-deadline extract XML Schema",
    1799: "SNOMED CT UK Monolith Edition",
}
_TRAILING_VERSION = re.compile(r"[\s_-]*(v(ersion)?\s*)?\d+(\.\d+)+\S*$", re.IGNORECASE)


def item_label(number: int, releases: Optional[Sequence[TrudRelease]] = None) -> str:
    """ "NHS ODS XML Organisation Data — item 341": the name first, the number after."""
    name = KNOWN_ITEMS.get(int(number), "")
    if not name and releases:
        name = _TRAILING_VERSION.sub("", releases[0].name).strip()
    if not name:
        return tr("Item {n}").format(n=number)
    return tr("{name} — item {n}").format(name=name, n=number)


def releases_phrase(count: int) -> str:
    return tr("1 release") if count == 1 else tr("{count} releases").format(count=count)


def tables_phrase(count: int) -> str:
    return tr("1 table") if count == 1 else tr("{count} tables").format(count=count)


def first_sentence(text: str) -> str:
    """The first sentence of a long status (the whole of it goes in the tooltip)."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text


def trud_error_text(error: BaseException) -> str:
    """``describe`` with the plugin's hint for the key (the dock's box, not the
    command line's environment variable)."""
    text = describe(error)
    if KEY_HINT in text:
        text = text.replace(
            KEY_HINT,
            tr(
                "Copy the API key from your TRUD account page (it changes whenever the "
                "account's email address or password changes) and save it in the API key "
                "box of this tab."
            ),
        )
    return text.replace("; command line: set TRUD_API_KEY", "")
