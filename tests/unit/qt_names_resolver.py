"""Resolve the Qt/QGIS names our code uses inside a given Python (run as a script).

test_qgis4_rules.py collects, without importing anything, every name our code
imports from ``qgis.PyQt.*``, ``qgis.core`` and ``qgis.gui`` and every attribute
chain it reads from them (``Qt.AlignmentFlag.AlignLeft``, ``QgsTask.Flag.CanCancel``,
``QgsProject.instance``). It runs this script twice, with the uses as JSON on
stdin, and reads the problems back as JSON on stdout:

- ``pyqt6``: in a throw-away venv with PyQt6 from PyPI, standing in for the
  ``qgis.PyQt`` of a Qt6 QGIS (``qgis.PyQt.X`` is ``PyQt6.X``, plus the classes
  QGIS's shim re-exports: QAction, QActionGroup and QShortcut moved to QtGui in
  Qt6 and stay importable from ``qgis.PyQt.QtWidgets``, qgis/QGIS PRs #55658 and
  #57467). PyQt6 enums are scoped only, so ``Qt.AlignLeft`` does not resolve there;
- ``qgis``: in the project's venv with the installed QGIS (3.22 on Debian
  bookworm), for QGIS's own classes, which PyQt6 does not have. sip still accepts
  unscoped values there (``Qgis.Info``), so a value read through its class
  instead of its enum is reported, as QGIS's migration script would rewrite it.

Either way, a value the migration script would rewrite comes back with the
scoped name to use, found as that script finds it: the enum of the class whose
members include the name.
"""

from __future__ import annotations

import enum
import importlib
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

# QGIS's Qt6 qgis.PyQt.QtWidgets re-exports these from QtGui (they moved in Qt6).
QTWIDGETS_FROM_QTGUI = ("QAction", "QActionGroup", "QShortcut")
_MISSING = object()


def _module_for(flavour: str, module: str) -> Tuple[str, Any]:
    if flavour == "pyqt6" and module.startswith("qgis.PyQt."):
        real = "PyQt6." + module[len("qgis.PyQt.") :]
    else:
        real = module
    return real, importlib.import_module(real)


def _lookup(flavour: str, module: str, name: str) -> Tuple[str, Any]:
    real, loaded = _module_for(flavour, module)
    value = getattr(loaded, name, _MISSING)
    shimmed = (
        flavour == "pyqt6" and module == "qgis.PyQt.QtWidgets" and name in QTWIDGETS_FROM_QTGUI
    )
    if value is _MISSING and shimmed:
        value = getattr(importlib.import_module("PyQt6.QtGui"), name, _MISSING)
    return real, value


def _is_enum_member(value: Any) -> bool:
    """A Python enum value (PyQt6, QGIS 4) or a sip enum value (PyQt5, QGIS 3)."""
    return isinstance(value, enum.Enum) or type(type(value)).__name__ == "enumtype"


def _enums_holding(owner: Any, member: str) -> List[str]:
    """The enums nested in ``owner`` (or its bases) that have a value ``member``."""
    found = []
    for attr in dir(owner):
        try:
            candidate = getattr(owner, attr)
        except Exception:  # noqa: BLE001 - a property that fails on the class
            continue
        if not isinstance(candidate, type) or candidate is owner:
            continue
        is_enum = issubclass(candidate, enum.Enum) or type(candidate).__name__ == "enumtype"
        if is_enum and _is_enum_member(getattr(candidate, member, None)):
            found.append(attr)
    return sorted(set(found))


def _scoped(owner: Any, value: Any) -> List[str]:
    """The names under which ``owner`` holds the enum type of ``value``."""
    return sorted(attr for attr in dir(owner) if getattr(owner, attr, None) is type(value))


def _check(flavour: str, use: Dict[str, Any]) -> Optional[str]:
    module, name, chain = use["module"], use["name"], use["chain"]
    real, value = _lookup(flavour, module, name)
    if value is _MISSING:
        return f"{name} is not in {real} (imported from {module})"
    dotted = name
    for attr in chain:
        owner = value
        value = getattr(owner, attr, _MISSING)
        if value is _MISSING:
            enums = _enums_holding(owner, attr) if isinstance(owner, type) else []
            hint = " or ".join(f"{dotted}.{e}.{attr}" for e in enums)
            return f"{dotted}.{attr} does not exist in {real}" + (f": use {hint}" if hint else "")
        if isinstance(owner, type) and _is_enum_member(value) and type(value) is not owner:
            names = _scoped(owner, value) or [type(value).__name__]
            return (
                f"{dotted}.{attr} is an unscoped enum value: use {dotted}.{names[0]}.{attr} "
                "(Qt6 has scoped enums only)"
            )
        dotted += f".{attr}"
    return None


def main() -> int:
    flavour = sys.argv[1]
    uses = json.load(sys.stdin)
    problems = []
    for use in uses:
        try:
            problem = _check(flavour, use)
        except ImportError as err:
            problem = f"cannot import {use['module']} as {flavour}: {err}"
        if problem:
            problems.append(f"{use['where']}: {problem}")
    json.dump({"checked": len(uses), "problems": problems}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
