"""Sizes and durations read the same in the dock, Processing and the command line."""

from __future__ import annotations

import pytest

from os_downloads.core.formatting import format_bytes, format_duration, format_size


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1536, "1.5 KB"),
        (2_500_000, "2.5 MB"),
        (7_340_000_000, "7.3 GB"),
        (3e15, "3000.0 TB"),
    ],
)
def test_sizes_use_decimal_units_as_file_managers_do(count, text):
    assert format_bytes(count) == text


def test_an_unknown_size_shows_the_given_word():
    assert format_size(None) == ""
    assert format_size(None, "unknown") == "unknown"
    assert format_size(1536, "unknown") == "1.5 KB"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 min"),
        (-5, "0 min"),
        (0.43, "0.4 s"),
        (20, "20 s"),
        (59.4, "59 s"),
        (2040, "34 min"),
        (3600, "1 h 0 min"),
        (122280, "33 h 58 min"),
    ],
)
def test_waits_are_seconds_then_whole_minutes_with_hours_when_long(seconds, text):
    assert format_duration(seconds) == text
