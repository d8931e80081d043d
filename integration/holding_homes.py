"""Where each data package's holding is kept, remembered per package.

A holding's home is a GeoPackage file, or a schema in a PostGIS database
reached through one of the user's saved QGIS PostgreSQL connections. The
settings keep only the file's path, or the connection's *name* and the schema:
never a host's password (that stays in the Authentication Manager, a service
file or pgpass, wherever the connection finds it).

- ``os_downloads/holdings/<package>``: the GeoPackage's path;
- ``os_downloads/holdings_postgis/<package>/connection``, ``.../schema`` and
  ``.../name`` (the package's name, shown while the database cannot be reached).

Remembering one home for a package forgets the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from qgis.core import QgsSettings

from ..i18n import tr

SETTINGS_KEY = "os_downloads/holdings/{package}"  # a GeoPackage's path
POSTGIS_GROUP = "os_downloads/holdings_postgis"
POSTGIS_KEY = POSTGIS_GROUP + "/{package}"
MAX_SCHEMA_LENGTH = 63  # PostgreSQL's identifier limit


@dataclass(frozen=True)
class HoldingHome:
    """A GeoPackage (``path``) or a PostGIS schema through a saved connection."""

    path: str = ""
    connection: str = ""  # the saved QGIS PostgreSQL connection's name
    schema: str = ""
    package_name: str = field(default="", compare=False)  # for lists when the database is away

    @classmethod
    def geopackage(cls, path: str) -> HoldingHome:
        return cls(path=str(path))

    @classmethod
    def postgis(cls, connection: str, schema: str, package_name: str = "") -> HoldingHome:
        return cls(connection=connection, schema=schema, package_name=package_name)

    @property
    def is_postgis(self) -> bool:
        return bool(self.connection)

    @property
    def label(self) -> str:
        """What the user reads: "exeter.gpkg" or "schema exeter_topography in OSD team"."""
        if self.is_postgis:
            return tr("schema {schema} in {connection}").format(
                schema=self.schema, connection=self.connection
            )
        return Path(self.path).name


def default_schema(package_id: str, package_name: str = "") -> str:
    """A schema name from the package's name ("Exeter Topography (COU)" ->
    "exeter_topography_cou"): lower case letters, digits and _, at most 63."""
    words = re.sub(r"[^a-z0-9]+", "_", (package_name or "").casefold()).strip("_")
    if not words or not words[0].isalpha():
        words = f"os_{package_id}" if not words else f"os_{words}"
    return words[:MAX_SCHEMA_LENGTH].rstrip("_")


def is_valid_schema(schema: str) -> bool:
    """A plain PostgreSQL identifier (no quoting needed): what the dock accepts."""
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema or ""))


def remembered_home(package_id: str) -> Optional[HoldingHome]:
    """The home chosen for ``package_id``, or None when none was chosen yet."""
    settings = QgsSettings()
    key = POSTGIS_KEY.format(package=package_id)
    connection = str(settings.value(f"{key}/connection", "") or "")
    if connection:
        return HoldingHome.postgis(
            connection,
            str(settings.value(f"{key}/schema", "") or ""),
            str(settings.value(f"{key}/name", "") or ""),
        )
    path = remembered_path(package_id)
    return HoldingHome.geopackage(path) if path else None


def remember_home(package_id: str, home: HoldingHome) -> None:
    """Keep ``home`` for the package (and forget the other kind of home)."""
    settings = QgsSettings()
    postgis = POSTGIS_KEY.format(package=package_id)
    if home.is_postgis:
        settings.remove(SETTINGS_KEY.format(package=package_id))
        settings.setValue(f"{postgis}/connection", home.connection)
        settings.setValue(f"{postgis}/schema", home.schema)
        settings.setValue(f"{postgis}/name", home.package_name)
    else:
        settings.remove(postgis)
        settings.setValue(SETTINGS_KEY.format(package=package_id), str(home.path))


def forget_home(package_id: str) -> None:
    settings = QgsSettings()
    settings.remove(SETTINGS_KEY.format(package=package_id))
    settings.remove(POSTGIS_KEY.format(package=package_id))


def remembered_postgis_homes() -> Dict[str, HoldingHome]:
    """package id -> its PostGIS home, for every package kept in PostGIS."""
    settings = QgsSettings()
    settings.beginGroup(POSTGIS_GROUP)
    try:
        packages = settings.childGroups()
    finally:
        settings.endGroup()
    homes = {}
    for package in packages:
        home = remembered_home(package)
        if home is not None and home.is_postgis:
            homes[package] = home
    return homes


# --- GeoPackage homes (the names the rest of the plugin used before PostGIS) ----------


def remembered_path(package_id: str) -> str:
    return str(QgsSettings().value(SETTINGS_KEY.format(package=package_id), "") or "")


def remembered_paths() -> List[str]:
    """Every GeoPackage holding path remembered, whichever package."""
    settings = QgsSettings()
    settings.beginGroup(SETTINGS_KEY.split("/{", 1)[0])
    try:
        keys = settings.childKeys()
        return [p for p in (str(settings.value(k, "") or "") for k in keys) if p]
    finally:
        settings.endGroup()


def remember_path(package_id: str, path: str) -> None:
    remember_home(package_id, HoldingHome.geopackage(path))
