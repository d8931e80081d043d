"""``os_downloads:updateholding``: keep one holding current for a data package.

The same call as ``os-downloads holding update`` (``core/holdings/update.py``):
downloads the versions the holding lacks (MD5-checked, resumable), then applies
them oldest first, each in one transaction. The holding is a GeoPackage
(HOLDING) or a schema (SCHEMA) in a PostGIS database reached through a saved
QGIS PostgreSQL connection (CONNECTION; its password comes from the
Authentication Manager, a service file or pgpass, and is held in memory only).
The key comes from AUTHCFG, the plugin's settings or the environment, as for
``downloadpackage``.
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
    QgsProcessingParameterProviderConnection,
    QgsProcessingParameterString,
)

from ..core.errors import ConfigurationError
from ..i18n import tr
from ..integration import settings as plugin_settings
from ..integration.holding_homes import default_schema, is_valid_schema, remembered_home
from .common import FeedbackBridge, OSDownloadsAlgorithm, processing_errors
from .download_package import build_package_client


class UpdateHoldingAlgorithm(OSDownloadsAlgorithm):
    PACKAGE = "PACKAGE"
    HOLDING = "HOLDING"
    CONNECTION = "CONNECTION"
    SCHEMA = "SCHEMA"
    AUTHCFG = "AUTHCFG"

    def name(self) -> str:
        return "updateholding"

    def displayName(self) -> str:
        return tr("Update a data package holding")

    def shortHelpString(self) -> str:
        return tr(
            "Keeps one holding current for an OS MasterMap Topography Layer, AddressBase "
            "Premium or OS NGD data package: the first run builds it from the newest full "
            "supply, later runs download and apply each change-only update in order (one "
            "table per feature class, record type or feature type). Each version is "
            "applied in one transaction: a failure leaves the holding as it was, and "
            "others reading it see the previous state until the commit. A holding of "
            "another package is refused.\n\n"
            "The holding is either a GeoPackage file, or a schema in a PostGIS database: "
            "choose one of your saved PostgreSQL connections (its login comes from the "
            "Authentication Manager, a service file or pgpass) and the schema (default: "
            "the one the dock remembers for this package, else one named after the "
            "package).\n\n"
            "Outputs: where the holding is and how many features or records the run "
            "inserted, updated and deleted."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.addParameter(QgsProcessingParameterString(self.PACKAGE, tr("Data package id")))
        holding = QgsProcessingParameterFileDestination(
            self.HOLDING,
            tr("Holding (GeoPackage), or leave empty and choose a PostgreSQL connection"),
            tr("GeoPackage (*.gpkg)"),
            optional=True,
        )
        holding.setCreateByDefault(False)
        self.addParameter(holding)
        self.addParameter(
            QgsProcessingParameterProviderConnection(
                self.CONNECTION,
                tr("Or: PostgreSQL connection (a PostGIS holding)"),
                "postgres",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.SCHEMA, tr("Schema of the PostGIS holding"), optional=True
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
        self.addOutput(QgsProcessingOutputString("WHERE", tr("Where the holding is")))

    def prepareAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        authcfg = self.parameterAsString(parameters, self.AUTHCFG, context) or ""
        self._client = self.prepare(lambda: build_package_client(authcfg))
        connection = self.parameterAsConnectionName(parameters, self.CONNECTION, context)
        self._connection = connection or ""
        self._conninfo = ""
        self._downloads = plugin_settings.load().download_root  # PostGIS: versions kept here
        if self._connection and getattr(self, "_prepare_error", None) is None:
            from ..integration.postgres_connections import conninfo

            # The password, from the Authentication Manager (main thread): in memory only.
            self._conninfo = self.prepare(lambda: conninfo(self._connection)) or ""
        return True

    def processAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        from ..core.holdings.update import update_holding

        package = self.parameterAsString(parameters, self.PACKAGE, context).strip()
        holding = self.parameterAsFileOutput(parameters, self.HOLDING, context) or ""
        schema = (self.parameterAsString(parameters, self.SCHEMA, context) or "").strip()
        bridge = FeedbackBridge(feedback)
        with processing_errors(bridge):
            try:
                self.raise_if_unprepared()
                if not package:
                    raise ConfigurationError(tr("Give the data package id."))
                into, extra, where = self._target(package, holding, schema)
                feedback.pushInfo(
                    tr("Bringing {holding} up to date with data package {package}").format(
                        holding=where, package=package
                    )
                )
                result = update_holding(
                    self._client, package, into, progress=bridge, cancel=bridge.cancel, **extra
                )
            finally:
                if self._client is not None:
                    self._client.close()  # its sockets, whatever happened
                self._conninfo = ""
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
            "WHERE": where,
            "APPLIED": len(result.applied),
            "INSERTED": totals["inserted"],
            "UPDATED": totals["updated"],
            "DELETED": totals["deleted"],
            "VERSIONS": ", ".join(result.held),
        }

    def _target(self, package: str, holding: str, schema: str):
        """(into, update_holding's extra keywords, words for where) from the parameters."""
        if holding and self._connection:
            raise ConfigurationError(
                tr("Give either a GeoPackage or a PostgreSQL connection, not both.")
            )
        if not self._connection:
            if not holding:
                raise ConfigurationError(
                    tr("Give the holding: a GeoPackage file, or a PostgreSQL connection.")
                )
            return Path(holding), {}, holding
        if not schema:
            home = remembered_home(package)
            if home is not None and home.connection == self._connection:
                schema = home.schema
            else:
                schema = default_schema(package, self._client.data_package(package).name)
        if not is_valid_schema(schema):
            raise ConfigurationError(
                tr('"{schema}" is not a schema name the holding can use.').format(schema=schema),
                hint=tr(
                    "Use lower case letters, digits and _ (at most 63), not starting with a digit."
                ),
            )
        from ..integration.postgres_connections import SavedConnectionTarget

        where = tr("schema {schema} in {connection}").format(
            schema=schema, connection=self._connection
        )
        target = SavedConnectionTarget(self._conninfo[3:], schema, connection=self._connection)
        return target, {"downloads": self._downloads}, where
