"""The "My downloads" tab's service: what is on disk, load it offline, verify, delete, updates.

Listing, verifying and finding layers run on the dock's ``BackgroundRunner``
(file work never on the main thread); layers are added on the main thread by
``layers.add_layers``, as after a download, without asking any API. Updates
are checked with ``core.sources.updates`` in the background at most once a
day unless asked (``check_updates(force=True)``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, List, Optional

from qgis.core import QgsSettings

from ..core.engine import pipeline as jobs
from ..core.engine.discover import datasets_of_files, find_datasets
from ..core.engine.extract import is_archive
from ..core.engine.manifest import SOURCE_OPENDATA, SOURCE_PACKAGE
from ..core.errors import ConfigurationError, describe
from ..core.local.holdings_inventory import (
    Listed,
    LocalHolding,
    PostgisHome,
    list_holdings,
    list_postgis_holdings,
)
from ..core.local.inventory import (
    LocalDownload,
    attach_updates,
    delete_download,
    inspect,
    list_downloads,
)
from ..core.sources.updates import check_updates, find_manifests, group_manifests
from ..i18n import tr
from . import settings as plugin_settings
from .auth import is_unlocked
from .background import BackgroundRunner
from .client_factory import build_client, close_client
from .downloads import DownloadService
from .holding_homes import HoldingHome, remembered_postgis_homes
from .holdings import (
    HoldingService,
    add_holding_layers,
    plan_holding_layers,
    remembered_paths,
)
from .layers import LoadReport, add_layers, group_name_for, plan_layers
from .postgis_holdings import postgis_error_text
from .task import JobTask

OnError = Callable[[BaseException], None]
LAST_CHECK_KEY = "os_downloads/my_downloads/last_update_check"
CHECK_EVERY_S = 24 * 3600


class MyDownloadsService:
    def __init__(
        self,
        runner: BackgroundRunner,
        downloads: DownloadService,
        holdings: Optional[HoldingService] = None,
    ) -> None:
        self.runner = runner
        self.downloads = downloads
        self.holdings = holdings or HoldingService()
        self.items: List[Listed] = []
        self._remembered: List[Path] = []
        self._postgis: List[PostgisHome] = []

    def roots(self) -> List[Path]:
        return [plugin_settings.load().download_root]

    def everything(self, client: Any = None) -> List[Listed]:
        """Downloads (from manifests) then holdings (under the roots or remembered)."""
        roots = self.roots()
        return (
            list_downloads(roots)
            + list_holdings(roots, self._remembered, client=client)
            + list_postgis_holdings(self._postgis, client=client, words=postgis_error_text)
        )

    def _remember_homes(self, *, may_ask: bool = False) -> None:
        """Main thread: the remembered GeoPackages, and the PostGIS homes with their
        conninfo (the password read from the Authentication Manager only when that asks
        nothing, or ``may_ask``: the user pressed Check for updates)."""
        self._remembered = [Path(p) for p in remembered_paths()]
        self._postgis = [postgis_home(p, h, may_ask=may_ask) for p, h in postgis_homes()]

    # --- listing ----------------------------------------------------------------------

    def list(self, on_result: Callable[[List[Listed]], None], on_error: OnError) -> None:
        previous = {str(i.location): i for i in self.items}
        self._remember_homes()  # settings and the auth manager: main thread

        def done(items: List[Listed]) -> None:
            for item in items:  # keep what the last update check said
                before = previous.get(str(item.location))
                if before is None:
                    continue
                item.update = item.update or before.update
                if isinstance(item, LocalHolding) and item.pending is None:
                    item.pending = getattr(before, "pending", None)
            self.items = items
            on_result(items)

        self.runner.submit(self.everything, done, on_error)

    def check_updates(
        self,
        on_result: Callable[[List[LocalDownload]], None],
        on_error: OnError,
        *,
        force: bool = False,
    ) -> bool:
        """Ask the API what is newer, in the background; False when checked today already."""
        last = QgsSettings().value(LAST_CHECK_KEY, 0.0, type=float) or 0.0
        if not force and time.time() - last < CHECK_EVERY_S:
            return False
        roots = self.roots()
        self._remember_homes(may_ask=force)
        values = plugin_settings.load()
        # Clients are built here, on the main thread (settings, auth manager, QGIS proxy);
        # the worker only uses them, then closes them.
        # The daily check on its own never reads the key while the Authentication
        # Manager is locked (that would pop up QGIS's master-password prompt unasked);
        # "Check for updates" (force) may.
        key_readable = bool(values.authcfg) and (force or is_unlocked())
        try:
            clients = {SOURCE_OPENDATA: build_client(values, with_credentials=False)}
            if key_readable:
                clients[SOURCE_PACKAGE] = build_client(values)
        except Exception as exc:  # noqa: BLE001 - e.g. a bad API URL: the caller words it
            on_error(exc)
            return True

        def client_for(source: str) -> Any:
            if source not in clients and values.authcfg:
                raise ConfigurationError(
                    "Data packages were not checked: reading your key needs QGIS's master "
                    "password.",
                    hint="Press Check for updates to enter it and check them too.",
                )
            if source not in clients:
                raise ConfigurationError(
                    "Checking data packages for updates needs your key.",
                    hint="Add it in the OS Downloads settings.",
                )
            return clients[source]

        def work() -> List[Listed]:
            try:
                paths = [p for root in roots if root.is_dir() for p in find_manifests(root)]
                checks = check_updates(group_manifests(paths), client_for)
                # Holdings are asked only with a readable key, as data packages are.
                holdings = list_holdings(
                    roots, self._remembered, client=clients.get(SOURCE_PACKAGE)
                ) + list_postgis_holdings(
                    self._postgis, client=clients.get(SOURCE_PACKAGE), words=postgis_error_text
                )
            finally:
                for client in clients.values():
                    close_client(client)
            items = list_downloads(roots)
            attach_updates(items, checks)
            return items + holdings

        def done(items: List[Listed]) -> None:
            QgsSettings().setValue(LAST_CHECK_KEY, time.time())
            self.items = items
            on_result(items)

        self.runner.submit(work, done, on_error)
        return True

    # --- actions ----------------------------------------------------------------------

    def load(
        self,
        item: LocalDownload,
        on_result: Callable[[LoadReport], None],
        on_error: OnError,
        *,
        again: bool = False,
    ) -> None:
        """Add the download's layers from disk; no API call."""
        if isinstance(item, LocalHolding) and item.is_postgis:
            self._load_postgis(item, on_result, on_error, again=again)
            return
        if isinstance(item, LocalHolding):
            home, title = HoldingHome.geopackage(str(item.path)), item.title
            self.runner.submit(
                lambda: plan_holding_layers(home),
                lambda planned: on_result(add_holding_layers(planned, home, title, again=again)),
                on_error,
            )
            return
        folder, manifest = Path(item.folder), item.manifest

        def plan():
            base = folder / manifest.extracted_folder if manifest.extracted_folder else folder
            datasets = find_datasets(base, product_name=manifest.name or None)
            if manifest.extracted_folder:
                bare = [folder / f.name for f in manifest.files if (folder / f.name).is_file()]
                datasets = datasets_of_files(
                    [p for p in bare if not is_archive(p)], folder=folder
                ) + list(datasets)
            wanted = set(manifest.datasets)
            if wanted:
                datasets = [d for d in datasets if jobs.dataset_ref(d, folder) in wanted] or list(
                    datasets
                )
            return plan_layers(datasets, folder, title=str(manifest.name or ""))

        def add(sources) -> None:
            on_result(add_layers(sources, group_name_for(manifest), manifest=manifest, again=again))

        self.runner.submit(plan, add, on_error)

    def _load_postgis(
        self,
        item: LocalHolding,
        on_result: Callable[[LoadReport], None],
        on_error: OnError,
        *,
        again: bool = False,
    ) -> None:
        """A PostGIS holding's tables as postgres layers (the conninfo made here, on the
        main thread; the tables listed in the background)."""
        from .postgres_connections import connection_uri, holding_target

        home = HoldingHome.postgis(item.connection, item.schema)
        try:
            connection = connection_uri(item.connection)
            into = holding_target(item.connection, item.schema)
        except Exception as exc:  # noqa: BLE001 - the caller words it
            on_error(exc)
            return
        self.runner.submit(
            lambda: plan_holding_layers(home, into=into, connection=connection),
            lambda planned: on_result(add_holding_layers(planned, home, item.title, again=again)),
            on_error,
        )

    def verify(
        self,
        item: LocalDownload,
        on_result: Callable[[LocalDownload], None],
        on_error: OnError,
    ) -> None:
        """Hash every file again against the manifest, in the background."""
        update = item.update

        def work() -> LocalDownload:
            fresh = inspect(Path(item.folder), item.manifest, rehash=True)
            fresh.update = update
            return fresh

        self.runner.submit(work, on_result, on_error)

    def delete(self, item: Listed) -> None:
        """Remove the folder's files and manifest (the caller asked the user first)."""
        delete_download(Path(item.folder), self.roots())
        self.items = [i for i in self.items if i.folder != item.folder]

    def update(self, item: LocalDownload) -> Optional[JobTask]:
        """Download the newest version of the same thing (format and area); a holding:
        apply what it lacks (``HoldingService``)."""
        if isinstance(item, LocalHolding) and item.is_postgis:
            home = HoldingHome.postgis(item.connection, item.schema)
            return self.holdings.start(item.package_id, home, title=item.title)
        if isinstance(item, LocalHolding):
            return self.holdings.start(item.package_id, str(item.path), title=item.title)
        m = item.manifest
        if m.source == SOURCE_OPENDATA:
            return self.downloads.start_product(
                m.id, m.format or "", m.area or "GB", m.subformat, title=m.name or m.id
            )
        if m.source == SOURCE_PACKAGE:
            return self.downloads.start_package_version(m.id, title=m.name or m.id)
        return None


def postgis_homes() -> List[tuple]:
    """(package id, HoldingHome) per package kept in PostGIS."""
    return sorted(remembered_postgis_homes().items())


def postgis_home(package_id: str, home: HoldingHome, *, may_ask: bool = False) -> PostgisHome:
    """What ``list_postgis_holdings`` needs for one remembered home (main thread)."""
    from .postgres_connections import holding_target, saved_connection

    listed = PostgisHome(package_id, home.connection, home.schema, home.package_name)
    try:
        saved = saved_connection(home.connection)
        if saved.authcfg and not may_ask and not is_unlocked():
            return replace(
                listed,
                problem=tr(
                    "Not read: its password is in the Authentication Manager, which is "
                    "locked. Press Check for updates to enter QGIS's master password."
                ),
            )
        return replace(listed, into=holding_target(home.connection, home.schema))
    except Exception as exc:  # noqa: BLE001 - listed as not reachable, with why
        return replace(listed, problem=describe(exc))
