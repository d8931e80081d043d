"""Every source the program knows, listed once.

The desktop, ``qgis_process``, the command line and sync all read this tuple,
so they see the same sources whatever was imported before. A new source is
one more entry here (see CONTRIBUTING.md, "How to add a source").
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from .base import Source, SyncKind
from .os_packages import OSPackages
from .os_products import OSProducts
from .trud.source import Trud

SOURCES: Tuple[Source, ...] = (OSProducts(), OSPackages(), Trud())


def source_for(kind: str) -> Optional[Source]:
    """The source whose manifests say ``"source": kind``; None for one we do not know."""
    return next((s for s in SOURCES if s.kind == kind), None)


def sync_kinds() -> Dict[str, SyncKind]:
    """The sync config tables (``[[products]]``, ...), in the order a run takes them."""
    return {s.sync.name: s.sync for s in SOURCES}
