"""The diagrams' pages under ``/inspector/diagrams``: public, no login, no script.

``/inspector/diagrams`` lists every service with each of its diagrams (every chain and route), a
link to each format and language, and a picture of each; ``/inspector/diagrams/{service}`` shows
one diagram's SVG inline (``?kind=&chain=&route=``; the first interaction diagram by default).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from egovsim.catalog.models import Service
from egovsim.diagrams import FORMATS, KINDS, LANGS, render, variants
from egovsim.diagrams.live import lit
from egovsim.diagrams.words import word
from egovsim.errors import CodedError
from egovsim.kernel import Kernel, get_kernel
from egovsim.web import CSS, LANG_NAMES, Phrase, html_page, page_lang

PREFIX = "/inspector/diagrams"
HEADING = Phrase("Қызметтердің процесс диаграммалары", "Диаграммы процессов услуг", "Process diagrams of the services")
INTRO = Phrase(
    "Диаграммалар қызметтер каталогынан жасалады: симуляцияны жүргізетін анықтамалардан.",
    "Диаграммы строятся из каталога услуг — из тех же определений, что ведут симуляцию.",
    "The diagrams are generated from the service catalogue, the same definitions that drive the simulation.",
)
ALL = Phrase("Барлық қызметтер", "Все услуги", "All services")
SHOWN = Phrase("Көрсетілген", "Показана", "Shown")
TRACE = Phrase("Трассировка (JSON)", "Трассировка (JSON)", "Trace (JSON)")
MOVING = Phrase(
    "Сұраныс жолда: бет әр 2 секунд сайын жаңарады.",
    "Запрос в пути: страница обновляется каждые 2 секунды.",
    "The request is moving: the page refreshes every 2 seconds.",
)
CLOSED = Phrase("Сұраныс аяқталды.", "Запрос завершён.", "The request has ended.")


def api_href(service_id: str, kind: str, fmt: str, lang: str, variant: str) -> str:
    key = "chain" if kind == "interaction" else "route"
    query = urlencode({"format": fmt, "lang": lang, key: variant})
    return f"/api/catalog/services/{service_id}/diagrams/{kind}?{query}"


def _formats(service_id: str, kind: str, variant: str) -> str:
    rows = []
    for lang in LANGS:
        links = " · ".join(
            f'<a href="{html.escape(api_href(service_id, kind, fmt, lang, variant))}" hreflang="{lang}">{fmt}</a>'
            for fmt in FORMATS
        )
        rows.append(f'<li><span lang="{lang}">{LANG_NAMES[lang]}</span>: {links}</li>')
    return f'<ul class="formats">{"".join(rows)}</ul>'


def _diagram_items(service: Service, lang: str, pictures: bool) -> str:
    items = []
    for kind in KINDS:
        for variant in variants(service, kind):
            page = f"{PREFIX}/{service.id}?" + urlencode({"kind": kind, _key(kind): variant, "lang": lang})
            picture = (
                f'<img src="{html.escape(api_href(service.id, kind, "svg", lang, variant))}" loading="lazy" '
                f'alt="{html.escape(word(kind)(lang))}: {html.escape(variant)}" style="max-width:100%">'
                if pictures
                else ""
            )
            items.append(
                f'<li id="{service.id}-{kind}-{variant}"><a href="{html.escape(page)}">'
                f"{html.escape(word(kind)(lang))}: <code>{html.escape(variant)}</code></a>"
                f"{_formats(service.id, kind, variant)}{picture}</li>"
            )
    return f'<ul class="diagrams">{"".join(items)}</ul>'


def _key(kind: str) -> str:
    return "chain" if kind == "interaction" else "route"


def _page(lang: str, title: str, body: str, refresh: int | None = None) -> str:
    again = f'<meta http-equiv="refresh" content="{refresh}">\n' if refresh else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n{again}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} · egovsim</title>\n<style>{CSS}"
        "main { max-width: none; } .svg-frame { overflow-x: auto; border: 1px solid #d5dce4; }"
        "</style>\n</head>\n<body>\n"
        f'<main id="content">\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n'
    )


def _langs(path: str, query: dict[str, str]) -> str:
    links = " · ".join(
        f'<a href="{html.escape(path + "?" + urlencode({**query, "lang": code}))}" lang="{code}">{LANG_NAMES[code]}</a>'
        for code in LANGS
    )
    return f"<nav>{links}</nav>"


def router() -> APIRouter:
    pages = APIRouter(prefix=PREFIX, tags=["inspector"], default_response_class=HTMLResponse)

    @pages.get("", summary="every service's diagrams, with links to each format and language")
    async def index(request: Request, k: Kernel = Depends(get_kernel)) -> HTMLResponse:
        lang = page_lang(request)
        sections = "".join(
            f'<section id="{s.id}"><h2>{s.number}. {html.escape(s.titles.get(lang))}</h2>'
            f"{_diagram_items(s, lang, pictures=True)}</section>"
            for s in k.services
        )
        body = f"{_langs(PREFIX, {})}<p>{INTRO(lang)}</p>{sections}"
        return html_page(request, _page(lang, HEADING(lang), body))

    @pages.get("/{service_id}", summary="one service's diagrams, one of them inline")
    async def one(
        request: Request,
        service_id: str,
        kind: str = Query("interaction"),
        chain: str | None = Query(None),
        route: str | None = Query(None),
        k: Kernel = Depends(get_kernel),
    ) -> HTMLResponse:
        lang = page_lang(request)
        service = k.services.get(service_id)
        if service is None:
            raise CodedError("SERVICE_NOT_FOUND", f"no service with id {service_id!r}", service_id=service_id)
        svg = render(service, kind, "svg", lang, chain=chain, route=route)
        query = {"kind": kind, **({"chain": chain} if chain else {}), **({"route": route} if route else {})}
        body = (
            f'{_langs(f"{PREFIX}/{service.id}", query)}<p><a href="{PREFIX}">{ALL(lang)}</a></p>'
            f"<h2>{html.escape(service.titles.get(lang))}</h2>{_diagram_items(service, lang, pictures=False)}"
            f'<h2>{SHOWN(lang)}</h2><div class="svg-frame">{svg.split("?>", 1)[1]}</div>'
        )
        return html_page(request, _page(lang, f"{service.number}. {service.titles.get(lang)}", body))

    @pages.get("/live/{request_id}", summary="a request's diagram coloured by its trace, refreshed while it moves")
    async def live(
        request: Request, request_id: str, kind: str = Query("interaction"), k: Kernel = Depends(get_kernel)
    ) -> HTMLResponse:
        lang = page_lang(request)
        events = await k.trace.events(request_id[:64])
        if not events:
            raise CodedError("TRACE_NOT_FOUND", f"no events for {request_id[:64]!r}", request_id=request_id[:64])
        diagram = lit(k.services, request_id[:64], events, kind)
        svg = diagram.render("svg", lang)
        path = f"{PREFIX}/live/{html.escape(request_id[:64])}"
        other = "business" if kind == "interaction" else "interaction"
        body = (
            f"{_langs(path, {'kind': kind})}<p>{html.escape(diagram.service.titles.get(lang))} · "
            f'<a href="{path}?{urlencode({"kind": other, "lang": lang})}">{html.escape(word(other)(lang))}</a> · '
            f'<a href="/api/catalog/traces/{html.escape(request_id[:64])}">{TRACE(lang)}</a></p>'
            f'<p role="status">{(CLOSED if diagram.closed else MOVING)(lang)}</p>'
            f'<div class="svg-frame">{svg.split("?>", 1)[1]}</div>'
        )
        title = f"{request_id[:64]}: {word(kind)(lang)}"
        return html_page(request, _page(lang, title, body, refresh=None if diagram.closed else 2))

    return pages
