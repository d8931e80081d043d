"""A TRUD release's tables as non-spatial layers, in one group per item and release.

``load_release_tables`` adds each CSV table of a release (``core.trud_tables``
found them) to a group named after the item and release (``group_name``).
Tables with a header row open in the delimited-text provider; headerless ODS
files (``epraccur.csv``...) get an OGR VRT in the release's ``qgis/`` folder
that gives their columns the ODS standard names, so expressions and joins use
``postcode``, not ``field_10``. Both are built by ``csv_layers`` exactly as
for OS downloads, and opened by ``layers.open_source``. The files TRUD sent
stay untouched (their SHA-256 still holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from qgis.core import QgsLayerTreeGroup, QgsProject, QgsVectorLayer

from ..core.engine.discover import CsvOptions
from ..core.errors import ConfigurationError
from ..core.sources.trud.tables import TableInfo
from ..i18n import tr
from .attribution import apply_attribution, trud_attribution, update_project_variable
from .csv_layers import CsvFile, csv_vrt_xml, delimited_text_uri, write_vrt
from .layer_sources import HELPER_FOLDER, TABLE, LayerSource
from .layers import open_source


@dataclass(frozen=True)
class LoadedTable:
    layer: QgsVectorLayer
    table: TableInfo

    @property
    def postcode_field(self) -> Optional[str]:
        """The layer's postcode field, when the table has one."""
        index = self.table.postcode_index
        if index is None or index >= self.layer.fields().count():
            return None
        return self.layer.fields().at(index).name()


def group_name(item: int, release_name: str, release_date: str) -> str:
    """E.g. "NHS TRUD 58: Release 5.2.0 (2025-05-08)"."""
    when = f" ({release_date})" if release_date else ""
    release = " ".join(re.sub(r"[()]", " ", release_name or "").split())  # no nested brackets
    return tr("NHS TRUD {item}: {release}{when}").format(item=item, release=release, when=when)


def table_source(table: TableInfo, helper_dir: Path, name: Optional[str] = None) -> LayerSource:
    """How to open one table: delimited text with a header row, else a VRT naming the columns."""
    title = name or (f"{table.name} ({table.title})" if table.title else table.name)
    options = CsvOptions(
        has_header=table.has_header, field_names=tuple(table.columns), encoding=table.encoding
    )
    csv = CsvFile(Path(table.path), options)
    if table.has_header:
        uri, provider = delimited_text_uri(csv), "delimitedtext"
    else:
        uri, provider = str(write_vrt(helper_dir, table.path.stem, csv_vrt_xml([csv]))), "ogr"
    return LayerSource(title, uri, provider, TABLE, origin=str(table.path))


def load_table(table: TableInfo, helper_dir: Path, name: Optional[str] = None) -> QgsVectorLayer:
    layer = open_source(table_source(table, helper_dir, name))
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        raise ConfigurationError(
            tr("QGIS could not read the table {name}.").format(name=table.path.name)
        )
    return layer


def load_release_tables(
    tables: Sequence[TableInfo],
    group_title: str,
    release_folder: Path,
    project: Optional[QgsProject] = None,
) -> Tuple[QgsLayerTreeGroup, List[LoadedTable]]:
    """Each table as a non-spatial layer in a (new or existing) top-level group."""
    project = project or QgsProject.instance()
    root = project.layerTreeRoot()
    group = root.findGroup(group_title) or root.insertGroup(0, group_title)
    group.setExpanded(True)
    helper_dir = Path(release_folder) / HELPER_FOLDER
    loaded = []
    attribution = trud_attribution(group_title)
    for table in tables:
        layer = load_table(table, helper_dir)
        apply_attribution(layer, attribution)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
        loaded.append(LoadedTable(layer, table))
    update_project_variable(project)
    return group, loaded
