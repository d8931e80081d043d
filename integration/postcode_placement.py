"""Place a table on the map by postcode: what an analyst means by "join it to Code-Point Open".

The result is a point layer. ``prepare_placement`` (main thread) snapshots
the two layers as feature sources; ``run_placement`` (any thread, e.g. a
QgsTask) looks every row's normalised postcode up in the postcode layer and
writes a GeoPackage beside the table: every row with its own columns, the
postcode layer's attributes (``pc_`` prefix) and ``postcode_matched``; rows
without a match are kept with an empty geometry (not drawn), so counts add up
and nothing silently disappears. ``open_placement`` (main thread) loads it.
Postcode formats differ ("SO166YD" and "E1  6AN" in Code-Point Open,
"SO16 6YD" in ODS), so matching is on the normalised form: a few postcodes
are looked up with a filter on every written form (SQL for GeoPackage/OGR),
many in one pass over the layer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsFeatureRequest,
    QgsFields,
    QgsGeometry,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsVectorLayerFeatureSource,
    QgsWkbTypes,
)

from ..core.errors import Cancelled, ConfigurationError
from ..core.sources.trud.tables import normalise_postcode
from ..i18n import tr
from .compat import make_field, renamed_field

MATCH_FIELD = "postcode_matched"
PREFIX = "pc_"
PLACED_LAYER = "placed"
_CHUNK = 400  # postcodes per filtered lookup (x3 written forms)
_MAX_FILTERED_CHUNKS = 3  # more than this: one pass over the postcode layer instead
_POSTCODE_FIELDS = ("postcode", "pc", "pcds", "pcd", "post_code", "pcd7", "pcd8")


def written_forms(normalised: str) -> Set[str]:
    """How a postcode may be written: "SO166YD", "SO16 6YD", Code-Point's "E1  6AN"."""
    if len(normalised) < 5:
        return {normalised}
    outward, inward = normalised[:-3], normalised[-3:]
    return {normalised, f"{outward} {inward}", outward.ljust(4) + inward}


def postcode_field_of(layer: QgsVectorLayer) -> Optional[str]:
    """The postcode field of a layer (Code-Point Open: ``Postcode``), by name or alias."""
    for field in layer.fields():
        if field.name().lower() in _POSTCODE_FIELDS or field.alias().lower() in _POSTCODE_FIELDS:
            return field.name()
    return None


def is_postcode_layer(layer: object) -> bool:
    return (
        isinstance(layer, QgsVectorLayer)
        and layer.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
        and postcode_field_of(layer) is not None
    )


@dataclass
class PlacementJob:
    """Everything ``run_placement`` needs, snapshotted on the main thread."""

    table: QgsVectorLayerFeatureSource
    table_fields: QgsFields
    table_postcode_field: str
    postcodes: QgsVectorLayerFeatureSource
    postcode_fields: QgsFields
    postcode_field: str
    postcode_count: int
    crs: QgsCoordinateReferenceSystem
    output: Path
    title: str


@dataclass(frozen=True)
class PlacementFile:
    path: Path
    title: str
    matched: int
    unmatched: int

    @property
    def summary(self) -> str:
        total = self.matched + self.unmatched
        return tr(
            "{matched} of {total} rows placed by postcode; {unmatched} without a match."
        ).format(matched=self.matched, total=total, unmatched=self.unmatched)


@dataclass(frozen=True)
class Placement(PlacementFile):
    layer: Optional[QgsVectorLayer] = None


def prepare_placement(
    table_layer: QgsVectorLayer,
    postcode_field: str,
    postcode_layer: QgsVectorLayer,
    *,
    postcode_layer_field: Optional[str] = None,
    output: Optional[Path] = None,
    name: Optional[str] = None,
) -> PlacementJob:
    pc_field = postcode_layer_field or postcode_field_of(postcode_layer)
    if not pc_field:
        raise ConfigurationError(
            tr("The layer {name} has no postcode field.").format(name=postcode_layer.name())
        )
    if table_layer.fields().indexOf(postcode_field) < 0:
        raise ConfigurationError(tr("The table has no field {name}.").format(name=postcode_field))
    target = output or default_output(table_layer)
    if target is None:
        raise ConfigurationError(
            tr("The table {name} is not a file; choose where to write the point layer.").format(
                name=table_layer.name()
            )
        )
    return PlacementJob(
        table=QgsVectorLayerFeatureSource(table_layer),
        table_fields=QgsFields(table_layer.fields()),
        table_postcode_field=postcode_field,
        postcodes=QgsVectorLayerFeatureSource(postcode_layer),
        postcode_fields=QgsFields(postcode_layer.fields()),
        postcode_field=pc_field,
        postcode_count=max(postcode_layer.featureCount(), 0),
        crs=postcode_layer.crs(),
        output=target,
        title=name or tr("{table} (by postcode)").format(table=table_layer.name()),
    )


def default_output(table_layer: QgsVectorLayer) -> Optional[Path]:
    """``<table>_by_postcode.gpkg`` in the release's ``qgis`` helper folder (or beside the file)."""
    source = table_layer.source()
    if source.startswith("file:"):
        parts = urlsplit(source.split("?", 1)[0])
        text = unquote(parts.path)
        if len(text) > 2 and text[0] == "/" and text[2] == ":":  # file:///C:/... on Windows
            text = text[1:]
        path = Path(text)
    else:
        path = Path(source.split("|", 1)[0])
    if not path.is_file():
        return None
    return path.with_name(f"{path.stem}_by_postcode.gpkg")


def _check(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _lookup(
    job: PlacementJob, wanted: Set[str], cancel: Optional[threading.Event]
) -> Dict[str, QgsFeature]:
    found: Dict[str, QgsFeature] = {}
    field = job.postcode_field
    keys = sorted(w for w in wanted if w)
    chunks = [keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK)]
    if len(chunks) <= _MAX_FILTERED_CHUNKS:
        quoted = '"' + field.replace('"', '""') + '"'
        requests = []
        for chunk in chunks:
            forms = sorted({f for key in chunk for f in written_forms(key)})
            literals = ",".join("'" + f.replace("'", "''") + "'" for f in forms)
            requests.append(QgsFeatureRequest().setFilterExpression(f"{quoted} IN ({literals})"))
    else:  # many postcodes: one pass beats many scans of an unindexed CSV
        requests = [QgsFeatureRequest()]
    for request in requests:
        for count, feature in enumerate(job.postcodes.getFeatures(request)):
            if count % 10000 == 0:
                _check(cancel)
            key = normalise_postcode(feature[field])
            if key in wanted and key not in found and feature.hasGeometry():
                found[key] = QgsFeature(feature)
    return found


def _output_fields(job: PlacementJob) -> Tuple[QgsFields, List[str]]:
    fields = QgsFields()
    taken: Set[str] = {"fid"}
    extra: List[str] = []

    def free_name(name: str) -> str:
        base, n = name, 2
        while name.lower() in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name.lower())
        return name

    for field in job.table_fields:
        fields.append(renamed_field(field, free_name(field.alias() or field.name())))
    fields.append(make_field(free_name(MATCH_FIELD), "Bool"))
    for field in job.postcode_fields:
        if field.name() != job.postcode_field and field.name().lower() != "fid":
            fields.append(renamed_field(field, free_name(PREFIX + field.name())))
            extra.append(field.name())
    return fields, extra


def run_placement(job: PlacementJob, cancel: Optional[threading.Event] = None) -> PlacementFile:
    """Look the rows' postcodes up and write the GeoPackage (safe off the main thread)."""
    rows = list(job.table.getFeatures(QgsFeatureRequest()))
    keys = [normalise_postcode(row[job.table_postcode_field]) for row in rows]
    points = _lookup(job, set(keys), cancel)
    fields, extra = _output_fields(job)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = PLACED_LAYER
    options.fileEncoding = "UTF-8"
    options.actionOnExistingFile = QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteFile
    job.output.parent.mkdir(parents=True, exist_ok=True)
    writer = QgsVectorFileWriter.create(
        str(job.output),
        fields,
        QgsWkbTypes.Type.Point,
        job.crs,
        QgsCoordinateTransformContext(),
        options,
    )
    if writer is None or writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        message = writer.errorMessage() if writer is not None else ""
        raise ConfigurationError(
            tr("The placed layer could not be written to {path}: {message}").format(
                path=job.output, message=message
            )
        )
    matched = 0
    try:
        for count, (row, key) in enumerate(zip(rows, keys)):
            if count % 1000 == 0:
                _check(cancel)
            out = QgsFeature(fields)
            point = points.get(key)
            values = list(row.attributes()) + [point is not None]
            if point is not None:
                matched += 1
                out.setGeometry(QgsGeometry(point.geometry()))
                values.extend(point[name] for name in extra)
            else:
                values.extend(None for _ in extra)
            out.setAttributes(values)
            writer.addFeature(out)
    finally:
        del writer  # flushes and closes the GeoPackage
    return PlacementFile(job.output, job.title, matched, len(rows) - matched)


def open_placement(result: PlacementFile) -> Placement:
    """The written GeoPackage as a layer (main thread)."""
    layer = QgsVectorLayer(f"{result.path}|layername={PLACED_LAYER}", result.title, "ogr")
    if not layer.isValid():
        raise ConfigurationError(tr("QGIS could not open {path}.").format(path=result.path))
    return Placement(result.path, result.title, result.matched, result.unmatched, layer)


def place_by_postcode(
    table_layer: QgsVectorLayer,
    postcode_field: str,
    postcode_layer: QgsVectorLayer,
    **options: object,
) -> Placement:
    """All three steps at once, on the calling thread (scripts, tests)."""
    job = prepare_placement(table_layer, postcode_field, postcode_layer, **options)  # type: ignore[arg-type]
    return open_placement(run_placement(job))
