"""core/ runs without QGIS: stdlib + requests only, and no Qt, QGIS or GDAL.

Checked twice: statically (every import statement in core/) and for real (a
fresh interpreter imports every core module and reports what got loaded).

One exception: ``core/holdings/`` (the holding engine) may use GDAL's Python
bindings (``osgeo``), and nothing else in core imports it at import time (the
command line loads ``core/holdings/cli.py``, which imports the engine only
inside its handlers), so the rest of core runs without GDAL. And one module,
``core/holdings/postgis_store.py`` (a PostGIS holding's store), may import
psycopg2, on demand: nothing else in the plugin talks to PostgreSQL.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
PYTHONPATH = ROOT / ".build" / "pythonpath"  # holds the `os_downloads` link (tests/conftest.py)

FORBIDDEN = (
    "qgis",
    "PyQt4",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "sip",
    "osgeo",
    "shiboken2",
    "shiboken6",
    "gdal",
    "ogr",
    "osr",
)
ALLOWED_THIRD_PARTY = {"requests", "urllib3"}  # urllib3 comes with requests
GDAL_MODULES = frozenset({"osgeo", "gdal", "ogr", "osr"})
HOLDINGS = CORE / "holdings"  # may import osgeo; see the module docstring
PSYCOPG_MODULES = frozenset({"psycopg2"})
POSTGIS_STORE = HOLDINGS / "postgis_store.py"  # the one module that may import psycopg2
# Modules of core/holdings that the rest of core may load at import time.
HOLDINGS_LOADED_EAGERLY = ("os_downloads.core.holdings", "os_downloads.core.holdings.cli")
# Parts of the plugin core/ must not reach into: they import QGIS.
OUTSIDE_CORE = ("integration", "ui", "plugin", "processing_provider", "replica", "bench", "scripts")


def _core_files() -> List[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


def _optional_imports(tree: ast.AST) -> Set[int]:
    """ids of import nodes inside a ``try`` that handles ImportError (optional fallbacks)."""
    optional: Set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught.update(k.id for k in kinds if isinstance(k, ast.Name))
        if caught & {"ImportError", "ModuleNotFoundError"}:
            for statement in node.body:
                optional.update(id(inner) for inner in ast.walk(statement))
    return optional


def _imports(path: Path) -> Iterator[Tuple[int, str, int, bool]]:
    """(line, module, relative level, optional) for every import statement in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    optional = _optional_imports(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, 0, id(node) in optional
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level, id(node) in optional


def _is_bad(
    module: str,
    level: int,
    depth: int,
    optional: bool,
    *,
    gdal_allowed: bool = False,
    psycopg_allowed: bool = False,
) -> bool:
    """depth: how many packages below the repository root the file sits (core/x.py -> 1).

    An optional import (guarded by ``except ImportError``) may name a third-party
    backport such as tomli, but never QGIS, Qt or GDAL. ``gdal_allowed``: the
    file is in core/holdings/, which may import osgeo.
    """
    top = module.split(".")[0]
    if level == 0:
        if gdal_allowed and top in GDAL_MODULES:
            return False
        if psycopg_allowed and top in PSYCOPG_MODULES:
            return False
        if top in FORBIDDEN:
            return True
        if top == "os_downloads":
            parts = module.split(".")
            return len(parts) > 1 and parts[1] != "core"
        if optional:
            return False
        return top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY
    # Relative: climbing to the repository root then into a QGIS-bound part is not allowed.
    return level > depth and top in OUTSIDE_CORE


def test_core_has_modules() -> None:
    assert (CORE / "__init__.py").exists()


def test_core_imports_only_stdlib_and_requests() -> None:
    problems = []
    for path in _core_files():
        depth = len(path.relative_to(ROOT).parts) - 1
        in_holdings = HOLDINGS in path.parents
        for line, module, level, optional in _imports(path):
            if _is_bad(
                module,
                level,
                depth,
                optional,
                gdal_allowed=in_holdings,
                psycopg_allowed=path == POSTGIS_STORE,
            ):
                dots = "." * level
                problems.append(f"{path.relative_to(ROOT)}:{line}: imports {dots}{module}")
    assert not problems, "core/ must use stdlib + requests only:\n" + "\n".join(problems)


_PROBE = """
import importlib, json, pkgutil, sys
import os_downloads
import os_downloads.core as core
names = ["os_downloads", "os_downloads.core"]
eager = ("os_downloads.core.holdings", "os_downloads.core.holdings.cli")
for info in pkgutil.walk_packages(core.__path__, "os_downloads.core."):
    if info.name.endswith("__main__"):
        continue  # running it would start a command
    if info.name.startswith("os_downloads.core.holdings.") and info.name not in eager:
        continue  # the holding engine may load GDAL (test_holdings_load_only_when_asked)
    importlib.import_module(info.name)
    names.append(info.name)
import os_downloads.core.cli.main as cli
cli.build_parser()  # registers every command, the holding command too
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""


def test_importing_core_loads_no_qgis_qt_or_gdal(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(PYTHONPATH),
        "PYTHONNOUSERSITE": "1",
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"importing core failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {"os_downloads.core." + p.stem for p in _core_files() if p.parent == CORE} - {
        "os_downloads.core.__init__",
        "os_downloads.core.__main__",
    }
    assert expected <= set(report["imported"])
    leaked = [m for m in report["loaded"] if m.split(".")[0] in {*FORBIDDEN, *PSYCOPG_MODULES}]
    assert not leaked, f"importing core loaded QGIS/Qt/GDAL modules: {leaked}"
    engine = [
        m
        for m in report["loaded"]
        if m.startswith("os_downloads.core.holdings") and m not in HOLDINGS_LOADED_EAGERLY
    ]
    assert not engine, f"core loaded the holding engine at import time: {engine}"
    assert "os_downloads.core.cli.holding_commands" in report["loaded"]  # the command is registered


def test_holdings_may_use_gdal_and_only_they(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from osgeo import ogr\nimport qgis\n", encoding="utf-8")
    in_holdings = [
        m for _, m, lvl, opt in _imports(sample) if _is_bad(m, lvl, 2, opt, gdal_allowed=True)
    ]
    elsewhere = [m for _, m, lvl, opt in _imports(sample) if _is_bad(m, lvl, 1, opt)]
    assert in_holdings == ["qgis"]
    assert elsewhere == ["osgeo", "qgis"]


def test_psycopg2_only_in_the_postgis_store(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import psycopg2\nimport psycopg2.extras\n", encoding="utf-8")
    allowed = [
        m for _, m, lvl, o in _imports(sample) if _is_bad(m, lvl, 2, o, psycopg_allowed=True)
    ]
    elsewhere = [m for _, m, lvl, o in _imports(sample) if _is_bad(m, lvl, 2, o, gdal_allowed=True)]
    assert allowed == [] and elsewhere == ["psycopg2", "psycopg2.extras"]
    users = [
        p.relative_to(ROOT).as_posix()
        for p in _core_files()
        if any(m.split(".")[0] == "psycopg2" for _, m, _, _ in _imports(p))
    ]
    assert users == ["core/holdings/postgis_store.py"]


def test_the_static_check_catches_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\n"
        "import requests\n"
        "from qgis.core import QgsProject\n"
        "from PyQt5 import QtCore\n"
        "from osgeo import gdal\n"
        "import yaml\n"
        "from ..integration import settings\n"
        "from . import errors\n"
        "try:\n"
        "    import tomli\n"
        "except ImportError:\n"
        "    tomli = None\n"
        "try:\n"
        "    import sip\n"
        "except ImportError:\n"
        "    sip = None\n",
        encoding="utf-8",
    )
    flagged = [
        module for line, module, level, opt in _imports(sample) if _is_bad(module, level, 1, opt)
    ]
    assert flagged == ["qgis.core", "PyQt5", "osgeo", "yaml", "integration", "sip"]
