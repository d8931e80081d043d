"""Control endpoints on the API origin, for tests and demos in another process.

- ``GET /__replica__/faults``: the fault switches now
- ``POST /__replica__/faults`` ``{switch: value}``: set switches (names as in faults.py)
- ``POST /__replica__/reset``: faults, request log and published content back to start
- ``GET /__replica__/requests[?origin=storage]``: the request log ``{"requests": [...]}``
- ``DELETE /__replica__/requests``: empty the request log
- ``POST /__replica__/tokens/expire``: every issued OAuth2 token expires now
- ``POST /__replica__/publish/package`` ``{"packageId", "reason"?, "supplyType"?,
  "productVersion"?}``: a new newest version (its newest file copied)
- ``POST /__replica__/publish/product`` ``{"productId", "version"}``: a new version string

These requests are neither logged, rate limited nor faulted.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from .faults import Faults
from .inventory import PackageVersion
from .requestlog import RequestLog
from .routing import Request, Response, Router, json_response

PREFIX = "/__replica__"


class Controlled(Protocol):
    """What the control routes drive: ``ReplicaServer`` is one (kept apart: no import back)."""

    faults: Faults
    request_log: RequestLog

    def set_faults(self, **switches: Any) -> None: ...
    def reset(self) -> None: ...
    def expire_tokens(self) -> None: ...
    def publish_package_version(
        self,
        package_id: str,
        reason: str = ...,
        supply_type: str = ...,
        files: Any = ...,
        product_version: Optional[str] = ...,
    ) -> PackageVersion: ...
    def publish_product_version(self, product_id: str, version: str) -> Any: ...


def build_control_router(server: Controlled) -> Router:
    router = Router()

    def body_object(request: Request) -> Any:
        try:
            data = request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @router.route("GET", PREFIX + "/faults")
    def get_faults(request: Request) -> Response:
        return json_response(server.faults.as_dict())

    @router.route("POST", PREFIX + "/faults")
    def set_faults(request: Request) -> Response:
        changes = body_object(request)
        if changes is None:
            return json_response({"message": "Send a JSON object of fault switches."}, 400)
        try:
            server.set_faults(**changes)
        except (ValueError, TypeError) as error:
            return json_response({"message": str(error)}, 400)
        return json_response(server.faults.as_dict())

    @router.route("POST", PREFIX + "/reset")
    def reset(request: Request) -> Response:
        server.reset()
        return json_response(server.faults.as_dict())

    @router.route("GET", PREFIX + "/requests")
    def requests_log(request: Request) -> Response:
        return json_response({"requests": server.request_log.entries(request.param("origin"))})

    @router.route("DELETE", PREFIX + "/requests")
    def clear_requests(request: Request) -> Response:
        server.request_log.clear()
        return json_response({"requests": []})

    @router.route("POST", PREFIX + "/tokens/expire")
    def expire_tokens(request: Request) -> Response:
        server.expire_tokens()
        return json_response({"message": "All issued tokens have expired."})

    @router.route("POST", PREFIX + "/publish/package")
    def publish_package(request: Request) -> Response:
        data = body_object(request) or {}
        try:
            version = server.publish_package_version(
                str(data.get("packageId", "")),
                reason=str(data.get("reason", "UPDATE")),
                supply_type=str(data.get("supplyType", "COU")),
                product_version=data.get("productVersion"),
            )
        except (KeyError, ValueError) as error:
            return json_response({"message": str(error)}, 404)
        return json_response(
            {
                "id": version.id,
                "createdOn": version.created_on,
                "files": [f.file_name for f in version.files],
            }
        )

    @router.route("POST", PREFIX + "/publish/product")
    def publish_product(request: Request) -> Response:
        data = body_object(request) or {}
        try:
            server.publish_product_version(str(data.get("productId", "")), str(data["version"]))
        except KeyError as error:
            return json_response({"message": f"Unknown product or missing field: {error}"}, 404)
        return json_response({"id": data["productId"], "version": data["version"]})

    return router
