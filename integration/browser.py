"""An "OS Downloads" root in the QGIS Browser panel (``QgsDataItemProvider``).

- OpenData products -> their formats -> their areas ("Download and load" in the
  context menu);
- My data packages -> their versions (with a key stored);
- My downloads -> each download on disk -> its datasets, which drag onto the
  map or open with a double-click like any file (double-click adds them with
  our styles and attribution); context menu: open folder, update.

Listings run where QGIS populates Browser items (its worker threads); each
listing builds its own client and closes it after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional

from qgis.core import (
    Qgis,
    QgsDataCollectionItem,
    QgsDataItem,
    QgsDataItemProvider,
    QgsDataProvider,
    QgsErrorItem,
    QgsLayerItem,
)
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QAction

from ..core.engine.discover import find_datasets
from ..core.engine.manifest import SOURCE_OPENDATA
from ..core.errors import describe
from ..core.formatting import format_bytes
from ..core.local.inventory import LocalDownload, list_downloads
from ..i18n import tr
from . import settings as plugin_settings
from .client_factory import build_client, closing_client
from .layer_sources import RASTER, VECTOR_TILES, plan_layers
from .layers import add_layers, group_name_for
from .log import plugin_logger

log = plugin_logger("browser")

PROVIDER_NAME = "OS Downloads"
ROOT_PATH = "osdownloads:"
ICON = str(Path(__file__).resolve().parents[1] / "icons" / "icon.svg")

# Starts "Download and load" (the dock's service); set by the plugin.
Starter = Callable[[str, str, str, Optional[str]], object]


class OSDownloadsDataItemProvider(QgsDataItemProvider):
    def __init__(self, start_download: Optional[Starter] = None) -> None:
        super().__init__()
        self.start_download = start_download

    def name(self) -> str:
        return PROVIDER_NAME

    def dataProviderKey(self) -> str:  # noqa: N802
        return "os_downloads"

    def capabilities(self):
        return QgsDataProvider.DataCapability.Dir

    def createDataItem(self, path: str, parent: Optional[QgsDataItem]):  # noqa: N802
        if not path:
            return RootItem(parent, self)
        return None


class RootItem(QgsDataCollectionItem):
    def __init__(self, parent, provider: OSDownloadsDataItemProvider) -> None:
        super().__init__(parent, tr("OS Downloads"), ROOT_PATH, PROVIDER_NAME)
        self.provider = provider
        self.setIcon(QIcon(ICON))

    def createChildren(self):  # noqa: N802
        return [
            ProductsItem(self, self.provider),
            PackagesItem(self),
            MyDownloadsItem(self, self.provider),
        ]


class ProductsItem(QgsDataCollectionItem):
    def __init__(self, parent, provider) -> None:
        super().__init__(parent, tr("OpenData products"), ROOT_PATH + "/products", PROVIDER_NAME)
        self.provider = provider
        self.setIcon(QIcon(ICON))

    def createChildren(self):  # noqa: N802
        try:
            with closing_client(build_client(with_credentials=False)) as client:
                products = client.products()
        except Exception as exc:  # noqa: BLE001 - shown as an error row
            return [QgsErrorItem(self, describe(exc), self.path() + "/error")]
        return [ProductItem(self, self.provider, p.id, p.name) for p in products]


class ProductItem(QgsDataCollectionItem):
    def __init__(self, parent, provider, product_id: str, name: str) -> None:
        super().__init__(parent, name, f"{ROOT_PATH}/products/{product_id}", PROVIDER_NAME)
        self.provider = provider
        self.product_id = product_id

    def createChildren(self):  # noqa: N802
        try:
            with closing_client(build_client(with_credentials=False)) as client:
                downloads = client.product_downloads(self.product_id)
        except Exception as exc:  # noqa: BLE001
            return [QgsErrorItem(self, describe(exc), self.path() + "/error")]
        formats: dict = {}
        for d in downloads:
            formats.setdefault((d.format, d.subformat), []).append(d)
        return [
            FormatItem(self, self.provider, self.product_id, fmt, sub, files)
            for (fmt, sub), files in formats.items()
        ]


class FormatItem(QgsDataCollectionItem):
    def __init__(self, parent, provider, product_id, fmt, sub, files) -> None:
        label = f"{fmt} {sub}" if sub else fmt
        super().__init__(parent, label, f"{parent.path()}/{label}", PROVIDER_NAME)
        self.provider = provider
        self.product_id, self.fmt, self.sub, self.files = product_id, fmt, sub, files

    def createChildren(self):  # noqa: N802
        sizes: dict = {}
        for d in self.files:
            sizes[d.area] = sizes.get(d.area, 0) + (d.size or 0)
        return [
            AreaItem(self, self.provider, self.product_id, self.fmt, self.sub, area, size)
            for area, size in sorted(sizes.items(), key=lambda kv: (kv[0] not in ("GB",), kv[0]))
        ]


class AreaItem(QgsDataItem):
    def __init__(self, parent, provider, product_id, fmt, sub, area, size) -> None:
        label = f"{area} — {format_bytes(size)}" if size else area
        super().__init__(
            Qgis.BrowserItemType.Custom, parent, label, f"{parent.path()}/{area}", PROVIDER_NAME
        )
        self.provider = provider
        self.product_id, self.fmt, self.sub, self.area = product_id, fmt, sub, area
        self.setState(Qgis.BrowserItemState.Populated)

    def hasDragEnabled(self) -> bool:  # noqa: N802
        return False

    def actions(self, parent):
        action = QAction(tr("Download and load"), parent)
        action.triggered.connect(self.download)
        return [action]

    def handleDoubleClick(self) -> bool:  # noqa: N802
        self.download()
        return True

    def download(self):
        if self.provider.start_download is None:
            return None
        return self.provider.start_download(self.product_id, self.fmt, self.area, self.sub)


class PackagesItem(QgsDataCollectionItem):
    def __init__(self, parent) -> None:
        super().__init__(parent, tr("My data packages"), ROOT_PATH + "/packages", PROVIDER_NAME)
        self.setIcon(QIcon(ICON))

    def createChildren(self):  # noqa: N802
        values = plugin_settings.load()
        if not values.authcfg:
            return [
                QgsErrorItem(
                    self, tr("Add your OS Data Hub key in the settings"), self.path() + "/nokey"
                )
            ]
        try:
            with closing_client(build_client(values)) as client:
                packages = client.data_packages()
                items = []
                for package in packages:
                    item = QgsDataCollectionItem(
                        self, package.name, f"{self.path()}/{package.id}", PROVIDER_NAME
                    )
                    for version in client.data_package_versions(package.id):
                        child = QgsDataItem(
                            Qgis.BrowserItemType.Custom,
                            item,
                            f"{version.id} ({version.created_on})",
                            f"{item.path()}/{version.id}",
                            PROVIDER_NAME,
                        )
                        child.setState(Qgis.BrowserItemState.Populated)
                        item.addChildItem(child)
                    item.setState(Qgis.BrowserItemState.Populated)
                    items.append(item)
                return items
        except Exception as exc:  # noqa: BLE001
            return [QgsErrorItem(self, describe(exc), self.path() + "/error")]


class MyDownloadsItem(QgsDataCollectionItem):
    def __init__(self, parent, provider=None) -> None:
        super().__init__(parent, tr("My downloads"), ROOT_PATH + "/local", PROVIDER_NAME)
        self.provider = provider
        self.setIcon(QIcon(ICON))

    def createChildren(self):  # noqa: N802
        roots = [plugin_settings.load().download_root]
        return [DownloadItem(self, item, self.provider) for item in list_downloads(roots)]


class DownloadItem(QgsDataCollectionItem):
    def __init__(self, parent, item: LocalDownload, provider=None) -> None:
        parts = [item.title, item.manifest.version, item.kind, item.area]
        label = " · ".join(p for p in parts if p)
        super().__init__(parent, label, f"{parent.path()}/{item.folder}", PROVIDER_NAME)
        self.item = item
        self.provider = provider

    def createChildren(self):  # noqa: N802
        folder, manifest = Path(self.item.folder), self.item.manifest
        base = folder / manifest.extracted_folder if manifest.extracted_folder else folder
        datasets = find_datasets(base, product_name=manifest.name or None)
        sources = plan_layers(datasets, folder, title=str(manifest.name or ""))
        return [DatasetItem(self, source, self.item) for source in sources]

    def actions(self, parent):
        open_folder = QAction(tr("Open folder"), parent)
        open_folder.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.item.folder)))
        )
        actions = [open_folder]
        m = self.item.manifest
        if m.source == SOURCE_OPENDATA and self.provider and self.provider.start_download:
            update = QAction(tr("Update (download the newest version)"), parent)
            update.triggered.connect(self.update)
            actions.append(update)
        return actions

    def update(self):
        """The newest version of the same product, format and area."""
        m = self.item.manifest
        return self.provider.start_download(m.id, m.format or "", m.area or "GB", m.subformat)


def _layer_type(kind: str):
    if kind == RASTER:
        return Qgis.BrowserLayerType.Raster
    if kind == VECTOR_TILES:
        return Qgis.BrowserLayerType.VectorTile
    return Qgis.BrowserLayerType.Vector


class DatasetItem(QgsLayerItem):
    """A layer of a download: drags like any file; a double-click adds it styled."""

    def __init__(self, parent, source, item: LocalDownload) -> None:
        super().__init__(
            parent,
            source.name,
            f"{parent.path()}/{source.name}",
            source.uri,
            _layer_type(source.kind),
            source.provider,
        )
        self.source = source
        self.item = item
        self.setState(Qgis.BrowserItemState.Populated)

    def handleDoubleClick(self) -> bool:  # noqa: N802
        self.add_to_project()
        return True

    def add_to_project(self):
        return add_layers(
            [self.source], group_name_for(self.item.manifest), manifest=self.item.manifest
        )


def children_of(item: QgsDataItem) -> List[QgsDataItem]:
    """The item's children, made now (tests; QGIS itself populates in the background)."""
    return list(item.createChildren())
