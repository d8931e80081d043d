"""A finished download as Processing outputs, and the optional layer loading.

FOLDER, MANIFEST, FILES (data files a GIS can open, found by core.discover)
and VERSION are the same for a product and a package version, so models can
chain either into the next step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
)

from ..core.engine.pipeline import JobResult
from ..core.errors import ConfigurationError
from ..core.redact import get_logger
from ..i18n import tr
from ..integration.client_factory import close_client
from .common import (
    FeedbackBridge,
    OSDownloadsAlgorithm,
    default_download_root,
    download_folder_parameter,
    processing_errors,
)

log = get_logger(__name__)


@dataclass
class JobOutputs:
    folder: Path
    manifest: Path
    version: str
    files: List[str] = field(default_factory=list)
    datasets: List[Any] = field(default_factory=list)
    downloaded: int = 0
    skipped: int = 0
    group_name: str = ""
    sources: List[Any] = field(default_factory=list)  # integration.layers.LayerSource
    loaded_manifest: Any = None  # core.manifest.Manifest: the layers' attribution and styles

    @classmethod
    def from_job(cls, result: JobResult) -> JobOutputs:
        """FILES: the data files found when extracted, else the downloaded files."""
        data_files = sorted({str(d.path) for d in result.datasets})
        return cls(
            folder=Path(result.folder),
            manifest=Path(result.manifest_path),
            version=result.version,
            files=data_files or [str(p) for p in result.files],
            datasets=list(result.datasets),
            downloaded=result.downloaded_count,
            skipped=result.skipped_count,
        )

    def report(self, feedback: QgsProcessingFeedback) -> None:
        feedback.pushInfo(
            tr("{downloaded} file(s) downloaded, {skipped} already there and verified").format(
                downloaded=self.downloaded, skipped=self.skipped
            )
        )
        feedback.pushInfo(tr("Files are in {folder}").format(folder=self.folder))
        feedback.pushInfo(
            tr("{n} data file(s) found: {names}").format(
                n=len(self.files), names=", ".join(Path(f).name for f in self.files[:10])
            )
        )

    def as_results(self) -> Dict[str, Any]:
        return {
            "FOLDER": str(self.folder),
            "MANIFEST": str(self.manifest),
            "FILES": list(self.files),
            "VERSION": self.version,
        }


def wants_loading(context: QgsProcessingContext) -> bool:
    """Layers are loaded in QGIS itself, never by qgis_process (no project to show)."""
    app = QgsApplication.instance()
    platform = app.platform() if app is not None else ""
    return platform != "qgis_process" and context.project() is not None


def plan_loading(outputs: JobOutputs, result: JobResult) -> None:
    """Worker-thread half of loading: layer sources and helper files (the dock's loader)."""
    from ..integration.layers import group_name_for, plan_layers

    outputs.group_name = group_name_for(result.manifest)
    outputs.loaded_manifest = result.manifest
    title = str(result.manifest.name or "")
    outputs.sources = plan_layers(result.datasets, result.folder, title=title)


def load_layers(
    outputs: JobOutputs, context: QgsProcessingContext, feedback: QgsProcessingFeedback
) -> int:
    """Main-thread half: add the planned layers to the project, in one group.

    The dock's loader (integration/layers.py: CSV coordinates, tile mosaics,
    EPSG:27700 when missing), so a layer looks the same however it was fetched."""
    from ..integration.layers import add_layers

    if not outputs.sources:
        feedback.pushInfo(tr("Nothing to load: no data files were found."))
        return 0
    report = add_layers(
        outputs.sources, outputs.group_name, context.project(), outputs.loaded_manifest
    )
    for name, why in report.skipped:
        feedback.reportError(tr("Not loaded: {name} ({why})").format(name=name, why=why))
    if report.layer_count == 1:
        added = tr("1 layer added to the group {group}.").format(group=outputs.group_name)
    else:
        added = tr("{n} layers added to the group {group}.").format(
            n=report.layer_count, group=outputs.group_name
        )
    feedback.pushInfo(added)
    return report.layer_count


class DownloadAlgorithm(OSDownloadsAlgorithm):
    """What both download algorithms share: destination, unzip, LOAD, outputs, the run."""

    DESTINATION = "DESTINATION"
    EXTRACT = "EXTRACT"
    LOAD = "LOAD"

    def __init__(self) -> None:
        super().__init__()
        self._client: Any = None
        self._outputs: Optional[JobOutputs] = None
        self._load = False

    def add_job_parameters(self, folder_label: str, version_label: str) -> None:
        """DESTINATION, EXTRACT and LOAD after the algorithm's own parameters, then the outputs."""
        self.addParameter(download_folder_parameter(self.DESTINATION, tr("Download folder")))
        self.addParameter(
            QgsProcessingParameterBoolean(self.EXTRACT, tr("Unzip the files"), defaultValue=True)
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.LOAD, tr("Add the layers to the project (QGIS desktop)"), defaultValue=False
            )
        )
        self.addOutput(QgsProcessingOutputFolder("FOLDER", folder_label))
        self.addOutput(QgsProcessingOutputFile("MANIFEST", tr("Manifest")))
        self.addOutput(QgsProcessingOutputMultipleLayers("FILES", tr("Data files")))
        self.addOutput(QgsProcessingOutputString("VERSION", version_label))

    def run_job(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        *,
        problem: str,
        announce: Callable[[str], str],
        fetch: Callable[..., JobResult],
    ) -> Dict[str, Any]:
        """The run both download algorithms share, around their own ``fetch``.

        ``problem``: why the parameters cannot run ("" when they can);
        ``announce(dest)``: the line saying what is downloaded where;
        ``fetch(client, dest_root=, extract=, progress=, cancel=)``: the core job."""
        dest = self.parameterAsFile(parameters, self.DESTINATION, context)
        extract = self.parameterAsBool(parameters, self.EXTRACT, context)
        bridge = FeedbackBridge(feedback)
        try:
            with processing_errors(bridge):
                self.raise_if_unprepared()
                if problem:
                    raise ConfigurationError(problem)
                dest = dest or default_download_root()
                feedback.pushInfo(announce(dest))
                self._client.http.cancel = bridge.cancel
                result = fetch(
                    self._client,
                    dest_root=dest,
                    extract=extract,
                    progress=bridge,
                    cancel=bridge.cancel,
                )
                return self.finish(result, parameters, context, feedback)
        finally:
            close_client(self._client)  # made in prepareAlgorithm for this run only
            self._client = None

    def finish(
        self,
        result: JobResult,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        """Outputs of ``result``; plans the layers now (worker thread) if they are to load."""
        self._outputs = JobOutputs.from_job(result)
        self._outputs.report(feedback)
        self._load = self.parameterAsBool(parameters, self.LOAD, context)
        if self._load and wants_loading(context):
            plan_loading(self._outputs, result)
        return self._outputs.as_results()

    def postProcessAlgorithm(
        self, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        if self._outputs is not None and self._load and wants_loading(context):
            with processing_errors():
                load_layers(self._outputs, context, feedback)
        return {}
