"""Credentials on the API origin: project keys, the OAuth2 token endpoint.

Like OS: ``POST /oauth2/token/v1`` with ``Authorization: Basic
base64(key:secret)`` and the form ``grant_type=client_credentials`` answers
``{"access_token", "expires_in", "issued_at" (ms), "token_type": "Bearer"}``.
Data-package routes accept the key in a ``key`` header, a ``?key=`` query
parameter, or ``Authorization: Bearer <token>``; anything else is a 401 with
``{"message": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import threading
import time
from typing import Callable, Dict, Optional
from urllib.parse import parse_qsl

from .routing import Request, Response, Router, json_response

TOKEN_PATH = "/oauth2/token/v1"
_TOKEN_ALPHABET = string.ascii_letters + string.digits


class TokenStore:
    """Issued bearer tokens and when each expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: Dict[str, float] = {}

    def issue(self, ttl_seconds: float) -> str:
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(28))
        with self._lock:
            self._expiry[token] = time.monotonic() + ttl_seconds
        return token

    def status(self, token: str) -> str:
        """ "valid", "expired" or "unknown"."""
        with self._lock:
            expires = self._expiry.get(token)
        if expires is None:
            return "unknown"
        return "valid" if time.monotonic() < expires else "expired"

    def expire_all(self) -> None:
        """Make every issued token expired (a client must fetch a new one)."""
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = 0.0

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()


def unauthorized(message: str) -> Response:
    return json_response({"message": message}, 401, {"WWW-Authenticate": 'Bearer realm="OS"'})


class Credentials:
    """The project keys (key -> secret) the replica accepts, and their tokens."""

    def __init__(self, keys: Dict[str, str], token_ttl: Callable[[], float]) -> None:
        self.keys = dict(keys)
        self.tokens = TokenStore()
        self._token_ttl = token_ttl

    def authenticate(self, request: Request) -> Optional[Response]:
        """None when the request carries a valid key or token, else the 401."""
        authorization = request.header("Authorization") or ""
        if authorization.lower().startswith("bearer "):
            state = self.tokens.status(authorization[7:].strip())
            if state == "valid":
                return None
            if state == "expired":
                return unauthorized("Access Token expired")
            return unauthorized("Invalid Access Token")
        key = request.header("key")
        if key is None:
            key = request.param("key")
        if key is None or not key.strip():
            return unauthorized(
                "Missing API key or OAuth 2 access token. Data packages need the key of a "
                "project with the OS Downloads API."
            )
        if key.strip() not in self.keys:
            return unauthorized("Invalid APIKey")
        return None

    def token_endpoint(self, request: Request) -> Response:
        client = _basic_credentials(request.header("Authorization") or "")
        if client is None or self.keys.get(client[0]) != client[1]:
            return json_response(
                {"error": "invalid_client", "error_description": "Invalid client credentials"},
                401,
            )
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The only supported grant_type is client_credentials",
                },
                400,
            )
        ttl = self._token_ttl()
        token = self.tokens.issue(ttl)
        return json_response(
            {
                "access_token": token,
                "expires_in": max(0, int(round(ttl))),
                "issued_at": int(time.time() * 1000),
                "token_type": "Bearer",
            }
        )

    def router(self) -> Router:
        router = Router()
        router.add("POST", TOKEN_PATH, self.token_endpoint)
        return router


def _basic_credentials(header: str) -> Optional[tuple]:
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None
