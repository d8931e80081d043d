"""Write a whole file or nothing: the one atomic-write helper.

A reader (another run, the dock, a scheduler's next start) sees either the
old file or the new one, never half of one, even when the program is killed
or the disk fills while writing. Used for manifests, sync state and reports,
and the Processing catalogue cache. (The download engine's ``.part`` files
are a different mechanism: they resume, this does not.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

PathLike = Union[str, Path]


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, ``os.replace``.

    The folder is made if missing and fsynced after the rename (where the
    platform allows) so the new name survives a power cut. On any failure the
    temp file is removed and the old file, if any, is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f".{target.name}-", suffix=".tmp", dir=str(target.parent)
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_folder(target.parent)
    return target


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """``atomic_write_bytes`` for text."""
    return atomic_write_bytes(path, text.encode(encoding))


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); skipped where not possible (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
