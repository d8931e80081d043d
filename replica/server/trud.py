"""The replica's NHS TRUD origin: the release list and download endpoints.

Mounted by ``ReplicaServer`` on its ``trud`` origin (``build_router``)::

    GET /trud/api/v1/keys/{key}/items/{item}/releases[?latest]
    GET /download/api/v1/keys/{key}/content/items/{item}/{fileName}
    GET /download/api/v1/keys/{key}/content/public-keys/{fileName}

so a client uses ``TRUD_API_URL = server.trud_origin + "/trud/api/v1"`` and the
key ``TRUD_API_KEY`` below. Answers follow TRUD's guide: releases newest first
with every field; a bad key gets 400 ``BAD REQUEST``; the disabled key 401; an
unknown or unsubscribed item 404 with the message that echoes the key; every
download error a bare 404. Files go through ``storage.file_response`` so the
same fault switches apply (``drop_after_bytes``/``drop_count``,
``corrupt_files`` by served file name, ``slow_bytes_per_second``; the list
honours ``api_429_count`` and ``api_5xx_every``).

Data come from the catalogue's ``trud`` key, which ``replica.data.sampledata``
writes with ``replica/data/sample_trud.py``; a hand-made catalogue without one
serves no TRUD items (every list is TRUD's 404). ``publish_next_release(server,
item)`` makes an item's prepared next release appear (for sync tests);
``server.reset()`` (or ``restore(server)``) undoes it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple
from urllib.parse import quote

from .faults import Faults
from .inventory import Inventory
from .routing import Request, Response, Router, json_response
from .storage import file_response

# The replica's TRUD account key (40 hex digits, like a real one) and an old,
# disabled key of the same account.
TRUD_API_KEY = "5be8f7c2d41a9e06b3c17f2a8d94e0b61c3f5a27"
TRUD_DISABLED_KEY = "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e"
API_PREFIX = "/trud/api/v1"
DOWNLOAD_PREFIX = "/download/api/v1"

_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class TrudHost(Protocol):
    """What the TRUD origin needs of the replica (``ReplicaServer`` is one)."""

    inventory: Inventory
    data_dir: Path
    faults: Faults

    @property
    def trud_origin(self) -> str: ...
    def on_reset(self, hook: Callable[[], None]) -> None: ...


@dataclass
class ItemState:
    item: int
    name: str
    subscribed: bool
    releases: List[Dict[str, Any]]  # newest first
    unpublished: List[Dict[str, Any]]
    initial: Tuple[List[Dict[str, Any]], List[Dict[str, Any]]] = field(default=([], []))


class TrudReplica:
    """What the TRUD origin serves, and the runtime changes tests make."""

    def __init__(self, trud: Dict[str, Any], data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._hashes: Dict[Path, Tuple[int, str]] = {}
        self.public_keys: Dict[str, Dict[str, Any]] = dict(trud.get("publicKeys") or {})
        self.items: Dict[int, ItemState] = {}
        for raw in trud.get("items") or ():
            state = ItemState(
                int(raw["item"]),
                str(raw.get("name", "")),
                bool(raw.get("subscribed", True)),
                list(raw.get("releases") or ()),
                list(raw.get("unpublished") or ()),
            )
            state.initial = (list(state.releases), list(state.unpublished))
            self.items[state.item] = state

    # --- runtime changes ------------------------------------------------------------

    def publish_next_release(self, item: int) -> str:
        """Put the item's prepared next release on top; its archive file name."""
        with self._lock:
            state = self.items[int(item)]
            if not state.unpublished:
                raise ValueError(f"TRUD item {item} has no unpublished release left.")
            release = state.unpublished.pop(0)
            state.releases.insert(0, release)
            return str(release["archive"]["fileName"])

    def restore(self) -> None:
        with self._lock:
            for state in self.items.values():
                state.releases, state.unpublished = (list(x) for x in state.initial)

    # --- files ----------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        return self.data_dir / relative

    def size_and_sha256(self, path: Path) -> Tuple[int, str]:
        with self._lock:
            if path not in self._hashes:
                data = path.read_bytes()
                self._hashes[path] = (len(data), hashlib.sha256(data).hexdigest().upper())
            return self._hashes[path]

    def item_file(self, item: int, name: str) -> Optional[Path]:
        """The file served as ``content/items/{item}/{name}``, published releases only."""
        state = self.items.get(item)
        if state is None or not state.subscribed:
            return None
        for release in state.releases:
            for kind in ("archive", "checksum", "signature"):
                entry = release.get(kind)
                if entry and name == entry.get("urlName", entry["fileName"]):
                    return self.path(entry["path"])
        return None

    def public_key_file(self, name: str) -> Optional[Path]:
        for entry in self.public_keys.values():
            if entry["fileName"] == name:
                return self.path(entry["path"])
        return None

    # --- the release list ----------------------------------------------------------------

    def release_json(self, release: Dict[str, Any], item: int, base: str) -> Dict[str, Any]:
        """One release as TRUD lists it (field order as in the guide's example)."""
        content = f"{base}{DOWNLOAD_PREFIX}/keys/{{key}}/content"
        out: Dict[str, Any] = {
            "id": release["id"],
            "name": release["name"],
            "releaseDate": release["releaseDate"],
        }
        for kind, prefix in (
            ("archive", "archive"),
            ("checksum", "checksum"),
            ("signature", "signature"),
        ):
            entry = release.get(kind)
            if not entry:
                continue
            size, sha256 = self.size_and_sha256(self.path(entry["path"]))
            served = entry.get("urlName", entry["fileName"])
            out[f"{prefix}FileUrl"] = f"{content}/items/{item}/{quote(served)}"
            out[f"{prefix}FileName"] = entry["fileName"]
            out[f"{prefix}FileSizeBytes"] = size
            if kind == "archive":
                out["archiveFileSha256"] = sha256
            out[f"{prefix}FileLastModifiedTimestamp"] = entry.get("lastModified")
        key_id = release.get("publicKeyId")
        key = self.public_keys.get(str(key_id)) if key_id is not None else None
        if key:
            size, _ = self.size_and_sha256(self.path(key["path"]))
            out["publicKeyFileUrl"] = f"{content}/public-keys/{quote(key['fileName'])}"
            out["publicKeyFileName"] = key["fileName"]
            out["publicKeyFileSizeBytes"] = size
            out["publicKeyId"] = key_id
        return out

    def releases(
        self, item: int, base: str, key: str, latest: bool
    ) -> Optional[List[Dict[str, Any]]]:
        state = self.items.get(item)
        if state is None or not state.subscribed or not state.releases:
            return None
        with self._lock:
            chosen = state.releases[:1] if latest else list(state.releases)
        listed = [self.release_json(r, item, base) for r in chosen]
        # URLs carry the caller's key, as TRUD's do.
        return json.loads(json.dumps(listed).replace("{key}", quote(key, safe="")))


# --- answers -------------------------------------------------------------------------------


def _trud_json(status: int, message: str, releases: Optional[list] = None) -> Response:
    body: Dict[str, Any] = {"apiVersion": "1"}
    if releases is not None:
        body["releases"] = releases
    body.update({"httpStatus": status, "message": message})
    return json_response(body, status)


def _bad_key() -> Response:
    return _trud_json(400, "BAD REQUEST")


def _disabled_key() -> Response:
    return _trud_json(401, "UNAUTHORIZED: API access is disabled for the requesting account.")


def _download_not_found() -> Response:
    return _trud_json(404, "NOT FOUND")


def build_router(server: TrudHost) -> Router:
    """The TRUD routes for ``server``'s ``trud`` origin."""
    state = _load_state(server)
    _states[server] = state
    server.on_reset(state.restore)
    faults = server.faults
    router = Router()
    router.not_found = lambda request: _download_not_found()

    @router.route("GET", API_PREFIX + "/keys/{key}/items/{item}/releases")
    def releases(request: Request, key: str, item: str) -> Response:
        override = faults.api_status_override()
        if override is not None:
            return _trud_json(
                override, "TOO MANY REQUESTS" if override == 429 else "SERVICE UNAVAILABLE"
            )
        if key == TRUD_DISABLED_KEY:
            return _disabled_key()
        if key != TRUD_API_KEY:
            return _bad_key()
        listed = (
            state.releases(int(item), request.host_url, key, request.param("latest") is not None)
            if item.isdigit()
            else None
        )
        if listed is None:
            return _trud_json(
                404, f"NOT FOUND: No releases found for API key {key}, item {item}.", []
            )
        return _trud_json(200, "OK", listed)

    @router.route("GET", DOWNLOAD_PREFIX + "/keys/{key}/content/items/{item}/{name}")
    def item_file(request: Request, key: str, item: str, name: str) -> Response:
        path = state.item_file(int(item), name) if key == TRUD_API_KEY and item.isdigit() else None
        if path is None or not path.is_file():
            return _download_not_found()
        return file_response(request, path, file_name=name, faults=faults)

    @router.route("GET", DOWNLOAD_PREFIX + "/keys/{key}/content/public-keys/{name}")
    def public_key(request: Request, key: str, name: str) -> Response:
        path = state.public_key_file(name) if key == TRUD_API_KEY else None
        if path is None or not path.is_file():
            return _download_not_found()
        return file_response(request, path, file_name=name, faults=faults)

    return router


# --- state ---------------------------------------------------------------------------------


def _load_state(server: TrudHost) -> TrudReplica:
    return TrudReplica(server.inventory.catalogue.get("trud") or {}, server.data_dir)


def trud_state(server: TrudHost) -> TrudReplica:
    """The TRUD side of a running replica (publishing, restoring, paths)."""
    return _states[server]


def publish_next_release(server: TrudHost, item: int) -> str:
    """Make ``item``'s prepared next release the newest; returns its archive name."""
    return trud_state(server).publish_next_release(item)


def restore(server: TrudHost) -> None:
    """Undo ``publish_next_release`` (``server.reset()`` does this too)."""
    trud_state(server).restore()


def api_url(server: TrudHost) -> str:
    """What a client sets TRUD_API_URL to."""
    return server.trud_origin + API_PREFIX
