"""Holdings among "My downloads": GeoPackage files and remembered PostGIS schemas.

Each holding is read through the core's ``holding_status`` (with a client, what
it still lacks is asked of the API). A PostGIS holding that cannot be read (the
database refused, its connection is gone) is still listed, with why.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from ..sources.updates import UpdateCheck
from .inventory import STATE_CURRENT, STATE_PENDING, STATE_UNCHECKED, LocalDownload

STATE_UNREACHABLE = "not reachable"

SOURCE_HOLDING = "holding"


@dataclass
class LocalHolding:
    """One holding (a GeoPackage, or a schema in PostGIS: ``connection`` and ``schema``):
    its package, newest applied version and, when an update check ran, how many
    change-only updates it still lacks (``pending`` None: unchecked). ``problem``: why a
    PostGIS holding could not be read (the database refused, the connection is gone)."""

    path: Path
    package_id: str
    package_name: str
    product: str
    version: str = ""
    when: str = ""  # when the newest version was applied
    size_on_disk: int = 0
    versions: int = 0
    pending: Optional[List[str]] = None
    pending_error: str = ""
    missing: List[str] = field(default_factory=list)
    modified: List[str] = field(default_factory=list)
    update: Optional[UpdateCheck] = None
    source: str = SOURCE_HOLDING
    kind: str = "holding"
    area: str = ""
    verified: bool = False
    connection: str = ""  # the saved QGIS PostgreSQL connection's name (PostGIS only)
    schema: str = ""
    problem: str = ""

    @property
    def is_postgis(self) -> bool:
        return bool(self.connection)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def location(self) -> Union[Path, str]:
        """What identifies the row: the GeoPackage, or "postgresql:<connection>/<schema>"."""
        if self.is_postgis:
            return f"postgresql:{self.connection}/{self.schema}"
        return self.path

    @property
    def title(self) -> str:
        return self.package_name or self.package_id

    @property
    def state(self) -> str:
        if self.problem:
            return STATE_UNREACHABLE
        if self.pending is None:
            return STATE_UNCHECKED
        if self.pending:
            return f"{len(self.pending)} {STATE_PENDING}"
        return STATE_CURRENT

    def to_json(self) -> Dict[str, Any]:
        where: Dict[str, Any] = {"holding": str(self.path)}
        if self.is_postgis:  # the connection's name, never its conninfo
            where = {"connection": self.connection, "schema": self.schema}
        return {
            **where,
            "source": self.source,
            "id": self.package_id,
            "name": self.title,
            "product": self.product,
            "version": self.version,
            "applied_at": self.when,
            "versions": self.versions,
            "size_on_disk": self.size_on_disk,
            "pending": self.pending,
            "state": self.state,
            **({"problem": self.problem} if self.problem else {}),
        }


@dataclass(frozen=True)
class PostgisHome:
    """A remembered PostGIS holding to list: ``into`` is the conninfo the core opens
    (it may hold a password: never shown, logged or kept); ``problem`` says why it
    could not be made (then the holding is listed as not reachable)."""

    package_id: str
    connection: str
    schema: str
    package_name: str = ""  # as remembered: the title while the database cannot be read
    into: Any = field(default="", repr=False)  # a conninfo or the core's HoldingTarget
    problem: str = ""


Listed = Union[LocalDownload, LocalHolding]


def is_holding_file(path: Path) -> bool:
    """A GeoPackage with our ``os_holding`` table (read-only look, closed at once)."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='os_holding'"
        ).fetchone()
        return row is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def list_holdings(
    roots: Iterable[Path], remembered: Iterable[Path] = (), *, client: Any = None
) -> List[LocalHolding]:
    """Every holding under ``roots`` plus the ``remembered`` paths, newest applied first;
    with ``client``, what each still lacks is asked of the API."""
    from ..holdings.status import holding_status  # on demand: the holdings code is big

    candidates: List[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_dir():
            candidates += sorted(root.rglob("*.gpkg"))
    candidates += [Path(p) for p in remembered if p]
    found: List[LocalHolding] = []
    seen = set()
    for path in candidates:
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if resolved in seen or not resolved.is_file() or not is_holding_file(resolved):
            continue
        seen.add(resolved)
        status = holding_status(resolved, client)
        if status.info is None:
            continue
        newest = status.versions[-1] if status.versions else None
        found.append(
            LocalHolding(
                resolved,
                status.info.package_id,
                status.info.package_name,
                status.info.product_name or status.info.product_id,
                version=newest.version_id if newest else "",
                when=newest.applied_at if newest else "",
                size_on_disk=resolved.stat().st_size,
                versions=len(status.versions),
                pending=list(status.pending) if status.checked else None,
                pending_error=status.pending_error,
            )
        )
    found.sort(key=lambda h: h.when, reverse=True)
    return found


def list_postgis_holdings(
    homes: Iterable[PostgisHome],
    *,
    client: Any = None,
    words: Optional[Callable[[BaseException], str]] = None,
) -> List[LocalHolding]:
    """The remembered PostGIS holdings, each read from its database (with ``client``: what
    it still lacks). One that cannot be read is listed with why (``problem``, worded by
    ``words``, default ``errors.describe``); a schema that holds no holding yet (its
    first update never finished) is left out."""
    from ..errors import describe
    from ..holdings.errors import NotAHoldingError
    from ..holdings.status import holding_status  # on demand: the holdings code is big

    found: List[LocalHolding] = []
    for home in homes:
        row = LocalHolding(
            Path(),
            home.package_id,
            home.package_name,
            "",
            kind="PostGIS holding",
            connection=home.connection,
            schema=home.schema,
            problem=home.problem,
        )
        if not row.problem:
            try:
                status = holding_status(home.into, client, schema=home.schema)
            except NotAHoldingError:
                continue  # chosen, but its first update never finished
            except Exception as err:  # noqa: BLE001 - a database not read is listed, with why
                row.problem = (words or describe)(err)
            else:
                if status.info is None:
                    continue
                newest = status.versions[-1] if status.versions else None
                row.package_name = status.info.package_name
                row.product = status.info.product_name or status.info.product_id
                row.version = newest.version_id if newest else ""
                row.when = newest.applied_at if newest else ""
                row.versions = len(status.versions)
                row.pending = list(status.pending) if status.checked else None
                row.pending_error = status.pending_error
        found.append(row)
    found.sort(key=lambda h: h.when, reverse=True)
    return found
