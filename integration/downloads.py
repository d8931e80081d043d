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
from typing import Any, Callable, List, Optional

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
from .settings import PluginSettings

log = plugin_logger("downloads")


@dataclass
class PreparedJob:
    """What the worker hands to the main thread: the files and how to open them."""

    result: JobResult
    group_name: str
    sources: List[LayerSource]


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

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._project: Optional[QgsProject] = None

    def start_product(
        self,
        product_id: str,
        format: str,
        area: str = "GB",
        subformat: Optional[str] = None,
        *,
        title: str = "",
    ) -> tasks.JobTask:
        """Download (and by the settings, extract and load) one product/format/area."""
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
            return _prepare(result, values, event)

        description = tr("OS Downloads: {title} ({format}, {area})").format(
            title=title, format=" ".join(p for p in (format, subformat) if p), area=area or "GB"
        )
        return self._start(description, title, job, cancel, values, client)

    def start_package_version(
        self, package_id: str, version_id: str = LATEST, *, title: str = ""
    ) -> tasks.JobTask:
        """Download one version of a premium data package (default: the newest)."""
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
        return self._start(description, title, job, cancel, values, client)

    def running(self) -> List[tasks.JobTask]:
        return tasks.running_tasks()

    def cancel_all(self) -> None:
        tasks.cancel_all()

    # --- plumbing -------------------------------------------------------------------

    def _start(
        self,
        description: str,
        title: str,
        job: tasks.Job,
        cancel: threading.Event,
        values: PluginSettings,
        client: OSDownloadsClient,
    ) -> tasks.JobTask:
        def done(task: tasks.JobTask) -> None:
            client.close()  # also when the task was cancelled before its job ever ran
            self._finish(task, title, values)

        task = tasks.JobTask(description, job, on_done=done, cancel_event=cancel)
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
                )
        else:
            outcome.error = task.error or Cancelled()
            if outcome.cancelled:
                log.info("Cancelled: %s", task.description())
        self.ended.emit(outcome)


def _prepare(
    result: JobResult, values: PluginSettings, cancel: Optional[threading.Event] = None
) -> PreparedJob:
    """Worker-thread part of loading: name the group, plan layers, write helper VRTs,
    the GeoPackage copies of CSVs and overviews (recorded in the manifest's extra)."""
    group = group_name_for(result.manifest)
    sources: List[LayerSource] = []
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
