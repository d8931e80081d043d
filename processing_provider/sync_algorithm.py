"""``os_downloads:sync``: ``os-downloads sync CONFIG`` as a Processing algorithm.

For people who schedule ``qgis_process`` rather than the command line, and for
models. Same config, state, lock and report as the command line (core/sync/).
The key comes from the environment named in the config (OS_API_KEY by
default), or from AUTHCFG / the plugin's Authentication Manager entry.

qgis_process has one failure exit code, so "updated" and "nothing new" both
exit 0 there: read the OUTCOME output (``--json``) or use the command line,
whose exit codes tell them apart. A failed entry, a held lock or a bad config
make the algorithm fail (non-zero exit) after the report is written.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
)

from ..core.api.client import OSDownloadsClient
from ..core.errors import ConfigurationError
from ..core.sync import run as sync
from ..i18n import tr
from ..integration.client_factory import close_client
from .common import (
    FeedbackBridge,
    OSDownloadsAlgorithm,
    file_behavior,
    processing_errors,
)


class SyncAlgorithm(OSDownloadsAlgorithm):
    CONFIG = "CONFIG"
    DRY_RUN = "DRY_RUN"
    AUTHCFG = "AUTHCFG"

    def __init__(self) -> None:
        super().__init__()
        self._client_factory: Optional[sync.ClientFactory] = None
        self._config: Any = None

    def name(self) -> str:
        return "sync"

    def displayName(self) -> str:
        return tr("Sync: fetch what is new")

    def shortHelpString(self) -> str:
        return tr(
            "Reads a sync config (TOML or JSON) listing OpenData products (id, format, area) "
            "and data packages (id) to keep current, and downloads only what is new since the "
            "last run: a changed product version, or new package versions (full supply first, "
            "then change-only updates in order, each in its own folder). Writes a report "
            "(os_downloads_sync_report.json and .txt) in the config's dest_root. Two runs "
            "never overlap. DRY_RUN only says what would be fetched.\n\n"
            "OUTCOME is 'updated', 'nothing new', 'would update' or 'failed'. See the README "
            "section Automation and scheduling for the config format."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.addParameter(
            QgsProcessingParameterFile(
                self.CONFIG,
                tr("Sync config file"),
                file_behavior(),
                fileFilter=tr("Sync config (*.toml *.json)"),
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.DRY_RUN, tr("Dry run (download nothing)"), defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                self.AUTHCFG,
                tr("OS API key for data packages (default: OS_API_KEY in the environment)"),
                optional=True,
            )
        )
        self.addOutput(QgsProcessingOutputString("OUTCOME", tr("Outcome")))
        self.addOutput(QgsProcessingOutputNumber("EXIT_CODE", tr("Command-line exit code")))
        self.addOutput(QgsProcessingOutputFile("REPORT", tr("Report (JSON)")))
        self.addOutput(QgsProcessingOutputFile("REPORT_TEXT", tr("Report (text)")))
        for name, label in (
            ("UPDATED", tr("Entries updated")),
            ("UP_TO_DATE", tr("Entries already current")),
            ("FAILED", tr("Entries failed")),
        ):
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def prepareAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        """Settings and the Authentication Manager are read here, on the main thread."""
        authcfg = (self.parameterAsString(parameters, self.AUTHCFG, context) or "").strip()
        path = self.parameterAsFile(parameters, self.CONFIG, context)
        self._config = self.prepare(lambda: sync.load_config(path))
        if self._config is not None:
            self._client_factory = self.prepare(lambda: _client_factory(authcfg, self._config))
        return True

    def processAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        dry_run = self.parameterAsBool(parameters, self.DRY_RUN, context)
        bridge = FeedbackBridge(feedback)
        with processing_errors(bridge):
            self.raise_if_unprepared()
            config = self._config
            total = len(config.entries)
            done = []

            def on_entry(entry: sync.EntryReport) -> None:
                done.append(entry)
                feedback.setProgress(100.0 * len(done) / max(total, 1))
                line = f"{entry.status}: {entry.label}"
                if entry.error:
                    feedback.reportError(f"{line}: {entry.error}")
                else:
                    feedback.pushInfo(line)

            try:  # run_sync closes the clients it makes; the shared session is ours
                report = sync.run_sync(
                    config,
                    dry_run=dry_run,
                    cancel=bridge.cancel,
                    client_factory=self._client_factory,
                    on_entry=on_entry,
                )
            finally:
                close_client(getattr(self._client_factory, "session", None))
        feedback.pushInfo(report.to_text())
        if report.locked or report.error:
            raise QgsProcessingException(report.error)
        dest = config.dest_root
        results = {
            "OUTCOME": report.outcome,
            "EXIT_CODE": report.exit_code,
            "REPORT": "" if dry_run else str(dest / sync.REPORT_JSON),
            "REPORT_TEXT": "" if dry_run else str(dest / sync.REPORT_TEXT),
            "UPDATED": report.count(sync.UPDATED) + report.count(sync.WOULD_UPDATE),
            "UP_TO_DATE": report.count(sync.UP_TO_DATE),
            "FAILED": report.count(sync.FAILED) + report.count(sync.NOT_RUN),
        }
        if report.failed:
            raise QgsProcessingException(
                tr("{n} entr(ies) failed; see {report}").format(
                    n=results["FAILED"], report=results["REPORT_TEXT"] or tr("the log above")
                )
            )
        return results


def _client_factory(authcfg: str, config: sync.SyncConfig) -> sync.ClientFactory:
    """A client on QGIS's network settings, with the key chosen on the main thread.

    The key: AUTHCFG when given; else the config's environment variable (as
    the command line); else the plugin's Authentication Manager entry."""
    from ..integration import settings
    from ..integration.auth import load_credentials
    from ..integration.network import build_session

    values = settings.load()
    chosen = authcfg
    if not chosen and not os.environ.get(config.key_env, "").strip():
        chosen = values.authcfg
    auth = None
    if chosen:
        credentials = load_credentials(chosen)
        if credentials is None and authcfg:
            raise ConfigurationError(
                tr("The authentication configuration {id} holds no OS API key.").format(id=chosen)
            )
        auth = credentials.to_auth() if credentials is not None else None
    session = build_session()

    def factory(config: sync.SyncConfig, env: Mapping[str, str]) -> OSDownloadsClient:
        """The config's API URL, else the plugin's setting; the key as chosen above."""
        return OSDownloadsClient(
            base_url=config.api_url or values.api_url or None,
            auth=auth or sync.auth_from_env(config, env),
            session=session,
        )

    factory.session = session  # type: ignore[attr-defined]  # closed by the algorithm
    return factory
