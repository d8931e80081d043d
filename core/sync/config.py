"""Read and validate a sync config file (TOML or JSON); a key or secret in it is refused.

The tables it accepts are the sync kinds of the sources in
``core/sources/registry.py`` (``[[products]]``, ``[[packages]]``, ``[[trud]]``),
with the top-level options those kinds name. See ``core/sync/run.py`` for
the file's shape.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..errors import ConfigurationError
from ..sources.registry import sync_kinds
from .plan import Entry, SyncConfig, opt_bool

GENERAL_KEYS = ("dest_root", "api_url", "key_env", "secret_env", "extract", "workers")
SECRET_KEYS = frozenset(
    {"key", "api_key", "apikey", "secret", "api_secret", "password", "token", "access_token"}
)


def load_config(path: Path) -> SyncConfig:
    """Read and validate a TOML or JSON sync config. ``ConfigurationError`` if bad."""
    path = Path(path)
    raw = _read_config_file(path)
    _refuse_secrets(raw, "")
    kinds = sync_kinds()
    allowed = set(GENERAL_KEYS) | set(kinds)
    for kind in kinds.values():
        allowed.update(kind.options)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown setting(s) {', '.join(unknown)}.",
            hint=f"Known: {', '.join(sorted(allowed))}.",
        )
    if not raw.get("dest_root"):
        raise ConfigurationError(f"{path}: dest_root is missing (the folder to download into).")
    dest_root = Path(os.path.expandvars(str(raw["dest_root"]))).expanduser()
    if not dest_root.is_absolute():
        dest_root = path.resolve().parent / dest_root
    entries: List[Entry] = []
    seen: Dict[str, str] = {}
    for name, kind in kinds.items():
        tables = raw.get(name, [])
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list):
            raise ConfigurationError(f"{path}: {name} must be a list of tables ([[{name}]]).")
        for index, table in enumerate(tables, 1):
            where = f"{path}: [[{name}]] #{index}"
            if not isinstance(table, dict):
                raise ConfigurationError(f"{where} is not a table.")
            entry = kind.parse(table, where)
            if entry.key in seen:
                raise ConfigurationError(f"{where} repeats {seen[entry.key]}.")
            seen[entry.key] = where
            entries.append(entry)
    if not entries:
        raise ConfigurationError(
            f"{path}: nothing to keep current.", hint="Add [[products]] or [[packages]] tables."
        )
    options = {k: v for k, v in raw.items() if k not in GENERAL_KEYS and k not in kinds}
    return SyncConfig(
        path=path.resolve(),
        dest_root=dest_root,
        entries=tuple(entries),
        api_url=_opt_str(raw.get("api_url"), "api_url", path),
        key_env=_opt_str(raw.get("key_env"), "key_env", path) or "OS_API_KEY",
        secret_env=_opt_str(raw.get("secret_env"), "secret_env", path) or "OS_API_SECRET",
        extract=opt_bool(raw.get("extract"), "extract", path, default=True),
        workers=_workers(raw.get("workers", 4), path),
        options=options,
    )


def _read_config_file(path: Path) -> Dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigurationError(f"Cannot read the sync config {path}: {err.strerror}.") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(data.decode("utf-8-sig"))
        elif suffix == ".toml":
            raw = _toml_loads(data.decode("utf-8-sig"))
        else:
            raise ConfigurationError(f"{path}: a sync config must end in .toml or .json.")
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path} is not valid {suffix[1:].upper()}: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: the top level must be a table/object.")
    return raw


def _toml_loads(text: str) -> Dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.9/3.10 (QGIS 3.22 on Windows)
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ConfigurationError(
                "Reading TOML needs Python 3.11 or later.",
                hint="Write the same settings as a .json file instead.",
            ) from None
    return tomllib.loads(text)


def _refuse_secrets(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            if str(name).lower() in SECRET_KEYS:
                raise ConfigurationError(
                    f"The sync config must not hold a key or secret ('{name}'{where}).",
                    hint="Put it in the environment (OS_API_KEY / OS_API_SECRET), or name the "
                    'variables with key_env = "NAME" and secret_env = "NAME".',
                )
            _refuse_secrets(inner, where or f" in {name}")
    elif isinstance(value, list):
        for inner in value:
            _refuse_secrets(inner, where)


def _opt_str(value: Any, name: str, path: Path) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{path}: {name} must be a string.")
    return value.strip()


def _workers(value: Any, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise ConfigurationError(f"{path}: workers must be a whole number from 1 to 16.")
    return value
