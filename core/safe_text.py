"""Text from a server made safe to show: one line, no terminal control characters.

A product name, a file name or an API message is the server's text. Printed
raw, ESC sequences would repaint the terminal, BEL would ring, CR would
overwrite a line, a newline would forge a second ``error:`` line, and bidi
overrides would show a file name backwards. ``safe_line`` is applied to every
such string before it reaches a terminal, a log line, a message or a report.
"""

from __future__ import annotations

import re
from typing import Any

# All of C0 (tab too: it breaks columns), DEL, C1, the Unicode line and paragraph
# separators, and the format characters that reorder text (bidi marks,
# embeddings, overrides and isolates).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_line(text: Any) -> str:
    """``text`` as one printable line: control and bidi characters shown escaped.

    "a\\x1b[2Jb" -> "a\\\\x1b[2Jb"; a newline becomes the two characters ``\\n``'s
    escape ``\\x0a``, so no second line can ever start inside the text.
    """
    if text is None:
        return ""
    return _UNSAFE.sub(_escape, str(text))


def safe_block(text: Any) -> str:
    """Like ``safe_line`` but keeps newlines (for multi-line text such as a
    product's description printed on its own)."""
    if text is None:
        return ""
    return "\n".join(safe_line(line) for line in str(text).split("\n"))


def escape_controls(text: str, keep: str = "\n") -> str:
    """``text`` with every unsafe character except those in ``keep`` written as
    ``\\uXXXX``: a last guard on a whole output stream. The ``\\u`` form stays
    valid inside JSON strings, so it is safe for ``--json`` output too."""
    return _UNSAFE.sub(
        lambda m: m.group(0) if m.group(0) in keep else f"\\u{ord(m.group(0)):04x}", text
    )
