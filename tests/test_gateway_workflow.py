"""ЭҮАШ АЖО / АРМ РШЭП case processing: registration, internal steps on the simulated clock,
result or reasoned refusal, overdue flags; and the demo providers that staff the workstation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import get_args

import pytest
import yaml
from pydantic import ValidationError

from egovsim.calendar import ALMATY, KazakhstanCalendar
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.models import Actor, Service
from egovsim.errors import CatalogError
from egovsim.iin import is_valid_number
from gateway.providers import default_providers_file, load_providers
from gateway.workflow import (
    WORKSTATION_ROLES,
    AutopilotPolicy,
    Case,
    WorkflowError,
    autopilot_advance,
    chain_labels,
    complete_step,
    open_case,
    overdue,
    plan_route,
    regulation_deadline,
    step_due,
)

CATALOG = ServiceCatalog.load()
CAL = KazakhstanCalendar()
PROVIDERS = load_providers(CATALOG)
PERSONAS = Path(__file__).resolve().parents[1] / "egovsim" / "data" / "personas.yaml"
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ALMATY)


def service(service_id: str) -> Service:
    found = CATALOG.get(service_id)
    assert found is not None, service_id
    return found


def foster_case(scale: float = 1.0) -> Case:
    # Monday 2 March 2026, a working day (8 March falls on the following Sunday)
    start = at("2026-03-02T10:00")
    assert start.weekday() == 0 and CAL.is_working_day(start.date())
    return open_case(service("foster_care_patronage_placement"), "provider", start, CAL, scale=scale)


def done_deltas(case: Case) -> list[timedelta]:
    times = [case.received_at] + [s.done_at for s in case.steps if s.done_at is not None]
    return [b - a for a, b in pairwise(times)]


# -- autopilot, calendar days (seed 001, foster care) -------------------------------------------
def test_foster_care_autopilot_takes_30_minutes_then_1_27_1_1_calendar_days() -> None:
    case = foster_case()
    policy = AutopilotPolicy()
    opened_as = case.status
    assert opened_as == "registered"
    assert [e.label for e in case.events] == ["portal:5-процесс"]
    assert case.steps[0].started_at == case.received_at and case.steps[0].due_at == at("2026-03-02T10:30")

    expected = [at("2026-03-02T10:30"), at("2026-03-03T10:30"), at("2026-03-30T10:30"), at("2026-03-31T10:30")]
    expected.append(at("2026-04-01T10:30"))
    for n, due in enumerate(expected, start=1):
        assert autopilot_advance(case, due - SECOND, CAL, policy) == []  # not yet due
        events = autopilot_advance(case, due, CAL, policy)
        assert events[0].label == f"provider:{n}" and events[0].at == due
        assert case.step(str(n)).done_at == due  # done at its due time, not at "now"

    assert done_deltas(case) == [timedelta(minutes=30), DAY, 27 * DAY, DAY, DAY]
    assert case.status == "approved" and case.closed_at == at("2026-04-01T10:30")
    assert [e.label for e in case.events][-3:] == ["provider:5", "portal:3-шарт", "portal:7-процесс"]
    assert case.events[-1].code == "RESULT_IN_CABINET"
    # idempotent: the same instant, or any later one, adds nothing
    assert autopilot_advance(case, at("2026-04-01T10:30"), CAL, policy) == []
    assert autopilot_advance(case, at("2027-01-01T00:00"), CAL, policy) == []
    assert len(case.events) == 8


def test_autopilot_catching_up_late_completes_each_step_at_its_own_due_time() -> None:
    stepwise, at_once = foster_case(), foster_case()
    policy = AutopilotPolicy()
    for s in ("2026-03-02T10:30", "2026-03-03T10:30", "2026-03-30T10:30", "2026-03-31T10:30", "2026-04-01T10:30"):
        autopilot_advance(stepwise, at(s), CAL, policy)
    events = autopilot_advance(at_once, at("2026-06-01T00:00"), CAL, policy)
    assert [s.done_at for s in at_once.steps] == [s.done_at for s in stepwise.steps]
    assert [e.label for e in events] == [e.label for e in stepwise.events[1:]]


def test_a_step_begins_the_moment_the_previous_one_is_done() -> None:
    case = foster_case()
    autopilot_advance(case, at("2026-03-10T00:00"), CAL, AutopilotPolicy())
    assert case.step("2").started_at == case.step("1").done_at
    assert case.step("3").started_at == case.step("2").done_at == at("2026-03-03T10:30")
    assert case.step("3").due_at == at("2026-03-30T10:30") and case.current_step() is case.step("3")
    assert case.status == "in_progress"


# -- working days (Karaganda regulation, disability services) -----------------------------------
def test_working_day_steps_skip_the_weekend_the_8_march_carry_over_and_nauryz() -> None:
    wheelchair = service("disability_wheelchair_provision")
    assert {p.unit for p in plan_route(wheelchair, "provider")} == {"minutes", "working_days"}
    friday = at("2026-03-06T10:00")  # the Friday before 8 March (a Sunday, so Monday 9 March is off)
    assert friday.weekday() == 4 and not CAL.is_working_day(date(2026, 3, 9))
    case = open_case(wheelchair, "provider", friday, CAL, channel="office")
    autopilot_advance(case, at("2026-05-01T00:00"), CAL, AutopilotPolicy())

    done = [s.done_at for s in case.steps]
    assert done == [
        at("2026-03-06T10:30"),  # 30 minutes of opening time
        at("2026-03-10T10:30"),  # 1 working day: Saturday, Sunday and Monday 9 March are off
        at("2026-03-20T10:30"),  # 8 working days
        at("2026-03-26T10:30"),  # 1 working day: Nauryz 21-23 March plus the carried-over 24-25 March
        at("2026-03-26T11:00"),
    ]
    for moment in done:
        assert moment is not None and CAL.is_working_day(moment.date())
    assert case.status == "approved" and [e.label for e in case.events][-1] == "office:result"


def test_a_minutes_step_begun_near_closing_ends_after_the_next_opening() -> None:
    step = plan_route(service("disability_wheelchair_provision"), "provider")[0]
    # standard 002 item 8.1: the provider closes at 18:30 and opens at 09:00, weekends off
    assert step_due(at("2026-03-06T18:15"), step, CAL) == at("2026-03-10T09:15")


# -- refusal -------------------------------------------------------------------------------------
def test_refuse_policy_goes_through_every_step_and_ends_refused_with_its_ground() -> None:
    case = foster_case()
    policy = AutopilotPolicy(decision="refuse", refusal_ground="the housing conditions do not meet the requirements")
    autopilot_advance(case, at("2026-05-01T00:00"), CAL, policy)
    assert case.status == "refused" and case.closed_at == at("2026-04-01T10:30")
    assert case.refusal_ground == policy.refusal_ground
    assert [s.outcome for s in case.steps] == ["done", "done", "done", "done", "refused"]
    check, refusal = case.events[-2:]
    assert (check.label, check.outcome) == ("portal:3-шарт", "refused")
    assert (refusal.label, refusal.outcome, refusal.code) == ("portal:6-процесс", "refused", "REASONED_REFUSAL")
    assert refusal.detail["ground"] == policy.refusal_ground


def test_refusal_at_the_executors_step_ends_the_case_there_and_skips_the_rest() -> None:
    case = foster_case()
    policy = AutopilotPolicy(decision="refuse", refusal_ground="incomplete documents", refuse_at_step="3")
    autopilot_advance(case, at("2026-05-01T00:00"), CAL, policy)
    assert case.status == "refused" and case.closed_at == at("2026-03-30T10:30")
    assert [s.outcome for s in case.steps] == ["done", "done", "refused", "skipped", "skipped"]
    assert case.step("4").started_at is None


def test_a_refusal_policy_needs_its_ground() -> None:
    with pytest.raises(ValidationError, match="ground"):
        AutopilotPolicy(decision="refuse")
    with pytest.raises(ValidationError):
        AutopilotPolicy(decision="approve", refusal_ground="no reason")
    with pytest.raises(ValidationError):
        AutopilotPolicy(scale=-1)
    assert AutopilotPolicy(scale=0).scale == 0  # zero step delays: each step done as it starts
    with pytest.raises(ValidationError):
        AutopilotPolicy.model_validate({"decision": "approve", "speed": 2})


def test_refusing_at_a_step_the_route_does_not_run_is_an_error() -> None:
    policy = AutopilotPolicy(decision="refuse", refusal_ground="x", refuse_at_step="9")
    with pytest.raises(WorkflowError) as err:
        autopilot_advance(foster_case(), at("2026-05-01T00:00"), CAL, policy)
    assert err.value.code == "CASE_STEP_UNKNOWN"


# -- manual mode ---------------------------------------------------------------------------------
def test_employees_of_the_provider_work_the_case_by_hand() -> None:
    case = foster_case()
    clerk, head, executor = (PROVIDERS.employee(i) for i in ("aktobe_clerk", "aktobe_head", "aktobe_executor"))
    complete_step(case, "1", clerk, at("2026-03-02T10:20"), CAL)
    assert case.step("1").done_by == "aktobe_clerk" and case.step("2").started_at == at("2026-03-02T10:20")
    complete_step(case, "2", head, at("2026-03-02T15:00"), CAL)
    complete_step(case, "3", executor, at("2026-03-20T11:00"), CAL)
    complete_step(case, "4", head, at("2026-03-23T09:00"), CAL)  # calendar days: Nauryz does not stop them
    events = complete_step(case, "5", clerk, at("2026-03-23T12:00"), CAL)
    assert case.status == "approved" and case.closed_at == at("2026-03-23T12:00")
    assert [e.label for e in events] == ["provider:5", "portal:3-шарт", "portal:7-процесс"]
    assert not overdue(case, at("2026-12-31T00:00"), CAL)


def test_manual_mode_refuses_a_wrong_role_a_step_not_current_and_a_closed_case() -> None:
    case = foster_case()
    clerk, head, executor = (PROVIDERS.employee(i) for i in ("aktobe_clerk", "aktobe_head", "aktobe_executor"))
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "1", head, at("2026-03-02T10:10"), CAL)
    assert err.value.code == "CASE_WRONG_ROLE"
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "2", head, at("2026-03-02T10:10"), CAL)
    assert err.value.code == "CASE_STEP_NOT_CURRENT"
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "7", head, at("2026-03-02T10:10"), CAL)
    assert err.value.code == "CASE_STEP_UNKNOWN"
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "1", clerk, at("2026-03-02T09:59"), CAL)
    assert err.value.code == "CASE_TIME_BEFORE_START"
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "1", clerk, at("2026-03-02T10:10"), CAL, outcome="refused")
    assert err.value.code == "CASE_BAD_GROUND"

    complete_step(case, "1", clerk, at("2026-03-02T10:10"), CAL)
    complete_step(case, "2", head, at("2026-03-02T11:00"), CAL)
    events = complete_step(case, "3", executor, at("2026-03-05T11:00"), CAL, "refused", "the applicant is not eligible")
    assert case.status == "refused" and events[-1].detail == {"ground": "the applicant is not eligible"}
    with pytest.raises(WorkflowError) as err:
        complete_step(case, "4", head, at("2026-03-06T11:00"), CAL)
    assert err.value.code == "CASE_CLOSED"


def test_a_step_of_the_recipient_is_recorded_by_any_employee_and_takes_no_time_on_autopilot() -> None:
    queue = service("preschool_queue_registration")
    plan = plan_route(queue, "provider")
    assert (plan[0].role, plan[0].duration_text) == ("recipient", "not stated")
    start = at("2026-03-03T11:00")
    case = open_case(queue, "provider", start, CAL)
    assert case.steps[0].due_at == start
    autopilot_advance(case, start, CAL, AutopilotPolicy())
    assert case.step("1").done_at == start and case.step("2").due_at == start + timedelta(minutes=30)

    by_hand = open_case(queue, "provider", start, CAL)
    head = PROVIDERS.employee("kyzylorda_head")
    complete_step(by_hand, "1", head, start, CAL)  # recorded for the recipient
    with pytest.raises(WorkflowError, match="executor"):
        complete_step(by_hand, "2", head, start, CAL)


# -- the regulation deadline ---------------------------------------------------------------------
def test_a_case_is_overdue_only_after_the_overall_30_calendar_day_deadline() -> None:
    case = foster_case()
    deadline = regulation_deadline(case, CAL)
    assert deadline == at("2026-04-01T10:00")  # seed 001 item 8.11: within 30 calendar days
    assert not overdue(case, deadline, CAL)
    assert overdue(case, deadline + SECOND, CAL)


def test_foster_care_steps_at_full_length_overrun_the_30_days_by_30_minutes() -> None:
    # the seed's own arithmetic: 30 min + 1 + 27 + 1 + 1 calendar days (derived_note of the service)
    case = foster_case()
    autopilot_advance(case, at("2026-05-01T00:00"), CAL, AutopilotPolicy())
    assert case.closed_at is not None and case.closed_at - regulation_deadline(case, CAL) == timedelta(minutes=30)
    assert overdue(case, case.closed_at, CAL)


def test_without_an_overall_deadline_the_sum_of_the_steps_is_the_limit() -> None:
    wheelchair = service("disability_wheelchair_provision")
    assert not wheelchair.overall_deadline.stated
    case = open_case(wheelchair, "provider", at("2026-03-06T10:00"), CAL, channel="office")
    assert regulation_deadline(case, CAL) == at("2026-03-26T11:00")
    assert not overdue(case, at("2026-03-26T11:00"), CAL)
    assert overdue(case, at("2026-03-26T11:01"), CAL)


# -- scale ----------------------------------------------------------------------------------------
def test_scale_shrinks_every_delay_for_a_demo() -> None:
    case = foster_case(scale=0.001)
    policy = AutopilotPolicy(scale=0.001)
    assert case.steps[0].due_at == case.received_at + timedelta(seconds=1.8)
    autopilot_advance(case, case.received_at + timedelta(hours=1), CAL, policy)
    assert done_deltas(case) == [timedelta(seconds=s) for s in (1.8, 86.4, 27 * 86.4, 86.4, 86.4)]
    assert case.status == "approved"
    assert regulation_deadline(case, CAL) == case.received_at + timedelta(seconds=30 * 86.4)
    with pytest.raises(WorkflowError) as err:
        autopilot_advance(foster_case(scale=0.001), at("2026-05-01T00:00"), CAL, AutopilotPolicy())
    assert err.value.code == "CASE_SCALE_MISMATCH"


# -- plans, channels and labels --------------------------------------------------------------------
def test_variant_steps_replace_their_base_only_when_asked() -> None:
    semipalatinsk = service("semipalatinsk_victim_registration_compensation")
    assert [p.n for p in plan_route(semipalatinsk, "provider")] == ["1", "2", "3a", "4", "5"]
    certificate = plan_route(semipalatinsk, "provider", {"3b"})
    assert [p.n for p in certificate] == ["1", "2", "3b", "4", "5"] and certificate[2].value == 3
    # foreign_labour_permit lists its lettered alternatives without variant_of: the first runs
    labour = service("foreign_labour_permit")
    assert [p.n for p in plan_route(labour, "provider")] == ["1", "2", "3a", "4a", "5", "6", "7a"]
    assert [p.n for p in plan_route(labour, "provider", {"3b", "4c"})] == ["1", "2", "3b", "4c", "5", "6", "7a"]
    for bad in ({"3a"}, {"9"}, {"4b", "4c"}):
        with pytest.raises(WorkflowError) as err:
            plan_route(labour, "provider", bad)
        assert err.value.code == "CASE_VARIANT_UNKNOWN"
    with pytest.raises(WorkflowError) as err:
        plan_route(labour, "hqo")
    assert err.value.code == "CASE_ROUTE_UNKNOWN"


def test_a_request_from_the_hqo_carries_the_hqo_chain_labels() -> None:
    semipalatinsk = service("semipalatinsk_victim_registration_compensation")
    labels = chain_labels(semipalatinsk, "hqo")
    assert (labels.registered, labels.check, labels.refused, labels.result) == (
        "hqo:6-процесс",
        "hqo:2-шарт",
        "hqo:7-процесс",
        "hqo:8-процесс",
    )
    assert chain_labels(service("foreign_labour_permit"), "portal").result == "portal:9-процесс"
    case = open_case(semipalatinsk, "provider", at("2026-03-03T10:00"), CAL, channel="hqo")
    assert case.events[0].label == "hqo:6-процесс"
    with pytest.raises(WorkflowError) as err:
        open_case(semipalatinsk, "provider", at("2026-03-03T10:00"), CAL, channel="portal")
    assert err.value.code == "CASE_CHANNEL_UNAVAILABLE"


# -- providers ------------------------------------------------------------------------------------
def test_every_catalogue_service_has_exactly_one_provider() -> None:
    mapped = [s for p in PROVIDERS.providers for s in p.services]
    assert sorted(mapped) == sorted(s.id for s in CATALOG)
    assert 3 <= len(PROVIDERS.providers) <= 4
    assert PROVIDERS.provider_for("foster_care_patronage_placement").bin == "990340001111"
    with pytest.raises(KeyError):
        PROVIDERS.provider_for("no_such_service")


def test_bins_and_iins_pass_the_check_digit_and_are_not_the_personas() -> None:
    personas = yaml.safe_load(PERSONAS.read_text(encoding="utf-8"))
    persona_iins = {c["iin"] for c in personas["citizens"]}
    persona_bins = {s["bin"] for s in personas["systems"]} | {
        c["organization"]["bin"] for c in personas["citizens"] if "organization" in c
    }
    bins = [p.bin for p in PROVIDERS.providers]
    assert bins[0] == "990340001111" and not set(bins[1:]) & persona_bins
    iins = [e.iin for p in PROVIDERS.providers for e in p.employees]
    assert len(set(iins)) == len(iins) and not set(iins) & persona_iins
    assert all(is_valid_number(n) for n in bins + iins)


def test_every_role_of_a_served_route_has_an_employee_and_every_provider_a_signer() -> None:
    assert set(get_args(Actor.model_fields["role"].annotation)) >= WORKSTATION_ROLES
    for provider in PROVIDERS.providers:
        assert PROVIDERS.signers(provider.id)
        for service_id in provider.services:
            for route in service(service_id).routes:
                for step in route.steps:
                    if step.actor.role in WORKSTATION_ROLES:
                        assert PROVIDERS.employees_with(provider.id, step.actor.role), (service_id, step.n)
    assert PROVIDERS.employer("karaganda_commission").id == "karaganda_oblast_employment"
    assert PROVIDERS.employee("aktobe_head").full_name == "ТӨЛЕГЕНОВ ЕРБОЛ МАРАТҰЛЫ"


def _broken_copy(tmp_path: Path, change: str) -> Path:
    raw = yaml.safe_load(default_providers_file().read_text(encoding="utf-8"))
    first = raw["providers"][0]
    if change == "iin":
        first["employees"][0]["iin"] = first["employees"][0]["iin"][:11] + "0"
    elif change == "unserved":
        first["services"].remove("visitation_permit_deprived_parents")
    elif change == "twice":
        raw["providers"][1]["services"].append("foster_care_patronage_placement")
    elif change == "role":
        first["employees"] = [e for e in first["employees"] if "responsible_executor" not in e["roles"]]
    elif change == "unknown_role":
        first["employees"][0]["roles"] = ["hqo_employee"]
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("iin", "check digit"),
        ("unserved", "no provider serves"),
        ("twice", "service ids repeat"),
        ("role", "responsible_executor"),
        ("unknown_role", "roles"),
    ],
)
def test_a_broken_providers_file_stops_loading(tmp_path: Path, change: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        load_providers(CATALOG, _broken_copy(tmp_path, change))


def test_scale_zero_completes_every_step_the_moment_the_case_is_registered() -> None:
    case = foster_case(scale=0)
    events = autopilot_advance(case, case.received_at, CAL, AutopilotPolicy(scale=0))
    assert case.status == "approved" and case.closed_at == case.received_at
    assert [e.label for e in events][-1] == "portal:7-процесс"
