"""Translations: the ``tr()`` every user-facing string goes through.

One translation context, ``OSDownloads``, for the whole plugin: ``tr()`` is a
plain function (not ``QObject.tr``), so the context never depends on the class
a string appears in. ``update_translations.py`` extracts the strings into
``os_downloads_<lang>.ts`` with that context; ``lrelease`` compiles ``.qm``
files, which ``install_translator`` loads for the QGIS locale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from qgis.PyQt.QtCore import QCoreApplication, QTranslator

CONTEXT = "OSDownloads"
I18N_DIR = Path(__file__).resolve().parent
FILE_STEM = "os_downloads"


def tr(text: str, disambiguation: Optional[str] = None, n: int = -1) -> str:
    """``text`` translated into the user's QGIS language when a translation exists."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


def qgis_locale() -> str:
    """The two-letter language QGIS runs in ("en" when unknown)."""
    from qgis.core import QgsApplication

    try:
        name = QgsApplication.locale() or "en"
    except (AttributeError, RuntimeError):
        name = "en"
    return name[:2].lower()


def install_translator(
    locale: Optional[str] = None, folder: Path = I18N_DIR
) -> Optional[QTranslator]:
    """Load ``os_downloads_<lang>.qm`` if shipped; returns it for ``remove_translator``."""
    qm = Path(folder) / f"{FILE_STEM}_{locale or qgis_locale()}.qm"
    if not qm.is_file():
        return None
    translator = QTranslator()
    if not translator.load(str(qm)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: Optional[QTranslator]) -> None:
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
