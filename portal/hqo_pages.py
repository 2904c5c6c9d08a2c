"""The ХҚО / ЦОН operator workstation (ХҚО ЫАЖ АЖО) in the browser: its pages under ``/hqo/``
(regulation 004 at the front door, as the operator meets it), in kk / ru / en.

- ``/hqo/login`` the operator's login and password (1-процесс), with the demo operators of
  ``personas.yaml``; ``/hqo/logout`` (a form);
- ``/hqo/`` the desk: a ticket of the operating hall's electronic queue (pre), the services received
  at the ХҚО, and the centre's applications with their status;
- ``/hqo/applications/new?service=…&ticket=…`` the application (2-процесс): the applicant's IIN, or a
  representative's with the power of attorney's number, the service's fields, the paper documents
  handed in and the applicant's consent; sending it is intake, ГБД ФЛ and ЕНИС through ЭҮШ
  (3-процесс) and 1-шарт, whose refusals (4-процесс, or the incomplete package) land on the
  application's page with their papers;
- ``/hqo/applications/{number}`` the status, the registries' answers, the refusal, the buttons
  "sign with the operator's EDS and send" (5-процесс), "hand over" (8-процесс) and "ask back"
  (the State Corporation's keeping), the papers and the trace;
- the printable papers of standard 002 and regulation 004 (``?lang=`` for the applicant's
  language): ``…/consent``, ``…/receipt`` (the fields of the catalogue's acceptance receipt,
  regulation 003 item 11.2), ``…/refusal-receipt`` (standard 002 appendix 3), ``…/notice`` (4-процесс
  "the data cannot be obtained"), ``…/result`` (the provider's signed answer made readable) and
  ``…/result.xml`` (the signed e-document itself).

The pages call :class:`portal.hqo.HqoDesk`, the same operations as the JSON API
(:mod:`portal.hqo_api`), on the same session: the ``egovsim_hqo`` cookie, and on every form the
session's CSRF token (``csrf``). Another centre's application is "not found", exactly like a
missing one. A refusal is shown as its code, its regulation step and its text in the page
language, with the catalogue's HTTP status. No script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from lxml import etree
from pydantic import ValidationError
from starlette.datastructures import FormData

from egovsim.catalog.forms import ApplicationForm, read_result, result_decision
from egovsim.catalog.models import Form, Service
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.personas import DEFAULT_PASSWORD, load_personas
from egovsim.security import csrf_token
from egovsim.web import (
    CSS,
    DATE,
    DECISION,
    GROUND,
    LOG_IN,
    LOG_OUT,
    MAIN_MENU,
    QUEUE_NUMBER,
    REASONED_TITLE,
    REGISTRATION,
    REPRESENTATIVE,
    RESULT_TITLE,
    SIGNED_BY,
    SKIP,
    Phrase,
    Refusal,
    Visitor,
    _lang_links,
    csrf_field,
    dash,
    html_page,
    local_time,
    page_lang,
    see_other,
)
from portal.hqo import ANSWERED, HqoDesk, Operator
from portal.hqo_api import COOKIE, Application, current_operator
from portal.pages import (
    CHOOSE,
    DEADLINE,
    FIELDS,
    GBDFL,
    IIN,
    NONE_YET,
    NOT_FOUND,
    NUMBER,
    PASSWORD,
    PROVIDER,
    REFUSED_TITLE,
    REQUIRED,
    SERVICE,
    STATUS,
    field_input,
    shown_value,
    text_of,
)
from portal.sessions import SESSION_LIFETIME

PREFIX = "/hqo"
HOME = f"{PREFIX}/"
LOGIN_PATH = f"{PREFIX}/login"
SESSION_CODES = ("HQO_SESSION_REQUIRED", "HQO_SESSION_INVALID")
REFRESH_SECONDS = 3  # a sent application's page follows the provider's work on its own
_NEXT = re.compile(r"^/hqo/[\w\-./?=&%]*$")  # where the login form may send the operator back to
# the catalogue's paper forms whose fields the papers fill in (data over code)
ACCEPTANCE_RECEIPT = ("school_certificate_duplicate", "acceptance_receipt")  # regulation 003 item 11.2
REFUSAL_RECEIPT = ("visitation_permit_deprived_parents", "refusal_receipt")  # standard 002 appendix 3

# -- the words of the pages ------------------------------------------------------------------------
P = Phrase
AREA = P("ХҚО ЫАЖ АЖО · оператордың жұмыс орны", "АРМ ИС ЦОН · рабочее место оператора",
         "ХҚО / ЦОН operator workstation")  # fmt: skip
DESK = P("Оператор үстелі", "Стол оператора", "Operator's desk")
LOGIN_TITLE = P("Оператордың кіруі", "Вход оператора", "Operator login")
LOGIN = P("Логин", "Логин", "Login")
LOGGED_OUT = P("Сіз жүйеден шықтыңыз.", "Вы вышли из системы.", "You have logged out.")
OPERATORS = P("Демо операторлар", "Демо-операторы", "Demo operators")
OPERATORS_HINT = P("personas.yaml операторлары; демо құпиясөзі: ", "Операторы из personas.yaml; демо-пароль: ",
                   "The operators of personas.yaml; the demo password: ")  # fmt: skip
USE = P("Логинді қою", "Подставить логин", "Fill in the login")
CENTRE = P("ХҚО", "ЦОН", "Centre")
TICKET_TITLE = P("Электрондық кезек", "Электронная очередь", "Electronic queue")
TAKE_TICKET = P("Кезек талонын алу", "Взять талон очереди", "Take a queue ticket")
TICKET = P("Талон", "Талон", "Ticket")
TICKET_NUMBER = P("Талон нөмірі", "Номер талона", "Ticket number")
CHOOSE_SERVICE = P("Қызметті таңдау", "Выбор услуги", "Choose the service")
OPEN_FORM = P("Өтінішті толтыру", "Заполнить заявление", "Fill in the application")
ENIS_ASKED = P("өкіл үшін БНАЖ сұралады", "для представителя запрашивается ЕНИС", "ЕНИС is asked for a representative")
APPLICATIONS = P("Орталықтың өтініштері", "Заявления центра", "The centre's applications")
APPLICANT = P("Көрсетілетін қызметті алушының ЖСН", "ИИН услугополучателя", "Applicant's IIN")
POA_NUMBER = P("Сенімхаттың нөмірі (БНАЖ)", "Номер доверенности (ЕНИС)", "Power of attorney number (ЕНИС)")
REPRESENTATIVE_HINT = P(
    "Өтінішті нотариалды куәландырылған сенімхат бойынша өкіл берсе ғана толтырылады.",
    "Заполняется, только если заявление подаёт представитель по нотариальной доверенности.",
    "Only when a representative with a notarised power of attorney applies.",
)
CREATED = P("Қабылданды", "Принято", "Taken")
STATUSES = {
    "checked": P("Деректер тексерілді, жіберуге дайын", "Данные проверены, готово к отправке",
                 "Data checked, ready to send"),
    "not_accepted": P("Құжаттарды қабылдаудан бас тартылды", "Отказано в приёме документов",
                      "Documents not accepted"),
    "refused": P("Деректерді алу мүмкін емес", "Данные не могут быть получены", "The data cannot be obtained"),
    "sent": P("ЭҮАШ АЖО-ға жіберілді, жауап күтілуде", "Отправлено в АРМ РШЭП, ожидается ответ",
              "Sent to the provider's workstation, awaiting the answer"),
    "failed": P("Жіберілмеді", "Не отправлено", "Not sent"),
    "result_ready": P("Нәтиже дайын", "Результат готов", "Result ready"),
    "refused_by_provider": P("Көрсетілетін қызметті беруші бас тартты", "Отказ услугодателя",
                             "Refused by the provider"),
    "handed": P("Берілді", "Выдано", "Handed over"),
}  # fmt: skip
KEEPING = {
    "held": P("ХҚО-да сақталуда", "Хранится в ЦОН", "Kept at the centre"),
    "returned": P("Көрсетілетін қызметті берушіге қайтарылды", "Возвращено услугодателю", "Returned to the provider"),
    "recalled": P("Қайта сұратылды", "Запрошено обратно", "Asked back"),
}
UNTIL = P("дейін", "до", "until")

NEW_TITLE = P("Өтінішті қабылдау", "Приём заявления", "Taking an application")
WHO = P("Өтініш беруші", "Заявитель", "Who applies")
DOCUMENTS = P("Қабылданған қағаз құжаттар", "Принятые бумажные документы", "Paper documents handed in")
CONSENT = P("Көрсетілетін қызметті алушының келісімі", "Согласие услугополучателя", "The applicant's consent")
APPLICANT_LANG = P("Өтініш берушінің тілі (қағаздар үшін)", "Язык заявителя (для бумаг)",
                   "The applicant's language (for the papers)")  # fmt: skip
TAKE = P("Қабылдау және деректерді тексеру", "Принять и проверить данные", "Take it and check the data")
BACK = P("← Оператор үстелі", "← Стол оператора", "← Operator's desk")

APPLICATION_TITLE = P("№ {number} өтініш", "Заявление № {number}", "Application No. {number}")
OPERATOR = P("Оператор", "Оператор", "Operator")
MESSAGE_ID = P("ЭҮШ хабарламасының нөмірі", "Номер сообщения ШЭП", "Gateway message id")
CHECKS = P("Деректерді тексеру (3-процесс, 1-шарт)", "Проверка данных (3-процесс, 1-шарт)",
           "The data check (3-процесс, 1-шарт)")  # fmt: skip
ENIS = P("БНАЖ", "ЕНИС", "ЕНИС")
FOUND = P("табылды", "найдено", "found")
NOT_ASKED = P("сұралмады", "не запрашивалась", "not asked")
FULL_NAME = P("Т.А.Ә.", "Ф.И.О.", "Full name")
BIRTH_DATE = P("Туған күні", "Дата рождения", "Date of birth")
GRANTOR = P("Сенім білдіруші", "Доверитель", "Grantor")
REPRESENTATIVE_NAME = P("Өкіл", "Представитель", "Representative")
NOTARY = P("Нотариус", "Нотариус", "Notary")
VALIDITY = P("Қолданылу мерзімі", "Срок действия", "Valid")
MISSING = P("Жетіспейтін құжаттар", "Отсутствующие документы", "Missing documents")
REFUSAL = P("Бас тарту", "Отказ", "Refusal")
ACTIONS = P("Әрекеттер", "Действия", "Actions")
SEND = P("Оператордың ЭЦҚ-сымен қол қою және жіберу", "Подписать ЭЦП оператора и отправить",
         "Sign with the operator's EDS and send")  # fmt: skip
HAND_OVER = P("Нәтижені беру", "Выдать результат", "Hand over the result")
TO = P("Кімге", "Кому", "To whom")
TO_APPLICANT = P("көрсетілетін қызметті алушыға", "услугополучателю", "to the applicant")
TO_REPRESENTATIVE = P("өкілге", "представителю", "to the representative")
RECALL = P("Көрсетілетін қызметті берушіден қайта сұрату", "Запросить обратно у услугодателя",
           "Ask it back from the provider")  # fmt: skip
WAITING = P(
    "Көрсетілетін қызметті берушінің жауабы күтілуде; бет өздігінен жаңартылады.",
    "Ожидается ответ услугодателя; страница обновляется сама.",
    "Waiting for the provider's answer; this page refreshes itself.",
)
SENT_OK = P("Пакет оператордың ЭЦҚ-сымен қол қойылып, ЭҮШ арқылы жіберілді.",
            "Пакет подписан ЭЦП оператора и отправлен через ШЭП.",
            "The package was signed with the operator's EDS and sent through the gateway.")  # fmt: skip
PAPERS = P("Қағаздар", "Бумаги", "Papers")
TRACE = P("Қадамдар (трассировка)", "Шаги (трассировка)", "Steps (trace)")
TRACE_JSON = P("Трассировка (JSON)", "Трассировка (JSON)", "The trace (JSON)")
LIVE_DIAGRAM = P("Процесс диаграммасында", "На диаграмме процесса", "On the process diagram")
STEP = P("Қадам", "Шаг", "Step")
OUTCOME = P("Нәтиже", "Итог", "Outcome")
CODE = P("Код", "Код", "Code")
TIME = P("Уақыты (симуляция)", "Время (симуляция)", "Time (simulated)")
NOT_AVAILABLE = P("Бұл қағаз бұл өтініш үшін жоқ.", "Этой бумаги у заявления нет.",
                  "This application has no such paper.")  # fmt: skip

CONSENT_TITLE = P("Заңмен қорғалатын құпияны құрайтын мәліметтерді пайдалануға келісім",
                  "Согласие на использование сведений, составляющих охраняемую законом тайну",
                  "Consent to the use of information protected by law")  # fmt: skip
CONSENT_TEXT = P(
    "Мен, төменде қол қоюшы, «Дербес деректер және оларды қорғау туралы» 2013 жылғы 21 мамырдағы Қазақстан "
    "Республикасының Заңына сәйкес мемлекеттік көрсетілетін қызметті алу үшін ақпараттық жүйелердегі заңмен "
    "қорғалатын құпияны құрайтын мәліметтерді пайдалануға келісім беремін.",
    "Я, нижеподписавшийся(аяся), в соответствии с Законом Республики Казахстан от 21 мая 2013 года «О "
    "персональных данных и их защите» даю согласие на использование сведений, составляющих охраняемую законом "
    "тайну, содержащихся в информационных системах, для получения государственной услуги.",
    'I, the undersigned, in accordance with the Law of the Republic of Kazakhstan of 21 May 2013 "On personal '
    'data and their protection", consent to the use of information protected by law contained in information '
    "systems, for the public service to be rendered.",
)
RECEIPT_TITLE = P("Құжаттардың қабылданғаны туралы қолхат", "Расписка о приёме документов",
                  "Receipt of acceptance of the documents")  # fmt: skip
NOTICE_TITLE = P("Деректерді алу мүмкін еместігі туралы хабарлама",
                 "Уведомление о невозможности получения данных",
                 "Notice: the data cannot be obtained")  # fmt: skip
SIGNATURE = P("қолы", "подпись", "signature")
HANDED = P("Берілген күні", "Дата выдачи", "Handed over")
DOWNLOAD = P("Қол қойылған құжатты жүктеп алу (XML)", "Скачать подписанный документ (XML)",
             "Download the signed document (XML)")  # fmt: skip
BIN = P("БСН", "БИН", "BIN")
PAPER_TITLES = {
    "consent": CONSENT_TITLE,
    "receipt": RECEIPT_TITLE,
    "refusalReceipt": P("Құжаттарды қабылдаудан бас тарту туралы қолхат", "Расписка об отказе в приёме документов",
                        "Receipt of refusal to accept the documents"),
    "notice": NOTICE_TITLE,
    "result": RESULT_TITLE,
}  # fmt: skip
OPERATOR_CSS = """
header.site .area { font-weight: 700; }
fieldset { border: 1px solid #d5dce4; border-radius: 4px; margin: 0 0 1rem; padding: .6rem 1rem; }
legend { font-weight: 700; padding: 0 .3rem; }
.actions form { display: inline-block; margin: 0 .6rem .6rem 0; }
.ticket { font-size: 2rem; font-weight: 700; }
.paper { border: 1px solid #7a8794; padding: 1.2rem 1.6rem; background: #fff; max-width: 46rem; }
.paper h2 { font-size: 1.1rem; }
.paper .blank { margin: .7rem 0; }
.paper .blank .value { display: block; border-bottom: 1px solid #1b2733; min-height: 1.5rem; }
.paper .blank .caption { display: block; font-size: .8rem; color: #4a5866; }
@media print {
  body { background: #fff; }
  header.site, nav, .skip, .no-print, .actions { display: none !important; }
  main { max-width: none; padding: 0; min-height: 0; }
  .paper { border: 0; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass(frozen=True)
class OnDuty:
    """The logged-in operator as the pages need them, with the CSRF token of their forms."""

    operator: Operator
    visitor: Visitor


# -- helpers ---------------------------------------------------------------------------------------
def application_path(number: str, paper: str = "") -> str:
    return f"{PREFIX}/applications/{quote(number, safe='')}" + (f"/{paper}" if paper else "")


@lru_cache(maxsize=1)
def _centres() -> dict[str, dict[str, str]]:
    """Each centre's name in the three languages, by its Russian name (as the desk keeps it)."""
    return {p["centre"]["ru"]: p["centre"] for p in load_personas().get("operators", [])}


def centre_name(centre: str, lang: str) -> str:
    return str(_centres().get(centre, {}).get(lang) or centre)


def safe_next(path: str) -> str | None:
    """``next`` of the login form when it is a page of the workstation (no open redirect)."""
    return path if _NEXT.match(path) and "//" not in path and ".." not in path else None


def rows(pairs: list[tuple[str, str]]) -> str:
    """A table of facts; labels and values are HTML the caller escaped."""
    return '<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in pairs) + "</table>"


def service_title(kernel: Kernel, service_id: str, lang: str) -> str:
    service = kernel.services.get(service_id)
    return service.titles.get(lang) if service else service_id


def document_names(form: ApplicationForm | None, ids: list[str], lang: str) -> list[str]:
    if form is None:
        return list(ids)
    return [(d.name.get(lang) if (d := form.document(i)) else i) for i in ids]


def numbered(items: list[str]) -> str:
    return "<ol>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ol>" if items else "—"


def status_text(status: str, lang: str) -> str:
    shown = STATUSES.get(status)
    return shown(lang) if shown else status


def catalogue_form(kernel: Kernel, where: tuple[str, str]) -> Form:
    """A paper form the catalogue prints (its fields' captions label the paper)."""
    service = kernel.services.get(where[0])
    form = next((f for f in service.forms if f.kind == where[1] and f.known), None) if service else None
    assert form is not None, f"the catalogue lost its {where[1]} form of {where[0]}"
    return form


def blanks(form: Form, values: Mapping[str, str], lang: str) -> str:
    """A paper form's fields as the paper prints them: the value on the line, the caption under it
    (a signature, or anything without a value, is a blank line for the pen)."""
    return "".join(blank(values.get(f.id, ""), html.escape(f.label.get(lang)), f.id) for f in form.fields)


def blank(value: str, caption: str, field: str = "") -> str:
    """One line of a paper: the value (HTML) on the line, the caption (HTML) under it."""
    return (
        f'<div class="blank" data-field="{html.escape(field)}"><div class="value">{value}</div>'
        f'<div class="caption">{caption}</div></div>'
    )


def signed_document(xml: str) -> bytes:
    """The result e-document as the provider signed it (the desk keeps it standalone), declared."""
    return etree.tostring(etree.fromstring(xml.encode("utf-8")), encoding="UTF-8", xml_declaration=True)


# -- the shell ---------------------------------------------------------------------------------------
def operator_shell(request: Request, lang: str, title: str, body: str, duty: OnDuty | None, *,
                   head: str = "") -> str:  # fmt: skip
    """A whole page of the workstation: the header (area, desk, language switch, the operator and
    their centre, log out), ``body`` under one ``h1``. The papers print without the header."""
    if duty is None:
        who = f'<a href="{LOGIN_PATH}">{LOG_IN(lang)}</a>'
    else:
        who = (
            f'<span class="operator">{html.escape(duty.operator.full_name)} · '
            f"{html.escape(centre_name(duty.operator.centre, lang))}</span>"
            f'<form method="post" action="{PREFIX}/logout">{csrf_field(duty.visitor)}'
            f'<button type="submit" class="secondary">{LOG_OUT(lang)}</button></form>'
        )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} · ХҚО ЫАЖ АЖО (egovsim)</title>\n<style>{CSS}{OPERATOR_CSS}</style>\n{head}"
        f'</head>\n<body>\n<a class="skip" href="#content">{SKIP(lang)}</a>\n'
        f'<header class="site"><span class="area">{AREA(lang)}</span>'
        f'<nav class="main" aria-label="{MAIN_MENU(lang)}"><a href="{HOME}">{DESK(lang)}</a></nav>'
        f'{_lang_links(request, lang)}<div class="who">{who}</div></header>\n'
        f'<main id="content">\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n'
    )


# -- the pages -------------------------------------------------------------------------------------
def login_body(lang: str, *, login: str = "", next_path: str | None = None, refusal: Refusal | None = None,
               notice: str | None = None) -> str:  # fmt: skip
    back = f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else ""
    body = (notice and f'<p class="notice" role="status">{html.escape(notice)}</p>') or ""
    body += refusal.block() if refusal else ""
    body += (
        f'<form class="stack" method="post" action="{LOGIN_PATH}" id="login">{back}'
        f'<div><label for="login-name">{LOGIN(lang)}</label><input type="text" id="login-name" name="login"'
        f' value="{html.escape(login)}" maxlength="64" autocomplete="username" required></div>'
        f'<div><label for="password">{PASSWORD(lang)}</label><input type="password" id="password" name="password"'
        f' autocomplete="current-password" maxlength="256" required></div>'
        f'<div><button type="submit">{LOG_IN(lang)}</button></div></form>'
    )
    items = []
    for p in load_personas().get("operators", []):
        use = f"{LOGIN_PATH}?{urlencode({'login': p['login'], **({'next': next_path} if next_path else {})})}"
        name = " ".join(x for x in (p["surname"], p["name"], p.get("patronymic")) if x)
        items.append(
            f'<li data-operator="{html.escape(p["login"])}"><a class="button secondary" href="{html.escape(use)}">'
            f"{USE(lang)}</a> <code>{html.escape(p['login'])}</code> · <strong>{html.escape(name)}</strong> · "
            f"{html.escape(p['centre'].get(lang) or p['centre']['ru'])}</li>"
        )
    return body + (
        f'<section aria-labelledby="operators"><h2 id="operators">{OPERATORS(lang)}</h2>'
        f"<p>{OPERATORS_HINT(lang)}<code>{html.escape(DEFAULT_PASSWORD)}</code></p>"
        f'<ul class="personas">{"".join(items)}</ul></section>'
    )


def desk_body(lang: str, duty: OnDuty, services: list[dict[str, Any]], applications: list[dict[str, Any]],
              titles: Mapping[str, str], ticket: tuple[str, str] | None) -> str:  # fmt: skip
    number, display = ticket or ("", "")
    shown = (
        f'<p>{TICKET(lang)}: <span class="ticket" id="ticket-display">{html.escape(display)}</span> '
        f'(<code id="ticket-number">{html.escape(number)}</code>)</p>'
        if number
        else ""
    )
    body = (
        f'<section aria-labelledby="queue"><h2 id="queue">{TICKET_TITLE(lang)}</h2>{shown}'
        f'<form method="post" action="{PREFIX}/tickets" id="take-ticket">{csrf_field(duty.visitor)}'
        f'<button type="submit">{TAKE_TICKET(lang)}</button></form></section>'
    )
    options = "".join(
        f'<option value="{html.escape(s["id"])}">{html.escape(s["titles"][lang])}'
        f"{' (' + ENIS_ASKED(lang) + ')' if s['checksEnis'] else ''}</option>"
        for s in services
    )
    body += (
        f'<section aria-labelledby="choose"><h2 id="choose">{CHOOSE_SERVICE(lang)}</h2>'
        f'<form class="stack" method="get" action="{PREFIX}/applications/new" id="choose-service">'
        f'<div><label for="ticket">{TICKET_NUMBER(lang)}</label><input type="text" id="ticket" name="ticket"'
        f' value="{html.escape(number)}" maxlength="32" required></div>'
        f'<div><label for="service">{SERVICE(lang)}</label><select id="service" name="service" required>'
        f'<option value="">{CHOOSE(lang)}</option>{options}</select></div>'
        f'<div><button type="submit">{OPEN_FORM(lang)}</button></div></form></section>'
    )
    return body + applications_table(lang, applications, titles)


def applications_table(lang: str, applications: list[dict[str, Any]], titles: Mapping[str, str]) -> str:
    cells = "".join(
        f'<tr data-number="{html.escape(a["number"])}"><td><a href="{html.escape(application_path(a["number"]))}">'
        f"{html.escape(a['number'])}</a></td><td>{dash(titles.get(a['serviceId'], a['serviceId']))}</td>"
        f'<td data-status="{html.escape(a["status"])}">{html.escape(status_text(a["status"], lang))}'
        f"{_keeping(a, lang)}</td><td>{dash(a['applicantIin'])}</td><td>{dash(a['representativeIin'])}</td>"
        f"<td>{dash(a['refusalCode'])}</td><td>{local_time(a['createdAt'])}</td></tr>"
        for a in applications
    )
    cells = cells or f'<tr><td colspan="7">{NONE_YET(lang)}</td></tr>'
    return (
        f'<section aria-labelledby="applications"><h2 id="applications">{APPLICATIONS(lang)}</h2><table><thead><tr>'
        f"<th>{NUMBER(lang)}</th><th>{SERVICE(lang)}</th><th>{STATUS(lang)}</th><th>{APPLICANT(lang)}</th>"
        f"<th>{REPRESENTATIVE(lang)}</th><th>{CODE(lang)}</th><th>{CREATED(lang)}</th></tr></thead>"
        f"<tbody>{cells}</tbody></table></section>"
    )


def _keeping(summary: Mapping[str, Any], lang: str) -> str:
    state = KEEPING.get(str(summary.get("keeping")))
    if state is None or summary.get("status") == "handed":
        return ""
    until = summary.get("keepingUntil")
    return f' <span class="keeping" data-keeping="{html.escape(str(summary["keeping"]))}">· {state(lang)}' + (
        f" {UNTIL(lang)} {local_time(until)}</span>" if until else "</span>"
    )


@dataclass
class Entered:
    """What the operator typed into the application form (kept to show it again after a refusal)."""

    ticket: str = ""
    applicant: str = ""
    representative: str = ""
    poa_number: str = ""
    applicant_lang: str = ""
    fields: dict[str, str] | None = None
    documents: frozenset[str] = frozenset()

    def application(self, service_id: str, form: ApplicationForm, lang: str) -> dict[str, Any]:
        """The body of ``POST /hqo/api/applications`` (:class:`portal.hqo_api.Application`)."""
        known = [d.id for d in form.documents if d.id in self.documents]  # in the form's order
        return {"ticket": self.ticket, "serviceId": service_id, "applicantIin": self.applicant,
                "representativeIin": self.representative or None, "powerOfAttorneyNumber": self.poa_number or None,
                "fields": self.fields or {}, "documents": known + sorted(self.documents - set(known)),
                "lang": self.applicant_lang or lang}  # fmt: skip


def problems_of(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())[:300]


def entered_of(posted: FormData, form: ApplicationForm) -> Entered:
    """What the application form posted (too long a value is refused by the desk, not cut here)."""
    values = {f.id: text_of(posted, f.id).strip() for f in form.fields}
    return Entered(
        ticket=text_of(posted, "ticket", 64).strip(), applicant=text_of(posted, "applicant_iin", 64).strip(),
        representative=text_of(posted, "representative_iin", 64).strip(),
        poa_number=text_of(posted, "poa_number", 128).strip(), applicant_lang=text_of(posted, "applicant_lang", 2),
        fields={k: v for k, v in values.items() if v},
        documents=frozenset(d for d in posted.getlist("documents") if isinstance(d, str)),
    )  # fmt: skip


def application_form_body(lang: str, duty: OnDuty, service: Service, form: ApplicationForm, entered: Entered,
                          refusal: Refusal | None = None) -> str:  # fmt: skip
    values = entered.fields or {}

    def text_input(name: str, label: str, value: str, extra: str = "") -> str:
        return (
            f'<div class="field"><label for="{name}">{label}</label><input type="text" id="{name}" name="{name}"'
            f' value="{html.escape(value)}"{extra}></div>'
        )

    iin = ' inputmode="numeric" pattern="\\d{12}" maxlength="12" autocomplete="off"'
    who = (
        text_input("ticket", TICKET_NUMBER(lang), entered.ticket, ' maxlength="32" required')
        + text_input("applicant_iin", APPLICANT(lang), entered.applicant, iin + " required")
        + f'<p class="hint" id="representative-hint">{REPRESENTATIVE_HINT(lang)}</p>'
        + text_input("representative_iin", REPRESENTATIVE(lang), entered.representative,
                     iin + ' aria-describedby="representative-hint"')
        + text_input("poa_number", POA_NUMBER(lang), entered.poa_number, ' maxlength="32"')
    )  # fmt: skip
    chosen = entered.applicant_lang or lang
    languages = "".join(
        f'<option value="{code}"{" selected" if code == chosen else ""}>{name}</option>'
        for code, name in (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))
    )
    who += (
        f'<div class="field"><label for="applicant_lang">{APPLICANT_LANG(lang)}</label>'
        f'<select id="applicant_lang" name="applicant_lang">{languages}</select></div>'
    )
    data = "".join(field_input(f, values.get(f.id, ""), lang, False) for f in form.fields if f.type != "consent")
    consent = "".join(field_input(f, values.get(f.id, ""), lang, False) for f in form.fields if f.type == "consent")
    documents = "".join(
        f'<div class="field check"><input type="checkbox" id="doc-{html.escape(d.id)}" name="documents"'
        f' value="{html.escape(d.id)}"{" checked" if d.id in entered.documents else ""}>'
        f' <label for="doc-{html.escape(d.id)}">{html.escape(d.name.get(lang))}</label>'
        f"{f' <span class=req>({REQUIRED(lang)})</span>' if d.required else ''}</div>"
        for d in form.documents
    )
    return (
        f'<p><a href="{HOME}">{BACK(lang)}</a></p>'
        + (refusal.block() if refusal else "")
        + f'<form method="post" action="{PREFIX}/applications" id="application">{csrf_field(duty.visitor)}'
        f'<input type="hidden" name="service" value="{html.escape(service.id)}">'
        f"<fieldset><legend>{WHO(lang)}</legend>{who}</fieldset>"
        f"<fieldset><legend>{FIELDS(lang)}</legend>{data}</fieldset>"
        f"<fieldset><legend>{DOCUMENTS(lang)}</legend>{documents}</fieldset>"
        f"<fieldset><legend>{CONSENT(lang)}</legend>{consent}</fieldset>"
        f'<p><button type="submit">{TAKE(lang)}</button></p></form>'
    )


def checks_section(check: Mapping[str, Any] | None, lang: str) -> str:
    if not check:
        return ""
    person = check.get("person") or {}
    name = " ".join(person.get(k) or "" for k in ("surname", "name", "patronymic")).strip()
    gbdfl = GBDFL(lang)
    pairs = [(f"{gbdfl}: {FULL_NAME(lang)}", dash(name)), (f"{gbdfl}: {IIN(lang)}", dash(person.get("iin"))),
             (f"{gbdfl}: {BIRTH_DATE(lang)}", dash(person.get("birthDate")))]  # fmt: skip
    power = check.get("powerOfAttorney")
    if power:
        pairs += [
            (f"{ENIS(lang)}: {POA_NUMBER(lang)}", f'<span id="poa-number">{dash(power.get("registryNumber"))}</span>'),
            (f"{ENIS(lang)}: {GRANTOR(lang)}", dash(power.get("grantor"))),
            (f"{ENIS(lang)}: {REPRESENTATIVE_NAME(lang)}", dash(power.get("representative"))),
            (f"{ENIS(lang)}: {NOTARY(lang)}", dash(power.get("notary"))),
            (f"{ENIS(lang)}: {VALIDITY(lang)}", f"{dash(power.get('validFrom'))} — {dash(power.get('validTo'))}"),
        ]
    else:
        pairs.append((ENIS(lang), NOT_ASKED(lang) if not check.get("enisQueried") else "—"))
    state = "ok" if person else "none"
    found = f"{GBDFL(lang)}: {FOUND(lang)}" + (f" · {ENIS(lang)}: {FOUND(lang)}" if power else "") if person else ""
    return (
        f'<section aria-labelledby="checks" id="check" data-state="{state}"><h2 id="checks">{CHECKS(lang)}</h2>'
        f'<p class="ok">{found}</p>{rows(pairs)}</section>'
    )


def application_body(kernel: Kernel, lang: str, duty: OnDuty, described: Mapping[str, Any],
                     form: ApplicationForm | None, refusal: Refusal | None, trace: list[dict[str, Any]],
                     outcome: str = "") -> str:  # fmt: skip
    number = str(described["number"])
    status = str(described["status"])
    facts = [
        (NUMBER(lang), html.escape(number)),
        (TICKET(lang), dash(described.get("ticket"))),
        (SERVICE(lang), dash(service_title(kernel, described["serviceId"], lang))),
        (STATUS(lang), f'<span id="status" data-status="{html.escape(status)}">'
                       f"{html.escape(status_text(status, lang))}</span>{_keeping(described, lang)}"),
        (APPLICANT(lang), dash(described.get("applicantIin"))),
        (REPRESENTATIVE(lang), dash(described.get("representativeIin"))),
        (OPERATOR(lang), dash(described.get("operator"))),
        (CENTRE(lang), dash(centre_name(described["centre"], lang))),
        (CREATED(lang), local_time(described.get("createdAt"))),
        (MESSAGE_ID(lang), dash(described.get("messageId"))),
    ]  # fmt: skip
    if described.get("handedAt"):
        facts.append((HANDED(lang), local_time(described["handedAt"])))
    body = f'<p class="no-print"><a href="{HOME}">{BACK(lang)}</a></p>{outcome}{rows(facts)}'
    if refusal is not None:
        body += f'<div id="refusal">{refusal.block(REFUSAL(lang))}</div>'
    if status == "sent":
        body += f'<p class="notice" role="status" id="waiting">{WAITING(lang)}</p>'
    body += checks_section(described.get("check"), lang) + actions(lang, duty, described)
    filled = "".join(
        f"<tr><th>{html.escape(f.label.get(lang))}</th><td>{shown_value(f, described['fields'].get(f.id, ''), lang)}"
        "</td></tr>"
        for f in (form.fields if form else [])
        if described["fields"].get(f.id)
    )
    body += f'<section aria-labelledby="data"><h2 id="data">{FIELDS(lang)}</h2><table class="facts">{filled}</table>'
    body += f"<h3>{DOCUMENTS(lang)}</h3>{numbered(document_names(form, described['documents'], lang))}"
    if described.get("missing"):
        missing = numbered(document_names(form, described["missing"], lang))
        body += f'<h3>{MISSING(lang)}</h3><div id="missing">{missing}</div>'
    body += "</section>" + papers_section(lang, described) + trace_section(lang, number, trace)
    return body


def actions(lang: str, duty: OnDuty, described: Mapping[str, Any]) -> str:
    """The buttons the application's state allows (each a form with the CSRF token)."""
    path = application_path(str(described["number"]))
    status, keeping = described["status"], described.get("keeping")
    forms = []
    if status in ("checked", "failed"):
        forms.append(_action(f"{path}/send", SEND(lang), duty, "send"))
    if status in ANSWERED and keeping == "held":
        choices = [("applicant", TO_APPLICANT(lang))]
        if described.get("representativeIin"):
            choices.append(("representative", TO_REPRESENTATIVE(lang)))
        radios = "".join(
            f'<input type="radio" id="to-{to}" name="to" value="{to}"{" checked" if i == len(choices) - 1 else ""}>'
            f' <label for="to-{to}">{label}</label> '
            for i, (to, label) in enumerate(choices)
        )
        forms.append(_action(f"{path}/handover", HAND_OVER(lang), duty, "handover",
                             f"<fieldset><legend>{TO(lang)}</legend>{radios}</fieldset>"))  # fmt: skip
    if status in ANSWERED and keeping == "returned":
        forms.append(_action(f"{path}/recall", RECALL(lang), duty, "recall"))
    if not forms:
        return ""
    return (
        f'<section class="actions" aria-labelledby="actions"><h2 id="actions">{ACTIONS(lang)}</h2>'
        f"{''.join(forms)}</section>"
    )


def _action(action: str, label: str, duty: OnDuty, name: str, inner: str = "") -> str:
    return (
        f'<form method="post" action="{html.escape(action)}" id="{name}-form">{csrf_field(duty.visitor)}{inner}'
        f'<button type="submit">{label}</button></form>'
    )


def papers_section(lang: str, described: Mapping[str, Any]) -> str:
    links = "".join(
        f'<li><a href="{html.escape(href)}" id="paper-{key}">{PAPER_TITLES[key](lang)}</a></li>'
        for key, href in described.get("papers", {}).items()
        if key in PAPER_TITLES
    )
    if "result" in described.get("papers", {}):
        xml = application_path(str(described["number"]), "result.xml")
        links += f'<li><a href="{html.escape(xml)}" id="download-result">{DOWNLOAD(lang)}</a></li>'
    return f'<section aria-labelledby="papers"><h2 id="papers">{PAPERS(lang)}</h2><ul>{links}</ul></section>'


def trace_section(lang: str, number: str, trace: list[dict[str, Any]]) -> str:
    cells = "".join(
        f'<tr data-step="{html.escape(e["step"])}" data-outcome="{html.escape(e["outcome"])}">'
        f'<td><code>{html.escape(e["step"])}</code></td><td class="{html.escape(e["outcome"])}">'
        f"{html.escape(e['outcome'])}</td><td>{dash(e['code'])}</td><td>{local_time(e['sim_time'])}</td></tr>"
        for e in trace
    )
    link = f"/api/catalog/traces/{quote(number, safe='')}"
    live = f"/inspector/diagrams/live/{quote(number, safe='')}?lang={lang}"
    return (
        f'<section aria-labelledby="trace"><h2 id="trace">{TRACE(lang)}</h2>'
        f'<p class="no-print"><a href="{html.escape(link)}" id="trace-link">{TRACE_JSON(lang)}</a> · '
        f'<a href="{html.escape(live)}" id="diagram-link">{LIVE_DIAGRAM(lang)}</a></p>'
        f"<table><thead><tr><th>{STEP(lang)}</th><th>{OUTCOME(lang)}</th><th>{CODE(lang)}</th><th>{TIME(lang)}"
        f"</th></tr></thead><tbody>{cells}</tbody></table></section>"
    )


# -- the papers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperFacts:
    """What every paper of one application states."""

    kernel: Kernel
    described: Mapping[str, Any]
    form: ApplicationForm | None
    operator: Operator
    lang: str

    @property
    def service(self) -> str:
        return html.escape(service_title(self.kernel, self.described["serviceId"], self.lang))

    @property
    def centre(self) -> str:
        return html.escape(centre_name(self.described["centre"], self.lang))

    def common(self) -> list[tuple[str, str]]:
        lang, d = self.lang, self.described
        return [(NUMBER(lang), html.escape(d["number"])), (DATE(lang), local_time(d["createdAt"])),
                (SERVICE(lang), self.service), (APPLICANT(lang), dash(d["applicantIin"])),
                (REPRESENTATIVE(lang), dash(d.get("representativeIin")))]  # fmt: skip

    def signatures(self) -> str:
        caption = f"{OPERATOR(self.lang)} · {self.centre} · {SIGNATURE(self.lang)}"
        return blank(html.escape(self.operator.full_name), caption, "operator")


def paper(name: str, title: str, body: str, *, kind: str = "") -> str:
    """A paper as it prints; ``kind``: a result's (``result`` or ``refusal``)."""
    attributes = f'data-paper="{name}"' + (f' data-kind="{html.escape(kind)}"' if kind else "")
    return f'<article class="paper" id="paper" {attributes} aria-label="{html.escape(title)}">{body}</article>'


def consent_paper(facts: PaperFacts) -> str:
    lang = facts.lang
    person = (facts.described.get("check") or {}).get("person") or {}
    name = " ".join(person.get(k) or "" for k in ("surname", "name", "patronymic")).strip()
    signer = f"{html.escape(name)} · " if name else ""
    applicant = blank(f"{signer}{IIN(lang)} {html.escape(facts.described['applicantIin'])}",
                      f"{APPLICANT(lang)} · {SIGNATURE(lang)}", "applicant")  # fmt: skip
    body = f'<p id="consent-text">{CONSENT_TEXT(lang)}</p>{rows(facts.common())}{applicant}{facts.signatures()}'
    return paper("consent", CONSENT_TITLE(lang), body)


def receipt_paper(facts: PaperFacts, form: Form) -> str:
    """The receipt of acceptance: the fields of the catalogue's acceptance receipt (item 11.2)."""
    lang, d = facts.lang, facts.described
    service = facts.kernel.services.get(d["serviceId"])
    handed = document_names(facts.form, d["documents"], lang)
    deadline = html.escape(service.overall_deadline.text.get(lang)) if service else "—"
    values = {
        "request_number_date": f'<span id="receipt-number">{html.escape(d["number"])}</span> · '
                               f"{local_time(d['createdAt'])}",
        "service_type": facts.service,
        "attached_documents": f"{len(handed)}{numbered(handed)}",
        "issue_date_place": f"{facts.centre} · {DEADLINE(lang)}: {deadline}",
        "employee_name": html.escape(facts.operator.full_name),
    }  # fmt: skip
    return paper("receipt", RECEIPT_TITLE(lang), blanks(form, values, lang) + rows(facts.common()[3:]))


def refusal_receipt_paper(facts: PaperFacts, form: Form) -> str:
    """The refusal to accept an incomplete package (standard 002 appendix 3): the missing documents by name."""
    lang, d = facts.lang, facts.described
    missing = document_names(facts.form, d.get("missing") or [], lang)
    values = {
        "recipient_name": f"{IIN(lang)} {html.escape(d['applicantIin'])}",
        "department_number": facts.centre,
        "service_name": facts.service,
        "missing_documents": f'<div id="missing">{numbered(missing)}</div>',
        "employee_name": html.escape(facts.operator.full_name),
        "executor_name": html.escape(facts.operator.full_name),
        "date": local_time(d["createdAt"]),
    }
    message = facts.kernel.refusals.get("PACKAGE_INCOMPLETE")
    text = message.message(lang, {"missing": ", ".join(missing)}) if message else ""
    return paper("refusal-receipt", PAPER_TITLES["refusalReceipt"](lang),
                 f'<p class="message">{html.escape(text)}</p>{blanks(form, values, lang)}')  # fmt: skip


def notice_paper(facts: PaperFacts, refusal: Refusal | None) -> str:
    """4-процесс: "the data cannot be obtained", with the reason condition 1 failed with."""
    lang = facts.lang
    general = facts.kernel.refusals.get("HQO_DATA_NOT_OBTAINED")
    body = f"<p>{html.escape(general.message(lang))}</p>" if general else ""
    body += (refusal.block() if refusal else "") + rows(facts.common()) + facts.signatures()
    return paper("notice", NOTICE_TITLE(lang), body)


def result_paper(facts: PaperFacts, xml: str) -> tuple[str, str]:
    """(title, body) of the provider's signed result or reasoned refusal, made readable."""
    lang, doc = facts.lang, read_result(xml)
    approved = doc["kind"] == "result"
    service = facts.kernel.services.get(facts.described["serviceId"])
    decision = result_decision(service, doc, lang)
    pairs = [
        (REGISTRATION(lang), dash(doc["registrationNumber"])),
        (NUMBER(lang), dash(doc["requestNumber"])),
        (DATE(lang), local_time(doc["date"])),
        (SERVICE(lang), facts.service),
        (PROVIDER(lang), f"{dash(doc['provider/name'])} · {BIN(lang)} {dash(doc['provider/bin'])}"),
        (APPLICANT(lang), dash(doc["applicant/iin"])),
        (DECISION(lang), f'<span id="decision">{dash(decision)}</span>'),
    ]
    if not approved:
        pairs += [
            (CODE(lang), dash(doc["refusalCode"])),
            (GROUND(lang), f'<span id="ground">{dash(doc["ground"])}</span>'),
        ]
    if doc["queueNumber"]:
        pairs.append((QUEUE_NUMBER(lang), f"{dash(doc['queueNumber'])} · {dash(doc['area'])}"))
    pairs.append((SIGNED_BY(lang), f'<span id="signed-by">{dash(doc["signedBy/name"])}</span> · '
                                   f"{IIN(lang)} {dash(doc['signedBy/iin'])}"))  # fmt: skip
    if facts.described.get("handedAt"):
        pairs.append((HANDED(lang), local_time(facts.described["handedAt"])))
    title = (RESULT_TITLE if approved else REASONED_TITLE)(lang)
    download = application_path(str(facts.described["number"]), "result.xml")
    body = rows(pairs) + (f'<p class="no-print"><a href="{html.escape(download)}" id="download-result">'
                          f"{DOWNLOAD(lang)}</a></p>")  # fmt: skip
    return title, paper("result", title, body, kind=doc["kind"])


def paper_page(facts: PaperFacts, key: str, refusal: Refusal | None, xml: str | None) -> tuple[str, str]:
    """(title, body) of one paper of ``described["papers"]``."""
    kernel = facts.kernel
    if key == "result" and xml is not None:  # "result" is in the papers once the answer is
        return result_paper(facts, xml)
    if key == "notice":
        return NOTICE_TITLE(facts.lang), notice_paper(facts, refusal)
    if key == "receipt":
        return RECEIPT_TITLE(facts.lang), receipt_paper(facts, catalogue_form(kernel, ACCEPTANCE_RECEIPT))
    if key == "refusalReceipt":
        body = refusal_receipt_paper(facts, catalogue_form(kernel, REFUSAL_RECEIPT))
        return PAPER_TITLES[key](facts.lang), body
    return CONSENT_TITLE(facts.lang), consent_paper(facts)


# -- the routes ------------------------------------------------------------------------------------
def hqo_pages(kernel: Kernel) -> APIRouter:
    """The workstation's web pages (module docstring)."""
    desk = HqoDesk.of(kernel)
    router = APIRouter(prefix=PREFIX, tags=["hqo pages"], default_response_class=HTMLResponse)

    def refusal(error: CodedError, lang: str, **params: object) -> Refusal:
        return Refusal.of(kernel.refusals, error.code, lang, params | error.params, error.detail)

    def respond(request: Request, title: str, body: str, duty: OnDuty | None, status: int = 200,
                *, head: str = "") -> Response:  # fmt: skip
        return html_page(request, operator_shell(request, page_lang(request), title, body, duty, head=head), status)

    def refused(request: Request, error: CodedError, duty: OnDuty | None, title: Phrase = REFUSED_TITLE) -> Response:
        lang = page_lang(request)
        shown = refusal(error, lang)
        back = f'<p><a href="{HOME}">{BACK(lang)}</a></p>' if duty else ""
        return respond(request, title(lang), shown.block() + back, duty, shown.status)

    async def on_duty(request: Request) -> OnDuty | Response:
        """The logged-in operator (a change with its CSRF token); else the login form or the refusal."""
        try:
            operator = await current_operator(request)
        except CodedError as error:
            if error.code in SESSION_CODES:
                back = HOME if request.method == "POST" else request.url.path + (
                    f"?{request.url.query}" if request.url.query else "")  # fmt: skip
                return see_other(request, f"{LOGIN_PATH}?{urlencode({'next': back})}")
            return refused(request, error, None)
        sid = request.state.hqo_session.sid
        return OnDuty(operator, Visitor(operator.iin, csrf_token(kernel.admin_token, sid)))

    # -- 1-процесс ------------------------------------------------------------------------------
    @router.get("/login", summary="the operator's login form, with the demo operators")
    async def login_form(request: Request) -> Response:
        lang = page_lang(request)
        query = request.query_params
        body = login_body(lang, login=query.get("login", "")[:64], next_path=safe_next(query.get("next", "")),
                          notice=LOGGED_OUT(lang) if query.get("out") else None)  # fmt: skip
        return respond(request, LOGIN_TITLE(lang), body, None)

    @router.post("/login", summary="1-процесс (form): sets the operator's session cookie")
    async def login(request: Request) -> Response:
        lang = page_lang(request)
        form = await request.form()
        name, next_path = text_of(form, "login", 64).strip(), safe_next(text_of(form, "next", 1000))
        try:
            token, _, _ = await desk.login(name, text_of(form, "password", 256))
        except CodedError as error:
            shown = refusal(error, lang)
            body = login_body(lang, login=name, next_path=next_path, refusal=shown)
            return respond(request, LOGIN_TITLE(lang), body, None, shown.status)
        response = see_other(request, next_path or HOME)
        response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path=PREFIX,
                            httponly=True, samesite="lax", secure=request.url.scheme == "https")  # fmt: skip
        return response

    @router.post("/logout", summary="log out (form with the CSRF token)")
    async def logout(request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        await desk.sessions.close(request.state.hqo_session)
        response = see_other(request, f"{LOGIN_PATH}?out=1")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    # -- the desk -------------------------------------------------------------------------------
    def titles(lang: str) -> dict[str, str]:
        return {s.id: s.titles.get(lang) for s in kernel.services}

    @router.get("/", summary="the desk: the queue ticket, the services, the centre's applications")
    async def home(request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        lang = page_lang(request)
        query = request.query_params
        ticket = (query.get("ticket", "")[:32], query.get("display", "")[:8]) if query.get("ticket") else None
        body = desk_body(lang, duty, desk.services(), await desk.list(duty.operator), titles(lang), ticket)
        return respond(request, DESK(lang), body, duty)

    @router.post("/tickets", summary="pre (form): a ticket of the operating hall's electronic queue")
    async def ticket(request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        try:
            taken = await desk.ticket(duty.operator)
        except CodedError as error:
            return refused(request, error, duty)
        return see_other(request, f"{HOME}?{urlencode({'ticket': taken['number'], 'display': taken['display']})}")

    # -- 2-процесс … 1-шарт --------------------------------------------------------------------
    @router.get("/applications/new", summary="the application form of a service (?service=…&ticket=…)")
    async def new_application(request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        lang = page_lang(request)
        try:
            service, form = desk.service(request.query_params.get("service", ""))
        except CodedError as error:
            return refused(request, error, duty, NOT_FOUND)
        entered = Entered(ticket=request.query_params.get("ticket", "")[:32])
        return respond(request, f"{NEW_TITLE(lang)}: {service.titles.get(lang)}",
                       application_form_body(lang, duty, service, form, entered), duty)  # fmt: skip

    @router.post("/applications", summary="take an application (form): intake, ГБД ФЛ and ЕНИС through ЭҮШ")
    async def accept(request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        lang = page_lang(request)
        posted = await request.form()
        try:
            service, form = desk.service(text_of(posted, "service", 64))
        except CodedError as error:
            return refused(request, error, duty, NOT_FOUND)
        entered = entered_of(posted, form)
        try:
            body = Application.model_validate(entered.application(service.id, form, lang))
            accepted = await desk.accept(duty.operator, body.model_dump(by_alias=True))
        except (CodedError, ValidationError) as exc:
            error = exc if isinstance(exc, CodedError) else CodedError("HQO_FORM_INVALID", problems_of(exc))
            if "number" in error.extra:  # a refusal of the regulation: kept, with its papers
                return await render_application(
                    request, duty, error.extra["number"], status=refusal(error, lang).status
                )
            shown = refusal(error, lang, problems=error.params.get("problems") or error.detail or "")
            page = application_form_body(lang, duty, service, form, entered, shown)
            return respond(request, f"{NEW_TITLE(lang)}: {service.titles.get(lang)}", page, duty, shown.status)
        return see_other(request, application_path(accepted["number"]))

    # -- one application ------------------------------------------------------------------------
    def shown_refusal(described: Mapping[str, Any], form: ApplicationForm | None, lang: str,
                      ground: str | None) -> Refusal | None:  # fmt: skip
        """The application's refusal in the page language. The desk's texts already carry a
        registry's name; the page knows better the missing documents' names and the provider's ground."""
        kept = described.get("refusal")
        if not kept:
            return None
        params = {"missing": ", ".join(document_names(form, described.get("missing") or [], lang)),
                  "ground": ground or ""}  # fmt: skip
        shown = Refusal.of(kernel.refusals, kept["code"], lang, params, kept.get("detail"))
        if kept["code"] == "PACKAGE_INCOMPLETE" or ground is not None:
            return shown
        return Refusal(shown.code, shown.step, kept["messages"].get(lang) or shown.message, shown.status, shown.detail)

    async def application_of(duty: OnDuty, number: str, lang: str) -> tuple[dict[str, Any], ApplicationForm | None,
                                                                             Refusal | None, str | None]:  # fmt: skip
        """The described application, its form, its refusal as shown, and the provider's answer (XML)."""
        described = await desk.describe(duty.operator, number[:32])
        xml = (await desk.row(duty.operator, number[:32])).result_xml
        ground = read_result(xml)["ground"] if xml and described["status"] == "refused_by_provider" else None
        try:
            form: ApplicationForm | None = desk.service(described["serviceId"])[1]
        except CodedError:  # the service left the ХҚО since: the record stays readable
            form = None
        return described, form, shown_refusal(described, form, lang, ground), xml

    async def render_application(request: Request, duty: OnDuty, number: str, outcome: str = "",
                                 status: int = 200) -> Response:  # fmt: skip
        lang = page_lang(request)
        try:
            described, form, shown, _ = await application_of(duty, number, lang)
        except CodedError as error:
            return refused(request, error, duty, NOT_FOUND)
        trace = [e.as_json() for e in await kernel.trace.events(described["number"])]
        head = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">\n' if described["status"] == "sent" else ""
        body = application_body(kernel, lang, duty, described, form, shown, trace, outcome)
        title = APPLICATION_TITLE(lang).format(number=described["number"])
        return respond(request, title, body, duty, status, head=head)

    @router.get("/applications/{number}", summary="one application: status, checks, refusal, actions, papers")
    async def application(number: str, request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        return await render_application(request, duty, number)

    async def act(request: Request, number: str, change: str) -> Response:
        """5-процесс, 8-процесс or the recall, from a form; a refusal shows on the application's page."""
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        lang = page_lang(request)
        try:
            if change == "send":
                await desk.send(duty.operator, number[:32])
            elif change == "handover":
                to = text_of(await request.form(), "to", 16) or "applicant"
                await desk.hand_over(duty.operator, number[:32], to)
            else:
                await desk.recall(duty.operator, number[:32])
        except CodedError as error:
            if error.code == "HQO_APPLICATION_NOT_FOUND":
                return refused(request, error, duty, NOT_FOUND)
            shown = refusal(error, lang)
            return await render_application(request, duty, number, shown.block(), shown.status)
        return see_other(request, application_path(number[:32]) + ("?sent=1" if change == "send" else ""))

    @router.post("/applications/{number}/send", summary="5-процесс (form): sign with the operator's EDS and send")
    async def send(number: str, request: Request) -> Response:
        return await act(request, number, "send")

    @router.post("/applications/{number}/handover", summary="8-процесс (form): hand the answer over")
    async def hand_over(number: str, request: Request) -> Response:
        return await act(request, number, "handover")

    @router.post("/applications/{number}/recall", summary="ask back a result returned to the provider (form)")
    async def recall(number: str, request: Request) -> Response:
        return await act(request, number, "recall")

    # -- the papers -----------------------------------------------------------------------------
    async def render_paper(request: Request, number: str, key: str) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        lang = page_lang(request)
        try:
            described, form, shown, xml = await application_of(duty, number, lang)
        except CodedError as error:
            return refused(request, error, duty, NOT_FOUND)
        if key not in described["papers"]:
            wrong = CodedError("HQO_APPLICATION_STATE", f"no {key} paper", status=described["status"])
            return refused(request, wrong, duty, PAPER_TITLES[key])
        title, body = paper_page(PaperFacts(kernel, described, form, duty.operator, lang), key, shown, xml)
        path = html.escape(application_path(described["number"]))
        back = f'<p class="no-print"><a href="{path}">← {html.escape(described["number"])}</a></p>'
        return respond(request, title, back + body, duty)

    @router.get("/applications/{number}/consent", summary="the applicant's written consent (printable, ?lang=)")
    async def consent(number: str, request: Request) -> Response:
        return await render_paper(request, number, "consent")

    @router.get("/applications/{number}/receipt", summary="the receipt of acceptance, қолхат (printable, ?lang=)")
    async def receipt(number: str, request: Request) -> Response:
        return await render_paper(request, number, "receipt")

    @router.get("/applications/{number}/refusal-receipt",
                summary="the refusal to accept an incomplete package, appendix 3 (printable, ?lang=)")  # fmt: skip
    async def refusal_receipt(number: str, request: Request) -> Response:
        return await render_paper(request, number, "refusalReceipt")

    @router.get("/applications/{number}/notice", summary="4-процесс: the data cannot be obtained (printable, ?lang=)")
    async def notice(number: str, request: Request) -> Response:
        return await render_paper(request, number, "notice")

    @router.get("/applications/{number}/result", summary="the provider's signed answer, readable (printable, ?lang=)")
    async def result(number: str, request: Request) -> Response:
        return await render_paper(request, number, "result")

    @router.get("/applications/{number}/result.xml", summary="the provider's signed answer (XML)",
                response_class=Response)  # fmt: skip
    async def result_xml(number: str, request: Request) -> Response:
        duty = await on_duty(request)
        if isinstance(duty, Response):
            return duty
        try:
            row = await desk.row(duty.operator, number[:32])
        except CodedError as error:
            return refused(request, error, duty, NOT_FOUND)
        if row.result_xml is None:
            return refused(request, CodedError("HQO_APPLICATION_STATE", row.status, status=row.status), duty)
        return Response(signed_document(row.result_xml), media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{row.number}-result.xml"',
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    return router
