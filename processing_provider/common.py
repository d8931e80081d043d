"""What every OS Downloads algorithm shares: feedback, errors, parameter helpers.

Core reports progress through a callback and stops on a ``threading.Event``;
Processing has ``QgsProcessingFeedback``. ``FeedbackBridge`` joins the two, so
the progress bar moves and Cancel stops every download worker promptly.
Errors leave as ``QgsProcessingException`` carrying ``errors.describe()``'s
one line, never a traceback.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from qgis.core import (
    Qgis,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtGui import QIcon

from ..core.engine.progress import (
    PHASE_DISCOVER,
    PHASE_DOWNLOAD,
    PHASE_EXTRACT,
    PHASE_VERIFY,
    Progress,
)
from ..core.errors import Cancelled, OSDownloadsError, describe
from ..core.redact import get_logger
from ..i18n import tr

log = get_logger(__name__)

ICON_PATH = Path(__file__).resolve().parents[1] / "icons" / "icon.svg"
GROUP_ID = "downloads"


# --- QGIS 3.22 / 4.x enum spellings --------------------------------------------------


def folder_behavior() -> Any:
    new = getattr(Qgis, "ProcessingFileParameterBehavior", None)
    return new.Folder if new is not None else QgsProcessingParameterFile.Behavior.Folder


def file_behavior() -> Any:
    new = getattr(Qgis, "ProcessingFileParameterBehavior", None)
    return new.File if new is not None else QgsProcessingParameterFile.Behavior.File


def file_source_type() -> Any:
    new = getattr(Qgis, "ProcessingSourceType", None)
    return new.File if new is not None else QgsProcessing.SourceType.TypeFile


# --- parameters -----------------------------------------------------------------------


def choice_parameter(
    name: str,
    description: str,
    options: List[str],
    *,
    default: Optional[str] = None,
    optional: bool = False,
) -> Any:
    """An enum of static strings when ``options`` are known, else a free string.

    Either way the parameter's value is the string itself, so qgis_process
    (``PRODUCT=OpenRoads``), the modeler and batch mode take the same values
    whether or not the product list could be fetched."""
    if options:
        if default and default not in options:
            options = [default, *options]
        return QgsProcessingParameterEnum(
            name, description, options, False, default, optional, True
        )
    return QgsProcessingParameterString(name, description, default, False, optional)


def choice_value(
    alg: QgsProcessingAlgorithm,
    parameters: Dict[str, Any],
    name: str,
    context: QgsProcessingContext,
) -> str:
    """The chosen string of a ``choice_parameter`` (enum or plain string)."""
    definition = alg.parameterDefinition(name)
    if isinstance(definition, QgsProcessingParameterEnum):
        value = alg.parameterAsEnumString(parameters, name, context)
    else:
        value = alg.parameterAsString(parameters, name, context)
    return (value or "").strip()


def default_download_root() -> str:
    """The plugin's download folder setting (a folder in the QGIS profile by default)."""
    try:
        from ..integration import settings

        return str(settings.load().download_root)
    except Exception:  # noqa: BLE001 - a default must never break the provider
        log.exception("Could not read the plugin's download folder setting")
        return ""


def download_folder_parameter(name: str, description: str) -> QgsProcessingParameterFile:
    """An optional folder parameter that defaults to the plugin's download folder."""
    return QgsProcessingParameterFile(
        name,
        description,
        folder_behavior(),
        defaultValue=default_download_root() or None,
        optional=True,
    )


# --- feedback and cancel -----------------------------------------------------------------


class FeedbackBridge:
    """Core's progress callback and cancel event, driven by a QgsProcessingFeedback.

    The engine calls the bridge from its worker threads; QgsFeedback's setters
    are thread-safe (Processing itself calls them from its task thread)."""

    # Percent of the bar each phase of a job fills: downloading is the long part.
    PHASE_SPANS = {
        PHASE_VERIFY: (0.0, 85.0),
        PHASE_DOWNLOAD: (0.0, 85.0),
        PHASE_EXTRACT: (85.0, 99.0),
        PHASE_DISCOVER: (99.0, 100.0),
    }

    def __init__(self, feedback: Optional[QgsProcessingFeedback]) -> None:
        self.feedback = feedback or QgsProcessingFeedback()
        self.cancel = threading.Event()
        self._last_text = ""
        self.feedback.canceled.connect(self.cancel.set)
        if self.feedback.isCanceled():
            self.cancel.set()

    def close(self) -> None:
        try:
            self.feedback.canceled.disconnect(self.cancel.set)
        except (TypeError, RuntimeError):
            pass

    def __call__(self, progress: Progress) -> None:
        if self.feedback.isCanceled():
            self.cancel.set()
        start, end = self.PHASE_SPANS.get(progress.phase, (0.0, 100.0))
        fraction = progress.fraction
        if fraction is not None:
            self.feedback.setProgress(start + (end - start) * fraction)
        text = _progress_text(progress)
        if text and text != self._last_text:
            self._last_text = text
            self.feedback.setProgressText(text)


def _progress_text(progress: Progress) -> str:
    """ "Downloading 2/5: oproad_gpkg_gb.zip" from the engine's Progress."""
    count = f" {progress.files_done}/{progress.files_total}" if progress.files_total else ""
    name = f": {progress.current_file}" if progress.current_file else ""
    return f"{_phase_text(progress.phase)}{count}{name}".strip(": ")


def _phase_text(phase: str) -> str:
    return {
        PHASE_VERIFY: tr("Checking files already there"),
        PHASE_DOWNLOAD: tr("Downloading"),
        PHASE_EXTRACT: tr("Unzipping"),
        PHASE_DISCOVER: tr("Looking for data in"),
    }.get(phase, "")


@contextmanager
def processing_errors(bridge: Optional[FeedbackBridge] = None) -> Iterator[None]:
    """Turn core errors into QgsProcessingException with the one-line message."""
    try:
        yield
    except QgsProcessingException:
        raise
    except Cancelled:
        raise QgsProcessingException(tr("Cancelled.")) from None
    except OSDownloadsError as err:
        log.warning("OS Downloads algorithm failed: %s", describe(err))
        raise QgsProcessingException(
            describe(err, key_setting="the AUTHCFG parameter or the OS Downloads settings")
        ) from None
    except OSError as err:
        log.warning("OS Downloads algorithm failed: %s", err)
        raise QgsProcessingException(tr("File error: {err}").format(err=err)) from None
    except Exception as err:  # noqa: BLE001 - one clear line; the traceback goes to the log
        log.exception("Unexpected error in an OS Downloads algorithm")
        raise QgsProcessingException(
            describe(err, key_setting="the AUTHCFG parameter or the OS Downloads settings")
        ) from None
    finally:
        if bridge is not None:
            bridge.close()


# --- the base of every algorithm -------------------------------------------------------


class OSDownloadsAlgorithm(QgsProcessingAlgorithm):
    """Group, icon and instance creation shared by the provider's algorithms."""

    def group(self) -> str:
        return tr("Downloads")

    def groupId(self) -> str:
        return GROUP_ID

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def svgIconPath(self) -> str:
        return str(ICON_PATH)

    def createInstance(self) -> QgsProcessingAlgorithm:
        return self.__class__()

    def prepare(self, build: Callable[[], Any]) -> Any:
        """Run ``build`` in prepareAlgorithm (main thread: settings, auth manager).

        A failure is kept and raised by ``raise_if_unprepared`` inside
        processAlgorithm, where Processing shows its message (a failed
        prepareAlgorithm only says "There were errors executing the algorithm")."""
        self._prepare_error: Optional[BaseException] = None
        try:
            return build()
        except Exception as err:  # noqa: BLE001 - re-raised in processAlgorithm
            self._prepare_error = err
            return None

    def raise_if_unprepared(self) -> None:
        error = getattr(self, "_prepare_error", None)
        if error is not None:
            raise error
