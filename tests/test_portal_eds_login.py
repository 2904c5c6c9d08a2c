"""Login to the portal by EDS (regulation 001, 1-процесс … 2-процесс) as an integrator meets it:
the portal hands out a challenge, the browser signs it whole with the citizen's AUTH key the way
NCALayer ``signXml`` does, and the signed challenge is exchanged for a session. The certificates
come from the НУЦ's issuance API; every refusal has its code, status and kk/ru/en texts."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from sqlalchemy import func, select

import portal.eds_login
from egovsim import xmldsig
from egovsim.app import RunningSimulator
from egovsim.iin import Sex, make_iin
from portal.accounts import PersonStatus
from portal.eds_login import NAMESPACE, EdsLogin, challenge_document, document_mismatch
from portal.service import Portal
from portal.tables import eds_challenges
from tests.conftest import ADMIN


def iin(serial: int) -> str:
    number = make_iin(date(1985, 7, 16), Sex.FEMALE, serial)
    assert number is not None
    return number


AIGUL = iin(70)
STRANGER = iin(71)  # a real person with an AUTH key, but no portal account
PASSWORD = "Qazaqstan2026"
NS = {"l": NAMESPACE}


class Alive:
    """ГБД ФЛ as registration sees it: everyone is alive."""

    async def status(self, number: str) -> PersonStatus:
        return "alive"


@dataclass(frozen=True)
class Key:
    """A key file from the НУЦ: the private key, its certificate and the certificate's serial."""

    private: rsa.RSAPrivateKey
    certificate: x509.Certificate
    serial: str


@pytest.fixture
async def api(sim: RunningSimulator, http: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    Portal.of(sim.kernel).accounts.directory = Alive()
    assert (await http.post("/api/catalog/clock/freeze", headers=ADMIN)).status_code == 200
    r = await http.post("/portal/api/accounts", json={"iin": AIGUL, "password": PASSWORD})
    assert r.status_code == 201, r.text
    yield http


async def key_of(http: httpx.AsyncClient, number: str = AIGUL, kind: str = "auth") -> Key:
    body = {"iin": number, "kind": kind, "surname": "СЕРІКОВА", "name": "АЙГҮЛ", "patronymic": "ҚАЙРАТҚЫЗЫ"}
    r = await http.post("/nca/api/certificates", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    issued = r.json()
    private = serialization.load_pem_private_key(issued["privateKey"].encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return Key(private, x509.load_pem_x509_certificate(issued["certificate"].encode()), issued["serial"])


async def challenge(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.post("/portal/api/login/eds/challenge")
    assert r.status_code == 200, r.text
    issued: dict[str, Any] = r.json()
    return issued


def signed(document: str | bytes, key: Key) -> str:
    """What NCALayer ``signXml`` gives back: the whole document with an enveloped signature."""
    return xmldsig.sign_enveloped(document, key.private, key.certificate).decode()


def edited(document: str, edit: Any) -> bytes:
    root = etree.fromstring(document.encode())
    edit(root)
    return etree.tostring(root)


async def login(http: httpx.AsyncClient, challenge_id: str, signed_xml: str, lang: str = "en") -> httpx.Response:
    body = {"challengeId": challenge_id, "signedXml": signed_xml}
    return await http.post("/portal/api/login/eds", params={"lang": lang}, json=body)


def refused(sim: RunningSimulator, r: httpx.Response, code: str, status: int) -> str:
    """Asserts a coded refusal with the catalogue's step and texts; returns its detail."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    entry = sim.kernel.refusals.get(code)
    assert entry is not None and problem["code"] == code and problem["step"] == entry.step
    assert problem["messages"] == entry.messages() and all(problem["messages"][lang] for lang in ("kk", "ru", "en"))
    assert problem["message"] == entry.message(r.request.url.params.get("lang", "en"))
    detail: str = problem.get("detail", "")
    return detail


# -- the challenge --------------------------------------------------------------------------------
async def test_the_challenge_is_a_document_naming_the_portal_valid_for_5_simulated_minutes(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    first, second = await challenge(api), await challenge(api)
    assert first["challengeId"] != second["challengeId"]
    root = etree.fromstring(first["xml"].encode())
    assert root.tag == f"{{{NAMESPACE}}}login"
    assert [etree.QName(child).localname for child in root] == ["challenge", "issuedAt", "audience"]
    nonce = root.findtext("l:challenge", namespaces=NS)
    assert (
        nonce
        and len(nonce) == 43
        and nonce != etree.fromstring(second["xml"].encode()).findtext("l:challenge", namespaces=NS)
    )
    assert root.findtext("l:audience", namespaces=NS) == f"{sim.kernel.settings.effective_public_url}/portal"
    issued = datetime.fromisoformat(root.findtext("l:issuedAt", namespaces=NS) or "")
    assert issued.utcoffset() == timedelta(hours=5)  # Asia/Almaty since 2024-03-01
    assert abs(issued - sim.kernel.clock.now()) < timedelta(seconds=1)
    assert datetime.fromisoformat(first["expiresAt"]) == issued + timedelta(minutes=5)
    async with sim.kernel.db.engine.connect() as conn:
        stored = (await conn.execute(select(eds_challenges))).all()
    assert len(stored) == 2 and all(nonce not in str(tuple(row)) for row in stored)  # only its hash is kept


# -- success ------------------------------------------------------------------------------------
async def test_an_auth_signature_over_the_challenge_logs_in_like_a_password(api: httpx.AsyncClient) -> None:
    key = await key_of(api)
    issued = await challenge(api)
    r = await login(api, issued["challengeId"], signed(issued["xml"], key))
    assert r.status_code == 200, r.text
    by_password = await api.post("/portal/api/login", json={"iin": AIGUL, "password": PASSWORD})
    assert set(r.json()) == set(by_password.json())  # the same answer as the password login
    cookie = r.headers["set-cookie"]
    assert "egovsim_portal=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    api.cookies.clear()
    me = await api.get("/portal/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.status_code == 200 and me.json()["iin"] == AIGUL and me.json()["sessionId"] == r.json()["sessionId"]


# -- condition 2 on the AUTH key ------------------------------------------------------------------
async def test_a_sign_key_is_refused_and_the_same_challenge_then_takes_the_auth_key(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    issued = await challenge(api)
    r = await login(api, issued["challengeId"], signed(issued["xml"], await key_of(api, kind="sign")), "kk")
    assert "SIGN" in refused(sim, r, "PORTAL_EDS_LOGIN_WRONG_KEY", 401)
    assert r.json()["step"] == "portal:2-процесс"
    # a refused attempt does not spend the challenge
    assert (await login(api, issued["challengeId"], signed(issued["xml"], await key_of(api)))).status_code == 200


async def test_a_revoked_auth_certificate_is_refused_at_2_process(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    key = await key_of(api)
    revoke = await api.post(
        f"/nca/api/certificates/{key.serial}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    assert revoke.status_code == 200, revoke.text
    issued = await challenge(api)
    r = await login(api, issued["challengeId"], signed(issued["xml"], key), "ru")
    assert refused(sim, r, "PORTAL_EDS_LOGIN_REFUSED", 401).startswith("EDS_CERT_REVOKED: OCSP: revoked keyCompromise")


async def test_a_certificate_of_a_person_without_an_account_is_refused(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    issued = await challenge(api)
    r = await login(api, issued["challengeId"], signed(issued["xml"], await key_of(api, STRANGER)))
    assert STRANGER in refused(sim, r, "PORTAL_EDS_ACCOUNT_NOT_FOUND", 401)


# -- the challenge's life -------------------------------------------------------------------------
async def test_a_challenge_expires_after_5_simulated_minutes(sim: RunningSimulator, api: httpx.AsyncClient) -> None:
    key = await key_of(api)
    early, late = await challenge(api), await challenge(api)
    assert (await api.post("/api/catalog/clock/advance", json={"by": "4m59s"}, headers=ADMIN)).status_code == 200
    assert (await login(api, early["challengeId"], signed(early["xml"], key))).status_code == 200
    assert (await api.post("/api/catalog/clock/advance", json={"by": "1s"}, headers=ADMIN)).status_code == 200
    r = await login(api, late["challengeId"], signed(late["xml"], key), "kk")
    refused(sim, r, "PORTAL_EDS_CHALLENGE_EXPIRED", 401)


async def test_a_challenge_lets_one_login_in_even_under_concurrency(
    sim: RunningSimulator, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await key_of(api)
    issued = await challenge(api)
    document = signed(issued["xml"], key)
    assert (await login(api, issued["challengeId"], document)).status_code == 200
    refused(sim, await login(api, issued["challengeId"], document, "ru"), "PORTAL_EDS_CHALLENGE_USED", 401)
    # four submissions of one signed challenge pass every check together; only then do they spend
    everyone_checked = asyncio.Barrier(4)
    spend = EdsLogin._spend

    async def together(self: EdsLogin, challenge_id: str) -> None:
        await asyncio.wait_for(everyone_checked.wait(), 60)
        await spend(self, challenge_id)

    monkeypatch.setattr(EdsLogin, "_spend", together)
    issued = await challenge(api)
    document = signed(issued["xml"], key)
    answers = await asyncio.gather(*(login(api, issued["challengeId"], document) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [200, 401, 401, 401]
    for r in answers:
        if r.status_code == 401:
            refused(sim, r, "PORTAL_EDS_CHALLENGE_USED", 401)


async def test_an_unknown_challenge_is_refused(sim: RunningSimulator, api: httpx.AsyncClient) -> None:
    issued = await challenge(api)
    r = await login(api, "0" * 32, signed(issued["xml"], await key_of(api)), "kk")
    refused(sim, r, "PORTAL_EDS_CHALLENGE_UNKNOWN", 401)


# -- the signed document must be the challenge ------------------------------------------------------
async def test_a_challenge_changed_after_signing_is_refused(sim: RunningSimulator, api: httpx.AsyncClient) -> None:
    key = await key_of(api)
    issued = await challenge(api)
    document = signed(issued["xml"], key)
    nonce = etree.fromstring(issued["xml"].encode()).findtext("l:challenge", namespaces=NS) or ""
    forged = document.replace(nonce, ("A" if nonce[0] != "A" else "B") + nonce[1:])
    r = await login(api, issued["challengeId"], forged)
    assert refused(sim, r, "PORTAL_EDS_LOGIN_REFUSED", 401).startswith("EDS_SIGNATURE_INVALID")
    assert (await login(api, issued["challengeId"], document)).status_code == 200  # the untouched one still works


async def test_a_signed_document_other_than_the_challenge_is_refused(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    key = await key_of(api)
    issued, other = await challenge(api), await challenge(api)

    def audience(root: etree._Element) -> None:
        root[2].text = "https://evil.example/portal"

    def extra(root: etree._Element) -> None:
        etree.SubElement(root, f"{{{NAMESPACE}}}iin").text = STRANGER

    def issued_at(root: etree._Element) -> None:
        root[1].text = datetime.fromisoformat(root[1].text or "").replace(year=2030).isoformat()

    cases = [
        (other["xml"], "challenge value"),  # another challenge's document, validly signed
        (edited(issued["xml"], audience), "audience"),
        (edited(issued["xml"], extra), "nothing else"),
        (edited(issued["xml"], issued_at), "issuedAt"),
        ('<login xmlns="urn:egovsim:other"><challenge>x</challenge></login>', "document element"),
    ]
    for document, why in cases:
        r = await login(api, issued["challengeId"], signed(document, key), "ru")
        assert why in refused(sim, r, "PORTAL_EDS_CHALLENGE_MISMATCH", 401), why


# -- bad input ----------------------------------------------------------------------------------
XXE = (
    '<?xml version="1.0"?><!DOCTYPE login [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    f'<login xmlns="{NAMESPACE}"><challenge>&secret;</challenge></login>'
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE login [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    f'<login xmlns="{NAMESPACE}"><challenge>&d;</challenge></login>'
)


async def test_entities_and_malformed_or_oversize_documents_are_refused_and_change_nothing(
    sim: RunningSimulator, api: httpx.AsyncClient
) -> None:
    key = await key_of(api)
    issued = await challenge(api)
    for document, why in (
        (XXE, "DOCTYPE"),
        (LAUGHS, "DOCTYPE"),
        ("<login", "not well-formed"),
        ("{}", "not well-formed"),
    ):
        r = await login(api, issued["challengeId"], document, "kk")
        detail = refused(sim, r, "PORTAL_EDS_LOGIN_REFUSED", 401)
        assert detail.startswith("EDS_DOCUMENT_MALFORMED") and why in detail, detail
    unsigned = await login(api, issued["challengeId"], issued["xml"])
    assert refused(sim, unsigned, "PORTAL_EDS_LOGIN_REFUSED", 401).startswith("EDS_NOT_SIGNED")
    oversize = await login(api, issued["challengeId"], "<login>" + "x" * 70_000 + "</login>")
    assert "signedXml" in refused(sim, oversize, "REQUEST_INVALID", 422)
    r = await api.post("/portal/api/login/eds", json={"challengeId": "../../etc", "signedXml": "<a/>"})
    refused(sim, r, "REQUEST_INVALID", 422)
    r = await api.post("/portal/api/login/eds", content=XXE, headers={"Content-Type": "application/xml"})
    refused(sim, r, "REQUEST_INVALID", 422)
    async with sim.kernel.db.engine.connect() as conn:
        rows = (await conn.execute(select(eds_challenges))).all()
    assert [(row.challenge_id, row.used_us) for row in rows] == [(issued["challengeId"], None)]
    assert (await login(api, issued["challengeId"], signed(issued["xml"], key))).status_code == 200


async def test_refusal_texts_follow_accept_language(sim: RunningSimulator, api: httpx.AsyncClient) -> None:
    body = {"challengeId": "f" * 32, "signedXml": "<a/>"}
    r = await api.post("/portal/api/login/eds", json=body, headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    entry = sim.kernel.refusals.get("PORTAL_EDS_CHALLENGE_UNKNOWN")
    assert entry is not None and r.json()["message"] == entry.texts.ru
    r = await api.post("/portal/api/login/eds", json=body, headers={"Accept-Language": "kk"})
    assert r.json()["message"] == entry.texts.kk


async def test_challenges_cannot_fill_the_database(
    sim: RunningSimulator, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal.eds_login, "MAX_CHALLENGES", 3)
    for _ in range(3):
        await challenge(api)
    r = await api.post("/portal/api/login/eds/challenge", params={"lang": "kk"})
    refused(sim, r, "PORTAL_EDS_CHALLENGE_LIMIT", 503)
    # expired ones are pruned RETENTION after their expiry
    assert (await api.post("/api/catalog/clock/advance", json={"by": "10m"}, headers=ADMIN)).status_code == 200
    await challenge(api)
    async with sim.kernel.db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(eds_challenges))).scalar_one() == 1


def test_comments_are_ignored_but_text_and_attributes_outside_the_challenge_are_not() -> None:
    issued_at = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    audience = "http://egovsim.test/portal"
    document = challenge_document("nonce", issued_at, audience)
    digest = hashlib.sha256(b"nonce").hexdigest()

    def check(edit: Any) -> str | None:
        return document_mismatch(etree.fromstring(edited(document, edit)), digest, issued_at, audience)

    assert check(lambda root: None) is None
    assert check(lambda root: root.insert(1, etree.Comment("no signature covers comments"))) is None
    assert check(lambda root: setattr(root[0], "tail", "IIN 900115300013")) is not None
    assert check(lambda root: root[2].set("for", "someone")) is not None
    assert check(lambda root: root.set("id", "x")) is not None


async def test_the_password_lockout_does_not_stop_a_login_by_eds(api: httpx.AsyncClient) -> None:
    for _ in range(5):
        await api.post("/portal/api/login", json={"iin": AIGUL, "password": "Wrong2026pass"})
    locked = await api.post("/portal/api/login", json={"iin": AIGUL, "password": PASSWORD})
    assert locked.json()["code"] == "PORTAL_ACCOUNT_LOCKED"
    issued = await challenge(api)
    assert (await login(api, issued["challengeId"], signed(issued["xml"], await key_of(api)))).status_code == 200
