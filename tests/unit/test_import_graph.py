"""The shipped code's import graph has no cycles, and core/ imports nothing outside it.

Read statically from every ``import`` statement of the plugin's own packages
(imports under ``if TYPE_CHECKING:`` are left out: they never run). A cycle is
reported with its modules in order, so the fix is plain: move the shared piece
down a level. Also: no module of core/ grows past the size a newcomer can read
in one sitting, and no ``x.py`` sits beside a ``trud_x.py`` (one pipeline, one
module per job, whatever the source).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

from import_graph import (
    ROOT,
    cycles,
    graph,
    python_files,
    type_checking_nodes,
    without_package_reexports,
)

PACKAGE = "os_downloads"
SHIPPED = ("core", "integration", "ui", "processing_provider")
TOP_MODULES = ("plugin.py", "__init__.py", "__main__.py")
OUTSIDE_CORE = ("integration", "ui", "processing_provider", "plugin", "replica", "bench", "scripts")
MAX_CORE_LINES = 420
# relative module names a function may import on demand (see _on_demand_nodes)
ON_DEMAND = ("holdings", "..holdings")


def _shipped_files() -> List[Path]:
    files = [ROOT / name for name in TOP_MODULES if (ROOT / name).exists()]
    for folder in SHIPPED:
        files += python_files(ROOT / folder)
    return files


def _on_demand_nodes(tree: ast.AST) -> Set[int]:
    """Imports of the holdings inside a function: loaded when a holding is asked for.

    ``core/holdings`` needs GDAL, which the rest of core must run without, so the
    command line and the packages' sync kind load it in the function that needs it.
    That is a plug-in boundary, not a cycle of design: such edges are left out.
    """
    found: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(ON_DEMAND):
                    found.add(id(inner))
    return found


def _graph() -> Dict[str, Set[str]]:
    return graph(_shipped_files(), lambda tree: type_checking_nodes(tree) | _on_demand_nodes(tree))


def test_no_import_cycles_in_the_shipped_code():
    found = cycles(without_package_reexports(_graph()))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_core_imports_nothing_from_the_qgis_side():
    edges = _graph()
    bad = [
        f"{module} imports {target}"
        for module, targets in edges.items()
        if module.startswith(f"{PACKAGE}.core")
        for target in targets
        if target.split(".")[1] in OUTSIDE_CORE
    ]
    assert not bad, "\n".join(bad)


def test_core_modules_stay_small_and_have_no_trud_twins():
    core = ROOT / "core"
    too_long = []
    twins = []
    for path in sorted(core.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_CORE_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
        if path.name.startswith("trud_") and (path.parent / path.name[len("trud_") :]).exists():
            twins.append(str(path.relative_to(ROOT)))
    assert not too_long, "modules over ~400 lines:\n" + "\n".join(too_long)
    assert not twins, "x.py beside trud_x.py:\n" + "\n".join(twins)


def test_only_the_postgis_store_talks_to_postgresql():
    """psycopg2 (Debian's python3-psycopg2) is imported by one module of the shipped code:
    core/holdings/postgis_store.py, a PostGIS holding's store (like osgeo in core/holdings)."""
    users = []
    for path in _shipped_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(n.split(".")[0] == "psycopg2" for n in names):
                users.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(users)) == ["core/holdings/postgis_store.py"]


def test_the_graph_reader_sees_real_edges():
    """Guard against a reader that silently finds nothing."""
    assert sum(len(t) for t in _graph().values()) > 50


def test_registries_are_explicit_not_filled_by_importlib():
    """Sources, commands and sync kinds are tuples built at import: no importlib tricks in core/."""
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "core").rglob("*.py"))
        if "__pycache__" not in path.parts and "importlib" in path.read_text(encoding="utf-8")
    ]
    assert not users, "importlib in core/: " + ", ".join(users)
