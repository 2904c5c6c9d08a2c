"""Typed models of the service catalogue: one YAML file per public service of the seeds.

Every value is taken from the Kazakh seed texts (``../shared/seeds/``); the models make a
file that lacks a field, or carries a value of the wrong kind, fail on load with the file
name and the field path (see :mod:`egovsim.catalog.loader`).

Vocabulary (kk / ru / en), explained once:

* регламент / регламент / *regulation*: the regional procedure of one service;
* стандарт / стандарт / *standard*: the national "what, who, when" of one service;
* N-процесс, N-үдеріс / процесс N / *process N*; N-шарт / условие N / *condition N*:
  the numbered steps of an information-system chain;
* ХҚО / ЦОН / *population service centre* (later the State Corporation).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    """Base: unknown keys are an error, so a typo in a data file cannot pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(Strict):
    """One text in the three languages of the simulator. ``kk`` is the seed's own wording."""

    kk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return {"kk": self.kk, "ru": self.ru, "en": self.en}.get(lang, self.en)


class SeedRef(Strict):
    """Where a fact comes from. ``quote`` is verbatim seed text; tests find it in the seed."""

    file: Annotated[str, Field(pattern=r"^00[0-4]$")]
    item: str | None = None
    lines: str | None = None
    quote: str | None = None


class DurationUnit(StrEnum):
    minutes = "minutes"
    hours = "hours"
    working_days = "working_days"  # жұмыс күні
    calendar_days = "calendar_days"  # күнтізбелік күн
    days_24h = "days_24h"  # тәулік
    months = "months"  # ай


class DurationQualifier(StrEnum):
    within = "within"  # ... ішінде
    not_more_than = "not_more_than"  # ... аспайды
    no_later_than = "no_later_than"  # ... кешіктірмей
    range = "range"  # ... бастап ... дейін


class Duration(Strict):
    """A step duration exactly as the seed writes it: value, unit, qualifier and the words."""

    value: int = Field(ge=0)
    max_value: int | None = Field(default=None, ge=0, description="upper bound of a range (90-180)")
    unit: DurationUnit
    qualifier: DurationQualifier | None = None
    source: SeedRef

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Duration:
        if self.max_value is not None and self.max_value < self.value:
            raise ValueError("max_value must not be below value")
        if (self.max_value is not None) != (self.qualifier == DurationQualifier.range):
            raise ValueError("max_value is given exactly when qualifier is 'range'")
        return self


class ConflictingValue(Strict):
    """A value the seed also gives for the same fact; the simulation does not use it."""

    value: str
    source: SeedRef
    note: str


class Actor(Strict):
    """Who does a step. ``role`` is the simulator's role key (RegionalWorkstation roles)."""

    role: Literal[
        "recipient",
        "representative",
        "office_clerk",
        "head",
        "department_head",
        "responsible_executor",
        "executor",
        "specialists",
        "commission",
        "pedagogical_council",
        "hqo_employee",
        "hqo_accumulation_dept",
        "rural_akim_office",
        "rural_akim",
        "rural_akim_executor",
        "provider",
        "pension_centre",
    ]
    kk: str
    en: str


class InternalStep(Strict):
    """One step of the provider's internal procedure (the regulation's items 5–6)."""

    n: Annotated[str, Field(pattern=r"^[0-9]+[a-z]?(-alt)?$")]
    actor: Actor
    action: Texts
    duration: Duration | None = Field(description="None where the seed states no duration")
    duration_not_stated: bool = False
    conflicts: list[ConflictingValue] = []
    result: Texts | None = None
    variant_of: str | None = Field(default=None, description="n of the step this one replaces")
    condition: str | None = Field(default=None, description="when this variant applies (en)")

    @model_validator(mode="after")
    def _duration_or_not_stated(self) -> InternalStep:
        if (self.duration is None) != self.duration_not_stated:
            raise ValueError("give a duration, or set duration_not_stated: true (never both)")
        return self


class Route(Strict):
    """A way the provider works a request: ``provider`` (its office), ``hqo``, ``rural_akim``…"""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Texts
    steps: list[InternalStep] = Field(min_length=1)
    source: SeedRef

    @field_validator("steps")
    @classmethod
    def _unique_numbers(cls, steps: list[InternalStep]) -> list[InternalStep]:
        seen = [s.n for s in steps]
        dupes = sorted({n for n in seen if seen.count(n) > 1})
        if dupes:
            raise ValueError(f"step numbers repeat: {dupes}")
        return steps


STEP_LABEL = re.compile(r"^(pre|post|[1-9][0-9]?-(процесс|шарт))$")


class ChainStep(Strict):
    """One numbered step of an information-system chain (portal or ХҚО).

    ``label`` is canonical (``3-процесс``, ``2-шарт``) and is what traces carry;
    ``printed`` is how the seed prints it (``3-үдеріс``, ``1 шарт``) where that differs.
    """

    label: str
    printed: str | None = None
    kind: Literal["process", "condition", "pre", "post"]
    text: Texts
    systems: list[str] = Field(min_length=1)
    duration: Duration | None = None
    on_failure: str | None = Field(default=None, description="label of the refusal step")
    refusal_code: str | None = Field(default=None, description="code in the refusal catalogue")

    @field_validator("label")
    @classmethod
    def _label_shape(cls, v: str) -> str:
        if not STEP_LABEL.match(v):
            raise ValueError(f"label {v!r} must look like '3-процесс', '2-шарт', 'pre' or 'post'")
        return v


class Chain(Strict):
    """An information-system chain as numbered in the seed (section 4 of a regulation)."""

    numbering: Literal["процесс", "үдеріс", "none"]
    source: SeedRef
    steps: list[ChainStep] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _targets_exist(self) -> Chain:
        labels = [s.label for s in self.steps]
        numbered = [x for x in labels if x not in ("pre", "post")]
        dupes = sorted({x for x in numbered if numbered.count(x) > 1})
        if dupes:
            raise ValueError(f"chain labels repeat: {dupes}")
        for s in self.steps:
            if s.on_failure and s.on_failure not in labels:
                raise ValueError(f"{s.label}: on_failure {s.on_failure!r} is not a step of this chain")
        return self


class Channel(Strict):
    available: bool
    note: Texts | None = None
    source: SeedRef | None = None


class Channels(Strict):
    """Where an application is received: the provider's office, ХҚО / State Corporation, portal."""

    office: Channel
    hqo: Channel
    portal: Channel


class LegalAct(Strict):
    kind: Literal["regulation", "standard", "resolution"]
    title: Texts
    issuer: Texts
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    number: str | None = None
    registration: str | None = None
    status: Literal["in_force_per_text", "repealed", "unknown"]
    repealed_by: str | None = None
    seed_file: Annotated[str, Field(pattern=r"^00[0-4]_[0-9a-f]{16}\.txt$")]
    lines: str | None = None


class Document(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Texts
    required: bool = True
    note: Texts | None = None


class FormField(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Texts
    type: Literal[
        "text",
        "iin",
        "bin",
        "date",
        "address",
        "phone",
        "textarea",
        "person_name",
        "signature",
        "consent",
        "choice",
        "number",
    ] = "text"
    required: bool = True


class Form(Strict):
    """An appendix form. ``known`` is False where the seed names the form but omits its content."""

    appendix: str
    of: Literal["standard", "regulation"]
    kind: Literal["application", "result", "refusal_receipt", "acceptance_receipt", "act", "notification", "other"]
    title: Texts
    known: bool
    fields: list[FormField] = []
    source: SeedRef

    @model_validator(mode="after")
    def _fields_when_known(self) -> Form:
        if self.known and not self.fields:
            raise ValueError("a known form lists its fields")
        return self


class Fee(Strict):
    free: bool | None = Field(description="None where the seed does not state the fee")
    text: Texts | None = None
    source: SeedRef | None = None


class Hours(Strict):
    days: Literal["mon-fri", "mon-sat"]
    opens: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]
    closes: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]
    lunch: Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")] | None = None
    source: SeedRef


class WorkingHours(Strict):
    stated: bool
    provider: Hours | None = None
    state_corporation: Hours | None = None


class OverallDeadline(Strict):
    stated: bool
    duration: Duration | None = None
    text: Texts
    derived_note: str | None = Field(default=None, description="arithmetic done here, not in the seed")


class Notice(Strict):
    """A refusal, receipt or notification the seed names, tied to the refusal catalogue."""

    code: str
    kind: Literal["refusal", "receipt", "notification", "result"]
    channel: Literal["portal", "hqo", "office", "state_corporation", "cabinet"]
    step: str | None = None
    text: Texts
    source: SeedRef


class Discrepancy(Strict):
    """Where the seed contradicts itself: both values, and the one the simulation uses."""

    field: str
    values: list[str] = Field(min_length=2)
    used: str
    note: str


class Service(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    number: int = Field(ge=1, le=18, description="position in the seed catalogue's index")
    titles: Texts
    title_variants: list[ConflictingValue] = []
    sphere: Texts
    legal_sources: list[LegalAct] = Field(min_length=1)
    provider: Texts
    channels: Channels
    result_channels: list[
        Literal["office", "hqo", "state_corporation", "portal_cabinet", "pension_centre", "rural_akim"]
    ]
    form_of_service: Texts
    result: Texts
    refusal_result: Texts | None = None
    result_form: Texts | None = None
    basis: Texts
    required_documents: list[Document] = []
    required_documents_source: SeedRef | None = None
    refusal_grounds: list[Texts] = []
    fee: Fee
    working_hours: WorkingHours
    overall_deadline: OverallDeadline
    participants: list[Actor] = []
    routes: list[Route] = Field(min_length=1)
    portal_chain: Chain | None = None
    hqo_chain: Chain | None = None
    notices: list[Notice] = []
    forms: list[Form] = []
    checks_enis: bool = Field(description="ХҚО chain queries БНАЖ / ЕНИС for a power of attorney")
    login_by: list[Literal["iin", "bin"]] = ["iin"]
    discrepancies: list[Discrepancy] = []

    @model_validator(mode="after")
    def _chains_match_channels(self) -> Service:
        if self.portal_chain is not None and not self.channels.portal.available:
            raise ValueError("portal_chain given but channels.portal.available is false")
        route_ids = [r.id for r in self.routes]
        if len(set(route_ids)) != len(route_ids):
            raise ValueError(f"route ids repeat: {route_ids}")
        return self

    def route(self, route_id: str) -> Route:
        for r in self.routes:
            if r.id == route_id:
                return r
        raise KeyError(route_id)
