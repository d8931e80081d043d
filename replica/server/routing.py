"""A tiny HTTP framework for the replica's origins (stdlib only).

Each origin (API, storage, TRUD, ...) is one ``OriginServer``: a
``ThreadingHTTPServer`` on its own 127.0.0.1 port that hands every request to
a ``Router``. A route handler is ``handler(request, **path_params) ->
Response``. A ``Response`` carries either ``body`` bytes or a ``stream``
callable that writes the body itself straight to the socket (the storage
origin uses it for ``sendfile``, throttling and dropped connections).

Adding routes to a new origin::

    router = Router()

    @router.route("GET", "/trud/api/v1/keys/{key}/items/{item}/releases")
    def releases(request, key, item):
        return json_response({"releases": []})

    server.add_origin("trud", router)      # ReplicaServer, see replica/server/replica_server.py

Path templates match whole segments; ``{name}`` captures one percent-decoded
segment, a last ``{name*}`` the decoded rest of the path (one segment or more).
``hooks`` run before dispatch (rate limiting, injected faults) and may answer
instead of the route; ``filters`` run on every answer and may replace it
(``filter(request, response) -> Response``: the API's broken-body faults). A
``Response`` with ``takeover`` set writes nothing itself: ``takeover(sock)``
writes the whole answer, status line included, or nothing at all (a server
that never answers), and the connection is closed after it. Each request-log
entry carries ``time`` (``time.time()`` when the request arrived).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

from .requestlog import RequestLog

log = logging.getLogger("os_downloads.replica")

JSON_TYPE = "application/json;charset=UTF-8"
# Headers the real API sends on every answer (the 2021 captured 307, research 1.4).
API_HEADERS = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1 ; mode=block",
    "Referrer-Policy": "no-referrer",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, x-requested-with, accept",
    "Access-Control-Max-Age": "3628800",
    "Access-Control-Allow-Methods": "GET",
}
# The 2020 captured 307 had only the CORS headers.
CORS_HEADERS = {k: v for k, v in API_HEADERS.items() if k.startswith("Access-Control-")}


def compact_json(data: Any) -> bytes:
    """UTF-8 JSON without spaces, as the real API sends it (research 1.4)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Request:
    """What a handler needs to know about one HTTP request."""

    origin: str  # the origin's name: "api", "storage", "trud", ...
    method: str
    path: str  # raw path, still percent-encoded, without the query
    query_string: str
    headers: Dict[str, str]  # header names lower case
    body: bytes
    host_url: str  # scheme://host:port this request was sent to
    log_entry: Optional[Dict[str, Any]] = None

    @property
    def query(self) -> List[Tuple[str, str]]:
        """Decoded query pairs in order; bare ``redirect`` gives ("redirect", "")."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def param(self, name: str) -> Optional[str]:
        """The first value of a query parameter, or None when absent."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def has_flag(self, name: str) -> bool:
        """A boolean ``allowEmptyValue`` parameter: bare, ``=``, or ``=true``."""
        value = self.param(name)
        return value is not None and value.strip().lower() in ("", "true", "1", "yes")

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")


Stream = Callable[[socket.socket], None]


@dataclass
class Response:
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # When set, writes the body (exactly Content-Length bytes, unless it means
    # to break the connection) straight to the client socket.
    stream: Optional[Stream] = None
    close_connection: bool = False
    # When set, writes the whole answer (or none) itself; see the module docstring.
    takeover: Optional[Stream] = None
    abort: bool = False  # with takeover: end the connection with a TCP reset, not a FIN


def json_response(
    data: Any, status: int = 200, headers: Optional[Dict[str, str]] = None
) -> Response:
    body = compact_json(data)
    all_headers = {"Content-Type": JSON_TYPE, **API_HEADERS, **(headers or {})}
    return Response(status, all_headers, body)


def text_response(
    text: str, status: int = 200, content_type: str = "text/plain;charset=UTF-8"
) -> Response:
    return Response(status, {"Content-Type": content_type}, text.encode("utf-8"))


Handler = Callable[..., Response]
Hook = Callable[[Request], Optional[Response]]
Filter = Callable[[Request, Response], Response]


class Router:
    """Maps (method, path template) to handlers; see the module docstring."""

    def __init__(self) -> None:
        self._routes: List[Tuple[str, List[str], Handler]] = []
        self.hooks: List[Hook] = []
        self.filters: List[Filter] = []
        self.not_found: Callable[[Request], Response] = lambda request: json_response(
            {"message": "Not found."}, 404
        )

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append((method.upper(), _segments(template), handler))

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for one in method.split(","):
                self.add(one.strip(), template, handler)
            return handler

        return register

    def mount(self, other: Router) -> None:
        """Add another router's routes (not its hooks) after this one's."""
        self._routes.extend(other._routes)

    def dispatch(self, request: Request) -> Response:
        response = self._answer(request)
        for answer_filter in self.filters:
            response = answer_filter(request, response)
        return response

    def _answer(self, request: Request) -> Response:
        for hook in self.hooks:
            answer = hook(request)
            if answer is not None:
                return answer
        segments = _segments(request.path)
        allowed: List[str] = []
        for method, template, handler in self._routes:
            params = _match(template, segments)
            if params is None:
                continue
            if method == request.method or (method == "GET" and request.method == "HEAD"):
                return handler(request, **params)
            allowed.append(method)
        if allowed:
            return json_response(
                {"message": f"Method {request.method} is not allowed here."},
                405,
                {"Allow": ", ".join(sorted(set(allowed)))},
            )
        return self.not_found(request)


def _segments(path: str) -> List[str]:
    return [s for s in re.split(r"/+", path.strip("/")) if s]


def _match(template: List[str], segments: List[str]) -> Optional[Dict[str, str]]:
    params: Dict[str, str] = {}
    if template and template[-1].startswith("{") and template[-1].endswith("*}"):
        fixed = len(template) - 1
        if len(segments) <= fixed:
            return None
        params[template[-1][1:-2]] = "/".join(unquote(s) for s in segments[fixed:])
        template, segments = template[:fixed], segments[:fixed]
    if len(template) != len(segments):
        return None
    for pattern, raw in zip(template, segments):
        value = unquote(raw)
        if pattern.startswith("{") and pattern.endswith("}"):
            params[pattern[1:-1]] = value
        elif pattern != value:
            return None
    return params


class _OriginHandler(BaseHTTPRequestHandler):
    """One request on one origin: parse, log, dispatch, write."""

    protocol_version = "HTTP/1.1"
    server_version = "OSDownloadsReplica/1"
    timeout = 60  # idle keep-alive connections are closed after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        server: OriginServer = self.server  # type: ignore[assignment]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or "{}:{}".format(*server.server_address[:2])
        request = Request(
            origin=server.name,
            method=self.command,
            path=parts.path or "/",
            query_string=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            host_url=f"http://{host}",
        )
        if not request.path.startswith("/__replica__/") and server.request_log is not None:
            request.log_entry = server.request_log.record(
                request.origin, request.method, request.path, request.query_string, request.headers
            )
            request.log_entry["time"] = time.time()
            request.log_entry["peer"] = self.client_address[1]  # the client's port: its connection
        try:
            response = server.router.dispatch(request)
        except Exception:  # a bug in a handler: answer 500, keep serving
            log.exception("replica %s: %s %s failed", server.name, self.command, request.path)
            response = json_response({"message": "Internal server error (replica bug)."}, 500)
        if request.log_entry is not None:
            request.log_entry["status"] = response.status
        self._write(response)
        if request.log_entry is not None:
            request.log_entry["ended"] = time.time()  # the body is out (or the client left)

    def _write(self, response: Response) -> None:
        if response.takeover is not None:
            self.close_connection = True
            try:
                self.wfile.flush()
                response.takeover(self.connection)
            except OSError:  # the client left: nothing more to do
                pass
            if response.abort:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.server.aborted.add(id(self.connection))  # type: ignore[attr-defined]
            return
        headers = dict(response.headers)
        if response.stream is None:
            headers["Content-Length"] = str(len(response.body))
        if response.close_connection:
            headers["Connection"] = "close"
            self.close_connection = True
        try:
            self.send_response(response.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            if response.stream is not None:
                self.wfile.flush()
                response.stream(self.connection)
            elif response.body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        log.debug("replica %s: " + format, self.server.name, *args)  # type: ignore[attr-defined]


class OriginServer(ThreadingHTTPServer):
    """One origin: a router behind its own port, served from a daemon thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        name: str,
        router: Router,
        host: str = "127.0.0.1",
        port: int = 0,
        request_log: Optional[RequestLog] = None,
    ) -> None:
        self.name = name
        self.router = router
        self.request_log = request_log
        self.aborted: Set[int] = set()  # ids of sockets to reset rather than close
        super().__init__((host, port), _OriginHandler)
        self._thread: Optional[threading.Thread] = None

    def shutdown_request(self, request: Any) -> None:
        if id(request) in self.aborted:
            self.aborted.discard(id(request))
            self.close_request(request)  # SO_LINGER 0: the close sends a reset
            return
        super().shutdown_request(request)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"replica-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()
