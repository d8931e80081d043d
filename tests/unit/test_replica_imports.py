"""The replica's import graph: no cycles, and its two rooms kept apart.

``replica/server/`` answers HTTP, ``replica/data/`` makes what it serves; the
one seam between them is the data folder (``catalogue.json``, named by
``replica.CATALOGUE_NAME``), so neither room imports the other. Both may use
the package's own ``__init__`` (constants, importing nothing); only the command
line (``replica/__main__.py``) joins them.

Read statically from every ``import`` statement, function-level ones included.
Unlike the shipped code's check, imports under ``if TYPE_CHECKING:`` count too:
the replica's two old circles (``control`` <-> ``testing``, ``requestlog`` <->
``routing``) were type-only back-references, and a narrow Protocol or plain
arguments say the same thing without one.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
REPLICA = ROOT / "replica"
PACKAGE = "os_downloads"
ROOM_OF = {"server": "data", "data": "server"}  # room -> the room it must not import


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _files() -> List[Path]:
    return sorted(p for p in REPLICA.rglob("*.py") if "__pycache__" not in p.parts)


def _resolve(current: str, is_package: bool, module: Optional[str], level: int) -> str:
    if level == 0:
        return module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(path: Path, known: Set[str]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    current = _module_name(path)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
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
    files = _files()
    known = {_module_name(p) for p in files}
    return {_module_name(p): set(_imports(p, known)) for p in files}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
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


def _room(module: str) -> Optional[str]:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "replica" and parts[2] in ROOM_OF else None


def test_the_reader_sees_the_replicas_real_edges():
    graph = _graph()
    assert "os_downloads.replica.server.routing" in graph["os_downloads.replica.server.storage"]
    assert sum(len(t) for t in graph.values()) > 60


def test_no_import_cycles_in_the_replica():
    graph = _graph()
    # a package's __init__ re-exporting its own submodules is not a cycle of design
    pruned = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    cycles = _cycles(pruned)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_server_and_data_do_not_import_each_other():
    bad = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _room(module) and _room(target) == ROOM_OF[_room(module)]
    ]
    assert not bad, "\n".join(bad)


def test_the_shared_root_imports_nothing_of_the_replica():
    """``replica/__init__.py`` is the seam's constants: importing it starts nothing."""
    assert not _graph()["os_downloads.replica"]


def test_no_importlib_lookups_in_the_replica():
    """Which origins and generators exist is plain imports, not modules found at run time."""
    users = [str(p.relative_to(ROOT)) for p in _files() if "importlib" in p.read_text("utf-8")]
    assert not users, "importlib in the replica: " + ", ".join(users)
