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

from pathlib import Path
from typing import Dict, List, Optional, Set

from import_graph import ROOT, cycles, graph, python_files, without_package_reexports

REPLICA = ROOT / "replica"
ROOM_OF = {"server": "data", "data": "server"}  # room -> the room it must not import


def _files() -> List[Path]:
    return python_files(REPLICA)


def _graph() -> Dict[str, Set[str]]:
    return graph(_files())  # TYPE_CHECKING imports count here


def _room(module: str) -> Optional[str]:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "replica" and parts[2] in ROOM_OF else None


def test_the_reader_sees_the_replicas_real_edges():
    edges = _graph()
    assert "os_downloads.replica.server.routing" in edges["os_downloads.replica.server.storage"]
    assert sum(len(t) for t in edges.values()) > 60


def test_no_import_cycles_in_the_replica():
    found = cycles(without_package_reexports(_graph()))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


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
