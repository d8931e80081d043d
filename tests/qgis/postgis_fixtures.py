"""Saved QGIS PostgreSQL connections to the test server, and a role with a real password.

The test server trusts ``osd_test`` on 127.0.0.1; ``password_role`` adds a role
whose password the server really checks (a ``scram-sha-256`` line for it alone,
put first in ``pg_hba.conf``), so the Authentication Manager path is tested
against a server that would refuse a wrong password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Dict, List

import pytest
from qgis.core import QgsAuthMethodConfig, QgsDataSourceUri, QgsProviderRegistry

ROLE_PASSWORD = "s3cret 'team' pw"  # a space and quotes: conninfo quoting is exercised
PASSWORD_MARK = "s3cret"  # in the password however it is quoted or escaped


@dataclass(frozen=True)
class PasswordRole:
    name: str
    password: str
    database: str
    mark: str = PASSWORD_MARK  # what must never be found in a file, a log line or a message


def _database_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


@pytest.fixture
def password_role(postgres_cluster, postgis_database) -> PasswordRole:
    """A role that must give its password, owning a fresh PostGIS database."""
    database = _database_of(postgis_database)
    name = f"osd_team_{os.getpid()}_{database.rsplit('_', 1)[-1]}"
    quoted = ROLE_PASSWORD.replace("'", "''")
    postgres_cluster.sql("postgres", f"CREATE ROLE {name} LOGIN PASSWORD '{quoted}'")
    postgres_cluster.sql("postgres", f"ALTER DATABASE {database} OWNER TO {name}")
    postgres_cluster.sql(database, f"GRANT ALL ON SCHEMA public TO {name}")
    hba = postgres_cluster.data / "pg_hba.conf"
    rule = f"host all {name} 127.0.0.1/32 scram-sha-256\n"
    hba.write_text(rule + hba.read_text())
    postgres_cluster.sql("postgres", "SELECT pg_reload_conf()")
    return PasswordRole(name, ROLE_PASSWORD, database)


@pytest.fixture
def save_connection(qgis_app) -> Callable[..., str]:
    """``save_connection(name, **uri parts)`` saves a PostgreSQL connection the way QGIS's
    Browser does; every one saved is removed after the test."""
    metadata = QgsProviderRegistry.instance().providerMetadata("postgres")
    saved: List[str] = []

    def save(name: str, **parts: str) -> str:
        uri = QgsDataSourceUri()
        login = (
            parts.get("database", ""),
            parts.get("username", ""),
            parts.get("password", ""),
            QgsDataSourceUri.SslMode.SslDisable,
            parts.get("authcfg", ""),
        )
        if parts.get("service"):  # the service file gives host, port and the rest
            uri.setConnection(parts["service"], *login)
        else:
            uri.setConnection(parts.get("host", ""), parts.get("port", ""), *login)
        configuration = {
            "saveUsername": bool(parts.get("username")),
            "savePassword": bool(parts.get("password")),
        }
        connection = metadata.createConnection(uri.uri(False), configuration)
        metadata.saveConnection(connection, name)
        saved.append(name)
        return name

    yield save
    for name in saved:
        metadata.deleteConnection(name)


@pytest.fixture
def basic_auth_entry(master_password) -> Callable[[str, str], str]:
    """``basic_auth_entry(user, password)`` -> the id of a Basic entry; removed after."""
    from qgis.core import QgsApplication

    manager = QgsApplication.authManager()
    made: List[str] = []

    def store(user: str, password: str) -> str:
        config = QgsAuthMethodConfig("Basic")
        config.setName(f"PostGIS {user}")
        config.setConfig("username", user)
        config.setConfig("password", password)
        result = manager.storeAuthenticationConfig(config)
        ok, config = result if isinstance(result, tuple) else (bool(result), config)
        assert ok and config.id()
        made.append(config.id())
        return config.id()

    yield store
    for authcfg in made:
        manager.removeAuthenticationConfig(authcfg)


def server_parts(cluster, database: str) -> Dict[str, str]:
    return {"host": "127.0.0.1", "port": str(cluster.port), "database": database}
