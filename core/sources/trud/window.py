"""When automated TRUD downloads may run: weekdays 00:00-06:00 and 09:00-18:00 UK time.

TRUD's guide asks automation scripts to run "on weekdays between 9am and 6pm,
or midnight and 6am (UK time) to avoid planned maintenance". We read
"weekdays" as covering both windows (the cautious reading). UK time is
Europe/London through ``zoneinfo``; where Python has no time-zone database
(Windows without the ``tzdata`` package) the UK rule is applied directly:
BST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday
of October.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Optional, Tuple

from ...formatting import format_duration

WINDOWS: Tuple[Tuple[time, time], ...] = ((time(0, 0), time(6, 0)), (time(9, 0), time(18, 0)))
WINDOWS_TEXT = "weekdays 00:00-06:00 and 09:00-18:00 UK time"


class _UkRule(tzinfo):
    """Europe/London without a time-zone database (GMT/BST, rules since 1996)."""

    @staticmethod
    def _last_sunday(year: int, month: int) -> datetime:
        day = (
            datetime(year, month + 1, 1) - timedelta(days=1)
            if month < 12
            else datetime(year, 12, 31)
        )
        return day - timedelta(days=(day.weekday() + 1) % 7)

    def _bst_utc_bounds(self, year: int) -> Tuple[datetime, datetime]:
        start = self._last_sunday(year, 3).replace(hour=1)
        end = self._last_sunday(year, 10).replace(hour=1)
        return start, end

    def utcoffset(self, dt: Optional[datetime]) -> timedelta:
        if dt is None:
            return timedelta(0)
        start, end = self._bst_utc_bounds(dt.year)
        naive = dt.replace(tzinfo=None, fold=0)
        hour = timedelta(hours=1)
        if end <= naive < end + hour:  # 01:00-02:00 on the last Sunday of October, twice
            return timedelta(0) if dt.fold else hour
        return hour if start + hour <= naive < end + hour else timedelta(0)

    def fromutc(self, dt: datetime) -> datetime:
        start, end = self._bst_utc_bounds(dt.year)
        naive = dt.replace(tzinfo=None)
        hour = timedelta(hours=1)
        if start <= naive < end:
            return (naive + hour).replace(tzinfo=self)
        return naive.replace(tzinfo=self, fold=1 if end <= naive < end + hour else 0)

    def dst(self, dt: Optional[datetime]) -> timedelta:
        return self.utcoffset(dt)

    def tzname(self, dt: Optional[datetime]) -> str:
        return "BST" if self.utcoffset(dt) else "GMT"


def uk_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/London")
    except Exception:  # no zoneinfo module or no tz database on this machine
        return _UkRule()


def uk_now() -> datetime:
    return datetime.now(timezone.utc).astimezone(uk_zone())


def in_window(now: datetime) -> bool:
    """Whether ``now`` (any aware datetime) falls in an allowed window."""
    local = now.astimezone(uk_zone())
    if local.weekday() >= 5:
        return False
    clock = local.time().replace(tzinfo=None)
    return any(start <= clock < end for start, end in WINDOWS)


def next_window_start(now: datetime) -> datetime:
    """The start of the next allowed window (``now`` itself when inside one)."""
    zone = uk_zone()
    local = now.astimezone(zone)
    if in_window(local):
        return local
    for days in range(0, 8):
        day = (local + timedelta(days=days)).date()
        if day.weekday() >= 5:
            continue
        for start, _ in WINDOWS:
            candidate = datetime.combine(day, start).replace(tzinfo=zone)
            # astimezone round-trip normalises a wall time in a DST gap.
            candidate = candidate.astimezone(timezone.utc).astimezone(zone)
            if candidate > local:
                return candidate
    raise AssertionError("a weekday window always comes within a week")


def seconds_until_window(now: datetime) -> float:
    # Differences in UTC: two wall times in the same zone subtract as wall times.
    opens = next_window_start(now).astimezone(timezone.utc)
    return max((opens - now.astimezone(timezone.utc)).total_seconds(), 0.0)


def describe_wait(now: datetime) -> str:
    """E.g. "now Sat 14:02 UK time; the next window opens Mon 00:00 (in 33 h 58 min)"."""
    local = now.astimezone(uk_zone())
    opens = next_window_start(local)
    span = format_duration(seconds_until_window(now))
    return f"now {local:%a %H:%M} UK time; the next window opens {opens:%a %H:%M} (in {span})"
