"""Drag a product from the dock onto the map: "download and load" it.

The dock's product list puts a QGIS layer URI of type ``custom`` with our
provider key on the drag; QGIS hands such a drop to the custom drop handler
registered for that key (``ProductDropHandler``), which starts the download.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional
from urllib.parse import parse_qsl, urlencode

from qgis.core import QgsMimeDataUtils
from qgis.gui import QgsCustomDropHandler

PROVIDER_KEY = "os_downloads"

Starter = Callable[[str, str, str, Optional[str]], object]


def product_uri(
    product_id: str, name: str, format: str, area: str = "GB", subformat: Optional[str] = None
) -> QgsMimeDataUtils.Uri:
    uri = QgsMimeDataUtils.Uri()
    uri.layerType = "custom"
    uri.providerKey = PROVIDER_KEY
    uri.name = name
    fields = {"product": product_id, "format": format, "area": area or "GB"}
    if subformat:
        fields["subformat"] = subformat
    uri.uri = urlencode(fields)
    return uri


def parse_product_uri(text: str) -> Dict[str, str]:
    return dict(parse_qsl(text or ""))


class ProductDropHandler(QgsCustomDropHandler):
    def __init__(self, start: Starter) -> None:
        super().__init__()
        self.start = start

    def customUriProviderKey(self) -> str:  # noqa: N802
        return PROVIDER_KEY

    def handleCustomUriDrop(self, uri) -> None:  # noqa: N802
        fields = parse_product_uri(uri.uri)
        if fields.get("product") and fields.get("format"):
            self.start(
                fields["product"],
                fields["format"],
                fields.get("area", "GB"),
                fields.get("subformat") or None,
            )
