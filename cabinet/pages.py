"""The personal cabinet (жеке кабинет / личный кабинет) in the browser: its pages under ``/cabinet/``
(regulation 001, 7-процесс: the result, an e-document certified with the provider's EDS, is sent
to the personal cabinet).

- ``/cabinet/`` the citizen's requests newest first, their notifications (unread ones marked, a
  form marks one read), the e-mail and SMS messages egovsim kept instead of sending them, and the
  contacts those go to;
- ``/cabinet/requests/{number}``: the status, the timeline of the request's steps as the trace
  journal holds them (each worded from the catalogue), a refusal with its code and the
  regulation's wording, the result e-document as a readable page, its signed XML to download and
  a "check the signature" button (``static/verify.js`` posts the downloaded XML to
  ``/cabinet/api/verify``);
- ``/cabinet/verify``: anyone pastes or uploads a signed XML document and sees the check.

The citizen is whoever the portal says the session is (:func:`cabinet.router.current_citizen`, the
``egovsim_portal`` cookie, asked of ``/portal/api/me``); without a session a page sends the browser
to the portal's login form and back. Another citizen's request is "not found", exactly like a
missing one. Every form of a logged-in citizen carries the session's CSRF token (``csrf``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from cabinet.service import CLOSED, Cabinet
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.security import csrf_token
from egovsim.web import (
    Phrase,
    Refusal,
    Visitor,
    csrf_field,
    dash,
    html_page,
    local_time,
    login_redirect,
    page_lang,
    see_other,
    shell,
)

PREFIX = "/cabinet"
HOME = f"{PREFIX}/"
VERIFY_PATH = f"{PREFIX}/verify"
SCRIPT_PATH = f"{PREFIX}/static/verify.js"
MAX_DOCUMENT_BYTES = 5_000_000  # as POST /cabinet/api/verify takes it
REFRESH_SECONDS = 3  # an open request's page follows the provider's work on its own

P = Phrase
TITLE = P("Жеке кабинет", "Личный кабинет", "Personal cabinet")
HISTORY = P("Сұраныстар тарихы", "История запросов", "History of requests")
NUMBER = P("Нөмірі", "Номер", "Number")
SERVICE = P("Қызмет", "Услуга", "Service")
STATUS = P("Мәртебесі", "Статус", "Status")
SUBMITTED = P("Жіберілген күні", "Дата отправки", "Submitted")
CLOSED_AT = P("Аяқталған күні", "Дата завершения", "Completed")
CHANNEL = P("Арна", "Канал", "Channel")
CHANNELS = {
    "portal": P("портал", "портал", "portal"),
    "hqo": P("ХҚО", "ЦОН", "ХҚО / ЦОН"),
    "office": P("кеңсе", "канцелярия", "office"),
}
NONE_YET = P("Әзірге жоқ.", "Пока нет.", "None yet.")
NOTIFICATIONS = P("Хабарламалар", "Уведомления", "Notifications")
UNREAD = P("жаңа", "новое", "new")
MARK_READ = P("Оқылды деп белгілеу", "Отметить как прочитанное", "Mark as read")
OUTBOX = P("Жіберілген хабарлар (e-mail, SMS)", "Отправленные сообщения (e-mail, SMS)", "Messages sent (e-mail, SMS)")
OUTBOX_HINT = P(
    "egovsim хаттарды жібермейді, оларды осында сақтайды.",
    "egovsim не отправляет сообщения, а хранит их здесь.",
    "egovsim sends nothing: it keeps the messages here.",
)
ADDRESS = P("Мекенжай", "Адрес", "Address")
SUBJECT = P("Тақырып", "Тема", "Subject")
TEXT = P("Мәтін", "Текст", "Text")
TIME = P("Уақыты", "Время", "Time")
CONTACTS = P("Байланыс деректері", "Контактные данные", "Contacts")
CONTACTS_HINT = P(
    "Хабарламалар бұларға да жіберіледі.",
    "Уведомления отправляются и туда.",
    "Notifications also go there.",
)
EMAIL = P("Электрондық пошта", "Электронная почта", "E-mail")
PHONE = P("Ұялы телефон (+7XXXXXXXXXX)", "Мобильный телефон (+7XXXXXXXXXX)", "Mobile phone (+7XXXXXXXXXX)")
SAVE = P("Сақтау", "Сохранить", "Save")

REQUEST_TITLE = P("№ {number} сұраныс", "Запрос № {number}", "Request No. {number}")
BACK = P("← Сұраныстар тарихы", "← История запросов", "← History of requests")
TIMELINE = P("Орындалу барысы", "Ход исполнения", "Progress")
STEP = P("Қадам", "Шаг", "Step")
WHAT = P("Не болды", "Что сделано", "What happened")
OUTCOME = P("Нәтиже", "Итог", "Outcome")
CODE = P("Код", "Код", "Code")
SIM_TIME = P("Уақыты (симуляция)", "Время (симуляция)", "Time (simulated)")
OUTCOMES = {
    "ok": P("орындалды", "выполнено", "done"),
    "refused": P("бас тартылды", "отказ", "refused"),
    "fault": P("ақау", "сбой", "fault"),
    "rejected": P("қабылданбады", "отклонено", "rejected"),
}
REFUSAL = P("Бас тарту себебі", "Причина отказа", "Reason for the refusal")
RESULT = P("Мемлекеттік қызмет көрсету нәтижесі", "Результат оказания государственной услуги",
           "Result of the public service")  # fmt: skip
KIND = P("Құжат түрі", "Вид документа", "Kind of document")
KINDS = {
    "result": P(
        "мемлекеттік қызмет көрсету нәтижесі",
        "результат оказания государственной услуги",
        "the result of the public service",
    ),
    "refusal": P("дәлелді бас тарту", "мотивированный отказ", "a reasoned refusal"),
}
DECISION = P("Шешім", "Решение", "Decision")
GROUND = P("Негіз", "Основание", "Ground")
QUEUE_NUMBER = P("Кезектілік нөмірі", "Номер очереди", "Queue number")
QUEUE_AREA = P("Аудан (елді мекен)", "Район (населённый пункт)", "District (locality)")
PROVIDER = P("Көрсетілетін қызметті беруші", "Услугодатель", "Provider")
BIN = P("БСН", "БИН", "BIN")
IIN = P("ЖСН", "ИИН", "IIN")
REGISTRATION = P("Тіркеу нөмірі", "Регистрационный номер", "Registration number")
DATE = P("Күні", "Дата", "Date")
SIGNED_BY = P("ЭЦҚ-мен қол қойған", "Подписал ЭЦП", "Signed with the EDS of")
DOWNLOAD = P("Қол қойылған құжатты жүктеп алу (XML)", "Скачать подписанный документ (XML)",
             "Download the signed document (XML)")  # fmt: skip
CHECK = P("Қолтаңбаны тексеру", "Проверить подпись", "Check the signature")
PENDING = P(
    "Нәтиже әлі дайын емес; бет өздігінен жаңартылады.",
    "Результат ещё не готов; страница обновляется сама.",
    "The result is not ready yet; this page refreshes itself.",
)
NOT_FOUND = P("Табылмады", "Не найдено", "Not found")
REFUSED_TITLE = P("Сұрау қабылданбады", "Запрос не принят", "Request refused")

VERIFY_TITLE = P("ЭЦҚ-ны тексеру", "Проверка ЭЦП", "Check a signature")
VERIFY_INTRO = P(
    "Кез келген адам қол қойылған XML құжатын (мысалы, жеке кабинеттегі нәтижені) тексере алады: ЭЦҚ, "
    "сертификат тізбегі ҰКО-ға дейін және қайтарып алу (OCSP, CRL).",
    "Любой может проверить подписанный XML-документ (например, результат из личного кабинета): ЭЦП, цепочку "
    "сертификатов до НУЦ и отзыв (OCSP, CRL).",
    "Anyone can check a signed XML document (a result from the personal cabinet, say): the signature, the "
    "certificate chain up to the NCA and revocation (OCSP, CRL).",
)
XML = P("Қол қойылған XML", "Подписанный XML", "Signed XML")
XML_FILE = P("немесе XML файлы", "или файл XML", "or an XML file")
CHECK_BUTTON = P("Тексеру", "Проверить", "Check")
VALID = P("ЭЦҚ жарамды", "ЭЦП действительна", "The signature is valid")
INVALID = P("ЭЦҚ жарамсыз", "ЭЦП недействительна", "The signature is not valid")
SIGNER = P("Қол қоюшы", "Подписант", "Signer")
ORGANIZATION = P("Ұйым", "Организация", "Organisation")
SERIAL = P("Сертификаттың сериялық нөмірі", "Серийный номер сертификата", "Certificate serial number")
NOT_AFTER = P("Сертификаттың жарамдылық мерзімі", "Сертификат действителен до", "Certificate valid until")
REVOCATION = P("Қайтарып алуды тексеру", "Проверка отзыва", "Revocation check")
TRUST = P("Сенім анкері", "Доверенный корень", "Trust anchor")
CHECKING = P("Тексерілуде…", "Проверка…", "Checking…")
# what verify.js says, in the page language (data-t-* attributes of the button)
SCRIPT_TEXTS = {
    "checking": CHECKING,
    "valid": VALID,
    "invalid": INVALID,
    "signer": SIGNER,
    "iin": IIN,
    "bin": BIN,
    "organization": ORGANIZATION,
    "serial": SERIAL,
    "notAfter": NOT_AFTER,
    "revocation": REVOCATION,
    "trust": TRUST,
}


def request_path(number: str) -> str:
    return f"{PREFIX}/requests/{quote(number, safe='')}"


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name)


# -- the pages -------------------------------------------------------------------------------------
def home_body(
    lang: str,
    visitor: Visitor,
    history: list[dict[str, Any]],
    notes: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    contacts: Mapping[str, str | None],
    refusal: Refusal | None = None,
) -> str:
    rows = (
        "".join(
            f'<tr data-number="{html.escape(r["number"])}"><td><a href="{html.escape(request_path(r["number"]))}">'
            f"{html.escape(r['number'])}</a></td><td>{dash(r['title'])}</td>"
            f'<td data-status="{html.escape(r["status"])}">{dash(r["statusText"])}</td>'
            f"<td>{local_time(r['submittedAt'])}</td><td>{local_time(r['closedAt'])}</td></tr>"
            for r in history
        )
        or f'<tr><td colspan="5">{NONE_YET(lang)}</td></tr>'
    )
    body = (
        f'<section aria-labelledby="history"><h2 id="history">{HISTORY(lang)}</h2><table><thead><tr>'
        f"<th>{NUMBER(lang)}</th><th>{SERVICE(lang)}</th><th>{STATUS(lang)}</th><th>{SUBMITTED(lang)}</th>"
        f"<th>{CLOSED_AT(lang)}</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
    items = "".join(_note(n, lang, visitor) for n in notes) or f"<li>{NONE_YET(lang)}</li>"
    body += (
        f'<section aria-labelledby="notifications"><h2 id="notifications">{NOTIFICATIONS(lang)}</h2>'
        f"<ul>{items}</ul></section>"
    )
    sent = (
        "".join(
            f"<tr><td>{dash(m['channel'])}</td><td>{dash(m['address'])}</td><td>{dash(m['subject'])}</td>"
            f"<td>{dash(m['body'])}</td><td>{local_time(m['createdAt'])}</td></tr>"
            for m in messages
        )
        or f'<tr><td colspan="5">{NONE_YET(lang)}</td></tr>'
    )
    body += (
        f'<section aria-labelledby="outbox"><h2 id="outbox">{OUTBOX(lang)}</h2><p class="hint">{OUTBOX_HINT(lang)}</p>'
        f"<table><thead><tr><th>{CHANNEL(lang)}</th><th>{ADDRESS(lang)}</th><th>{SUBJECT(lang)}</th>"
        f"<th>{TEXT(lang)}</th><th>{TIME(lang)}</th></tr></thead><tbody>{sent}</tbody></table></section>"
    )
    return body + (
        f'<section aria-labelledby="contacts"><h2 id="contacts">{CONTACTS(lang)}</h2>'
        + (refusal.block() if refusal else "")
        + f'<p class="hint">{CONTACTS_HINT(lang)}</p><form class="stack" method="post" action="{PREFIX}/contacts"'
        f' id="contacts-form">{csrf_field(visitor)}'
        f'<div><label for="email">{EMAIL(lang)}</label><input type="email" id="email" name="email" maxlength="200"'
        f' autocomplete="email" value="{html.escape(contacts.get("email") or "")}"></div>'
        f'<div><label for="phone">{PHONE(lang)}</label><input type="tel" id="phone" name="phone" maxlength="12"'
        f' autocomplete="tel" pattern="\\+7\\d{{10}}" value="{html.escape(contacts.get("phone") or "")}"></div>'
        f'<div><button type="submit">{SAVE(lang)}</button></div></form></section>'
    )


def _note(note: Mapping[str, Any], lang: str, visitor: Visitor) -> str:
    nid = int(note["id"])
    unread = not note["read"]
    mark = (
        f' <span class="badge unread">{UNREAD(lang)}</span> <form method="post" style="display:inline"'
        f' action="{PREFIX}/notifications/{nid}/read">{csrf_field(visitor)}'
        f'<button type="submit" class="secondary" aria-label="{MARK_READ(lang)}: {html.escape(note["number"])}">'
        f"{MARK_READ(lang)}</button></form>"
        if unread
        else ""
    )
    return (
        f'<li id="notification-{nid}" data-read="{"false" if unread else "true"}">{local_time(note["createdAt"])} · '
        f'<a href="{html.escape(request_path(note["number"]))}">{html.escape(note["number"])}</a> · '
        f'<span class="code">{html.escape(note["code"])}</span><br>{"<strong>" if unread else ""}'
        f"{html.escape(note['message'])}{'</strong>' if unread else ''}{mark}</li>"
    )


def request_body(described: Mapping[str, Any], lang: str) -> str:
    number = str(described["number"])
    status = str(described["status"])
    channel = CHANNELS.get(described["channel"])
    facts = (
        f'<p><a href="{HOME}">{BACK(lang)}</a></p><table class="facts">'
        f"<tr><th>{NUMBER(lang)}</th><td>{html.escape(number)}</td></tr>"
        f"<tr><th>{SERVICE(lang)}</th><td>{dash(described['title'])}</td></tr>"
        f"<tr><th>{CHANNEL(lang)}</th><td>{channel(lang) if channel else dash(described['channel'])}</td></tr>"
        f'<tr><th>{STATUS(lang)}</th><td id="request-status" data-status="{html.escape(status)}">'
        f"{dash(described['statusText'])}</td></tr>"
        f"<tr><th>{SUBMITTED(lang)}</th><td>{local_time(described['submittedAt'])}</td></tr>"
        f"<tr><th>{CLOSED_AT(lang)}</th><td>{local_time(described['closedAt'])}</td></tr></table>"
    )
    body = facts
    refusal = described.get("refusal")
    if refusal:
        detail = refusal.get("detail")
        body += (
            f'<section class="refusal" role="alert" id="refusal" data-code="{html.escape(refusal["code"])}">'
            f'<h2>{REFUSAL(lang)}</h2><p><span class="code">{html.escape(refusal["code"])}</span> · '
            f'<span class="step">{html.escape(refusal["step"])}</span></p>'
            f'<p class="message">{html.escape(refusal["message"])}</p>'
            + (f'<p class="hint">{html.escape(detail)}</p>' if detail else "")
            + "</section>"
        )
    result = described.get("result")
    if result:
        body += _result(number, result, lang)
    elif status not in CLOSED:
        body += f'<p class="notice" role="status">{PENDING(lang)}</p>'
    rows = "".join(_timeline_row(e, lang) for e in described.get("timeline") or [])
    rows = rows or f'<tr><td colspan="5">{NONE_YET(lang)}</td></tr>'
    return body + (
        f'<section aria-labelledby="timeline"><h2 id="timeline">{TIMELINE(lang)}</h2><table><thead><tr>'
        f"<th>{STEP(lang)}</th><th>{WHAT(lang)}</th><th>{OUTCOME(lang)}</th><th>{CODE(lang)}</th>"
        f"<th>{SIM_TIME(lang)}</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _timeline_row(entry: Mapping[str, Any], lang: str) -> str:
    outcome = str(entry.get("outcome") or "")
    shown = OUTCOMES.get(outcome)
    code = entry.get("code")
    message = entry.get("message")
    what = dash(entry.get("text"))
    if message:
        what += f'<br><span class="{html.escape(outcome)}">{html.escape(message)}</span>'
    return (
        f'<tr data-step="{html.escape(str(entry["step"]))}" data-outcome="{html.escape(outcome)}">'
        f"<td><code>{html.escape(str(entry['step']))}</code></td><td>{what}</td>"
        f'<td class="{html.escape(outcome)}">{shown(lang) if shown else dash(outcome)}</td>'
        f"<td>{dash(code)}</td><td>{local_time(entry.get('at'))}</td></tr>"
    )


def _result(number: str, result: Mapping[str, Any], lang: str) -> str:
    kind = KINDS.get(str(result.get("kind")))
    provider = result.get("provider") or {}
    signer = result.get("signedBy") or {}
    rows = [
        (KIND(lang), kind(lang) if kind else dash(result.get("kind"))),
        (DECISION(lang), dash(result.get("decision"))),
        (PROVIDER(lang), f"{dash(provider.get('name'))} · {BIN(lang)} {dash(provider.get('bin'))}"),
        (REGISTRATION(lang), dash(result.get("registrationNumber"))),
        (DATE(lang), local_time(result.get("date"))),
        (SIGNED_BY(lang), f"{dash(signer.get('name'))} · {IIN(lang)} {dash(signer.get('iin'))}"),
    ]
    if result.get("ground"):
        rows.insert(2, (GROUND(lang), dash(result.get("ground"))))
    if result.get("queueNumber"):
        queue = f'<strong id="queue-number">{dash(result.get("queueNumber"))}</strong>'
        rows[2:2] = [(QUEUE_NUMBER(lang), queue), (QUEUE_AREA(lang), dash(result.get("area")))]
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    download = f"{PREFIX}/api/requests/{quote(number, safe='')}/result"
    texts = "".join(f' data-t-{_kebab(k)}="{html.escape(v(lang))}"' for k, v in SCRIPT_TEXTS.items())
    return (
        f'<article class="document" id="result" aria-labelledby="result-title">'
        f'<h2 id="result-title">{RESULT(lang)}</h2><table class="facts">{table}</table>'
        f'<p><a href="{html.escape(download)}" download="{html.escape(number)}-result.xml" id="download-result">'
        f"{DOWNLOAD(lang)}</a></p>"
        f'<p><button type="button" id="check-signature" data-verify data-lang="{lang}"'
        f' data-result-url="{html.escape(download)}" data-verify-url="{PREFIX}/api/verify"'
        f' data-output="signature-check"{texts}>{CHECK(lang)}</button></p>'
        '<div id="signature-check" aria-live="polite"></div></article>'
    )


def verify_body(lang: str, visitor: Visitor | None, answer: str = "", xml: str = "") -> str:
    return (
        f"<p>{VERIFY_INTRO(lang)}</p>{answer}"
        f'<form class="stack" method="post" enctype="multipart/form-data" action="{VERIFY_PATH}" id="verify-form">'
        f"{csrf_field(visitor) if visitor else ''}"
        f'<div><label for="xml">{XML(lang)}</label><textarea id="xml" name="xml">{html.escape(xml)}</textarea></div>'
        f'<div><label for="file">{XML_FILE(lang)}</label><input type="file" id="file" name="file"'
        f' accept=".xml,application/xml,text/xml"></div>'
        f'<div><button type="submit">{CHECK_BUTTON(lang)}</button></div></form>'
    )


def verification(answer: Mapping[str, Any], lang: str, kernel: Kernel) -> str:
    """What POST /cabinet/api/verify answered, as the verify page shows it."""
    valid = bool(answer.get("valid"))
    parts = [f'<p class="{"ok" if valid else "refused"}" id="verdict" data-valid="{str(valid).lower()}"><strong>'
             f"{(VALID if valid else INVALID)(lang)}</strong></p>"]  # fmt: skip
    if not valid and answer.get("code"):
        parts.append(Refusal.of(kernel.refusals, str(answer["code"]), lang, detail=answer.get("detail")).block())
    signer = answer.get("signer") or {}
    rows = [
        (SIGNER(lang), signer.get("commonName")),
        (IIN(lang), signer.get("iin")),
        (BIN(lang), signer.get("bin")),
        (ORGANIZATION(lang), signer.get("organization")),
        (SERIAL(lang), signer.get("serialNumber")),
        (REVOCATION(lang), ", ".join(f"{r['by']}: {r['status']}" for r in answer.get("revocation") or [])),
        (TRUST(lang), answer.get("trustAnchor")),
    ]
    shown = [(k, dash(v)) for k, v in rows]
    shown.insert(5, (NOT_AFTER(lang), local_time(signer.get("notAfter"))))
    parts.append('<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in shown) + "</table>")
    frame = "accepted" if valid else "refusal"
    return f'<section class="{frame}" role="status" id="verification">{"".join(parts)}</section>'


# -- the routes ------------------------------------------------------------------------------------
def cabinet_pages(kernel: Kernel) -> APIRouter:
    """The cabinet's web pages (module docstring)."""
    # imported here: cabinet.router imports this module to register these pages
    from cabinet.router import ContactsIn, current_citizen

    cabinet = Cabinet.of(kernel)
    router = APIRouter(prefix=PREFIX, tags=["cabinet pages"], default_response_class=HTMLResponse)

    def refusal(error: CodedError, lang: str) -> Refusal:
        return Refusal.of(kernel.refusals, error.code, lang, error.params, error.detail)

    async def visitor_of(request: Request) -> Visitor | Response:
        """The logged-in citizen (a change with its CSRF token); else the login form or the refusal."""
        try:
            citizen = await current_citizen(request)
        except CodedError as error:
            if error.code != "PORTAL_CSRF_REFUSED":
                return login_redirect(request, HOME if request.method == "POST" else None)
            lang = page_lang(request)
            shown = refusal(error, lang)
            return respond(request, REFUSED_TITLE(lang), shown.block(), None, shown.status)
        return Visitor(citizen.iin, csrf_token(kernel.admin_token, citizen.session_id))

    def respond(request: Request, title: str, body: str, visitor: Visitor | None, status: int = 200,
                *, head: str = "") -> Response:  # fmt: skip
        lang = page_lang(request)
        return html_page(request, shell(request, lang, title, body, visitor=visitor, head=head), status)

    async def render_home(request: Request, visitor: Visitor, refused: Refusal | None = None) -> Response:
        lang = page_lang(request)
        body = home_body(
            lang,
            visitor,
            await cabinet.history(visitor.iin, lang),
            await cabinet.notifications(visitor.iin, lang),
            await cabinet.outbox(visitor.iin),
            await cabinet.contacts(visitor.iin),
            refused,
        )
        return respond(request, TITLE(lang), body, visitor, refused.status if refused else 200)

    @router.get("/", summary="the citizen's requests, notifications, messages sent and contacts")
    async def home(request: Request) -> Response:
        visitor = await visitor_of(request)
        if isinstance(visitor, Response):
            return visitor
        return await render_home(request, visitor)

    @router.get("/requests/{number}", summary="one request: status, timeline, refusal or result")
    async def request_page(number: str, request: Request) -> Response:
        lang = page_lang(request)
        visitor = await visitor_of(request)
        if isinstance(visitor, Response):
            return visitor
        try:
            described = await cabinet.request(visitor.iin, number[:40], lang)
        except CodedError as error:
            shown = refusal(error, lang)
            return respond(request, NOT_FOUND(lang), shown.block() + f'<p><a href="{HOME}">{BACK(lang)}</a></p>',
                           visitor, shown.status)  # fmt: skip
        head = f'<script src="{SCRIPT_PATH}" defer></script>\n'
        if described["status"] not in CLOSED:
            head += f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">\n'
        title = REQUEST_TITLE(lang).format(number=described["number"])
        return respond(request, title, request_body(described, lang), visitor, head=head)

    @router.post("/notifications/{notification_id}/read", summary="mark a notification read (form)")
    async def read(notification_id: int, request: Request) -> Response:
        visitor = await visitor_of(request)
        if isinstance(visitor, Response):
            return visitor
        try:
            await cabinet.mark_read(visitor.iin, notification_id)
        except CodedError as error:
            return await render_home(request, visitor, refusal(error, page_lang(request)))
        return see_other(request, f"{HOME}#notifications")

    @router.post("/contacts", summary="set the e-mail address and phone number for notifications (form)")
    async def contacts(request: Request) -> Response:
        visitor = await visitor_of(request)
        if isinstance(visitor, Response):
            return visitor
        form = await request.form()
        given = {k: v.strip() for k in ("email", "phone") if isinstance(v := form.get(k), str) and v.strip()}
        try:
            wanted = ContactsIn.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return await render_home(
                request, visitor, refusal(CodedError("REQUEST_INVALID", problems), page_lang(request))
            )
        await cabinet.set_contacts(visitor.iin, wanted.email, wanted.phone)
        return see_other(request, f"{HOME}#contacts")

    async def optional_visitor(request: Request) -> Visitor | None:
        try:
            citizen = await current_citizen(request)
        except CodedError:
            return None
        return Visitor(citizen.iin, csrf_token(kernel.admin_token, citizen.session_id))

    @router.get("/verify", summary="check a signed XML document (anyone)")
    async def verify_form(request: Request) -> Response:
        lang = page_lang(request)
        visitor = await optional_visitor(request) if request.cookies else None
        return respond(request, VERIFY_TITLE(lang), verify_body(lang, visitor), visitor)

    @router.post("/verify", summary="check a signed XML document (multipart form: `xml` or `file`)")
    async def verify(request: Request) -> Response:
        # nothing changes and no session is needed, so no CSRF token either (as POST /cabinet/api/verify)
        lang = page_lang(request)
        form = await request.form()
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            document = await upload.read(MAX_DOCUMENT_BYTES + 1)
        else:
            text = form.get("xml")
            document = text.encode("utf-8") if isinstance(text, str) else b""
        pasted = document.decode("utf-8", "replace") if len(document) <= 200_000 else ""
        try:
            if len(document) > MAX_DOCUMENT_BYTES:
                raise CodedError("BODY_TOO_LARGE", f"at most {MAX_DOCUMENT_BYTES} bytes")
            answer = verification(await cabinet.verify(document), lang, kernel)
            status = 200
        except CodedError as error:
            shown = refusal(error, lang)
            answer, status = shown.block(), shown.status
        visitor = await optional_visitor(request) if request.cookies else None
        return respond(request, VERIFY_TITLE(lang), verify_body(lang, visitor, answer, pasted), visitor, status)

    @router.get("/static/verify.js", summary="the signature check button (JavaScript)", response_class=Response)
    async def script() -> Response:
        source = resources.files("cabinet.static").joinpath("verify.js").read_bytes()
        return Response(source, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    return router
