"""An answer's body as JSON, read safely: no nesting deep enough to crash, no ``Infinity``.

Below every API (OS, TRUD): ``parse_json`` raises ``Invalid`` for what no API
should send, plain ``ValueError`` when the body is not JSON at all.
"""

from __future__ import annotations

import json
import math
from typing import Any


class Invalid(ValueError):
    """What is wrong with one value of an API answer (worded for the message)."""


def parse_json(content: bytes) -> Any:
    """``content`` as JSON; ``Invalid`` for nesting too deep or non-finite numbers.

    Plain ``ValueError`` (not ``Invalid``) when it is not JSON at all, so the
    caller can say "check the API URL" for an HTML page.
    """
    try:
        return json.loads(content, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise Invalid("the JSON is nested too deeply to read") from None


def _no_constant(name: str) -> Any:
    raise Invalid(f"the JSON holds {name}, which is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(f"the number {text[:40]} is too large")
    return value
