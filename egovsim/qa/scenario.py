"""The scenario format: what QA writes, one YAML file per scenario, validated against a published
JSON Schema (``egovsim replay --schema``, or :func:`json_schema`).

A scenario names the regulation items it replays, sets up its own world (``given``), acts
through public interfaces (``acts``) and states what it expects of each act::

    id: portal-4-eds-revoked
    title: A request signed with a revoked certificate is refused at 4-процесс
    regulation: ["004 2-шарт", "004 4-процесс"]
    given:
      personas:
        applicant: {}                      # alive in ГБД ФЛ, SIGN key, a portal account
      providers:
        foster_care_patronage_placement: {decision: approve}
    acts:
      - act: cert.revoke
        persona: applicant
      - act: portal.submit
        persona: applicant
        service: foster_care_patronage_placement
        expect:
          http: 422
          code: EDS_CERT_REVOKED
          step: portal:4-процесс
          message: {kk: "ЭЦҚ"}
          trace: ["portal:2-шарт refused EDS_CERT_REVOKED", "portal:4-процесс refused EDS_CERT_REVOKED"]

Personas are made for the scenario alone: a fresh IIN drawn from the run's seed and the
scenario's id, a ГБД ФЛ record, key files from the НУЦ and a portal account, each as asked. The
clock is frozen at ``given.clock`` (a Monday morning by default) and moves only when an act
moves it, so a scenario gives the same outcome every time.

Every act may carry ``fault`` (per-call faults sent in the ``X-Egovsim-Fault`` header of that
act's calls) and ``expect``. An expectation lists only what it checks; a trace expectation is an
ordered subsequence of the request's trace events written ``"<step> <outcome>[ <code>]"``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egovsim.errors import CatalogError

DEFAULT_START = datetime.fromisoformat("2026-03-02T10:00:00+05:00")  # a Monday, a working day
Lang = Literal["kk", "ru", "en"]
Alias = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
ServiceId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Duration = Annotated[str, Field(pattern=r"^[-+]?\d+(m|h|d|w|wd|mo|y)$", description="90m, 2h, 3d, 1w, 3wd, 1mo, 1y")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- given ------------------------------------------------------------------------------------------
class Persona(_Model):
    """A person made for this scenario alone."""

    gbdfl: Literal["alive", "deceased", "absent"] = Field("alive", description="how ГБД ФЛ knows the person")
    sex: Literal["male", "female"] | None = None
    born: date | None = Field(None, description="birth date (default: drawn, an adult)")
    region: str | None = Field(None, description="КАТО code of the registered address's oblast")
    surname: str | None = None
    name: str | None = None
    keys: list[Literal["sign", "auth"]] = Field(["sign"], description="key files the НУЦ issues")
    account: bool = Field(True, description="a portal account is registered before the acts")
    password: str = "Qazaqstan2026"


class PowerOfAttorney(_Model):
    """A notarial power of attorney in ЕНИС between two of the scenario's personas."""

    grantor: Alias
    representative: Alias
    services: list[ServiceId] | None = Field(None, description="services it covers; none: a general power")
    valid_from: Duration | date = Field("-30d", description="a date, or a duration from the clock's start")
    valid_to: Duration | date = "+365d"
    revoked: bool = False


class ProviderPolicy(_Model):
    """How the provider's workstation works a service (autopilot), as ``PUT /rshep/api/policies``."""

    mode: Literal["autopilot", "manual"] = "autopilot"
    decision: Literal["approve", "refuse"] = "approve"
    ground: str | None = Field(None, description="the refusal's ground (decision: refuse)")
    refuse_at_step: str | None = None
    refusal_code: str | None = Field(None, description="the provider's refusal code (default REASONED_REFUSAL)")
    scale: float = Field(0, ge=0, description="step durations scaled: 0 = instant, 1 = the regulation's")


class Given(_Model):
    clock: datetime = Field(DEFAULT_START, description="the frozen simulated clock's start")
    personas: dict[Alias, Persona] = Field(default_factory=dict)
    powers_of_attorney: list[PowerOfAttorney] = Field(default_factory=list)
    providers: dict[ServiceId, ProviderPolicy] = Field(default_factory=dict)


# -- expectations ---------------------------------------------------------------------------------
class Expect(_Model):
    """What the act's outcome must show; only the keys given are checked."""

    ok: bool | None = Field(None, description="the call succeeded (HTTP 2xx, no SOAP fault)")
    http: int | None = None
    code: str | None = Field(None, description="refusal / error / fault code")
    step: str | None = Field(None, description="the regulation step label the refusal is made at")
    status: str | None = Field(None, description="the request's or application's status")
    message: dict[Lang, str] | None = Field(None, description="text the message in that language contains")
    catalogue_texts: bool | None = Field(
        None, description="the kk/ru/en messages are the catalogue's texts of the code (true by default with code)"
    )
    trace: list[str] | None = Field(
        None, description="an ordered subsequence of the trace: '<step> <outcome>[ <code>]'"
    )
    trace_ends: str | None = Field(None, description="the last trace event")
    trace_excludes: list[str] | None = Field(None, description="steps (prefixes) that must not appear")
    result: dict[str, Any] | None = Field(None, description="properties of the result (dotted paths)")
    notifications: list[str] | None = Field(None, description="codes of the citizen's notifications, any order")
    deadline: Literal["met", "missed"] | None = Field(None, description="the provider's deadline")


class _Act(_Model):
    fault: list[str] = Field(default_factory=list, description="per-call faults (X-Egovsim-Fault) of this act")
    expect: Expect | None = None
    note: str | None = None


class Register(_Act):
    act: Literal["portal.register"]
    persona: Alias
    password: str | None = None


class Login(_Act):
    act: Literal["portal.login"]
    persona: Alias
    password: str | None = Field(None, description="another password than the persona's (a wrong one)")
    times: int = Field(1, ge=1, le=20, description="repeat (a lockout); the outcome is the last one's")


class LoginEds(_Act):
    act: Literal["portal.login_eds"]
    persona: Alias
    key: Literal["auth", "sign"] = "auth"
    altered: bool = Field(False, description="sign another document than the challenge issued")


Signing = Literal[
    "sign", "auth", "unsigned", "tampered", "wrapped", "self_signed", "gost", "expired", "not_yet_valid",
    "changed_document", "entity_bomb",
]  # fmt: skip


class Submit(_Act):
    """The portal chain: a draft with the form's fields and documents, the document signed, sent."""

    act: Literal["portal.submit"]
    persona: Alias
    service: ServiceId
    fields: dict[str, str] = Field(default_factory=dict, description="fields over the service's sample ones")
    documents: list[str] | None = Field(None, description="documents attached (default: every one required)")
    signing: Signing = Field("sign", description="how the document is signed (a failure of 2-шарт)")
    signer: Alias | None = Field(None, description="another persona signs (default: the applicant)")
    wait: bool = Field(True, description="wait until the provider's answer is in the cabinet")


class Cert(_Act):
    """The НУЦ revokes, suspends or releases a persona's certificate, or an operator's (its
    employee SIGN key that signs the ХҚО's packages)."""

    act: Literal["cert.revoke", "cert.hold", "cert.release"]
    persona: Alias | None = None
    operator: str | None = None
    kind: Literal["sign", "auth"] = "sign"


class ClockAdvance(_Act):
    act: Literal["clock.advance"]
    by: Duration


class HqoLogin(_Act):
    act: Literal["hqo.login"]
    operator: str = "op.semey"
    password: str | None = None
    times: int = Field(1, ge=1, le=20)


class HqoApply(_Act):
    act: Literal["hqo.apply"]
    service: ServiceId
    applicant: Alias
    representative: Alias | None = None
    power_of_attorney: int | None = Field(None, description="index in given.powers_of_attorney")
    fields: dict[str, str] = Field(default_factory=dict)
    documents: list[str] | None = None


class HqoAction(_Act):
    act: Literal["hqo.send", "hqo.handover", "hqo.recall", "hqo.show"]
    wait: bool = Field(True, description="hqo.send: wait for the provider's answer")


class OfficeApply(_Act):
    act: Literal["office.apply"]
    service: ServiceId
    applicant: Alias
    fields: dict[str, str] = Field(default_factory=dict)
    documents: list[str] | None = None
    area: str | None = None
    wait: bool = True


class OfficeIssue(_Act):
    act: Literal["office.issue"]


class Cabinet(_Act):
    """The personal cabinet's view of the persona's last request."""

    act: Literal["cabinet.show"]
    persona: Alias
    wait: bool = Field(False, description="wait until the request is closed (a result or a refusal)")


class Http(_Act):
    """Any public call, for what no act names."""

    act: Literal["http"]
    method: Literal["GET", "POST", "PUT", "DELETE"] = "GET"
    path: str
    json_body: Any = Field(None, alias="json")
    body: str | None = None
    content_type: str | None = None
    auth: Alias | Literal["admin"] | None = Field(None, description="'admin', or a persona's session")


Act = Annotated[
    Register
    | Login
    | LoginEds
    | Submit
    | Cert
    | ClockAdvance
    | HqoLogin
    | HqoApply
    | HqoAction
    | OfficeApply
    | OfficeIssue
    | Cabinet
    | Http,
    Field(discriminator="act"),
]


class Scenario(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
    title: str
    regulation: list[str] = Field(min_length=1, description="the regulation items it replays, e.g. '004 4-процесс'")
    tags: list[str] = Field(default_factory=list)
    given: Given = Field(default_factory=Given)
    acts: list[Act] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:egovsim:qa:scenario:1"
    return schema


def load_scenario(path: Path) -> Scenario:
    """One scenario file, validated; a clear error names the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Scenario.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"{path}: {where}: {first['msg']}", file=str(path), field=where) from exc


def library_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("egovsim.data").joinpath("scenarios")))


def library() -> list[Path]:
    return sorted(library_dir().glob("*.yaml"))


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
