"""One way to fail over HTTP: every error becomes an RFC 9457 JSON problem with a stable code.

A :class:`~egovsim.errors.CodedError` carries its code; the refusal catalogue supplies the
regulation step, the status and the kk/ru/en texts. Framework errors (validation, unknown
path, wrong method, oversize body) get codes of their own, and an unexpected exception is
logged and answered with ``INTERNAL_ERROR`` — never a bare stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from egovsim.catalog.refusals import RefusalCatalog
from egovsim.errors import CodedError

log = logging.getLogger("egovsim.http")
LANGS = ("kk", "ru", "en")


def request_lang(request: Request) -> str:
    return choose_lang(request.query_params.get("lang"), request.headers.get("accept-language", ""))


def choose_lang(asked: str | None, accept_language: str) -> str:
    """``?lang=`` if it is one of ours, else the first of ours in Accept-Language, else English."""
    if asked in LANGS:
        return asked
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "en"


def problem(refusals: RefusalCatalog, code: str, lang: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    entry = refusals.get(code)
    if entry is None:  # a code missing from the catalogue is a bug: say so, do not hide it
        log.error("code %s is not in the refusal catalogue", code)
        entry = refusals.get("INTERNAL_ERROR")
        assert entry is not None
    params = extra.pop("params", None) or {}
    body: dict[str, Any] = {
        "type": f"urn:egovsim:code:{entry.code}",
        "title": entry.message("en", params),
        "status": entry.http_status,
        "code": entry.code,
        "kind": entry.kind,
        "step": entry.step,
        "message": entry.message(lang, params),
        "messages": entry.messages(params),
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=entry.http_status, media_type="application/problem+json")


def install_problem_handlers(app: FastAPI, refusals: RefusalCatalog) -> None:
    @app.exception_handler(CodedError)
    async def _coded(request: Request, exc: CodedError) -> JSONResponse:
        return problem(refusals, exc.code, request_lang(request), exc.detail, params=exc.params, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
        return problem(refusals, "REQUEST_INVALID", request_lang(request), detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}.get(exc.status_code)
        if code is None:
            code = "REQUEST_INVALID" if exc.status_code < 500 else "INTERNAL_ERROR"
        return problem(refusals, code, request_lang(request), str(exc.detail) if exc.detail else None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(refusals, "INTERNAL_ERROR", request_lang(request))


class BodySizeLimit:
    """Refuse a body larger than ``limit`` bytes before any handler reads it (413)."""

    def __init__(self, app: ASGIApp, limit: int, refusals: RefusalCatalog) -> None:
        self.app = app
        self.limit = limit
        self.refusals = refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 has been sent: whatever the app says now is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def limited_receive() -> Message:
            # FastAPI turns any exception raised while it reads a body into a 422, so the
            # limiter answers 413 itself and tells the app the client went away.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started:
                        await self._refuse(scope, receive, send)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = problem(
            self.refusals, "BODY_TOO_LARGE", request_lang(request), f"the limit is {self.limit} bytes", limit=self.limit
        )
        await response(scope, receive, send)
