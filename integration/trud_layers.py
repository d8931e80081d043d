"""TRUD tables into QGIS, and onto the map by postcode.

``load_release_tables`` adds a release's CSV tables as non-spatial layers in a
group named after the item and release. Headerless ODS files get their
standard column names as field aliases (the file itself is left as TRUD sent
it, its SHA-256 intact).

``place_by_postcode`` is what an analyst wants from "join to Code-Point
Open": a point layer. It looks up each row's normalised postcode in a loaded
postcode point layer and writes a new GeoPackage layer beside the table: every
row with its own columns (named properly), the postcode layer's attributes
(``pc_`` prefix) and a ``postcode_matched`` flag; unmatched rows are kept
without geometry, so counts add up and nothing silently disappears. Postcode
formats differ between sources ("SO166YD" and "E1  6AN" in Code-Point Open,
"SO16 6YD" in ODS), so the lookup asks the postcode layer for every written
form of the wanted postcodes (a filter the GeoPackage/OGR provider runs as
SQL) and matches on the normalised form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple
from urllib.parse import quote

from qgis.core import (
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsLayerTreeGroup,
    QgsProject,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.errors import ConfigurationError
from ..core.trud_tables import TableInfo, normalise_postcode
from ..i18n import tr

MATCH_FIELD = "postcode_matched"
PREFIX = "pc_"
_CHUNK = 400  # postcodes per lookup request (x3 written forms)


@dataclass(frozen=True)
class LoadedTable:
    layer: QgsVectorLayer
    table: TableInfo

    @property
    def postcode_field(self) -> Optional[str]:
        """The layer's field holding postcodes (``field_10`` for a headerless ODS file)."""
        index = self.table.postcode_index
        if index is None or index >= self.layer.fields().count():
            return None
        return self.layer.fields().at(index).name()


@dataclass(frozen=True)
class Placement:
    layer: QgsVectorLayer
    matched: int
    unmatched: int
    path: Optional[Path]  # the GeoPackage written, None for a memory layer

    @property
    def summary(self) -> str:
        total = self.matched + self.unmatched
        return tr(
            "{matched} of {total} rows placed by postcode; {unmatched} without a match."
        ).format(matched=self.matched, total=total, unmatched=self.unmatched)


def group_name(item: int, release_name: str, release_date: str) -> str:
    """E.g. "NHS TRUD 58: Release 5.2.0 (2025-05-08)"."""
    when = f" ({release_date})" if release_date else ""
    return tr("NHS TRUD {item}: {release}{when}").format(item=item, release=release_name, when=when)


def table_uri(table: TableInfo) -> str:
    """A delimited-text URI: headerless ODS files keep every value as text."""
    options = {
        "type": "csv",  # comma-separated, double quotes (an encoded delimiter breaks 3.22)
        "useHeader": "yes" if table.has_header else "no",
        "geomType": "none",
        "detectTypes": "yes" if table.has_header else "no",
        "encoding": "UTF-8" if table.encoding == "utf-8" else "windows-1252",
        "watchFile": "no",
    }
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in options.items())
    return f"{Path(table.path).resolve().as_uri()}?{query}"


def load_table(table: TableInfo, name: Optional[str] = None) -> QgsVectorLayer:
    title = name or (f"{table.name} ({table.title})" if table.title else table.name)
    layer = QgsVectorLayer(table_uri(table), title, "delimitedtext")
    if not layer.isValid():
        raise ConfigurationError(
            tr("QGIS could not read the table {name}.").format(name=table.path.name)
        )
    if not table.has_header:
        for index, column in enumerate(table.columns[: layer.fields().count()]):
            layer.setFieldAlias(index, column)
    return layer


def load_release_tables(
    tables: Sequence[TableInfo],
    group_title: str,
    project: Optional[QgsProject] = None,
) -> Tuple[QgsLayerTreeGroup, List[LoadedTable]]:
    """Each table as a non-spatial layer in a (new or existing) top-level group."""
    project = project or QgsProject.instance()
    root = project.layerTreeRoot()
    group = root.findGroup(group_title) or root.insertGroup(0, group_title)
    loaded = []
    for table in tables:
        layer = load_table(table)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
        loaded.append(LoadedTable(layer, table))
    return group, loaded


# --- placing on the map -----------------------------------------------------------------


def written_forms(normalised: str) -> Set[str]:
    """How a postcode may be written: "SO166YD", "SO16 6YD", Code-Point's "E1  6AN"."""
    if len(normalised) < 5:
        return {normalised}
    outward, inward = normalised[:-3], normalised[-3:]
    return {normalised, f"{outward} {inward}", outward.ljust(4) + inward}


def postcode_field_of(layer: QgsVectorLayer) -> Optional[str]:
    """The postcode field of a postcode point layer (Code-Point Open: ``postcode``)."""
    names = [f.name() for f in layer.fields()]
    for name in names:
        if name.lower() in ("postcode", "pc", "pcds", "pcd", "post_code", "pcd7", "pcd8"):
            return name
    for index, field in enumerate(layer.fields()):
        if field.alias().lower() in ("postcode", "pc"):
            return names[index]
    return None


def is_postcode_layer(layer: object) -> bool:
    return (
        isinstance(layer, QgsVectorLayer)
        and layer.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
        and postcode_field_of(layer) is not None
    )


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _lookup(layer: QgsVectorLayer, field: str, wanted: Iterable[str]) -> Dict[str, QgsFeature]:
    found: Dict[str, QgsFeature] = {}
    wanted = sorted(w for w in wanted if w)
    quoted_field = '"' + field.replace('"', '""') + '"'
    for start in range(0, len(wanted), _CHUNK):
        forms = sorted({f for w in wanted[start : start + _CHUNK] for f in written_forms(w)})
        expression = f"{quoted_field} IN ({','.join(_quote_literal(f) for f in forms)})"
        for feature in layer.getFeatures(QgsFeatureRequest().setFilterExpression(expression)):
            key = normalise_postcode(feature[field])
            if key and key not in found and feature.hasGeometry():
                found[key] = QgsFeature(feature)
    return found


def _output_fields(
    table_layer: QgsVectorLayer, postcode_layer: QgsVectorLayer, skip: str
) -> QgsFields:
    fields = QgsFields()
    taken: Set[str] = set()

    def add(name: str, kind: QVariant.Type) -> None:
        base, n = name, 2
        while name.lower() in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name.lower())
        fields.append(QgsField(name, kind))

    for field in table_layer.fields():
        add(field.alias() or field.name(), field.type())
    add(MATCH_FIELD, QVariant.Bool)
    for field in postcode_layer.fields():
        if field.name() != skip and field.name().lower() != "fid":
            add(PREFIX + field.name(), field.type())
    return fields


def place_by_postcode(
    table_layer: QgsVectorLayer,
    postcode_field: str,
    postcode_layer: QgsVectorLayer,
    *,
    postcode_layer_field: Optional[str] = None,
    output: Optional[Path] = None,
    name: Optional[str] = None,
) -> Placement:
    """A point layer of ``table_layer``'s rows placed on ``postcode_layer``'s points.

    Written to the GeoPackage ``output`` (default: beside the table's file,
    ``<table>_by_postcode.gpkg``) and loaded from there; a memory layer when
    the table has no file.
    """
    pc_field = postcode_layer_field or postcode_field_of(postcode_layer)
    if not pc_field:
        raise ConfigurationError(
            tr("The layer {name} has no postcode field.").format(name=postcode_layer.name())
        )
    if table_layer.fields().indexOf(postcode_field) < 0:
        raise ConfigurationError(tr("The table has no field {name}.").format(name=postcode_field))
    rows = list(table_layer.getFeatures())
    keys = [normalise_postcode(row[postcode_field]) for row in rows]
    points = _lookup(postcode_layer, pc_field, set(keys))
    fields = _output_fields(table_layer, postcode_layer, pc_field)
    extra = [
        f.name()
        for f in postcode_layer.fields()
        if f.name() != pc_field and f.name().lower() != "fid"
    ]
    crs = postcode_layer.crs()
    title = name or tr("{table} (by postcode)").format(table=table_layer.name())
    memory = QgsVectorLayer(f"Point?crs={crs.authid() or crs.toWkt()}", title, "memory")
    provider = memory.dataProvider()
    provider.addAttributes(fields.toList())
    memory.updateFields()
    matched = 0
    features = []
    for row, key in zip(rows, keys):
        out = QgsFeature(memory.fields())
        attributes = list(row.attributes())
        point = points.get(key)
        attributes.append(point is not None)
        if point is not None:
            matched += 1
            out.setGeometry(QgsGeometry(point.geometry()))
            attributes.extend(point[n] for n in extra)
        else:
            attributes.extend(None for _ in extra)
        out.setAttributes(attributes)
        features.append(out)
    provider.addFeatures(features)
    memory.updateExtents()
    target = output or _default_output(table_layer)
    if target is None:
        return Placement(memory, matched, len(rows) - matched, None)
    layer = _write_geopackage(memory, target, title)
    return Placement(layer, matched, len(rows) - matched, target)


def _default_output(table_layer: QgsVectorLayer) -> Optional[Path]:
    source = table_layer.source().split("?", 1)[0]
    if not source.startswith("file:"):
        return None
    from urllib.parse import unquote, urlsplit

    path = Path(unquote(urlsplit(source).path))
    if path.drive == "" and len(path.parts) > 1 and path.parts[1].endswith(":"):
        path = Path(*path.parts[1:])  # file:///C:/... on Windows
    return path.with_name(f"{path.stem}_by_postcode.gpkg")


def _write_geopackage(memory: QgsVectorLayer, target: Path, title: str) -> QgsVectorLayer:
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = "placed"
    options.fileEncoding = "UTF-8"
    options.actionOnExistingFile = QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteFile
    result = QgsVectorFileWriter.writeAsVectorFormatV2(
        memory, str(target), QgsCoordinateTransformContext(), options
    )
    error = result[0] if isinstance(result, tuple) else result
    if error != QgsVectorFileWriter.WriterError.NoError:
        message = result[1] if isinstance(result, tuple) and len(result) > 1 else ""
        raise ConfigurationError(
            tr("The placed layer could not be written to {path}: {message}").format(
                path=target, message=message
            )
        )
    layer = QgsVectorLayer(f"{target}|layername=placed", title, "ogr")
    if not layer.isValid():
        raise ConfigurationError(tr("QGIS could not open {path}.").format(path=target))
    return layer
