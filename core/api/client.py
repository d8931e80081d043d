"""A typed client for every endpoint of the OS Downloads API.

OpenData endpoints need no credentials; data-package endpoints get the
configured auth's headers, and only requests to the API's own origin ever do.
Download URLs answer with a redirect (307 in 2020/2021 captures, with or
without a JSON body; 302 in 2026 reports) to a signed storage URL on another
origin: ``resolve_download`` asks for that redirect and returns the target,
which is then fetched with ``storage_session`` (no credentials at all).

When a request carries ``?key=``, the real API echoes the key into every URL
of its answer. This client sends its key in a header, and still strips any
``key`` query parameter from every URL it reads back (``strip_key_param``), so
a key never ends up in a URL it follows, stores or logs.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar
from urllib.parse import quote, urlsplit

import requests

from ..errors import ApiError, ConfigurationError, DownloadError, UnexpectedResponse
from ..net.http import DEFAULT_TIMEOUT, REDIRECTS, REQUEST_DEADLINE, HttpClient, Timeout
from ..net.json_body import Invalid, parse_json
from ..net.ratelimit import RateLimiter
from ..net.retry import RetryPolicy
from ..net.transport import copy_transport, location, origin, resolve_base_url
from ..redact import redact
from .auth import TOKEN_PATH, Auth, OAuth2ClientCredentials
from .models import (
    LATEST,
    DataPackage,
    DataPackageVersion,
    DataPackageVersionSummary,
    Product,
    ProductDownload,
    sort_versions_newest_first,
)
from .validate import answer, objects

DEFAULT_BASE_URL = "https://api.os.uk/downloads/v1"
BASE_URL_ENV = "OS_DOWNLOADS_API_URL"

T = TypeVar("T")


def strip_key_param(url: str) -> str:
    """``url`` without any ``key`` query parameter (any case), the rest untouched."""
    if "key=" not in url.lower():
        return url
    base, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    kept = [p for p in query.split("&") if p.split("=", 1)[0].lower() != "key"]
    return base + ("?" + "&".join(kept) if kept else "") + hash_sep + fragment


def _strip_keys(data: Any) -> Any:
    """Every http(s) URL string in a JSON answer, without its ``key`` parameter."""
    if isinstance(data, str):
        return strip_key_param(data) if data.startswith(("http://", "https://")) else data
    if isinstance(data, list):
        return [_strip_keys(item) for item in data]
    if isinstance(data, dict):
        return {k: _strip_keys(v) for k, v in data.items()}
    return data


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
        self.base_url = resolve_base_url(base_url, env_var=BASE_URL_ENV, default=DEFAULT_BASE_URL)
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
        return self._get("/products", _each(Product.from_json, "products"), params=params)

    def product(self, product_id: str) -> Product:
        return self._get(f"/products/{_seg(product_id)}", Product.from_json)

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
        return self._get(
            f"/products/{_seg(product_id)}/downloads",
            _each(ProductDownload.from_json, "downloads"),
            params=params or None,
        )

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
        return self._get("/dataPackages", _each(DataPackage.from_json, "data packages"), auth=True)

    def data_package(self, package_id: str) -> DataPackage:
        return self._get(f"/dataPackages/{_seg(package_id)}", DataPackage.from_json, auth=True)

    def data_package_versions(self, package_id: str) -> List[DataPackageVersionSummary]:
        """Versions of a package, newest first."""
        versions = self._get(
            f"/dataPackages/{_seg(package_id)}/versions",
            _each(DataPackageVersionSummary.from_json, "versions"),
            auth=True,
        )
        return sort_versions_newest_first(versions)

    def data_package_version(self, package_id: str, version_id: str = LATEST) -> DataPackageVersion:
        path = f"/dataPackages/{_seg(package_id)}/versions/{_seg(version_id or LATEST)}"
        return self._get(path, DataPackageVersion.from_json, auth=True)

    # --- downloads ----------------------------------------------------------

    def resolve_download(self, url: str) -> str:
        """The signed storage URL that an API download URL redirects to.

        Any 3xx with a ``Location`` will do; its body (JSON, empty, or none) is
        never read. A ``key`` parameter in ``url`` is dropped, not followed.
        """
        url = strip_key_param(url)
        if origin(url) != self.origin:
            raise DownloadError(
                f"Refusing to ask {origin(redact(url))} for a download: it is not the API's "
                f"origin ({self.origin})."
            )
        needs_auth = "/dataPackages/" in urlsplit(url).path
        response = self._request("GET", url, auth=needs_auth, ok=(200, *REDIRECTS), stream=True)
        try:
            target = location(response) if 300 <= response.status_code < 400 else ""
            if target:
                return strip_key_param(target)
        finally:
            response.close()
        raise DownloadError(
            f"The API did not redirect {redact(url)} to a file; it may match several files.",
            hint="Choose a single format and area.",
        )

    # --- plumbing -----------------------------------------------------------

    def _get(
        self,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Optional[Mapping[str, str]] = None,
        auth: bool = False,
    ) -> T:
        """GET ``path`` and ``parse`` its JSON into models; ``UnexpectedResponse``
        (naming ``path``) for an answer of the wrong shape (``core/validate.py``)."""
        response = self._request("GET", self.base_url + path, params=params, auth=auth)
        try:
            body = parse_json(response.content)
        except Invalid as problem:
            raise UnexpectedResponse.for_path(path, str(problem)) from None
        except ValueError:
            raise ApiError(
                f"The API sent something that is not JSON for {redact(response.url or path)}.",
                status=response.status_code,
                url=redact(response.url or path),
                hint=f"Check the API URL setting (now {self.base_url}).",
            ) from None
        finally:
            response.close()
        return answer(path, _strip_keys(body), parse)

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Optional[Mapping[str, str]] = None,
        auth: bool = False,
        ok: tuple = (200,),
        stream: bool = False,
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
            method,
            url,
            params=params,
            headers=headers,
            ok=ok,
            stream=stream,
            on_unauthorized=refresh,
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


def _each(parse: Callable[[Any], T], what: str) -> Callable[[Any], List[T]]:
    """A parser for a JSON array of objects, each parsed by ``parse``."""
    return lambda body: [parse(item) for item in objects(body, what)]


def _seg(value: str) -> str:
    """One URL path segment, safely quoted (ids come from users and files)."""
    return quote(str(value), safe="")
