"""Keep secrets out of every URL, message and log line.

Secrets are registered once, where they enter the program (a key read from
settings, the environment or the command line), and masked everywhere after.
TRUD puts its key in the URL path by design, so masking covers any text, not
only query strings. The ``key`` query parameter is masked even when unknown,
and so are the tokens of signed storage URLs (``sig=`` and its companions),
which grant access to a file to whoever holds the URL.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Set

from .safe_text import escape_controls

MASK = "****"
_lock = threading.Lock()
_secrets: Set[str] = set()
_KEY_PARAM = re.compile(r"([?&](?:key|api_key|apikey|access_token)=)[^&#\s]*", re.IGNORECASE)
# Query parameters of signed storage URLs: Azure SAS (sig and the fields it
# signs, user-delegation sk*), AWS and Google signed URLs, generic signature/token.
SIGNED_URL_PARAMS = (
    "sig",
    "se",
    "sv",
    "sp",
    "sr",
    "st",
    "spr",
    "si",
    "srt",
    "ss",
    "skoid",
    "sktid",
    "skt",
    "ske",
    "sks",
    "skv",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "token",
)
# Plain (``?sig=``) or URL-quoted inside another URL (``%26sig%3D``); the value
# runs to the next parameter, fragment, white space or quote.
_SIGNED_PARAM = re.compile(
    r"((?:[?&;]|%3F|%26)(?:" + "|".join(map(re.escape, SIGNED_URL_PARAMS)) + r")(?:=|%3D))"
    r"(?:(?!%26)[^&#\s\"'<>;])*",
    re.IGNORECASE,
)


def register_secret(value: str) -> None:
    """Mask ``value`` in all later redacted text. Short values are ignored."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def mask(value: str) -> str:
    """How a secret is shown to its owner: its last four characters only."""
    return f"{MASK}{value[-4:]}" if value and len(value) > 8 else MASK


def redact(text: str) -> str:
    """``text`` with every registered secret and every ``key=`` value masked."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = mask_signed_url_params(text)
    return _KEY_PARAM.sub(r"\1" + MASK, text)


def mask_signed_url_params(text: str) -> str:
    """``text`` with the values of signed-URL parameters masked, the rest kept.

    ``https://h/f.zip?sv=2021&se=…&sig=AbC%2B`` becomes
    ``https://h/f.zip?sv=****&se=****&sig=****``: host, path and file name stay
    readable in a ``--debug`` log, the token that opens the file does not.
    """
    if not text:
        return text
    return _SIGNED_PARAM.sub(r"\1" + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the fully formatted message and escapes the
    terminal control characters server text may carry (``core/safe_text.py``;
    newlines are kept for the multi-line reports this program logs itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = escape_controls(redact(record.getMessage()), keep="\n")
        record.msg, record.args = message, ()
        return True


def get_logger(name: str = "os_downloads") -> logging.Logger:
    """The package logger, with redaction on every record it emits."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
