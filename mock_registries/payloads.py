"""The business ``data`` of the registries' SyncChannel services: what a sender puts in
``requestData/data`` and what the registry answers in ``responseData/data``, before its
business signature. Plain functions on lxml elements.

ГБД ФЛ, ``GBDFL_UniversalServiceSync`` (egov-interfaces §7, §8) [V]: the request ``data``
holds ``messageId``, ``messageDate``, ``senderCode``, ``iin`` (``data`` and its children may
carry a namespace: they are read by local name). The answer ``data`` holds ``messageId`` (the
registry's), ``messageDate``, ``requestId`` (the request's ``messageId``), ``sender``
(``GBDFL``), ``receiver`` (the request's ``senderCode``), ``messageResult`` and
``persons/person``, every coded value a dictionary entry ``{code, nameRu, nameKz}``.

``messageResult`` codes (:data:`RESULTS`): ``00000`` «Сообщение успешно обработано» is the real
success [V]; ``00001`` (nothing found) and ``00002`` (a bad request: no IIN, or not a valid one)
are *proposed*: the real codes are not published.

ЕНИС, ``ENIS_PowerOfAttorneySync`` (*proposed*: neither the serviceId nor the payload is
published, egov-interfaces §9), shaped like ГБД ФЛ's: the request ``data`` holds
``messageId``, ``messageDate``, ``senderCode``, ``representativeIin`` and optionally
``grantorIin``, ``registryNumber``, ``serviceId`` (a catalogue service id); the answer holds the
same header and ``powersOfAttorney/powerOfAttorney``, each with its ``status`` on the simulated
date and, when a ``serviceId`` was asked, ``coversService`` (whether its scope covers it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from egovsim.calendar import to_almaty
from egovsim.iin import NumberError, parse_bin, parse_iin
from mock_registries import dictionaries as dic
from mock_registries.records import POWER_STATUS, Person, PowerOfAttorney

GBDFL_SERVICE_ID = "GBDFL_UniversalServiceSync"  # [V] egov-interfaces §3
ENIS_SERVICE_ID = "ENIS_PowerOfAttorneySync"  # proposed

OK = dic.Entry("00000", "Сообщение успешно обработано", "Хабарлама сәтті өңделді")
NOT_FOUND = dic.Entry("00001", "Сведения не найдены", "Мәліметтер табылмады", known=False)
BAD_REQUEST = dic.Entry("00002", "Некорректный запрос", "Сұрау салу қате", known=False)
RESULTS = {e.code: e for e in (OK, NOT_FOUND, BAD_REQUEST)}

GBDFL = dic.Entry("GBDFL", "ГБД ФЛ", "ЖТ МДҚ")
ENIS = dic.Entry("ENIS", "ЕНИС", "БНАЖ", known=False)
KAZAKHSTAN = "398"


class BadRequest(ValueError):
    """The request ``data`` cannot be answered (messageResult 00002); the text says why."""


@dataclass(frozen=True, slots=True)
class Header:
    """What every request ``data`` starts with; the answer refers back to it."""

    message_id: str | None
    sender_code: str | None


@dataclass(frozen=True, slots=True)
class PowerQuery:
    """Whose powers of attorney are asked for, and for which service."""

    representative_iin: str
    grantor_iin: str | None = None  # an IIN, or the BIN of an organisation
    registry_number: str | None = None  # one power of attorney
    service_id: str | None = None  # a catalogue service id: does each power cover it?


# -- reading requests -------------------------------------------------------------------------------
def _fields(data: etree._Element) -> dict[str, str]:
    """The children's texts by local name (qualified or not), stripped; empty ones left out."""
    out = {}
    for child in data:
        if isinstance(child.tag, str) and child.text and child.text.strip():
            out.setdefault(etree.QName(child).localname, child.text.strip())
    return out


def read_header(data: etree._Element) -> Header:
    fields = _fields(data)
    return Header(fields.get("messageId"), fields.get("senderCode"))


def _iin(fields: dict[str, str], name: str, *, bin_ok: bool = False) -> str:
    value = fields.get(name)
    if value is None:
        raise BadRequest(f"{name} is missing")
    try:
        parse_iin(value)
    except NumberError as exc:
        if not bin_ok:
            raise BadRequest(f"{name}: {exc}") from None
        try:
            parse_bin(value)
        except NumberError:
            raise BadRequest(f"{name} is neither a valid IIN nor a valid BIN: {exc}") from None
    return value


def read_person_query(data: etree._Element) -> str:
    """The IIN a ГБД ФЛ request asks for; :class:`BadRequest` when it has no valid one."""
    return _iin(_fields(data), "iin")


def read_power_query(data: etree._Element) -> PowerQuery:
    """The ЕНИС request; :class:`BadRequest` when the representative's IIN (or a grantor's IIN or
    BIN, when given) is not a valid one."""
    fields = _fields(data)
    grantor = _iin(fields, "grantorIin", bin_ok=True) if "grantorIin" in fields else None
    return PowerQuery(
        _iin(fields, "representativeIin"),
        grantor,
        fields.get("registryNumber"),
        fields.get("serviceId"),
    )


# -- building answers -------------------------------------------------------------------------------
def _leaf(parent: etree._Element, name: str, value: str | date | bool | None) -> None:
    if value is None:
        return
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    etree.SubElement(parent, name).text = text


def _entry(parent: etree._Element, name: str, entry: dic.Entry | None) -> None:
    """A coded value as ГБД ФЛ writes it: ``<name><code/><nameRu/><nameKz/></name>``."""
    if entry is None:
        return
    element = etree.SubElement(parent, name)
    _leaf(element, "code", entry.code)
    _leaf(element, "nameRu", entry.name_ru)
    _leaf(element, "nameKz", entry.name_kz)


def _coded(parent: etree._Element, name: str, table: dict[str, dic.Entry], code: str | None) -> None:
    _entry(parent, name, table.get(code) if code is not None else None)


def answer_data(header: Header, source: dic.Entry, result: dic.Entry, answer_id: str, now: datetime) -> etree._Element:
    """``data`` with the answer's header: messageId … messageResult (egov-interfaces §7)."""
    data = etree.Element("data")
    _leaf(data, "messageId", answer_id)
    _leaf(data, "messageDate", to_almaty(now).isoformat(timespec="milliseconds"))
    _leaf(data, "requestId", header.message_id)
    _entry(data, "sender", source)
    receiver = etree.SubElement(data, "receiver")
    _leaf(receiver, "code", header.sender_code)
    _entry(data, "messageResult", result)
    return data


def add_person(data: etree._Element, person: Person) -> None:
    """``persons/person`` with the fields of egov-interfaces §8, in their order."""
    p = etree.SubElement(etree.SubElement(data, "persons"), "person")
    for name, value in (
        ("iin", person.iin),
        ("surname", person.surname),
        ("name", person.name),
        ("patronymic", person.patronymic),
        ("engFirstName", person.name_lat),
        ("engSurname", person.surname_lat),
        ("birthDate", person.birth_date),
        ("deathDate", person.death_date),
    ):
        _leaf(p, name, value)
    _coded(p, "gender", dic.GENDER, person.gender)
    _entry(p, "nationality", dic.nationality_entry(person.nationality, person.gender))
    _coded(p, "citizenship", dic.CITIZENSHIP, person.citizenship)
    _coded(p, "lifeStatus", dic.LIFE_STATUS, person.life_status)
    place = etree.SubElement(p, "birthPlace")
    _coded(place, "country", dic.CITIZENSHIP, person.birth_place.country)
    _coded(place, "district", dic.DISTRICTS, person.birth_place.district)
    _coded(place, "region", dic.REGIONS, person.birth_place.region)
    _leaf(place, "city", person.birth_place.city)
    if (address := person.reg_address) is not None:
        reg = etree.SubElement(p, "regAddress")
        _coded(reg, "country", dic.CITIZENSHIP, KAZAKHSTAN)
        _coded(reg, "district", dic.DISTRICTS, address.district)
        _coded(reg, "region", dic.REGIONS, address.region)
        _leaf(reg, "street", address.street)
        _leaf(reg, "building", address.building)
        _leaf(reg, "flat", address.flat)
        _leaf(reg, "beginDate", address.begin_date)
        _coded(reg, "status", dic.REG_STATUS, "1")
    if person.capable_status is not None:  # the real element; its children beyond the code: proposed
        _coded(etree.SubElement(p, "personCapableStatus"), "capableStatus", dic.CAPABLE_STATUS, person.capable_status)
    if person.missing:  # proposed shape
        _leaf(etree.SubElement(p, "missingStatus"), "missing", True)
    if (doc := person.document) is not None:
        d = etree.SubElement(etree.SubElement(p, "documents"), "document")
        _coded(d, "type", dic.DOCUMENT_TYPE, doc.type)
        _leaf(d, "number", doc.number)
        _leaf(d, "beginDate", doc.begin_date)
        _leaf(d, "endDate", doc.end_date)
        _coded(d, "issueOrganization", dic.ISSUER, doc.issue_organization)
        _coded(d, "status", dic.DOCUMENT_STATUS, doc.status)
        for name, value in (
            ("surname", person.surname),
            ("name", person.name),
            ("patronymic", person.patronymic),
            ("birthDate", person.birth_date),
        ):
            _leaf(d, name, value)
    _leaf(p, "removed", person.removed)


def add_powers(data: etree._Element, powers: list[PowerOfAttorney], today: date, service_id: str | None) -> None:
    """``powersOfAttorney/powerOfAttorney`` (all proposed, egov-interfaces §9)."""
    holder = etree.SubElement(data, "powersOfAttorney")
    for power in powers:
        a = etree.SubElement(holder, "powerOfAttorney")
        _leaf(a, "registryNumber", power.registry_number)
        _leaf(a, "registrationDate", power.registration_date)
        notary = etree.SubElement(a, "notary")
        _leaf(notary, "iin", power.notary.iin)
        _leaf(notary, "fullName", power.notary.full_name)
        _leaf(notary, "licenseNumber", power.notary.license_number)
        _leaf(notary, "notarialDistrict", power.notary.notarial_district)
        for role, party in (("grantor", power.grantor), ("representative", power.representative)):
            element = etree.SubElement(a, role)
            _leaf(element, "iin", party.iin)
            _leaf(element, "name", party.name)
        _leaf(a, "powers", power.powers)
        if power.services is not None:  # absent: a general power
            services = etree.SubElement(a, "services")
            for sid in power.services:
                _leaf(services, "serviceId", sid)
        _leaf(a, "validFrom", power.valid_from)
        _leaf(a, "validTo", power.valid_to)
        _leaf(a, "substitutionAllowed", power.substitution_allowed)
        _entry(a, "status", POWER_STATUS[power.status(today)])
        if (revocation := power.revocation) is not None:
            element = etree.SubElement(a, "revocation")
            _leaf(element, "date", revocation.date)
            _leaf(element, "reason", revocation.reason)
            _leaf(element, "registryNumber", revocation.registry_number)
        if service_id is not None:
            _leaf(a, "coversService", power.covers(service_id))
