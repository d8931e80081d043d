"""The API's JSON checked at the edge: parsed safely, then each value's type checked.

Why one module: a wrong shape (an object where a list belongs, null, numbers
as objects), nesting deep enough to exhaust the recursion limit, ``1e400`` or
``Infinity`` where a size belongs, or a file name no file system accepts must
each become one clear ``UnexpectedResponse`` naming the endpoint, never a
crash deep in the download engine. The models (``api/models.py``) call these
checks from ``from_json``; the client turns ``Invalid`` into the typed error
(``answer``). The real API's documented quirks stay accepted: descriptions as
arrays of strings, ids as numbers or strings, sizes and md5 missing. Parsing
itself (``Invalid``, ``parse_json``) is ``net/json_body.py``, below every API.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from ..errors import UnexpectedResponse
from ..net.json_body import Invalid

T = TypeVar("T")

MAX_FILE_NAME = 255  # bytes in UTF-8: the limit of every common file system
MAX_SIZE = 2**62  # bytes; anything larger is not a real file
_FORBIDDEN_IN_NAMES = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}


def answer(path: str, body: Any, parse: Callable[[Any], T]) -> T:
    """``parse(body)``, with any ``Invalid`` turned into ``UnexpectedResponse`` for ``path``."""
    try:
        return parse(body)
    except Invalid as problem:
        raise UnexpectedResponse.for_path(path, str(problem)) from None
    except RecursionError:
        raise UnexpectedResponse.for_path(path, "the JSON is nested too deeply to read") from None


# --- shapes -------------------------------------------------------------------


def obj(value: Any, what: str) -> Dict[str, Any]:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise Invalid(f"expected {what} as an object, got {_kind(value)}")
    return value


def objects(value: Any, what: str, *, optional: bool = False) -> List[Dict[str, Any]]:
    """A JSON array of objects (``[]`` for a missing optional one)."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise Invalid(f"expected a list of {what}, got {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise Invalid(f"expected a list of {what}, item {index + 1} is {_kind(item)}")
    return value


# --- values -------------------------------------------------------------------


def text(value: Any, what: str) -> str:
    """A string from a string, a number (ids), or a list of strings (descriptions)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n\n".join(_scalar(v, what) for v in value if v is not None)
    return _scalar(value, what)


def opt_str(value: Any, what: str) -> Optional[str]:
    """A single optional string (a list is refused: only descriptions come as lists)."""
    if value is None:
        return None
    return _scalar(value, what) or None


def strs(value: Any, what: str) -> Tuple[str, ...]:
    """A tuple of strings from a list of strings or a single string."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(_scalar(v, what) for v in value if v is not None)
    return (_scalar(value, what),)


def count(value: Any, what: str) -> Optional[int]:
    """A non-negative whole number (a size, an image count); None when missing.

    Accepts ``1234``, ``1234.0`` and ``"1234"``; refuses negatives, fractions,
    booleans, huge values and anything that is not a number.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(f"{what} is {_kind(value)}, not a number")
    number: Any = value
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped.isdigit() or len(stripped) > 19:
            raise Invalid(f"{what} {_show(value)} is not a whole number")
        number = int(stripped)
    elif isinstance(value, float):
        if not value.is_integer():
            raise Invalid(f"{what} {value!r} is not a whole number")
        number = int(value)
    elif not isinstance(value, int):
        raise Invalid(f"{what} is {_kind(value)}, not a number")
    if number < 0:
        raise Invalid(f"{what} {number} is negative")
    if number > MAX_SIZE:
        raise Invalid(f"{what} {number} is absurdly large")
    return int(number)


def file_name(value: Any, what: str = "fileName") -> str:
    """A plain file name the engine can write: no folders, no control characters,
    not empty, not "." or "..", at most 255 bytes."""
    if not isinstance(value, str):
        raise Invalid(f"{what} is {_kind(value)}, not a file name")
    if not value.strip() or value in (".", ".."):
        raise Invalid(f"{what} {_show(value)} is not a file name")
    if len(value.encode("utf-8", errors="surrogatepass")) > MAX_FILE_NAME:
        raise Invalid(f"{what} is {len(value)} characters long (file systems allow 255 bytes)")
    bad = sorted(set(value) & _FORBIDDEN_IN_NAMES)
    if bad:
        raise Invalid(f"{what} {_show(value)} holds characters a file name cannot have")
    return value


# --- helpers ------------------------------------------------------------------


def _scalar(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise Invalid(f"{what} is {_kind(value)}, not text")
    if isinstance(value, (int, float)):
        return str(value)
    raise Invalid(f"{what} is {_kind(value)}, not text")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def _show(value: str) -> str:
    """A short quoted form of a bad value for the message (``safe_line`` escapes it later)."""
    return repr(value if len(value) <= 60 else value[:57] + "...")
