"""Forward the plugin's Python log records to the QGIS log panel.

core/ logs through ``redact.get_logger`` (records are redacted before any
handler sees them); this handler shows them under the plugin's own tab in
View > Panels > Log Messages, so details stay out of dialogs.
"""

from __future__ import annotations

import logging
from typing import Optional

from qgis.core import Qgis, QgsMessageLog

from ..core.redact import get_logger, redact

LOG_TAB = "OS Downloads"
# The package's top-level name, whatever folder the plugin is installed in.
PACKAGE_LOGGER = __name__.rsplit(".", 2)[0]


def _level(levelno: int) -> Qgis.MessageLevel:
    if levelno >= logging.ERROR:
        return Qgis.MessageLevel.Critical
    if levelno >= logging.WARNING:
        return Qgis.MessageLevel.Warning
    return Qgis.MessageLevel.Info


class QgisLogHandler(logging.Handler):
    """A logging handler writing to QgsMessageLog (thread-safe in QGIS)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = redact(self.format(record))
            QgsMessageLog.logMessage(text, LOG_TAB, _level(record.levelno), notifyUser=False)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def install_log_handler(level: int = logging.INFO) -> QgisLogHandler:
    """Attach a handler to the plugin's package logger; returns it for removal."""
    logger = get_logger(PACKAGE_LOGGER)
    handler = QgisLogHandler(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def remove_log_handler(handler: Optional[QgisLogHandler]) -> None:
    """Detach the handler (plugin unload): no record reaches QGIS afterwards."""
    if handler is not None:
        get_logger(PACKAGE_LOGGER).removeHandler(handler)
        handler.close()


def plugin_logger(name: str = "") -> logging.Logger:
    """A redacting logger under the package logger (``name`` is a suffix)."""
    return get_logger(f"{PACKAGE_LOGGER}.{name}" if name else PACKAGE_LOGGER)
