"""OS Downloads QGIS plugin package.

QGIS calls ``classFactory``. Nothing from QGIS is imported at module level, so
``import os_downloads.core`` and ``python -m os_downloads`` work without QGIS.
"""

from __future__ import annotations

from typing import Any


def classFactory(iface: Any) -> Any:  # name fixed by QGIS
    """Return the plugin object QGIS drives (imported lazily: it needs QGIS)."""
    from .plugin import OSDownloadsPlugin

    return OSDownloadsPlugin(iface)
