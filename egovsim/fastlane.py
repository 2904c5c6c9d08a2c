"""A lean path for protocol endpoints that machines call at volume (OCSP, SOAP channels).

FastAPI's routing, dependency injection and response classes cost about half a millisecond a
request, more than the work an OCSP answer from cache or a SOAP round trip needs. A component
registers such endpoints on ``kernel.fast``; :class:`FastLane`, called by the application object
before FastAPI's middleware stack, answers them directly. Everything else passes through untouched. The same
endpoints stay declared as FastAPI routes too, for the OpenAPI document.

Handlers get a :class:`FastRequest` with the whole body (bounded like every body, by
``max_body_bytes``) and return a :class:`FastResponse`. A
:class:`~egovsim.errors.CodedError` becomes the usual RFC 9457 problem; any other exception is
logged and answered with ``INTERNAL_ERROR``, as the FastAPI handlers do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from egovsim.catalog.refusals import RefusalCatalog
from egovsim.errors import CodedError
from egovsim.problems import choose_lang, problem

log = logging.getLogger("egovsim.http")


@dataclass(frozen=True, slots=True)
class FastRequest:
    method: str
    path: str
    query_string: bytes
    headers: dict[bytes, bytes]  # lower-cased names; the last value of a repeated header
    body: bytes
    client: tuple[str, int] | None = None

    def header(self, name: str, default: str = "") -> str:
        value = self.headers.get(name.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class FastResponse:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


Handler = Callable[[FastRequest], Awaitable[FastResponse]]


@dataclass(frozen=True, slots=True)
class FastRoute:
    handler: Handler
    # answers a body over the limit in the endpoint's own format (a SOAP fault…); the default is
    # the 413 problem every other endpoint gives. It gets the request with an empty body.
    oversize: Handler | None = None


@dataclass
class FastRoutes:
    """Exact ``(method, path)`` routes and, for ``GET /x/{rest}``-style endpoints, prefixes."""

    exact: dict[tuple[str, str], FastRoute] = field(default_factory=dict)
    prefixes: list[tuple[str, str, FastRoute]] = field(default_factory=list)

    def add(
        self, method: str, path: str, handler: Handler, *, prefix: bool = False, oversize: Handler | None = None
    ) -> None:
        route = FastRoute(handler, oversize)
        if prefix:
            self.prefixes.append((method, path, route))
        else:
            self.exact[(method, path)] = route

    def find(self, method: str, path: str) -> FastRoute | None:
        route = self.exact.get((method, path))
        if route is None:
            for m, p, r in self.prefixes:
                if m == method and path.startswith(p) and len(path) > len(p):
                    return r
        return route


def documented_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The same handler as an ordinary route, so the OpenAPI document lists the endpoint (the fast
    lane answers it first; this runs only where the lane is bypassed)."""

    async def endpoint(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.raw}
        fast = FastRequest(request.method, request.url.path, request.url.query.encode(), headers, await request.body())
        answer = await handler(fast)
        return Response(answer.body, answer.status, dict(answer.headers), answer.content_type)

    return endpoint


class FastLane:
    """Answers the fast routes ahead of FastAPI's whole stack (see :class:`egovsim.app.EgovsimApp`).

    It applies what the middlewares would: the body-size limit (413 problem) and, in compose, a
    refresh of the shared clock.
    """

    def __init__(
        self,
        routes: FastRoutes,
        refusals: RefusalCatalog,
        limit: int,
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.routes = routes
        self.refusals = refusals
        self.limit = limit
        self.before = before

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer ``scope`` if it is a fast route; False sends nothing and leaves it to the app."""
        if scope["type"] != "http":
            return False
        route = self.routes.find(scope["method"], scope["path"])
        if route is None:
            return False
        headers = dict(scope.get("headers") or ())
        query = scope.get("query_string", b"")
        declared = headers.get(b"content-length", b"0")
        chunks: list[bytes] = []
        size = int(declared) if declared.isdigit() else 0
        while size <= self.limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return True
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size = sum(map(len, chunks))
            if not message.get("more_body", False):
                break
        oversize = size > self.limit
        body = b"" if oversize else b"".join(chunks)
        request = FastRequest(scope["method"], scope["path"], query, headers, body, scope.get("client"))
        if oversize and route.oversize is None:
            response = self._problem("BODY_TOO_LARGE", f"the limit is {self.limit} bytes", {}, request)
        else:
            if self.before is not None:
                await self.before()
            try:
                response = await (route.oversize if oversize and route.oversize else route.handler)(request)
            except CodedError as exc:
                response = self._problem(exc.code, exc.detail, exc.params, request)
            except Exception:
                log.exception("unexpected error in %s %s", request.method, request.path)
                response = self._problem("INTERNAL_ERROR", None, {}, request)
        raw = [(b"content-length", b"%d" % len(response.body))]
        if response.content_type:
            raw.append((b"content-type", response.content_type.encode("latin-1")))
        if response.headers:
            raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers)
        await send({"type": "http.response.start", "status": response.status, "headers": raw})
        await send({"type": "http.response.body", "body": response.body})
        return True

    def _problem(self, code: str, detail: str | None, params: dict, request: FastRequest) -> FastResponse:  # type: ignore[type-arg]
        lang = choose_lang(request.query.get("lang"), request.header("accept-language"))
        answer = problem(self.refusals, code, lang, detail, params=params)
        return FastResponse(answer.status_code, bytes(answer.body), "application/problem+json")
