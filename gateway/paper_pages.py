"""The papers the provider's office prints for the applicant, as pages in kk/ru/en (``?lang=``):

- ``/rshep/office/receipts/{number}``: the receipt of acceptance (regulation 003 item 11.2 lists what
  it states: the request's number and date, the service, the number and names of the documents, the
  date and place of issue, the employee who accepted them), the tear-off coupon, or the receipt of
  refusal to accept an incomplete package (standard 002 appendix 3: the recipient, the department,
  the service, the missing documents, the employee, the date);
- ``/rshep/cases/{id}/result``: the signed result e-document (or the reasoned refusal) made readable,
  with its queue number where the service keeps a queue.

They sit in the workstation's chrome and behind its sign-in (the admin session or token); a print
stylesheet leaves the chrome off the paper. No script, nothing from another origin.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from egovsim.catalog.forms import read_result, result_decision
from egovsim.catalog.models import Service
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.web import (
    DATE,
    DECISION,
    GROUND,
    LANGS,
    QUEUE_NUMBER,
    REASONED_TITLE,
    REGISTRATION,
    REPRESENTATIVE,
    RESULT_TITLE,
    SIGNED_BY,
    Phrase,
    page_lang,
)
from gateway.inspector import escape_or_dash, html_response, local_time, page, sign_in_required, signed_in
from gateway.workstation import RegionalWorkstation
from gateway.workstation_pages import AREA, HOME, Refusal, not_found_page

P = Phrase
RECEIPT_TITLES = {
    "RECEIPT_ACCEPTED": P("Құжаттардың қабылданғаны туралы қолхат", "Расписка о приеме документов",
                          "Receipt of acceptance of the documents"),
    "TEAR_OFF_COUPON": P("Өтініштің үзбелі талоны", "Отрывной талон заявления", "Tear-off coupon of the application"),
    "PACKAGE_INCOMPLETE": P("Құжаттарды қабылдаудан бас тарту туралы қолхат", "Расписка об отказе в приеме документов",
                            "Receipt of refusal to accept the documents"),
}  # fmt: skip
NUMBER = P("Нөмірі", "Номер", "Number")
SERVICE = P("Мемлекеттік көрсетілетін қызметтің атауы", "Наименование государственной услуги",
            "Name of the public service")  # fmt: skip
PROVIDER = P("Көрсетілетін қызметті беруші", "Услугодатель", "Provider")
APPLICANT = P("Көрсетілетін қызметті алушының ЖСН", "ИИН услугополучателя", "Recipient's IIN")
DOCUMENTS = P("Қабылданған құжаттар (саны мен атауы)", "Принятые документы (количество и наименование)",
              "Documents accepted (number and names)")  # fmt: skip
MISSING = P("Жоқ құжаттардың атауы", "Наименование отсутствующих документов", "Missing documents")
EMPLOYEE = P("Құжаттарды қабылдаған қызметкер", "Работник, принявший документы", "Employee who took the documents")
ISSUE_PLACE = P("Нәтижені беру орны", "Место выдачи результата", "Where the result is issued")
ISSUE_DATE = P("Нәтижені беру мерзімі", "Срок выдачи результата", "When the result is due")
AREA_LABEL = P("Аудан (елді мекен)", "Район (населённый пункт)", "District (locality)")
ISSUED = P("Берілді", "Выдан", "Issued")
NOT_YET = P("Нәтиже әлі дайын емес.", "Результат ещё не готов.", "The result is not ready yet.")
LANGUAGE = P("Тіл", "Язык", "Language")
PRINT_CSS = """
.paper { border: 1px solid #7a8794; padding: 1rem 1.4rem; background: #fffef8; max-width: 48rem; }
.paper th { text-align: left; vertical-align: top; width: 40%; }
nav.langs { display: flex; gap: .8rem; margin-bottom: .8rem; }
@media print { header, nav.langs { display: none; } .paper { border: 0; } }
"""


def _page(request: Request, lang: str, title: str, body: str) -> str:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{html.escape(request.url.path)}?lang={code}"{current if code == lang else ""}>{code}</a>'
        for code in LANGS
    )
    switch = f'<nav class="langs" aria-label="{LANGUAGE(lang)}">{links}</nav>'
    return page(title, switch + body, signed_in=True, home=HOME, area=AREA, css=PRINT_CSS, lang=lang)


def _rows(rows: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)


def _names(documents: list[Mapping[str, Any]], lang: str) -> str:
    items = "".join(f"<li>{html.escape(d['name'].get(lang, d['id']))}</li>" for d in documents)
    return f"<ol>{items}</ol>" if items else "—"


def receipt_body(receipt: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """(title, body) of a receipt of the office."""
    facts = receipt["facts"]
    title = RECEIPT_TITLES.get(receipt["code"], RECEIPT_TITLES["RECEIPT_ACCEPTED"])(lang)
    provider = facts["provider"]
    rows = [
        (NUMBER(lang), html.escape(receipt["number"])),
        (DATE(lang), html.escape(local_time(receipt["issuedAt"]))),
        (PROVIDER(lang), f"{html.escape(provider['name'][lang])} · {html.escape(provider['region'][lang])}"),
        (SERVICE(lang), html.escape(facts["service"]["title"][lang])),
        (APPLICANT(lang), html.escape(receipt["applicantIin"])),
        (REPRESENTATIVE(lang), escape_or_dash(receipt["representativeIin"])),
        (DOCUMENTS(lang), f"{len(facts['documents'])}{_names(facts['documents'], lang)}"),
    ]
    if receipt["kind"] == "refusal":
        rows.append((MISSING(lang), _names(facts["missing"], lang)))
    else:
        rows.append((ISSUE_PLACE(lang), html.escape(provider["name"][lang])))
    rows.append((EMPLOYEE(lang), html.escape(facts["employee"]["name"])))
    message = receipt["messages"].get(lang, "")
    body = (
        f'<article class="paper" id="receipt" data-code="{html.escape(receipt["code"])}">'
        f'<p class="message">{html.escape(message)}</p><table>{_rows(rows)}</table></article>'
    )
    return title, body


def result_body(case: Mapping[str, Any], xml: str, service: Service | None, lang: str) -> tuple[str, str]:
    """(title, body) of a signed result e-document or reasoned refusal, made readable."""
    doc = read_result(xml)
    approved = doc["kind"] == "result"
    rows = [
        (REGISTRATION(lang), escape_or_dash(doc["registrationNumber"])),
        (DATE(lang), html.escape(local_time(doc["date"] or case["closedAt"]))),
        (PROVIDER(lang), f"{escape_or_dash(doc['provider/name'])} · {escape_or_dash(doc['provider/bin'])}"),
        (SERVICE(lang), html.escape(service.titles.get(lang)) if service else escape_or_dash(None)),
        (APPLICANT(lang), escape_or_dash(doc["applicant/iin"])),
        (DECISION(lang), escape_or_dash(result_decision(service, doc, lang))),
    ]  # fmt: skip
    if not approved:
        rows.append((GROUND(lang), escape_or_dash(doc["ground"])))
    if doc["queueNumber"]:
        rows += [
            (QUEUE_NUMBER(lang), f'<strong id="queue-number">{html.escape(doc["queueNumber"])}</strong>'),
            (AREA_LABEL(lang), escape_or_dash(doc["area"])),
        ]
    rows.append((SIGNED_BY(lang), escape_or_dash(doc["signedBy/name"])))
    issued = case.get("issued")
    if issued:
        rows.append((ISSUED(lang), html.escape(local_time(issued["at"]))))
    title = (RESULT_TITLE if approved else REASONED_TITLE)(lang)
    body = f'<article class="paper" id="result" data-kind="{"result" if approved else "refusal"}">'
    return title, f"{body}<table>{_rows(rows)}</table></article>"


def paper_pages(kernel: Kernel, station: RegionalWorkstation) -> APIRouter:
    """The printable papers of the office (``/rshep/office/receipts/…``, ``/rshep/cases/…/result``)."""
    router = APIRouter(prefix="/rshep", tags=["workstation pages"], default_response_class=HTMLResponse)

    async def paper(request: Request, make: Callable[[str], Awaitable[tuple[str, str, int]]]) -> Response:
        """Signed in, a paper in the page's language; a missing one is the refusal's page."""
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, request.url.path)
        lang = page_lang(request)
        try:
            title, body, status = await make(lang)
        except CodedError as error:
            entry = kernel.refusals.get(error.code) or kernel.refusals.get("INTERNAL_ERROR")
            assert entry is not None
            refusal = Refusal(entry.code, entry.http_status, entry.messages(error.params), error.detail)
            return html_response(not_found_page(refusal), refusal.status)
        return html_response(_page(request, lang, title, body), status)

    @router.get("/office/receipts/{number}", summary="a receipt of the office, printable (?lang=kk|ru|en)")
    async def receipt(number: str, request: Request) -> Response:
        async def make(lang: str) -> tuple[str, str, int]:
            return *receipt_body(await station.receipt(number), lang), 200

        return await paper(request, make)

    @router.get("/cases/{case_id}/result", summary="a case's signed result made readable (?lang=kk|ru|en)")
    async def result(case_id: str, request: Request) -> Response:
        async def make(lang: str) -> tuple[str, str, int]:
            case = await station.case(case_id)
            xml = await station.result_xml(case_id)
            if xml is None:
                return RESULT_TITLE(lang), f"<p>{NOT_YET(lang)}</p>", 409
            return *result_body(case, xml, kernel.services.get(case["serviceId"]), lang), 200

        return await paper(request, make)

    return router
