"""ЭҮАШ АЖО / АРМ РШЭП in the browser: the regional workstation's pages under ``/rshep/``, where the
providers' employees work requests in manual mode and the operator sets how each service is worked.

- ``/rshep/`` the inbox: a tab per provider, its requests newest first, overdue ones flagged;
- ``/rshep/cases/{id}`` one request: its steps and, for the current step in manual mode, the form
  that completes it (:meth:`~gateway.workstation.RegionalWorkstation.complete`); a closed request
  shows its result e-document or reasoned refusal as signed, with the signer's name;
- ``/rshep/policies`` per service: autopilot or manual, the autopilot's decision, ground and scale
  (:meth:`~gateway.workstation.RegionalWorkstation.set_policy`).

They are the operator's pages, as the message journal is, and reuse its sign-in and page helpers
(:mod:`gateway.inspector`): the admin session cookie or the bearer token; a browser with neither goes
to ``/inspector/login?next=…`` and comes back here signed in.

Against cross-site requests the session cookie is ``SameSite=Strict``, and every form carries a
token (:func:`form_token`): HMAC-SHA256, under a key derived from the admin token, of the session
cookie and what the form changes (``case:<id>``, ``policy:<service id>``). Only a page served to that
session holds it; a new session or a new admin token voids it. A refusal (a missing or forged token,
a wrong role, a step that is not current, a refusal without its ground…) shows the page again with
the code, its kk/ru/en texts from the refusal catalogue and the catalogue's HTTP status.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egovsim import xmldsig
from egovsim.catalog.forms import RESULT_NS
from egovsim.catalog.models import Service
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from gateway.inspector import (
    COOKIE,
    JOURNAL_PATH,
    display_xml,
    escape_or_dash,
    form_fields,
    html_response,
    local_time,
    page,
    refusal_block,
    see_other,
    sign_in_required,
    signed_in,
)
from gateway.providers import Employee, Provider, Providers
from gateway.workflow import WORKSTATION_ROLES, AutopilotPolicy
from gateway.workstation import Policy, RegionalWorkstation

log = logging.getLogger("egovsim.rshep")

PREFIX = "/rshep"
HOME = f"{PREFIX}/"
POLICIES_PATH = f"{PREFIX}/policies"
AREA = "ЭҮАШ АЖО / АРМ РШЭП regional workstation"
TOKEN_FIELD = "token"
MAX_TEXT = 1000  # a ground, as the JSON API takes it (gateway/router.py StepBody, PolicyBody)
CSS = """
nav.areas, nav.tabs { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1rem; }
nav.tabs a { text-decoration: none; padding: .2rem .4rem; }
nav.tabs a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid #0b4f8a; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: 12px; font-weight: 700; }
.overdue { background: #b3261e; color: #fff; }
tr.current { background: #fff7d6; }
.refusal { border: 1px solid #b3261e; padding: .4rem .8rem; margin-bottom: 1rem; }
form.step, form.policy { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
form.step label, form.policy label { display: flex; flex-direction: column; font-size: 12px; }
form.step textarea { min-width: 24rem; min-height: 3rem; }
fieldset { border: 1px solid #d5dce4; }
td.change { min-width: 30rem; }
form.policy input[type="number"] { width: 6rem; }
"""


def case_path(case_id: str) -> str:
    return f"{PREFIX}/cases/{quote(case_id, safe='')}"


# -- the form token --------------------------------------------------------------------------------
def _form_key(admin_token: str) -> bytes:
    return hmac.new(admin_token.encode(), b"egovsim workstation form token v1", hashlib.sha256).digest()


def form_token(admin_token: str, session: str, purpose: str) -> str:
    """The token of a form that changes ``purpose`` (``case:<id>``, ``policy:<id>``) for a session
    (the session cookie's value; empty for a client that signs in with the bearer token)."""
    return hmac.new(_form_key(admin_token), f"{session}\n{purpose}".encode(), hashlib.sha256).hexdigest()


def form_token_is_valid(token: str, admin_token: str, session: str, purpose: str) -> bool:
    return hmac.compare_digest(token.encode(), form_token(admin_token, session, purpose).encode())


# -- what the forms post ---------------------------------------------------------------------------
class StepForm(BaseModel):
    """The case page's form: an employee completes the current step."""

    model_config = ConfigDict(extra="ignore")

    employee: Annotated[str, Field(min_length=1, max_length=64)]
    outcome: Literal["done", "refused"] = "done"
    ground: Annotated[str | None, Field(max_length=MAX_TEXT)] = None


class PolicyForm(BaseModel):
    """The policies page's form: the fields of ``PUT /rshep/api/policies/{id}``, from a form."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    mode: Literal["autopilot", "manual"] = "autopilot"
    decision: Literal["approve", "refuse"] = "approve"
    refusal_ground: Annotated[str | None, Field(alias="refusalGround", max_length=MAX_TEXT)] = None
    refuse_at_step: Annotated[str | None, Field(alias="refuseAtStep", max_length=16)] = None
    scale: Annotated[float, Field(ge=0, le=1000)] = 1.0

    def policy(self) -> Policy:
        try:
            autopilot = AutopilotPolicy(
                decision=self.decision, refusal_ground=self.refusal_ground, refuse_at_step=self.refuse_at_step,
                scale=self.scale,
            )  # fmt: skip
        except ValidationError as exc:
            raise CodedError("REQUEST_INVALID", _problems(exc)) from None
        return Policy(self.mode, autopilot)


Form = TypeVar("Form", StepForm, PolicyForm)


def read_form(model: type[Form], fields: Mapping[str, str]) -> Form:
    """A form's fields as ``model``; a blank field is an absent one (its default)."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v.strip()})
    except ValidationError as exc:
        raise CodedError("REQUEST_INVALID", _problems(exc)) from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(": ".join(filter(None, (".".join(map(str, e["loc"])), e["msg"]))) for e in exc.errors())


def posted_fields(body: bytes) -> dict[str, str]:
    """A form post (``application/x-www-form-urlencoded``) as one value per field, the first."""
    return {name: values[0] for name, values in form_fields(body).items() if values}


def employees_for_step(providers: Providers, provider_id: str, role: str) -> list[Employee]:
    """Who may complete a step: the provider's employees who hold its role; a step of someone outside
    the provider (the recipient, the ХҚО, the rural akim) or of the provider as a whole is recorded
    at the workstation by any of its employees (:data:`gateway.workflow.WORKSTATION_ROLES`)."""
    if role in WORKSTATION_ROLES:
        return providers.employees_with(provider_id, role)
    return list(providers.provider(provider_id).employees)


def step_action_kk(service: Service | None, n: str, action_en: str) -> str | None:
    """The step's action as the regulation words it (kk), found by its number and English text."""
    if service is None:
        return None
    steps = (s for route in service.routes for s in route.steps)
    return next((s.action.kk for s in steps if s.n == n and s.action.en == action_en), None)


def result_signer(result_xml: str) -> str | None:
    """The name in the result e-document's ``signedBy`` (the provider's authorised employee)."""
    try:
        root = xmldsig.parse_xml(result_xml)
    except xmldsig.XmlSignatureError:
        return None
    name = root.findtext(f"{{{RESULT_NS}}}signedBy/{{{RESULT_NS}}}name")
    return None if name is None else str(name)


@dataclass(frozen=True)
class Refusal:
    """A refusal of the catalogue as a page shows it."""

    code: str
    status: int
    messages: dict[str, str]
    detail: str | None = None

    def block(self) -> str:
        detail = f'<p class="detail">{html.escape(self.detail)}</p>' if self.detail else ""
        return f'<div class="refusal" role="alert">{refusal_block(self.code, self.messages)}{detail}</div>'


# -- the pages -------------------------------------------------------------------------------------
def _page(title: str, body: str) -> str:
    areas = (
        f'<nav class="areas"><a href="{HOME}">Inbox</a><a href="{POLICIES_PATH}">Policies</a>'
        f'<a href="{JOURNAL_PATH}">Message journal</a></nav>'
    )
    return page(title, areas + body, signed_in=True, home=HOME, area=AREA, css=CSS)


def _time(iso: str | None) -> str:
    return "—" if not iso else f'<time datetime="{html.escape(iso)}">{html.escape(local_time(iso))}</time>'


def _kk(text: str | None) -> str:
    return "—" if not text else f'<span lang="kk">{html.escape(text)}</span>'


def _ru(text: str | None) -> str:
    return "—" if not text else f'<span lang="ru">{html.escape(text)}</span>'


def _overdue(case: Mapping[str, Any]) -> str:
    return '<span class="badge overdue">OVERDUE</span>' if case["overdue"] else ""


def _employee(providers: Providers, employee_id: str | None) -> str:
    if not employee_id:
        return "—"
    try:
        name = providers.employee(employee_id).full_name
    except KeyError:  # the autopilot
        return escape_or_dash(employee_id)
    return f"{html.escape(name)} <small>({html.escape(employee_id)})</small>"


def inbox_page(
    providers: Providers, services: Mapping[str, Service], cases: list[dict[str, Any]], selected: str | None
) -> str:
    """The inbox: the cases (with their steps) of one provider, or of all, newest first."""

    def tab(provider: Provider | None) -> str:
        key = provider.id if provider else None
        href = f"{HOME}?{urlencode({'provider': key})}" if key else HOME
        current = ' aria-current="page"' if key == selected else ""
        label = _kk(provider.names.kk) if provider else "All providers"
        return f'<a href="{html.escape(href)}"{current}>{label}</a>'

    tabs = f'<nav class="tabs">{tab(None)}{"".join(tab(p) for p in providers.providers)}</nav>'
    head = (
        "<tr><th>Registration number</th><th>Service</th><th>Applicant IIN</th><th>Mode</th><th>Status</th>"
        "<th>Current step</th><th>Role</th><th>Step due</th><th>Deadline</th><th>Overdue</th></tr>"
    )
    rows = "".join(_inbox_row(c, services.get(c["serviceId"])) for c in cases)
    rows = rows or '<tr><td colspan="10">No requests in this inbox.</td></tr>'
    return _page("Inbox", f"{tabs}<table>\n<thead>{head}</thead>\n<tbody>\n{rows}</tbody>\n</table>")


def _inbox_row(case: Mapping[str, Any], service: Service | None) -> str:
    current = next((s for s in case["steps"] if s["n"] == case["currentStep"]), None)
    title = _kk(service.titles.kk) if service else ""
    cells = [
        f'<a href="{html.escape(case_path(case["id"]))}">{html.escape(case["id"])}</a>',
        f"{title}<br><small>{html.escape(case['serviceId'])}</small>",
        escape_or_dash(case["applicantIin"]),
        escape_or_dash(case["mode"]),
        escape_or_dash(case["status"]),
        escape_or_dash(current["n"] if current else None),
        escape_or_dash(current["role"] if current else None),
        _time(current["dueAt"] if current else None),
        _time(case["deadline"]),
        _overdue(case),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>\n"


@dataclass(frozen=True)
class CaseView:
    """What the case page shows: the case as the workstation describes it, and around it."""

    case: dict[str, Any]
    service: Service | None
    provider: Provider
    providers: Providers
    choices: list[Employee]  # who may complete the current step
    token: str
    result_xml: str | None = None
    refusal: Refusal | None = None
    posted: Mapping[str, str] | None = None  # the form as it was sent, shown again with a refusal


def case_page(view: CaseView) -> str:
    case, service, provider = view.case, view.service, view.provider
    current = next((s for s in case["steps"] if s["n"] == case["currentStep"]), None)
    fields = [
        ("Registration number", html.escape(case["id"])),
        ("Service", f"{_kk(service.titles.kk if service else None)} <small>({html.escape(case['serviceId'])})</small>"),
        ("Service (ru)", _ru(service.titles.ru if service else None)),
        ("Provider", f"{_kk(provider.names.kk)} · BIN {html.escape(provider.bin)}"),
        ("Applicant IIN", escape_or_dash(case["applicantIin"])),
        ("Sender / messageId", f"{escape_or_dash(case['senderId'])} / {escape_or_dash(case['messageId'])}"),
        ("Mode", escape_or_dash(case["mode"])),
        ("Status", escape_or_dash(case["status"])),
        ("Received", _time(case["receivedAt"])),
        ("Deadline", _time(case["deadline"])),
        ("Overdue", _overdue(case) or "no"),
        ("Closed", _time(case["closedAt"])),
        ("Refusal ground", escape_or_dash(case["refusalGround"])),
        ("Current step", f'<span id="current-step">{escape_or_dash(case["currentStep"])}</span>'),
    ]
    summary = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in fields)
    head = (
        "<tr><th>n</th><th>Role</th><th>Action</th><th>Duration</th><th>Started</th><th>Due</th><th>Done</th>"
        "<th>By</th><th>Outcome</th><th>Ground</th></tr>"
    )
    steps = "".join(_step_row(s, s is current, service, view.providers) for s in case["steps"])
    body = (
        (view.refusal.block() if view.refusal else "")
        + f'<p><a href="{HOME}?{html.escape(urlencode({"provider": provider.id}))}">← the inbox</a></p>'
        + f'<table class="fields">{summary}</table>\n<h2>Steps</h2>\n'
        + f'<table id="steps">\n<thead>{head}</thead>\n<tbody>\n{steps}</tbody>\n</table>\n'
    )
    if current is not None and case["mode"] == "manual":
        body += _step_form(case["id"], current, view)
    elif current is not None:
        body += (
            f"<p>The autopilot works this request. To work it by hand, set the service to manual on the "
            f'<a href="{POLICIES_PATH}">policies</a> page (requests received from then on).</p>'
        )
    if case["status"] in ("approved", "refused"):
        body += _result_section(view.result_xml)
    return _page(f"Request {case['id']}", body)


def _step_row(step: Mapping[str, Any], is_current: bool, service: Service | None, providers: Providers) -> str:
    action = step_action_kk(service, step["n"], step["action"])
    cells = [
        html.escape(step["n"]),
        html.escape(step["role"]),
        _kk(action) if action else escape_or_dash(step["action"]),
        escape_or_dash(step["duration"]),
        _time(step["startedAt"]),
        _time(step["dueAt"]),
        _time(step["doneAt"]),
        _employee(providers, step["doneBy"]),
        escape_or_dash(step["outcome"]),
        escape_or_dash(step["ground"]),
    ]
    marks = ' class="current" aria-current="step"' if is_current else ""
    return f'<tr data-step="{html.escape(step["n"])}"{marks}>' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>\n"


def _step_form(case_id: str, step: Mapping[str, Any], view: CaseView) -> str:
    posted = view.posted or {}
    options = "".join(
        f'<option value="{html.escape(e.id)}"{" selected" if posted.get("employee") == e.id else ""}>'
        f"{html.escape(e.full_name)} · {html.escape(', '.join(e.roles))}</option>"
        for e in view.choices
    )
    refused = posted.get("outcome") == "refused"
    action = f"{case_path(case_id)}/steps/{quote(step['n'], safe='')}"
    return (
        f"<h2>Complete step {html.escape(step['n'])}</h2>\n"
        f'<form class="step" id="complete-step" method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="{TOKEN_FIELD}" value="{html.escape(view.token)}">'
        f'<label>Employee ({html.escape(step["role"])})<select name="employee" required>'
        f'<option value="">— choose —</option>{options}</select></label>'
        "<fieldset><legend>Outcome</legend>"
        f'<label><input type="radio" name="outcome" value="done"{"" if refused else " checked"}> done</label>'
        f'<label><input type="radio" name="outcome" value="refused"{" checked" if refused else ""}> refused</label>'
        "</fieldset>"
        f'<label>Ground (a refusal needs one)<textarea name="ground" maxlength="{MAX_TEXT}">'
        f"{html.escape(posted.get('ground', ''))}</textarea></label>"
        f'<button type="submit">Complete step {html.escape(step["n"])}</button></form>\n'
    )


def _result_section(result_xml: str | None) -> str:
    if not result_xml:
        return "<h2>Result</h2>\n<p>The result e-document is being signed: reload the page in a moment.</p>\n"
    shown, _ = display_xml(result_xml)
    signer = result_signer(result_xml)
    return (
        '<h2>Result e-document</h2>\n<section id="result">'
        f'<p>Signed by <strong id="result-signer">{escape_or_dash(signer)}</strong> with the provider\'s EDS.</p>'
        f'<pre id="result-xml">{html.escape(shown)}</pre></section>\n'
    )


def not_found_page(refusal: Refusal) -> str:
    return _page("Not found", f'{refusal.block()}<p><a href="{HOME}">← the inbox</a></p>')


@dataclass(frozen=True)
class PolicyRow:
    service: Service
    provider: Provider
    policy: Policy
    token: str


def policies_page(rows: list[PolicyRow], refused: tuple[str, Refusal] | None = None) -> str:
    """Per service: how the workstation works it, and a form to change that."""
    head = (
        "<tr><th>Service</th><th>Provider</th><th>Mode</th><th>Decision</th><th>Refusal ground</th>"
        "<th>Refuse at step</th><th>Scale</th><th>Change</th></tr>"
    )
    refused_id, refusal = refused if refused else (None, None)
    in_row = any(r.service.id == refused_id for r in rows)
    body = "".join(_policy_row(r, refusal if r.service.id == refused_id else None) for r in rows)
    top = refusal.block() if refusal and not in_row else ""  # a service the catalogue does not have
    note = (
        "<p>A policy applies to requests received from then on: <em>autopilot</em> approves or refuses on its "
        "own with the regulation's durations times the scale; <em>manual</em> leaves every step to the "
        "employees.</p>"
    )
    return _page("Policies", f"{top}{note}<table>\n<thead>{head}</thead>\n<tbody>\n{body}</tbody>\n</table>")


def _policy_row(row: PolicyRow, refusal: Refusal | None) -> str:
    service, policy = row.service, row.policy
    auto = policy.autopilot

    def select(name: str, values: tuple[str, ...], chosen: str) -> str:
        options = "".join(f'<option value="{v}"{" selected" if v == chosen else ""}>{v}</option>' for v in values)
        return f'<label>{name}<select name="{name}">{options}</select></label>'

    action = f"{POLICIES_PATH}/{quote(service.id, safe='')}"
    form = (
        f'<form class="policy" method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="{TOKEN_FIELD}" value="{html.escape(row.token)}">'
        f"{select('mode', ('autopilot', 'manual'), policy.mode)}"
        f"{select('decision', ('approve', 'refuse'), auto.decision)}"
        f'<label>refusalGround<input name="refusalGround" maxlength="{MAX_TEXT}" '
        f'value="{html.escape(auto.refusal_ground or "")}"></label>'
        f'<label>refuseAtStep<input name="refuseAtStep" maxlength="16" size="4" '
        f'value="{html.escape(auto.refuse_at_step or "")}"></label>'
        f'<label>scale<input name="scale" type="number" min="0.000001" max="1000" step="any" size="6" '
        f'value="{auto.scale}"></label>'
        '<button type="submit">Save</button></form>'
    )
    cells = [
        f"{_kk(service.titles.kk)}<br><small>{html.escape(service.id)}</small>",
        _kk(row.provider.names.kk),
        html.escape(policy.mode),
        html.escape(auto.decision),
        escape_or_dash(auto.refusal_ground),
        escape_or_dash(auto.refuse_at_step),
        escape_or_dash(auto.scale),
        (refusal.block() if refusal else "") + form,
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells[:-1]) + f'<td class="change">{cells[-1]}</td>'
    return f'<tr id="policy-{html.escape(service.id)}">{tds}</tr>\n'


# -- the routes ------------------------------------------------------------------------------------
def workstation_pages(kernel: Kernel, station: RegionalWorkstation) -> APIRouter:
    """The workstation's pages (``/rshep/``, ``/rshep/cases/…``, ``/rshep/policies``)."""
    router = APIRouter(prefix=PREFIX, tags=["workstation pages"], default_response_class=HTMLResponse)
    services = {s.id: s for s in kernel.services}

    def refusal_of(error: CodedError, **params: object) -> Refusal:
        entry = kernel.refusals.get(error.code)
        if entry is None:  # a code missing from the catalogue is a bug: say so, do not hide it
            log.error("code %s is not in the refusal catalogue", error.code)
            entry = kernel.refusals.get("INTERNAL_ERROR")
            assert entry is not None
        return Refusal(entry.code, entry.http_status, entry.messages(params | error.params), error.detail)

    def token_for(request: Request, purpose: str) -> str:
        return form_token(kernel.admin_token, request.cookies.get(COOKIE, ""), purpose)

    def check_token(request: Request, fields: Mapping[str, str], purpose: str) -> None:
        session = request.cookies.get(COOKIE, "")
        if not form_token_is_valid(fields.get(TOKEN_FIELD, ""), kernel.admin_token, session, purpose):
            raise CodedError("REQUEST_INVALID", "the form token is missing or not this session's: reload the page")

    def back_to(request: Request) -> str:
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")

    async def render_case(
        request: Request, case_id: str, refusal: Refusal | None = None, posted: Mapping[str, str] | None = None
    ) -> Response:
        try:
            case = await station.case(case_id)
            result = await station.result_xml(case_id) if case["status"] in ("approved", "refused") else None
        except CodedError as error:
            missing = refusal_of(error)
            return html_response(not_found_page(missing), missing.status)
        current = next((s for s in case["steps"] if s["n"] == case["currentStep"]), None)
        view = CaseView(
            case=case,
            service=services.get(case["serviceId"]),
            provider=station.providers.provider(case["providerId"]),
            providers=station.providers,
            choices=employees_for_step(station.providers, case["providerId"], current["role"]) if current else [],
            token=token_for(request, f"case:{case_id}"),
            result_xml=result,
            refusal=refusal,
            posted=posted,
        )
        return html_response(case_page(view), refusal.status if refusal else 200)

    async def render_policies(request: Request, refused: tuple[str, Refusal] | None = None) -> Response:
        rows = []
        for s in kernel.services:
            provider = station.providers.provider_for(s.id)
            rows.append(PolicyRow(s, provider, await station.policy(s.id), token_for(request, f"policy:{s.id}")))
        return html_response(policies_page(rows, refused), refused[1].status if refused else 200)

    @router.get("/", summary="the inbox: requests of a provider (?provider=), newest first")
    async def inbox(request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, back_to(request))
        asked = request.query_params.get("provider", "")
        selected = asked if any(p.id == asked for p in station.providers.providers) else None
        listed = await station.list(selected)
        # the list leaves the steps out: an open case's current step and its role need them
        cases = [await station.case(c["id"]) if c["currentStep"] else c | {"steps": []} for c in listed]
        return html_response(inbox_page(station.providers, services, cases, selected))

    @router.get("/cases/{case_id}", summary="one request: its steps; the current one's form in manual mode")
    async def case(case_id: str, request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, back_to(request))
        return await render_case(request, case_id)

    @router.post("/cases/{case_id}/steps/{n}", summary="an employee completes the current step (form post)")
    async def complete(case_id: str, n: str, request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, case_path(case_id))
        fields = posted_fields(await request.body())
        try:
            check_token(request, fields, f"case:{case_id}")
            step = read_form(StepForm, fields)
            await station.complete(case_id, n, step.employee, step.outcome, step.ground)
        except CodedError as error:
            return await render_case(request, case_id, refusal_of(error), fields)
        return see_other(case_path(case_id))

    @router.get("/policies", summary="per service: autopilot or manual, decision, ground, scale")
    async def policies(request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, back_to(request))
        return await render_policies(request)

    @router.post("/policies/{service_id}", summary="change how the workstation works a service (form post)")
    async def set_policy(service_id: str, request: Request) -> Response:
        if not signed_in(kernel, request):
            return sign_in_required(kernel, request, POLICIES_PATH)
        fields = posted_fields(await request.body())
        try:
            check_token(request, fields, f"policy:{service_id}")
            await station.set_policy(service_id, read_form(PolicyForm, fields).policy())
        except CodedError as error:
            return await render_policies(request, (service_id, refusal_of(error, service_id=service_id)))
        return see_other(f"{POLICIES_PATH}#policy-{quote(service_id, safe='')}")

    return router
