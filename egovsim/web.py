"""The citizen's web pages in egov.kz's manner, shared by the portal (:mod:`portal.pages`) and the
personal cabinet (:mod:`cabinet.pages`): the page shell with its language switch (kk / ru / en),
the CSS, the security headers, a refusal as a page shows it, and who the visitor is.

Pages are plain server-side HTML strings, as the operator's pages are (:mod:`gateway.inspector`):
every value that came from a citizen, a record or the query string goes through
:func:`html.escape`; nothing is loaded from another origin; every input has a label, every page a
``lang`` attribute and one ``h1``, and focus is always visible.

The page language is ``?lang=`` when it is one of ours (then kept in the ``lang`` cookie), else
that cookie, else Kazakh, the state language. (The JSON API's language rule is another one:
:func:`egovsim.problems.request_lang`, English by default, for integrators.)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from egovsim.calendar import ALMATY
from egovsim.catalog.refusals import RefusalCatalog

LANGS = ("kk", "ru", "en")
DEFAULT_LANG = "kk"
LANG_COOKIE = "lang"
LANG_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
# where the login form may send the citizen back to (no open redirect)
CITIZEN_AREAS = ("/portal", "/cabinet")
LOGIN_PATH = "/portal/login"
LOGOUT_PATH = "/portal/logout"


@dataclass(frozen=True)
class Phrase:
    """One piece of the interface in the three languages of the pages."""

    kk: str
    ru: str
    en: str

    def __call__(self, lang: str) -> str:
        return str(getattr(self, lang if lang in LANGS else DEFAULT_LANG))


# The words of the provider's signed answer (the result e-document or the reasoned refusal) and of
# the papers around it, as the office's and the ХҚО's readable renderings both print them.
RESULT_TITLE = Phrase("Мемлекеттік қызмет көрсету нәтижесі", "Результат оказания государственной услуги",
                      "Result of the public service")  # fmt: skip
REASONED_TITLE = Phrase("Мемлекеттік қызмет көрсетуден бас тарту туралы дәлелді жауап",
                        "Мотивированный ответ об отказе в оказании государственной услуги",
                        "Reasoned refusal to render the public service")  # fmt: skip
REGISTRATION = Phrase("Тіркеу нөмірі", "Регистрационный номер", "Registration number")
DATE = Phrase("Күні", "Дата", "Date")
DECISION = Phrase("Шешім", "Решение", "Decision")
GROUND = Phrase("Негіз", "Основание", "Ground")
QUEUE_NUMBER = Phrase("Кезектілік нөмірі", "Номер очереди", "Queue number")
SIGNED_BY = Phrase("ЭЦҚ-мен қол қойған", "Подписал ЭЦП", "Signed with the EDS of")
REPRESENTATIVE = Phrase("Өкілдің ЖСН", "ИИН представителя", "Representative's IIN")


@dataclass(frozen=True)
class Visitor:
    """A logged-in citizen as the pages need them: the IIN, and the CSRF token their forms carry."""

    iin: str
    csrf: str


# -- the language -----------------------------------------------------------------------------------
def page_lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGS else DEFAULT_LANG


def _keep_lang(request: Request, response: HTMLResponse | RedirectResponse) -> None:
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, path="/", samesite="lax")


def _lang_links(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    links = []
    for code in LANGS:
        href = f"{request.url.path}?{urlencode([*query, ('lang', code)])}"
        current = ' aria-current="true"' if code == lang else ""
        links.append(f'<a href="{html.escape(href)}" hreflang="{code}" lang="{code}"{current}>{LANG_NAMES[code]}</a>')
    return f'<nav class="langs" aria-label="{LANGUAGE(lang)}">{"".join(links)}</nav>'


# -- the shell --------------------------------------------------------------------------------------
BRAND = Phrase("egov.kz · электрондық үкімет", "egov.kz · электронное правительство", "egov.kz · e-government")
SIMULATOR = Phrase("egovsim симуляторы", "симулятор egovsim", "the egovsim simulator")
SERVICES = Phrase("Қызметтер", "Услуги", "Services")
CABINET = Phrase("Жеке кабинет", "Личный кабинет", "Personal cabinet")
CHECK_SIGNATURE = Phrase("Қолтаңбаны тексеру", "Проверка подписи", "Check a signature")
LANGUAGE = Phrase("Тіл", "Язык", "Language")
MAIN_MENU = Phrase("Негізгі мәзір", "Главное меню", "Main menu")
LOG_IN = Phrase("Кіру", "Войти", "Log in")
LOG_OUT = Phrase("Шығу", "Выйти", "Log out")
REGISTER = Phrase("Тіркелу", "Регистрация", "Register")
SIGNED_IN_AS = Phrase("ЖСН", "ИИН", "IIN")
SKIP = Phrase("Негізгі мазмұнға өту", "Перейти к содержанию", "Skip to the content")

CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b2733; background: #f4f6f9; }
a { color: #0b5394; }
.skip { position: absolute; left: -10000px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .4rem; z-index: 10; }
header.site { background: #0b4f8a; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: 1rem;
  align-items: center; }
header.site a { color: #fff; }
header.site .brand { font-weight: 700; text-decoration: none; font-size: 1.1rem; }
header.site .brand small { font-weight: 400; opacity: .85; }
nav.main, nav.langs, .who { display: flex; flex-wrap: wrap; gap: .8rem; align-items: center; }
nav.langs a[aria-current] { font-weight: 700; text-decoration: none; border-bottom: 2px solid #ffd24d; }
.who { margin-left: auto; }
.who form { margin: 0; }
main { max-width: 64rem; margin: 0 auto; padding: 1rem 1.2rem 3rem; background: #fff; min-height: 70vh; }
h1 { font-size: 1.6rem; margin-top: .5rem; }
:focus-visible { outline: 3px solid #ffb000; outline-offset: 2px; }
button, .button { font: inherit; padding: .45rem .9rem; border-radius: 4px; border: 1px solid #0b4f8a;
  background: #0b5394; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: #0b5394; }
button[disabled] { opacity: .6; cursor: default; }
form.stack { display: grid; gap: .8rem; max-width: 36rem; }
form.stack label, .field label { display: block; font-weight: 600; }
input[type=text], input[type=password], input[type=email], input[type=tel], input[type=date], input[type=number],
input:not([type]), select, textarea { font: inherit; width: 100%; padding: .4rem; border: 1px solid #7a8794;
  border-radius: 4px; }
textarea { min-height: 8rem; font-family: ui-monospace, monospace; font-size: .85rem; }
.field { margin-bottom: .9rem; }
.field.check label { display: inline; font-weight: 400; }
.hint { color: #4a5866; font-size: .9rem; margin: .2rem 0; }
.req { color: #b3261e; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
th, td { border-bottom: 1px solid #d5dce4; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td code { white-space: nowrap; }
table.facts th { width: 35%; }
.refusal { border: 2px solid #b3261e; background: #fdf0ef; padding: .5rem 1rem; margin: 1rem 0; border-radius: 4px; }
.accepted { border: 2px solid #146c2e; background: #eef8f0; padding: .5rem 1rem; margin: 1rem 0; border-radius: 4px; }
.notice { border: 1px solid #0b5394; background: #eef4fb; padding: .5rem 1rem; margin: 1rem 0; border-radius: 4px; }
.code { font-family: ui-monospace, monospace; font-weight: 700; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-size: .8rem; font-weight: 700;
  background: #0b5394; color: #fff; }
.badge.unread { background: #b3261e; }
.ok { color: #146c2e; } .refused, .fault { color: #b3261e; }
ul.services { list-style: none; padding: 0; display: grid; gap: .8rem; }
ul.services li { border: 1px solid #d5dce4; border-radius: 4px; padding: .6rem .8rem; }
ul.personas { list-style: none; padding: 0; display: grid; gap: .4rem; }
.document { border: 1px solid #7a8794; padding: 1rem 1.4rem; margin: 1rem 0; background: #fffef8; }
pre { background: #f6f8fa; border: 1px solid #d5dce4; padding: .6rem; overflow: auto; white-space: pre-wrap; }
"""


def shell(
    request: Request,
    lang: str,
    title: str,
    body: str,
    *,
    visitor: Visitor | None,
    head: str = "",
) -> str:
    """A whole page: the header (brand, main menu, language switch, who is logged in), ``body``
    under one ``h1`` of ``title``. ``body`` is HTML the caller has escaped; ``head`` goes in the
    head (a meta tag, a script of this origin)."""
    if visitor is None:
        who = f'<a href="{LOGIN_PATH}">{LOG_IN(lang)}</a><a href="/portal/register">{REGISTER(lang)}</a>'
    else:
        who = (
            f'<span>{SIGNED_IN_AS(lang)} <span class="iin">{html.escape(visitor.iin)}</span></span>'
            f'<form method="post" action="{LOGOUT_PATH}">{csrf_field(visitor)}'
            f'<button type="submit" class="secondary">{LOG_OUT(lang)}</button></form>'
        )
    menu = (
        f'<nav class="main" aria-label="{MAIN_MENU(lang)}"><a href="/portal/">{SERVICES(lang)}</a>'
        f'<a href="/cabinet/">{CABINET(lang)}</a><a href="/cabinet/verify">{CHECK_SIGNATURE(lang)}</a></nav>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} · egov.kz (egovsim)</title>\n<style>{CSS}</style>\n{head}</head>\n<body>\n"
        f'<a class="skip" href="#content">{SKIP(lang)}</a>\n'
        f'<header class="site"><a class="brand" href="/portal/">{BRAND(lang)} <small>({SIMULATOR(lang)})</small></a>'
        f'{menu}{_lang_links(request, lang)}<div class="who">{who}</div></header>\n'
        f'<main id="content">\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n'
    )


def csrf_field(visitor: Visitor) -> str:
    """The hidden field every form of a logged-in citizen carries (portal.auth reads ``csrf``)."""
    return f'<input type="hidden" name="csrf" value="{html.escape(visitor.csrf)}">'


# -- responses --------------------------------------------------------------------------------------
def security_headers(connect: Iterable[str] = ()) -> dict[str, str]:
    """No other origin for anything, except the websockets a page may open (the local signer)."""
    sources = " ".join(["'self'", *connect])
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"connect-src {sources}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",  # a citizen's data: not for shared caches or the back button of another
    }


def html_page(request: Request, content: str, status: int = 200, *, connect: Iterable[str] = ()) -> HTMLResponse:
    response = HTMLResponse(content, status, headers=security_headers(connect))
    _keep_lang(request, response)
    return response


def see_other(request: Request, location: str) -> RedirectResponse:
    response = RedirectResponse(location, 303, headers=security_headers())
    _keep_lang(request, response)
    return response


def login_redirect(request: Request, next_path: str | None = None) -> RedirectResponse:
    """To the portal's login form, and back to ``next_path`` (the page asked for) after it."""
    back = next_path or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return see_other(request, f"{LOGIN_PATH}?{urlencode({'next': back})}")


def safe_next(path: str) -> str | None:
    """``next`` of the login form when it is a page of the citizen's own areas (no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or "\\" in path or not path.isprintable() or path.startswith("//"):
        return None
    if any(parts.path == area or parts.path.startswith(f"{area}/") for area in CITIZEN_AREAS):
        return path
    return None


# -- what pages show --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refusal:
    """A code of the refusal catalogue as a page shows it: the code, the regulation step, the text
    in the page language, the HTTP status the catalogue gives it, and this occurrence's detail."""

    code: str
    step: str
    message: str
    status: int
    detail: str | None = None

    @classmethod
    def of(
        cls,
        refusals: RefusalCatalog,
        code: str,
        lang: str,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
    ) -> Refusal:
        entry = refusals.get(code) or refusals.get("INTERNAL_ERROR")
        assert entry is not None
        return cls(entry.code, entry.step, entry.message(lang, dict(params or {})), entry.http_status, detail)

    def block(self, heading: str = "") -> str:
        title = f"<h2>{html.escape(heading)}</h2>" if heading else ""
        detail = f'<p class="hint">{html.escape(self.detail)}</p>' if self.detail else ""
        return (
            f'<div class="refusal" role="alert" data-code="{html.escape(self.code)}">{title}'
            f'<p><span class="code">{html.escape(self.code)}</span> · '
            f'<span class="step">{html.escape(self.step)}</span></p>'
            f'<p class="message">{html.escape(self.message)}</p>{detail}</div>'
        )


def dash(value: object) -> str:
    """A value escaped, or a dash where there is none."""
    return "—" if value is None or value == "" else html.escape(str(value))


def local_time(iso: str | None) -> str:
    """An ISO 8601 instant as a ``time`` element in Kazakhstan's local time."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return html.escape(iso)
    shown = moment.astimezone(ALMATY).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else iso
    return f'<time datetime="{html.escape(iso)}">{html.escape(shown)}</time>'
