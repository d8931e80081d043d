"""Worker-thread part of loading several squares: merge, plan, name the group.

Vector tiles become one GeoPackage with one table per feature type
(``merge.py``), loaded as one layer each named in words ("Greenspace site");
rasters and anything else go through ``plan_layers`` as for one download
(raster tiles become one mosaic VRT). The group says product, version, format
and the areas once: "OS Open Greenspace 2025-10 (GML 3, TL, TQ, TR)".
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Dict, List, Optional, Sequence

from ..core.engine import pipeline as jobs
from ..core.grid.feature_types import areas_label
from ..core.grid.multi_area import merged_path
from .layer_sources import VECTOR, LayerSource, plan_layers
from .layers import group_name_for
from .merge import MergeResult, merge_vector_datasets, mergeable
from .prepared import PreparedJob
from .settings import PluginSettings


def prepare_areas(
    results: Sequence[jobs.JobResult],
    areas: Sequence[str],
    values: PluginSettings,
    *,
    merge: bool = True,
    cancel: Optional[threading.Event] = None,
):

    first = results[0]
    manifest = replace(first.manifest, area=areas_label(areas))
    group = group_name_for(manifest)
    combined = replace(first, manifest=manifest)
    sources: List[LayerSource] = []
    names: Dict[str, str] = {}
    if values.load_after_download:
        datasets = [d for r in results for d in r.datasets if not getattr(d, "problem", None)]
        vectors = [d for d in datasets if mergeable(d)] if merge else []
        if vectors:
            merged = merge_vector_datasets(
                vectors, merged_path(first.folder.parent, areas), cancel=cancel
            )
            _merged_sources(merged, sources, names)
        rest = [d for d in datasets if d not in vectors]
        if rest:
            sources += plan_layers(rest, first.folder.parent, title=str(manifest.name or ""))
    return PreparedJob(combined, group, sources, layer_names=names, results=tuple(results))


def prepare_clipped(
    result: jobs.JobResult,
    area_wkt: str,
    label: str,
    values: PluginSettings,
    *,
    cancel: Optional[threading.Event] = None,
):
    """ "Keep only my area": the vector layers cut to the chosen area in a GeoPackage of
    their own (``clipped/<label>.gpkg`` beside the files; the full download stays)."""

    manifest = replace(result.manifest, area=tr_only(label))
    sources: List[LayerSource] = []
    names: Dict[str, str] = {}
    datasets = [d for d in result.datasets if not getattr(d, "problem", None)]
    vectors = [d for d in datasets if mergeable(d)]
    if values.load_after_download and vectors:
        out = result.folder / CLIPPED_FOLDER / f"{label.replace(', ', '-')}.gpkg"
        clipped = merge_vector_datasets(vectors, out, cancel=cancel, clip_to=area_wkt)
        _merged_sources(clipped, sources, names)
    rest = [d for d in datasets if d not in vectors]
    if values.load_after_download and rest:
        sources += plan_layers(rest, result.folder, title=str(manifest.name or ""))
    group = group_name_for(manifest)
    return PreparedJob(replace(result, manifest=manifest), group, sources, layer_names=names)


CLIPPED_FOLDER = "clipped"


def tr_only(label: str) -> str:
    from ..i18n import tr

    return tr("only {areas}").format(areas=label)


def _merged_sources(merged: MergeResult, sources: List[LayerSource], names: Dict[str, str]):
    for table in merged.tables:
        uri = f"{merged.path}|layername={table.table}"
        sources.append(LayerSource(table.table, uri, "ogr", VECTOR, "EPSG:27700", str(merged.path)))
        names[uri] = table.feature_type
