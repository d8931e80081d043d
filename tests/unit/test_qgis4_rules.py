"""Code that runs in QGIS works on 3.22 (Qt5) and 4.x (Qt6).

QGIS 4 cannot be installed here, so this is the readiness check in its place,
over every Python file outside tests/ (ui/, integration/, processing_provider/,
plugin.py, scripts/ ...):

- the static rules of QGIS's migration script (scripts/pyqt5_to_pyqt6 in the
  QGIS repository: exec_(), QRegExp, compiled resources, qApp, PyQt5 imports,
  QDateTime's 8-argument form, addAction with 4+ arguments, desktop(),
  QFontMetrics.width(), activated[str]) plus ours: QAction/QShortcut imported
  from qgis.PyQt.QtWidgets (QtGui fails on 3.22), QVariant only in
  integration/compat.py (field types go through ``compat.make_field``);
- every name our code imports from ``qgis.PyQt.*`` and every attribute chain it
  reads from one (``Qt.AlignmentFlag.AlignLeft``, ``QHeaderView.ResizeMode.Stretch``,
  ``QTimer.singleShot``) resolved in PyQt6 from PyPI, in a throw-away venv under
  .build/ (Qt6 enums are scoped only: ``Qt.AlignLeft`` fails there);
- every name and chain from ``qgis.core`` / ``qgis.gui`` resolved in the installed
  QGIS, with enum values read through their enum (``Qgis.MessageLevel.Info``,
  not ``Qgis.Info``), as the migration script would rewrite them.

The collection is static (ast); the resolving happens in qt_names_resolver.py,
run by the Python that has the modules.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_TOP = {".venv", ".build", ".git", "tests", "dist"}
RESOLVER = Path(__file__).with_name("qt_names_resolver.py")
PYQT6_REQUIREMENTS = ROOT / "requirements" / "pyqt6-check.txt"
# One per Python version: a checkout shared with a chroot of another Debian must not
# reuse a venv built for another interpreter.
PYQT6_VENV = ROOT / ".build" / f"pyqt6-venv-py{sys.version_info[0]}.{sys.version_info[1]}"
SYSTEM_PYTHON = "/usr/bin/python3"

# Moved to QtGui in Qt6; qgis.PyQt.QtWidgets re-exports them on both.
QTGUI_ONLY_IN_QT6 = {"QAction", "QActionGroup", "QShortcut"}
QVARIANT_HOME = "integration/compat.py"  # the one place that may name QVariant types
TEXT_RULES = (
    (re.compile(r"\.exec_\("), "exec_() is gone in Qt6: use exec()"),
    (re.compile(r"\bdef exec_\("), "exec_() is gone in Qt6: define exec()"),
    (re.compile(r"\bQRegExp\b"), "QRegExp is gone in Qt6: use QRegularExpression"),
    (re.compile(r"\bresources_rc\b"), "compiled resources are gone in Qt6: load icons by path"),
    (re.compile(r"\bqApp\b"), "qApp is gone in Qt6: use QApplication.instance()"),
)


@dataclass(frozen=True)
class Use:
    """A name imported from a Qt/QGIS module and the attributes read from it."""

    where: str
    module: str
    name: str
    chain: Tuple[str, ...]


def _python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIPPED_TOP or "__pycache__" in rel.parts:
            continue
        yield path


def _parsed() -> Iterator[Tuple[str, str, ast.AST]]:
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        yield path.relative_to(ROOT).as_posix(), text, ast.parse(text, filename=str(path))


def _checked_module(module: str) -> bool:
    return module.startswith("qgis.PyQt.") or module in ("qgis.core", "qgis.gui")


def _chain(node: ast.Attribute) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """``Qt.AlignmentFlag.AlignLeft`` -> ("Qt", ("AlignmentFlag", "AlignLeft"))."""
    attrs: List[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        attrs.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    return current.id, tuple(reversed(attrs))


def collect_uses(rel: str, tree: ast.AST) -> List[Use]:
    """Every imported Qt/QGIS name and every outermost attribute chain read from one."""
    imported: Dict[str, Tuple[str, str]] = {}  # local name -> (module, name)
    uses: List[Use] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _checked_module(node.module):
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
                uses.append(Use(f"{rel}:{node.lineno}", node.module, alias.name, ()))
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        found = _chain(node)
        if found and found[0] in imported:
            module, name = imported[found[0]]
            uses.append(Use(f"{rel}:{node.lineno}", module, name, found[1]))
    return uses


def _all_uses() -> List[Use]:
    uses: List[Use] = []
    for rel, _text, tree in _parsed():
        uses.extend(collect_uses(rel, tree))
    return uses


# ------------------------------------------------------------------ static rules


def _import_problems(rel: str, tree: ast.AST) -> List[str]:
    problems = []
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
            names = {alias.name for alias in node.names}
            if node.module == "qgis.PyQt.QtGui" and names & QTGUI_ONLY_IN_QT6:
                problems.append(
                    f"{rel}:{node.lineno}: import {sorted(names & QTGUI_ONLY_IN_QT6)} "
                    "from qgis.PyQt.QtWidgets (QtGui fails on 3.22)"
                )
            if node.module == "qgis.PyQt.Qt":
                problems.append(f"{rel}:{node.lineno}: qgis.PyQt.Qt is gone: import from QtCore")
            if "QVariant" in names and rel != QVARIANT_HOME:
                problems.append(
                    f"{rel}:{node.lineno}: QVariant types differ in Qt6 (QMetaType.Type): "
                    "build fields with integration.compat.make_field, use NULL from qgis.core"
                )
        for module in modules:
            if module.split(".")[0] in ("PyQt5", "PyQt6", "PySide2", "PySide6"):
                problems.append(f"{rel}:{node.lineno}: import {module}: use qgis.PyQt")
    return problems


def _call_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _call_problems(rel: str, tree: ast.AST) -> List[str]:
    """The calls QGIS's migration script warns about or rewrites."""
    problems = []
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name == "QDateTime" and len(node.args) == 8:
                problems.append(f"{where}: QDateTime(y, m, d, h, M, s, ms, ts) is gone in Qt6")
            if name == "QDateTime" and len(node.args) == 1:
                arg = node.args[0]
                if isinstance(arg, ast.Call) and _call_name(arg.func) == "QDate":
                    problems.append(f"{where}: QDateTime(QDate) is gone: add QTime(0, 0, 0)")
            if isinstance(node.func, ast.Attribute):
                if name == "addAction" and len(node.args) >= 4:
                    problems.append(f"{where}: addAction with 4+ arguments breaks in Qt6")
                if name == "desktop" and not node.args:
                    problems.append(f"{where}: QDesktopWidget (desktop()) is gone in Qt6")
        if isinstance(node, ast.Attribute) and node.attr == "width":
            value = node.value
            if isinstance(value, ast.Call) and _call_name(value.func) in (
                "fontMetrics",
                "QFontMetrics",
                "QFontMetricsF",
            ):
                problems.append(f"{where}: QFontMetrics.width() is gone: horizontalAdvance()")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            index = node.slice
            if node.value.attr == "activated" and isinstance(index, ast.Name) and index.id == "str":
                problems.append(f"{where}: activated[str] is gone in Qt6: textActivated")
    return problems


def test_code_follows_the_qt5_and_qt6_rules() -> None:
    problems: List[str] = []
    for rel, text, tree in _parsed():
        problems.extend(_import_problems(rel, tree))
        problems.extend(_call_problems(rel, tree))
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, why in TEXT_RULES:
                if pattern.search(code):
                    problems.append(f"{rel}:{number}: {why}")
    assert not problems, "\n".join(problems)


def test_the_static_rules_catch_what_the_migration_script_flags() -> None:
    """The rules above are not vacuous: a file full of Qt5-only code trips each one."""
    bad = (
        "from PyQt5.QtCore import QRegExp\n"
        "from qgis.PyQt.QtGui import QAction\n"
        "from qgis.PyQt.QtCore import QVariant\n"
        "when = QDateTime(2020, 1, 2, 3, 4, 5, 6, Qt.UTC)\n"
        "menu.addAction(icon, text, receiver, slot)\n"
        "width = self.fontMetrics().width('x')\n"
        "combo.activated[str].connect(slot)\n"
        "QApplication.desktop()\n"
    )
    tree = ast.parse(bad)
    found = _import_problems("plugin.py", tree) + _call_problems("plugin.py", tree)
    assert len(found) == 8, "\n".join(found)


# ------------------------------------------------------------------ names resolved


def _resolve(python: str, flavour: str, uses: List[Use], env: Optional[dict] = None) -> dict:
    payload = json.dumps([u.__dict__ | {"chain": list(u.chain)} for u in uses])
    run = subprocess.run(
        [python, str(RESOLVER), flavour],
        input=payload,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def _pyqt6_python() -> str:
    """The throw-away PyQt6 venv under .build/, made once per requirements change."""
    python = PYQT6_VENV / "bin" / "python"
    stamp = PYQT6_VENV / ".requirements"
    wanted = PYQT6_REQUIREMENTS.read_text(encoding="utf-8")
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return str(python)
    made = subprocess.run(
        [SYSTEM_PYTHON, "-m", "venv", "--clear", str(PYQT6_VENV)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(PYQT6_REQUIREMENTS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pip.returncode != 0:
        pytest.skip(f"PyQt6 could not be installed from PyPI: {pip.stderr.strip()[-500:]}")
    stamp.write_text(wanted, encoding="utf-8")
    return str(python)


def _qt6_env() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONPATH", None)
    return env


def test_every_qt_name_our_code_uses_exists_in_pyqt6() -> None:
    uses = [u for u in _all_uses() if u.module.startswith("qgis.PyQt.")]
    assert len(uses) > 100, "the collector found too few uses: is it still reading the code?"
    result = _resolve(_pyqt6_python(), "pyqt6", uses, _qt6_env())
    assert result["checked"] == len(uses)
    assert not result["problems"], "\n".join(result["problems"])


def test_the_pyqt6_check_catches_unscoped_and_moved_names() -> None:
    """Known Qt5-only code fails in PyQt6, with the scoped name to use."""
    bad = (
        "from qgis.PyQt.QtCore import Qt, QRegExp\n"
        "from qgis.PyQt.QtWidgets import QAction, QSizePolicy, QFileSystemModel\n"
        "align = Qt.AlignLeft\n"
        "policy = QSizePolicy.Expanding\n"
        "role = Qt.ItemDataRole.UserRole\n"
    )
    uses = collect_uses("plugin.py", ast.parse(bad))
    problems = _resolve(_pyqt6_python(), "pyqt6", uses, _qt6_env())["problems"]
    text = "\n".join(problems)
    assert "use Qt.AlignmentFlag.AlignLeft" in text, text
    assert "use QSizePolicy.Policy.Expanding" in text, text
    assert "QRegExp is not in PyQt6.QtCore" in text, text
    assert "QFileSystemModel is not in PyQt6.QtWidgets" in text, text  # moved to QtGui
    assert len(problems) == 4, text  # QAction (QGIS's shim) and the scoped role pass


def _qgis_python() -> str:
    probe = subprocess.run(
        [sys.executable, "-c", "import qgis.core"],
        capture_output=True,
        env=_qt6_env(),
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.skip("QGIS's Python bindings are not installed")
    return sys.executable


def test_every_qgis_name_our_code_uses_is_scoped_in_the_installed_qgis() -> None:
    uses = [u for u in _all_uses() if u.module in ("qgis.core", "qgis.gui")]
    assert len(uses) > 100, "the collector found too few uses: is it still reading the code?"
    result = _resolve(_qgis_python(), "qgis", uses, _qt6_env())
    assert result["checked"] == len(uses)
    assert not result["problems"], "\n".join(result["problems"])


def test_the_qgis_check_catches_unscoped_enum_values() -> None:
    bad = (
        "from qgis.core import Qgis, QgsTask\n"
        "level = Qgis.Warning\n"
        "flags = QgsTask.CanCancel\n"
        "scoped = QgsTask.Flag.CanCancel\n"
    )
    uses = collect_uses("plugin.py", ast.parse(bad))
    problems = _resolve(_qgis_python(), "qgis", uses, _qt6_env())["problems"]
    text = "\n".join(problems)
    assert "use Qgis.MessageLevel.Warning" in text, text
    assert "use QgsTask.Flag.CanCancel" in text, text
    assert len(problems) == 2, text
