"""Where ``--into`` puts a holding: ``parse_target`` and the labels people see (no password)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from os_downloads.core.errors import ConfigurationError
from os_downloads.core.holdings.target import (
    GeoPackageTarget,
    PostgisTarget,
    parse_target,
    safe_conninfo,
)

PYTHONPATH = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"


def test_files_urls_services_and_libpq_words():
    assert parse_target("exeter.gpkg") == GeoPackageTarget(Path("exeter.gpkg"))
    assert parse_target(Path("x/y.GPKG")) == GeoPackageTarget(Path("x/y.GPKG"))
    url = parse_target("postgresql://gis@db.example:5433/gis", "topo")
    assert url == PostgisTarget("postgresql://gis@db.example:5433/gis", "topo")
    assert url.label == "postgresql://gis@db.example:5433/gis (schema topo)"
    assert parse_target("postgres://gis@db/gis").schema == "public"
    assert parse_target("PG:service=gis") == PostgisTarget("service=gis", "public")
    words = parse_target("PG:dbname=gis host=db user='a b'")
    assert words.label == "PG:dbname=gis host=db user=a b (schema public)"


def test_a_password_is_never_in_a_label():
    secret = "s3cr3t-Pw"  # pragma: allowlist secret
    for given in (
        f"postgresql://gis:{secret}@db.example/gis",
        f"postgresql://gis@db.example/gis?password={secret}&sslmode=require",
        f"PG:dbname=gis password={secret} host=db",
        f"PG:dbname=gis password='{secret}' host=db",
    ):
        target = parse_target(given)
        assert secret not in target.label, target.label
        assert "db" in target.label
    assert safe_conninfo("postgresql://u:p@h:1/d") == "postgresql://u@h:1/d"


@pytest.mark.parametrize(
    "into, schema, words",
    [
        ("exeter.txt", "", "a holding is a GeoPackage"),
        ("exeter.gpkg", "topo", "a schema is for a PostgreSQL holding"),
        ("PG:", "", "names no database"),
        ("PG:dbname", "", "not libpq connection words"),
        ("postgresql://h/d", "x" * 64, "not a PostgreSQL schema name"),
    ],
)
def test_bad_targets_are_refused_in_words(into, schema, words):
    with pytest.raises(ConfigurationError, match=words):
        parse_target(into, schema)


def test_without_psycopg2_a_postgis_holding_says_what_to_install(tmp_path):
    probe = (
        "import sys; sys.modules['psycopg2'] = None\n"
        "from os_downloads.core.holdings.target import open_holding\n"
        "from os_downloads.core.errors import describe\n"
        "try:\n"
        "    open_holding('postgresql://u@127.0.0.1:1/d')\n"
        "except Exception as err:\n"
        "    print(type(err).__name__, describe(err))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(PYTHONPATH), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "ConfigurationError" in done.stdout and "python3-psycopg2" in done.stdout, done
