"""Every refusal of the portal chain through the public API (regulations 001 and 004): the code,
its kk/ru/en texts from the refusal catalogue, and the step of the trace where the request stops.

- 2-процесс: a wrong password, a locked account (login, 1-шарт fails);
- registration: a person ГБД ФЛ does not know, a deceased person;
- 4-процесс: each way condition 2 (2-шарт) fails on the request's EDS;
- 6-процесс: defective documents (the provider's 3-шарт);
- a reasoned refusal of the provider with its ground.
"""

from __future__ import annotations

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from egovsim import xmldsig
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.qa.acts import self_signed as qa_self_signed
from tests.conftest import ADMIN
from tests.portal_chain import (
    PASSWORD,
    Citizen,
    assert_texts,
    document,
    draft,
    instant_autopilot,
    issue,
    new_citizen,
    submit,
    wait_closed,
)

REFUSALS = RefusalCatalog.load()
FOSTER = "foster_care_patronage_placement"


async def trace_steps(http: httpx.AsyncClient, trace_id: str) -> list[tuple[str, str, str | None]]:
    r = await http.get(f"/api/catalog/traces/{trace_id}")
    assert r.status_code == 200, r.text
    return [(e["step"], e["outcome"], e["code"]) for e in r.json()["events"]]


# -- 2-процесс -------------------------------------------------------------------------------------
async def test_wrong_password_is_refused_at_2_process(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    r = await http.post("/portal/api/login?lang=kk", json={"iin": citizen.iin, "password": "Wrong12345"})
    assert r.status_code == 401
    body = r.json()
    assert_texts(body, "PORTAL_AUTH_REFUSED")
    assert body["message"] == body["messages"]["kk"]
    assert await trace_steps(http, body["traceId"]) == [
        ("portal:1-процесс", "ok", None),
        ("portal:1-шарт", "refused", "PORTAL_AUTH_REFUSED"),
        ("portal:2-процесс", "refused", "PORTAL_AUTH_REFUSED"),
    ]


async def test_a_locked_account_is_refused_even_with_the_right_password(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    for _ in range(5):
        r = await http.post("/portal/api/login", json={"iin": citizen.iin, "password": "Wrong12345"})
        assert r.status_code == 401
    r = await http.post("/portal/api/login?lang=ru", json={"iin": citizen.iin, "password": PASSWORD})
    assert r.status_code == 423 or r.status_code >= 400
    body = r.json()
    assert_texts(body, "PORTAL_ACCOUNT_LOCKED")
    assert (await trace_steps(http, body["traceId"]))[-1] == ("portal:2-процесс", "refused", "PORTAL_ACCOUNT_LOCKED")


# -- registration ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("alive", "in_registry", "code"),
    [(True, False, "PORTAL_PERSON_NOT_FOUND"), (False, True, "PORTAL_PERSON_DECEASED")],
    ids=["unknown", "deceased"],
)
async def test_registration_checks_the_person_in_gbdfl(
    http: httpx.AsyncClient, alive: bool, in_registry: bool, code: str
) -> None:
    citizen = await new_citizen(http, alive=alive, in_registry=in_registry, register=False)
    r = await http.post("/portal/api/accounts", json={"iin": citizen.iin, "password": PASSWORD})
    assert r.status_code == 422
    body = r.json()
    assert_texts(body, code)
    assert await trace_steps(http, body["traceId"]) == [("portal:registration", "refused", code)]
    r = await http.post("/portal/api/login", json={"iin": citizen.iin, "password": PASSWORD})
    assert r.status_code == 401, "no account was made"


# -- 4-процесс: condition 2 on the request's EDS -----------------------------------------------------
def self_signed(iin: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    from datetime import UTC, datetime

    return qa_self_signed(iin, datetime.now(UTC))


def tamper(signed: bytes) -> bytes:
    root = etree.fromstring(signed)
    field = root.find("{urn:egovsim:portal:application}fields/{urn:egovsim:portal:application}field")
    assert field is not None
    field.text = "ӨЗГЕРТІЛГЕН"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


async def sign_for(http: httpx.AsyncClient, case: str, citizen: Citizen, xml: bytes) -> bytes:
    """The request document signed the way ``case`` fails condition 2."""
    if case == "EDS_CERT_REVOKED":
        assert (
            await http.post(f"/nca/api/certificates/{citizen.sign.serial}/revoke", headers=ADMIN)
        ).status_code == 200
        return citizen.sign.sign(xml)
    if case == "EDS_CERT_ON_HOLD":
        assert (await http.post(f"/nca/api/certificates/{citizen.sign.serial}/hold", headers=ADMIN)).status_code == 200
        return citizen.sign.sign(xml)
    if case == "EDS_CERT_EXPIRED":
        key = await issue(http, citizen.iin, "sign", not_before="2020-01-01T00:00:00+05:00",
                          not_after="2021-01-01T00:00:00+05:00")  # fmt: skip
        return key.sign(xml)
    if case == "EDS_CERT_NOT_YET_VALID":
        key = await issue(http, citizen.iin, "sign", not_before="2035-01-01T00:00:00+05:00",
                          not_after="2036-01-01T00:00:00+05:00")  # fmt: skip
        return key.sign(xml)
    if case == "EDS_WRONG_KEY_USAGE":
        return citizen.auth.sign(xml)
    if case == "EDS_IIN_MISMATCH":
        other = await new_citizen(http, register=False)
        return other.sign.sign(xml)
    if case == "EDS_SIGNATURE_INVALID":
        return tamper(citizen.sign.sign(xml))
    if case == "EDS_NOT_SIGNED":
        return xml
    if case == "EDS_SIGNATURE_WRAPPING":  # the signed document hidden inside another one
        signed = etree.fromstring(citizen.sign.sign(xml))
        wrapper = etree.Element("{urn:egovsim:portal:application}application")
        wrapper.append(signed)
        return etree.tostring(wrapper, xml_declaration=True, encoding="UTF-8")
    if case == "EDS_CERT_UNTRUSTED":
        return xmldsig.sign_enveloped(xml, *self_signed(citizen.iin))
    if case == "EDS_ALGORITHM_UNSUPPORTED":
        signed = citizen.sign.sign(xml)
        return signed.replace(b"xmldsig-more#rsa-sha256", b"xmldsig-more#gost34310-gost34311")
    if case == "EDS_REVOCATION_UNAVAILABLE":
        r = await http.post("/nca/api/faults", json={"ocsp": "unavailable", "crl": "unavailable"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        return citizen.sign.sign(xml)
    raise AssertionError(case)


EDS_FAILURES = [
    "EDS_CERT_REVOKED",
    "EDS_CERT_ON_HOLD",
    "EDS_CERT_EXPIRED",
    "EDS_CERT_NOT_YET_VALID",
    "EDS_WRONG_KEY_USAGE",
    "EDS_IIN_MISMATCH",
    "EDS_SIGNATURE_INVALID",
    "EDS_NOT_SIGNED",
    "EDS_SIGNATURE_WRAPPING",
    "EDS_CERT_UNTRUSTED",
    "EDS_ALGORITHM_UNSUPPORTED",
    "EDS_REVOCATION_UNAVAILABLE",
]


@pytest.mark.parametrize("code", EDS_FAILURES)
async def test_each_condition_2_failure_is_refused_at_4_process(http: httpx.AsyncClient, code: str) -> None:
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    signed = await sign_for(http, code, citizen, await document(http, citizen, number))
    r = await submit(http, citizen, number, signed)
    assert r.status_code == 422, r.text
    body = r.json()
    assert_texts(body, code)
    assert body["step"] == "portal:4-процесс"
    assert body["number"] == number
    steps = await trace_steps(http, number)
    assert steps[-2:] == [("portal:2-шарт", "refused", code), ("portal:4-процесс", "refused", code)], steps
    assert not any(s[0] == "portal:5-процесс" for s in steps), "nothing went to the gateway"
    # the cabinet keeps the refusal with the same code and texts
    r = await http.get(f"/cabinet/api/requests/{number}?lang=en", headers=citizen.bearer)
    assert r.status_code == 200
    cabinet = r.json()
    assert cabinet["status"] == "refused"
    assert_texts(cabinet["refusal"], code)
    assert cabinet["refusal"]["message"] == REFUSALS.get(code).texts.en  # type: ignore[union-attr]


async def test_hostile_xml_at_submission_changes_nothing(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    await document(http, citizen, number)
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>'
    r = await submit(http, citizen, number, bomb)
    assert r.status_code == 422
    assert r.json()["code"] == "EDS_DOCUMENT_MALFORMED"
    r = await http.get(f"/portal/api/requests/{number}", headers=citizen.bearer)
    assert r.json()["status"] == "draft"
    assert (await http.get(f"/api/catalog/traces/{number}")).status_code == 404, "nothing was traced"


async def test_a_document_changed_before_signing_is_not_the_request(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    xml = await document(http, citizen, number)
    r = await submit(http, citizen, number, citizen.sign.sign(xml.replace(b"patronage", b"foster_family")))
    assert r.status_code == 422
    assert_texts(r.json(), "PORTAL_DOCUMENT_MISMATCH")
    assert (await http.get(f"/portal/api/requests/{number}", headers=citizen.bearer)).json()["status"] == "draft"


# -- the provider: 6-процесс and the reasoned refusal -------------------------------------------------
async def test_defective_documents_are_refused_at_6_process(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, FOSTER)
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER, attach=False)  # the required documents are missing
    r = await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    assert r.status_code == 202, r.text
    closed = await wait_closed(http, citizen, number)
    assert closed["status"] == "refused"
    assert_texts(closed["refusal"], "DOCS_DEFECTIVE")
    assert "health_certificate" in closed["refusal"]["detail"]
    steps = [(e["step"], e["outcome"], e["code"]) for e in closed["timeline"]]
    assert ("portal:3-шарт", "refused", "DOCS_DEFECTIVE") in steps
    assert ("portal:6-процесс", "refused", "DOCS_DEFECTIVE") in steps
    assert not any(s[0].startswith("provider:") for s in steps), "no internal step runs"


async def test_a_reasoned_refusal_of_the_provider_carries_its_ground(http: httpx.AsyncClient) -> None:
    ground = "баланы тәрбиеге алуға медициналық қарсы көрсетілім бар"
    await instant_autopilot(http, FOSTER, decision="refuse", refusalGround=ground)
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    r = await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    assert r.status_code == 202, r.text
    closed = await wait_closed(http, citizen, number)
    assert closed["status"] == "refused"
    assert_texts(closed["refusal"], "REASONED_REFUSAL", ground=ground)
    assert ground in closed["refusal"]["messages"]["kk"]
    steps = [(e["step"], e["outcome"], e["code"]) for e in closed["timeline"]]
    assert ("portal:6-процесс", "refused", "REASONED_REFUSAL") in steps
    assert any(s[0] == "provider:5" for s in steps), "the refusal came after the internal steps"
    r = await http.get(f"/cabinet/api/requests/{number}/result", headers=citizen.bearer)
    assert r.status_code == 200
    assert ground.encode() in r.content
