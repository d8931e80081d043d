"""Is there room? Checked before a download or an extraction starts; a full disk worded.

A full disk mid-way is still caught where it happens (``InsufficientSpaceError``
naming the file); this check only spares the user a long wait for it.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from ..errors import DownloadError, InsufficientSpaceError, OSDownloadsError
from ..formatting import format_bytes
from ..redact import get_logger

log = get_logger(__name__)

SPACE_MARGIN_BYTES = 16 << 20  # plus 1% of what is to come: file system overhead, the manifest


def check_free_space(dest: Path, needed: int) -> None:
    """Raise ``InsufficientSpaceError`` unless ``dest``'s disk has ``needed`` bytes + margin."""
    if needed <= 0:
        return
    wanted = needed + SPACE_MARGIN_BYTES + needed // 100
    try:
        free = shutil.disk_usage(str(dest)).free
    except OSError as exc:  # some network shares cannot say; a full disk is still caught later
        log.info("Cannot tell the free space in %s (%s); not checking it", dest, exc)
        return
    if free < wanted:
        raise InsufficientSpaceError(
            f"Not enough free disk space in {dest}: the download needs {format_bytes(wanted)} "
            f"(with a small margin) and {format_bytes(free)} is free."
        )


def disk_write_error(exc: OSError, name: str, folder: Path) -> OSDownloadsError:
    """The error for a failed write of ``name`` in ``folder``: a full disk, or why not."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return InsufficientSpaceError(
            f"The disk filled up while writing {name} to {folder}; the incomplete file was removed."
        )
    return DownloadError(f"Could not write {name} in {folder}: {exc.strerror or exc}.")


@contextlib.contextmanager
def closing_on_disk_error(
    out: BinaryIO, disk_error: Callable[[OSError], Exception]
) -> Iterator[Any]:
    """Close ``out`` at the end of the block, never hiding why the block failed.

    Closing flushes what is still buffered. On a full disk that fails again
    (Python 3.14 keeps the bytes a failed write could not store), and a plain
    ``with`` would then replace the clear "disk filled up" error with a bare
    OSError; a failed close after a successful block is a disk error too.
    """
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        raise
    try:
        out.close()
    except OSError as exc:
        raise disk_error(exc) from None
