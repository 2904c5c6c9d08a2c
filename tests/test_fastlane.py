"""The fast lane (egovsim.fastlane): protocol endpoints answered ahead of FastAPI's stack must
keep the edge's promises: a body limit, RFC 9457 problems with codes, never a bare 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from egovsim.app import RunningSimulator, running
from egovsim.errors import CodedError
from egovsim.fastlane import FastRequest, FastResponse, FastRoutes
from egovsim.settings import Settings


@pytest.fixture
async def lane(settings: Settings) -> AsyncIterator[tuple[RunningSimulator, httpx.AsyncClient, list[FastRequest]]]:
    seen: list[FastRequest] = []

    async def echo(request: FastRequest) -> FastResponse:
        seen.append(request)
        if request.body == b"refuse":
            raise CodedError("REQUEST_INVALID", "refused on purpose")
        if request.body == b"crash":
            raise RuntimeError("a bug")
        return FastResponse(201, request.body[::-1], "text/plain", (("X-Echo", request.header("x-in")),))

    async with running(settings) as sim, sim.client() as http:
        sim.kernel.fast.add("POST", "/fast/echo", echo)
        sim.kernel.fast.add("GET", "/fast/item/", echo, prefix=True)
        yield sim, http, seen


async def test_a_fast_route_gets_the_whole_request_and_sets_status_type_and_headers(lane) -> None:  # type: ignore[no-untyped-def]
    _, http, seen = lane
    r = await http.post("/fast/echo?a=1&b=", content=b"abc", headers={"X-In": "hello"})
    assert (r.status_code, r.content, r.headers["content-type"], r.headers["x-echo"]) == (
        201,
        b"cba",
        "text/plain",
        "hello",
    )
    assert seen[0].query == {"a": "1", "b": ""} and seen[0].method == "POST" and seen[0].path == "/fast/echo"


async def test_prefix_routes_match_only_below_the_prefix(lane) -> None:  # type: ignore[no-untyped-def]
    _, http, seen = lane
    assert (await http.get("/fast/item/42")).status_code == 201
    assert seen[-1].path == "/fast/item/42"
    r = await http.get("/fast/item/")  # the bare prefix is not a match: FastAPI answers 404
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


async def test_other_paths_and_methods_fall_through_to_fastapi(lane) -> None:  # type: ignore[no-untyped-def]
    _, http, seen = lane
    assert (await http.get("/fast/echo")).json()["code"] == "NOT_FOUND"
    assert (await http.get("/healthz")).status_code == 200
    assert seen == []


async def test_a_coded_error_is_a_problem_in_the_asked_language(lane) -> None:  # type: ignore[no-untyped-def]
    _, http, _ = lane
    r = await http.post("/fast/echo?lang=kk", content=b"refuse")
    body = r.json()
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert body["code"] == "REQUEST_INVALID" and body["detail"] == "refused on purpose"
    assert body["message"] == body["messages"]["kk"]
    r = await http.post("/fast/echo", content=b"refuse", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert r.json()["message"] == r.json()["messages"]["ru"]


async def test_an_unexpected_exception_is_an_internal_error_problem_not_a_trace(lane) -> None:  # type: ignore[no-untyped-def]
    _, http, _ = lane
    r = await http.post("/fast/echo", content=b"crash")
    assert r.status_code == 500 and r.json()["code"] == "INTERNAL_ERROR" and "a bug" not in r.text


async def test_an_oversize_body_is_refused_and_the_handler_never_runs(lane, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, http, seen = lane
    r = await http.post("/fast/echo", content=b"x" * (settings.max_body_bytes + 1))
    assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"y" * 65536

    r = await http.post("/fast/echo", content=chunks())
    assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE"
    assert seen == []


def test_exact_routes_win_over_prefixes() -> None:
    routes = FastRoutes()

    async def a(_: FastRequest) -> FastResponse:
        return FastResponse()

    async def b(_: FastRequest) -> FastResponse:
        return FastResponse()

    routes.add("GET", "/x/", a, prefix=True)
    routes.add("GET", "/x/y", b)
    assert routes.find("GET", "/x/y").handler is b and routes.find("GET", "/x/z").handler is a  # type: ignore[union-attr]
    assert routes.find("POST", "/x/z") is None and routes.find("GET", "/x/") is None
