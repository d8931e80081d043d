"""Credentials for the OS data-package endpoints.

Two ways OS accepts: the project API key in a ``key`` header (never the
``?key=`` query form, which ends up in proxy logs and history), or an OAuth2
client-credentials token. Either way the secret stays out of every URL, and
the client attaches these headers only to requests to the API's own origin.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Dict, Optional, Union

import requests

from ..errors import AuthenticationError, ConfigurationError
from ..redact import register_secret

if TYPE_CHECKING:
    from ..net.http import HttpClient

TOKEN_PATH = "/oauth2/token/v1"  # nosec B105 - the token endpoint's path, not a secret
RENEW_MARGIN_SECONDS = 30.0


class ApiKeyAuth:
    """The project API key, sent in the ``key`` header."""

    def __init__(self, key: str) -> None:
        key = (key or "").strip()
        if not key:
            raise ConfigurationError("No API key is configured.")
        register_secret(key)
        self._key = key

    def headers(self, http: HttpClient, *, refresh: bool = False) -> Dict[str, str]:
        return {"key": self._key}

    def can_refresh(self) -> bool:
        return False


class OAuth2ClientCredentials:
    """A bearer token from the OS OAuth2 endpoint, cached until near expiry.

    ``token_url`` defaults to ``/oauth2/token/v1`` on the API's origin, where
    OS serves it; the client fills it in.
    """

    def __init__(self, key: str, secret: str, token_url: Optional[str] = None) -> None:
        key, secret = (key or "").strip(), (secret or "").strip()
        if not key or not secret:
            raise ConfigurationError("OAuth2 needs both the project API key and its secret.")
        register_secret(key)
        register_secret(secret)
        self._key, self._secret = key, secret
        self.token_url = token_url
        self._token: Optional[str] = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def headers(self, http: HttpClient, *, refresh: bool = False) -> Dict[str, str]:
        with self._lock:
            if refresh or self._token is None or time.monotonic() >= self._expires_at:
                self._fetch_token(http)
            return {"Authorization": f"Bearer {self._token}"}

    def can_refresh(self) -> bool:
        return True

    def _fetch_token(self, http: HttpClient) -> None:
        if not self.token_url:
            raise ConfigurationError("No OAuth2 token URL is configured.")
        response = http.request(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": requests.auth._basic_auth_str(self._key, self._secret),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        try:
            body = response.json()
            token = str(body["access_token"])
            ttl = float(body.get("expires_in", 299))
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(
                "The OAuth2 token endpoint sent an answer without an access token.",
                status=response.status_code,
                url=self.token_url,
            ) from None
        finally:
            response.close()
        register_secret(token)
        self._token = token
        # Renew before expiry: a margin, but never more than half the lifetime.
        self._expires_at = time.monotonic() + max(ttl - min(RENEW_MARGIN_SECONDS, ttl / 2), 0.0)


Auth = Union[ApiKeyAuth, OAuth2ClientCredentials]


def make_auth(
    key: Optional[str], secret: Optional[str] = None, *, token_url: Optional[str] = None
) -> Optional[Auth]:
    """The one way a key (and secret) becomes credentials, for every interface.

    None when there is no key (OpenData needs none); the ``key`` header for a
    key alone; OAuth2 client credentials when a secret comes with it. Blank
    values count as missing, and whatever is given is registered for redaction.
    """
    key, secret = (key or "").strip(), (secret or "").strip()
    if not key:
        return None
    if secret:
        return OAuth2ClientCredentials(key, secret, token_url=token_url)
    return ApiKeyAuth(key)
