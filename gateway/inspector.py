"""The inspector's message-journal pages under ``/inspector/``: every exchange that crossed
ЭҮШ / ШЭП (the e-government gateway), listed newest first and shown one by one with its request
and response XML.

The journal holds other participants' messages, so the pages are the operator's: they accept
``Authorization: Bearer <admin token>`` or the ``egovsim_admin`` cookie that ``/inspector/login``
sets, for these pages and for the regional workstation's (``/rshep/``, gateway/workstation_pages.py),
which reuse the sign-in (:func:`signed_in`, :func:`sign_in_required`, ``?next=``) and the page
helpers below. The cookie never carries the admin token itself: it is a PyJWT HS256 token
(:func:`issue_session`) signed with a key derived from the admin token by HMAC-SHA256, with an
audience and an expiry on the wall clock (the simulated clock can be frozen or moved; a session
cannot). Changing the admin token ends every session; decoding pins ``algorithms=["HS256"]``.

Pages are plain server-side HTML: every value that came from a participant or from the query
string goes through :func:`html.escape`, passwords in the XML are shown as ``***``, and each
response forbids scripts (``Content-Security-Policy``) and content sniffing.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from lxml import etree

from egovsim import xmldsig
from egovsim.calendar import ALMATY
from egovsim.clock import wall_now
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.problems import problem, request_lang
from egovsim.web import dash
from gateway.journal import CUT_MARK
from gateway.service import Gateway

PREFIX = "/inspector"
LOGIN_PATH = f"{PREFIX}/login"
JOURNAL_PATH = f"{PREFIX}/journal"
COOKIE = "egovsim_admin"
# One cookie per area of the admin's pages (a cookie has one path): the journal, the workstation.
SESSION_PATHS = (PREFIX, "/rshep")
SESSION_LIFETIME = timedelta(hours=8)
SESSION_AUDIENCE = "egovsim-inspector"
OUTCOMES = ("ok", "fault", "rejected")
PAGE_SIZE = 50
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",  # other participants' messages: not for shared caches or history
    "Referrer-Policy": "no-referrer",
}
MASK = "***"
# a password element in text that is not well-formed XML (a cut message): its text up to the
# closing tag, or to the end when the cut fell inside it
_RAW_PASSWORD = re.compile(r"(<(?:[\w.\-]+:)?password(?:\s[^>]*)?>)(.*?)(?=</(?:[\w.\-]+:)?password\s*>|\Z)", re.S)


# -- the session cookie ----------------------------------------------------------------------------
def _session_key(admin_token: str) -> bytes:
    return hmac.new(admin_token.encode(), b"egovsim inspector session key v1", hashlib.sha256).digest()


def issue_session(admin_token: str, now: datetime | None = None) -> str:
    """The cookie's value: a JWT (HS256) for the admin, valid ``SESSION_LIFETIME`` from ``now``."""
    issued = now or wall_now()
    claims = {"sub": "admin", "aud": SESSION_AUDIENCE, "iat": issued, "exp": issued + SESSION_LIFETIME}
    return jwt.encode(claims, _session_key(admin_token), algorithm="HS256")


def session_is_valid(cookie: str, admin_token: str) -> bool:
    try:
        claims = jwt.decode(
            cookie,
            _session_key(admin_token),
            algorithms=["HS256"],  # pinned: never "none", never what the token's header asks for
            audience=SESSION_AUDIENCE,
            options={"require": ["exp", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        return False
    return bool(claims.get("sub") == "admin")


# -- what the pages show ---------------------------------------------------------------------------
def display_xml(text: str) -> tuple[str, bool]:
    """(text to show, well-formed?) for a journal XML: indented when it parses (hardened: no DTD,
    no entity is ever expanded), else as stored; every ``password`` element's text is ``***``."""
    if not text:
        return "", True
    try:
        root = xmldsig.parse_xml(text)
    except xmldsig.XmlSignatureError:
        return _RAW_PASSWORD.sub(lambda m: m.group(1) + MASK, text), False
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "password":
            for child in list(element):
                element.remove(child)
            element.text = MASK
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode"), True


@dataclass(frozen=True)
class JournalFilter:
    """The journal page's query string, read leniently: a bad value is ignored, never a 422."""

    service_id: str | None = None
    sender_id: str | None = None
    message_id: str | None = None
    outcome: str | None = None
    before_id: int | None = None
    limit: int = PAGE_SIZE

    @classmethod
    def of(cls, params: Mapping[str, str]) -> JournalFilter:
        def text(name: str) -> str | None:
            value = params.get(name, "").strip()
            return value[:128] or None

        outcome = text("outcome")
        return cls(
            service_id=text("serviceId"),
            sender_id=text("senderId"),
            message_id=text("messageId"),
            outcome=outcome if outcome in OUTCOMES else None,
            before_id=_entry_id(params.get("beforeId", "")),
            limit=min(max(_entry_id(params.get("limit", "")) or PAGE_SIZE, 1), 1000),
        )

    def query(self, **changes: object) -> str:
        """This filter as a query string, with ``changes`` (None drops a parameter)."""
        values: dict[str, object] = {
            "serviceId": self.service_id,
            "senderId": self.sender_id,
            "messageId": self.message_id,
            "outcome": self.outcome,
            "beforeId": self.before_id,
            "limit": self.limit if self.limit != PAGE_SIZE else None,
        } | changes
        return urlencode({k: v for k, v in values.items() if v is not None})


def _entry_id(text: str) -> int | None:
    """A journal id from a URL: digits that fit a signed 64-bit column, else nothing."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


escape_or_dash = dash  # the pages' one way to show a value or a dash (egovsim.web)


def local_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ALMATY).strftime("%Y-%m-%d %H:%M:%S")


CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2733; }
header { background: #0b4f8a; color: #fff; padding: .6rem 1rem; display: flex; gap: 1rem; align-items: center; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
header form { margin-left: auto; }
main { padding: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d5dce4; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #146c2e; } .fault { color: #b3261e; } .rejected { color: #8a5300; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; }
pre { background: #f6f8fa; border: 1px solid #d5dce4; padding: .6rem; overflow: auto; white-space: pre-wrap; }
.error { color: #b3261e; font-weight: 600; }
nav.paging { margin-top: .8rem; display: flex; gap: 1rem; }
"""


def page(
    title: str,
    body: str,
    *,
    signed_in: bool,
    home: str = JOURNAL_PATH,
    area: str = "ЭҮШ / ШЭП message journal",
    css: str = "",
    lang: str = "en",
) -> str:
    """A whole page in the admin's chrome; ``home``, ``area`` and ``css`` are another area's, ``lang``
    the language of a page printed for the applicant."""
    logout = (
        f'<form method="post" action="{PREFIX}/logout"><button type="submit">Sign out</button></form>'
        if signed_in
        else ""
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} · egovsim inspector</title>\n<style>{CSS}{css}</style>\n</head>\n<body>\n"
        f'<header><a href="{home}">egovsim inspector</a><span>{html.escape(area)}</span>{logout}'
        f"</header>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def html_response(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status, headers=SECURITY_HEADERS)


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, 303, headers=SECURITY_HEADERS)


def login_page(error: str | None = None, next_path: str | None = None) -> str:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    back = f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else ""
    return page(
        "Sign in",
        f"{message}<p>The message journal holds other participants' messages: sign in with the admin token "
        f"(<code>EGOVSIM_ADMIN_TOKEN</code>, or the <code>admin-token</code> file of the data folder).</p>"
        f'<form method="post" action="{LOGIN_PATH}">{back}'
        '<label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus>'
        '</label> <button type="submit">Sign in</button></form>',
        signed_in=False,
    )


def journal_page(entries: list[dict[str, Any]], where: JournalFilter) -> str:
    def field(label: str, name: str, value: str | None) -> str:
        return f'<label>{label}<input name="{name}" value="{escape_or_dash(value) if value else ""}"></label>'

    options = "".join(
        f'<option value="{o}"{" selected" if o == where.outcome else ""}>{o}</option>' for o in ("", *OUTCOMES)
    )
    filters = (
        f'<form class="filters" method="get" action="{JOURNAL_PATH}">'
        f"{field('serviceId', 'serviceId', where.service_id)}{field('senderId', 'senderId', where.sender_id)}"
        f"{field('messageId', 'messageId', where.message_id)}"
        f'<label>outcome<select name="outcome">{options}</select></label>'
        f'<button type="submit">Filter</button> <a href="{JOURNAL_PATH}">clear</a></form>'
    )
    head = (
        "<tr><th>#</th><th>time (Almaty)</th><th>channel</th><th>operation</th><th>sender</th><th>serviceId</th>"
        "<th>messageId</th><th>outcome</th><th>code</th><th>duration, ms</th><th>request, B</th>"
        "<th>response, B</th></tr>"
    )
    rows = "".join(_journal_row(e) for e in entries) or '<tr><td colspan="12">No entries match.</td></tr>'
    links = []
    if where.before_id is not None:
        links.append(f'<a href="{html.escape(f"{JOURNAL_PATH}?{where.query(beforeId=None)}")}">newest</a>')
    if len(entries) == where.limit:
        older = f"{JOURNAL_PATH}?{where.query(beforeId=entries[-1]['id'])}"
        links.append(f'<a rel="next" href="{html.escape(older)}">older →</a>')
    return page(
        "Message journal",
        f'{filters}<table>\n<thead>{head}</thead>\n<tbody>\n{rows}</tbody>\n</table>\n<nav class="paging">'
        f"{''.join(links)}</nav>",
        signed_in=True,
    )


def _journal_row(entry: dict[str, Any]) -> str:
    outcome = entry["outcome"] if entry["outcome"] in OUTCOMES else ""
    cells = [
        f'<a href="{JOURNAL_PATH}/{int(entry["id"])}">{int(entry["id"])}</a>',
        f'<time datetime="{escape_or_dash(entry["received"])}">{escape_or_dash(local_time(entry["received"]))}</time>',
        escape_or_dash(entry["channel"]),
        escape_or_dash(entry["operation"]),
        escape_or_dash(entry["senderId"]),
        escape_or_dash(entry["serviceId"]),
        escape_or_dash(entry["messageId"]),
        f'<span class="{outcome}">{escape_or_dash(entry["outcome"])}</span>',
        escape_or_dash(entry["code"]),
    ]
    numbers = [entry["durationMs"], entry["requestBytes"], entry["responseBytes"]]
    return (
        "<tr>"
        + "".join(f"<td>{c}</td>" for c in cells)
        + "".join(f'<td class="num">{escape_or_dash(n)}</td>' for n in numbers)
        + "</tr>\n"
    )


ENTRY_FIELDS = (
    ("id", "id"),
    ("channel", "channel"),
    ("operation", "operation"),
    ("messageId", "messageId"),
    ("correlationId", "correlationId"),
    ("sessionId", "sessionId"),
    ("senderId", "senderId"),
    ("serviceId", "serviceId"),
    ("target", "target"),
    ("outcome", "outcome"),
    ("code", "code"),
    ("detail", "detail"),
    ("received (wall clock)", "received"),
    ("simulated time", "simTime"),
    ("duration, ms", "durationMs"),
    ("request, bytes", "requestBytes"),
    ("response, bytes", "responseBytes"),
)


def entry_page(entry: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{label}</th><td>{escape_or_dash(entry[key])}</td></tr>" for label, key in ENTRY_FIELDS)
    return page(
        f"Journal entry {int(entry['id'])}",
        f'<p><a href="{JOURNAL_PATH}">← the journal</a></p><table class="fields">{rows}</table>\n'
        + _xml_section("Request", "request", entry["requestXml"])
        + _xml_section("Response", "response", entry["responseXml"]),
        signed_in=True,
    )


def _xml_section(title: str, name: str, stored: str | None) -> str:
    shown, well_formed = display_xml(stored or "")
    note = "" if well_formed else "<p>Not well-formed XML: shown as stored (passwords masked).</p>"
    if (stored or "").endswith(CUT_MARK):
        note += "<p>The journal keeps the first <code>journal_max_xml_bytes</code> bytes: the rest is cut.</p>"
    body = f'<pre id="{name}-xml">{html.escape(shown)}</pre>' if shown else "<p>(empty)</p>"
    return f"<h2>{title}</h2>\n{note}{body}\n"


def refusal_block(code: str, messages: Mapping[str, str]) -> str:
    """A refusal of the catalogue as HTML: its code, and its text in each of kk/ru/en."""
    texts = "".join(f'<li lang="{html.escape(lang)}">{html.escape(text)}</li>' for lang, text in messages.items())
    return f'<p class="error"><code>{html.escape(code)}</code></p><ul>{texts}</ul>'


def refusal_page(title: str, code: str, messages: Mapping[str, str]) -> str:
    return page(
        title, f'{refusal_block(code, messages)}<p><a href="{JOURNAL_PATH}">← the journal</a></p>', signed_in=True
    )


def form_fields(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # more fields than any of our forms has
        return {}


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def first_value(values: Iterable[str]) -> str:
    return next(iter(values), "")


def safe_next(path: str) -> str | None:
    """``next`` of the login form when it is a page of the admin's own areas (no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or "\\" in path or not path.isprintable():
        return None
    if any(parts.path == area or parts.path.startswith(f"{area}/") for area in SESSION_PATHS):
        return path
    return None


# -- who is signed in ------------------------------------------------------------------------------
def signed_in(kernel: Kernel, request: Request) -> bool:
    """The session cookie, or the admin token as a bearer token."""
    cookie = request.cookies.get(COOKIE)
    if cookie and session_is_valid(cookie, kernel.admin_token):
        return True
    try:
        kernel.require_admin(request)
    except CodedError:
        return False
    return True


def sign_in_required(kernel: Kernel, request: Request, next_path: str | None = None) -> Response:
    """A browser goes to the login page (and back to ``next_path`` after it); any other client gets
    the JSON problem."""
    if wants_html(request):
        return see_other(f"{LOGIN_PATH}?{urlencode({'next': next_path})}" if next_path else LOGIN_PATH)
    answer = problem(
        kernel.refusals,
        "ADMIN_AUTH_REQUIRED",
        request_lang(request),
        f"send 'Authorization: Bearer <admin token>' or sign in at {LOGIN_PATH}",
    )
    answer.headers.update(SECURITY_HEADERS)
    return answer


# -- the routes ------------------------------------------------------------------------------------
def inspector_router(kernel: Kernel) -> APIRouter:
    gateway = Gateway.of(kernel)
    router = APIRouter(prefix=PREFIX, tags=["inspector"], default_response_class=HTMLResponse)

    @router.get("/login", summary="the inspector's sign-in form (admin token); `next`: the page to go back to")
    async def login_form(next_path: Annotated[str, Query(alias="next")] = "") -> Response:
        return html_response(login_page(next_path=safe_next(next_path)))

    @router.post("/login", summary="sign in: form fields `token` and `next`; sets the session cookie")
    async def login(request: Request) -> Response:
        form = form_fields(await request.body())
        token = first_value(form.get("token", []))
        next_path = safe_next(first_value(form.get("next", [])))
        if not hmac.compare_digest(token.encode(), kernel.admin_token.encode()):
            return html_response(login_page("That is not the admin token.", next_path), 401)
        answer = see_other(next_path or JOURNAL_PATH)
        session = issue_session(kernel.admin_token)
        for path in SESSION_PATHS:
            answer.set_cookie(
                COOKIE,
                session,
                max_age=int(SESSION_LIFETIME.total_seconds()),
                path=path,
                secure=request.url.scheme == "https",
                httponly=True,
                samesite="strict",
            )
        return answer

    @router.post("/logout", summary="sign out: clears the session cookie")
    async def logout(request: Request) -> Response:
        answer = see_other(LOGIN_PATH)
        for path in SESSION_PATHS:
            answer.delete_cookie(
                COOKIE, path=path, secure=request.url.scheme == "https", httponly=True, samesite="strict"
            )
        return answer

    @router.get("/journal", summary="the message journal, newest first, with filters and paging")
    async def journal(request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request)
        where = JournalFilter.of(request.query_params)
        entries = await gateway.journal.query(
            message_id=where.message_id,
            service_id=where.service_id,
            sender_id=where.sender_id,
            outcome=where.outcome,
            limit=where.limit,
            before_id=where.before_id,
        )
        return html_response(journal_page(entries, where))

    @router.get("/journal/{entry_id}", summary="one journal entry with its request and response XML")
    async def journal_entry(entry_id: str, request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request)
        number = _entry_id(entry_id)
        try:
            if number is None:
                raise CodedError("JOURNAL_ENTRY_NOT_FOUND", f"no journal entry {entry_id!r}")
            entry = await gateway.journal.get(number)
        except CodedError as error:
            refusal = kernel.refusals.get(error.code)
            assert refusal is not None, error.code
            return html_response(
                refusal_page("Not found", error.code, refusal.messages(error.params)), refusal.http_status
            )
        return html_response(entry_page(entry))

    return router
