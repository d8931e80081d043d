"""What earlier sync runs fetched, per entry: ``dest_root/os_downloads_sync_state.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

from ..atomic import atomic_write_text
from ..errors import ConfigurationError
from ..redact import get_logger

log = get_logger(__name__)

STATE_FILE = "os_downloads_sync_state.json"
STATE_FORMAT = 1


class SyncState:
    """What earlier runs fetched, per entry key; saved after every step."""

    def __init__(self, path: Path, entries: Optional[Dict[str, Dict[str, Any]]] = None) -> None:
        self.path = path
        self.entries: Dict[str, Dict[str, Any]] = entries or {}

    @classmethod
    def load(cls, dest_root: Path) -> SyncState:
        path = dest_root / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"The sync state file {path} cannot be read ({err}).",
                hint="Move it away to start afresh (everything will be checked again; "
                "files already on disk with the right MD5 are not downloaded again).",
            ) from None
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            log.warning(
                "The sync state file %s is not in the expected form; starting afresh "
                "(files already on disk with the right checksum are not downloaded again).",
                path,
            )
            return cls(path)
        kept = {str(k): v for k, v in entries.items() if isinstance(v, dict)}
        for key in sorted(set(entries) - set(kept)):
            log.warning(
                "The sync state for %s is not in the expected form; checking it afresh.", key
            )
        return cls(path, kept)

    def entry(self, key: str) -> Dict[str, Any]:
        return self.entries.setdefault(key, {})

    def save(self) -> None:
        text = json.dumps({"format": STATE_FORMAT, "entries": self.entries}, indent=2)
        atomic_write_text(self.path, text + "\n")
