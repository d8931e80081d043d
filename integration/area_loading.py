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
from .layer_sources import VECTOR, LayerSource, plan_layers
from .layers import group_name_for
from .merge import merge_vector_datasets, mergeable, merged_path
from .settings import PluginSettings


def prepare_areas(
    results: Sequence[jobs.JobResult],
    areas: Sequence[str],
    values: PluginSettings,
    *,
    merge: bool = True,
    cancel: Optional[threading.Event] = None,
):
    from .downloads import PreparedJob

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
            for table in merged.tables:
                uri = f"{merged.path}|layername={table.table}"
                sources.append(
                    LayerSource(table.table, uri, "ogr", VECTOR, "EPSG:27700", str(merged.path))
                )
                names[uri] = table.feature_type
        rest = [d for d in datasets if d not in vectors]
        if rest:
            sources += plan_layers(rest, first.folder.parent, title=str(manifest.name or ""))
    return PreparedJob(combined, group, sources, layer_names=names, results=tuple(results))
