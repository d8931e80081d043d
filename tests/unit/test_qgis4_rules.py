"""Code that runs in QGIS works on 3.22 (Qt5) and 4.x (Qt6).

Cheap static checks of the rules in CONTRIBUTING.md, over every Python file
outside tests/: the patterns Qt6 removed or 3.22 lacks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, List

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_TOP = {".venv", ".build", ".git", "tests", "dist"}

# Moved to QtGui in Qt6; qgis.PyQt.QtWidgets re-exports them on both.
QTGUI_ONLY_IN_QT6 = {"QAction", "QActionGroup", "QShortcut"}
TEXT_RULES = (
    (re.compile(r"\.exec_\("), "exec_() is gone in Qt6: use exec()"),
    (re.compile(r"\bQRegExp\b"), "QRegExp is gone in Qt6: use QRegularExpression"),
    (re.compile(r"\bresources_rc\b"), "compiled resources are gone in Qt6: load icons by path"),
    (re.compile(r"\bqApp\b"), "qApp is gone in Qt6: use QApplication.instance()"),
)


def _python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIPPED_TOP or "__pycache__" in rel.parts:
            continue
        yield path


def _import_problems(path: Path, tree: ast.AST) -> List[str]:
    rel = path.relative_to(ROOT)
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
        for module in modules:
            if module.split(".")[0] in ("PyQt5", "PyQt6", "PySide2", "PySide6"):
                problems.append(f"{rel}:{node.lineno}: import {module}: use qgis.PyQt")
    return problems


def test_code_follows_the_qt5_and_qt6_rules() -> None:
    problems: List[str] = []
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        problems.extend(_import_problems(path, ast.parse(text, filename=str(path))))
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, why in TEXT_RULES:
                if pattern.search(code):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {why}")
    assert not problems, "\n".join(problems)
