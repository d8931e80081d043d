"""What every dock tab gets: the shared runner and download service, and the way to report errors.

A tab (OpenData, data packages, TRUD, or anything later) takes a
``DockContext``, makes its service from integration/ with the context's
``runner`` and ``downloads`` (``OpenDataService``, ``PackagesService``,
``TrudService``) and is added with ``OSDownloadsDock.add_tab``. The tab holds
widgets only: clients, HTTP, files and settings are the service's business;
the tab puts a failure into words through ``report_error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from qgis.core import Qgis

from ..core.errors import OSDownloadsError, describe
from ..i18n import tr
from ..integration.background import BackgroundRunner
from ..integration.downloads import DownloadService
from ..integration.log import plugin_logger
from .notice import Notice

log = plugin_logger("ui")


@dataclass
class DockContext:
    iface: Any  # QgisInterface
    runner: BackgroundRunner  # listings and thumbnails off the main thread
    downloads: DownloadService  # "Download and load"
    notice: Notice  # the dock's own message area, for listing errors
    open_settings: Callable[[], None]

    def report_error(self, error: BaseException, doing: str) -> str:
        """Log the details, show one line with what to do next; return that line.

        ``doing`` says what failed ("Listing products"). Never a traceback
        dialog: unexpected exceptions go to the log panel with their stack.
        """
        text = describe(
            error, key_setting=tr("the OS Downloads settings (gear button in the dock)")
        )
        if isinstance(error, OSDownloadsError):
            log.warning("%s failed: %s", doing, text)
        else:
            log.error("%s failed", doing, exc_info=(type(error), error, error.__traceback__))
        self.notice.show_message(doing, text, Qgis.MessageLevel.Warning)  # until dismissed
        return text

    def notify(self, title: str, text: str, seconds: int = 5) -> None:
        self.notice.show_message(title, text, Qgis.MessageLevel.Info, seconds)


def no_key_text() -> str:
    return (
        tr(
            "Premium data packages need the API key of an OS Data Hub project that includes "
            "the OS Downloads API."
        )
        + " "
        + first_key_text()
    )


def locked_text() -> str:
    """Why a tab waits: reading the stored key needs QGIS's master password."""
    return tr(
        "Press Reload to list them. QGIS will ask for its master password first: "
        "it keeps your key encrypted in its Authentication Manager."
    )


def first_key_text() -> str:
    """Said before the first key is stored."""
    return tr(
        "QGIS keeps the key encrypted in its Authentication Manager. When you save it, "
        "QGIS asks for its master password (or asks you to choose one, the first time)."
    )
