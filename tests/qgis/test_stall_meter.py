"""The stall meter `make bench` uses: it runs the event loop until the task ended.

Reports only; the timing target (< 100 ms) is checked by the benchmark, not here.
"""

from __future__ import annotations

from os_downloads.integration.stall_meter import measure_task


def test_measure_task_reports_gaps_until_the_layers_are_loaded(dock):
    report = measure_task(lambda: dock.download_and_load_product("OpenRivers", "GeoPackage"), 60)
    assert report.finished and dock.outcomes[-1].ok
    assert report.ticks > 0 and report.longest_gap_ms > 0
    assert set(report.to_json()) >= {"longest_gap_ms", "gaps_over_100ms", "duration_s"}
