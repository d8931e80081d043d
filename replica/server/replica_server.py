"""``ReplicaServer``: the whole replica on 127.0.0.1, for tests and the demo.

::

    with ReplicaServer(data_dir) as server:          # or server.start() / server.stop()
        server.api_url          # http://127.0.0.1:PORT/downloads/v1
        server.token_url        # http://127.0.0.1:PORT/oauth2/token/v1
        server.storage_origin   # http://127.0.0.1:PORT2
        server.trud_origin      # http://127.0.0.1:PORT3
        server.api_key, server.api_secret
        server.set_faults(drop_after_bytes=1000, drop_count=1)   # see faults.py
        server.requests_log     # [{origin, method, path, query, headers, status}, ...]
        server.publish_package_version("0040154231")              # a new newest version
        server.reset()          # faults, log and published content (TRUD's too) back to start

Origins: ``api`` (OS Downloads API + OAuth2 token endpoint + ``/__replica__``
control routes, ``control.py``), ``storage`` (signed blob URLs) and ``trud``
(``trud.build_router``: it uses ``server.inventory.catalogue["trud"]``,
``server.data_dir``, ``server.faults`` and ``storage.file_response``;
``server.on_reset(undo)`` has ``reset()`` undo its runtime changes). Those
modules see the server through small Protocols and never import this one. Any
other origin: ``server.add_origin(name, router, port=0)`` returns its URL,
before or after ``start()``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from .. import DEMO_API_KEY, DEMO_API_SECRET
from .control import build_control_router
from .faults import Faults
from .inventory import Inventory, PackageVersion, ProductEntry
from .oauth import TOKEN_PATH, Credentials
from .os_api import API_PREFIX, OsApi
from .requestlog import Entry, RequestLog
from .routing import OriginServer, Router
from .signing import UrlSigner
from .storage import build_storage_router
from .trud import build_router as build_trud_router

__all__ = ["DEMO_API_KEY", "DEMO_API_SECRET", "ReplicaServer"]


class ReplicaServer:
    def __init__(
        self,
        data_dir: Union[str, Path],
        *,
        host: str = "127.0.0.1",
        api_port: int = 0,
        storage_port: int = 0,
        trud_port: int = 0,
        rate_limit_per_minute: Optional[int] = None,
        retry_after: Optional[float] = None,
        token_ttl_seconds: float = 299.0,
        signed_url_ttl_seconds: float = 3600.0,
        api_key: str = DEMO_API_KEY,
        api_secret: str = DEMO_API_SECRET,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.api_key = api_key
        self.api_secret = api_secret
        self.faults = Faults(
            rate_limit_per_minute=rate_limit_per_minute,
            retry_after=retry_after,
            token_ttl_seconds=token_ttl_seconds,
            signed_url_ttl_seconds=signed_url_ttl_seconds,
        )
        self.request_log = RequestLog()
        self.signer = UrlSigner()
        self._scratch = Path(tempfile.mkdtemp(prefix="os-downloads-replica-"))
        self.inventory = Inventory(self.data_dir, scratch_dir=self._scratch)
        self.credentials = Credentials({api_key: api_secret}, lambda: self.faults.token_ttl_seconds)
        self._reset_hooks: List[Callable[[], None]] = []
        self._planned: List[Tuple[str, Router, int]] = [
            ("api", self._api_router(), api_port),
            (
                "storage",
                build_storage_router(self.inventory, self.signer, self.faults),
                storage_port,
            ),
            ("trud", build_trud_router(self), trud_port),
        ]
        self._origins: Dict[str, OriginServer] = {}

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> ReplicaServer:
        if self._origins:
            return self
        try:
            for name, router, port in self._planned:
                self._start_origin(name, router, port)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for origin in self._origins.values():
            origin.stop()
        self._origins.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def add_origin(self, name: str, router: Router, port: int = 0) -> Optional[str]:
        """Serve ``router`` on its own port; its URL (None until ``start()``)."""
        self._planned.append((name, router, port))
        if self._origins:
            self._start_origin(name, router, port)
            return self.origin_url(name)
        return None

    def _start_origin(self, name: str, router: Router, port: int) -> None:
        origin = OriginServer(name, router, self.host, port, self.request_log)
        origin.start()
        self._origins[name] = origin

    # --- where things are ---------------------------------------------------------------

    def origin_url(self, name: str) -> str:
        if name not in self._origins:
            raise RuntimeError(f"The replica's {name!r} origin is not running; call start().")
        return self._origins[name].url

    @property
    def api_origin(self) -> str:
        return self.origin_url("api")

    @property
    def api_url(self) -> str:
        return self.api_origin + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.api_origin + TOKEN_PATH

    @property
    def storage_origin(self) -> str:
        return self.origin_url("storage")

    @property
    def trud_origin(self) -> str:
        return self.origin_url("trud")

    # --- faults and the request log ------------------------------------------------------

    def set_faults(self, **switches: Any) -> None:
        """Set fault switches by name (see ``replica/server/faults.py``)."""
        self.faults.set(**switches)

    def reset(self) -> None:
        """Default faults, an empty request log, no published content (in any origin)."""
        self.faults.reset()
        self.request_log.clear()
        self.inventory.restore()
        for hook in self._reset_hooks:
            hook()

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Have ``reset()`` call ``hook`` too (an origin undoing its own runtime changes)."""
        self._reset_hooks.append(hook)

    def expire_tokens(self) -> None:
        self.credentials.tokens.expire_all()

    @property
    def requests_log(self) -> List[Entry]:
        return self.request_log.entries()

    def requests(self, origin: Optional[str] = None) -> List[Entry]:
        return self.request_log.entries(origin)

    # --- publishing -----------------------------------------------------------------------

    def publish_package_version(
        self,
        package_id: str,
        reason: str = "UPDATE",
        supply_type: str = "COU",
        files: Optional[Iterable[Union[Path, Tuple[str, Path]]]] = None,
        product_version: Optional[str] = None,
    ) -> PackageVersion:
        """A new newest version; without ``files`` the newest file is copied
        under a distinct name. ``files``: paths, or (fileName, path) pairs."""
        return self.inventory.publish_package_version(
            package_id, reason, supply_type, files, product_version
        )

    def publish_product_version(self, product_id: str, version: str) -> ProductEntry:
        return self.inventory.publish_product_version(product_id, version)

    def warm_checksums(self) -> int:
        """Hash every served file now (the CLI does, so a listing never waits)."""
        files = self.inventory.all_files()
        for stored in files:
            self.inventory.size_and_md5(stored)
        return len(files)

    # --- routers ---------------------------------------------------------------------------

    def _api_router(self) -> Router:
        api = OsApi(
            self.inventory, self.signer, self.faults, self.credentials, lambda: self.storage_origin
        )
        router = api.router()
        router.mount(self.credentials.router())
        router.mount(build_control_router(self))
        return router
