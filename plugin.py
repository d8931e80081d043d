"""The plugin object QGIS drives: a toolbar button and a Web menu entry toggle the dock.

``unload()`` leaves nothing behind: actions, menu entries, the Options page,
the dock, running downloads (cancelled), background listings, the log
handler and the translator are all removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .i18n import install_translator, remove_translator, tr
from .integration.log import install_log_handler, remove_log_handler

PLUGIN_DIR = Path(__file__).resolve().parent
ICON_PATH = str(PLUGIN_DIR / "icons" / "icon.svg")
DOCK_WIDTH = 420
DOCK_STATE_KEY = "os_downloads/dock"


@dataclass
class DockState:
    """Whether the dock was open when QGIS last closed, and how wide (0: not known)."""

    visible: bool = False
    width: int = 0


def dock_state() -> DockState:
    from qgis.core import QgsSettings

    qs = QgsSettings()
    visible = str(qs.value(f"{DOCK_STATE_KEY}/visible", "false")).lower() in ("true", "1")
    try:
        width = int(qs.value(f"{DOCK_STATE_KEY}/width", 0) or 0)
    except (TypeError, ValueError):
        width = 0
    return DockState(visible, width if 200 <= width <= 2000 else 0)


def save_dock_state(state: DockState) -> None:
    from qgis.core import QgsSettings

    qs = QgsSettings()
    qs.setValue(f"{DOCK_STATE_KEY}/visible", bool(state.visible))
    if state.width >= 200:
        qs.setValue(f"{DOCK_STATE_KEY}/width", int(state.width))


class OSDownloadsPlugin:
    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.dock = None  # OSDownloadsDock, made on first show
        self.toggle_action: Optional[QAction] = None
        self.settings_action: Optional[QAction] = None
        self.options_factory = None
        self.processing_provider = None
        self.browser_provider = None
        self.drop_handler = None
        self._translator = install_translator()
        self._log_handler = None

    @property
    def menu_name(self) -> str:
        return tr("&OS Downloads")

    # --- QGIS hooks ---------------------------------------------------------------

    def initGui(self) -> None:  # noqa: N802 - name fixed by QGIS
        self._log_handler = install_log_handler()
        window = self.iface.mainWindow()
        self.toggle_action = QAction(QIcon(ICON_PATH), tr("OS Downloads"), window)
        self.toggle_action.setObjectName("os_downloads_toggle_dock")
        self.toggle_action.setToolTip(tr("Show or hide the OS Downloads panel"))
        self.toggle_action.setCheckable(True)
        self.toggle_action.toggled.connect(self._set_dock_visible)
        self.settings_action = QAction(tr("Settings…"), window)
        self.settings_action.setObjectName("os_downloads_settings")
        self.settings_action.triggered.connect(self.open_settings)
        self.iface.addWebToolBarIcon(self.toggle_action)
        self.iface.addPluginToWebMenu(self.menu_name, self.toggle_action)
        self.iface.addPluginToWebMenu(self.menu_name, self.settings_action)
        self._register_options_page()
        self.initProcessing()
        if dock_state().visible:  # as the user left it last time
            QTimer.singleShot(0, self._restore_dock)
        self._register_browser_provider()

    def initProcessing(self) -> None:  # noqa: N802 - name QGIS uses for this hook
        """Register the Processing provider (processing_provider/ fills this in).

        QGIS calls it for plugins with ``hasProcessingProvider=yes``; keep the
        provider on ``self.processing_provider`` so ``unloadProcessing`` can
        remove it. It is also called from ``initGui`` (older QGIS), so return
        early when ``self.processing_provider`` is already set.
        """
        if self.processing_provider is not None:
            return
        from qgis.core import QgsApplication

        from .processing_provider.provider import OSDownloadsProvider

        self.processing_provider = OSDownloadsProvider()
        QgsApplication.processingRegistry().addProvider(self.processing_provider)

    def unloadProcessing(self) -> None:  # noqa: N802
        """Remove what ``initProcessing`` registered."""
        if self.processing_provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.processingRegistry().removeProvider(self.processing_provider)
            self.processing_provider = None

    def _register_browser_provider(self) -> None:
        """The "OS Downloads" root in the Browser panel; its downloads go through the dock."""
        from qgis.core import QgsApplication

        from .integration.browser import OSDownloadsDataItemProvider

        def start(product_id: str, fmt: str, area: str, subformat):
            return self.show_dock().download_and_load_product(product_id, fmt, area, subformat)

        self.browser_provider = OSDownloadsDataItemProvider(start)
        QgsApplication.dataItemProviderRegistry().addProvider(self.browser_provider)
        if hasattr(self.iface, "registerCustomDropHandler"):  # a product dragged onto the map
            from .integration.product_drop import ProductDropHandler

            self.drop_handler = ProductDropHandler(start)
            self.iface.registerCustomDropHandler(self.drop_handler)

    def unload(self) -> None:
        self._unloading = True
        if self.dock is not None:
            save_dock_state(DockState(self.dock.isVisible(), self.dock.width()))
        if self.browser_provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.dataItemProviderRegistry().removeProvider(self.browser_provider)
            self.browser_provider = None
        if self.drop_handler is not None and hasattr(self.iface, "unregisterCustomDropHandler"):
            self.iface.unregisterCustomDropHandler(self.drop_handler)
            self.drop_handler = None
        self.unloadProcessing()
        if self.options_factory is not None and hasattr(
            self.iface, "unregisterOptionsWidgetFactory"
        ):
            self.iface.unregisterOptionsWidgetFactory(self.options_factory)
            self.options_factory = None
        for action in (self.toggle_action, self.settings_action):
            if action is not None:
                self.iface.removePluginWebMenu(self.menu_name, action)
        if self.toggle_action is not None:
            self.iface.removeWebToolBarIcon(self.toggle_action)
            self.toggle_action.toggled.disconnect(self._set_dock_visible)
            self.toggle_action.deleteLater()
            self.toggle_action = None
        if self.settings_action is not None:
            self.settings_action.deleteLater()
            self.settings_action = None
        if self.dock is not None:
            self.dock.shutdown()
            self.dock.visibilityChanged.disconnect(self._dock_visibility_changed)
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        remove_log_handler(self._log_handler)
        self._log_handler = None
        remove_translator(self._translator)
        self._translator = None

    # --- public API (demo script, tests) ---------------------------------------------

    def show_dock(self):
        """Create the dock if needed, show it and return it."""
        if self.dock is None:
            from .ui.dock import OSDownloadsDock

            self.dock = OSDownloadsDock(self.iface, self.iface.mainWindow())
            self.dock.visibilityChanged.connect(self._dock_visibility_changed)
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self._give_dock_room()
        self.dock.show()
        self.dock.raise_()
        return self.dock

    def open_settings(self) -> None:
        from .ui.settings_page import SettingsDialog

        dialog = SettingsDialog(self.iface.mainWindow())
        if self.dock is not None:
            dialog.page.saved.connect(self.dock.settings_changed)
        dialog.exec()

    # --- internals --------------------------------------------------------------------

    def _give_dock_room(self) -> None:
        """Product names and details need ~420 px; QGIS's default dock width truncates them."""
        window = self.iface.mainWindow()
        if hasattr(window, "resizeDocks") and self.dock in window.findChildren(type(self.dock)):
            width = dock_state().width or DOCK_WIDTH
            window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    def _restore_dock(self) -> None:
        if self.toggle_action is not None and self.dock is None:
            self.toggle_action.setChecked(True)  # shows the dock, at the saved width

    def _set_dock_visible(self, visible: bool) -> None:
        if visible:
            self.show_dock()
        elif self.dock is not None:
            self.dock.hide()

    def _dock_visibility_changed(self, visible: bool) -> None:
        window = self.iface.mainWindow()
        if not getattr(self, "_unloading", False) and (window is None or window.isVisible()):
            save_dock_state(DockState(visible, self.dock.width() if self.dock else 0))
        if self.toggle_action is not None and self.toggle_action.isChecked() != visible:
            self.toggle_action.blockSignals(True)
            self.toggle_action.setChecked(visible)
            self.toggle_action.blockSignals(False)

    def _register_options_page(self) -> None:
        if not hasattr(self.iface, "registerOptionsWidgetFactory"):
            return
        from .ui.settings_page import SettingsPageFactory

        self.options_factory = SettingsPageFactory(on_saved=self._settings_saved)
        self.iface.registerOptionsWidgetFactory(self.options_factory)

    def _settings_saved(self) -> None:
        if self.dock is not None:
            self.dock.settings_changed()
