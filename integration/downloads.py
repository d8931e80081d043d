"""Start a product or data-package download as a background task, load it when done.

The one path every "Download and load" takes (the dock's buttons and the
demo script alike): read the settings and build the client on the main
thread, run the sources' fetch jobs plus layer planning in a ``JobTask``, and in its
``finished()`` add the layers and tell listeners through ``ended``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.api.client import OSDownloadsClient
from ..core.api.models import LATEST
from ..core.engine.manifest import write_manifest
from ..core.engine.pipeline import JobResult
from ..core.errors import Cancelled
from ..core.sources.os_packages import fetch_package_version
from ..core.sources.os_products import fetch_product
from ..i18n import tr
from . import settings as plugin_settings
from . import task as tasks
from .client_factory import build_client, closing_client, require_credentials
from .layer_cache import MANIFEST_KEY, LoadPreparation
from .layers import LayerSource, LoadReport, add_layers, group_name_for, plan_layers
from .log import plugin_logger
from .prepared import PreparedJob
from .settings import PluginSettings

log = plugin_logger("downloads")


@dataclass
class DownloadOutcome:
    """How a download ended, for the dock's messages and the tests."""

    title: str
    task: tasks.JobTask
    prepared: Optional[PreparedJob] = None
    report: Optional[LoadReport] = None
    error: Optional[BaseException] = None
    load_requested: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None and self.prepared is not None

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    @property
    def folder(self) -> Optional[Path]:
        return self.prepared.result.folder if self.prepared else None


class DownloadService(QObject):
    """Starts download tasks; ``started``/``ended`` tell the dock what happens."""

    started = pyqtSignal(object)  # JobTask
    ended = pyqtSignal(object)  # DownloadOutcome
    shown = pyqtSignal(object)  # JobTask already running, asked for again: show its progress

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._project: Optional[QgsProject] = None
        self._running: Dict[Tuple[str, ...], tasks.JobTask] = {}

    def start_product(
        self,
        product_id: str,
        format: str,
        area: str = "GB",
        subformat: Optional[str] = None,
        *,
        title: str = "",
        keep_only: Optional[Sequence[str]] = None,
    ) -> tasks.JobTask:
        """Download (and by the settings, extract and load) one product/format/area.

        ``keep_only``: 100 km squares to cut the data to ("Keep only my area", for
        products offered for all of GB only); the full download stays on disk.

        The same product/format/area already running: that task is returned, no second."""
        key = product_key(product_id, format, subformat, [area or "GB"])
        if keep_only:
            key = (*key, "only", *sorted(keep_only))
        if key in self._running:
            return self._already_running(key)
        values = plugin_settings.load()
        title = title or product_id
        cancel = threading.Event()
        client = build_client(values, with_credentials=False, cancel=cancel)

        def job(progress: Callable[[Any], None], event: threading.Event) -> PreparedJob:
            with closing_client(client):
                result = fetch_product(
                    client,
                    product_id,
                    format,
                    area=area or "GB",
                    subformat=subformat or None,
                    dest_root=values.download_root,
                    extract=values.extract_after_download,
                    workers=values.workers,
                    progress=progress,
                    cancel=event,
                )
            if keep_only:
                from ..core.grid.bng import union_wkt
                from ..core.grid.feature_types import areas_label
                from .area_loading import prepare_clipped

                return prepare_clipped(
                    result, union_wkt(keep_only), areas_label(keep_only), values, cancel=event
                )
            return _prepare(result, values, event)

        description = tr("OS Downloads: {title} ({format}, {area})").format(
            title=title, format=" ".join(p for p in (format, subformat) if p), area=area or "GB"
        )
        return self._start(description, title, job, cancel, values, client, key=key)

    def start_product_areas(
        self,
        product_id: str,
        format: str,
        areas: Sequence[str],
        subformat: Optional[str] = None,
        *,
        title: str = "",
        merge: bool = True,
    ) -> tasks.JobTask:
        """Several 100 km squares in one task with one progress; the vector tiles merged
        into one GeoPackage (one layer per feature type), rasters into one mosaic."""
        from ..core.grid.multi_area import fetch_product_areas, normalise_areas

        chosen = normalise_areas(areas)
        if len(chosen) == 1:
            return self.start_product(product_id, format, chosen[0], subformat, title=title)
        key = product_key(product_id, format, subformat, chosen)
        if key in self._running:
            return self._already_running(key)
        values = plugin_settings.load()
        title = title or product_id
        cancel = threading.Event()
        client = build_client(values, with_credentials=False, cancel=cancel)

        def job(progress: Callable[[Any], None], event: threading.Event) -> PreparedJob:
            with closing_client(client):
                results = fetch_product_areas(
                    client,
                    product_id,
                    format,
                    chosen,
                    subformat=subformat or None,
                    dest_root=values.download_root,
                    extract=values.extract_after_download,
                    workers=values.workers,
                    progress=progress,
                    cancel=event,
                )
            from .area_loading import prepare_areas

            return prepare_areas(results, chosen, values, merge=merge, cancel=event)

        description = tr("OS Downloads: {title} ({format}, {areas})").format(
            title=title,
            format=" ".join(p for p in (format, subformat) if p),
            areas=", ".join(chosen),
        )
        return self._start(description, title, job, cancel, values, client, key=key)

    def running_task(
        self, product_id: str, format: str, subformat: Optional[str], areas: Sequence[str]
    ) -> Optional[tasks.JobTask]:
        """The task already fetching this product/format/area set, if one runs."""
        return self._running.get(product_key(product_id, format, subformat, areas))

    def start_package_version(
        self, package_id: str, version_id: str = LATEST, *, title: str = ""
    ) -> tasks.JobTask:
        """Download one version of a premium data package (default: the newest).

        The same version already running: that task is returned, no second."""
        key = ("package", package_id, version_id or LATEST)
        if key in self._running:
            return self._already_running(key)
        values = plugin_settings.load()
        title = title or package_id
        cancel = threading.Event()
        client = require_credentials(build_client(values, cancel=cancel))

        def job(progress: Callable[[Any], None], event: threading.Event) -> PreparedJob:
            with closing_client(client):
                result = fetch_package_version(
                    client,
                    package_id,
                    version_id or LATEST,
                    dest_root=values.download_root,
                    extract=values.extract_after_download,
                    workers=values.workers,
                    progress=progress,
                    cancel=event,
                )
            return _prepare(result, values, event)

        description = tr("OS Downloads: data package {title}, version {version}").format(
            title=title, version=version_id or LATEST
        )
        return self._start(description, title, job, cancel, values, client, key=key)

    def running(self) -> List[tasks.JobTask]:
        return tasks.running_tasks()

    def cancel_all(self) -> None:
        tasks.cancel_all()

    # --- plumbing -------------------------------------------------------------------

    def _already_running(self, key: Tuple[str, ...]) -> tasks.JobTask:
        task = self._running[key]
        log.info("Already running: %s", task.title)
        self.shown.emit(task)
        return task

    def _start(
        self,
        description: str,
        title: str,
        job: tasks.Job,
        cancel: threading.Event,
        values: PluginSettings,
        client: OSDownloadsClient,
        *,
        key: Optional[Tuple[str, ...]] = None,
    ) -> tasks.JobTask:
        def done(task: tasks.JobTask) -> None:
            if key is not None and self._running.get(key) is task:
                del self._running[key]
            client.close()  # also when the task was cancelled before its job ever ran
            self._finish(task, title, values)

        task = tasks.JobTask(description, job, on_done=done, cancel_event=cancel)
        if key is not None:
            self._running[key] = task
        tasks.start(task)
        log.info("Started: %s", description)
        self.started.emit(task)
        return task

    def _finish(self, task: tasks.JobTask, title: str, values: PluginSettings) -> None:
        outcome = DownloadOutcome(title, task, load_requested=values.load_after_download)
        if task.ok and isinstance(task.result, PreparedJob):
            outcome.prepared = task.result
            if values.load_after_download and task.result.sources:
                outcome.report = add_layers(
                    task.result.sources,
                    task.result.group_name,
                    manifest=task.result.result.manifest,
                    style=values.style_layers,
                    names=task.result.layer_names,
                )
        else:
            outcome.error = task.error or Cancelled()
            if outcome.cancelled:
                log.info("Cancelled: %s", task.description())
        self.ended.emit(outcome)


def product_key(
    product_id: str, format: str, subformat: Optional[str], areas: Sequence[str]
) -> Tuple[str, ...]:
    """What makes two downloads the same: product, format, subformat and area set."""
    chosen = sorted({(a or "GB").strip().upper() for a in areas}) or ["GB"]
    return ("product", product_id, (format or "").casefold(), (subformat or "").casefold(), *chosen)


def _prepare(
    result: JobResult, values: PluginSettings, cancel: Optional[threading.Event] = None
) -> PreparedJob:
    """Worker-thread part of loading: name the group, plan layers, write helper VRTs,
    the GeoPackage copies of CSVs and overviews (recorded in the manifest's extra)."""
    group = group_name_for(result.manifest)
    sources: List[LayerSource] = []
    if values.load_after_download:
        from .holdings import package_version_sources  # MasterMap, ABP: the holding readers

        found = package_version_sources(result, cancel)
        if found is not None:
            return PreparedJob(result, group, found)
    if values.load_after_download and result.datasets:
        title = str(getattr(result.manifest, "name", "") or "")
        prep = LoadPreparation(build_overviews=values.build_raster_overviews, cancel=cancel)
        sources = plan_layers(result.datasets, result.folder, title=title, prep=prep)
        if prep.made:
            made = dict(result.manifest.extra.get(MANIFEST_KEY) or {})
            made.update(prep.made)
            result.manifest.extra[MANIFEST_KEY] = made
            write_manifest(result.manifest_path.parent, result.manifest)
    return PreparedJob(result, group, sources)
