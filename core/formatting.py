"""Sizes and durations in the words every interface shows (dock, Processing, command line).

Pure functions with no state: the download engine, the QGIS task's status
line, the dock's tables and the command line's summaries all format through
here, so "1.5 KB" and "33 h 58 min" read the same everywhere.
"""

from __future__ import annotations

from typing import Optional


def format_bytes(count: float) -> str:
    """1536 -> '1.5 KB' (decimal units, as file managers and OS listings show)."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_size(count: Optional[float], unknown: str = "") -> str:
    """``format_bytes`` for a size the API may not give; ``unknown`` when it did not."""
    return unknown if count is None else format_bytes(count)


def format_duration(seconds: float) -> str:
    """A wait in words: 0.4 -> '0.4 s', 20 -> '20 s', 2040 -> '34 min', 122280 -> '33 h 58 min'.

    Under a minute in seconds (a retry's pause); longer ones in whole minutes.
    """
    if 0 < seconds < 59.5:
        return f"{seconds:.1f} s" if seconds < 9.95 else f"{seconds:.0f} s"
    minutes = int(round(max(seconds, 0.0) / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
