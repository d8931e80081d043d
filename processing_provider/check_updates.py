"""``os_downloads:checkupdates``: which earlier downloads have a newer version?

Reads the manifests of earlier downloads (every one under a folder, and/or
chosen files), asks the API, and downloads nothing. The report is an HTML
table (shown in the Processing results viewer) or JSON, by the output's
extension; the counts are outputs a model can test.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
)

from ..core.engine.manifest import SOURCE_OPENDATA, SOURCE_PACKAGE, SOURCE_TRUD
from ..core.errors import ConfigurationError, OSDownloadsError
from ..core.sources.base import CURRENT, ERROR, NOT_CHECKED, UPDATE, UpdateCheck
from ..core.sources.updates import check_updates, find_manifests, group_manifests
from ..i18n import tr
from ..integration.client_factory import close_client
from .common import (
    OSDownloadsAlgorithm,
    download_folder_parameter,
    file_source_type,
    processing_errors,
)
from .download_package import build_package_client


class CheckUpdatesAlgorithm(OSDownloadsAlgorithm):
    FOLDER = "FOLDER"
    MANIFESTS = "MANIFESTS"
    AUTHCFG = "AUTHCFG"
    OUTPUT = "OUTPUT"

    def __init__(self) -> None:
        super().__init__()
        self._clients: Dict[str, Any] = {}
        self._errors: Dict[str, OSDownloadsError] = {}  # why a source has no client

    def name(self) -> str:
        return "checkupdates"

    def displayName(self) -> str:
        return tr("Check for updates")

    def shortHelpString(self) -> str:
        return tr(
            "Reports which products and data packages downloaded earlier have a newer "
            "version, without downloading anything. It reads the os_downloads_manifest.json "
            "files under FOLDER (default: the plugin's download folder) and/or the manifest "
            "files listed in MANIFESTS. A product is out of date when its version changed; "
            "a data package when versions newer than the newest one held exist; an NHS "
            "TRUD item when its newest release is not one held.\n\n"
            "OUTPUT is an HTML table, or JSON when its name ends in .json. Data packages "
            "need the OS API key (AUTHCFG, the plugin's settings, or OS_API_KEY); TRUD "
            "items the TRUD key (the NHS TRUD tab, or TRUD_API_KEY)."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.addParameter(download_folder_parameter(self.FOLDER, tr("Folder of earlier downloads")))
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.MANIFESTS, tr("Manifest files"), file_source_type(), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                self.AUTHCFG, tr("OS API key for data packages"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT,
                tr("Report"),
                tr("HTML files (*.html);;JSON files (*.json)"),
            )
        )
        self.addOutput(QgsProcessingOutputNumber("CHECKED", tr("Items checked")))
        self.addOutput(QgsProcessingOutputNumber("UPDATES", tr("Items with a newer version")))
        self.addOutput(QgsProcessingOutputNumber("ERRORS", tr("Items that could not be checked")))
        self.addOutput(QgsProcessingOutputString("OUTDATED", tr("Items with a newer version")))

    def prepareAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        from ..integration.client_factory import build_client
        from ..integration.trud_service import build_trud_client

        authcfg = self.parameterAsString(parameters, self.AUTHCFG, context) or ""
        self._clients[SOURCE_OPENDATA] = self.prepare(lambda: build_client(with_credentials=False))
        # Clients needing a key, made here on the main thread (settings, Authentication
        # Manager); only used when a manifest of theirs turns up.
        optional = {
            SOURCE_PACKAGE: lambda: build_package_client(authcfg),
            SOURCE_TRUD: build_trud_client,
        }
        for source, build in optional.items():
            try:
                self._clients[source] = build()
            except OSDownloadsError as err:
                self._errors[source] = err
        return True

    def _client_for(self, source: str) -> Any:
        if source in self._errors:
            raise self._errors[source]
        if source not in self._clients:
            raise ConfigurationError(
                tr("Checking {source} downloads is not supported here.").format(source=source)
            )
        return self._clients[source]

    def processAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        chosen = self.parameterAsFileList(parameters, self.MANIFESTS, context) or []
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        try:
            results = self._check(folder, chosen, output, feedback)
        finally:
            for client in self._clients.values():  # made in prepareAlgorithm for this run
                close_client(client)
            self._clients = {}
        outdated = [r.label for r in results if r.status == UPDATE]
        return {
            self.OUTPUT: output,
            "CHECKED": len(results),
            "UPDATES": len(outdated),
            "ERRORS": sum(1 for r in results if r.status == ERROR),
            "OUTDATED": "\n".join(outdated),
        }

    def _check(
        self, folder: str, chosen: List[str], output: str, feedback: QgsProcessingFeedback
    ) -> List[UpdateCheck]:
        results: List[UpdateCheck] = []
        with processing_errors():
            self.raise_if_unprepared()
            paths: List[Path] = [Path(p) for p in chosen]
            if folder:
                if not Path(folder).is_dir():
                    raise ConfigurationError(
                        tr("The folder {folder} does not exist.").format(folder=folder)
                    )
                paths += find_manifests(Path(folder))
            if not paths:
                raise ConfigurationError(
                    tr("No os_downloads_manifest.json found."),
                    hint=tr("Choose the folder of earlier downloads, or manifest files."),
                )
            held = group_manifests(dict.fromkeys(p.resolve() for p in paths))
            feedback.pushInfo(
                tr("{n} manifest(s), {m} item(s) to check").format(n=len(paths), m=len(held))
            )
            for index, item in enumerate(held):
                if feedback.isCanceled():
                    break
                result = check_updates([item], self._client_for)[0]
                results.append(result)
                _tell(feedback, result)
                feedback.setProgress(100.0 * (index + 1) / len(held))
            write_report(results, Path(output))
        return results


def _tell(feedback: QgsProcessingFeedback, result: UpdateCheck) -> None:
    if result.status == UPDATE:
        feedback.pushInfo(
            tr("{label}: newer version(s) {newer} (have {have})").format(
                label=result.label, newer=", ".join(result.newer_versions), have=result.held_version
            )
        )
    elif result.status == CURRENT:
        feedback.pushInfo(
            tr("{label}: up to date ({have})").format(label=result.label, have=result.held_version)
        )
    elif result.status == NOT_CHECKED:
        feedback.pushInfo(f"{result.label}: {result.message}")
    else:
        feedback.reportError(f"{result.label}: {result.message}")


def write_report(results: List[UpdateCheck], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps([r.to_json() for r in results], indent=2), encoding="utf-8")
        return path
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                r.label,
                r.status,
                r.held_version,
                r.latest_version,
                ", ".join(r.newer_versions),
                r.message,
            )
        )
        + "</tr>"
        for r in results
    )
    heads = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in (
            tr("Item"),
            tr("Status"),
            tr("Held"),
            tr("Latest"),
            tr("Newer versions"),
            tr("Message"),
        )
    )
    title = html.escape(tr("OS Downloads: updates"))
    path.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><table border='1' cellpadding='4'>"
        f"<tr>{heads}</tr>\n{rows}</table></body></html>\n",
        encoding="utf-8",
    )
    return path
