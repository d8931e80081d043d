"""A typed client for every endpoint of the OS Downloads API.

OpenData endpoints need no credentials; data-package endpoints get the
configured auth's headers, and only requests to the API's own origin ever do.
Download URLs answer with a 307 to a signed storage URL on another origin:
``resolve_download`` asks for that redirect and returns the target, which is
then fetched with ``storage_session`` (no credentials at all).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Union
from urllib.parse import quote, urlsplit

import requests

from .auth import TOKEN_PATH, ApiKeyAuth, OAuth2ClientCredentials
from .errors import ApiError, ConfigurationError, DownloadError
from .http import (
    DEFAULT_TIMEOUT,
    REDIRECTS,
    REQUEST_DEADLINE,
    HttpClient,
    Timeout,
    copy_transport,
    location,
    origin,
)
from .models import (
    LATEST,
    DataPackage,
    DataPackageVersion,
    DataPackageVersionSummary,
    Product,
    ProductDownload,
    sort_versions_newest_first,
)
from .ratelimit import RateLimiter
from .redact import redact
from .retry import RetryPolicy

DEFAULT_BASE_URL = "https://api.os.uk/downloads/v1"
BASE_URL_ENV = "OS_DOWNLOADS_API_URL"

Auth = Union[ApiKeyAuth, OAuth2ClientCredentials]


def resolve_base_url(explicit: Optional[str] = None) -> str:
    """The API base URL: the explicit setting, else the env override, else OS's."""
    url = (explicit or "").strip() or os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"The API URL {redact(url)!r} is not an http(s) URL.")
    return url.rstrip("/")


class OSDownloadsClient:
    def __init__(
        self,
        base_url: Optional[str] = None,
        auth: Optional[Auth] = None,
        session: Optional[requests.Session] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        cancel: Optional[threading.Event] = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        deadline: Optional[float] = REQUEST_DEADLINE,
        rate_limiter: Optional[RateLimiter] = None,
    ) -> None:
        """``timeout``: (connect, read) seconds for each try; ``deadline``: seconds
        for one API call in all; ``rate_limiter``: the process's by default."""
        self.base_url = resolve_base_url(base_url)
        self.origin = origin(self.base_url)
        self.http = HttpClient(
            session,
            retry=retry,
            cancel=cancel,
            timeout=timeout,
            deadline=deadline,
            limiter=rate_limiter,
        )
        self.auth = auth
        if isinstance(auth, OAuth2ClientCredentials) and not auth.token_url:
            auth.token_url = self.origin + TOKEN_PATH
        self._storage_session: Optional[requests.Session] = None

    def close(self) -> None:
        """Release both sessions' connections."""
        self.http.session.close()
        if self._storage_session is not None:
            self._storage_session.close()

    def __enter__(self) -> OSDownloadsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_credentials(self) -> bool:
        return self.auth is not None

    @property
    def storage_session(self) -> requests.Session:
        """For signed storage URLs: same proxy/TLS set-up, never any credential."""
        if self._storage_session is None:
            agent = self.http.session.headers.get("User-Agent", "")
            self._storage_session = copy_transport(self.http.session, str(agent))
        return self._storage_session

    # --- OpenData -----------------------------------------------------------

    def products(self, expanded: bool = False) -> List[Product]:
        params = {"expanded": "true"} if expanded else None
        return [Product.from_json(p) for p in self._get("/products", params=params)]

    def product(self, product_id: str) -> Product:
        return Product.from_json(self._get(f"/products/{_seg(product_id)}"))

    def product_downloads(
        self,
        product_id: str,
        file_name: Optional[str] = None,
        format: Optional[str] = None,
        subformat: Optional[str] = None,
        area: Optional[str] = None,
    ) -> List[ProductDownload]:
        params = {
            k: v
            for k, v in (
                ("fileName", file_name),
                ("format", format),
                ("subformat", subformat),
                ("area", area),
            )
            if v
        }
        data = self._get(f"/products/{_seg(product_id)}/downloads", params=params or None)
        return [ProductDownload.from_json(d) for d in data]

    def product_image(self, product_id: str, index: int = 0, large: bool = False) -> bytes:
        """The product's thumbnail (JPEG bytes), following the redirect to storage."""
        url = f"{self.base_url}/products/{_seg(product_id)}/images/{int(index)}"
        response = self.http.request(
            "GET", url, params={"large": "true"} if large else None, ok=(200, *REDIRECTS)
        )
        try:
            if response.status_code == 200:
                return response.content
            target = location(response)
        finally:
            response.close()
        image = self._storage_get(target)
        try:
            return image.content
        finally:
            image.close()

    # --- data packages ------------------------------------------------------

    def data_packages(self) -> List[DataPackage]:
        return [DataPackage.from_json(p) for p in self._get("/dataPackages", auth=True)]

    def data_package(self, package_id: str) -> DataPackage:
        return DataPackage.from_json(self._get(f"/dataPackages/{_seg(package_id)}", auth=True))

    def data_package_versions(self, package_id: str) -> List[DataPackageVersionSummary]:
        """Versions of a package, newest first."""
        data = self._get(f"/dataPackages/{_seg(package_id)}/versions", auth=True)
        return sort_versions_newest_first([DataPackageVersionSummary.from_json(v) for v in data])

    def data_package_version(self, package_id: str, version_id: str = LATEST) -> DataPackageVersion:
        path = f"/dataPackages/{_seg(package_id)}/versions/{_seg(version_id or LATEST)}"
        return DataPackageVersion.from_json(self._get(path, auth=True))

    # --- downloads ----------------------------------------------------------

    def resolve_download(self, url: str) -> str:
        """The signed storage URL that an API download URL redirects to."""
        if origin(url) != self.origin:
            raise DownloadError(
                f"Refusing to ask {origin(redact(url))} for a download: it is not the API's "
                f"origin ({self.origin})."
            )
        needs_auth = "/dataPackages/" in urlsplit(url).path
        response = self._request("GET", url, auth=needs_auth, ok=(200, *REDIRECTS))
        try:
            if response.status_code in REDIRECTS and location(response):
                return location(response)
        finally:
            response.close()
        raise DownloadError(
            f"The API did not redirect {redact(url)} to a file; it may match several files.",
            hint="Choose a single format and area.",
        )

    # --- plumbing -----------------------------------------------------------

    def _get(
        self, path: str, *, params: Optional[Mapping[str, str]] = None, auth: bool = False
    ) -> Any:
        response = self._request("GET", self.base_url + path, params=params, auth=auth)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"The API sent something that is not JSON for {redact(response.url or path)}.",
                status=response.status_code,
                url=redact(response.url or path),
                hint=f"Check the API URL setting (now {self.base_url}).",
            ) from None
        finally:
            response.close()

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Optional[Mapping[str, str]] = None,
        auth: bool = False,
        ok: tuple = (200,),
    ) -> requests.Response:
        headers: Dict[str, str] = {}
        refresh = None
        if auth:
            if self.auth is None:
                raise ConfigurationError(
                    "Data packages need an OS Data Hub API key.",
                    hint="Add your key in the OS Downloads settings "
                    "(command line: --key or OS_API_KEY).",
                )
            if origin(url) != self.origin:  # credentials only ever go to the API origin
                raise ConfigurationError(f"Refusing to send credentials to {origin(redact(url))}.")
            headers.update(self.auth.headers(self.http))
            if self.auth.can_refresh():
                refresh = lambda: self.auth.headers(self.http, refresh=True)  # noqa: E731
        return self.http.request(
            method, url, params=params, headers=headers, ok=ok, on_unauthorized=refresh
        )

    def _storage_get(self, url: str) -> requests.Response:
        storage = HttpClient(
            self.storage_session,
            retry=self.http.retry,
            cancel=self.http.cancel,
            timeout=self.http.timeout,
            deadline=self.http.deadline,
        )
        return storage.request("GET", url)


def _seg(value: str) -> str:
    """One URL path segment, safely quoted (ids come from users and files)."""
    return quote(str(value), safe="")
