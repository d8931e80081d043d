"""MD5s of the served files, computed once and remembered.

The API lists an md5 for every file; a multi-GB benchmark file must not be
hashed on every listing, so digests are cached in memory and in a sidecar JSON
file in the data folder, keyed by path, size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Dict, List, Optional

log = logging.getLogger("os_downloads.replica")

SIDECAR_NAME = ".md5-cache.json"
_CHUNK = 4 * 1024 * 1024


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Md5Cache:
    def __init__(self, sidecar: Optional[Path] = None) -> None:
        self._sidecar = sidecar
        self._lock = threading.Lock()
        self._path_locks: Dict[str, threading.Lock] = {}
        self._entries: Dict[str, List] = {}  # path -> [size, mtime_ns, md5]
        if sidecar is not None and sidecar.is_file():
            try:
                self._entries = dict(json.loads(sidecar.read_text("utf-8")))
            except (OSError, ValueError):
                log.warning("Ignoring an unreadable MD5 cache %s", sidecar)

    def md5(self, path: Path) -> str:
        key = str(path.resolve())
        stat = path.stat()
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                return entry[2]
            path_lock = self._path_locks.setdefault(key, threading.Lock())
        with path_lock:  # one thread hashes a file; others wait for its answer
            with self._lock:
                entry = self._entries.get(key)
                if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                    return entry[2]
            digest = md5_of_file(path)
            with self._lock:
                self._entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
                self._save()
        return digest

    def _save(self) -> None:
        if self._sidecar is None:
            return
        temporary = self._sidecar.with_name(f"{self._sidecar.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(self._entries, indent=0), "utf-8")
            os.replace(temporary, self._sidecar)
        except OSError:
            log.debug("Could not write the MD5 cache %s", self._sidecar)
