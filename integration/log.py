"""Forward the plugin's Python log records to the QGIS log panel.

core/ logs through ``redact.get_logger`` (records are redacted before any
handler sees them); this handler shows them under the plugin's own tab in
View > Panels > Log Messages, so details stay out of dialogs.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, List, Optional

from qgis.core import Qgis, QgsMessageLog

from ..core.redact import get_logger, redact
from ..i18n import tr

LOG_TAB = "OS Downloads"
# The package's top-level name, whatever folder the plugin is installed in.
PACKAGE_LOGGER = __name__.rsplit(".", 2)[0]


def _level(levelno: int) -> Qgis.MessageLevel:
    if levelno >= logging.ERROR:
        return Qgis.MessageLevel.Critical
    if levelno >= logging.WARNING:
        return Qgis.MessageLevel.Warning
    return Qgis.MessageLevel.Info


class PlainFormatter(logging.Formatter):
    """The message alone: the log panel shows the level already (its icon and
    column), and module paths mean nothing to a user. Details for developers
    (``exc_info``) stay, at WARNING and above, after the message."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.levelno >= logging.WARNING:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


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
    handler.setFormatter(PlainFormatter())
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


# --- retry and resume notices to the running task's status --------------------------

# core/net/http.py logs each wait with these extras; core/engine/transfer.py logs a
# broken transfer being resumed with this message.
# (the records reach handlers already formatted: core's RedactingFilter)
_RESUME_MESSAGE = re.compile(r"^(?P<name>[^:\n]+): .+; trying again from byte (?P<offset>\d+)$")
_NOTICE_HANDLER: Optional[logging.Handler] = None


def retry_notice(record: logging.LogRecord) -> str:
    """The words for a retry the core logged, or "" when the record is none."""
    if hasattr(record, "retry_wait_s"):
        reason = str(getattr(record, "retry_reason", ""))
        if reason == "HTTP 429":
            why = tr("the API's request limit was reached")
        elif reason.startswith("HTTP 5"):
            why = tr("the server is busy ({reason})").format(reason=reason)
        else:
            why = tr("the connection failed ({reason})").format(reason=reason)
        return tr("Waiting {seconds} s: {why} (retry {number} of {limit})").format(
            seconds=max(1, round(float(getattr(record, "retry_wait_s", 0)))),
            why=why,
            number=getattr(record, "retry_number", "?"),
            limit=getattr(record, "retry_limit", "?"),
        )
    match = _RESUME_MESSAGE.match(record.getMessage())
    if match:
        name = match.group("name")
        if int(match.group("offset")) > 0:
            return tr("Connection lost, resuming {name}…").format(name=name)
        return tr("Connection lost, trying {name} again…").format(name=name)
    return ""


class TaskNoticeHandler(logging.Handler):
    """Routes core's retry/resume records to the status of the task they belong to.

    ``targets()`` (given by ``task.py``) names the tasks a record from this thread
    belongs to: the task whose thread logged it, else the one download running
    (with several, none: a wrong task's status would mislead; the log panel has
    them all). Passed in, so that this module never imports the task module.
    """

    def __init__(self, targets: Callable[[], List[Any]], level: int = logging.INFO) -> None:
        super().__init__(level)
        self.targets = targets

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = retry_notice(record)
            if not text:
                return
            for target in self.targets():
                target.show_notice(text)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def install_task_notices(targets: Callable[[], List[Any]]) -> None:
    """Once per process: core's INFO records reach this handler (the package logger
    at INFO), and the handler puts retry notices into the tasks' status."""
    global _NOTICE_HANDLER
    if _NOTICE_HANDLER is not None:
        return
    logger = get_logger(PACKAGE_LOGGER)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    _NOTICE_HANDLER = TaskNoticeHandler(targets, logging.INFO)
    logger.addHandler(_NOTICE_HANDLER)
