"""The few things that differ between QGIS 3.22 (Qt5) and QGIS 4.x (Qt6).

Kept in one place, QuickMapServices style, so the rest of the code is written
once: scoped enums and ``exec()`` already work on both, so what is left here
is version facts and the handful of APIs that moved or were deprecated.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from qgis.core import Qgis, QgsApplication, QgsField, QgsFieldConstraints, QgsRectangle
from qgis.PyQt.QtCore import QMetaType, QVariant

QGIS_VERSION_INT: int = Qgis.versionInt() if hasattr(Qgis, "versionInt") else Qgis.QGIS_VERSION_INT

# QgsField takes a QMetaType.Type from 3.38 on; the QVariant.Type form is
# deprecated there (a DeprecationWarning on 3.40+) and is all 3.22 knows.
FIELDS_TAKE_QMETATYPE: bool = QGIS_VERSION_INT >= 33800

# QMetaType.Type renamed the Qt value types ("String" -> "QString"); the
# numbers and bool kept their names. Only the kinds our layers write.
_QMETATYPE_NAMES = {"String": "QString", "Date": "QDate", "DateTime": "QDateTime"}


def qgis_version_label() -> str:
    """The QGIS version as "3.22.16", for the User-Agent and the log."""
    return str(Qgis.QGIS_VERSION).split("-")[0]


def auth_manager():  # -> QgsAuthManager
    """The authentication manager (a static on QgsApplication in 3.x and 4.x)."""
    return QgsApplication.authManager()


def field_type(kind: str):  # -> QMetaType.Type on 3.38+, QVariant.Type before
    """The field type for a QgsField, by its QVariant name ("Bool", "String", "Int",
    "LongLong", "Double", "Date", "DateTime")."""
    if FIELDS_TAKE_QMETATYPE:
        return getattr(QMetaType.Type, _QMETATYPE_NAMES.get(kind, kind))
    return getattr(QVariant, kind)  # QGIS < 3.38 only


def make_field(name: str, kind: str) -> QgsField:
    """A new attribute field, built without the deprecated constructor."""
    return QgsField(name, field_type(kind))


def renamed_field(field: QgsField, name: str) -> QgsField:
    """A copy of ``field`` under a new name: type, length and precision kept (the copy
    needs no type constant, so no deprecated constructor); alias and constraints
    dropped, as the copy holds rows the source never checked (NULLs for no match)."""
    copy = QgsField(field)
    copy.setName(name)
    copy.setAlias("")
    copy.setConstraints(QgsFieldConstraints())
    return copy


def null_rectangle() -> QgsRectangle:
    """An extent that grows from nothing with combineExtentWith: setNull() where
    QGIS has it (setMinimal() is deprecated there, 3.40+), setMinimal() on 3.22."""
    extent = QgsRectangle()
    if hasattr(extent, "setNull"):
        extent.setNull()
    else:
        extent.setMinimal()
    return extent


@contextmanager
def gdal_exceptions() -> Iterator[None]:
    """GDAL and OGR raise RuntimeError for our calls inside the block.

    The mode is a process-wide switch that other plugins rely on, and GDAL 3.10+
    warns (FutureWarning) until someone chooses it: we choose it only around our
    own calls and put back whatever was there before. GDAL 3.7+ has
    gdal.ExceptionMgr for this; 3.6 (Debian bookworm) has not, so this one code
    path serves every version.
    """
    from osgeo import gdal, ogr

    modules = (gdal, ogr)
    before = [module.GetUseExceptions() for module in modules]
    for module in modules:
        module.UseExceptions()
    try:
        yield
    finally:  # GDAL keeps a stack of error handlers: undo in reverse order
        for module, was_on in reversed(list(zip(modules, before))):
            if not was_on:
                module.DontUseExceptions()


def quiet_task_flags(flags):  # QgsTask.Flags -> QgsTask.Flags
    """``flags`` plus QgsTask.Flag.Silent where QGIS has it (3.26+): QGIS then shows no
    "Task complete"/"Task failed" notice of its own on top of ours. On 3.22 the
    caller relies on the task's description carrying our text instead."""
    from qgis.core import QgsTask

    silent = getattr(QgsTask.Flag, "Silent", None) or getattr(QgsTask, "Silent", None)
    return flags | silent if silent is not None else flags


# The titles QGIS's own end-of-task notice uses (qgisapp.cpp), in English.
QGIS_TASK_NOTICE_TITLES = ("Task complete", "Task failed")
