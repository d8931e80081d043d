"""Read a package's import graph from its source, for the import-graph tests.

Static: every ``import`` statement (function-level ones included), resolved to
the modules of the tree being read; ``skip(tree)`` names import nodes to leave
out (``if TYPE_CHECKING:`` blocks, on-demand plug-ins). ``cycles`` finds the
strongly connected components of more than one module (Tarjan), so a cycle is
reported with all its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "os_downloads"
Skip = Callable[[ast.AST], Set[int]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def python_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def type_checking_nodes(tree: ast.AST) -> Set[int]:
    """Imports under ``if TYPE_CHECKING:``: they never run."""
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


def _imports(path: Path, known: Set[str], skip: Optional[Skip]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = skip(tree) if skip else set()
    current = module_name(path)
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


def graph(files: Iterable[Path], skip: Optional[Skip] = None) -> Dict[str, Set[str]]:
    """module -> the modules of ``files`` it imports."""
    files = list(files)
    known = {module_name(p) for p in files}
    return {module_name(p): set(_imports(p, known, skip)) for p in files}


def without_package_reexports(edges: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    """A package's __init__ re-exporting its own submodules is not a cycle of design."""
    return {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in edges.items()}


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
