"""Make the repository importable as the package ``os_downloads``.

The checkout folder may have any name, so a link named ``os_downloads`` to the
repository root is made under ``.build/pythonpath`` and put on ``sys.path``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHONPATH = ROOT / ".build" / "pythonpath"


def _ensure_importable() -> None:
    link = PYTHONPATH / "os_downloads"
    PYTHONPATH.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        try:
            os.symlink(ROOT, link, target_is_directory=True)
        except FileExistsError:
            pass
    if str(PYTHONPATH) not in sys.path:
        sys.path.insert(0, str(PYTHONPATH))


_ensure_importable()
