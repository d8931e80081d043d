"""The "My data packages" tab's service: packages, their versions and files, downloads.

Like ``opendata_service``: the tab calls these on the main thread with two
callbacks. Each call builds a client with the stored key (the Authentication
Manager is read here, on the main thread), runs on the dock's
``BackgroundRunner`` and closes its connections after. No key, a locked
Authentication Manager or a bad API URL reach ``on_error`` like a network
failure, so the tab words every failure the same way.
"""

from __future__ import annotations

from typing import Callable, List

from ..core.api.client import OSDownloadsClient
from ..core.api.models import LATEST, DataPackage, DataPackageVersion, DataPackageVersionSummary
from . import settings as plugin_settings
from .auth import has_credentials
from .background import BackgroundRunner
from .client_factory import build_client, require_credentials, run_with_client
from .downloads import DownloadService
from .task import JobTask

OnError = Callable[[BaseException], None]


class PackagesService:
    """Listings and downloads of the premium data packages of the key's project."""

    def __init__(self, runner: BackgroundRunner, downloads: DownloadService) -> None:
        self.runner = runner
        self.downloads = downloads

    def has_key(self) -> bool:
        """Whether a key is stored, without decrypting it (no master-password prompt)."""
        return has_credentials(plugin_settings.load().authcfg)

    def list_packages(
        self, on_result: Callable[[List[DataPackage]], None], on_error: OnError
    ) -> None:
        self._run(lambda c: c.data_packages(), on_result, on_error)

    def list_versions(
        self,
        package_id: str,
        on_result: Callable[[List[DataPackageVersionSummary]], None],
        on_error: OnError,
    ) -> None:
        """The package's versions, newest first."""
        self._run(lambda c: c.data_package_versions(package_id), on_result, on_error)

    def get_version(
        self,
        package_id: str,
        version_id: str,
        on_result: Callable[[DataPackageVersion], None],
        on_error: OnError,
    ) -> None:
        """One version with its files."""
        self._run(lambda c: c.data_package_version(package_id, version_id), on_result, on_error)

    def start_download(
        self, package_id: str, version_id: str = LATEST, *, title: str = ""
    ) -> JobTask:
        """ "Download and load this version": the dock's download service runs it as a task."""
        return self.downloads.start_package_version(package_id, version_id, title=title)

    def _run(self, call, on_result, on_error) -> None:
        run_with_client(self.runner, _client, call, on_result, on_error)


def _client() -> OSDownloadsClient:
    """A client with the stored key; a ConfigurationError when there is none."""
    return require_credentials(build_client())
