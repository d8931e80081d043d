"""``os_downloads:updateholding``: keep one GeoPackage current for a data package.

The same call as ``os-downloads holding update`` (``core/holdings/update.py``):
downloads the versions the holding lacks (MD5-checked, resumable), then applies
them oldest first, each in one transaction. The key comes from AUTHCFG, the
plugin's settings or the environment, as for ``downloadpackage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ..core.errors import ConfigurationError
from ..i18n import tr
from .common import FeedbackBridge, OSDownloadsAlgorithm, processing_errors
from .download_package import build_package_client


class UpdateHoldingAlgorithm(OSDownloadsAlgorithm):
    PACKAGE = "PACKAGE"
    HOLDING = "HOLDING"
    AUTHCFG = "AUTHCFG"

    def name(self) -> str:
        return "updateholding"

    def displayName(self) -> str:
        return tr("Update a data package holding")

    def shortHelpString(self) -> str:
        return tr(
            "Keeps one GeoPackage (the holding) current for an OS MasterMap Topography "
            "Layer or AddressBase Premium data package: the first run builds it from the "
            "newest full supply, later runs download and apply each change-only update in "
            "order (one table per feature class or record type). Each version is applied "
            "in one transaction: a failure leaves the holding as it was. A GeoPackage "
            "holding another package is refused.\n\n"
            "Outputs: the holding's path and how many features or records the run "
            "inserted, updated and deleted."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.addParameter(QgsProcessingParameterString(self.PACKAGE, tr("Data package id")))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.HOLDING, tr("Holding (GeoPackage)"), tr("GeoPackage (*.gpkg)")
            )
        )
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                self.AUTHCFG, tr("OS API key (authentication configuration)"), optional=True
            )
        )
        self.addOutput(QgsProcessingOutputNumber("APPLIED", tr("Versions applied")))
        self.addOutput(QgsProcessingOutputNumber("INSERTED", tr("Features/records inserted")))
        self.addOutput(QgsProcessingOutputNumber("UPDATED", tr("Features/records updated")))
        self.addOutput(QgsProcessingOutputNumber("DELETED", tr("Features/records deleted")))
        self.addOutput(QgsProcessingOutputString("VERSIONS", tr("Versions held")))

    def prepareAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        authcfg = self.parameterAsString(parameters, self.AUTHCFG, context) or ""
        self._client = self.prepare(lambda: build_package_client(authcfg))
        return True

    def processAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        from ..core.holdings.update import update_holding

        package = self.parameterAsString(parameters, self.PACKAGE, context).strip()
        holding = self.parameterAsFileOutput(parameters, self.HOLDING, context)
        bridge = FeedbackBridge(feedback)
        with processing_errors(bridge):
            self.raise_if_unprepared()
            if not package:
                raise ConfigurationError(tr("Give the data package id."))
            feedback.pushInfo(
                tr("Bringing {holding} up to date with data package {package}").format(
                    holding=holding, package=package
                )
            )
            try:
                result = update_holding(
                    self._client, package, Path(holding), progress=bridge, cancel=bridge.cancel
                )
            finally:
                self._client.close()  # its sockets, whatever happened
        totals = {"inserted": 0, "updated": 0, "deleted": 0}
        for outcome in result.applied:
            counts = outcome.totals()
            for name in totals:
                totals[name] += counts[name]
            feedback.pushInfo(
                tr("Applied {version}: {i} inserted, {u} updated, {d} deleted").format(
                    version=outcome.description,
                    i=counts["inserted"],
                    u=counts["updated"],
                    d=counts["deleted"],
                )
            )
        for note in result.notes:
            feedback.pushInfo(note)
        return {
            self.HOLDING: holding,
            "APPLIED": len(result.applied),
            "INSERTED": totals["inserted"],
            "UPDATED": totals["updated"],
            "DELETED": totals["deleted"],
            "VERSIONS": ", ".join(result.held),
        }
