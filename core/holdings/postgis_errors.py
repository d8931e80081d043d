"""What a PostgreSQL error means for a holding, in words for people (``postgis_store``).

By SQLSTATE: a repeated key, a value that does not fit its column, a full disk,
missing rights, a lock held by another session, a lost connection. The words
come from the server (never a password: libpq does not echo it) and go
through ``core.redact`` all the same.
"""

from __future__ import annotations

from typing import Any

from ..redact import redact
from .errors import BadSupplyError
from .store import DuplicateKey, StoreFailure


def words(err: Any) -> str:
    """The server's message on one line, without its ``ERROR:`` prefix."""
    text = str(getattr(err, "pgerror", None) or err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return redact(" ".join(lines).replace("ERROR:  ", "").replace("FATAL:  ", ""))


def failure(err: Any, schema: str) -> Exception:
    """The holding error for a psycopg2 error met in ``schema``."""
    code = getattr(err, "pgcode", None) or ""
    said = words(err)
    if code == "23505":
        return DuplicateKey(f"A key repeats ({said}).")
    if code.startswith("22"):
        return BadSupplyError(f"A value does not fit its column ({said}).")
    if code.startswith("53"):
        return StoreFailure(
            f"the database server is out of room ({said})",
            hint="Ask the server's administrator to free disk space, then run it again.",
            code=code,
        )
    if code == "42501":
        return StoreFailure(
            f"permission denied ({said})",
            hint="Ask the database administrator for the right to create and change "
            f"tables in schema {schema}.",
            code=code,
        )
    if code in ("55P03", "57014", "40P01"):
        return StoreFailure(
            f"another session holds the holding's tables ({said})",
            hint="Another program has the tables open in a long transaction; try again "
            "when it is done.",
            code=code,
        )
    if not code or code.startswith(("08", "57P")):
        return StoreFailure(
            f"the connection to the database server was lost ({said})",
            hint="Check that the server is running and reachable, then run it again.",
            code=code,
        )
    return StoreFailure(said, code=code)
