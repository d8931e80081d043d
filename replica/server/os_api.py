"""The OS Downloads API routes (``/downloads/v1/...``), as OS serves them.

Every URL in a response is built from the request's own base, in the real
form: product download URLs carry their filter form-encoded (``+`` for spaces,
``®`` and brackets percent-encoded) and end in ``&redirect``; data-package
download URLs are ``.../versions/{id}/downloads?fileName=...``. Both redirect
to a signed storage URL, in the form the ``redirect_form`` switch picks (307
with a JSON body as captured in 2021, 307 with no body as in 2020, or 302 as
reported in 2026). JSON is compact, as the real API's is. When a data-package
request carries ``?key=``, every URL of the answer carries the key back, as
the real API's do (research 1.4). Data-package routes need a key or token (see
``oauth.py``); OpenData routes need nothing. In front of every API route sit
the rate limiter and the injected faults (see ``faults.py``): 429 and 503
answers, requests held unanswered, and answers whose body is cut short, runs
past its length, is reset half-way or trickles in a byte at a time.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote, quote_plus, urlencode

from .faults import Faults
from .inventory import (
    Inventory,
    PackageEntry,
    PackageVersion,
    ProductEntry,
    ProductFile,
    StoredFile,
)
from .oauth import Credentials
from .openapi import openapi_yaml
from .routing import (
    API_HEADERS,
    CORS_HEADERS,
    JSON_TYPE,
    Request,
    Response,
    Router,
    compact_json,
    json_response,
    text_response,
)
from .signing import UrlSigner
from .wire import broken_answer, held_answer

API_PREFIX = "/downloads/v1"
LATEST = "latest"
# The documented Area enum; BGS products also use UK and NI.
_AREA_CODES = (
    "GB HP HT HU HW HX HY HZ NA NB NC ND NF NG NH NJ NK NL NM NN NO NR NS NT NU NW NX NY NZ "
    "OV SD SE TA SH SJ SK TF TG SM SN SO SP TL TM SR SS ST SU TQ TR SV SW SX SY SZ TV UK NI"
)
AREAS = frozenset(_AREA_CODES.split())
DOCUMENTATION = ("overview", "gettingStarted", "technicalSpecification")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _is_api(request: Request) -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _fault_body(text: str, code: str) -> Dict[str, Any]:
    return {"fault": {"faultstring": text, "detail": {"errorcode": code}}}


class OsApi:
    """Builds the API router over an inventory; holds what the handlers share."""

    def __init__(
        self,
        inventory: Inventory,
        signer: UrlSigner,
        faults: Faults,
        credentials: Credentials,
        storage_origin: Callable[[], str],
    ) -> None:
        self.inventory = inventory
        self.signer = signer
        self.faults = faults
        self.credentials = credentials
        self.storage_origin = storage_origin

    # --- the router -------------------------------------------------------------

    def router(self) -> Router:
        router = Router()
        router.hooks.append(self._gate)
        router.filters.append(self._break_body)
        router.not_found = self._not_found
        p = API_PREFIX
        router.add("GET", p, self.landing)
        router.add("GET", p + "/openapi.yaml", self.openapi)
        router.add("GET", p + "/products", self.products)
        router.add("GET", p + "/products/{product_id}", self.product)
        router.add("GET", p + "/products/{product_id}/downloads", self.product_downloads)
        router.add("GET", p + "/products/{product_id}/images/{index}", self.product_image)
        router.add("GET", p + "/dataPackages", self.data_packages)
        router.add("GET", p + "/dataPackages/{package_id}", self.data_package)
        router.add("GET", p + "/dataPackages/{package_id}/versions", self.versions)
        router.add("GET", p + "/dataPackages/{package_id}/versions/{version_id}", self.version)
        router.add(
            "GET",
            p + "/dataPackages/{package_id}/versions/{version_id}/downloads",
            self.version_download,
        )
        return router

    def _gate(self, request: Request) -> Optional[Response]:
        """Rate limit and injected faults, before any API route."""
        if not _is_api(request):
            return None
        hold = self.faults.take_api_hold()
        if hold is not None:
            generation = self.faults.generation
            return held_answer(hold, lambda: self.faults.generation != generation)
        override = self.faults.api_status_override()
        if override == 429 or self.faults.rate_limited():
            headers = {}
            if self.faults.retry_after is not None:
                seconds = self.faults.retry_after
                headers["Retry-After"] = (
                    str(int(seconds)) if seconds == int(seconds) else str(seconds)
                )
            body = _fault_body(
                "Rate limit quota violation. Quota limit exceeded. Identifier : _default",
                "policies.ratelimit.QuotaViolation",
            )
            return json_response(body, 429, headers)
        if override == 503:
            body = _fault_body(
                "The Service is temporarily unavailable",
                "messaging.adaptors.http.flow.ServiceUnavailable",
            )
            return json_response(body, 503)
        served = self.faults.body_for(request.path[len(API_PREFIX) :] or "/")
        if served is not None:
            status, raw = served
            return Response(status, {"Content-Type": JSON_TYPE}, raw.encode("utf-8"))
        return None

    def _break_body(self, request: Request, response: Response) -> Response:
        """An API answer, broken the way a body fault switch says (if one is on)."""
        if not _is_api(request) or response.takeover is not None or response.stream is not None:
            return response
        kind = self.faults.take_api_body_fault()
        if kind is None:
            return response
        if request.log_entry is not None:
            request.log_entry["fault"] = kind
        generation = self.faults.generation
        return broken_answer(
            response,
            kind,
            seconds_per_byte=self.faults.api_trickle_seconds,
            stop=lambda: self.faults.generation != generation,
        )

    @staticmethod
    def base(request: Request) -> str:
        return request.host_url + API_PREFIX

    def not_found(
        self, request: Request, message: str, product_id: Optional[str] = None
    ) -> Response:
        """A 404 with the documented fields: message and links onward (research 1.3)."""
        base = self.base(request)
        body: Dict[str, Any] = {
            "message": message,
            "dataPackagesUrl": base + "/dataPackages",
            "downloadCatalogueUrl": base + "/products",
        }
        if product_id is not None:
            body["productUrl"] = f"{base}/products/{_seg(product_id)}"
            body["productDownloadsUrl"] = f"{base}/products/{_seg(product_id)}/downloads"
        return json_response(body, 404)

    def _not_found(self, request: Request) -> Response:
        return self.not_found(request, "The requested resource does not exist.")

    def redirect(self, target: str, body: Optional[Dict[str, Any]], route_form: str) -> Response:
        """A download redirect in the form the ``redirect_form`` switch picks."""
        form = self.faults.redirect_form
        if form == "varied":
            form = route_form
        if form == "302":
            headers = {"Location": target, "Content-Type": JSON_TYPE, **API_HEADERS}
            return Response(302, headers, compact_json(body) if body is not None else b"")
        if form == "json" and body is not None:
            return json_response(body, 307, {"Location": target})
        return Response(307, {"Location": target, "Content-Length": "0", **CORS_HEADERS}, b"")

    def echo_key(self, request: Request, data: Any) -> Any:
        """``data`` with the request's ``?key=`` appended to every URL, as OS does."""
        key = request.param("key")
        if key is None and self.faults.echo_key:
            key = request.header("key")
        if not key:
            return data
        suffix = "key=" + quote_plus(key)

        def echo(value: Any) -> Any:
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return value + ("&" if "?" in value else "?") + suffix
            if isinstance(value, list):
                return [echo(v) for v in value]
            if isinstance(value, dict):
                return {k: echo(v) for k, v in value.items()}
            return value

        return echo(data)

    # --- landing and spec ---------------------------------------------------------

    def landing(self, request: Request) -> Response:
        base = self.base(request)
        links = [
            {"href": base, "rel": "self", "type": "application/json", "title": "This document"},
            {
                "href": base + "/products",
                "rel": "products",
                "type": "application/json",
                "title": "OS OpenData products",
            },
            {
                "href": base + "/dataPackages",
                "rel": "dataPackages",
                "type": "application/json",
                "title": "Data packages available to you",
            },
            {
                "href": base + "/openapi.yaml",
                "rel": "service-desc",
                "type": "application/yaml",
                "title": "OpenAPI definition",
            },
        ]
        links += [
            {
                "href": f"https://osdatahub.os.uk/docs/downloads/{page}",
                "rel": "documentation",
                "type": "text/html",
                "title": page,
            }
            for page in DOCUMENTATION
        ]
        return json_response({"links": links})

    def openapi(self, request: Request) -> Response:
        return text_response(openapi_yaml(self.base(request)), content_type="application/yaml")

    # --- OpenData -------------------------------------------------------------------

    def products(self, request: Request) -> Response:
        base = self.base(request)
        expanded = request.has_flag("expanded")
        return json_response(
            [self.product_json(p, base, expanded) for p in self.inventory.products()]
        )

    def product(self, request: Request, product_id: str) -> Response:
        product = self.inventory.product(product_id)
        if product is None:
            return self._no_product(request, product_id)
        return json_response(self.product_json(product, self.base(request)))

    def product_downloads(self, request: Request, product_id: str) -> Response:
        base = self.base(request)
        product = self.inventory.product(product_id)
        if product is None:
            return self._no_product(request, product_id)
        area = request.param("area") or None
        if area is not None and area not in AREAS:
            return json_response({"message": f"Invalid area '{area}'."}, 400)
        wanted = {
            "file_name": request.param("fileName") or None,
            "format": request.param("format") or None,
            "subformat": request.param("subformat") or None,
            "area": area,
        }
        matches = [
            d
            for d in product.downloads
            if all(value is None or getattr(d, key) == value for key, value in wanted.items())
        ]
        listed = [self.download_json(product, d, base) for d in matches]
        if not request.has_flag("redirect"):
            return json_response(listed)
        if len(matches) == 1:
            target = self._sign(matches[0].stored)
            return self.redirect(target, listed[0], "json")
        if not matches:
            return self.not_found(
                request,
                "No download matches the requested fileName, format, subformat and area.",
                product.id,
            )
        return json_response(listed)  # several matches: nothing to redirect to

    def product_image(self, request: Request, product_id: str, index: str) -> Response:
        product = self.inventory.product(product_id)
        if product is None:
            return self._no_product(request, product_id)
        images = (
            (product.images_large or product.images)
            if request.has_flag("large")
            else product.images
        )
        if not index.isdigit() or int(index) >= len(images):
            return self.not_found(
                request,
                f"Product '{product.id}' has no image {index}; valid indexes are "
                f"0 to {len(product.images) - 1}.",
                product.id,
            )
        target = self._sign(images[int(index)])
        return Response(307, {"Location": target, "Content-Type": JSON_TYPE}, b"")

    def _no_product(self, request: Request, product_id: str) -> Response:
        return self.not_found(request, f"No product found with id '{product_id}'.")

    # --- data packages ------------------------------------------------------------------

    def data_packages(self, request: Request) -> Response:
        refused = self.credentials.authenticate(request)
        if refused is not None:
            return refused
        base = self.base(request)
        data = [self.package_json(p, base) for p in self.inventory.packages()]
        return json_response(self.echo_key(request, data))

    def data_package(self, request: Request, package_id: str) -> Response:
        package, refused = self._package(request, package_id)
        if package is None:
            return refused
        return json_response(self.echo_key(request, self.package_json(package, self.base(request))))

    def versions(self, request: Request, package_id: str) -> Response:
        package, refused = self._package(request, package_id)
        if package is None:
            return refused
        base = self.base(request)
        data = [self.summary_json(package, v, base) for v in package.newest_first()]
        return json_response(self.echo_key(request, data))

    def version(self, request: Request, package_id: str, version_id: str) -> Response:
        package, refused = self._package(request, package_id)
        if package is None:
            return refused
        ordered = package.newest_first()
        position = self._version_position(ordered, version_id)
        if position is None:
            return self._no_version(request, package, version_id)
        base = self.base(request)
        version = ordered[position]
        data = self.summary_json(package, version, base)
        if position > 0:
            data["nextVersionUrl"] = self.version_url(package, ordered[position - 1], base)
        if position + 1 < len(ordered):
            data["previousVersionUrl"] = self.version_url(package, ordered[position + 1], base)
        data["downloads"] = [
            self.package_download_json(package, version, f, base) for f in version.files
        ]
        return json_response(self.echo_key(request, data))

    def version_download(self, request: Request, package_id: str, version_id: str) -> Response:
        package, refused = self._package(request, package_id)
        if package is None:
            return refused
        ordered = package.newest_first()
        position = self._version_position(ordered, version_id)
        if position is None:
            return self._no_version(request, package, version_id)
        file_name = request.param("fileName")
        if not file_name:
            return json_response({"message": "The fileName parameter is required."}, 400)
        for stored in ordered[position].files:
            if stored.file_name == file_name:
                return self.redirect(self._sign(stored), None, "empty")
        return self.not_found(
            request,
            f"Data package '{package.id}' version '{version_id}' has no file '{file_name}'.",
        )

    def _package(self, request: Request, package_id: str) -> Any:
        """(package, None) or (None, the 401/404 response)."""
        refused = self.credentials.authenticate(request)
        if refused is not None:
            return None, refused
        package = self.inventory.package(package_id)
        if package is None:
            return None, self.not_found(request, f"No data package found with id '{package_id}'.")
        return package, None

    @staticmethod
    def _version_position(ordered: List[PackageVersion], version_id: str) -> Optional[int]:
        if version_id == LATEST:
            return 0 if ordered else None
        for position, version in enumerate(ordered):
            if version.id == version_id:
                return position
        return None

    def _no_version(self, request: Request, package: PackageEntry, version_id: str) -> Response:
        return self.not_found(request, f"No version '{version_id}' of data package '{package.id}'.")

    # --- JSON shapes ------------------------------------------------------------------------

    def product_json(
        self, product: ProductEntry, base: str, expanded: bool = True
    ) -> Dict[str, Any]:
        url = f"{base}/products/{_seg(product.id)}"
        if not expanded:
            d = product.details
            return {
                "id": product.id,
                "name": d.get("name"),
                "description": d.get("description"),
                "version": d.get("version"),
                "url": url,
            }
        extra = {
            "imageTemplate": url + "/images/{index}",
            "downloadsUrl": url + "/downloads",
        }
        data: Dict[str, Any] = {}
        for key, value in product.details.items():
            if key == "areas" and isinstance(value, list):
                value = sorted(value)  # live records list areas alphabetically
            data[key] = value
            if key == "version":
                data["url"] = url
            elif key == "imageCount":
                data.update(extra)
        data.setdefault("url", url)
        for key, value in extra.items():
            data.setdefault(key, value)
        return data

    def download_json(
        self, product: ProductEntry, download: ProductFile, base: str
    ) -> Dict[str, Any]:
        data: Dict[str, Any] = {}
        if not download.unverified:  # else listed without md5 and size, as some real ones are
            data = self._checksummed(download.stored)
        data["fileName"] = download.file_name
        data["url"] = self.product_download_url(product, download, base)
        data["format"] = download.format
        data["area"] = download.area
        if download.subformat:
            data["subformat"] = download.subformat
        return data

    @staticmethod
    def product_download_url(product: ProductEntry, download: ProductFile, base: str) -> str:
        """The real form: ``...downloads?area=GB&format=ESRI%C2%AE+Shapefile&redirect``."""

        def key(d: ProductFile) -> tuple:
            return (d.area, d.format, d.subformat)

        pairs = [("area", download.area), ("format", download.format)]
        if download.subformat:
            pairs.append(("subformat", download.subformat))
        if Counter(key(d) for d in product.downloads)[key(download)] > 1:
            pairs.append(("fileName", download.file_name))
        return f"{base}/products/{_seg(product.id)}/downloads?{urlencode(pairs)}&redirect"

    def package_json(self, package: PackageEntry, base: str) -> Dict[str, Any]:
        return {
            "id": package.id,
            "name": package.name,
            "url": f"{base}/dataPackages/{_seg(package.id)}",
            "createdOn": package.created_on,
            "productId": package.product_id,
            "productName": package.product_name,
            "versions": [self.summary_json(package, v, base) for v in package.newest_first()],
        }

    @staticmethod
    def version_url(package: PackageEntry, version: PackageVersion, base: str) -> str:
        return f"{base}/dataPackages/{_seg(package.id)}/versions/{_seg(version.id)}"

    def summary_json(
        self, package: PackageEntry, version: PackageVersion, base: str
    ) -> Dict[str, Any]:
        return {
            "id": version.id,
            "url": self.version_url(package, version, base),
            "createdOn": version.created_on,
            "reason": version.reason,
            "supplyType": version.supply_type,
            "productVersion": version.product_version,
            "format": version.format,
            "dataPackageUrl": f"{base}/dataPackages/{_seg(package.id)}",
        }

    def package_download_json(
        self, package: PackageEntry, version: PackageVersion, stored: StoredFile, base: str
    ) -> Dict[str, Any]:
        data = self._checksummed(stored)
        data["fileName"] = stored.file_name
        data["url"] = (
            f"{self.version_url(package, version, base)}/downloads?fileName="
            f"{quote_plus(stored.file_name)}"
        )
        return data

    def _checksummed(self, stored: StoredFile) -> Dict[str, Any]:
        """``md5`` then ``size`` (the real key order); both absent if the file is."""
        size, md5 = self.inventory.size_and_md5(stored)
        data: Dict[str, Any] = {}
        if md5 is not None:
            if self.faults.md5_is_wrong(stored.file_name):
                md5 = hashlib.md5(("wrong:" + md5).encode()).hexdigest()
            data["md5"] = md5
        if size is not None:
            data["size"] = size
        return data

    def _sign(self, stored: StoredFile) -> str:
        return self.signer.sign(
            self.storage_origin(), stored.blob, self.faults.signed_url_ttl_seconds
        )
