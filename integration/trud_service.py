"""The "NHS TRUD" tab's service: the key, the items, release listings, "Download and load",
"Place on map".

Everything here is started on the main thread and does its network or file
work off it: listings on the dock's ``BackgroundRunner`` (a client of their
own, closed after, as in ``opendata_service``), downloads and placements in a
background task (``JobTask``), so the tab stays widgets only. A
TRUD download goes through the dock's ``DownloadService`` signals: the
progress panel tracks it and the dock's message bar reports the outcome
(with "Open folder"), exactly as for OS downloads; listeners of ``loaded``
also get the tables that were added.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional

from qgis.core import QgsLayerTreeGroup, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.api.models import LATEST
from ..core.errors import Cancelled, ConfigurationError, NotFoundError
from ..core.redact import register_secret
from ..core.sources.trud.client import KEY_ENV, TrudClient, TrudRelease, parse_item
from ..core.sources.trud.fetch import TrudJobResult, fetch_trud_release
from ..core.sources.trud.signature import SignatureOutcome
from ..i18n import tr
from . import settings as plugin_settings
from . import task as tasks
from .auth import has_trud_key, load_trud_key, store_trud_key
from .background import BackgroundRunner
from .client_factory import run_with_client
from .downloads import DownloadOutcome, DownloadService, PreparedJob
from .layers import LoadReport
from .log import plugin_logger
from .network import build_session
from .postcode_placement import Placement, open_placement, prepare_placement, run_placement
from .settings import TrudSettings, load_trud_settings, save_trud_settings
from .table_layers import LoadedTable, group_name, load_release_tables

log = plugin_logger("trud")


def trud_key(values: TrudSettings) -> Optional[str]:
    """The key from the Authentication Manager, else from env TRUD_API_KEY."""
    key = load_trud_key(values.authcfg) if values.authcfg else None
    key = key or os.environ.get(KEY_ENV, "").strip() or None
    if key:
        register_secret(key)
    return key


def build_trud_client(
    values: Optional[TrudSettings] = None, cancel: Optional[threading.Event] = None
) -> TrudClient:
    """A TRUD client with QGIS's proxy/TLS session. Main thread (auth manager, settings)."""
    values = values or load_trud_settings()
    key = trud_key(values)
    if not key:
        raise ConfigurationError(
            tr("No NHS TRUD API key is stored."),
            hint=tr("Enter the key from your TRUD account page in the NHS TRUD tab."),
        )
    return TrudClient(key, values.api_url or None, build_session(), cancel=cancel)


@dataclass
class TrudLoad:
    """What a finished "Download and load" added."""

    result: TrudJobResult
    group: Optional[QgsLayerTreeGroup]
    tables: List[LoadedTable] = field(default_factory=list)

    @property
    def signature(self) -> Optional[SignatureOutcome]:
        return self.result.signature


CHECK_ITEM = 341  # ODS XML Organisation Data: asked for when checking a key


class TrudService(QObject):
    """Starts TRUD downloads and placements; tells listeners when they end."""

    loaded = pyqtSignal(object)  # TrudLoad
    failed = pyqtSignal(object)  # the exception (Cancelled included)
    placed = pyqtSignal(object)  # Placement
    place_failed = pyqtSignal(object)

    def __init__(
        self, runner: BackgroundRunner, downloads: DownloadService, parent: Optional[QObject] = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.downloads = downloads

    # --- key, items and options (QgsSettings and the Authentication Manager) ------------

    def settings(self) -> TrudSettings:
        return load_trud_settings()

    def has_stored_key(self) -> bool:
        """Whether the Authentication Manager holds the key (not decrypted: no prompt)."""
        return has_trud_key(load_trud_settings().authcfg)

    def has_key(self) -> bool:
        """A key from the Authentication Manager or from env TRUD_API_KEY."""
        return trud_key(load_trud_settings()) is not None

    def save_key(self, key: str) -> None:
        """Store the key in the Authentication Manager (ConfigurationError if it cannot)."""
        values = load_trud_settings()
        values.authcfg = store_trud_key(key, values.authcfg)
        save_trud_settings(values)

    def check_and_save_key(
        self,
        key: str,
        on_saved: Callable[[], None],
        on_rejected: Callable[[BaseException], None],
    ) -> None:
        """Ask TRUD whether it knows ``key`` (off the main thread), store it only then.

        TRUD has no "check key" call: the releases of an item are asked for (the
        first remembered, else item 341). A 404 means TRUD took the key (the account
        is just not subscribed to that item); 400/401, or no answer, and nothing is
        stored.
        """
        key = (key or "").strip()
        if not key:
            on_rejected(ConfigurationError(tr("The TRUD API key is empty.")))
            return
        register_secret(key)
        values = load_trud_settings()
        item = (values.item_numbers or [CHECK_ITEM])[0]

        def build() -> TrudClient:
            return TrudClient(key, values.api_url or None, build_session())

        def ask(client: TrudClient) -> bool:
            try:
                client.releases(item, latest=True)
            except NotFoundError:
                pass  # the key was recognised; the item is not in this account
            return True

        def accepted(_ok: bool) -> None:
            try:
                self.save_key(key)
            except Exception as exc:  # noqa: BLE001 - e.g. the master password refused
                on_rejected(exc)
                return
            on_saved()

        run_with_client(self.runner, build, ask, accepted, on_rejected)

    def set_verify_signature(self, verify: bool) -> None:
        values = load_trud_settings()
        values.verify_signature = bool(verify)
        save_trud_settings(values)

    def add_item(self, text: str) -> int:
        """Remember an item (its number or TRUD releases address); its number."""
        number = parse_item(text)
        save_trud_settings(plugin_settings.add_item(load_trud_settings(), text))
        return number

    def remove_item(self, number: int) -> None:
        save_trud_settings(plugin_settings.remove_item(load_trud_settings(), number))

    # --- listing, downloading, placing ------------------------------------------------------

    def list_releases(
        self,
        item: int,
        on_result: Callable[[List[TrudRelease]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """The item's releases, newest first, off the main thread."""
        run_with_client(
            self.runner, build_trud_client, lambda c: c.releases(item), on_result, on_error
        )

    def start_release(
        self,
        item: int,
        release_id: str = LATEST,
        *,
        release: Optional[TrudRelease] = None,
        load: bool = True,
    ) -> tasks.JobTask:
        """Download (check, extract) a release in the background; load its tables after."""
        values = load_trud_settings()
        plugin = plugin_settings.load()
        cancel = threading.Event()
        client = build_trud_client(values, cancel)
        label = release.name if release else (release_id or LATEST)
        title = tr("NHS TRUD item {item}, {release}").format(item=item, release=label)

        def job(progress: Callable[[Any], None], event: threading.Event) -> TrudJobResult:
            try:
                return fetch_trud_release(
                    client,
                    item,
                    release_id or LATEST,
                    release=release,
                    dest_root=plugin.download_root,
                    extract=True,
                    verify_signature=values.verify_signature,
                    workers=min(plugin.workers, 4),
                    progress=progress,
                    cancel=event,
                )
            finally:
                client.session.close()

        def done(task: tasks.JobTask) -> None:
            self._finish(task, title, load)

        task = tasks.JobTask(title, job, done, cancel)
        tasks.start(task)
        log.info("Started: %s", title)
        self.downloads.started.emit(task)
        return task

    def _finish(self, task: tasks.JobTask, title: str, load: bool) -> None:
        outcome = DownloadOutcome(title, task, load_requested=load)
        if not (task.ok and isinstance(task.result, TrudJobResult)):
            outcome.error = task.error or Cancelled()
            self.downloads.ended.emit(outcome)
            self.failed.emit(outcome.error)
            return
        result: TrudJobResult = task.result
        release = result.release
        name = group_name(release.item, release.name, release.release_date)
        outcome.prepared = PreparedJob(result.job, name, [])
        trud_load = TrudLoad(result, None)
        if load and result.tables:
            try:
                group, tables = load_release_tables(result.tables, name, result.folder)
                trud_load.group, trud_load.tables = group, tables
                outcome.report = LoadReport(name, group, [t.layer for t in tables])
            except ConfigurationError as err:
                outcome.error = err
        self.downloads.ended.emit(outcome)
        if outcome.error is None:
            self.loaded.emit(trud_load)
        else:
            self.failed.emit(outcome.error)

    def start_placement(
        self,
        table_layer: QgsVectorLayer,
        postcode_field: str,
        postcode_layer: QgsVectorLayer,
        *,
        output: Optional[Path] = None,
    ) -> tasks.JobTask:
        """Place a table's rows on the postcode layer's points, in the background."""
        placement_job = prepare_placement(
            table_layer, postcode_field, postcode_layer, output=output
        )
        table_id = table_layer.id()

        def job(progress: Callable[[Any], None], event: threading.Event) -> Any:
            return run_placement(placement_job, event)

        def done(task: tasks.JobTask) -> None:
            if not task.ok:
                self.place_failed.emit(task.error or Cancelled())
                return
            try:
                placement = open_placement(task.result)
            except ConfigurationError as err:
                self.place_failed.emit(err)
                return
            # Look the group up now: the user may have removed it while this ran.
            table = QgsProject.instance().mapLayer(table_id)
            _add_to_group(placement, _group_of(table) if table is not None else None)
            self.placed.emit(placement)

        description = tr("NHS TRUD: placing {table} by postcode").format(table=table_layer.name())
        return tasks.start(tasks.JobTask(description, job, done))


def _group_of(layer: QgsVectorLayer) -> Optional[QgsLayerTreeGroup]:
    node = QgsProject.instance().layerTreeRoot().findLayer(layer.id())
    parent = node.parent() if node is not None else None
    return parent if isinstance(parent, QgsLayerTreeGroup) else None


def _add_to_group(placement: Placement, group: Optional[QgsLayerTreeGroup]) -> None:
    project = QgsProject.instance()
    project.addMapLayer(placement.layer, False)
    target = group or project.layerTreeRoot()
    target.insertLayer(0, placement.layer)
