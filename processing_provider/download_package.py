"""``os_downloads:downloadpackage``: one version of a premium data package.

The key comes from the QGIS Authentication Manager (an AUTHCFG parameter, or
the entry configured in the plugin's settings), or for scheduled qgis_process
runs from the environment (OS_API_KEY, OS_API_SECRET). A key is never a
plain-text parameter: parameters end up in the Processing history and in
saved models.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterString,
)

from ..core.api.auth import make_auth
from ..core.api.client import OSDownloadsClient
from ..core.api.models import LATEST
from ..core.errors import ConfigurationError
from ..core.sources.os_packages import fetch_package_version
from ..i18n import tr
from .outputs import DownloadAlgorithm

KEY_ENV, SECRET_ENV = "OS_API_KEY", "OS_API_SECRET"


def build_package_client(authcfg: str) -> OSDownloadsClient:
    """A client with credentials: AUTHCFG, else the plugin's entry, else the environment.

    Main thread only (settings and the Authentication Manager)."""
    from ..integration import settings
    from ..integration.auth import load_credentials
    from ..integration.network import build_session

    values = settings.load()
    chosen = authcfg.strip() or values.authcfg
    if chosen:
        credentials = load_credentials(chosen)
        if credentials is None:
            raise ConfigurationError(
                tr("The authentication configuration {id} holds no OS API key.").format(id=chosen),
                hint=tr("Choose the entry with your OS Data Hub key (username = key)."),
            )
        auth = credentials.to_auth()
    else:
        auth = auth_from_environment()
    if auth is None:
        raise ConfigurationError(
            tr("Data packages need an OS Data Hub API key."),
            hint=tr(
                "Choose its authentication configuration (AUTHCFG), add it in the OS Downloads "
                "settings, or set OS_API_KEY in the environment."
            ),
        )
    return OSDownloadsClient(base_url=values.api_url or None, auth=auth, session=build_session())


def auth_from_environment() -> Any:
    return make_auth(os.environ.get(KEY_ENV), os.environ.get(SECRET_ENV))


class DownloadPackageAlgorithm(DownloadAlgorithm):
    PACKAGE = "PACKAGE"
    VERSION = "VERSION"
    AUTHCFG = "AUTHCFG"

    def name(self) -> str:
        return "downloadpackage"

    def displayName(self) -> str:
        return tr("Download data package version")

    def shortHelpString(self) -> str:
        return tr(
            "Downloads one version of an OS Data Hub data package (premium or PSGA data "
            "you ordered), checks every file's MD5 and unzips it into its own folder "
            "(packages/package/version) under the destination.\n\n"
            "VERSION is a version id or 'latest'. The key comes from the authentication "
            "configuration chosen in AUTHCFG (username = API key, password = secret or "
            "empty), else the one in the OS Downloads settings, else the OS_API_KEY (and "
            "OS_API_SECRET) environment variables, which suits scheduled qgis_process runs."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.addParameter(QgsProcessingParameterString(self.PACKAGE, tr("Data package id")))
        self.addParameter(
            QgsProcessingParameterString(
                self.VERSION, tr("Version id (or latest)"), defaultValue=LATEST
            )
        )
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                self.AUTHCFG, tr("OS API key (authentication configuration)"), optional=True
            )
        )
        self.add_job_parameters(tr("Folder with the version's files"), tr("Version id"))

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
        package = self.parameterAsString(parameters, self.PACKAGE, context).strip()
        version = self.parameterAsString(parameters, self.VERSION, context).strip() or LATEST
        return self.run_job(
            parameters,
            context,
            feedback,
            problem="" if package else tr("Give the data package id."),
            announce=lambda dest: tr(
                "Downloading data package {package}, version {version}, into {dest}"
            ).format(package=package, version=version, dest=dest),
            fetch=lambda client, **job: fetch_package_version(client, package, version, **job),
        )
