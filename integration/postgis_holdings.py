"""A PostGIS holding's tables as QGIS layers: planned in the worker, refreshed in place.

``postgis_sources`` (worker thread) asks the core which tables are the
holding's data tables (``open_holding(target).data_tables()``, the metadata
tables left out) and QGIS's PostgreSQL connection which of them have a
geometry and of what type, and returns one ``LayerSource`` per table for
``layers.add_layers``: postgres provider, key column ``fid``, geometry column
``geom`` in EPSG:27700, the saved connection's authcfg or service in the
data source and never a password (``postgres_connections.table_uri``).

``refresh_postgis_layers`` reloads the project's layers of that schema after an
update, so the map shows the committed state (readers saw the previous state
until the commit).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from qgis.core import (
    QgsDataSourceUri,
    QgsProject,
    QgsProviderRegistry,
    QgsVectorLayer,
    QgsWkbTypes,
)

from ..core.errors import describe
from ..i18n import tr
from .layer_sources import DEFAULT_CRS, TABLE, VECTOR, LayerSource
from .postgres_connections import PROVIDER, table_uri

METADATA_TABLES = ("os_holding", "os_holding_versions")


def _geometry_of_tables(connection: QgsDataSourceUri, schema: str) -> Dict[str, Tuple[str, int]]:
    """table -> (geometry column, wkb type) for the schema's spatial tables."""
    metadata = QgsProviderRegistry.instance().providerMetadata(PROVIDER)
    db = metadata.createConnection(connection.uri(False), {})
    found: Dict[str, Tuple[str, int]] = {}
    for table in db.tables(schema):
        column = table.geometryColumn()
        if not column:
            continue
        types = table.geometryColumnTypes()
        wkb = types[0].wkbType if len(types) == 1 else QgsWkbTypes.Type.Unknown
        found[table.tableName()] = (column, wkb)
    return found


def data_tables(target: Any) -> List[str]:
    """The holding's data tables, from the core (its metadata tables are not data)."""
    from ..core.holdings.target import open_holding

    with open_holding(target) as holding:
        return [t for t in holding.data_tables() if t not in METADATA_TABLES]


def postgis_sources(target: Any, connection: QgsDataSourceUri) -> List[LayerSource]:
    """Worker thread: one layer source per data table of the holding at ``target`` (a
    ``postgres_connections.holding_target``), read through the saved ``connection``."""
    schema = target.schema
    tables = data_tables(target)
    geometry = _geometry_of_tables(connection, schema)
    sources = []
    for table in tables:
        column, wkb = geometry.get(table, ("", QgsWkbTypes.Type.Unknown))
        uri = QgsDataSourceUri(table_uri(connection, schema, table, column or None))
        if column and wkb not in (QgsWkbTypes.Type.Unknown, QgsWkbTypes.Type.NoGeometry):
            uri.setWkbType(wkb)  # QGIS need not scan the table for its geometry types
        sources.append(
            LayerSource(
                name=table,
                uri=uri.uri(False),
                provider=PROVIDER,
                kind=VECTOR if column else TABLE,
                crs=DEFAULT_CRS,
                origin=f"{schema}.{table}",
            )
        )
    return sources


def _same_database(a: QgsDataSourceUri, b: QgsDataSourceUri) -> bool:
    if a.service() or b.service():
        return a.service() == b.service() and a.database() == b.database()
    return (a.host() or "localhost", a.port() or "5432", a.database()) == (
        b.host() or "localhost",
        b.port() or "5432",
        b.database(),
    )


def postgis_layers(
    connection: QgsDataSourceUri, schema: str, project: Optional[QgsProject] = None
) -> List[QgsVectorLayer]:
    """The project's layers that read tables of ``schema`` through that database."""
    project = project or QgsProject.instance()
    found = []
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != PROVIDER:
            continue
        uri = QgsDataSourceUri(layer.source())
        if uri.schema() == schema and _same_database(uri, connection):
            found.append(layer)
    return found


def refresh_postgis_layers(
    connection: QgsDataSourceUri, schema: str, project: Optional[QgsProject] = None
) -> List[QgsVectorLayer]:
    """Reload those layers in place; the layers reloaded."""
    layers = postgis_layers(connection, schema, project)
    for layer in layers:
        layer.dataProvider().reloadData()
        layer.reload()
        layer.updateExtents()
        layer.triggerRepaint()
    return layers


def postgis_error_text(error: BaseException) -> str:
    """``describe(error)``, but a refused connection gets QGIS's way out (the saved
    connection and its Authentication Manager entry) instead of the command line's."""
    from ..core.holdings.store import StoreFailure

    if isinstance(error, StoreFailure) and error.message.startswith("Cannot connect"):
        hint = tr(
            "Check the connection in the Browser panel (PostgreSQL, right-click > Edit "
            "Connection…) and its login in the Authentication Manager, then try again."
        )
        return describe(type(error)(error.message, hint=hint))
    return describe(error)
