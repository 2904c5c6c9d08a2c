"""Security of the citizen's chain, as an attacker meets it through the public API: one citizen never
reaches another's request or result (on the portal or in the cabinet), forged session tokens (``alg:
none``, HS256 made with the published public key) open nothing, and a change made with the session
cookie alone is refused without the session's CSRF token, changing nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

from tests.portal_chain import PASSWORD, document, draft, instant_autopilot, new_citizen, submit, wait_closed

FOSTER = "foster_care_patronage_placement"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_citizen_cannot_read_another_citizens_request_or_result(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, FOSTER)
    owner, intruder = await new_citizen(http), await new_citizen(http)
    number = await draft(http, owner, FOSTER)
    assert (await submit(http, owner, number, owner.sign.sign(await document(http, owner, number)))).status_code == 202
    await wait_closed(http, owner, number)
    for path in (f"/portal/api/requests/{number}", f"/cabinet/api/requests/{number}",
                 f"/cabinet/api/requests/{number}/result"):  # fmt: skip
        r = await http.get(path, headers=intruder.bearer)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] in ("PORTAL_REQUEST_NOT_FOUND", "CABINET_REQUEST_NOT_FOUND")
        assert number not in r.text.replace(f"'{number}'", ""), "no echo of the other citizen's data"
    history = (await http.get("/cabinet/api/requests", headers=intruder.bearer)).json()["requests"]
    assert history == []
    notes = (await http.get("/cabinet/api/notifications", headers=intruder.bearer)).json()["notifications"]
    assert notes == []
    # and a draft of the other citizen cannot be changed, signed or sent
    other = await draft(http, owner, FOSTER)
    r = await http.put(f"/portal/api/requests/{other}", json={"fields": {}}, headers=intruder.bearer)
    assert r.status_code == 404
    r = await submit(http, intruder, other, intruder.sign.sign(b"<a/>"))
    assert r.status_code == 404


async def forged_tokens(http: httpx.AsyncClient, token: str) -> list[str]:
    claims, kid = jwt.decode(token, options={"verify_signature": False}), jwt.get_unverified_header(token)["kid"]
    out = []
    for alg in ("none", "None"):
        header = {"alg": alg, "typ": "JWT", "kid": kid}
        out.append(f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.")
    jwk = next(k for k in (await http.get("/portal/.well-known/jwks.json")).json()["keys"] if k["kid"] == kid)
    public = jwt.PyJWK(jwk).key
    for form in (serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1):
        secret = public.public_bytes(serialization.Encoding.PEM, form)
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        out.append(f"{unsigned}.{b64(hmac.new(secret, unsigned.encode(), hashlib.sha256).digest())}")
    return out


async def test_forged_tokens_open_neither_the_portal_nor_the_cabinet(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    for forged in await forged_tokens(http, citizen.token):
        headers = {"Authorization": f"Bearer {forged}"}
        for path in ("/portal/api/me", "/portal/api/requests", f"/portal/api/requests/{number}",
                     "/cabinet/api/requests", "/cabinet/api/notifications"):  # fmt: skip
            r = await http.get(path, headers=headers)
            assert r.status_code == 401, (path, forged[:30], r.text)
            assert r.json()["code"] == "PORTAL_SESSION_INVALID"


async def test_changes_with_the_cookie_need_the_csrf_token(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    r = await http.post("/portal/api/login", json={"iin": citizen.iin, "password": PASSWORD})
    assert r.status_code == 200 and http.cookies.get("egovsim_portal")
    csrf = r.json()["csrfToken"]
    body = {"serviceId": FOSTER, "fields": {"consent": "yes"}}
    r = await http.post("/portal/api/requests", json=body)  # the cookie alone, as a forged cross-site form would
    assert r.status_code == 403 and r.json()["code"] == "PORTAL_CSRF_REFUSED"
    r = await http.post("/portal/api/requests", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    assert (await http.get("/portal/api/requests")).json()["requests"] == [], "nothing was made"
    r = await http.put("/cabinet/api/contacts", json={"email": "a@b.kz"})
    assert r.status_code == 403 and r.json()["code"] == "PORTAL_CSRF_REFUSED"
    assert (await http.get("/cabinet/api/contacts")).json() == {"email": None, "phone": None}
    # with the session's token both go through; a bearer token needs none (it is not ambient)
    r = await http.post("/portal/api/requests", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    r = await http.put("/cabinet/api/contacts", json={"email": "a@b.kz"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    http.cookies.clear()
    assert (await http.post("/portal/api/requests", json=body, headers=citizen.bearer)).status_code == 201
