"""Fault switches: the ways the replica misbehaves when a test asks it to.

Set them from Python (``server.set_faults(api_5xx_every=3)`` or
``server.faults.drop_count = 2``) or, out of process, with
``POST /__replica__/faults`` and a JSON object of the same names.
``reset()`` restores the defaults the server was started with.

=========================  ====================================================
switch                     effect
=========================  ====================================================
api_5xx_every: int         every Nth API request (``/downloads/v1``) answers 503
api_429_count: int         the next K API requests answer 429 (rate limited)
api_5xx_count: int         the next K API requests answer 503 (after any 429s)
api_short_body_count: int  the next K API answers stop half-way through the body, then close
api_long_body_count: int   the next K API answers send junk past their Content-Length
api_reset_count: int       the next K API answers are reset (TCP RST) half-way through the body
api_trickle_count: int     the next K API answers send their body 1 byte at a time, every
api_trickle_seconds        ... this many seconds (5 like a dying link)
api_hold_count: int        the next K API requests are accepted, read and never answered,
api_hold_seconds           ... held this long at most (or until the client leaves, or reset)
rate_limit_per_minute      API requests allowed per window; past it 429
rate_limit_window_seconds  the window of the limiter (60 like OS)
retry_after: float|None    seconds sent as ``Retry-After`` with a 429; None: no header
drop_after_bytes: int      with drop_count: the connection closes after N body bytes
drop_count: int            how many storage GETs are cut short (counts down)
wrong_md5: set[str]        file names whose listed md5 is wrong
withdrawn_versions: set    data-package version ids the API no longer lists or serves
                           (expired); their neighbours' previous/nextVersionUrl still
                           name them, as links fixed at publication would
corrupt_files: {name: K}   storage flips a byte in the next K bodies of that file
slow_bytes_per_second      each storage body is paced to this rate on its own clock, so every
                           connection gets it (parallel ranges add up, like TCP streams)
signed_url_ttl_seconds     lifetime of signed storage URLs (<= 0: already expired)
token_ttl_seconds          OAuth2 token lifetime, also sent as ``expires_in``
redirect_form: str         download redirects: "varied" (307 with a JSON body for
                           OpenData, 307 with no body for data packages), "json"
                           (2021 capture), "empty" (2020: Content-Length 0), or
                           "302" (2026 reports), for every download route
echo_key: bool             echo the key into data-package URLs also when it came
                           in the ``key`` header (the real API is only known to
                           echo a ``?key=`` query key, which the replica always does)
body_override: {path: s}   the API answers with the raw text ``s`` (as JSON) for
                           that path under ``/downloads/v1`` ("/products/X"):
                           status 200, or ``{"status": 404, "body": s}``
=========================  ====================================================

Storage misbehaviour (the storage rows of the fault matrix; also TRUD's files):

=========================  ====================================================
ignore_range: bool         storage answers 200 with the whole file to any Range
short_body_bytes: int      every body ends N bytes before its Content-Length
long_body_bytes: int       every body is N junk bytes longer than the file (and says so)
cut_body_percent: int      every body is cut (connection closed) at P % of its length
chunked_cut_count: int     the next K bodies go out chunked and are cut mid-chunk
trickle_seconds_per_byte   bodies go out one byte at a time, pausing this long
storage_hang_seconds       storage waits this long before answering (never answers)
storage_416_count: int     the next K storage GETs answer 416, whatever they ask
no_accept_ranges: bool     storage sends no ``Accept-Ranges`` header (ranges still honoured
                           unless ``ignore_range``)
drop_at_offset: int        with drop_count: only a GET whose body covers this file offset
                           is cut, right at it (one range of a parallel download); -1: off
changed_files: {name: K}   that file's blob changes after its next K storage GETs: every
                           later GET gets a new version (each byte inverted, a new ETag and
                           Last-Modified), as a blob replaced mid-download would
=========================  ====================================================
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Dict, Iterable, Optional, Set, Tuple, Union

from .ratelimit import SlidingWindowLimiter


@dataclass
class FaultSettings:
    api_5xx_every: int = 0
    api_429_count: int = 0
    api_5xx_count: int = 0
    api_short_body_count: int = 0
    api_long_body_count: int = 0
    api_reset_count: int = 0
    api_trickle_count: int = 0
    api_trickle_seconds: float = 5.0
    api_hold_count: int = 0
    api_hold_seconds: float = 600.0
    rate_limit_per_minute: Optional[int] = None
    rate_limit_window_seconds: float = 60.0
    retry_after: Optional[float] = None
    drop_after_bytes: int = 0
    drop_count: int = 0
    wrong_md5: Set[str] = field(default_factory=set)
    withdrawn_versions: Set[str] = field(default_factory=set)
    corrupt_files: Dict[str, int] = field(default_factory=dict)
    slow_bytes_per_second: int = 0
    signed_url_ttl_seconds: float = 3600.0
    token_ttl_seconds: float = 299.0
    redirect_form: str = "varied"
    echo_key: bool = False
    body_override: Dict[str, Tuple[int, str]] = field(default_factory=dict)
    # storage misbehaviour
    ignore_range: bool = False
    short_body_bytes: int = 0
    long_body_bytes: int = 0
    cut_body_percent: int = 0
    chunked_cut_count: int = 0
    trickle_seconds_per_byte: float = 0.0
    storage_hang_seconds: float = 0.0
    storage_416_count: int = 0
    no_accept_ranges: bool = False
    drop_at_offset: int = -1
    changed_files: Dict[str, int] = field(default_factory=dict)


_BOOL_SWITCHES = ("ignore_range", "no_accept_ranges")
_FLOAT_SWITCHES = (
    "signed_url_ttl_seconds",
    "token_ttl_seconds",
    "rate_limit_window_seconds",
    "trickle_seconds_per_byte",
    "storage_hang_seconds",
)
SWITCHES = frozenset(f.name for f in fields(FaultSettings))
REDIRECT_FORMS = frozenset({"varied", "json", "empty", "302"})
FLOAT_SWITCHES = frozenset(
    {
        "signed_url_ttl_seconds",
        "token_ttl_seconds",
        "rate_limit_window_seconds",
        "api_trickle_seconds",
        "api_hold_seconds",
    }
)
# How an API answer misbehaves (see take_api_body_fault), in the order they are taken.
API_BODY_FAULTS = ("short_body", "long_body", "reset", "trickle")


def _normalise(name: str, value: Any) -> Any:
    if name in ("wrong_md5", "withdrawn_versions"):
        return {value} if isinstance(value, str) else set(value or ())
    if name == "corrupt_files":
        return _corrupt_counts(value)
    if name == "changed_files":
        return {str(k): max(int(v), 0) for k, v in (value or {}).items()}
    if name == "drop_at_offset":
        return int(-1 if value is None else value)
    if name == "body_override":
        return {str(k): _status_and_body(v) for k, v in (value or {}).items()}
    if name in ("rate_limit_per_minute",):
        return None if value in (None, 0, "") else int(value)
    if name == "redirect_form":
        if value not in REDIRECT_FORMS:
            raise ValueError(f"redirect_form must be one of {sorted(REDIRECT_FORMS)}")
        return str(value)
    if name == "echo_key":
        return bool(value)
    if name == "retry_after":
        return None if value in (None, "") else float(value)
    if name in FLOAT_SWITCHES:
        return float(value)
    if name in _BOOL_SWITCHES:
        return bool(value)
    if name in _FLOAT_SWITCHES:
        return float(value or 0)
    return int(value or 0)


def _status_and_body(value: Any) -> Tuple[int, str]:
    if isinstance(value, dict):
        return int(value.get("status", 200)), str(value.get("body", ""))
    return 200, str(value)


def _corrupt_counts(value: Union[None, str, Iterable[str], Dict[str, int]]) -> Dict[str, int]:
    """A dict name -> count; a bare name or list of names means once each."""
    if not value:
        return {}
    if isinstance(value, str):
        return {value: 1}
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items() if int(v) > 0}
    return {str(name): 1 for name in value}


class Faults:
    """The live fault switches and their counters, shared by all origins."""

    def __init__(self, **defaults: Any) -> None:
        unknown = set(defaults) - SWITCHES
        if unknown:
            raise TypeError(f"Unknown fault switches: {sorted(unknown)}")
        base = FaultSettings()
        for name, value in defaults.items():
            setattr(base, name, _normalise(name, value))
        object.__setattr__(self, "_defaults", base)
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "limiter", SlidingWindowLimiter())
        object.__setattr__(self, "generation", 0)
        self.reset()

    # --- setting -------------------------------------------------------------

    def set(self, **changes: Any) -> None:
        unknown = set(changes) - SWITCHES
        if unknown:
            raise ValueError(f"Unknown fault switches: {sorted(unknown)}")
        with self._lock:
            for name, value in changes.items():
                setattr(self._settings, name, _normalise(name, value))
            if "api_5xx_every" in changes:
                object.__setattr__(self, "_api_requests", 0)
        if {"rate_limit_per_minute", "rate_limit_window_seconds"} & set(changes):
            self.limiter.reset()

    def reset(self) -> None:
        with self._lock:
            d = self._defaults
            object.__setattr__(
                self,
                "_settings",
                replace(
                    d,
                    wrong_md5=set(d.wrong_md5),
                    withdrawn_versions=set(d.withdrawn_versions),
                    corrupt_files=dict(d.corrupt_files),
                    changed_files=dict(d.changed_files),
                    body_override=dict(d.body_override),
                ),
            )
            object.__setattr__(self, "_api_requests", 0)
            object.__setattr__(self, "generation", self.generation + 1)  # ends holds, trickles
        self.limiter.reset()

    def __getattr__(self, name: str) -> Any:
        if name in SWITCHES:
            return getattr(self._settings, name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in SWITCHES:
            raise AttributeError(f"{name!r} is not a fault switch")
        self.set(**{name: value})

    def as_dict(self) -> Dict[str, Any]:
        with self._lock:
            data = asdict(self._settings)
        data["wrong_md5"] = sorted(data["wrong_md5"])
        data["withdrawn_versions"] = sorted(data["withdrawn_versions"])
        return data

    # --- consulted by the origins ----------------------------------------------

    def api_status_override(self) -> Optional[int]:
        """Count one API request; 429 or 503 when a switch says this one fails."""
        with self._lock:
            s = self._settings
            if s.api_429_count > 0:
                s.api_429_count -= 1
                return 429
            if s.api_5xx_count > 0:
                s.api_5xx_count -= 1
                return 503
            count = self._api_requests + 1
            object.__setattr__(self, "_api_requests", count)
            if s.api_5xx_every > 0 and count % s.api_5xx_every == 0:
                return 503
        return None

    def take_api_hold(self) -> Optional[float]:
        """Seconds to hold this API request unanswered, or None."""
        with self._lock:
            s = self._settings
            if s.api_hold_count > 0:
                s.api_hold_count -= 1
                return max(s.api_hold_seconds, 0.0)
        return None

    def take_api_body_fault(self) -> Optional[str]:
        """How this API answer's body misbehaves ("short_body", "long_body", "reset",
        "trickle"), or None; counts the switch down."""
        with self._lock:
            s = self._settings
            for kind in API_BODY_FAULTS:
                name = f"api_{kind}_count"
                if getattr(s, name) > 0:
                    setattr(s, name, getattr(s, name) - 1)
                    return kind
        return None

    def rate_limited(self) -> bool:
        s = self._settings
        return not self.limiter.allow(s.rate_limit_per_minute, s.rate_limit_window_seconds)

    def take_drop(self, first: int = 0, length: int = 0) -> Optional[int]:
        """Body bytes to send before dropping this storage GET (of ``length`` bytes from
        file offset ``first``), or None."""
        with self._lock:
            s = self._settings
            if s.drop_count <= 0:
                return None
            if s.drop_at_offset >= 0:
                if not first <= s.drop_at_offset < first + length:
                    return None  # not the range that holds the offset
                s.drop_count -= 1
                return s.drop_at_offset - first
            s.drop_count -= 1
            return max(0, s.drop_after_bytes)

    def take_new_version(self, file_name: str) -> bool:
        """Count one storage GET of ``file_name``; True once its blob has changed."""
        with self._lock:
            left = self._settings.changed_files.get(file_name)
            if left is None:
                return False
            if left > 0:
                self._settings.changed_files[file_name] = left - 1
                return False
            return True

    def take_corruption(self, file_name: str) -> bool:
        with self._lock:
            left = self._settings.corrupt_files.get(file_name, 0)
            if left <= 0:
                return False
            if left == 1:
                del self._settings.corrupt_files[file_name]
            else:
                self._settings.corrupt_files[file_name] = left - 1
            return True

    def is_withdrawn(self, version_id: str) -> bool:
        return version_id in self._settings.withdrawn_versions

    def body_for(self, api_path: str) -> Optional[Tuple[int, str]]:
        """(status, raw body) set for ``api_path`` (the path after the API prefix), or None."""
        return self._settings.body_override.get(api_path)

    def take_count(self, name: str) -> bool:
        """Count down the switch ``name`` (a "next K requests" switch); True if this one is hit."""
        with self._lock:
            left = getattr(self._settings, name)
            if left <= 0:
                return False
            setattr(self._settings, name, left - 1)
            return True

    def md5_is_wrong(self, file_name: str) -> bool:
        return file_name in self._settings.wrong_md5
