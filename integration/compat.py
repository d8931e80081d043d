"""The few things that differ between QGIS 3.22 (Qt5) and QGIS 4.x (Qt6).

Kept in one place, QuickMapServices style, so the rest of the code is written
once: scoped enums and ``exec()`` already work on both, so what is left here
is version facts and the handful of APIs that moved.
"""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QT_VERSION_STR

QGIS_VERSION_INT: int = Qgis.versionInt() if hasattr(Qgis, "versionInt") else Qgis.QGIS_VERSION_INT
QT_MAJOR: int = int(QT_VERSION_STR.split(".")[0])
IS_QT6: bool = QT_MAJOR >= 6

# QgsTask.Flag.Hidden / Silent arrived in 3.26; listings would otherwise
# clutter the task manager, so they use a thread pool instead of QgsTask.
HAS_HIDDEN_TASKS: bool = QGIS_VERSION_INT >= 32600
# The "APIHeader" auth method (custom header) arrived after 3.22.
HAS_API_HEADER_AUTH: bool = QGIS_VERSION_INT >= 32400


def qgis_version_label() -> str:
    """The QGIS version as "3.22.16", for the User-Agent and the log."""
    return str(Qgis.QGIS_VERSION).split("-")[0]


def settings_file_path() -> str:
    """Where QgsSettings writes: QGIS3.ini on QGIS 3, QGIS4.ini on QGIS 4."""
    return QgsSettings().fileName()


def auth_manager():  # -> QgsAuthManager
    """The authentication manager (a static on QgsApplication in 3.x and 4.x)."""
    return QgsApplication.authManager()
