"""The portal's accounts and sessions as an integrator meets them (regulation 001, 1-процесс,
1-шарт, 2-процесс): registration checked against ГБД ФЛ (a fake directory here), login with a
lockout on the simulated clock, RS256 session tokens with rotating keys published as a JWKS, and
the classic attacks on JWTs refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import date

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egovsim import passwords
from egovsim.app import RunningSimulator
from egovsim.errors import CodedError
from egovsim.iin import Sex, make_iin
from egovsim.personas import person_record
from portal.accounts import PersonStatus, check_password_policy
from portal.service import Portal
from tests.conftest import ADMIN


def iin(serial: int, born: date = date(1985, 7, 16), sex: Sex = Sex.FEMALE) -> str:
    number = make_iin(born, sex, serial)
    assert number is not None
    return number


AIGUL = iin(60)
STRANGER = iin(61)  # valid, no account
ABSENT = iin(62)
DECEASED = iin(63)
UNAVAILABLE = iin(64)
PASSWORD = "Qazaqstan2026"


class FakeDirectory:
    """ГБД ФЛ as registration sees it."""

    async def status(self, number: str) -> PersonStatus:
        return {ABSENT: "absent", DECEASED: "deceased", UNAVAILABLE: "unavailable"}.get(number, "alive")  # type: ignore[return-value]


@pytest.fixture
async def api(sim: RunningSimulator, http: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    Portal.of(sim.kernel).accounts.directory = FakeDirectory()
    r = await http.post("/api/catalog/clock/freeze", json={"at": "2026-03-02T10:00:00+05:00"}, headers=ADMIN)
    assert r.status_code == 200
    yield http


async def advance(http: httpx.AsyncClient, by: str) -> None:
    assert (await http.post("/api/catalog/clock/advance", json={"by": by}, headers=ADMIN)).status_code == 200


async def register(http: httpx.AsyncClient, number: str = AIGUL, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/portal/api/accounts", json={"iin": number, "password": password})


async def login(http: httpx.AsyncClient, number: str = AIGUL, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/portal/api/login", json={"iin": number, "password": password})


async def token_of(http: httpx.AsyncClient) -> str:
    r = await login(http)
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


async def me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.get("/portal/api/me", headers={"Authorization": f"Bearer {token}"})


def code(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    value: str = r.json()["code"]
    return value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


# -- registration ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Abc1234", "at least 8"),
        ("A1" * 65, "at most 128"),
        ("abcdefghij", "letters and digits"),
        ("1234567890", "letters and digits"),
        (f"x{AIGUL}", "IIN"),
    ],
)
def test_password_policy_names_the_rule_broken(password: str, rule: str) -> None:
    with pytest.raises(CodedError) as caught:
        check_password_policy(password, AIGUL)
    assert caught.value.code == "PORTAL_PASSWORD_POLICY" and rule in (caught.value.detail or "")


async def test_registration_refuses_an_invalid_iin_and_a_weak_password(api: httpx.AsyncClient) -> None:
    r = await register(api, AIGUL[:-1] + str((int(AIGUL[-1]) + 1) % 10))
    assert r.status_code == 422 and code(r) == "PORTAL_IIN_INVALID" and r.json()["step"] == "portal:1-процесс"
    for weak in ("short1", "onlyletters", "12345678901", f"pw{AIGUL}", "a1" * 65):
        r = await register(api, AIGUL, weak)
        assert r.status_code == 422 and code(r) == "PORTAL_PASSWORD_POLICY", weak


async def test_registration_checks_the_person_in_gbdfl(api: httpx.AsyncClient) -> None:
    assert code(await register(api, ABSENT)) == "PORTAL_PERSON_NOT_FOUND"
    assert code(await register(api, DECEASED)) == "PORTAL_PERSON_DECEASED"
    r = await register(api, UNAVAILABLE)
    assert r.status_code == 503 and code(r) == "PORTAL_PERSON_CHECK_UNAVAILABLE"
    r = await register(api)
    assert r.status_code == 201 and r.json()["iin"] == AIGUL
    assert r.json()["createdAt"].startswith("2026-03-02T05:00:00")
    r = await register(api)
    assert r.status_code == 409 and code(r) == "PORTAL_ACCOUNT_EXISTS"


async def test_registration_asks_gbdfl_through_the_gateway(sim: RunningSimulator, http: httpx.AsyncClient) -> None:
    """1-шарт as the real portal asks it: GBDFL_UniversalServiceSync through the gateway, signed
    with the portal's own system certificate, the answer's signatures checked."""
    for _ in range(200):  # the registries add their gateway route on start
        if (await http.get("/shep/api/routes/GBDFL_UniversalServiceSync", headers=ADMIN)).status_code == 200:
            break
        await asyncio.sleep(0.05)
    alive = {"iin": AIGUL, "surname": "СЕРІКОВА", "name": "АЙГҮЛ", "patronymic": "ҚАЙРАТҚЫЗЫ"}
    dead = {"iin": DECEASED, "surname": "ТЕСТОВА", "name": "ӘСЕЛ", "registry": {"deathDate": "2024-03-15"}}
    for citizen in (alive, dead):
        record = person_record(citizen)
        assert (await http.post("/registries/api/persons", json=record, headers=ADMIN)).status_code == 201
    assert (await register(http)).status_code == 201
    assert code(await register(http, DECEASED)) == "PORTAL_PERSON_DECEASED"
    assert code(await register(http, ABSENT)) == "PORTAL_PERSON_NOT_FOUND"
    fault = {"kind": "unavailable", "delaySeconds": 0, "remaining": 1}
    assert (await http.put("/registries/api/faults/gbdfl", json=fault, headers=ADMIN)).status_code == 200
    r = await register(http, STRANGER)
    assert r.status_code == 503 and code(r) == "PORTAL_PERSON_CHECK_UNAVAILABLE"
    senders = (await http.get("/shep/api/senders", headers=ADMIN)).json()["senders"]
    assert any(s["senderId"] == "egov_portal" and s["certificateSerial"] for s in senders)


# -- login (1-процесс, 1-шарт, 2-процесс) -------------------------------------------------------
async def test_login_answers_a_token_and_an_httponly_cookie_and_me_reads_either(api: httpx.AsyncClient) -> None:
    await register(api)
    r = await login(api)
    assert r.status_code == 200
    body = r.json()
    assert body["tokenType"] == "Bearer" and body["sessionId"]
    cookie = r.headers["set-cookie"]
    assert "egovsim_portal=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    r = await me(api, body["token"])
    assert r.status_code == 200, r.text
    assert r.json() | {"issuedAt": None, "expiresAt": None} == {
        "iin": AIGUL,
        "birthDate": "1985-07-16",
        "sex": "female",
        "sessionId": body["sessionId"],
        "csrfToken": body["csrfToken"],
        "issuedAt": None,
        "expiresAt": None,
    }
    assert (await api.get("/portal/api/me")).status_code == 200  # the client kept the cookie
    api.cookies.clear()
    r = await api.get("/portal/api/me")
    assert r.status_code == 401 and code(r) == "PORTAL_SESSION_REQUIRED"


async def test_a_wrong_password_is_refused_at_2_process(api: httpx.AsyncClient) -> None:
    await register(api)
    r = await login(api, password="Wrong2026pass")
    assert r.status_code == 401 and code(r) == "PORTAL_AUTH_REFUSED" and r.json()["step"] == "portal:2-процесс"


async def test_an_unknown_iin_is_indistinguishable_from_a_wrong_password(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(api)
    verified: list[str] = []
    real = passwords.verify

    def counting(profile: passwords.Profile, password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real(profile, password_hash, password)

    monkeypatch.setattr(passwords, "verify", counting)
    wrong = await login(api, password="Wrong2026pass")
    unknown = await login(api, STRANGER, "Wrong2026pass")
    # the same answer but for the attempt's own trace id
    assert (wrong.status_code, wrong.json() | {"traceId": ""}) == (
        unknown.status_code,
        unknown.json() | {"traceId": ""},
    )
    # the same argon2 work both times: the unknown IIN is checked against a dummy hash
    assert len(verified) == 2 and all(h.startswith("$argon2id$") for h in verified)
    # and the lockout comes after five failures for an IIN without an account too
    for _ in range(4):
        assert code(await login(api, STRANGER, "Wrong2026pass")) == "PORTAL_AUTH_REFUSED"
    assert code(await login(api, STRANGER, "Wrong2026pass")) == "PORTAL_ACCOUNT_LOCKED"


async def test_five_failures_lock_the_account_for_30_simulated_minutes(api: httpx.AsyncClient) -> None:
    await register(api)
    for _ in range(4):
        assert code(await login(api, password="Wrong2026pass")) == "PORTAL_AUTH_REFUSED"
    assert (await login(api)).status_code == 200  # a success resets the count
    for _ in range(5):
        assert code(await login(api, password="Wrong2026pass")) == "PORTAL_AUTH_REFUSED"
    r = await login(api)  # the right password, but locked
    assert r.status_code == 423 and code(r) == "PORTAL_ACCOUNT_LOCKED" and r.json()["step"] == "portal:2-процесс"
    await advance(api, "29m")
    assert code(await login(api)) == "PORTAL_ACCOUNT_LOCKED"
    await advance(api, "1m")
    assert (await login(api)).status_code == 200


async def test_logout_revokes_the_session(api: httpx.AsyncClient) -> None:
    await register(api)
    token = await token_of(api)
    api.cookies.clear()
    r = await api.post("/portal/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204 and 'egovsim_portal=""' in r.headers["set-cookie"]
    r = await me(api, token)
    assert r.status_code == 401 and code(r) == "PORTAL_SESSION_REVOKED"
    assert code(await api.post("/portal/api/logout", headers={"Authorization": f"Bearer {token}"})) == (
        "PORTAL_SESSION_REVOKED"
    )


# -- attacks on the token ------------------------------------------------------------------------
async def test_alg_none_is_refused(api: httpx.AsyncClient) -> None:
    await register(api)
    claims = jwt.decode(await token_of(api), options={"verify_signature": False})
    kid = jwt.get_unverified_header(await token_of(api))["kid"]
    for alg in ("none", "None", "NONE"):
        r = await me(api, forged({"alg": alg, "typ": "JWT", "kid": kid}, claims))
        assert r.status_code == 401 and code(r) == "PORTAL_SESSION_INVALID", alg


async def test_hs256_signed_with_the_published_public_key_is_refused(api: httpx.AsyncClient) -> None:
    await register(api)
    token = await token_of(api)
    claims, kid = jwt.decode(token, options={"verify_signature": False}), jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in (await api.get("/portal/.well-known/jwks.json")).json()["keys"] if k["kid"] == kid)
    public = jwt.PyJWK(jwk).key
    for encoding, form in (
        (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        (serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
    ):
        secret = public.public_bytes(encoding, form)
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
        r = await me(api, f"{unsigned}.{b64(signature)}")
        assert r.status_code == 401 and code(r) == "PORTAL_SESSION_INVALID"


async def test_unknown_kid_and_a_foreign_key_are_refused(api: httpx.AsyncClient) -> None:
    await register(api)
    token = await token_of(api)
    claims, kid = jwt.decode(token, options={"verify_signature": False}), jwt.get_unverified_header(token)["kid"]
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for header_kid in ("no-such-kid", kid):  # an unknown kid; the portal's kid on another key
        r = await me(api, jwt.encode(claims, foreign, algorithm="RS256", headers={"kid": header_kid}))
        assert r.status_code == 401 and code(r) == "PORTAL_SESSION_INVALID", header_kid
    r = await me(api, jwt.encode(claims, foreign, algorithm="RS256"))  # no kid at all
    assert code(r) == "PORTAL_SESSION_INVALID"


async def test_a_tampered_payload_is_refused(api: httpx.AsyncClient) -> None:
    await register(api)
    header, _, signature = (await token_of(api)).split(".")
    claims = jwt.decode(await token_of(api), options={"verify_signature": False})
    claims["sub"] = STRANGER
    r = await me(api, f"{header}.{b64(json.dumps(claims).encode())}.{signature}")
    assert r.status_code == 401 and code(r) == "PORTAL_SESSION_INVALID"
    assert code(await me(api, "not.a.jwt")) == "PORTAL_SESSION_INVALID"


async def test_a_token_expires_after_30_simulated_minutes(api: httpx.AsyncClient) -> None:
    await register(api)
    token = await token_of(api)
    await advance(api, "29m")
    assert (await me(api, token)).status_code == 200
    await advance(api, "1m")
    r = await me(api, token)
    assert r.status_code == 401 and code(r) == "PORTAL_SESSION_EXPIRED"


# -- key rotation --------------------------------------------------------------------------------
async def kids(http: httpx.AsyncClient) -> list[str]:
    keys = (await http.get("/portal/.well-known/jwks.json")).json()["keys"]
    for key in keys:
        assert {key["kty"], key["use"], key["alg"], key["e"]} == {"RSA", "sig", "RS256", "AQAB"} and key["n"]
        assert "d" not in key  # never the private half
    return [key["kid"] for key in keys]


async def test_keys_rotate_weekly_and_old_tokens_verify_until_they_expire(api: httpx.AsyncClient) -> None:
    await register(api)
    [first] = await kids(api)
    await advance(api, "6d23h50m")
    old = await token_of(api)
    assert jwt.get_unverified_header(old)["kid"] == first
    await advance(api, "10m")  # a week after the first key
    first_again, second = await kids(api)
    assert first_again == first and second != first
    new = await token_of(api)
    assert jwt.get_unverified_header(new)["kid"] == second
    published = jwt.PyJWKSet.from_dict((await api.get("/portal/.well-known/jwks.json")).json())
    no_wall_clock = {"verify_exp": False, "verify_iat": False}  # the token's times are simulated
    assert jwt.decode(new, published[second].key, algorithms=["RS256"], options=no_wall_clock)["sub"] == AIGUL
    assert (await me(api, old)).status_code == 200  # signed by the old key, still current
    await advance(api, "20m")  # the old token's 30 minutes are over
    assert code(await me(api, old)) == "PORTAL_SESSION_EXPIRED"
    assert await kids(api) == [first, second]  # until its successor is 30 minutes old
    await advance(api, "10m")
    assert await kids(api) == [second]
    assert code(await me(api, old)) == "PORTAL_SESSION_INVALID"  # its key is gone
