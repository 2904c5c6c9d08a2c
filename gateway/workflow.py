"""ЭҮАШ АЖО / АРМ РШЭП, the providers' regional gateway workstation: how a case is worked.

A request that reaches a provider (from the portal through ЭҮШ / ШЭП, or from the ХҚО / ЦОН
operator) becomes a *case* in the provider's inbox. It is registered there, the provider checks
the documents and the grounds, the case goes through the service's internal steps (the
regulation's items 5–6, ``service.routes[i].steps``) in order, each by its role and within its
duration on the simulated clock, and it ends with the result e-document or a reasoned refusal
with its ground.

This is the plain core: no web framework, no database, no clock reading. Every function takes
the simulated ``now`` and the calendar, changes the given :class:`Case` in place and returns the
:class:`Event` s it caused (the case keeps them too, in ``case.events``), so the same inputs
always give the same case.

Two modes: *manual*, where employees complete each step (:func:`complete_step`), and
*autopilot*, where a per-service :class:`AutopilotPolicy` approves or refuses and every step
takes exactly its regulated duration (:func:`autopilot_advance`).

Trace labels are those of the service's own chain where the catalogue has one, else those of
ARCHITECTURE.md's chain table (see :func:`chain_labels`); an internal step is ``<route>:<n>``,
as the catalogue's notices name them (``provider:3``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, get_args

from pydantic import Field, model_validator

from egovsim.calendar import PROVIDER_HOURS, STATE_CORPORATION_HOURS, KazakhstanCalendar, WorkingHours, to_almaty
from egovsim.catalog.models import Chain, Service, Strict, Texts
from egovsim.errors import CodedError

Channel = Literal["portal", "hqo", "office"]
CaseStatus = Literal["registered", "in_progress", "approved", "refused"]
StepOutcome = Literal["done", "refused", "skipped"]
EventOutcome = Literal["ok", "refused"]

# The roles an employee of the provider holds at the workstation. Every other actor role of the
# catalogue (recipient, representative, hqo_*, rural_akim*, pension_centre) belongs to someone
# outside the provider, and "provider" names the organisation as a whole: such a step is recorded
# at the workstation by any of the provider's employees.
WorkstationRole = Literal[
    "office_clerk",
    "head",
    "department_head",
    "responsible_executor",
    "executor",
    "specialists",
    "commission",
    "pedagogical_council",
]
WORKSTATION_ROLES: frozenset[str] = frozenset(get_args(WorkstationRole))
# The roles of the State Corporation's staff (ХҚО / ЦОН) in the services' ХҚО routes: the paper relay
# between the Centre and the provider runs at the workstation too (gateway/data/providers.yaml).
CentreRole = Literal["hqo_employee", "hqo_accumulation_dept"]
CENTRE_ROLES: frozenset[str] = frozenset(get_args(CentreRole))
STAFF_ROLES: frozenset[str] = WORKSTATION_ROLES | CENTRE_ROLES
RESULT_ISSUED = "RESULT_ISSUED"

AUTOPILOT = "autopilot"
REFUSAL_CODE = "REASONED_REFUSAL"  # refusal catalogue: provider:decision, with {ground}


class WorkflowError(CodedError):
    """A case cannot move that way. Codes: ``CASE_ROUTE_UNKNOWN``, ``CASE_VARIANT_UNKNOWN``,
    ``CASE_CHANNEL_UNAVAILABLE``, ``CASE_CLOSED``, ``CASE_STEP_UNKNOWN``, ``CASE_STEP_NOT_CURRENT``,
    ``CASE_WRONG_ROLE``, ``CASE_TIME_BEFORE_START``, ``CASE_BAD_GROUND``, ``CASE_SCALE_MISMATCH``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.message = message


class Performer(Protocol):
    """Who completes a step in manual mode (a :class:`gateway.providers.Employee` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def roles(self) -> Sequence[str]: ...


# -- the plan of a route ------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedStep:
    """One internal step as the case will run it.

    ``value`` is the regulated limit: the upper bound of a range (a 90–180-day course is due after
    180 days), 0 where the seed states no duration; ``unit`` is None exactly then.
    """

    n: str
    role: str
    action: Texts
    value: int
    unit: str | None
    condition: str | None = None

    @property
    def duration_text(self) -> str:
        return "not stated" if self.unit is None else f"{self.value} {self.unit}"


_LETTERED = re.compile(r"^([0-9]+)[a-z]$")


def plan_route(service: Service, route_id: str, variants: Collection[str] = frozenset()) -> list[PlannedStep]:
    """The steps of one route in order, one per slot.

    A slot is a step with its alternatives: the steps whose ``variant_of`` names it, and the
    lettered siblings the catalogue lists without ``variant_of`` (foreign_labour_permit 3a/3b,
    4a/4b/4c). The first step of a slot runs unless ``variants`` names another one of it.
    A step with a ``condition`` but no alternative (foreign_labour_permit 6) runs. The steps after
    the route's last issuing step (the catalogue's ``RESULT_ISSUED`` notice) are not the case's:
    visitation_permit's ХҚО steps 5–6 keep a result nobody collected, which the State Corporation
    does at its front door (standard 002 item 9), not the provider's workstation.
    """
    try:
        route = service.route(route_id)
    except KeyError:
        known = ", ".join(r.id for r in service.routes)
        raise WorkflowError("CASE_ROUTE_UNKNOWN", f"{service.id} has no route {route_id!r} (it has {known})") from None
    slot_of: dict[str, str] = {}
    slot_by_stem: dict[str, str] = {}
    slots: dict[str, list[str]] = {}
    for step in route.steps:
        lettered = _LETTERED.match(step.n)
        if step.variant_of is not None:
            slot = slot_of.get(step.variant_of, step.variant_of)
        elif lettered is not None:
            slot = slot_by_stem.setdefault(lettered.group(1), step.n)
        else:
            slot = step.n
        slot_of[step.n] = slot
        slots.setdefault(slot, []).append(step.n)
    issued_at = issuing_steps(service, route_id)
    issuing = [i for i, s in enumerate(route.steps) if s.n in issued_at]
    after_issue = {s.n for s in route.steps[max(issuing) + 1 :]} if issuing else set()
    chosen = {members[0] for members in slots.values()} - after_issue
    for n in sorted(variants):
        if n not in slot_of or slots[slot_of[n]][0] == n:
            raise WorkflowError("CASE_VARIANT_UNKNOWN", f"{route_id}:{n} is not an alternative step of {service.id}")
        default = slots[slot_of[n]][0]
        if default not in chosen:
            raise WorkflowError(
                "CASE_VARIANT_UNKNOWN", f"{route_id}:{n}: another alternative to step {default} is asked"
            )
        chosen = (chosen - {default}) | {n}
    plan = []
    for step in route.steps:
        if step.n not in chosen:
            continue
        d = step.duration
        plan.append(
            PlannedStep(
                n=step.n,
                role=step.actor.role,
                action=step.action,
                value=0 if d is None else (d.max_value if d.max_value is not None else d.value),
                unit=None if d is None else d.unit.value,
                condition=step.condition,
            )
        )
    return plan


def issuing_steps(service: Service, route_id: str) -> list[str]:
    """The steps of a route where the result is issued to the recipient, as the catalogue's
    ``RESULT_ISSUED`` notices name them (``provider:5`` gives ``5``), in the notices' order."""
    prefix = f"{route_id}:"
    return [
        n.step.removeprefix(prefix)
        for n in service.notices
        if n.code == RESULT_ISSUED and n.step is not None and n.step.startswith(prefix)
    ]


def route_for(service: Service, channel: Channel) -> str:
    """The route a request of this channel follows: a ХҚО request of a service whose ХҚО route is a
    paper one (a route ``hqo`` and no numbered ``hqo_chain``: the package goes by hand between the
    Centre and the provider) follows that route; everything else the service's first route."""
    if channel == "hqo" and service.hqo_chain is None and any(r.id == "hqo" for r in service.routes):
        return "hqo"
    return service.routes[0].id


def _hours(role: str) -> WorkingHours:
    # Standard 002 item 8.2: the State Corporation works Monday to Saturday without lunch;
    # everyone else keeps the provider's hours of item 8.1.
    return STATE_CORPORATION_HOURS if role.startswith("hqo_") else PROVIDER_HOURS


def _scaled(start: datetime, due: datetime, scale: float) -> datetime:
    if scale < 0:
        raise ValueError("scale must not be below 0")
    return due if scale == 1 else start + (due - start) * scale


def step_due(start: datetime, step: PlannedStep, calendar: KazakhstanCalendar, scale: float = 1.0) -> datetime:
    """When a step begun at ``start`` is due: :meth:`KazakhstanCalendar.deadline` for its unit.

    A step without a stated duration is due at once. ``scale`` multiplies the elapsed time
    (0.001 for a demo): the unscaled due time is computed first, then the span is scaled.
    """
    start = to_almaty(start)
    if step.unit is None:
        return start
    return _scaled(start, calendar.deadline(start, step.value, step.unit, _hours(step.role)), scale)


# -- trace labels -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainLabels:
    """The chain steps the workstation emits: registration, the provider's check, the refusal,
    the result, and the refusal catalogue code of the result."""

    registered: str
    check: str | None
    refused: str
    result: str
    result_code: str


# ARCHITECTURE.md's chain table. Portal: 5-процесс brings the request to ЭҮАШ АЖО, 3-шарт is the
# provider's check, 6-процесс the refusal, 7-процесс the result. ХҚО: 6-процесс registers it,
# 2-шарт checks, 7-процесс refuses, 8-процесс gives the result. A request handed in at the
# provider's office runs on no information-system chain, so its labels are plain words; its result
# is ready at the office when the case closes, and issued when the recipient collects it.
DEFAULT_LABELS: dict[Channel, ChainLabels] = {
    "portal": ChainLabels(
        "portal:5-процесс", "portal:3-шарт", "portal:6-процесс", "portal:7-процесс", "RESULT_IN_CABINET"
    ),
    "hqo": ChainLabels("hqo:6-процесс", "hqo:2-шарт", "hqo:7-процесс", "hqo:8-процесс", "HQO_RESULT_ISSUED"),
    "office": ChainLabels("office:registered", None, "office:refused", "office:result", "RESULT_READY_AT_OFFICE"),
}
_DOCUMENT_REFUSALS = ("DOCS_DEFECTIVE", "HQO_DOCS_DEFECTIVE")


def chain_labels(service: Service, channel: Channel) -> ChainLabels:
    """The labels for one service and channel, read from the service's own chain where it has one.

    In the chain, the refusal is the step carrying the documents refusal, the check the
    condition that fails to it, the registration the step just before the check, and the result
    the last process step (foreign_labour_permit's is 9-процесс). What the chain lacks comes from
    :data:`DEFAULT_LABELS`; a chain without a provider check (the kindergarten queue) has none.
    """
    default = DEFAULT_LABELS[channel]
    chain: Chain | None = {"portal": service.portal_chain, "hqo": service.hqo_chain}.get(channel)
    if chain is None:
        return default
    steps = chain.steps
    refusal = next((s for s in steps if s.refusal_code in _DOCUMENT_REFUSALS), None)
    check = next((s for s in steps if refusal is not None and s.on_failure == refusal.label), None)
    result = next((s for s in reversed(steps) if s.kind == "process" and s.refusal_code is None), None)
    registered = steps[steps.index(check) - 1] if check is not None else None
    return ChainLabels(
        registered=f"{channel}:{registered.label}" if registered else default.registered,
        check=f"{channel}:{check.label}" if check else None,
        refused=f"{channel}:{refusal.label}" if refusal else default.refused,
        result=f"{channel}:{result.label}" if result else default.result,
        result_code=default.result_code,
    )


# -- the case -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One trace event: the regulation step label, its outcome, when, and what it concerned."""

    label: str
    outcome: EventOutcome
    at: datetime
    step_n: str | None = None
    code: str | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class CaseStep:
    plan: PlannedStep
    started_at: datetime | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: StepOutcome | None = None
    ground: str | None = None

    @property
    def n(self) -> str:
        return self.plan.n

    @property
    def role(self) -> str:
        return self.plan.role


@dataclass
class Case:
    """A request in a provider's inbox, from registration to result or refusal.

    ``regulation_limit`` is the service's overall deadline (value, unit) when the seed states one.
    """

    service_id: str
    route_id: str
    channel: Channel
    received_at: datetime
    steps: list[CaseStep]
    labels: ChainLabels
    regulation_limit: tuple[int, str] | None = None
    scale: float = 1.0
    status: CaseStatus = "registered"
    closed_at: datetime | None = None
    refusal_ground: str | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status in ("approved", "refused")

    def current_step(self) -> CaseStep | None:
        """The step under way (begun, not done), or None once the case is closed."""
        return next((s for s in self.steps if s.started_at is not None and s.done_at is None), None)

    def step(self, n: str) -> CaseStep:
        for s in self.steps:
            if s.n == n:
                return s
        raise WorkflowError("CASE_STEP_UNKNOWN", f"route {self.route_id} of {self.service_id} runs no step {n!r}")


def open_case(
    service: Service,
    route_id: str,
    received_at: datetime,
    calendar: KazakhstanCalendar,
    *,
    channel: Channel = "portal",
    variants: Collection[str] = frozenset(),
    scale: float = 1.0,
) -> Case:
    """Register a request in the provider's inbox; its first step starts at ``received_at``."""
    if not getattr(service.channels, channel).available:
        raise WorkflowError("CASE_CHANNEL_UNAVAILABLE", f"{service.id} is not received through {channel}")
    if scale < 0:
        raise ValueError("scale must not be below 0")
    received = to_almaty(received_at)
    overall = service.overall_deadline.duration if service.overall_deadline.stated else None
    case = Case(
        service_id=service.id,
        route_id=route_id,
        channel=channel,
        received_at=received,
        steps=[CaseStep(p) for p in plan_route(service, route_id, variants)],
        labels=chain_labels(service, channel),
        regulation_limit=None
        if overall is None
        else (overall.max_value if overall.max_value is not None else overall.value, overall.unit.value),
        scale=scale,
    )
    first = _start(case, case.steps[0], received, calendar)
    registered = Event(
        case.labels.registered,
        "ok",
        received,
        detail={"service_id": service.id, "route_id": route_id, "first_step": first.n, "due_at": _iso(first.due_at)},
    )
    case.events.append(registered)
    return case


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else to_almaty(moment).isoformat()


def _start(case: Case, step: CaseStep, at: datetime, calendar: KazakhstanCalendar) -> CaseStep:
    step.started_at = at
    step.due_at = step_due(at, step.plan, calendar, case.scale)
    return step


def _finish(
    case: Case,
    step: CaseStep,
    at: datetime,
    by: str,
    outcome: Literal["done", "refused"],
    ground: str | None,
    calendar: KazakhstanCalendar,
    code: str | None = None,
) -> list[Event]:
    step.done_at, step.done_by, step.outcome, step.ground = at, by, outcome, ground
    case.status = "in_progress"
    detail = {"role": step.role, "by": by, "duration": step.plan.duration_text, "due_at": _iso(step.due_at)}
    if step.due_at is not None and at > step.due_at:
        detail["late"] = "yes"
    events = [Event(f"{case.route_id}:{step.n}", "ok" if outcome == "done" else "refused", at, step.n, None, detail)]
    following = case.steps.index(step) + 1
    if outcome == "refused":
        events += _close(case, at, ground, code)
    elif following == len(case.steps):
        events += _close(case, at, None)
    else:
        _start(case, case.steps[following], at, calendar)
    case.events.extend(events)
    return events


def refuse_documents(case: Case, at: datetime, defects: Sequence[str]) -> list[Event]:
    """3-шарт (ХҚО: 2-шарт) fails on the documents themselves, at registration: the request ends
    at once with the documents refusal (portal 6-процесс ``DOCS_DEFECTIVE``, ХҚО 7-процесс
    ``HQO_DOCS_DEFECTIVE``), its ground the list of defects. No internal step runs."""
    if case.closed:
        raise WorkflowError("CASE_CLOSED", f"the case is already {case.status}")
    code = "HQO_DOCS_DEFECTIVE" if case.channel == "hqo" else "DOCS_DEFECTIVE"
    ground = "; ".join(defects)
    for s in case.steps:
        s.started_at = s.due_at = None
        s.outcome = "skipped"
    case.status, case.refusal_ground, case.closed_at = "refused", ground, at
    events = []
    if case.labels.check:
        events.append(Event(case.labels.check, "refused", at, code=code, detail={"defects": ground}))
    events.append(Event(case.labels.refused, "refused", at, code=code, detail={"ground": ground}))
    case.events.extend(events)
    return events


def _close(case: Case, at: datetime, ground: str | None, code: str | None = None) -> list[Event]:
    """The provider's check concludes and the case ends with the result or the reasoned refusal."""
    for s in case.steps:
        if s.started_at is None:
            s.outcome = "skipped"
    case.closed_at = at
    events = []
    if ground is None:
        case.status = "approved"
        if case.labels.check:
            events.append(Event(case.labels.check, "ok", at))
        events.append(Event(case.labels.result, "ok", at, code=case.labels.result_code))
    else:
        case.status, case.refusal_ground = "refused", ground
        if case.labels.check:
            events.append(Event(case.labels.check, "refused", at, code=code or REFUSAL_CODE))
        events.append(Event(case.labels.refused, "refused", at, code=code or REFUSAL_CODE, detail={"ground": ground}))
    return events


# -- autopilot ----------------------------------------------------------------------------------
class AutopilotPolicy(Strict):
    """How the workstation answers a service by itself: approve, or refuse on a given ground.

    ``refuse_at_step`` is the step whose completion ends the case refused (by default the last
    one, so a refusal still goes through every step); ``scale`` shrinks or stretches step delays
    and must equal the scale the case was opened with. ``refusal_code`` is the refusal's code in
    the catalogue where the regulation names a particular one (oralman status: the recipient is
    registered in another oblast, ``ORALMAN_REGISTERED_ELSEWHERE``); by default the reasoned
    refusal ``REASONED_REFUSAL``.
    """

    decision: Literal["approve", "refuse"] = "approve"
    refusal_ground: str | None = Field(default=None, min_length=1)
    scale: float = Field(default=1.0, ge=0)  # 0: every step done the moment it starts
    refuse_at_step: str | None = None
    refusal_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)

    @model_validator(mode="after")
    def _refusal_has_ground(self) -> AutopilotPolicy:
        # A refusal is a reasoned answer (дәлелді жауап) naming its ground (regulation 001, item 3).
        if self.decision == "refuse" and self.refusal_ground is None:
            raise ValueError("a refusal needs its ground: give refusal_ground")
        if self.decision == "approve" and (
            self.refusal_ground is not None or self.refuse_at_step is not None or self.refusal_code is not None
        ):
            raise ValueError("refusal_ground, refuse_at_step and refusal_code go with decision 'refuse' only")
        return self


def autopilot_advance(case: Case, now: datetime, calendar: KazakhstanCalendar, policy: AutopilotPolicy) -> list[Event]:
    """Complete every step due by ``now``, each at exactly its due time, the next starting then.

    Calling it again with the same ``now`` adds nothing; a closed case adds nothing.
    """
    if policy.scale != case.scale:
        raise WorkflowError("CASE_SCALE_MISMATCH", f"the case runs at scale {case.scale}, the policy at {policy.scale}")
    refuse_at: str | None = None
    if policy.decision == "refuse":
        refuse_at = case.step(policy.refuse_at_step).n if policy.refuse_at_step else case.steps[-1].n
    events: list[Event] = []
    while (step := case.current_step()) is not None and step.due_at is not None and step.due_at <= now:
        refusing = step.n == refuse_at
        outcome: Literal["done", "refused"] = "refused" if refusing else "done"
        ground = policy.refusal_ground if refusing else None
        events += _finish(case, step, step.due_at, AUTOPILOT, outcome, ground, calendar, policy.refusal_code)
    return events


# -- manual mode --------------------------------------------------------------------------------
def complete_step(
    case: Case,
    n: str,
    by: Performer,
    now: datetime,
    calendar: KazakhstanCalendar,
    outcome: Literal["done", "refused"] = "done",
    ground: str | None = None,
) -> list[Event]:
    """An employee completes the current step at ``now``; ``refused`` ends the case on ``ground``."""
    if case.closed:
        raise WorkflowError("CASE_CLOSED", f"the case is already {case.status}")
    step = case.step(n)
    current = case.current_step()
    if current is None or current is not step or step.started_at is None:
        where = f"step {current.n} is" if current else "no step is"
        raise WorkflowError("CASE_STEP_NOT_CURRENT", f"step {n} is not under way: {where}")
    if step.role in STAFF_ROLES and step.role not in by.roles:
        raise WorkflowError("CASE_WRONG_ROLE", f"step {n} is the {step.role}'s; {by.id} holds {', '.join(by.roles)}")
    if now < step.started_at:
        raise WorkflowError("CASE_TIME_BEFORE_START", f"step {n} began at {_iso(step.started_at)}, after {_iso(now)}")
    if (outcome == "refused") != bool(ground):
        raise WorkflowError("CASE_BAD_GROUND", "a refusal needs its ground; a completed step takes none")
    return _finish(case, step, to_almaty(now), by.id, outcome, ground, calendar)


# -- the regulation deadline --------------------------------------------------------------------
def regulation_deadline(case: Case, calendar: KazakhstanCalendar) -> datetime:
    """The service's overall deadline from ``received_at`` when the seed states one, else the
    sum of the planned steps, on the same scale as the case."""
    if case.regulation_limit is not None:
        value, unit = case.regulation_limit
        return _scaled(case.received_at, calendar.deadline(case.received_at, value, unit), case.scale)
    moment = case.received_at
    for s in case.steps:
        moment = step_due(moment, s.plan, calendar, case.scale)
    return moment


def overdue(case: Case, now: datetime, calendar: KazakhstanCalendar) -> bool:
    """Past the regulation deadline: still open after it at ``now``, or closed after it."""
    moment = case.closed_at if case.closed_at is not None else now
    return moment > regulation_deadline(case, calendar)
