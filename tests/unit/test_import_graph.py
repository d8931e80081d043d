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
from typing import Dict, Iterator, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "os_downloads"
SHIPPED = ("core", "integration", "ui", "processing_provider")
TOP_MODULES = ("plugin.py", "__init__.py", "__main__.py")
OUTSIDE_CORE = ("integration", "ui", "processing_provider", "plugin", "replica", "bench", "scripts")
MAX_CORE_LINES = 420


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _shipped_files() -> List[Path]:
    files = [ROOT / name for name in TOP_MODULES if (ROOT / name).exists()]
    for folder in SHIPPED:
        files += sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)
    return files


def _type_checking_nodes(tree: ast.AST) -> Set[int]:
    skipped: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for statement in node.body:
                    skipped.update(id(inner) for inner in ast.walk(statement))
    return skipped


def _resolve(current: str, is_package: bool, module: Optional[str], level: int) -> str:
    if level == 0:
        return module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(path: Path, known: Set[str]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _type_checking_nodes(tree)
    current = _module_name(path)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(current, is_package, node.module, node.level)
            # "from . import x" may name a submodule: prefer it when it exists
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != current:
                yield target


def _graph() -> Dict[str, Set[str]]:
    files = _shipped_files()
    known = {_module_name(p) for p in files}
    return {_module_name(p): set(_imports(p, known)) for p in files}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative enough)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_init_edge(source: str, target: str) -> bool:
    """A package's __init__ re-exporting its own submodules is not a cycle of design."""
    return target.startswith(source + ".")


def test_no_import_cycles_in_the_shipped_code():
    graph = _graph()
    pruned = {m: {t for t in ts if not _is_package_init_edge(m, t)} for m, ts in graph.items()}
    cycles = _cycles(pruned)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_core_imports_nothing_from_the_qgis_side():
    graph = _graph()
    bad = [
        f"{module} imports {target}"
        for module, targets in graph.items()
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


def test_the_graph_reader_sees_real_edges():
    """Guard against a reader that silently finds nothing."""
    graph = _graph()
    assert sum(len(t) for t in graph.values()) > 50


def test_registries_are_explicit_not_filled_by_importlib():
    """Sources, commands and sync kinds are tuples built at import: no importlib tricks in core/."""
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "core").rglob("*.py"))
        if "__pycache__" not in path.parts and "importlib" in path.read_text(encoding="utf-8")
    ]
    assert not users, "importlib in core/: " + ", ".join(users)
