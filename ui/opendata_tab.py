"""The "OS OpenData" tab: find a product, see what it is, pick a format and area, get it."""

from __future__ import annotations

import html
from typing import Dict, List, Optional, Sequence, Tuple

from qgis.core import QgsMapLayerProxyModel, QgsMimeDataUtils
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QPixmap, QStandardItem, QStandardItemModel, QTextDocument
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.api.models import Product, ProductDownload
from ..core.formatting import format_bytes
from ..core.grid import bng
from ..core.local.inventory import downloaded_areas
from ..i18n import tr
from ..integration import settings as plugin_settings
from ..integration.attribution import product_attribution
from ..integration.grid_squares import remembered_areas
from ..integration.opendata_service import OpenDataService
from ..integration.product_drop import product_uri
from .area_picker import AreaPicker, offered_sizes
from .context import DockContext

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
THUMBNAIL_WIDTH = 110
THUMBNAIL_URL = "os-downloads://thumbnail"

FormatKey = Tuple[str, Optional[str]]
# Offered first when a product has it: one file, every layer, CRS and spatial index inside.
PREFERRED_FORMAT = "GeoPackage"


class ProductFilter(QSortFilterProxyModel):
    """Keeps rows whose name, id, category or description contains every word typed."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: List[str] = []

    def set_text(self, text: str) -> None:
        self._words = text.casefold().split()
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802
        index = self.sourceModel().index(row, 0, parent)
        haystack = str(index.data(SEARCH_ROLE) or "")
        return all(word in haystack for word in self._words)


def _area_sort_key(area: str) -> Tuple[int, str]:
    return (0 if area.upper() in ("GB", "UK") else 1, area)


class OpenDataTab(QWidget):
    """Lists products (``load_products``), shows details, starts downloads."""

    products_loaded = pyqtSignal(int)  # how many; for tests and the dock
    downloads_loaded = pyqtSignal(str)  # product id whose files are listed

    def __init__(self, context: DockContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.service = OpenDataService(context.runner, context.downloads)
        self.products: Dict[str, Product] = {}
        self.downloads: List[ProductDownload] = []
        self._selected: Optional[str] = None
        self._serial = 0  # answers for an older selection are ignored
        self._build()

    # --- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(tr("Search names and descriptions (e.g. postcode)"))
        self.filter_edit.setClearButtonEnabled(True)
        self.reload_button = QPushButton(tr("Reload"))
        self.reload_button.setToolTip(tr("Fetch the product list again"))
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.reload_button)

        self.model = ProductModel(self)
        self.model.setHorizontalHeaderLabels([tr("Product"), tr("Category")])
        self.proxy = ProductFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.list_view = QTreeView()
        self.list_view.setModel(self.proxy)
        self.list_view.setRootIsDecorated(False)
        self.list_view.setUniformRowHeights(True)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setSortingEnabled(True)
        self.list_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setDragEnabled(True)  # onto the map: download and load
        self.list_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        header = self.list_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.status_label = QLabel(tr("Loading products…"))
        self.status_label.setWordWrap(True)

        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addLayout(top)
        list_layout.addWidget(self.list_view, 1)
        list_layout.addWidget(self.status_label)

        # The thumbnail floats inside the text (the dock is narrow: a picture beside
        # the text would squeeze it into a column a word wide).
        self.thumbnail: Optional[QPixmap] = None
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(True)
        self.details.setPlaceholderText(tr("Select a product to see what it contains."))

        self.format_combo = QComboBox()
        self.area_combo = QComboBox()
        for combo in (self.format_combo, self.area_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.files_label = QLabel()
        self.files_label.setWordWrap(True)
        self.files_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(tr("Format"), self.format_combo)
        self.map_button = QPushButton(tr("Choose on map"))
        self.map_button.setToolTip(
            tr("Pick 100 km squares on the map: click, drag a box, or use the map view")
        )
        area_row = QHBoxLayout()
        area_row.addWidget(self.area_combo, 1)
        area_row.addWidget(self.map_button)
        form.addRow(tr("Area"), area_row)
        self.keep_only_check = QCheckBox(tr("Keep only my area"))
        self.keep_only_check.setToolTip(
            tr("Cut the data to the squares chosen on the map, into a GeoPackage of its own")
        )
        self.keep_only_check.setVisible(False)
        form.addRow("", self.keep_only_check)
        self.keep_areas: List[str] = []
        form.addRow(tr("Files"), self.files_label)
        self.download_button = QPushButton(tr("Download and load"))
        self.download_button.setDefault(True)
        self.format_combo.setToolTip(
            tr("The file format. GeoPackage holds every layer in one file and opens fastest.")
        )
        self.area_combo.setToolTip(
            tr(
                "GB: the whole of Great Britain in one download; a two-letter code: one 100 km "
                "square of the National Grid. The size of each is shown."
            )
        )
        self.download_button.setToolTip(
            tr(
                "Download the chosen files in the background (checked, unzipped), then add "
                "their layers to the project. Enter on a product does the same."
            )
        )

        details_box = QWidget()
        details_layout = QVBoxLayout(details_box)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.details, 1)
        details_layout.addLayout(form)
        self.pick_panel = AreaPickPanel(self)
        details_layout.addWidget(self.pick_panel)
        details_layout.addWidget(self.download_button)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(list_box)
        splitter.addWidget(details_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_edit.returnPressed.connect(self._enter_in_search)
        self.list_view.activated.connect(lambda _index: self._default_action())
        self.reload_button.clicked.connect(self.load_products)
        self.list_view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.format_combo.currentIndexChanged.connect(self._fill_areas)
        self.area_combo.currentIndexChanged.connect(self._show_files)
        self.download_button.clicked.connect(self._download_clicked)
        self.map_button.clicked.connect(self.choose_on_map)
        self.picker: Optional[AreaPicker] = None
        self.context.downloads.started.connect(lambda _task: self._show_running())
        self.context.downloads.ended.connect(lambda _outcome: self._show_running())
        self._set_pickers_enabled(False)

    # --- products ---------------------------------------------------------------------

    def load_products(self) -> None:
        """Fetch the product list in the background (expanded: formats, categories)."""
        self.status_label.setText(tr("Loading products…"))
        self.reload_button.setEnabled(False)
        self.service.list_products(self._show_products, self._products_failed)

    def _products_failed(self, error: BaseException) -> None:
        self.reload_button.setEnabled(True)
        self.context.report_error(error, tr("Listing products"))
        self.status_label.setText(
            tr("Listing products failed. Check the message above, then Reload.")
        )

    def _show_products(self, products: Sequence[Product]) -> None:
        self.reload_button.setEnabled(True)
        self.context.notice.dismiss()  # an earlier error no longer applies
        self.products = {p.id: p for p in products}
        self.model.removeRows(0, self.model.rowCount())
        for product in products:
            name = QStandardItem(product.name)
            name.setData(product.id, ID_ROLE)
            category = product.category or ", ".join(product.categories)
            words = " ".join(
                [product.name, product.id, category, *product.categories, product.description]
            )
            name.setData(words.casefold(), SEARCH_ROLE)
            name.setToolTip(f"{product.name} ({product.id})")
            self.model.appendRow([name, QStandardItem(category or "")])
        self.status_label.setText(tr("{count} products").format(count=len(products)))
        self.products_loaded.emit(len(products))

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        if not self.products:
            return
        shown = self.proxy.rowCount()
        if text.strip() and shown == 0:
            self.status_label.setText(tr("No product matches '{text}'.").format(text=text.strip()))
        elif text.strip():
            self.status_label.setText(
                tr("{shown} of {count} products").format(shown=shown, count=len(self.products))
            )
        else:
            self.status_label.setText(tr("{count} products").format(count=len(self.products)))

    def _enter_in_search(self) -> None:
        """Enter in the search box: the only match (or the chosen one) is downloaded."""
        if self.proxy.rowCount() == 1 and self._selected is None:
            self.list_view.setCurrentIndex(self.proxy.index(0, 0))
            return  # its files are listed now; Enter again downloads
        self._default_action()

    def _default_action(self) -> None:
        """Enter (or double-click) on a product: "Download and load" when it can."""
        if self.download_button.isEnabled():
            self._download_clicked()

    def visible_product_ids(self) -> List[str]:
        """Ids of the rows the filter lets through, in display order."""
        return [str(self.proxy.index(row, 0).data(ID_ROLE)) for row in range(self.proxy.rowCount())]

    def select_product(self, product_id: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(ID_ROLE) == product_id:
                self.list_view.setCurrentIndex(index)
                self.list_view.scrollTo(index)
                return True
        return False

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        product_id = current.sibling(current.row(), 0).data(ID_ROLE) if current.isValid() else None
        if product_id and product_id != self._selected:
            self._show_product(str(product_id))

    def _show_product(self, product_id: str) -> None:
        self._selected = product_id
        self._serial += 1
        serial = self._serial
        product = self.products[product_id]
        self.thumbnail = None
        self._render_details()
        self.downloads = []
        self.format_combo.clear()
        self.area_combo.clear()
        self.files_label.setText(tr("Listing files…"))
        self._set_pickers_enabled(False)
        self.service.list_files(
            product_id,
            lambda found: self._show_downloads(serial, product_id, found),
            lambda exc: self._downloads_failed(serial, exc),
        )
        if product.image_count > 0:
            self.service.fetch_thumbnail(
                product_id,
                lambda data: self._show_thumbnail(serial, data),
                lambda _exc: None,  # a missing picture is not worth a message
            )

    def _show_thumbnail(self, serial: int, data: bytes) -> None:
        if serial != self._serial:
            return
        pixmap = QPixmap()
        if pixmap.loadFromData(data):
            self.thumbnail = pixmap.scaledToWidth(
                THUMBNAIL_WIDTH, Qt.TransformationMode.SmoothTransformation
            )
            self._render_details()

    def _render_details(self) -> None:
        product = self.products.get(self._selected or "")
        if product is None:
            self.details.clear()
            return
        image = None
        if self.thumbnail is not None:
            image = THUMBNAIL_URL
            self.details.document().addResource(
                QTextDocument.ResourceType.ImageResource, QUrl(THUMBNAIL_URL), self.thumbnail
            )
        self.details.setHtml(product_html(product, image))

    def _downloads_failed(self, serial: int, error: BaseException) -> None:
        if serial == self._serial:
            self.context.report_error(error, tr("Listing files"))
            self.files_label.setText(tr("Listing files failed."))

    # --- pickers ----------------------------------------------------------------------

    def _show_downloads(
        self, serial: int, product_id: str, downloads: Sequence[ProductDownload]
    ) -> None:
        if serial != self._serial:
            return
        self.downloads = list(downloads)
        product = self.products[product_id]
        order = [(f.format, f.subformat) for f in product.formats]
        keys: List[FormatKey] = []
        for d in self.downloads:
            key = (d.format, d.subformat)
            if key not in keys:
                keys.append(key)
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))
        self.format_combo.blockSignals(True)
        self.format_combo.clear()
        for fmt, sub in keys:
            self.format_combo.addItem(f"{fmt} {sub}" if sub else fmt, (fmt, sub))
        self.format_combo.blockSignals(False)
        if not keys:
            self.files_label.setText(tr("This product has no files to download."))
            return
        preferred = next((i for i, (fmt, _s) in enumerate(keys) if fmt == PREFERRED_FORMAT), 0)
        self.format_combo.setCurrentIndex(preferred)
        self._set_pickers_enabled(True)
        self._fill_areas()
        self.downloads_loaded.emit(product_id)

    def _fill_areas(self) -> None:
        self.finish_choosing()  # the squares on the map were those of the other format
        key = self.format_combo.currentData()
        self.area_combo.blockSignals(True)
        self.area_combo.clear()
        if key is not None:
            sizes: Dict[str, int] = {}
            for d in self.downloads:
                if (d.format, d.subformat) == tuple(key):
                    sizes[d.area] = sizes.get(d.area, 0) + (d.size or 0)
            for area in sorted(sizes, key=_area_sort_key):
                size = f" — {format_bytes(sizes[area])}" if sizes[area] else ""
                self.area_combo.addItem(f"{area}{size}", area)
            remembered = [a for a in remembered_areas(self._selected or "") if a in sizes]
            if len(remembered) > 1:
                self._add_chosen_item(remembered, sizes, select=False)
        self.area_combo.blockSignals(False)
        self.map_button.setEnabled(self._can_choose_on_map())
        self.keep_areas = []
        self.keep_only_check.setVisible(False)
        self._show_files()

    def _chosen(self) -> List[ProductDownload]:
        key, area = self.format_combo.currentData(), self.area_combo.currentData()
        if key is None or area is None:
            return []
        areas = set(area) if isinstance(area, (list, tuple)) else {area}
        return [
            d for d in self.downloads if (d.format, d.subformat) == tuple(key) and d.area in areas
        ]

    # --- choosing squares on the map -----------------------------------------------------

    def _offered_squares(self) -> Dict[str, int]:
        key = self.format_combo.currentData()
        if key is None:
            return {}
        return offered_sizes(self.downloads, key[0], key[1])

    def _gb_only(self) -> bool:
        """The format comes for all of GB only: the map chooses what to keep."""
        key = self.format_combo.currentData()
        if key is None or self._offered_squares():
            return False
        return any((d.format, d.subformat) == tuple(key) and d.area == "GB" for d in self.downloads)

    def _can_choose_on_map(self) -> bool:
        return len(self._offered_squares()) > 1 or self._gb_only()

    def choose_on_map(self) -> Optional[AreaPicker]:
        """Draw the squares over the map and let the user pick; the tab shows the choice."""
        canvas = self.context.iface.mapCanvas() if self.context.iface else None
        key = self.format_combo.currentData()
        if canvas is None or key is None or self._selected is None:
            return None
        self.finish_choosing()
        listed = [d.area for d in self.downloads]
        values = plugin_settings.load()
        downloaded = downloaded_areas([values.download_root], self._selected, key[0], key[1])
        offered = self._offered_squares()
        if self._gb_only():  # any square of the grid, to cut the GB download to
            offered = {sq.name: 0 for sq in bng.all_squares()}
            downloaded = []
        self.picker = AreaPicker(canvas, self._selected, offered, listed, downloaded, self)
        self.picker.changed.connect(self._picked)
        self.picker.activate()
        self.pick_panel.show_for(self.picker)
        self._picked(sorted(self.picker.chosen))
        return self.picker

    def finish_choosing(self) -> None:
        """Take the grid and the map tool off the map (also on another product or format)."""
        if getattr(self, "picker", None) is not None:
            self.picker.finish()
            self.picker = None
        self.pick_panel.hide()

    def _picked(self, areas: List[str]) -> None:
        self.pick_panel.show_choice(areas)
        if self._gb_only():
            self.keep_areas = list(areas)
            self.keep_only_check.setVisible(bool(areas))
            self.keep_only_check.setChecked(bool(areas))
            self.keep_only_check.setText(
                tr("Keep only my area ({areas})").format(areas=", ".join(areas))
            )
            return
        self.area_combo.blockSignals(True)
        index = self.area_combo.findText(CHOSEN_PREFIX, Qt.MatchFlag.MatchStartsWith)
        if index >= 0:
            self.area_combo.removeItem(index)
        if len(areas) == 1:
            self.area_combo.setCurrentIndex(max(self.area_combo.findData(areas[0]), 0))
        elif areas:
            self._add_chosen_item(areas, self._offered_squares(), select=True)
        self.area_combo.blockSignals(False)
        self._show_files()

    def _add_chosen_item(self, areas: List[str], sizes: Dict[str, int], *, select: bool) -> None:
        total = sum(sizes.get(a, 0) for a in areas)
        size = f" — {format_bytes(total)}" if total else ""
        label = f"{CHOSEN_PREFIX}{', '.join(areas)}{size}"
        self.area_combo.insertItem(0, label, list(areas))
        if select:
            self.area_combo.setCurrentIndex(0)

    def chosen_areas(self) -> List[str]:
        area = self.area_combo.currentData()
        if area is None:
            return []
        return list(area) if isinstance(area, (list, tuple)) else [area]

    def _show_running(self) -> None:
        """The button says when this very download is already running."""
        key = self.format_combo.currentData()
        running = None
        if key is not None and self._selected:
            running = self.context.downloads.running_task(
                self._selected, key[0], key[1], self.chosen_areas() or ["GB"]
            )
        self.download_button.setText(
            tr("Running… (show progress)") if running is not None else tr("Download and load")
        )

    def _show_files(self) -> None:
        self._show_running()
        files = self._chosen()
        if not files:
            self.files_label.setText("")
            return
        total = sum(d.size or 0 for d in files)
        names = ", ".join(d.file_name for d in files)
        size = f" ({format_bytes(total)})" if total else ""
        self.files_label.setText(f"{names}{size}")

    def choose(self, format_label: str, area: str) -> bool:
        """Pick a format (its label, e.g. "GeoPackage") and an area; for tests and scripts."""
        index = self.format_combo.findText(format_label)
        if index < 0:
            return False
        self.format_combo.setCurrentIndex(index)
        area_index = self.area_combo.findData(area)
        if area_index < 0:
            return False
        self.area_combo.setCurrentIndex(area_index)
        return True

    def _set_pickers_enabled(self, enabled: bool) -> None:
        for widget in (self.format_combo, self.area_combo, self.download_button):
            widget.setEnabled(enabled)
        self.map_button.setEnabled(enabled and self._can_choose_on_map())

    # --- download ---------------------------------------------------------------------

    def _download_clicked(self) -> None:
        key, area = self.format_combo.currentData(), self.area_combo.currentData()
        if self._selected is None or key is None or area is None:
            return
        fmt, sub = key
        running = self.context.downloads.running_task(self._selected, fmt, sub, self.chosen_areas())
        if running is not None:  # a second click: show it, start nothing
            self.context.downloads.shown.emit(running)
            return
        if isinstance(area, (list, tuple)):
            self.start_download_areas(self._selected, fmt, list(area), sub)
        elif self.keep_only_check.isVisible() and self.keep_only_check.isChecked():
            self.start_download(self._selected, fmt, area, sub, keep_only=self.keep_areas)
        else:
            self.start_download(self._selected, fmt, area, sub)

    def start_download(
        self,
        product_id: str,
        format: str,
        area: str = "GB",
        subformat: Optional[str] = None,
        keep_only: Optional[List[str]] = None,
    ):
        """The button's path: start the task (returned), or report why it could not start."""
        product = self.products.get(product_id)
        title = product.name if product else product_id
        try:
            if keep_only:
                return self.context.downloads.start_product(
                    product_id, format, area, subformat, title=title, keep_only=keep_only
                )
            return self.service.start_download(product_id, format, area, subformat, title=title)
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Starting the download"))
            return None

    def drag_uri(self, product_id: str):
        """What a drag of the product onto the map downloads (a QGIS custom layer URI)."""
        product = self.products.get(product_id)
        if product is None:
            return None
        key, area = self.format_combo.currentData(), self.area_combo.currentData()
        if product_id == self._selected and key is not None and isinstance(area, str):
            fmt, sub = key
        else:
            formats = [(f.format, f.subformat) for f in product.formats]
            if not formats:
                return None
            fmt, sub = next((f for f in formats if f[0] == PREFERRED_FORMAT), formats[0])
            area = "GB"
        return product_uri(product_id, product.name, fmt, area, sub)

    def start_download_areas(
        self, product_id: str, format: str, areas: List[str], subformat: Optional[str] = None
    ):
        """Several squares in one task, merged into one layer per feature type."""
        product = self.products.get(product_id)
        title = product.name if product else product_id
        try:
            return self.context.downloads.start_product_areas(
                product_id, format, areas, subformat, title=title
            )
        except Exception as exc:  # noqa: BLE001
            self.context.report_error(exc, tr("Starting the download"))
            return None


CHOSEN_PREFIX = "▦ "


class ProductModel(QStandardItemModel):
    """The product list; a row dragged onto the map carries "download and load" for it
    (the format and area picked for it, else its preferred format for all of GB)."""

    def __init__(self, tab: OpenDataTab) -> None:
        super().__init__(0, 2, tab)
        self.tab = tab
        self.setHorizontalHeaderLabels([tr("Product"), tr("Category")])

    def mimeTypes(self):  # noqa: N802
        return ["application/x-vnd.qgis.qgis.uri"]

    def mimeData(self, indexes):  # noqa: N802
        ids = []
        for index in indexes:
            product_id = index.sibling(index.row(), 0).data(ID_ROLE)
            if product_id and product_id not in ids:
                ids.append(str(product_id))
        uris = [u for u in (self.tab.drag_uri(i) for i in ids) if u is not None]
        return QgsMimeDataUtils.encodeUriList(uris)


class AreaPickPanel(QWidget):
    """Under the area row while choosing on the map: the choice and the other ways to choose."""

    def __init__(self, tab: OpenDataTab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.view_button = QPushButton(tr("Map view"))
        self.view_button.setToolTip(tr("Choose the squares the map shows now"))
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.Filter.VectorLayer)
        self.extent_button = QPushButton(tr("Layer extent"))
        self.extent_button.setToolTip(tr("Choose the squares the layer's extent touches"))
        self.selected_button = QPushButton(tr("Selected features"))
        self.selected_button.setToolTip(
            tr("Choose the squares the layer's selected features touch")
        )
        self.clear_button = QPushButton(tr("Clear"))
        self.done_button = QPushButton(tr("Done"))
        self.done_button.setToolTip(tr("Stop choosing and take the grid off the map"))
        row = QHBoxLayout()
        for button in (self.view_button, self.clear_button, self.done_button):
            row.addWidget(button)
        layer_row = QHBoxLayout()
        layer_row.addWidget(self.layer_combo, 1)
        layer_row.addWidget(self.extent_button)
        layer_row.addWidget(self.selected_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addLayout(layer_row)
        self.view_button.clicked.connect(
            lambda: self._picker() and self._picker().choose_map_view()
        )
        self.extent_button.clicked.connect(self._layer_extent)
        self.selected_button.clicked.connect(self._selected_features)
        self.clear_button.clicked.connect(lambda: self._picker() and self._picker().clear())
        self.done_button.clicked.connect(tab.finish_choosing)
        self.hide()

    def _picker(self) -> Optional[AreaPicker]:
        return self.tab.picker

    def show_for(self, picker: AreaPicker) -> None:
        self.show()

    def show_choice(self, areas: List[str]) -> None:
        picker = self._picker()
        if not areas:
            self.label.setText(
                tr("Click squares on the map or drag a box over them (Shift + drag removes).")
            )
            return
        size = format_bytes(picker.chosen_size) if picker and picker.chosen_size else ""
        self.label.setText(
            tr("{count} square(s) chosen: {areas}").format(count=len(areas), areas=", ".join(areas))
            + (f" — {size}" if size else "")
        )

    def _layer_extent(self) -> None:
        layer = self.layer_combo.currentLayer()
        if layer is not None and self._picker():
            self._picker().choose_layer_extent(layer)

    def _selected_features(self) -> None:
        layer = self.layer_combo.currentLayer()
        if layer is not None and self._picker():
            self._picker().choose_selected_features(layer)


def product_html(product: Product, image_url: Optional[str] = None) -> str:
    """The details pane: what a GIS analyst checks before downloading."""
    e = html.escape
    rows = []
    if image_url:
        rows.append(f"<img src='{e(image_url)}' width='{THUMBNAIL_WIDTH}' align='right'>")
    rows.append(f"<h3>{e(product.name)}</h3>")
    facts = [
        (tr("Version"), product.version),
        (tr("Id"), product.id),
        (tr("Category"), product.category or ", ".join(product.categories)),
        (tr("Formats"), ", ".join(f.label for f in product.formats)),
        (tr("Areas"), areas_label(product.areas)),
    ]
    rows.append("<table cellspacing='2'>")
    for label, value in facts:
        if value:
            rows.append(f"<tr><td nowrap><b>{e(label)}</b>&nbsp;</td><td>{e(value)}</td></tr>")
    for label, cell in partner_rows(product):
        rows.append(f"<tr><td nowrap><b>{e(label)}</b>&nbsp;</td><td>{cell}</td></tr>")
    rows.append("</table>")
    if product.warning:
        rows.append(f"<p style='color:#a04000'>{e(product.warning)}</p>")
    for paragraph in product.description.split("\n\n"):
        if paragraph.strip():
            rows.append(f"<p>{e(paragraph.strip())}</p>")
    licence = product_attribution(product.id, product.name, product.version)
    licence_cell = _anchor(licence.url, licence.licence) if licence.url else e(licence.licence)
    rows.append(
        f"<p><b>{e(tr('Licence'))}</b>&nbsp;{licence_cell}<br>"
        f"<small>{e(tr('On your maps'))}: {e(licence.text)}</small></p>"
    )
    if product.documentation_url:
        link = e(product.documentation_url, quote=True)
        rows.append(f"<p><a href='{link}'>{e(tr('Product documentation'))}</a></p>")
    links = product_links(product)
    if links:
        items = "".join(f"<li>{_anchor(url, name)}</li>" for name, url in links)
        rows.append(f"<p><b>{e(tr('Links'))}</b></p><ul>{items}</ul>")
    return "\n".join(rows)


def _anchor(url: str, text: str) -> str:
    """A link for http(s)/mailto targets; anything else is shown as plain text."""
    if url.lower().startswith(("https://", "http://", "mailto:")):
        return f"<a href='{html.escape(url, quote=True)}'>{html.escape(text)}</a>"
    return html.escape(text)


def partner_rows(product: Product) -> List[Tuple[str, str]]:
    """(label, HTML cell) for a partner product's provider and support address."""
    info = product.third_party_info
    provider = info.data_provider if info else None
    rows: List[Tuple[str, str]] = []
    if provider is not None:
        name = provider.name
        if provider.short_name and provider.short_name != name:
            name = f"{name} ({provider.short_name})"
        cell = _anchor(provider.homepage, name) if provider.homepage else html.escape(name)
        rows.append((tr("Provider"), cell))
    elif product.data_provider:
        rows.append((tr("Provider"), html.escape(product.data_provider)))
    if info is not None and info.support_email:
        email = info.support_email
        rows.append((tr("Support"), _anchor(f"mailto:{email}", email)))
    return rows


def product_links(product: Product) -> List[Tuple[str, str]]:
    """(name, url) of the supporting links: the product's, then its partner's."""
    info = product.third_party_info
    links = list(product.supporting_info)
    if info is not None:
        links += list(info.supporting_info) + list(info.also_available)
    seen, result = set(), []
    for link in links:
        if link.link not in seen:
            seen.add(link.link)
            result.append((link.name, link.link))
    return result


def areas_label(areas: Sequence[str]) -> str:
    """ "GB + 55 tiles" rather than 56 codes."""
    whole = [a for a in areas if a.upper() in ("GB", "UK", "NI")]
    tiles = [a for a in areas if a not in whole]
    parts = list(whole)
    if len(tiles) > 3:
        parts.append(tr("{count} tiles").format(count=len(tiles)))
    else:
        parts.extend(tiles)
    return " + ".join(parts)
