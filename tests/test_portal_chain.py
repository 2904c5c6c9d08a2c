"""The citizen's chain on the portal end to end, through public interfaces only (regulations 001
and 004): a signed request, condition 2, 5-процесс through ЭҮШ to ЭҮАШ АЖО, the provider's
autopilot, and the signed result in the personal cabinet."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from egovsim import xmldsig
from tests.portal_chain import document, draft, instant_autopilot, new_citizen, submit, wait_closed


async def test_foster_care_request_reaches_the_cabinet_with_a_signed_result(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, "foster_care_patronage_placement")
    citizen = await new_citizen(http)
    number = await draft(http, citizen, "foster_care_patronage_placement")
    signed = citizen.sign.sign(await document(http, citizen, number))
    r = await submit(http, citizen, number, signed)
    assert r.status_code == 202, r.text
    closed = await wait_closed(http, citizen, number)
    assert closed["status"] == "approved", closed
    steps = [(e["step"], e["outcome"]) for e in closed["timeline"]]
    assert steps[:3] == [("portal:3-процесс", "ok"), ("portal:2-шарт", "ok"), ("portal:5-процесс", "ok")], steps
    assert ("portal:7-процесс", "ok") in steps
    r = await http.get(f"/cabinet/api/requests/{number}/result", headers=citizen.bearer)
    assert r.status_code == 200
    verified = xmldsig.verify_enveloped(r.content)
    assert verified.certificate is not None


async def test_home_education_compensation_result_verifies_with_xmlsec1_against_the_ca(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Regulation 004's portal service; the result's signature checks out with xmlsec1, a verifier
    we did not write, trusting only the НУЦ's certificates."""
    service = "disabled_child_home_education_compensation"
    await instant_autopilot(http, service)
    citizen = await new_citizen(http)
    number = await draft(http, citizen, service)
    r = await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    assert r.status_code == 202, r.text
    closed = await wait_closed(http, citizen, number)
    assert closed["status"] == "approved"
    assert closed["result"]["kind"] == "result" and closed["result"]["signedBy"]["name"]
    result = (await http.get(f"/cabinet/api/requests/{number}/result", headers=citizen.bearer)).content
    (tmp_path / "result.xml").write_bytes(result)
    # the НУЦ's root and issuing CA certificates as anyone downloads them
    pems = []
    for path in ("/nca/cert/root_rsa_test.cer", "/nca/cert/nca_rsa_test.cer"):
        der = (await http.get(path)).content
        pems.append(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode())
    (tmp_path / "root.pem").write_text(pems[0])
    (tmp_path / "ca.pem").write_text(pems[1])
    done = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "root.pem"), "--untrusted-pem",
         str(tmp_path / "ca.pem"), str(tmp_path / "result.xml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "OK" in done.stdout + done.stderr, done.stderr
    # tampered, xmlsec1 refuses it
    (tmp_path / "bad.xml").write_bytes(result.replace(number.encode(), b"EG00000000000000"))
    bad = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "root.pem"), "--untrusted-pem",
         str(tmp_path / "ca.pem"), str(tmp_path / "bad.xml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode != 0
    # the signature check anyone can run, no session needed
    check = (await http.post("/cabinet/api/verify", content=result)).json()
    assert check["valid"] is True and check["signer"]["bin"] == closed["result"]["provider"]["bin"]
    check = (await http.post("/cabinet/api/verify", content=result.replace(number.encode(), b"EG0"))).json()
    assert check["valid"] is False and check["code"] == "EDS_SIGNATURE_INVALID"


async def test_notifications_and_the_outbox_follow_the_request(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, "foster_care_patronage_placement")
    citizen = await new_citizen(http)
    r = await http.put(
        "/cabinet/api/contacts", json={"email": "aset@mail.test", "phone": "+77011234567"}, headers=citizen.bearer
    )
    assert r.status_code == 200
    number = await draft(http, citizen, "foster_care_patronage_placement")
    await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    await wait_closed(http, citizen, number)
    for _ in range(100):  # the result's notification follows the result by a moment
        notes = (await http.get("/cabinet/api/notifications?lang=kk", headers=citizen.bearer)).json()["notifications"]
        if len(notes) == 2:
            break
        await asyncio.sleep(0.05)
    assert [n["code"] for n in notes] == ["RESULT_IN_CABINET", "FLP_REQUEST_ACCEPTED"]
    assert all(n["number"] == number and not n["read"] and n["message"] == n["messages"]["kk"] for n in notes)
    r = await http.post(f"/cabinet/api/notifications/{notes[0]['id']}/read", headers=citizen.bearer)
    assert r.status_code == 204
    notes = (await http.get("/cabinet/api/notifications", headers=citizen.bearer)).json()["notifications"]
    assert [n["read"] for n in notes] == [True, False]
    sent = (await http.get("/cabinet/api/outbox", headers=citizen.bearer)).json()["messages"]
    assert sorted((m["channel"], m["address"]) for m in sent) == [
        ("email", "aset@mail.test"), ("email", "aset@mail.test"), ("sms", "+77011234567"), ("sms", "+77011234567"),
    ]  # fmt: skip
    assert all(number in m["subject"] for m in sent)
