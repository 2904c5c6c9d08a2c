"""egov.kz in the browser: the portal's pages under ``/portal/`` (regulation 001, 1-процесс to
5-процесс, as a citizen meets them).

- ``/portal/`` the catalogue of services received through the portal (and the citizen's drafts);
- ``/portal/login``, ``/portal/register``, ``/portal/logout``: IIN and password (1-процесс, 1-шарт;
  a refusal is 2-процесс), with a picker of the demo personas of ``<data_dir>/personas.json``;
- ``/portal/services/{id}``: the service and its application form (3-процесс): the fields of
  ``egovsim/data/forms.yaml`` with their labels in the page language and a file input for each
  document; sending it makes the draft and attaches the files;
- ``/portal/requests/{number}``: the draft, and "Sign and send": ``static/ncalayer-client.js``
  fetches the request document, has it signed by the local signer over the NCALayer protocol
  (``ws://127.0.0.1:13579/``, the ``ncalayer_port`` setting) and posts it to
  ``/portal/api/requests/{number}/submit`` (2-шарт, then 5-процесс); or the citizen pastes a
  document they signed with a tool of their own ("I signed it myself", a plain form).

The pages call the portal's own objects (:class:`portal.service.Portal`), the same operations as
the JSON API (:mod:`portal.router`, :mod:`portal.api_requests`), and sit on the same session: the
``egovsim_portal`` cookie, and on every form the session's CSRF token (``csrf``), which
:func:`portal.auth.current_session` checks. A refusal is shown as its code, its regulation step and
its text in the page language, with the catalogue's HTTP status.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from egovsim.catalog.forms import ApplicationForm, PortalField
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
    safe_next,
    see_other,
    shell,
)
from portal.api_requests import MAX_SIGNED_BYTES, portal_services
from portal.auth import COOKIE, current_session, start_session
from portal.service import Portal
from portal.sessions import Session

PREFIX = "/portal"
SCRIPT_PATH = f"{PREFIX}/static/ncalayer-client.js"
NCALAYER_PORT = 13579  # NCALayer's own port, where every Kazakh front end looks for it
DEMO_PASSWORD = "Qwerty12"  # egovsim.personas.DEFAULT_PASSWORD, when personas.json names none
SESSION_CODES = (
    "PORTAL_SESSION_REQUIRED",
    "PORTAL_SESSION_INVALID",
    "PORTAL_SESSION_EXPIRED",
    "PORTAL_SESSION_REVOKED",
)
MAX_FIELD = 2000  # a field value, as the JSON API takes it (portal.api_requests.DraftIn)

# -- the words of the pages ------------------------------------------------------------------------
P = Phrase
SERVICES_TITLE = P("Мемлекеттік қызметтер", "Государственные услуги", "Public services")
SERVICES_INTRO = P(
    "Порталда алуға болатын қызметтер. Өтініш беру үшін порталға кіріңіз.",
    "Услуги, которые можно получить на портале. Чтобы подать заявление, войдите на портал.",
    "Services you can receive through the portal. Log in to apply.",
)
APPLY = P("Өтініш беру", "Подать заявление", "Apply")
PROVIDER = P("Көрсетілетін қызметті беруші", "Услугодатель", "Provider")
DEADLINE = P("Көрсету мерзімі", "Срок оказания", "Deadline")
RESULT = P("Нәтижесі", "Результат", "Result")
DRAFTS = P("Менің сұраныстарым", "Мои запросы", "My requests")
NUMBER = P("Нөмірі", "Номер", "Number")
SERVICE = P("Қызмет", "Услуга", "Service")
STATUS = P("Мәртебесі", "Статус", "Status")
UPDATED = P("Өзгертілді", "Изменён", "Changed")
NONE_YET = P("Әзірге жоқ.", "Пока нет.", "None yet.")
STATUSES = {
    "draft": P("Жоба (қол қойылмаған)", "Черновик (не подписан)", "Draft (not signed)"),
    "submitted": P("Жіберілді", "Отправлен", "Submitted"),
    "refused": P("Бас тартылды", "Отказано", "Refused"),
    "failed": P("Жіберілмеді", "Не отправлен", "Not sent"),
}

LOGIN_TITLE = P("Порталға кіру", "Вход на портал", "Log in to the portal")
IIN = P("ЖСН", "ИИН", "IIN")
IIN_HINT = P("12 цифр", "12 цифр", "12 digits")
PASSWORD = P("Құпиясөз", "Пароль", "Password")
PASSWORD_AGAIN = P("Құпиясөзді қайталаңыз", "Повторите пароль", "Repeat the password")
PASSWORD_RULES = P(
    "8–128 таңба, әріптер мен цифрлар, ЖСН-сіз.",
    "От 8 до 128 символов, буквы и цифры, без ИИН.",
    "8 to 128 characters, letters and digits, not containing the IIN.",
)
LOG_IN = P("Кіру", "Войти", "Log in")
NO_ACCOUNT = P("Тіркелгіңіз жоқ па?", "Нет учётной записи?", "No account yet?")
REGISTER_LINK = P("Тіркелу", "Зарегистрироваться", "Register")
REGISTERED = P(
    "Тіркелу аяқталды. Енді порталға кіріңіз.",
    "Регистрация завершена. Теперь войдите на портал.",
    "You are registered. Now log in to the portal.",
)
LOGGED_OUT = P("Сіз порталдан шықтыңыз.", "Вы вышли из портала.", "You have logged out.")
PERSONAS = P("Демо тұлғалар", "Демо-персоны", "Demo personas")
PERSONAS_HINT = P(
    "egovsim up жасаған тұлғалар (personas.json). Тұлға алдымен порталда тіркелуі керек; демо құпиясөзі: ",
    "Персоны, созданные egovsim up (personas.json). Персона должна сначала зарегистрироваться на портале; "
    "демо-пароль: ",
    "The personas egovsim up made (personas.json). A persona must register on the portal first; the demo password: ",
)
USE = P("ЖСН-ді қою", "Подставить ИИН", "Fill in the IIN")
GBDFL = P("ЖТ МДҚ", "ГБД ФЛ", "ГБД ФЛ")
REGISTER_TITLE = P("Порталда тіркелу", "Регистрация на портале", "Register on the portal")
REGISTER_INTRO = P(
    "Тіркелу кезінде портал ЖСН-ді ЖТ МДҚ-дан ЭҮШ арқылы тексереді.",
    "При регистрации портал проверяет ИИН в ГБД ФЛ через ШЭП.",
    "On registration the portal checks the IIN in ГБД ФЛ through the e-government gateway.",
)
REGISTER_BUTTON = P("Тіркелу", "Зарегистрироваться", "Register")
MISMATCH = P("Құпиясөздер сәйкес келмейді.", "Пароли не совпадают.", "The passwords do not match.")

APPLICATION = P("Өтініш", "Заявление", "Application")
DOCUMENTS = P("Құжаттар", "Документы", "Documents")
REQUIRED = P("міндетті", "обязательно", "required")
OPTIONAL = P("бар болса", "при наличии", "if any")
FILE_HINT = P("PDF, JPEG немесе PNG, 2 МБ-тан аспайды.", "PDF, JPEG или PNG, не более 2 МБ.",
              "PDF, JPEG or PNG, at most 2 MB.")  # fmt: skip
CHOOSE = P("— таңдаңыз —", "— выберите —", "— choose —")
CONTINUE = P("Сақтау және қол қоюға өту", "Сохранить и перейти к подписанию", "Save and go on to signing")
LOG_IN_TO_APPLY = P("Өтініш беру үшін", "Чтобы подать заявление,", "To apply,")
LOG_IN_LINK = P("порталға кіріңіз", "войдите на портал", "log in to the portal")
NOT_ON_PORTAL = P("Қызмет табылмады", "Услуга не найдена", "Service not found")

REQUEST_TITLE = P("№ {number} сұраныс", "Запрос № {number}", "Request No. {number}")
FIELDS = P("Өтініш деректері", "Данные заявления", "Application data")
ATTACHED = P("Тіркелген құжаттар", "Приложенные документы", "Attached documents")
NOT_ATTACHED = P("тіркелмеген", "не приложен", "not attached")
YES = P("иә", "да", "yes")
INCOMPLETE = P("Өтініш толық емес:", "Заявление не заполнено полностью:", "The application is incomplete:")
SIGN_TITLE = P("Қол қою және жіберу", "Подписание и отправка", "Sign and send")
SIGN_BUTTON = P("Қол қою және жіберу", "Подписать и отправить", "Sign and send")
SIGN_HINT = P(
    "Сұраныс құжатына SIGN кілтімен қол қойылады. Кілтіңізді egovsim қол қою бағдарламасының терезесінде таңдаңыз: ",
    "Документ запроса подписывается ключом SIGN. Выберите свой ключ в окне подписанта egovsim: ",
    "The request document is signed with your SIGN key. Choose your key in the egovsim signer window: ",
)
SIGN_NO_SCRIPT = P(
    "Қол қою үшін JavaScript қажет; немесе төмендегі «Өзім қол қойдым» бөлімін пайдаланыңыз.",
    "Для подписания нужен JavaScript; или воспользуйтесь разделом «Я подписал сам» ниже.",
    "Signing in the browser needs JavaScript; or use “I signed it myself” below.",
)
SELF_TITLE = P("Өзім қол қойдым", "Я подписал сам", "I signed it myself")
SELF_INTRO = P(
    "Сұраныс құжатын жүктеп алыңыз, оған өз құралыңызбен SIGN кілтімен қол қойыңыз (enveloped XMLDSig) және "
    "қол қойылған XML-ді осында қойыңыз немесе файлмен жүктеңіз.",
    "Скачайте документ запроса, подпишите его своим средством ключом SIGN (enveloped XMLDSig) и вставьте "
    "подписанный XML сюда или загрузите файлом.",
    "Download the request document, sign it with your own tool and your SIGN key (an enveloped XMLDSig), and "
    "paste the signed XML here or upload it as a file.",
)
DOWNLOAD_DOCUMENT = P("Қол қоюға арналған құжатты жүктеп алу", "Скачать документ для подписания",
                      "Download the document to sign")  # fmt: skip
SIGNED_XML = P("Қол қойылған XML", "Подписанный XML", "Signed XML")
SIGNED_FILE = P("немесе қол қойылған XML файлы", "или файл подписанного XML", "or a file of the signed XML")
SEND = P("Жіберу", "Отправить", "Send")
ACCEPTED = P(
    "Сұраныс қабылданды және ЭҮШ арқылы көрсетілетін қызметті берушіге жіберілді.",
    "Запрос принят и отправлен услугодателю через ШЭП.",
    "The request is accepted and sent to the provider through the e-government gateway.",
)
OPEN_CABINET = P("Жеке кабинетте ашу", "Открыть в личном кабинете", "Open it in the personal cabinet")
SENT_ALREADY = P("Сұраныс жіберілді; оның барысы жеке кабинетте.",
                 "Запрос отправлен; его ход — в личном кабинете.",
                 "The request has been sent; follow it in the personal cabinet.")  # fmt: skip
NOT_FOUND = P("Табылмады", "Не найдено", "Not found")
REFUSED_TITLE = P("Сұрау қабылданбады", "Запрос не принят", "Request refused")
# what ncalayer-client.js says, in the page language (data-t-* attributes of the signing section)
SCRIPT_TEXTS = {
    "fetching": P("Сұраныс құжаты алынуда…", "Получение документа запроса…", "Fetching the request document…"),
    "connecting": P("Қол қою бағдарламасына қосылу…", "Подключение к программе подписи…", "Connecting to the signer…"),
    "waiting": P(
        "Қол қою бағдарламасының терезесінде кілтті таңдап, құпиясөзін енгізіңіз…",
        "Выберите ключ и введите его пароль в окне программы подписи…",
        "Choose your key and type its password in the signer window…",
    ),
    "sending": P("Қол қойылған сұраныс жіберілуде…", "Отправка подписанного запроса…", "Sending the signed request…"),
    "accepted": ACCEPTED,
    "canceled": P(
        "Қол қою тоқтатылды. Қайталауға болады.",
        "Подписание отменено. Можно повторить.",
        "Signing was cancelled. You can try again.",
    ),
    "unavailable": P(
        "Қол қою бағдарламасы жауап бермейді: egovsim up іске қосылғанын тексеріңіз (NCALayer хаттамасы).",
        "Программа подписи не отвечает: проверьте, что egovsim up запущен (протокол NCALayer).",
        "The signer does not answer: check that egovsim up is running (the NCALayer protocol).",
    ),
    "signerFailed": P("Қол қою бағдарламасының қатесі:", "Ошибка программы подписи:", "The signer failed:"),
    "failed": P("Сұраныс жіберілмеді:", "Запрос не отправлен:", "The request was not sent:"),
    "cabinet": OPEN_CABINET,
    "statusSubmitted": STATUSES["submitted"],
    "statusRefused": STATUSES["refused"],
}


# -- helpers ---------------------------------------------------------------------------------------
def request_path(number: str) -> str:
    return f"{PREFIX}/requests/{quote(number, safe='')}"


def service_path(service_id: str) -> str:
    return f"{PREFIX}/services/{quote(service_id, safe='')}"


def cabinet_path(number: str) -> str:
    return f"/cabinet/requests/{quote(number, safe='')}"


def text_of(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    """A text field of a posted form ('' when absent or a file), cut at ``limit``."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def upload_of(form: FormData, name: str) -> UploadFile | None:
    """A file field of a posted form; an empty file input (no file chosen) is none."""
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def signer_address(kernel: Kernel) -> tuple[str, str]:
    """(websocket URL, chooser page URL) of the local signer: NCALayer's port unless the
    ``ncalayer_port`` setting names another (0, "any free port", cannot be known here)."""
    port = int(getattr(kernel.settings, "ncalayer_port", NCALAYER_PORT) or NCALAYER_PORT)
    secure = bool(getattr(kernel.settings, "ncalayer_tls", False))
    return (f"{'wss' if secure else 'ws'}://127.0.0.1:{port}/", f"{'https' if secure else 'http'}://127.0.0.1:{port}/")


def personas(kernel: Kernel) -> list[dict[str, Any]]:
    """The demo personas ``egovsim up`` listed in ``<data_dir>/personas.json`` (none without it)."""
    try:
        data = json.loads((kernel.settings.data_dir / "personas.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows = data.get("personas") if isinstance(data, dict) else None
    return [r for r in rows or [] if isinstance(r, dict) and isinstance(r.get("iin"), str)]


def field_input(field: PortalField, value: str, lang: str, invalid: bool) -> str:
    """One field of an application form, labelled in the page language."""
    fid = f"field-{field.id}"
    name = html.escape(field.id)
    label = html.escape(field.label.get(lang))
    required = " required" if field.required else ""
    mark = f' <span class="req">({REQUIRED(lang)})</span>' if field.required else ""
    aria = ' aria-invalid="true"' if invalid else ""
    if field.type == "consent":
        checked = " checked" if value == "yes" else ""
        return (
            f'<div class="field check"><input type="checkbox" id="{fid}" name="{name}" value="yes"{checked}'
            f'{required}{aria}> <label for="{fid}">{label}</label>{mark}</div>'
        )
    if field.type == "choice":
        options = "".join(
            f'<option value="{html.escape(c.value)}"{" selected" if c.value == value else ""}>'
            f"{html.escape(c.label.get(lang))}</option>"
            for c in field.choices
        )
        control = (
            f'<select id="{fid}" name="{name}"{required}{aria}><option value="">{CHOOSE(lang)}</option>'
            f"{options}</select>"
        )
    elif field.type == "textarea" or field.type == "address":
        control = (
            f'<textarea id="{fid}" name="{name}" maxlength="{MAX_FIELD}"{required}{aria}>'
            f"{html.escape(value)}</textarea>"
        )
    else:
        kind, extra = {
            "date": ("date", ""),
            "phone": ("tel", ' autocomplete="tel" placeholder="+77011234567"'),
            "iin": ("text", ' inputmode="numeric" pattern="\\d{12}" maxlength="12" autocomplete="off"'),
            "bin": ("text", ' inputmode="numeric" pattern="\\d{12}" maxlength="12" autocomplete="off"'),
            "number": ("text", ' inputmode="numeric" pattern="\\d+"'),
        }.get(field.type, ("text", f' maxlength="{MAX_FIELD}"'))
        control = f'<input type="{kind}" id="{fid}" name="{name}" value="{html.escape(value)}"{extra}{required}{aria}>'
    return f'<div class="field"><label for="{fid}">{label}{mark}</label>{control}</div>'


def shown_value(field: PortalField | None, value: str, lang: str) -> str:
    """A filled-in value as the request page shows it: a choice's label, a consent's "yes"."""
    if field is not None and field.type == "choice":
        choice = next((c for c in field.choices if c.value == value), None)
        return html.escape(choice.label.get(lang)) if choice else html.escape(value)
    if field is not None and field.type == "consent":
        return YES(lang) if value == "yes" else html.escape(value)
    return dash(value)


# -- the pages -------------------------------------------------------------------------------------
def home_page(services: list[dict[str, Any]], drafts: list[dict[str, Any]] | None, lang: str) -> str:
    items = "".join(
        f'<li id="service-{html.escape(s["id"])}"><h2><a href="{html.escape(service_path(s["id"]))}">'
        f"{html.escape(s['title'])}</a></h2>"
        f"<p><strong>{PROVIDER(lang)}:</strong> {dash(s['provider'])}<br>"
        f"<strong>{DEADLINE(lang)}:</strong> {dash(s['deadline'])}</p></li>"
        for s in services
    )
    body = f'<p>{SERVICES_INTRO(lang)}</p><ul class="services">{items}</ul>'
    if drafts is not None:
        rows = "".join(
            f'<tr><td><a href="{html.escape(request_path(d["number"]))}">{html.escape(d["number"])}</a></td>'
            f"<td>{dash((d.get('title') or {}).get(lang))}</td>"
            f"<td>{html.escape(STATUSES[d['status']](lang) if d['status'] in STATUSES else d['status'])}</td>"
            f"<td>{local_time(d.get('updatedAt'))}</td></tr>"
            for d in drafts
        )
        rows = rows or f'<tr><td colspan="4">{NONE_YET(lang)}</td></tr>'
        body += (
            f'<h2 id="my-requests">{DRAFTS(lang)}</h2><table><thead><tr><th>{NUMBER(lang)}</th><th>{SERVICE(lang)}</th>'
            f"<th>{STATUS(lang)}</th><th>{UPDATED(lang)}</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return body


def login_body(
    lang: str,
    *,
    iin: str = "",
    next_path: str | None = None,
    refusal: Refusal | None = None,
    notice: str | None = None,
    people: list[dict[str, Any]] | None = None,
) -> str:
    back = f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else ""
    body = (notice and f'<p class="notice" role="status">{html.escape(notice)}</p>') or ""
    body += refusal.block() if refusal else ""
    body += (
        f'<form class="stack" method="post" action="{PREFIX}/login" id="login">{back}'
        f'<div><label for="iin">{IIN(lang)}</label><input type="text" id="iin" name="iin" value="{html.escape(iin)}"'
        f' inputmode="numeric" maxlength="12" autocomplete="username" required aria-describedby="iin-hint">'
        f'<p class="hint" id="iin-hint">{IIN_HINT(lang)}</p></div>'
        f'<div><label for="password">{PASSWORD(lang)}</label><input type="password" id="password" name="password"'
        f' autocomplete="current-password" maxlength="128" required></div>'
        f'<div><button type="submit">{LOG_IN(lang)}</button></div></form>'
        f'<p>{NO_ACCOUNT(lang)} <a href="{PREFIX}/register">{REGISTER_LINK(lang)}</a></p>'
    )
    if people:
        body += _persona_picker(people, lang, next_path)
    return body


def _persona_picker(people: list[dict[str, Any]], lang: str, next_path: str | None) -> str:
    items = []
    for p in people:
        iin = str(p["iin"])
        keep = {"next": next_path} if next_path else {}
        use = f"{PREFIX}/login?{urlencode({'iin': iin, **keep})}"
        register = f"{PREFIX}/register?{urlencode({'iin': iin})}"
        who = " ".join(str(p.get(k) or "") for k in ("surname", "name")).strip() or str(p.get("id"))
        items.append(
            f'<li data-persona="{html.escape(str(p.get("id") or ""))}"><a class="button secondary" '
            f'href="{html.escape(use)}">{USE(lang)}</a> <strong>{html.escape(who)}</strong> · '
            f"{dash(p.get('role'))} · {IIN(lang)} <code>{html.escape(iin)}</code> · {GBDFL(lang)}: "
            f'{dash(p.get("gbdfl"))} · <a href="{html.escape(register)}">{REGISTER_LINK(lang)}</a></li>'
        )
    password = next((str(p["password"]) for p in people if p.get("password")), DEMO_PASSWORD)
    return (
        f'<section aria-labelledby="personas"><h2 id="personas">{PERSONAS(lang)}</h2>'
        f"<p>{PERSONAS_HINT(lang)}<code>{html.escape(password)}</code></p>"
        f'<ul class="personas">{"".join(items)}</ul></section>'
    )


def register_body(lang: str, *, iin: str = "", refusal: Refusal | None = None, problem: str | None = None) -> str:
    body = f"<p>{REGISTER_INTRO(lang)}</p>" + (refusal.block() if refusal else "")
    if problem:
        body += f'<div class="refusal" role="alert"><p class="message">{html.escape(problem)}</p></div>'
    return body + (
        f'<form class="stack" method="post" action="{PREFIX}/register" id="register">'
        f'<div><label for="iin">{IIN(lang)}</label><input type="text" id="iin" name="iin" value="{html.escape(iin)}"'
        f' inputmode="numeric" maxlength="12" autocomplete="username" required></div>'
        f'<div><label for="password">{PASSWORD(lang)}</label><input type="password" id="password" name="password"'
        f' autocomplete="new-password" maxlength="128" required aria-describedby="password-rules">'
        f'<p class="hint" id="password-rules">{PASSWORD_RULES(lang)}</p></div>'
        f'<div><label for="password2">{PASSWORD_AGAIN(lang)}</label><input type="password" id="password2"'
        f' name="password2" autocomplete="new-password" maxlength="128" required></div>'
        f'<div><button type="submit">{REGISTER_BUTTON(lang)}</button></div></form>'
    )


def service_body(
    service: Mapping[str, Any],
    form: ApplicationForm,
    lang: str,
    visitor: Visitor | None,
    *,
    values: Mapping[str, str] | None = None,
    invalid: frozenset[str] = frozenset(),
    refusal: Refusal | None = None,
) -> str:
    facts = (
        f'<table class="facts"><tr><th>{PROVIDER(lang)}</th><td>{dash(service["provider"])}</td></tr>'
        f"<tr><th>{DEADLINE(lang)}</th><td>{dash(service['deadline'])}</td></tr>"
        f"<tr><th>{RESULT(lang)}</th><td>{dash(service['result'])}</td></tr></table>"
    )
    if visitor is None:
        login = f"{PREFIX}/login?{urlencode({'next': service_path(service['id'])})}"
        return (
            facts
            + f'<p class="notice">{LOG_IN_TO_APPLY(lang)} <a href="{html.escape(login)}">{LOG_IN_LINK(lang)}</a>.</p>'
        )
    values = values or {}
    fields = "".join(field_input(f, values.get(f.id, ""), lang, f.id in invalid) for f in form.fields)
    documents = "".join(
        f'<div class="field"><label for="doc-{html.escape(d.id)}">{html.escape(d.name.get(lang))} '
        f'<span class="{"req" if d.required else "hint"}">({(REQUIRED if d.required else OPTIONAL)(lang)})</span>'
        f'</label><input type="file" id="doc-{html.escape(d.id)}" name="doc_{html.escape(d.id)}"'
        f' accept="application/pdf,image/jpeg,image/png" aria-describedby="file-hint"'
        f"{' required' if d.required else ''}>"
        "</div>"
        for d in form.documents
    )
    if documents:
        documents = (
            f'<fieldset><legend>{DOCUMENTS(lang)}</legend><p class="hint" id="file-hint">{FILE_HINT(lang)}</p>'
            f"{documents}</fieldset>"
        )
    return (
        facts
        + (refusal.block() if refusal else "")
        + f'<h2>{APPLICATION(lang)}</h2><form method="post" enctype="multipart/form-data" id="application"'
        f' action="{html.escape(service_path(service["id"]))}">{csrf_field(visitor)}'
        f"<fieldset><legend>{APPLICATION(lang)}</legend>{fields}</fieldset>{documents}"
        f'<p><button type="submit">{CONTINUE(lang)}</button></p></form>'
    )


def request_body(
    described: Mapping[str, Any],
    form: ApplicationForm,
    lang: str,
    visitor: Visitor,
    signer: tuple[str, str],
    *,
    outcome: str = "",
) -> str:
    number = str(described["number"])
    status = str(described["status"])
    title = (described.get("title") or {}).get(lang) or described["serviceId"]
    facts = (
        f'<table class="facts"><tr><th>{NUMBER(lang)}</th><td id="request-number">{html.escape(number)}</td></tr>'
        f'<tr><th>{SERVICE(lang)}</th><td><a href="{html.escape(service_path(described["serviceId"]))}">'
        f"{html.escape(title)}</a></td></tr>"
        f'<tr><th>{STATUS(lang)}</th><td id="request-status" data-status="{html.escape(status)}">'
        f"{html.escape(STATUSES[status](lang) if status in STATUSES else status)}</td></tr></table>"
    )
    values = described.get("fields") or {}
    rows = "".join(
        f'<tr><th>{html.escape(f.label.get(lang))}</th><td data-field="{html.escape(f.id)}">'
        f"{shown_value(f, str(values.get(f.id, '')), lang)}</td></tr>"
        for f in form.fields
    )
    attached = {a["documentId"]: a for a in described.get("attachments") or []}
    docs = "".join(
        f'<tr><th>{html.escape(d.name.get(lang))}</th><td data-document="{html.escape(d.id)}">'
        + (
            f"{html.escape(attached[d.id]['filename'])} ({int(attached[d.id]['size'])} B)"
            if d.id in attached
            else f'<span class="{"refused" if d.required else "hint"}">{NOT_ATTACHED(lang)}</span>'
        )
        + "</td></tr>"
        for d in form.documents
    )
    body = facts + outcome
    body += f'<h2>{FIELDS(lang)}</h2><table class="facts">{rows}</table>'
    if docs:
        body += f'<h2>{ATTACHED(lang)}</h2><table class="facts">{docs}</table>'
    if status != "draft":
        if described.get("refusalCode") and not outcome:
            body += f'<p><span class="code">{html.escape(described["refusalCode"])}</span></p>'
        return body + (
            f'<p class="notice">{SENT_ALREADY(lang)} <a href="{html.escape(cabinet_path(number))}">'
            f"{OPEN_CABINET(lang)}</a></p>"
        )
    missing = described.get("missing") or []
    if missing:
        body += f'<p class="refusal" role="alert">{INCOMPLETE(lang)} {html.escape("; ".join(missing))}</p>'
    return body + _signing(number, lang, visitor, signer)


def _signing(number: str, lang: str, visitor: Visitor, signer: tuple[str, str]) -> str:
    socket_url, chooser_url = signer
    api = f"{PREFIX}/api/requests/{quote(number, safe='')}"
    texts = "".join(f' data-t-{_kebab(k)}="{html.escape(v(lang))}"' for k, v in SCRIPT_TEXTS.items())
    return (
        f'<section id="sign" aria-labelledby="sign-title" data-state="loading" data-lang="{lang}"'
        f' data-signer-url="{html.escape(socket_url)}" data-document-url="{html.escape(api)}/document"'
        f' data-submit-url="{html.escape(api)}/submit" data-cabinet-url="{html.escape(cabinet_path(number))}"{texts}>'
        f'<h2 id="sign-title">{SIGN_TITLE(lang)}</h2>'
        f'<p class="hint">{SIGN_HINT(lang)}<a href="{html.escape(chooser_url)}" target="_blank" rel="noopener">'
        f"{html.escape(chooser_url)}</a></p>"
        f"<noscript><p>{SIGN_NO_SCRIPT(lang)}</p></noscript>"
        f'<p><button type="button" id="sign-button">{SIGN_BUTTON(lang)}</button></p>'
        '<div id="sign-outcome" aria-live="polite"></div></section>'
        f'<section aria-labelledby="self-title"><h2 id="self-title">{SELF_TITLE(lang)}</h2><p>{SELF_INTRO(lang)}</p>'
        f'<p><a href="{html.escape(api)}/document" download="{html.escape(number)}.xml">'
        f"{DOWNLOAD_DOCUMENT(lang)}</a></p>"
        f'<form class="stack" method="post" enctype="multipart/form-data" id="self-signed"'
        f' action="{html.escape(request_path(number))}/submit">{csrf_field(visitor)}'
        f'<div><label for="signed-xml">{SIGNED_XML(lang)}</label><textarea id="signed-xml" name="signed_xml">'
        f"</textarea></div>"
        f'<div><label for="signed-file">{SIGNED_FILE(lang)}</label><input type="file" id="signed-file"'
        f' name="signed_file" accept=".xml,application/xml,text/xml"></div>'
        f'<div><button type="submit" class="secondary">{SEND(lang)}</button></div></form></section>'
    )


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name)


# -- the routes ------------------------------------------------------------------------------------
def portal_pages(kernel: Kernel) -> APIRouter:
    """The portal's web pages (module docstring)."""
    portal = Portal.of(kernel)
    router = APIRouter(prefix=PREFIX, tags=["portal pages"], default_response_class=HTMLResponse)

    def refusal(error: CodedError, lang: str, **params: object) -> Refusal:
        return Refusal.of(kernel.refusals, error.code, lang, params | error.params, error.detail)

    async def session_of(request: Request) -> Session | None:
        """Who is logged in, for a page that is read (a change checks its CSRF token: ``change``)."""
        try:
            return await current_session(request)
        except CodedError:
            return None

    def visitor_of(session: Session | None) -> Visitor | None:
        return None if session is None else Visitor(session.iin, csrf_token(kernel.admin_token, session.sid))

    async def change(request: Request) -> Session | Response:
        """The session of a form that changes something, with its CSRF token; else the answer."""
        lang = page_lang(request)
        try:
            return await current_session(request)
        except CodedError as error:
            if error.code in SESSION_CODES:
                return login_redirect(request, PREFIX + "/")
            shown = refusal(error, lang)
            return respond(request, REFUSED_TITLE(lang), shown.block(), None, shown.status)

    def respond(request: Request, title: str, body: str, visitor: Visitor | None, status: int = 200,
                *, scripts: bool = False) -> Response:  # fmt: skip
        lang = page_lang(request)
        head = ""
        connect: tuple[str, ...] = ()
        if scripts and visitor is not None:
            head = (
                f'<meta name="csrf-token" content="{html.escape(visitor.csrf)}">\n'
                f'<script src="{SCRIPT_PATH}" defer></script>\n'
            )
            connect = (signer_address(kernel)[0].rstrip("/"),)
        return html_page(
            request, shell(request, lang, title, body, visitor=visitor, head=head), status, connect=connect
        )

    def not_found(request: Request, error: CodedError, visitor: Visitor | None) -> Response:
        lang = page_lang(request)
        shown = refusal(error, lang)
        return respond(request, NOT_FOUND(lang), shown.block(), visitor, shown.status)

    @router.get("/", summary="the catalogue of portal services (and the citizen's requests)")
    async def home(request: Request) -> Response:
        lang = page_lang(request)
        session = await session_of(request)
        drafts = await portal.requests.list(session.iin) if session else None
        return respond(request, SERVICES_TITLE(lang), home_page(portal_services(kernel, lang), drafts, lang),
                       visitor_of(session))  # fmt: skip

    # -- accounts ---------------------------------------------------------------------------------
    @router.get("/login", summary="the login form (IIN and password), with the demo personas")
    async def login_form(request: Request) -> Response:
        lang = page_lang(request)
        query = request.query_params
        notice = REGISTERED(lang) if query.get("registered") else LOGGED_OUT(lang) if query.get("out") else None
        body = login_body(lang, iin=query.get("iin", "")[:12], next_path=safe_next(query.get("next", "")),
                          notice=notice, people=personas(kernel))  # fmt: skip
        return respond(request, LOGIN_TITLE(lang), body, visitor_of(await session_of(request)))

    @router.post("/login", summary="log in (form): sets the session cookie and goes back to `next`")
    async def login(request: Request) -> Response:
        lang = page_lang(request)
        form = await request.form()
        iin, next_path = text_of(form, "iin", 64).strip(), safe_next(text_of(form, "next", 1000))
        try:
            account = await portal.accounts.authenticate(iin, text_of(form, "password", 4096))
        except CodedError as error:
            shown = refusal(error, lang)
            body = login_body(lang, iin=iin[:12], next_path=next_path, refusal=shown, people=personas(kernel))
            return respond(request, LOGIN_TITLE(lang), body, None, shown.status)
        response = see_other(request, next_path or f"{PREFIX}/")
        await start_session(request, response, account.iin)  # the session and cookie of POST /portal/api/login
        return response

    @router.post("/logout", summary="log out (form with the CSRF token)")
    async def logout(request: Request) -> Response:
        session = await change(request)
        if isinstance(session, Response):
            return session
        await portal.sessions.close(session)
        response = see_other(request, f"{PREFIX}/login?out=1")
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return response

    @router.get("/register", summary="the registration form (IIN and password)")
    async def register_form(request: Request) -> Response:
        lang = page_lang(request)
        body = register_body(lang, iin=request.query_params.get("iin", "")[:12])
        return respond(request, REGISTER_TITLE(lang), body, visitor_of(await session_of(request)))

    @router.post("/register", summary="register (form): the portal checks the person in ГБД ФЛ")
    async def register(request: Request) -> Response:
        lang = page_lang(request)
        form = await request.form()
        iin, password = text_of(form, "iin", 64).strip(), text_of(form, "password", 4096)
        if password != text_of(form, "password2", 4096):
            body = register_body(lang, iin=iin[:12], problem=MISMATCH(lang))
            return respond(request, REGISTER_TITLE(lang), body, None, 422)
        try:
            account = await portal.accounts.register(iin, password)
        except CodedError as error:
            shown = refusal(error, lang)
            body = register_body(lang, iin=iin[:12], refusal=shown)
            return respond(request, REGISTER_TITLE(lang), body, None, shown.status)
        return see_other(request, f"{PREFIX}/login?{urlencode({'iin': account.iin, 'registered': 1})}")

    # -- services and requests --------------------------------------------------------------------
    def service_of(service_id: str, lang: str) -> tuple[dict[str, Any], ApplicationForm]:
        form = portal.requests.form(service_id[:64])  # PORTAL_SERVICE_NOT_ON_PORTAL
        service = next(s for s in portal_services(kernel, lang) if s["id"] == form.service)
        return service, form

    @router.get("/services/{service_id}", summary="a service and its application form")
    async def service_page(service_id: str, request: Request) -> Response:
        lang = page_lang(request)
        visitor = visitor_of(await session_of(request))
        try:
            service, form = service_of(service_id, lang)
        except CodedError as error:
            return not_found(request, error, visitor)
        return respond(request, service["title"], service_body(service, form, lang, visitor), visitor)

    @router.post("/services/{service_id}", summary="apply (multipart form): the draft and its attachments")
    async def apply(service_id: str, request: Request) -> Response:
        lang = page_lang(request)
        session = await change(request)
        if isinstance(session, Response):
            return session
        visitor = visitor_of(session)
        try:
            service, form = service_of(service_id, lang)
        except CodedError as error:
            return not_found(request, error, visitor)
        posted = await request.form()
        values = {f.id: text_of(posted, f.id).strip() for f in form.fields}
        fields = {k: v for k, v in values.items() if v}
        problems = form.problems(fields, complete=True)

        def again(error: CodedError, invalid: frozenset[str] = frozenset()) -> Response:
            shown = refusal(error, lang)
            body = service_body(service, form, lang, visitor, values=values, invalid=invalid, refusal=shown)
            return respond(request, service["title"], body, visitor, shown.status)

        if problems:
            invalid = frozenset(p.split(":", 1)[0] for p in problems)
            labels = ", ".join(f.label.get(lang) for f in form.fields if f.id in invalid)
            return again(CodedError("PORTAL_FORM_INVALID", "; ".join(problems), problems=labels), invalid)
        try:
            draft = await portal.requests.create(session.iin, form.service, fields, lang)
        except CodedError as error:
            return again(error)
        number = draft["number"]
        try:
            for document in form.documents:
                upload = upload_of(posted, f"doc_{document.id}")
                if upload is not None:
                    content = await upload.read(document.max_bytes + 1)
                    await portal.requests.attach(session.iin, number, document.id, upload.filename or document.id,
                                                 upload.content_type or "", content)  # fmt: skip
        except CodedError as error:
            await portal.requests.delete(session.iin, number)  # all or nothing: no half-made draft is left
            return again(error)
        return see_other(request, request_path(number))

    async def render_request(request: Request, session: Session, number: str, outcome: str = "",
                             status: int = 200) -> Response:  # fmt: skip
        lang = page_lang(request)
        visitor = visitor_of(session)
        assert visitor is not None
        try:
            described = await portal.requests.describe(session.iin, number[:40])
        except CodedError as error:
            return not_found(request, error, visitor)
        form = portal.requests.form(described["serviceId"])
        body = request_body(described, form, lang, visitor, signer_address(kernel), outcome=outcome)
        title = REQUEST_TITLE(lang).format(number=described["number"])
        return respond(request, title, body, visitor, status, scripts=described["status"] == "draft")

    @router.get("/requests/{number}", summary="a request: the draft, signing and sending")
    async def request_page(number: str, request: Request) -> Response:
        session = await session_of(request)
        if session is None:
            return login_redirect(request)
        return await render_request(request, session, number)

    @router.post("/requests/{number}/submit", summary="send a document the citizen signed themselves (form)")
    async def submit(number: str, request: Request) -> Response:
        lang = page_lang(request)
        # read first, with room for a pasted document (the form is parsed once; the CSRF check reuses it)
        posted = await request.form(max_part_size=MAX_SIGNED_BYTES)
        session = await change(request)
        if isinstance(session, Response):
            return session
        upload = upload_of(posted, "signed_file")
        signed = (
            (await upload.read(MAX_SIGNED_BYTES))
            if upload
            else text_of(posted, "signed_xml", MAX_SIGNED_BYTES).encode()
        )
        try:
            sent = await portal.requests.submit(session.iin, number[:40], signed)
        except CodedError as error:
            if error.code == "PORTAL_REQUEST_NOT_FOUND":
                return not_found(request, error, visitor_of(session))
            shown = refusal(error, lang)
            return await render_request(request, session, number, shown.block(), shown.status)
        if sent.status == "submitted":
            outcome = (
                f'<div class="accepted" role="status"><p>{ACCEPTED(lang)}</p><p><a href="'
                f'{html.escape(cabinet_path(sent.number))}">{OPEN_CABINET(lang)}</a></p></div>'
            )
            return await render_request(request, session, number, outcome)
        assert sent.code is not None
        shown = Refusal.of(kernel.refusals, sent.code, lang, {"fault": sent.detail or ""}, sent.detail)
        return await render_request(request, session, number, shown.block(), shown.status)

    @router.get("/static/ncalayer-client.js", summary="the page's NCALayer-protocol client (JavaScript)",
                response_class=Response)  # fmt: skip
    async def script() -> Response:
        source = resources.files("portal.static").joinpath("ncalayer-client.js").read_bytes()
        return Response(source, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    return router
