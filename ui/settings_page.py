"""The settings: a page in QGIS Options (Settings > Options > OS Downloads) and a dialog.

The key and secret fields are write-only: they are empty when the page
opens (showing whether a key is stored, without decrypting it, so opening
the page never asks for the master password) and whatever is typed goes into
the QGIS Authentication Manager, never into QGIS3.ini.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from qgis.gui import QgsFileWidget, QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import describe
from ..i18n import tr
from ..integration import settings as plugin_settings
from ..integration.auth import (
    ApiCredentials,
    has_credentials,
    remove_credentials,
    store_credentials,
)
from ..integration.background import BackgroundRunner
from ..integration.log import plugin_logger
from ..integration.settings_checks import (
    api_url_in_use,
    check_connection,
    check_key,
    folder_problem,
)
from .context import first_key_text

log = plugin_logger("settings")

ICON_PATH = str(Path(__file__).resolve().parent.parent / "icons" / "icon.svg")
PAGE_TITLE = "OS Downloads"


class SettingsWidget(QgsOptionsPageWidget):
    """The fields; ``save()`` stores them (``apply()`` when QGIS Options is accepted)."""

    saved = pyqtSignal()
    checked = pyqtSignal(bool)  # a "Test connection"/"Test key" answer came back

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("os_downloads_settings")
        values = plugin_settings.load()
        self._authcfg = values.authcfg
        self._remove_key = False

        self.folder_widget = QgsFileWidget()
        self.folder_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.folder_widget.setFilePath(values.download_folder)
        self.folder_widget.lineEdit().setPlaceholderText(
            str(plugin_settings.default_download_folder())
        )
        self.folder_state = self._hint("")
        self.folder_widget.fileChanged.connect(self._check_folder)
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, 16)
        self.workers_spin.setValue(values.workers)
        self.extract_check = QCheckBox(tr("Unzip the downloaded files"))
        self.extract_check.setChecked(values.extract_after_download)
        self.load_check = QCheckBox(tr("Add the layers to the project"))
        self.load_check.setChecked(values.load_after_download)
        self.style_check = QCheckBox(tr("Style the layers on load (colours, labels, outlines)"))
        self.style_check.setToolTip(
            tr("Off: QGIS's default style. Attribution is recorded in every layer either way.")
        )
        self.style_check.setChecked(values.style_layers)
        self.overviews_check = QCheckBox(tr("Build overviews for large rasters that have none"))
        self.overviews_check.setToolTip(
            tr("Done once in the background; zoomed-out maps then draw quickly.")
        )
        self.overviews_check.setChecked(values.build_raster_overviews)
        downloads = QGroupBox(tr("Downloads"))
        form = QFormLayout(downloads)
        form.addRow(tr("Download folder"), self.folder_widget)
        form.addRow("", self.folder_state)
        form.addRow(tr("Parallel downloads"), self.workers_spin)
        form.addRow(tr("After downloading"), self.extract_check)
        form.addRow("", self.load_check)
        form.addRow("", self.style_check)
        form.addRow("", self.overviews_check)

        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText(tr("Optional: only for OAuth2"))
        self.key_state = QLabel()
        self.key_state.setWordWrap(True)
        self.remove_key_button = QPushButton(tr("Remove the stored key"))
        self.remove_key_button.clicked.connect(self._mark_key_removed)
        self.url_edit = QLineEdit(values.api_url)
        self.url_edit.setPlaceholderText(api_url_in_use("")[0])
        self.url_state = self._hint("")
        self.url_edit.textChanged.connect(self._show_url_in_use)
        self.test_connection_button = QPushButton(tr("Test connection"))
        self.test_connection_button.setToolTip(
            tr("List the OpenData products from this server (no key needed)")
        )
        self.test_key_button = QPushButton(tr("Test key"))
        self.test_key_button.setToolTip(
            tr("List your data packages with the key typed above (else the stored one)")
        )
        self.check_state = QLabel()
        self.check_state.setWordWrap(True)
        self.test_connection_button.clicked.connect(self._test_connection)
        self.test_key_button.clicked.connect(self._test_key)
        self._runner = BackgroundRunner(self)
        account = QGroupBox(tr("OS Data Hub (premium data packages)"))
        account_form = QFormLayout(account)
        account_form.addRow(tr("Project API key"), self.key_edit)
        account_form.addRow(tr("Project API secret"), self.secret_edit)
        account_form.addRow("", self.key_state)
        account_form.addRow("", self.remove_key_button)
        account_form.addRow(tr("API URL"), self.url_edit)
        account_form.addRow("", self.url_state)
        tests = QHBoxLayout()
        tests.addWidget(self.test_connection_button)
        tests.addWidget(self.test_key_button)
        tests.addStretch(1)
        account_form.addRow("", tests)
        account_form.addRow("", self.check_state)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020")

        layout = QVBoxLayout(self)
        layout.addWidget(downloads)
        layout.addWidget(account)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self._show_key_state()
        self._show_url_in_use()
        self._check_folder(self.folder_widget.filePath())

    def _show_url_in_use(self, *_: object) -> None:
        url, origin = api_url_in_use(self.url_edit.text())
        self.url_state.setText(tr("In use: {url} (from {origin}).").format(url=url, origin=origin))

    def _check_folder(self, path: str) -> None:
        """Checked when chosen: a folder nothing can be written in is said at once."""
        problem = folder_problem(path)
        self.folder_state.setText(
            problem or tr("Each product and version gets its own sub-folder. Empty: the default.")
        )
        self.folder_state.setStyleSheet("color: #b00020" if problem else "color: palette(mid)")

    def _checking(self, busy: bool, text: str = "") -> None:
        self.test_connection_button.setEnabled(not busy)
        self.test_key_button.setEnabled(not busy)
        if text:
            self.check_state.setText(text)

    def _check_failed(self, error: BaseException) -> None:
        self._checking(False, describe(error, key_setting=tr("the key field above")))
        self.checked.emit(False)

    def _check_passed(self, text: str) -> None:
        self._checking(False, text)
        self.checked.emit(True)

    def _test_connection(self) -> None:
        self._checking(True, tr("Connecting…"))
        check_connection(
            self._runner, self.url_edit.text().strip(), self._check_passed, self._check_failed
        )

    def _test_key(self) -> None:
        self._checking(True, tr("Checking the key…"))
        check_key(
            self._runner,
            self.url_edit.text().strip(),
            self.key_edit.text(),
            self.secret_edit.text(),
            "" if self._remove_key else self._authcfg,
            self._check_passed,
            self._check_failed,
        )

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(mid)")
        return label

    def _show_key_state(self) -> None:
        stored = has_credentials(self._authcfg) and not self._remove_key
        if stored:
            self.key_state.setText(
                tr(
                    "A key is stored in the QGIS Authentication Manager (entry {id}). "
                    "Type a new one to replace it."
                ).format(id=self._authcfg)
            )
            self.key_edit.setPlaceholderText(tr("Stored - type to replace"))
        else:
            self.key_state.setText(
                tr("No key stored. OpenData products need none; data packages do.")
                + " "
                + first_key_text()
            )
            self.key_edit.setPlaceholderText(tr("Your OS Data Hub project API key"))
        self.remove_key_button.setEnabled(stored)

    def _mark_key_removed(self) -> None:
        self._remove_key = True
        self.key_edit.clear()
        self.secret_edit.clear()
        self._show_key_state()

    def apply(self) -> None:
        """QGIS Options calls this when the user presses OK (a void C++ virtual)."""
        self.save()

    def save(self) -> bool:
        """Save; the key goes to the auth manager. False (and a message) if that failed."""
        self.error_label.clear()
        values = plugin_settings.load()
        values.download_folder = self.folder_widget.filePath().strip()
        values.parallel_downloads = self.workers_spin.value()
        values.extract_after_download = self.extract_check.isChecked()
        values.load_after_download = self.load_check.isChecked()
        values.style_layers = self.style_check.isChecked()
        values.build_raster_overviews = self.overviews_check.isChecked()
        values.api_url = self.url_edit.text().strip()
        key = self.key_edit.text().strip()
        try:
            if key:
                credentials = ApiCredentials(key, self.secret_edit.text().strip())
                values.authcfg = store_credentials(credentials, values.authcfg)
            elif self._remove_key and values.authcfg:
                remove_credentials(values.authcfg)
                values.authcfg = ""
        except Exception as exc:  # noqa: BLE001 - say it here, log the rest
            self.error_label.setText(describe(exc))
            log.warning("Saving the API key failed: %s", describe(exc))
            plugin_settings.save(values)  # the other fields are still worth keeping
            return False
        plugin_settings.save(values)
        self._authcfg, self._remove_key = values.authcfg, False
        self.key_edit.clear()
        self.secret_edit.clear()
        self._show_key_state()
        self.saved.emit()
        return True


class SettingsDialog(QDialog):
    """The same page in a dialog, opened from the dock."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("OS Downloads settings"))
        self.page = SettingsWidget(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _accept(self) -> None:
        if self.page.save():
            self.accept()


class SettingsPageFactory(QgsOptionsWidgetFactory):
    """Registers the page in Settings > Options (``iface.registerOptionsWidgetFactory``)."""

    def __init__(self, on_saved: Optional[Callable[[], None]] = None) -> None:
        super().__init__(tr(PAGE_TITLE), QIcon(ICON_PATH))
        self._on_saved = on_saved

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def createWidget(self, parent: Optional[QWidget] = None) -> SettingsWidget:  # noqa: N802
        widget = SettingsWidget(parent)
        if self._on_saved is not None:
            widget.saved.connect(self._on_saved)
        return widget
