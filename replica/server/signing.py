"""Signed, expiring storage URLs in the shape of Azure Blob SAS links.

The real API redirects to ``https://<account>.blob.core.windows.net/downloads/
<ProductId>/<version>/<allGB|100kmSquares>/<format>/<fileName>?sv=...&spr=https
&se=<expiry>&sr=b&sp=r&sig=...``. Here ``sig`` is an HMAC over the blob name,
the expiry and the permissions, so a changed path or expiry is refused just as
Azure refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Mapping, Optional
from urllib.parse import quote, urlencode

SAS_VERSION = "2020-04-08"
EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class UrlSigner:
    def __init__(self, key: Optional[bytes] = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _signature(self, blob: str, expiry: str, permissions: str, version: str) -> str:
        message = "\n".join((permissions, expiry, "/blob/replica/" + blob, version)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def sign(self, storage_origin: str, blob: str, ttl_seconds: float) -> str:
        """A signed URL for ``blob`` (a path like ``downloads/OpenRivers/...``)."""
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl_seconds)
        expiry = expires.strftime(EXPIRY_FORMAT)
        query = urlencode(
            [
                ("sv", SAS_VERSION),
                ("spr", "https,http"),
                ("se", expiry),
                ("sr", "b"),
                ("sp", "r"),
                ("sig", self._signature(blob, expiry, "r", SAS_VERSION)),
            ]
        )
        return f"{storage_origin}/{quote(blob)}?{query}"

    def check(self, blob: str, params: Mapping[str, str]) -> Optional[str]:
        """None when the query signs ``blob`` and has not expired; else why not."""
        expiry, sig = params.get("se", ""), params.get("sig", "")
        if not sig or not expiry or params.get("sr") != "b" or "r" not in params.get("sp", ""):
            return "Signature fields not well formed."
        expected = self._signature(blob, expiry, params.get("sp", ""), params.get("sv", ""))
        if not hmac.compare_digest(expected, sig):
            return "Signature did not match."
        try:
            expires = datetime.strptime(expiry, EXPIRY_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            return "Signed expiry time is not a valid time."
        now = datetime.now(timezone.utc)
        if now >= expires:
            return (
                f"Signed expiry time [{_http_date(expires)}] must be after "
                f"signed start time [{_http_date(now)}]"
            )
        return None


def _http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
