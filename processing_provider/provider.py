"""The ``os_downloads`` Processing provider.

Loading must never wait on the network (QGIS start, qgis_process): the
algorithms take their choices from the cached product list, and the cache is
refreshed in the background when missing or old. When there was no cache at
all, the algorithms are rebuilt once the list arrives. qgis_process never
refreshes: it runs one algorithm and exits, and plain strings work there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from qgis.core import QgsApplication, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..core.redact import get_logger
from ..i18n import tr
from .catalogue import Catalogue, load_catalogue, refresh_catalogue
from .check_updates import CheckUpdatesAlgorithm
from .common import ICON_PATH
from .download_package import DownloadPackageAlgorithm
from .download_product import DownloadProductAlgorithm
from .sync_algorithm import SyncAlgorithm
from .update_holding import UpdateHoldingAlgorithm

log = get_logger(__name__)

PROVIDER_ID = "os_downloads"


class OSDownloadsProvider(QgsProcessingProvider):
    def __init__(
        self, *, refresh_in_background: bool = True, catalogue_path: Optional[Path] = None
    ) -> None:
        super().__init__()
        self._refresh_in_background = refresh_in_background
        self._catalogue_path = catalogue_path  # None: in the QGIS profile
        self._runner = None
        self.catalogue: Catalogue = load_catalogue(catalogue_path)

    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return tr("OS Downloads")

    def longName(self) -> str:
        return tr("OS Downloads: Ordnance Survey OpenData and data packages")

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:
        return str(ICON_PATH)

    def load(self) -> bool:
        loaded = super().load()
        if self._refresh_in_background and not _is_qgis_process():
            self._start_refresh()
        return loaded

    def unload(self) -> None:
        if self._runner is not None:
            self._runner.shutdown(1000)
            self._runner = None
        super().unload()

    def loadAlgorithms(self) -> None:
        self.catalogue = load_catalogue(self._catalogue_path)
        for algorithm in (
            DownloadProductAlgorithm(self.catalogue),
            DownloadPackageAlgorithm(),
            CheckUpdatesAlgorithm(),
            SyncAlgorithm(),
            UpdateHoldingAlgorithm(),
        ):
            self.addAlgorithm(algorithm)

    # --- the product list, off the startup path ------------------------------------

    def _start_refresh(self) -> None:
        try:
            from ..integration.background import BackgroundRunner
            from ..integration.client_factory import build_client

            client = build_client(with_credentials=False)  # reads settings: main thread
            if not self.catalogue.is_stale(client.base_url):
                client.close()
                return
            self._runner = BackgroundRunner(max_threads=1)
        except Exception:  # noqa: BLE001 - the list is a convenience; never break loading
            log.exception("Could not start refreshing the OS product list")
            return
        had_choices = bool(self.catalogue.products)

        def refresh() -> Optional[Catalogue]:
            try:
                return refresh_catalogue(client, self._catalogue_path)
            finally:
                client.close()

        self._runner.submit(
            refresh,
            lambda catalogue: self._refreshed(catalogue, had_choices),
            lambda error: log.info("OS product list not refreshed (offline?): %s", error),
        )

    def _refreshed(self, catalogue: Optional[Catalogue], had_choices: bool) -> None:
        log.info("OS product list cached: %d products", len(catalogue.products) if catalogue else 0)
        if catalogue is not None and catalogue.products and not had_choices:
            self.refreshAlgorithms()


def _is_qgis_process() -> bool:
    """qgis_process runs one algorithm and exits: a refresh would only delay its exit."""
    app = QgsApplication.instance()
    return app is not None and app.platform() == "qgis_process"
