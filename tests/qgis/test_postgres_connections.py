"""Saved QGIS PostgreSQL connections: listed, turned into a conninfo with the password from
the Authentication Manager (in memory only), and into layer sources without a password."""

from __future__ import annotations

import psycopg2
import pytest
from postgis_fixtures import server_parts
from qgis.core import QgsProject, QgsSettings, QgsVectorLayer

from os_downloads.core.errors import ConfigurationError, describe
from os_downloads.core.redact import redact
from os_downloads.integration import postgres_connections as pg


def _connect(info: str):
    assert info.startswith("PG:")
    return psycopg2.connect(info[3:])


def _all_settings_text() -> str:
    settings = QgsSettings()
    return "\n".join(f"{k}={settings.value(k)}" for k in settings.allKeys())


def test_a_saved_connection_is_listed_with_its_server(
    save_connection, postgres_cluster, postgis_database
) -> None:
    database = postgis_database.rsplit("/", 1)[-1]
    save_connection("OSD team", username="osd_test", **server_parts(postgres_cluster, database))
    listed = {c.name: c for c in pg.saved_connections()}
    assert "OSD team" in listed
    team = listed["OSD team"]
    assert (team.host, team.port, team.database) == (
        "127.0.0.1",
        str(postgres_cluster.port),
        database,
    )
    assert team.label == f"OSD team ({database} on 127.0.0.1:{postgres_cluster.port})"
    assert not team.authcfg and not team.saved_password
    with _connect(pg.conninfo("OSD team")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        assert cursor.fetchone() == ("osd_test", database)


def test_conninfo_takes_the_password_from_the_auth_manager_and_nothing_keeps_it(
    save_connection, basic_auth_entry, password_role, postgres_cluster
) -> None:
    authcfg = basic_auth_entry(password_role.name, password_role.password)
    save_connection(
        "OSD secure", authcfg=authcfg, **server_parts(postgres_cluster, password_role.database)
    )
    saved = pg.saved_connection("OSD secure")
    assert saved.authcfg == authcfg and not saved.username and not saved.saved_password

    info = pg.conninfo("OSD secure")
    with _connect(info) as conn, conn.cursor() as cursor:  # the server checks the password
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (password_role.name,)
        cursor.execute("CREATE TABLE public.demo (fid serial PRIMARY KEY, name text)")
        cursor.execute("INSERT INTO public.demo (name) VALUES ('one'), ('two')")
    # A wrong password really is refused by this server.
    wrong = info.replace("pw'", "nope'")
    assert wrong != info
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(wrong)

    assert password_role.mark not in redact(f"connecting with {info}")
    assert password_role.mark not in _all_settings_text()
    uri = pg.layer_uri("OSD secure", "public", "demo", geometry=None)
    assert password_role.mark not in uri and f"authcfg={authcfg}" in uri
    assert "password" not in uri
    layer = QgsVectorLayer(uri, "demo", "postgres")
    assert layer.isValid() and layer.featureCount() == 2  # QGIS reads the entry itself
    project = QgsProject.instance()
    project.addMapLayer(layer)
    try:
        assert password_role.mark not in layer.source()
        assert pg.password_free(layer.source())
    finally:
        project.removeMapLayer(layer.id())


def test_a_connection_that_does_not_exist_or_lost_its_entry_is_worded(
    save_connection, postgres_cluster, postgis_database
) -> None:
    with pytest.raises(ConfigurationError) as missing:
        pg.conninfo("No such connection")
    assert 'no saved PostgreSQL connection called "No such connection"' in describe(missing.value)
    database = postgis_database.rsplit("/", 1)[-1]
    save_connection("OSD lost", authcfg="zzzzzzz", **server_parts(postgres_cluster, database))
    with pytest.raises(ConfigurationError) as lost:
        pg.conninfo("OSD lost")
    assert "zzzzzzz, which is not in this QGIS's Authentication Manager" in describe(lost.value)


def test_a_connection_through_a_service_file_keeps_the_service_in_its_layers(
    save_connection, postgres_cluster, postgis_database, tmp_path, monkeypatch
) -> None:
    database = postgis_database.rsplit("/", 1)[-1]
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[osd_team]\nhost=127.0.0.1\nport={postgres_cluster.port}\n"
        f"dbname={database}\nuser=osd_test\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    save_connection("OSD service", service="osd_team")
    saved = pg.saved_connection("OSD service")
    assert saved.service == "osd_team" and saved.label == "OSD service (service osd_team)"
    info = pg.conninfo("OSD service")
    assert "service=osd_team" in info and "password" not in info
    with _connect(info) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE public.demo (fid serial PRIMARY KEY, name text)")
        cursor.execute("INSERT INTO public.demo (name) VALUES ('one')")
    uri = pg.layer_uri("OSD service", "public", "demo", geometry=None)
    assert "service='osd_team'" in uri and "password" not in uri and "host" not in uri
    layer = QgsVectorLayer(uri, "demo", "postgres")
    assert layer.isValid() and layer.featureCount() == 1
