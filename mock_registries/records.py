"""The records of the two registries: a person of ЖТ МДҚ / ГБД ФЛ (the state database of
individuals) and a notarised power of attorney of БНАЖ / ЕНИС (the unified notarial information
system, Law «О нотариате», Art. 4-2).

Each record is one frozen dataclass, used inside and, being a pydantic dataclass with camelCase
aliases, also as the admin API's JSON at the HTTP boundary (one definition, so the two cannot
drift apart); ``*_to_row`` / ``*_from_row`` map them to the tables. A field's own shape includes
its characters: text XML cannot carry is refused (``REQUEST_INVALID``), as every text ends up in
a SOAP answer. Checks that need more than a field's own shape (the IIN's check digit, its birth
date and sex, the dictionaries, dates that must agree with each other and with the simulated
clock's today, who may certify what) are plain functions here, :func:`check_person` and
:func:`check_power_of_attorney`, raising ``REGISTRY_RECORD_INVALID`` with every problem named.

What is known and what is proposed (egov-interfaces §8, §9):

* **Person**: the fields and their dictionary entries are those of a real ГБД ФЛ answer [V],
  except ``missing`` (the shape of ``missingStatus`` is not published), the capacity codes and
  the address codes (see :mod:`mock_registries.dictionaries`): *proposed*. ``extra`` is the
  simulator's own: what a record rarely has (more documents, addresses, statuses), kept as JSON
  and returned by the admin API, not rendered into the SOAP answer.
* **PowerOfAttorney**: ЕНИС's record schema is not published. *Every field is proposed*, after
  what a notarised power of attorney states: registry number and date, the notary, the grantor
  (an IIN, or a BIN for an organisation) and the representative, the powers (text, and the
  catalogue services they cover; none listed = a general power), the validity, substitution, and
  a revocation. Its ``status`` is derived on the simulated clock, never stored.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from egovsim.errors import CodedError
from egovsim.iin import NumberError, parse_bin, parse_iin
from mock_registries import dictionaries as dic

_API = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

# What XML 1.0 cannot carry (its Char production): C0 controls but tab, LF and CR, U+FFFE, U+FFFF
# and lone surrogates. Every text a record holds is rendered into the registries' SOAP answers,
# where lxml refuses such a character, so a record refuses it first (REQUEST_INVALID).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: str) -> str:
    if (bad := _NOT_XML.search(value)) is not None:
        raise ValueError(f"contains U+{ord(bad.group()):04X}, a character XML cannot carry")
    return value


def _json_safe(value: dict[str, Any]) -> dict[str, Any]:
    """``extra`` is stored and answered as JSON: no NaN or Infinity, no lone surrogate."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode()
    except ValueError as exc:  # UnicodeEncodeError is one too
        raise ValueError(f"is not storable as JSON: {exc}") from None
    return value


XmlSafe = AfterValidator(_xml_safe)
NUMBER_PATTERN = r"^[0-9]{12}$"
REGISTRY_NUMBER_PATTERN = r"^[A-Za-z0-9._\-]{1,32}$"
Number = Annotated[str, Field(pattern=NUMBER_PATTERN, description="IIN or BIN: twelve digits")]
Text = Annotated[str, Field(min_length=1, max_length=200), XmlSafe]
LongText = Annotated[str, Field(min_length=1, max_length=10_000), XmlSafe]
Short = Annotated[str, Field(min_length=1, max_length=16), XmlSafe]
Text32 = Annotated[str, Field(min_length=1, max_length=32), XmlSafe]
ServiceId = Annotated[str, Field(min_length=1, max_length=128), XmlSafe]
# dictionary codes, as long as their columns allow
Code1 = Annotated[str, Field(pattern=r"^[0-9A-Za-z]$")]
Code2 = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,2}$")]
Code3 = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,3}$")]
Code9 = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,9}$")]


# -- ГБД ФЛ -----------------------------------------------------------------------------------------
@dataclass(config=_API, frozen=True)
class BirthPlace:
    country: Code3  # ISO 3166 numeric, dictionaries.CITIZENSHIP [V]
    region: Code9 | None = None  # dictionaries.REGIONS (proposed codes)
    district: Code9 | None = None  # dictionaries.DISTRICTS (proposed codes)
    city: Text | None = None


@dataclass(config=_API, frozen=True)
class RegAddress:
    """The registered address, in Kazakhstan (``country`` 398 on the wire)."""

    region: Code9 | None = None  # proposed codes, dictionaries.REGIONS
    district: Code9 | None = None  # proposed codes, dictionaries.DISTRICTS
    street: Text | None = None  # [V] like the fields below
    building: Short | None = None
    flat: Short | None = None
    begin_date: date | None = None  # since when registered here


@dataclass(config=_API, frozen=True)
class IdentityDocument:
    type: Code3  # dictionaries.DOCUMENT_TYPE: 001 passport, 002 ID card [V]
    number: Short  # passport N + 7–8 digits, ID card 9 digits [V]
    begin_date: date | None = None
    end_date: date | None = None
    issue_organization: Code3 | None = None  # dictionaries.ISSUER
    status: Code2 | None = None  # dictionaries.DOCUMENT_STATUS


@dataclass(config=_API, frozen=True)
class Person:
    """A person of ГБД ФЛ (egov-interfaces §8)."""

    iin: Number
    surname: Text
    name: Text
    birth_date: date
    gender: Code1  # 1 male, 2 female (dictionaries.GENDER); must agree with the IIN's digit 7
    nationality: Code3
    citizenship: Code3
    birth_place: BirthPlace
    patronymic: Text | None = None
    surname_lat: Text | None = None  # engSurname on the wire
    name_lat: Text | None = None  # engFirstName on the wire
    reg_address: RegAddress | None = None
    document: IdentityDocument | None = None
    life_status: Code1 = "0"  # 0 alive (Нормальный) [V], 1 deceased (proposed)
    death_date: date | None = None  # given iff deceased
    capable_status: Code1 | None = None  # None: fully capable; dictionaries.CAPABLE_STATUS (proposed)
    missing: bool = False  # proposed
    removed: bool = False  # [V] a required flag of the real record
    extra: Annotated[dict[str, Any], AfterValidator(_json_safe)] = Field(default_factory=dict)


# -- ЕНИС (all proposed) ----------------------------------------------------------------------------
@dataclass(config=_API, frozen=True)
class Notary:
    iin: Number
    full_name: Text
    license_number: Text32
    notarial_district: Text


@dataclass(config=_API, frozen=True)
class Party:
    iin: Number  # the grantor may be an organisation: a BIN here (§9 grantor{iin|bin})
    name: Text


@dataclass(config=_API, frozen=True)
class Revocation:
    date: dt.date
    reason: LongText | None = None
    registry_number: Text32 | None = None


RegistryNumber = Annotated[str, Field(pattern=REGISTRY_NUMBER_PATTERN)]


class PowerStatus(enum.StrEnum):
    """Where a power of attorney stands on a given day (proposed, egov-interfaces §9)."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"


POWER_STATUS = {
    PowerStatus.ACTIVE: dic.Entry("ACTIVE", "Действует", "Қолданыста", known=False),
    PowerStatus.REVOKED: dic.Entry("REVOKED", "Отменена", "Күші жойылған", known=False),
    PowerStatus.EXPIRED: dic.Entry("EXPIRED", "Срок действия истёк", "Мерзімі өткен", known=False),
    PowerStatus.NOT_YET_VALID: dic.Entry(
        "NOT_YET_VALID", "Срок действия не наступил", "Мерзімі басталмаған", known=False
    ),
}


@dataclass(config=_API, frozen=True)
class PowerOfAttorney:
    """A notarised power of attorney of ЕНИС; every field proposed (egov-interfaces §9)."""

    registry_number: RegistryNumber
    registration_date: date
    notary: Notary
    grantor: Party
    representative: Party
    powers: LongText
    valid_from: date
    valid_to: date
    # catalogue service ids; None: a general power, covering every service
    services: Annotated[list[ServiceId], Field(min_length=1)] | None = None
    substitution_allowed: bool = False
    revocation: Revocation | None = None

    def status(self, today: date) -> PowerStatus:
        """On ``today`` (the simulated clock's date in Almaty): a revocation in force wins."""
        if self.revocation is not None and self.revocation.date <= today:
            return PowerStatus.REVOKED
        if today > self.valid_to:
            return PowerStatus.EXPIRED
        if today < self.valid_from:
            return PowerStatus.NOT_YET_VALID
        return PowerStatus.ACTIVE

    def covers(self, service_id: str) -> bool:
        """Whether the powers extend to this catalogue service (a general power covers all)."""
        return self.services is None or service_id in self.services


# -- checks -----------------------------------------------------------------------------------------
def _iin_problem(number: str, what: str) -> str | None:
    try:
        parse_iin(number)
    except NumberError as exc:
        return f"{what}: {exc}"
    return None


def _in(table: Mapping[str, dic.Entry], code: str | None, what: str) -> list[str]:
    if code is None or code in table:
        return []
    return [f"{what}: {code!r} is not in the dictionary (known: {', '.join(sorted(table))})"]


def _place(region: str | None, district: str | None, what: str) -> list[str]:
    problems = _in(dic.REGIONS, region, f"{what}.region") + _in(dic.DISTRICTS, district, f"{what}.district")
    if not problems and region and district and dic.REGION_OF_DISTRICT[district] != region:
        problems.append(f"{what}.district {district} is not in region {region}")
    return problems


def person_problems(person: Person, today: date) -> list[str]:
    """Everything wrong with ``person`` beyond its fields' own shapes, ``today`` being the
    simulated clock's date; empty if nothing is."""
    problems: list[str] = []
    try:
        facts = parse_iin(person.iin)
    except NumberError as exc:
        problems.append(f"iin: {exc}")
    else:  # the IIN states the birth date and the sex (egov-interfaces §11)
        if person.birth_date != facts.birth_date:
            problems.append(f"birthDate {person.birth_date} disagrees with the IIN, which says {facts.birth_date}")
        if person.gender != str(int(facts.sex)):
            problems.append(f"gender {person.gender!r} disagrees with the IIN's digit 7, which says {int(facts.sex)}")
    problems += _in(dic.GENDER, person.gender, "gender")
    problems += _in(dic.NATIONALITY, person.nationality, "nationality")
    problems += _in(dic.CITIZENSHIP, person.citizenship, "citizenship")
    problems += _in(dic.LIFE_STATUS, person.life_status, "lifeStatus")
    problems += _in(dic.CAPABLE_STATUS, person.capable_status, "capableStatus")
    problems += _in(dic.CITIZENSHIP, person.birth_place.country, "birthPlace.country")
    problems += _place(person.birth_place.region, person.birth_place.district, "birthPlace")
    if person.reg_address is not None:
        problems += _place(person.reg_address.region, person.reg_address.district, "regAddress")
    if (doc := person.document) is not None:
        problems += _in(dic.DOCUMENT_TYPE, doc.type, "document.type")
        problems += _in(dic.ISSUER, doc.issue_organization, "document.issueOrganization")
        problems += _in(dic.DOCUMENT_STATUS, doc.status, "document.status")
        if doc.begin_date and doc.end_date and doc.end_date < doc.begin_date:
            problems.append("document.endDate is before its beginDate")
    deceased = person.life_status == "1"
    if deceased != (person.death_date is not None):
        problems.append("deathDate is given exactly when lifeStatus is 1 (deceased)")
    if person.birth_date > today:
        problems.append(f"birthDate {person.birth_date} is after today, {today}")
    if person.death_date is not None and person.death_date < person.birth_date:
        problems.append("deathDate is before birthDate")
    if person.death_date is not None and person.death_date > today:
        problems.append(f"deathDate {person.death_date} is after today, {today}")
    return problems


def power_of_attorney_problems(power: PowerOfAttorney, known_services: Collection[str], today: date) -> list[str]:
    """Everything wrong with ``power`` beyond its fields' own shapes, ``today`` being the
    simulated clock's date; empty if nothing is."""
    problems = [
        p
        for p in (
            _iin_problem(power.notary.iin, "notary.iin"),
            _iin_problem(power.representative.iin, "representative.iin"),
        )
        if p is not None
    ]
    if _iin_problem(power.grantor.iin, "grantor.iin") is not None:
        try:  # an organisation grants through its BIN
            parse_bin(power.grantor.iin)
        except NumberError as exc:
            problems.append(f"grantor.iin is neither a valid IIN nor a valid BIN: {exc}")
    if power.grantor.iin == power.representative.iin:
        problems.append("the grantor cannot be their own representative")
    for party in ("grantor", "representative"):  # a notary does not certify their own deed
        if power.notary.iin == getattr(power, party).iin:
            problems.append(f"the notary cannot be the {party}")
    if power.registration_date > today:
        problems.append(f"registrationDate {power.registration_date} is after today, {today}")
    if power.valid_to < power.valid_from:
        problems.append("validTo is before validFrom")
    if power.valid_from < power.registration_date:
        problems.append("validFrom is before the registrationDate: a power is valid once certified")
    if power.revocation is not None and power.revocation.date < power.registration_date:
        problems.append("revocation.date is before the registrationDate")
    unknown = sorted(set(power.services or ()) - set(known_services))
    if unknown:
        problems.append(f"services not in the service catalogue: {', '.join(unknown)}")
    return problems


def _refuse(problems: list[str], what: str) -> None:
    if problems:
        raise CodedError("REGISTRY_RECORD_INVALID", f"{what}: " + "; ".join(problems))


def check_person(person: Person, today: date) -> None:
    _refuse(person_problems(person, today), f"person {person.iin}")


def check_power_of_attorney(power: PowerOfAttorney, known_services: Collection[str], today: date) -> None:
    what = f"power of attorney {power.registry_number}"
    _refuse(power_of_attorney_problems(power, known_services, today), what)


# -- JSON of the admin API --------------------------------------------------------------------------
_PERSON = TypeAdapter(Person)
_POWER = TypeAdapter(PowerOfAttorney)


def person_json(person: Person) -> dict[str, Any]:
    out: dict[str, Any] = _PERSON.dump_python(person, by_alias=True, mode="json")
    return out


def power_of_attorney_json(power: PowerOfAttorney, today: date) -> dict[str, Any]:
    """The record with its ``status`` on ``today`` (derived, proposed)."""
    out: dict[str, Any] = _POWER.dump_python(power, by_alias=True, mode="json")
    out["status"] = power.status(today).value
    return out


# -- table rows -------------------------------------------------------------------------------------
# Each row is its record flattened: column -> the path of the field it holds. JSON columns (extra,
# services) are encoded on the way in and decoded on the way out; a nested record whose columns are
# all NULL (no address, no document, no revocation) is absent.
_PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "iin": ("iin",),
    "surname": ("surname",),
    "name": ("name",),
    "patronymic": ("patronymic",),
    "surname_lat": ("surname_lat",),
    "name_lat": ("name_lat",),
    "birth_date": ("birth_date",),
    "gender": ("gender",),
    "nationality": ("nationality",),
    "citizenship": ("citizenship",),
    "birth_country": ("birth_place", "country"),
    "birth_region": ("birth_place", "region"),
    "birth_district": ("birth_place", "district"),
    "birth_city": ("birth_place", "city"),
    "reg_region": ("reg_address", "region"),
    "reg_district": ("reg_address", "district"),
    "reg_street": ("reg_address", "street"),
    "reg_building": ("reg_address", "building"),
    "reg_flat": ("reg_address", "flat"),
    "reg_begin_date": ("reg_address", "begin_date"),
    "doc_type": ("document", "type"),
    "doc_number": ("document", "number"),
    "doc_begin_date": ("document", "begin_date"),
    "doc_end_date": ("document", "end_date"),
    "doc_issuer": ("document", "issue_organization"),
    "doc_status": ("document", "status"),
    "life_status": ("life_status",),
    "death_date": ("death_date",),
    "capable_status": ("capable_status",),
    "missing": ("missing",),
    "removed": ("removed",),
    "extra": ("extra",),
}
_POWER_COLUMNS: dict[str, tuple[str, ...]] = {
    "registry_number": ("registry_number",),
    "registration_date": ("registration_date",),
    "notary_iin": ("notary", "iin"),
    "notary_name": ("notary", "full_name"),
    "notary_license": ("notary", "license_number"),
    "notary_district": ("notary", "notarial_district"),
    "grantor_iin": ("grantor", "iin"),
    "grantor_name": ("grantor", "name"),
    "representative_iin": ("representative", "iin"),
    "representative_name": ("representative", "name"),
    "powers": ("powers",),
    "services": ("services",),
    "valid_from": ("valid_from",),
    "valid_to": ("valid_to",),
    "substitution_allowed": ("substitution_allowed",),
    "revocation_date": ("revocation", "date"),
    "revocation_reason": ("revocation", "reason"),
    "revocation_registry_number": ("revocation", "registry_number"),
}
_JSON_COLUMNS = frozenset({"extra", "services"})


def _flatten(record: object, columns: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, path in columns.items():
        value: Any = record
        for name in path:
            value = getattr(value, name) if value is not None else None
        if column in _JSON_COLUMNS:
            value = None if value is None else json.dumps(value, ensure_ascii=False)
        row[column] = value
    return row


def _nest(row: Any, columns: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, path in columns.items():
        value = row._mapping[column]
        if value is None:
            continue
        if column in _JSON_COLUMNS:
            value = json.loads(value)
        holder = record
        for name in path[:-1]:
            holder = holder.setdefault(name, {})
        holder[path[-1]] = value
    return record


def person_to_row(person: Person) -> dict[str, Any]:
    row = _flatten(person, _PERSON_COLUMNS)
    row["extra"] = row["extra"] if person.extra else None  # an empty object is stored as NULL
    return row


def person_from_row(row: Any) -> Person:
    return _PERSON.validate_python(_nest(row, _PERSON_COLUMNS))


def power_of_attorney_to_row(power: PowerOfAttorney) -> dict[str, Any]:
    return _flatten(power, _POWER_COLUMNS)


def power_of_attorney_from_row(row: Any) -> PowerOfAttorney:
    return _POWER.validate_python(_nest(row, _POWER_COLUMNS))
