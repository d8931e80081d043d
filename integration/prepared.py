"""What a download task's worker hands to the main thread: the files and how to open them.

Its own module so that the planners of special loads (several squares merged,
an area kept) and the download service share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..core.engine.pipeline import JobResult
from .layer_sources import LayerSource


@dataclass
class PreparedJob:
    """What the worker hands to the main thread: the files and how to open them."""

    result: JobResult
    group_name: str
    sources: List[LayerSource]
    layer_names: Optional[Dict[str, str]] = None  # source uri -> name in words (merged)
    results: Tuple[JobResult, ...] = ()  # every area's, for a several-square job
