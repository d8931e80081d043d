"""Where a holding lives: a GeoPackage file or a schema of a PostgreSQL + PostGIS database.

``parse_target(into, schema="")`` reads what a user gives ``--into``:

- ``x.gpkg`` or a ``Path`` -> ``GeoPackageTarget(path)``;
- ``postgresql://user@host:5432/db`` (or ``postgres://``) -> ``PostgisTarget``;
- ``PG:service=name`` or ``PG:dbname=db host=h user=u`` (GDAL's form: libpq
  ``key=value`` words after ``PG:``) -> ``PostgisTarget``, in ``schema`` (default
  ``public``).

Passwords belong in ``~/.pgpass`` or a service file, not on the command line;
one given anyway is registered as a secret (``core.redact``) and never in
``label``. ``open_holding(target)`` opens the holding (``holding.Holding``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Tuple, Union
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import ConfigurationError
from ..redact import register_secret

DEFAULT_SCHEMA = "public"
_URL_SCHEMES = ("postgresql://", "postgres://")
_WORD = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


class HoldingTarget:
    """Where a holding lives; ``label`` is for people, logs and reports."""

    @property
    def label(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class GeoPackageTarget(HoldingTarget):
    path: Path

    @property
    def label(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class PostgisTarget(HoldingTarget):
    conninfo: str  # a postgresql:// URL or libpq key=value words, as given
    schema: str = DEFAULT_SCHEMA

    @property
    def label(self) -> str:
        return f"{safe_conninfo(self.conninfo)} (schema {self.schema})"


def conninfo_words(conninfo: str) -> List[Tuple[str, str]]:
    """libpq ``key=value`` words, quotes removed (``password='a b'`` -> ("password", "a b"))."""
    words = []
    at = 0
    text = conninfo.strip()
    while at < len(text):
        found = _WORD.match(text, at)
        if not found or found.end() == at:
            raise ConfigurationError(
                "PG:…: not libpq connection words (key=value ...).",
                hint="Write PG:service=NAME, or PG:dbname=DB host=HOST user=USER.",
            )
        value = found.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        words.append((found.group(1).lower(), value))
        at = found.end()
        while at < len(text) and text[at].isspace():
            at += 1
    return words


def safe_conninfo(conninfo: str) -> str:
    """The connection for people: everything but the password."""
    if conninfo.lower().startswith(_URL_SCHEMES):
        parts = urlsplit(conninfo)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        query = "&".join(q for q in parts.query.split("&") if not q.startswith("password="))
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    try:
        words = conninfo_words(conninfo)
    except ConfigurationError:
        return "(connection words)"
    return "PG:" + " ".join(f"{k}={v}" for k, v in words if k != "password")


def _register_password(conninfo: str) -> None:
    if conninfo.lower().startswith(_URL_SCHEMES):
        parts = urlsplit(conninfo)
        if parts.password:
            register_secret(unquote(parts.password))
            register_secret(parts.password)
        for item in parts.query.split("&"):
            if item.startswith("password="):
                register_secret(unquote(item.split("=", 1)[1]))
        return
    for key, value in conninfo_words(conninfo):
        if key == "password" and value:
            register_secret(value)


def parse_target(into: Union[str, Path, HoldingTarget], schema: str = "") -> HoldingTarget:
    """What ``--into`` names (see the module docstring); bad input -> ConfigurationError."""
    if isinstance(into, HoldingTarget):
        if schema and isinstance(into, PostgisTarget) and schema != into.schema:
            return PostgisTarget(into.conninfo, schema)
        return into
    if isinstance(into, Path):
        if schema:
            raise ConfigurationError(f"--schema {schema}: a schema is for a PostgreSQL holding.")
        return GeoPackageTarget(into)
    text = str(into).strip()
    lowered = text.lower()
    if lowered.startswith(_URL_SCHEMES) or lowered.startswith("pg:"):
        conninfo = text if lowered.startswith(_URL_SCHEMES) else text[3:].strip()
        if not conninfo:
            raise ConfigurationError("PG: names no database.", hint="Write PG:service=NAME.")
        _register_password(conninfo)
        return PostgisTarget(conninfo, _schema(schema or DEFAULT_SCHEMA))
    if schema:
        raise ConfigurationError(
            f"--schema {schema}: a schema is for a PostgreSQL holding, not {text}."
        )
    path = Path(text).expanduser()
    if path.suffix.lower() != ".gpkg":
        raise ConfigurationError(
            f"{text}: a holding is a GeoPackage (give a .gpkg file name) or a PostgreSQL "
            "database (postgresql://… or PG:service=NAME)."
        )
    return GeoPackageTarget(path)


def holding_in_config(holding: str, schema: str, where: str) -> str:
    """A sync entry's ``holding`` (+ ``schema``) checked: its label. A password in a
    config file is refused (it belongs in ~/.pgpass or a service file)."""
    try:
        target = parse_target(holding, schema)
    except ConfigurationError as err:
        raise ConfigurationError(f"{where}: {err}") from None
    if isinstance(target, PostgisTarget) and _has_password(target.conninfo):
        raise ConfigurationError(
            f"{where}: holding {safe_conninfo(target.conninfo)} carries a password; keep it in "
            "~/.pgpass or a PostgreSQL service file (PG:service=NAME), not in the config."
        )
    return target.label


def _has_password(conninfo: str) -> bool:
    if conninfo.lower().startswith(_URL_SCHEMES):
        parts = urlsplit(conninfo)
        return bool(parts.password) or "password=" in parts.query
    return any(k == "password" for k, _ in conninfo_words(conninfo))


def _schema(name: str) -> str:
    if len(name) > 63 or "\x00" in name or not name.strip():
        raise ConfigurationError(f"--schema {name!r}: not a PostgreSQL schema name.")
    return name


def open_holding(target: Any, *, create: bool = False) -> Any:
    """The open ``Holding`` at ``target`` (a context manager); with ``create``, a
    missing GeoPackage or schema becomes an empty holding."""
    from .holding import Holding

    return Holding.at(parse_target(target), create=create)
