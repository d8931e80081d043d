"""The user's saved QGIS PostgreSQL connections, as a holding's home.

A team keeps its holding in PostGIS; the analyst already has the database as a
saved connection in QGIS (Browser > PostgreSQL), often with its password in the
Authentication Manager (an ``authcfg``), a service file or pgpass. This module
lists those connections (the postgres provider's ``connections()``, there since
QGIS 3.10) and turns one into:

- a libpq conninfo for the core's ``update_holding`` (``conninfo``): host,
  port, dbname, service, sslmode, user, and the password read from the
  Authentication Manager when the connection uses one. The password lives in
  memory only: it is registered with ``core.redact`` and never written to the
  settings, the project, the log or a message;
- a layer data source for QGIS (``layer_uri``): the connection's ``authcfg``
  or service and user, never a plain password, so a saved project holds none.

Only the connection's *name* is ever remembered (``holding_homes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from qgis.core import QgsDataSourceUri, QgsProviderRegistry

from ..core.errors import ConfigurationError
from ..core.holdings.target import PostgisTarget
from ..core.redact import register_secret
from ..i18n import tr
from .auth import has_entry, ready_manager

PROVIDER = "postgres"
CONNECT_TIMEOUT_S = 10  # libpq's connect_timeout: an unreachable host fails in seconds
_SSL_WORDS = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class SavedConnection:
    """A saved connection as QGIS keeps it; the repr never shows a password."""

    name: str
    host: str = ""
    port: str = ""
    database: str = ""
    service: str = ""
    username: str = ""
    sslmode: str = ""  # libpq's word ("disable", "require"...), "" for QGIS's default
    authcfg: str = ""
    saved_password: bool = False  # a plain password in QGIS's settings (not used for layers)

    @property
    def label(self) -> str:
        """ "team (gis on db.example.org:5432)" or "team (service gis)"."""
        if self.service and not self.host:
            where = tr("service {service}").format(service=self.service)
        else:
            server = self.host or "localhost"
            if self.port:
                server += f":{self.port}"
            where = tr("{database} on {server}").format(
                database=self.database or "?", server=server
            )
        return f"{self.name} ({where})"


def _metadata():
    metadata = QgsProviderRegistry.instance().providerMetadata(PROVIDER)
    if metadata is None:
        raise ConfigurationError(
            tr("QGIS's PostgreSQL provider is not available."),
            hint=tr("Install QGIS with its PostgreSQL/PostGIS support."),
        )
    return metadata


def _connections() -> Dict[str, object]:
    """name -> QgsAbstractDatabaseProviderConnection, read afresh from the settings."""
    return dict(_metadata().connections(False))


def _uri_of(connection: object) -> QgsDataSourceUri:
    return QgsDataSourceUri(connection.uri())  # type: ignore[attr-defined]


def _ssl_word(uri: QgsDataSourceUri) -> str:
    word = str(QgsDataSourceUri.encodeSslMode(uri.sslMode()) or "")
    return word if word in _SSL_WORDS and word != "prefer" else ""


def _saved(name: str, uri: QgsDataSourceUri) -> SavedConnection:
    return SavedConnection(
        name=name,
        host=uri.host(),
        port=uri.port(),
        database=uri.database(),
        service=uri.service(),
        username=uri.username(),
        sslmode=_ssl_word(uri),
        authcfg=uri.authConfigId(),
        saved_password=bool(uri.password()),
    )


def saved_connections() -> List[SavedConnection]:
    """Every saved PostgreSQL connection, by name (none: an empty list)."""
    try:
        found = _connections()
    except ConfigurationError:
        return []
    return [_saved(name, _uri_of(found[name])) for name in sorted(found, key=str.casefold)]


def saved_connection(name: str) -> SavedConnection:
    """The connection called ``name``; a clear error when there is none (renamed, removed)."""
    found = _connections()
    if name not in found:
        raise ConfigurationError(
            tr('There is no saved PostgreSQL connection called "{name}".').format(name=name),
            hint=tr("Add it in the Browser (PostgreSQL > New Connection…) or choose another one."),
        )
    return _saved(name, _uri_of(found[name]))


def _quoted(value: str) -> str:
    """A libpq conninfo value: bare when it can be, else in single quotes with ' and \\ escaped."""
    if value and re.fullmatch(r"[A-Za-z0-9_.:/@+-]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_ITEM = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)\s*$")


def _item_word(item: str) -> Optional[Tuple[str, str]]:
    """ "password='a \\'b'" -> ("password", "a 'b"): one libpq word the manager gave."""
    found = _ITEM.match(str(item))
    if not found:
        return None
    value = found.group(2)
    if value.startswith("'") and value.endswith("'") and len(value) > 1:
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return found.group(1), value


def _login(name: str, uri: QgsDataSourceUri) -> List[Tuple[str, str]]:
    """The login words for the core's connection: from the Authentication Manager when the
    connection names an entry (unlocked first: QGIS may ask for its master password) --
    user and password for a Basic entry, the certificate files for a PKI one -- else what
    the connection saved (a password may also come from pgpass or a service file)."""
    authcfg = uri.authConfigId()
    if not authcfg:
        return [("user", uri.username()), ("password", uri.password())]
    if not has_entry(authcfg):
        raise ConfigurationError(
            tr(
                'The PostgreSQL connection "{name}" uses the authentication configuration '
                "{authcfg}, which is not in this QGIS's Authentication Manager."
            ).format(name=name, authcfg=authcfg),
            hint=tr("Edit the connection and choose its authentication again."),
        )
    manager = ready_manager(tr("database password"))
    ok, items = manager.updateDataSourceUriItems([], authcfg, PROVIDER)
    words = [w for w in (_item_word(i) for i in (items if ok else [])) if w and w[1]]
    if not words:
        raise ConfigurationError(
            tr(
                'The login of the PostgreSQL connection "{name}" could not be read from '
                "the Authentication Manager."
            ).format(name=name),
            hint=tr(
                "Check its entry {authcfg} (for example a Basic user name and password)."
            ).format(authcfg=authcfg),
        )
    if not any(key == "user" for key, _ in words):
        words.insert(0, ("user", uri.username()))
    return words


def conninfo(name: str) -> str:
    """ "PG:host=… port=… dbname=… user=… password=…" for the core, from the saved
    connection ``name``. Holds the password: keep it in memory, pass it on, never store
    it (it is registered for redaction here)."""
    found = _connections()
    if name not in found:
        saved_connection(name)  # raises the worded error
    uri = _uri_of(found[name])
    login = _login(name, uri)
    for key, value in login:
        if key == "password":  # masked in every form it may be logged in
            register_secret(value)
            register_secret(_quoted(value))
    given = {key for key, _ in login}
    parts = [
        ("host", uri.host()),
        ("port", uri.port()),
        ("dbname", uri.database()),
        ("service", uri.service()),
        *login,
        ("sslmode", "" if "sslmode" in given else _ssl_word(uri)),
        ("connect_timeout", str(CONNECT_TIMEOUT_S)),
    ]
    return "PG:" + " ".join(f"{key}={_quoted(value)}" for key, value in parts if value)


@dataclass(frozen=True, repr=False)
class SavedConnectionTarget(PostgisTarget):
    """The core's PostGIS target, made from a saved connection: its ``label`` (in every
    message and log line) names the connection as the user knows it, not the conninfo."""

    connection: str = ""

    @property
    def label(self) -> str:
        return tr('PostgreSQL connection "{name}" (schema {schema})').format(
            name=self.connection, schema=self.schema
        )

    def __repr__(self) -> str:  # never the conninfo: it holds the password
        return f"SavedConnectionTarget({self.connection!r}, schema={self.schema!r})"


def holding_target(name: str, schema: str) -> SavedConnectionTarget:
    """What ``update_holding`` and ``holding_status`` take for a holding in ``schema``
    through the saved connection ``name`` (main thread: may read the Authentication
    Manager). Holds the password in memory: never store it."""
    info = conninfo(name)
    return SavedConnectionTarget(info[3:], schema, connection=name)


def connection_uri(name: str) -> QgsDataSourceUri:
    """The saved connection ``name`` as QGIS keeps it (authcfg not expanded): what layer
    sources are built from (``table_uri``); read on the main thread, used anywhere."""
    found = _connections()
    if name not in found:
        saved_connection(name)
    return _uri_of(found[name])


def layer_uri(name: str, schema: str, table: str, geometry: Optional[str] = "geom") -> str:
    """The data source of one holding table as a QGIS layer (postgres provider, key ``fid``,
    ``geometry`` column in EPSG:27700, or None for a table without geometry). It names the
    connection's authcfg or service and user, never a password."""
    return table_uri(connection_uri(name), schema, table, geometry)


def table_uri(
    connection: QgsDataSourceUri, schema: str, table: str, geometry: Optional[str] = "geom"
) -> str:
    uri = QgsDataSourceUri(connection.connectionInfo(False))  # authcfg kept, not expanded
    uri.setPassword("")
    if uri.authConfigId():
        uri.setUsername("")  # the entry gives it
    uri.setDataSource(schema, table, geometry or "", "", "fid")
    # fid is the table's primary key: QGIS need not count the table to check it is unique.
    uri.setParam("checkPrimaryKeyUnicity", "0")
    if geometry:
        uri.setSrid("27700")
    return uri.uri(False)


def password_free(source: str) -> bool:
    """Whether a layer's data source holds no password (what a saved project would keep)."""
    return not QgsDataSourceUri(source).password()
