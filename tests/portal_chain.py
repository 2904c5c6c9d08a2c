"""Helpers for the portal chain's end-to-end tests: a citizen as an integrator makes one (a person in
ГБД ФЛ through the registries' admin API, NCA keys through the НУЦ's API, an account on the portal),
and the steps of a request through the public API."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import date

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egovsim import xmldsig
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.iin import Sex, make_iin
from egovsim.personas import person_record
from tests.conftest import ADMIN

PASSWORD = "Qazaqstan2026"
REFUSALS = RefusalCatalog.load()
_serials = itertools.count(300)


@dataclass
class Key:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    serial: str
    chain_pem: str

    def sign(self, xml: bytes) -> bytes:
        return xmldsig.sign_enveloped(xml, self.key, self.cert)


@dataclass
class Citizen:
    iin: str
    sign: Key
    auth: Key
    token: str = ""
    csrf: str = ""

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def issue(http: httpx.AsyncClient, iin: str, kind: str, **extra: object) -> Key:
    body = {"iin": iin, "kind": kind, "surname": "ТЕСТОВ", "name": "ТЕСТ", "patronymic": "ТЕСТОВИЧ"} | extra
    r = await http.post("/nca/api/certificates", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    issued = r.json()
    key = serialization.load_pem_private_key(issued["privateKey"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
    return Key(key, cert, issued["serial"], issued["chain"])


async def new_citizen(
    http: httpx.AsyncClient, *, alive: bool = True, in_registry: bool = True, register: bool = True
) -> Citizen:
    serial = next(_serials)
    iin = make_iin(date(1988, 4, 1 + serial % 27), Sex.MALE, serial)
    assert iin is not None
    if in_registry:
        record = person_record(
            {"iin": iin, "surname": "ТЕСТОВ", "name": "ТЕСТ", "patronymic": "ТЕСТОВИЧ",
             "registry": {} if alive else {"deathDate": "2025-01-10"}}
        )  # fmt: skip
        r = await http.post("/registries/api/persons", json=record, headers=ADMIN)
        assert r.status_code == 201, r.text
    citizen = Citizen(iin, await issue(http, iin, "sign"), await issue(http, iin, "auth"))
    if register:
        r = await http.post("/portal/api/accounts", json={"iin": iin, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = await http.post("/portal/api/login", json={"iin": iin, "password": PASSWORD})
        assert r.status_code == 200, r.text
        citizen.token, citizen.csrf = r.json()["token"], r.json()["csrfToken"]
        http.cookies.clear()  # API calls below go with the bearer token only
    return citizen


FORMS = {
    "foster_care_patronage_placement": {
        "child_name": "ТЕСТОВА АЙША", "child_iin": "150301600015", "placement": "patronage",
        "phone": "+77011234567", "consent": "yes",
    },
    "disabled_child_home_education_compensation": {
        "child_name": "ТЕСТОВ АЛИ", "child_iin": "150301500029", "school": "№ 12 мектеп-гимназия",
        "period_from": "2026-09-01", "bank_account": "KZ12345678901234567890", "consent": "yes",
    },
}  # fmt: skip
DOCUMENTS = {
    "foster_care_patronage_placement": ["health_certificate", "housing_document"],
    "disabled_child_home_education_compensation": ["pmpk_conclusion", "home_education_certificate"],
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def draft(http: httpx.AsyncClient, citizen: Citizen, service_id: str, *, attach: bool = True) -> str:
    r = await http.post(
        "/portal/api/requests",
        json={"serviceId": service_id, "fields": FORMS[service_id], "lang": "ru"},
        headers=citizen.bearer,
    )
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    for document_id in DOCUMENTS[service_id] if attach else []:
        r = await http.post(
            f"/portal/api/requests/{number}/attachments",
            files={"file": (f"{document_id}.pdf", PDF, "application/pdf")},
            data={"documentId": document_id},
            headers=citizen.bearer,
        )
        assert r.status_code == 201, r.text
    return number


async def document(http: httpx.AsyncClient, citizen: Citizen, number: str) -> bytes:
    r = await http.get(f"/portal/api/requests/{number}/document", headers=citizen.bearer)
    assert r.status_code == 200, r.text
    return r.content


async def submit(http: httpx.AsyncClient, citizen: Citizen, number: str, signed: bytes) -> httpx.Response:
    headers = citizen.bearer | {"Content-Type": "application/xml"}
    return await http.post(f"/portal/api/requests/{number}/submit", content=signed, headers=headers)


async def wait_closed(http: httpx.AsyncClient, citizen: Citizen, number: str, timeout: float = 10.0) -> dict:
    """The cabinet's view of the request once it is closed (result or refusal)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await http.get(f"/cabinet/api/requests/{number}?lang=ru", headers=citizen.bearer)
        assert r.status_code == 200, r.text
        body: dict = r.json()
        if body["status"] in ("approved", "refused", "failed"):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.05)


async def instant_autopilot(http: httpx.AsyncClient, service_id: str, **policy: object) -> None:
    r = await http.put(f"/rshep/api/policies/{service_id}", json={"scale": 0} | policy, headers=ADMIN)
    assert r.status_code == 200, r.text


def assert_texts(body: dict, code: str, **params: object) -> None:
    """The problem (or cabinet refusal) carries the code and its catalogue texts in kk, ru, en."""
    entry = REFUSALS.get(code)
    assert entry is not None
    assert body["code"] == code, body
    assert body["step"] == entry.step
    assert body["messages"] == entry.messages(params or None), body["messages"]
    assert all(body["messages"][lang] for lang in ("kk", "ru", "en"))
