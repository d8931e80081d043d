"""The "OS OpenData" tab's service: the product list, a product's files and picture, downloads.

The tab calls these on the main thread with two callbacks and never sees a
client: each call builds its own (no key: OpenData needs none) from the
settings, runs on the dock's ``BackgroundRunner`` and closes its connections
after. The outcome comes back on the main thread; a failure (network, a bad
API URL in the settings) goes to ``on_error`` as an exception for the tab to
put into words (``DockContext.report_error``).
"""

from __future__ import annotations

from typing import Callable, List, Optional

from ..core.api.client import OSDownloadsClient
from ..core.api.models import Product, ProductDownload
from .background import BackgroundRunner
from .client_factory import build_client, run_with_client
from .downloads import DownloadService
from .task import JobTask

OnError = Callable[[BaseException], None]


class OpenDataService:
    """Listings and downloads of OS OpenData products."""

    def __init__(self, runner: BackgroundRunner, downloads: DownloadService) -> None:
        self.runner = runner
        self.downloads = downloads

    def list_products(self, on_result: Callable[[List[Product]], None], on_error: OnError) -> None:
        """Every product, expanded (formats, categories)."""
        self._run(lambda c: c.products(expanded=True), on_result, on_error)

    def list_files(
        self,
        product_id: str,
        on_result: Callable[[List[ProductDownload]], None],
        on_error: OnError,
    ) -> None:
        """The product's files: every format and area."""
        self._run(lambda c: c.product_downloads(product_id), on_result, on_error)

    def fetch_thumbnail(
        self, product_id: str, on_result: Callable[[bytes], None], on_error: OnError
    ) -> None:
        """The product's first picture (image bytes)."""
        self._run(lambda c: c.product_image(product_id), on_result, on_error)

    def start_download(
        self,
        product_id: str,
        format: str,
        area: str = "GB",
        subformat: Optional[str] = None,
        *,
        title: str = "",
    ) -> JobTask:
        """ "Download and load": the dock's download service runs it as a task."""
        return self.downloads.start_product(product_id, format, area, subformat, title=title)

    def _run(self, call, on_result, on_error) -> None:
        run_with_client(self.runner, _client, call, on_result, on_error)


def _client() -> OSDownloadsClient:
    return build_client(with_credentials=False)
