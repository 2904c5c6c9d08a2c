"""The registries' admin API (``/registries/api/``): seeding and editing ГБД ФЛ persons and ЕНИС
powers of attorney, and the fault switches. Admin token required; unknown ids are 404 with a
code; a refused record stores nothing; nothing is ever a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from egovsim.app import RunningSimulator
from egovsim.iin import Sex, iins_for
from mock_registries.faults import FaultKind, fault
from mock_registries.service import Registries
from mock_registries.tables import faults
from tests.conftest import ADMIN

pytestmark = pytest.mark.asyncio(loop_scope="module")

PERSONS = "/registries/api/persons"
POWERS = "/registries/api/powers-of-attorney"
FAULTS = "/registries/api/faults"

ASET = {
    "iin": "900115300013",
    "surname": "АХМЕТОВ",
    "name": "АСЕТ",
    "patronymic": "ЕРЛАНҰЛЫ",
    "birthDate": "1990-01-15",
    "gender": "1",
    "nationality": "005",
    "citizenship": "398",
    "birthPlace": {"country": "398", "region": "710000000", "district": "711100000", "city": "Астана"},
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with nca.client() as client:
        yield client


async def today(http: httpx.AsyncClient) -> date:
    return date.fromisoformat((await http.get("/api/catalog/clock")).json()["now"][:10])


def power(number: str, day: date, **changes: Any) -> dict[str, Any]:
    record = {
        "registryNumber": number,
        "registrationDate": str(day),
        "notary": {
            "iin": "780302300121",
            "fullName": "ЖАНҰЗАҚОВ Н. С.",
            "licenseNumber": "77",
            "notarialDistrict": "Астана",
        },
        "grantor": {"iin": "180440001235", "name": 'ТОО "ДАЛА ТЕСТ"'},  # an organisation: its BIN
        "representative": {"iin": ASET["iin"], "name": "АХМЕТОВ АСЕТ"},
        "powers": "получать справки",
        "services": ["school_certificate_duplicate"],
        "validFrom": str(day),
        "validTo": str(day + timedelta(days=30)),
    }
    return record | changes


def code_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])


# -- authentication --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", PERSONS),
        ("GET", f"{PERSONS}/900115300013"),
        ("PUT", f"{PERSONS}/900115300013"),
        ("DELETE", f"{PERSONS}/900115300013"),
        ("POST", POWERS),
        ("GET", POWERS),
        ("GET", f"{POWERS}/NP-1"),
        ("DELETE", f"{POWERS}/NP-1"),
        ("GET", FAULTS),
        ("PUT", f"{FAULTS}/gbdfl"),
        ("DELETE", f"{FAULTS}/gbdfl"),
    ],
)
async def test_every_admin_endpoint_needs_the_admin_token(http: httpx.AsyncClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = await http.request(method, path, json={}, headers=headers)
        assert r.status_code == 401 and code_of(r) == "ADMIN_AUTH_REQUIRED"


# -- persons ---------------------------------------------------------------------------------------
async def test_a_person_is_created_read_replaced_and_removed(http: httpx.AsyncClient) -> None:
    created = await http.post(PERSONS, json=ASET, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["lifeStatus"] == "0" and created.json()["removed"] is False
    again = await http.post(PERSONS, json=ASET, headers=ADMIN)
    assert again.status_code == 409 and code_of(again) == "REGISTRY_RECORD_EXISTS"

    deceased = ASET | {"lifeStatus": "1", "deathDate": "2025-02-01", "extra": {"deathCertificate": "A-1"}}
    replaced = await http.put(f"{PERSONS}/{ASET['iin']}", json=deceased, headers=ADMIN)
    assert replaced.status_code == 200, replaced.text
    read = (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).json()
    assert (read["lifeStatus"], read["deathDate"], read["extra"]) == ("1", "2025-02-01", {"deathCertificate": "A-1"})
    assert read["birthPlace"] == ASET["birthPlace"]

    assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204
    gone = await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)
    assert gone.status_code == 404 and code_of(gone) == "PERSON_NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{PERSONS}/850716400607"), ("PUT", f"{PERSONS}/850716400607"), ("DELETE", f"{PERSONS}/850716400607")],
)
async def test_an_unknown_person_is_404_person_not_found(http: httpx.AsyncClient, method: str, path: str) -> None:
    body = ASET | {"iin": "850716400607", "birthDate": "1985-07-16", "gender": "2"}
    r = await http.request(method, path, json=body if method == "PUT" else None, headers=ADMIN)
    assert r.status_code == 404 and code_of(r) == "PERSON_NOT_FOUND"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"birthDate": "1990-01-16"}, "disagrees with the IIN"),  # the IIN says 1990-01-15
        ({"gender": "2"}, "digit 7"),
        ({"iin": "900115300014"}, "check digit"),
        ({"iin": "901315300013"}, "iin"),  # month 13
        ({"nationality": "999"}, "nationality"),
        ({"citizenship": "000"}, "citizenship"),
        ({"birthPlace": {"country": "398", "region": "710000000", "district": "751710000"}}, "not in region"),
        ({"document": {"type": "099", "number": "N1234567"}}, "document.type"),
        ({"deathDate": "2020-01-01"}, "deathDate"),  # alive, yet a death date
        ({"lifeStatus": "1"}, "deathDate"),  # deceased without one
    ],
)
async def test_an_invalid_person_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, change: dict[str, Any], said: str
) -> None:
    body = ASET | change
    r = await http.post(PERSONS, json=body, headers=ADMIN)
    assert r.status_code == 422 and code_of(r) == "REGISTRY_RECORD_INVALID" and said in r.json()["detail"], r.text
    assert (await http.get(f"{PERSONS}/{body['iin']}", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        ASET | {"iin": "9001153000"},  # not twelve digits
        ASET | {"unknownField": 1},
        {k: v for k, v in ASET.items() if k != "surname"},
        ASET | {"birthDate": "15.01.1990"},
        ASET | {"document": {"type": "002", "number": "1" * 40}},  # longer than the column
        ["not", "an", "object"],
    ],
)
async def test_a_malformed_person_is_422_request_invalid(http: httpx.AsyncClient, body: Any) -> None:
    r = await http.post(PERSONS, json=body, headers=ADMIN)
    assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID"
    assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 404


async def test_garbage_is_never_a_500(http: httpx.AsyncClient) -> None:
    for path in (PERSONS, POWERS, f"{FAULTS}/gbdfl"):
        for content in (b"{", b"\xff\xfe", b"null", b'{"iin": null}'):
            method = "PUT" if path.startswith(FAULTS) else "POST"
            r = await http.request(method, path, content=content, headers=ADMIN | {"Content-Type": "application/json"})
            assert 400 <= r.status_code < 500, (path, content, r.text)


async def test_replacing_under_another_iin_is_refused(http: httpx.AsyncClient) -> None:
    other = ASET | {"iin": "750302300077", "birthDate": "1975-03-02"}
    assert (await http.post(PERSONS, json=other, headers=ADMIN)).status_code == 201
    r = await http.put(f"{PERSONS}/{other['iin']}", json=ASET, headers=ADMIN)
    assert r.status_code == 422 and code_of(r) == "REGISTRY_RECORD_INVALID"
    assert (await http.get(f"{PERSONS}/{other['iin']}", headers=ADMIN)).json()["birthDate"] == "1975-03-02"
    assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 404


# -- powers of attorney ----------------------------------------------------------------------------
async def test_a_power_of_attorney_lives_through_the_api_and_its_status_follows_the_simulated_clock(
    http: httpx.AsyncClient,
) -> None:
    day = await today(http)
    created = await http.post(POWERS, json=power("NP-ADMIN-1", day), headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "ACTIVE" and created.json()["revocation"] is None
    assert (await http.post(POWERS, json=power("NP-ADMIN-1", day), headers=ADMIN)).status_code == 409

    by_representative = await http.get(POWERS, params={"representativeIin": ASET["iin"]}, headers=ADMIN)
    by_grantor = await http.get(POWERS, params={"grantorIin": "180440001235"}, headers=ADMIN)
    for listed in (by_representative, by_grantor):
        assert [p["registryNumber"] for p in listed.json()["powersOfAttorney"]] == ["NP-ADMIN-1"]
    nobody = await http.get(POWERS, params={"representativeIin": "850716400607"}, headers=ADMIN)
    assert nobody.json() == {"powersOfAttorney": []}

    # 31 simulated days later it has expired
    assert (await http.post("/api/catalog/clock/offset", json={"by": "31d"}, headers=ADMIN)).status_code == 200
    try:
        assert (await http.get(f"{POWERS}/NP-ADMIN-1", headers=ADMIN)).json()["status"] == "EXPIRED"
    finally:
        assert (await http.post("/api/catalog/clock/resume", headers=ADMIN)).status_code == 200

    revoked = power("NP-ADMIN-1", day, revocation={"date": str(day), "reason": "отменена", "registryNumber": "R-1"})
    r = await http.put(f"{POWERS}/NP-ADMIN-1", json=revoked, headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "REVOKED"
    assert r.json()["revocation"] == {"date": str(day), "reason": "отменена", "registryNumber": "R-1"}

    assert (await http.delete(f"{POWERS}/NP-ADMIN-1", headers=ADMIN)).status_code == 204
    gone = await http.get(f"{POWERS}/NP-ADMIN-1", headers=ADMIN)
    assert gone.status_code == 404 and code_of(gone) == "POWER_OF_ATTORNEY_NOT_FOUND"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_an_unknown_power_of_attorney_is_404(http: httpx.AsyncClient, method: str) -> None:
    body = power("NP-NONE", await today(http)) if method == "PUT" else None
    r = await http.request(method, f"{POWERS}/NP-NONE", json=body, headers=ADMIN)
    assert r.status_code == 404 and code_of(r) == "POWER_OF_ATTORNEY_NOT_FOUND"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"services": ["no_such_service"]}, "service catalogue"),
        ({"validTo": "2000-01-01"}, "validTo"),
        ({"representative": {"iin": "900115300014", "name": "X"}}, "representative.iin"),
        ({"grantor": {"iin": "180440001236", "name": "X"}}, "grantor.iin"),
        ({"grantor": {"iin": "900115300013", "name": "X"}}, "their own representative"),
        ({"notary": {"iin": "1", "fullName": "X", "licenseNumber": "1", "notarialDistrict": "X"}}, None),
    ],
)
async def test_an_invalid_power_of_attorney_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, change: dict[str, Any], said: str | None
) -> None:
    r = await http.post(POWERS, json=power("NP-BAD-1", await today(http), **change), headers=ADMIN)
    assert r.status_code == 422, r.text
    if said is None:  # the shape itself is wrong
        assert code_of(r) == "REQUEST_INVALID"
    else:
        assert code_of(r) == "REGISTRY_RECORD_INVALID" and said in r.json()["detail"]
    assert (await http.get(f"{POWERS}/NP-BAD-1", headers=ADMIN)).status_code == 404


# -- fault switches --------------------------------------------------------------------------------
async def test_fault_switches_are_set_listed_and_cleared(http: httpx.AsyncClient) -> None:
    r = await http.put(f"{FAULTS}/enis", json={"kind": "slow", "delaySeconds": 1.5, "remaining": 3}, headers=ADMIN)
    assert r.status_code == 200
    assert r.json() == {"registry": "enis", "kind": "slow", "delaySeconds": 1.5, "remaining": 3}
    r = await http.put(f"{FAULTS}/gbdfl", json={"kind": "timeout"}, headers=ADMIN)
    assert r.json()["delaySeconds"] > 600  # longer than any route timeout the gateway accepts
    listed = (await http.get(FAULTS, headers=ADMIN)).json()["faults"]
    assert [(f["registry"], f["kind"]) for f in listed] == [("enis", "slow"), ("gbdfl", "timeout")]
    for registry in ("enis", "gbdfl"):
        assert (await http.delete(f"{FAULTS}/{registry}", headers=ADMIN)).status_code == 204
    assert (await http.get(FAULTS, headers=ADMIN)).json() == {"faults": []}


@pytest.mark.parametrize(
    ("registry", "body", "status", "code"),
    [
        ("nope", {"kind": "slow"}, 404, "REGISTRY_UNKNOWN"),
        ("gbdfl", {"kind": "explode"}, 422, "REQUEST_INVALID"),
        ("gbdfl", {"kind": "slow", "delaySeconds": -1}, 422, "REQUEST_INVALID"),
        ("gbdfl", {"kind": "slow", "remaining": 0}, 422, "REQUEST_INVALID"),
    ],
)
async def test_a_bad_fault_switch_is_refused(
    http: httpx.AsyncClient, registry: str, body: dict[str, Any], status: int, code: str
) -> None:
    r = await http.put(f"{FAULTS}/{registry}", json=body, headers=ADMIN)
    assert r.status_code == status and code_of(r) == code
    assert (await http.get(FAULTS, headers=ADMIN)).json() == {"faults": []}
    cleared = await http.delete(f"{FAULTS}/nope", headers=ADMIN)
    assert cleared.status_code == 404 and code_of(cleared) == "REGISTRY_UNKNOWN"


# -- regressions: input that used to be stored, or to be a 500 ------------------------------------
def raw(body: Any) -> dict[str, Any]:
    """``body`` as JSON text with \\u escapes (a lone surrogate survives) and NaN allowed."""
    return {"content": json.dumps(body).encode(), "headers": ADMIN | {"Content-Type": "application/json"}}


XML_UNSAFE = ["A\u0001B", "A\u0000B", "A\u001fB", "A\ufffeB", "A\uffffB", "A\ud800B"]


@pytest.mark.parametrize("bad", XML_UNSAFE)
@pytest.mark.parametrize(
    "where", ["surname", "patronymic", "birthPlace.city", "regAddress.street", "document.number", "document.ok"]
)
async def test_a_person_with_characters_xml_cannot_carry_is_request_invalid(
    http: httpx.AsyncClient, bad: str, where: str
) -> None:
    body: dict[str, Any] = ASET | {"regAddress": {"street": "Абая"}, "document": {"type": "002", "number": "1"}}
    field, _, sub = where.partition(".")
    if sub == "ok":  # the same characters in `extra` are JSON's business, not XML's
        body["extra"] = {"note": bad} if bad != "A\ud800B" else {"note": "ok"}
    elif sub:
        body[field] = body[field] | {sub: bad}
    else:
        body[field] = bad
    r = await http.post(PERSONS, **raw(body))
    if sub == "ok":
        assert r.status_code == 201, r.text
        assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).json()["extra"] == body["extra"]
        assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204
        return
    assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID", r.text
    assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 404
    # a stored person would spoil every later answer: replacing one is refused alike
    assert (await http.post(PERSONS, json=ASET, headers=ADMIN)).status_code == 201
    try:
        r = await http.put(f"{PERSONS}/{ASET['iin']}", **raw(body))
        assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID", r.text
        assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).json()["surname"] == ASET["surname"]
    finally:
        assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204


@pytest.mark.parametrize("bad", XML_UNSAFE)
@pytest.mark.parametrize(
    "where",
    ["powers", "notary.fullName", "notary.notarialDistrict", "notary.licenseNumber", "grantor.name",
     "representative.name", "revocation.reason", "revocation.registryNumber"],
)  # fmt: skip
async def test_a_power_of_attorney_with_characters_xml_cannot_carry_is_request_invalid(
    http: httpx.AsyncClient, bad: str, where: str
) -> None:
    day = await today(http)
    body = power("NP-XML-1", day, revocation={"date": str(day), "reason": "отменена", "registryNumber": "R-1"})
    field, _, sub = where.partition(".")
    if sub:
        body[field] = body[field] | {sub: bad}
    else:
        body[field] = bad
    r = await http.post(POWERS, **raw(body))
    assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID", r.text
    assert (await http.get(f"{POWERS}/NP-XML-1", headers=ADMIN)).status_code == 404


async def test_xml_safe_whitespace_is_accepted(http: httpx.AsyncClient) -> None:
    body = ASET | {"surname": "АХМЕТОВ\tА", "birthPlace": ASET["birthPlace"] | {"city": "Аста\r\nна"}}
    assert (await http.post(PERSONS, json=body, headers=ADMIN)).status_code == 201
    try:
        read = (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).json()
        assert (read["surname"], read["birthPlace"]["city"]) == ("АХМЕТОВ\tА", "Аста\r\nна")
    finally:
        assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
async def test_extra_without_a_json_number_is_request_invalid(http: httpx.AsyncClient, number: float) -> None:
    r = await http.post(PERSONS, **raw(ASET | {"extra": {"weight": [1, {"kg": number}]}}))
    assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID", r.text
    assert (await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 404


BAD_IDS = {
    PERSONS: ("%00", "A%00B", "90011530001x", "9001153000130"),
    POWERS: ("%00", "NP%00", "NP%01", "N%20P", "X" * 33),
}
BAD_ID_PATHS = [
    (m, f"{base}/{bad}") for m in ("GET", "PUT", "DELETE") for base, bads in BAD_IDS.items() for bad in bads
]
BAD_QUERIES = [
    f"{POWERS}?{name}={bad}" for name in ("representativeIin", "grantorIin") for bad in ("%00", "90011", "abc")
]


@pytest.mark.parametrize(("method", "path"), BAD_ID_PATHS + [("GET", query) for query in BAD_QUERIES])
async def test_an_id_that_cannot_exist_is_422_request_invalid(http: httpx.AsyncClient, method: str, path: str) -> None:
    body = (ASET if path.startswith(PERSONS) else power("NP-1", await today(http))) if method == "PUT" else None
    r = await http.request(method, path, json=body, headers=ADMIN)
    assert r.status_code == 422 and code_of(r) == "REQUEST_INVALID", r.text
    assert "path." in r.json()["detail"] or "query." in r.json()["detail"], r.text


async def test_an_empty_address_is_answered_as_stored(http: httpx.AsyncClient) -> None:
    created = await http.post(PERSONS, json=ASET | {"regAddress": {}}, headers=ADMIN)
    assert created.status_code == 201, created.text
    try:
        read = await http.get(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)
        assert created.json() == read.json() and read.json()["regAddress"] is None
        replaced = await http.put(f"{PERSONS}/{ASET['iin']}", json=ASET | {"regAddress": {}}, headers=ADMIN)
        assert replaced.status_code == 200 and replaced.json() == read.json()
    finally:
        assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204


async def test_dates_the_simulated_clock_has_not_reached_are_refused(http: httpx.AsyncClient) -> None:
    day = await today(http)
    unborn = date(day.year + 1, 6, 15)
    iin = iins_for(unborn, Sex.MALE)[0]
    cases = [
        (ASET | {"iin": iin, "birthDate": str(unborn)}, f"birthDate {unborn} is after today"),
        (ASET | {"lifeStatus": "1", "deathDate": str(day + timedelta(days=1))}, "deathDate"),
        (ASET | {"lifeStatus": "1", "deathDate": "1989-12-31"}, "deathDate is before birthDate"),
    ]
    for body, said in cases:
        r = await http.post(PERSONS, json=body, headers=ADMIN)
        assert r.status_code == 422 and code_of(r) == "REGISTRY_RECORD_INVALID", r.text
        assert said in r.json()["detail"], r.text
        assert (await http.get(f"{PERSONS}/{body['iin']}", headers=ADMIN)).status_code == 404
    # today itself is fine (the IIN agrees)
    assert (
        await http.post(PERSONS, json=ASET | {"lifeStatus": "1", "deathDate": str(day)}, headers=ADMIN)
    ).status_code == 201
    assert (await http.delete(f"{PERSONS}/{ASET['iin']}", headers=ADMIN)).status_code == 204


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"registrationDate": 1, "validFrom": 1, "validTo": 30}, "registrationDate"),
        ({"validFrom": 10, "validTo": 5}, "validTo is before validFrom"),
        ({"notary": "grantor"}, "the notary cannot be the grantor"),
        ({"notary": "representative"}, "the notary cannot be the representative"),
    ],
)
async def test_a_power_of_attorney_that_cannot_be_is_refused(
    http: httpx.AsyncClient, change: dict[str, Any], said: str
) -> None:
    day = await today(http)
    body = power("NP-BAD-2", day)
    for name, value in change.items():
        if isinstance(value, int):  # days from today
            body[name] = str(day + timedelta(days=value))
    if change.get("notary") == "grantor":
        body["grantor"] = {"iin": body["notary"]["iin"], "name": "ЖАНҰЗАҚОВ Н. С."}
    elif change.get("notary") == "representative":
        body["notary"] = body["notary"] | {"iin": ASET["iin"]}
    r = await http.post(POWERS, json=body, headers=ADMIN)
    assert r.status_code == 422 and code_of(r) == "REGISTRY_RECORD_INVALID" and said in r.json()["detail"], r.text
    assert (await http.get(f"{POWERS}/NP-BAD-2", headers=ADMIN)).status_code == 404


async def test_concurrent_fault_switches_replace_each_other_cleanly(http: httpx.AsyncClient) -> None:
    kinds = ["unavailable", "slow", "not_found", "malformed", "timeout"]
    bodies = [{"kind": kinds[i % len(kinds)], "remaining": i + 1} for i in range(30)]
    answers = await asyncio.gather(*(http.put(f"{FAULTS}/gbdfl", json=b, headers=ADMIN) for b in bodies))
    try:
        assert [r.status_code for r in answers] == [200] * 30, [r.text for r in answers if r.status_code != 200]
        listed = (await http.get(FAULTS, headers=ADMIN)).json()["faults"]
        assert len(listed) == 1 and listed[0] in [r.json() for r in answers]
    finally:
        assert (await http.delete(f"{FAULTS}/gbdfl", headers=ADMIN)).status_code == 204


async def test_a_stale_countdown_does_not_spend_the_switch_that_replaced_it(nca: RunningSimulator) -> None:
    switches = Registries.of(nca.kernel).faults
    engine = nca.kernel.db.engine
    await switches.put(fault("enis", FaultKind.SLOW, 0.0, 2))
    async with engine.connect() as conn:
        stale = (await conn.execute(select(faults).where(faults.c.registry == "enis"))).one()
    await switches.put(fault("enis", FaultKind.NOT_FOUND, None, 2))  # the same remaining, another switch
    try:
        async with engine.begin() as conn:
            assert not await switches._count_down(conn, stale)
        assert [f.describe() for f in await switches.all()] == [
            {"registry": "enis", "kind": "not_found", "delaySeconds": 0.0, "remaining": 2}
        ]
        assert (await switches.take("enis")) == fault("enis", FaultKind.NOT_FOUND, None, 2)
        assert (await switches.take("enis")) == fault("enis", FaultKind.NOT_FOUND, None, 1)
        assert await switches.take("enis") is None
    finally:
        await switches.clear("enis")
