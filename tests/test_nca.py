"""The mock НУЦ РК: certificates in the NCA profile, key files, durable revocation, CRLs and
OCSP, each checked by openssl, which we did not write."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from egovsim.app import RunningSimulator
from tests.conftest import ADMIN
from tests.nca_helpers import ASET, ca_files, issue, key_and_cert, run, save, served

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
async def http(nca: RunningSimulator):  # type: ignore[no-untyped-def]
    async with nca.client() as client:
        yield client


async def text_of(cert_pem: str, tmp_path: Path) -> str:
    path = tmp_path / "c.pem"
    path.write_text(cert_pem)
    rc, out = await run("openssl", "x509", "-in", path, "-noout", "-text", "-nameopt", "RFC2253,-esc_msb")
    assert rc == 0, out
    return out


# -- the hierarchy and the profile ------------------------------------------------------------------
async def test_ca_certificates_are_published_and_chain_to_the_root(http: httpx.AsyncClient, tmp_path: Path) -> None:
    files = await ca_files(http, tmp_path)
    rc, out = await run("openssl", "verify", "-CAfile", files["root"], files["ca"])
    assert rc == 0 and "OK" in out, out
    rc, out = await run("openssl", "x509", "-in", files["ca"], "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb")
    assert "ҰКО 3.0 (RSA TEST) EGOVSIM" in out and "NOT A REAL CA" in out
    rc, out = await run("openssl", "x509", "-in", files["root"], "-noout", "-text")
    assert "RSA Public-Key: (4096 bit)" in out or "Public-Key: (4096 bit)" in out
    assert "CA:TRUE" in out and "Certificate Sign, CRL Sign" in out


async def test_individual_sign_certificate_follows_the_nca_profile(http: httpx.AsyncClient, tmp_path: Path) -> None:
    issued = await issue(http, kind="sign")
    out = await text_of(issued["certificate"], tmp_path)
    # openssl prints the RDNs in reverse: GN, C, serialNumber, SN, CN
    assert "GN=ЕРЛАНҰЛЫ,C=KZ,serialNumber=IIN900115300013,SN=АХМЕТОВ,CN=АХМЕТОВ АСЕТ" in out
    assert re.search(r"X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation", out)
    assert "E-mail Protection, 1.2.398.3.3.4.1.1" in out
    assert "Policy: 1.2.398.3.3.2.3" in out and "CPS: http://pki.gov.kz/cps" in out
    assert "/nca/crl/nca_rsa_test.crl" in out and "/nca/crl/nca_d_rsa_test.crl" in out
    assert "OCSP - URI:" in out and "/nca/ocsp/" in out and "CA Issuers - URI:" in out
    assert "Public-Key: (2048 bit)" in out and "sha256WithRSAEncryption" in out
    cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)
    assert len(format(cert.serial_number, "x")) >= 38  # 20 bytes, as the NCA's
    assert issued["serial"] == format(cert.serial_number, "x")


async def test_individual_auth_certificate_has_auth_key_usage(http: httpx.AsyncClient, tmp_path: Path) -> None:
    issued = await issue(http, kind="auth")
    out = await text_of(issued["certificate"], tmp_path)
    assert re.search(r"X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment", out)
    assert "TLS Web Client Authentication, 1.2.398.3.3.4.1.1" in out
    assert "Policy: 1.2.398.3.3.2.4" in out
    assert issued["fileName"].startswith("AUTH_RSA256_") and issued["fileName"].endswith(".p12")


@pytest.mark.parametrize(
    ("profile", "roles"),
    [("ceo", "1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1"), ("employee", "1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.5")],
)
async def test_legal_entity_certificates_carry_bin_organisation_and_roles(
    http: httpx.AsyncClient, tmp_path: Path, profile: str, roles: str
) -> None:
    issued = await issue(http, profile=profile, bin="180440001235", organization='ТОО "ДАЛА ТЕСТ"')
    out = await text_of(issued["certificate"], tmp_path)
    assert 'OU=BIN180440001235,O=ТОО \\"ДАЛА ТЕСТ\\"' in out or "OU=BIN180440001235" in out
    assert roles in out and "Policy: 1.2.398.3.3.2.1" in out
    assert issued["fileName"].startswith("RSA256_")


async def test_system_certificate_for_a_gateway_sender(http: httpx.AsyncClient, tmp_path: Path) -> None:
    issued = await issue(
        http, profile="system", bin="200940004561", system_name="EGOV PORTAL", organization='АО "НИТ (ТЕСТ)"',
        iin=None, surname=None, name=None, patronymic=None,
    )  # fmt: skip
    out = await text_of(issued["certificate"], tmp_path)
    assert "CN=EGOV PORTAL" in out and "OU=BIN200940004561" in out
    assert "serialNumber=IIN" not in out


async def test_key_file_opens_with_openssl_and_its_password(http: httpx.AsyncClient, tmp_path: Path) -> None:
    issued = await issue(http, kind="sign")
    paths = save(tmp_path, issued)
    assert re.fullmatch(r"RSA256_[0-9a-f]{40}\.p12", paths["p12"].name)
    rc, out = await run("openssl", "pkcs12", "-in", paths["p12"], "-passin", "pass:Qwerty12", "-nodes", "-info")
    assert rc == 0, out
    assert "BEGIN PRIVATE KEY" in out and out.count("BEGIN CERTIFICATE") == 3  # holder + intermediate + root
    rc, out = await run("openssl", "pkcs12", "-in", paths["p12"], "-passin", "pass:wrong", "-nodes", "-noout")
    assert rc != 0 and ("invalid password" in out.lower() or "mac verify failure" in out.lower()), out


async def test_certificate_window_can_be_requested_for_scenarios(http: httpx.AsyncClient) -> None:
    past = datetime.now(UTC) - timedelta(days=400)
    expired = await issue(http, not_before=past.isoformat(), not_after=(past + timedelta(days=365)).isoformat())
    cert = x509.load_pem_x509_certificate(expired["certificate"].encode())
    assert cert.not_valid_after_utc < datetime.now(UTC)
    future = datetime.now(UTC) + timedelta(days=30)
    later = await issue(http, not_before=future.isoformat())
    assert x509.load_pem_x509_certificate(later["certificate"].encode()).not_valid_before_utc > datetime.now(UTC)


async def test_issuance_refuses_a_bad_iin_and_stores_nothing(http: httpx.AsyncClient) -> None:
    before = (await http.get("/nca/api/certificates", headers=ADMIN)).json()["certificates"]
    response = await http.post("/nca/api/certificates", json=ASET | {"iin": "900115300014"}, headers=ADMIN)
    assert response.status_code == 422 and response.json()["code"] == "REQUEST_INVALID"
    assert "check digit" in response.json()["detail"]
    after = (await http.get("/nca/api/certificates", headers=ADMIN)).json()["certificates"]
    assert len(after) == len(before)


async def test_operator_api_needs_the_admin_token(http: httpx.AsyncClient) -> None:
    assert (await http.post("/nca/api/certificates", json=ASET)).status_code == 401
    assert (await http.get("/nca/api/certificates")).status_code == 401


# -- revocation, CRLs ---------------------------------------------------------------------------------
async def test_openssl_verify_accepts_a_valid_certificate_and_rejects_a_revoked_one_with_the_crl(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = await ca_files(http, tmp_path)
    good = save(tmp_path, await issue(http))
    bad_issued = await issue(http)
    bad = save(tmp_path, bad_issued)
    revoked = await http.post(
        f"/nca/api/certificates/{bad_issued['serial'].upper()}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    crl = tmp_path / "full.crl"
    crl.write_bytes((await http.get("/nca/crl/nca_rsa_test.crl")).content)
    common = ("openssl", "verify", "-crl_check", "-CAfile", files["chain"], "-CRLfile", crl)
    rc, out = await run(*common, good["cert"])
    assert rc == 0 and ": OK" in out, out
    rc, out = await run(*common, bad["cert"])
    assert rc != 0 and "certificate revoked" in out, out


async def test_openssl_parses_full_and_delta_crls_with_numbers_and_reasons(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = await ca_files(http, tmp_path)
    await http.get("/nca/crl/nca_d_rsa_test.crl")  # the deltas' base is in place before the changes
    revoked = await issue(http)
    held = await issue(http)
    await http.post(f"/nca/api/certificates/{revoked['serial']}/revoke", json={"reason": "superseded"}, headers=ADMIN)
    await http.post(f"/nca/api/certificates/{held['serial']}/hold", headers=ADMIN)
    for name, delta in (("nca_rsa_test.crl", False), ("nca_d_rsa_test.crl", True)):
        path = tmp_path / name
        path.write_bytes((await http.get(f"/nca/crl/{name}")).content)
        rc, out = await run(
            "openssl", "crl", "-inform", "DER", "-in", path, "-CAfile", files["chain"], "-noout", "-text"
        )
        assert rc == 0 and "verify OK" in out, out
        assert "X509v3 CRL Number" in out and "Next Update" in out and "Last Update" in out
        assert ("Delta CRL Indicator" in out) is delta
        assert revoked["serial"].upper() in out.replace(":", "").upper()
        assert "Superseded" in out and "Certificate Hold" in out


async def test_released_hold_disappears_from_the_full_crl_and_is_removed_by_the_delta(http: httpx.AsyncClient) -> None:
    held = await issue(http)
    serial = int(held["serial"], 16)
    await http.get("/nca/crl/nca_d_rsa_test.crl")  # the deltas' base is in place before the changes
    await http.post(f"/nca/api/certificates/{held['serial']}/hold", headers=ADMIN)
    full = x509.load_der_x509_crl((await http.get("/nca/crl/nca_rsa_test.crl")).content)
    entry = full.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.certificate_hold
    released = await http.post(f"/nca/api/certificates/{held['serial']}/release", headers=ADMIN)
    assert released.json()["status"] == "good"
    full2 = x509.load_der_x509_crl((await http.get("/nca/crl/nca_rsa_test.crl")).content)
    assert full2.get_revoked_certificate_by_serial_number(serial) is None
    assert full2.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > (
        full.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    )
    delta = x509.load_der_x509_crl((await http.get("/nca/crl/nca_d_rsa_test.crl")).content)
    removal = delta.get_revoked_certificate_by_serial_number(serial)
    assert removal is not None
    assert removal.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.remove_from_crl


async def test_openssl_uses_the_delta_crl_over_its_base(http: httpx.AsyncClient, tmp_path: Path) -> None:
    files = await ca_files(http, tmp_path)
    base = tmp_path / "base.crl"
    base.write_bytes((await http.get("/nca/crl/nca_d_rsa_test.crl")).content)  # makes sure a base exists
    delta0 = x509.load_der_x509_crl(base.read_bytes())
    base_number = delta0.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
    later = save(tmp_path, (issued := await issue(http)))
    await http.post(f"/nca/api/certificates/{issued['serial']}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN)
    delta = x509.load_der_x509_crl((await http.get("/nca/crl/nca_d_rsa_test.crl")).content)
    assert delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number == base_number
    assert delta.get_revoked_certificate_by_serial_number(int(issued["serial"], 16)) is not None
    delta_file = tmp_path / "delta.crl"
    delta_file.write_bytes(delta.public_bytes(serialization.Encoding.PEM))
    full_file = tmp_path / "full.crl"
    full_file.write_bytes((await http.get("/nca/crl/nca_rsa_test.crl")).content)
    rc, out = await run(
        "openssl", "verify", "-crl_check", "-use_deltas", "-CAfile", files["chain"], "-CRLfile", full_file,
        "-CRLfile", delta_file, later["cert"],
    )  # fmt: skip
    assert rc != 0 and "certificate revoked" in out, out


async def test_revocation_errors_have_codes_and_change_nothing(http: httpx.AsyncClient) -> None:
    unknown = await http.post(
        "/nca/api/certificates/ABCDEF0123/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    body = unknown.json()
    assert (
        unknown.status_code == 404 and body["code"] == "CERT_NOT_FOUND" and set(body["messages"]) == {"kk", "ru", "en"}
    )
    assert (await http.post("/nca/api/certificates/not-hex/hold", headers=ADMIN)).status_code == 404
    issued = await issue(http)
    serial = issued["serial"]
    assert (await http.post(f"/nca/api/certificates/{serial}/release", headers=ADMIN)).status_code == 409
    bad_reason = await http.post(f"/nca/api/certificates/{serial}/revoke", json={"reason": "bored"}, headers=ADMIN)
    assert bad_reason.status_code == 422
    assert (await http.get(f"/nca/api/certificates/{serial}", headers=ADMIN)).json()["status"] == "good"
    await http.post(f"/nca/api/certificates/{serial}/revoke", json={"reason": "affiliationChanged"}, headers=ADMIN)
    again = await http.post(f"/nca/api/certificates/{serial}/hold", headers=ADMIN)
    assert again.status_code == 409 and again.json()["code"] == "CERT_STATE_CONFLICT"
    state = (await http.get(f"/nca/api/certificates/{serial}", headers=ADMIN)).json()
    assert state["status"] == "revoked" and state["reason"] == "affiliationChanged"


# -- OCSP ---------------------------------------------------------------------------------------------
async def test_openssl_ocsp_reports_good_revoked_and_unknown_and_checks_the_nonce(
    nca: RunningSimulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = await ca_files(http, tmp_path)
    good = save(tmp_path, await issue(http))
    bad_issued = await issue(http)
    bad = save(tmp_path, bad_issued)
    await http.post(
        f"/nca/api/certificates/{bad_issued['serial']}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    async with served(nca) as url:
        base = ("openssl", "ocsp", "-issuer", files["ca"], "-url", f"{url}/nca/ocsp/", "-CAfile", files["chain"])
        rc, out = await run(*base, "-cert", good["cert"], "-resp_text")
        assert rc == 0 and "Response verify OK" in out and f"{good['cert']}: good" in out, out
        assert "WARNING" not in out and "OCSP Nonce" in out  # openssl sent a nonce and it came back
        rc, out = await run(*base, "-sha256", "-cert", bad["cert"])  # a SHA-256 CertID this time
        assert "Response verify OK" in out and ": revoked" in out and "Reason: keyCompromise" in out, out
        rc, out = await run(*base, "-serial", "0x1234567890ABCDEF")
        assert "Response verify OK" in out and ": unknown" in out, out


async def test_ocsp_get_request_is_answered_too(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    _, cert = key_and_cert(issued)
    issuer = x509.load_der_x509_certificate((await http.get("/nca/cert/nca_rsa_test.cer")).content)
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    encoded = quote(base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode(), safe="")
    response = await http.get(f"/nca/ocsp/{encoded}")
    assert response.headers["content-type"] == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD and answer.serial_number == cert.serial_number


@pytest.mark.parametrize("body", [b"garbage", b"", b"\x30\x03\x02\x01\x05", b"\x30" * 70_000])
async def test_garbage_ocsp_request_gets_malformed_request(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post("/nca/ocsp/", content=body, headers={"Content-Type": "application/ocsp-request"})
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    get = await http.get("/nca/ocsp/%%%not-base64")
    assert ocsp.load_der_ocsp_response(get.content).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


async def test_fault_knobs_break_ocsp_and_crl_the_ways_scenarios_need(
    nca: RunningSimulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = await ca_files(http, tmp_path)
    good = save(tmp_path, await issue(http))
    try:
        async with served(nca) as url:
            base = ("openssl", "ocsp", "-issuer", files["ca"], "-url", f"{url}/nca/ocsp/", "-CAfile", files["chain"])
            await http.post("/nca/api/faults", json={"ocsp": "try_later"}, headers=ADMIN)
            rc, out = await run(*base, "-cert", good["cert"])
            assert "trylater" in out.lower(), out
            await http.post("/nca/api/faults", json={"ocsp": "untrusted_responder"}, headers=ADMIN)
            rc, out = await run(*base, "-cert", good["cert"])
            assert "Response Verify Failure" in out, out
            await http.post("/nca/api/faults", json={"ocsp": "unavailable"}, headers=ADMIN)
            assert (await http.post("/nca/ocsp/", content=b"x")).status_code in (200, 503)
            rc, out = await run(*base, "-cert", good["cert"])
            assert rc != 0, out
        await http.post("/nca/api/faults", json={"ocsp": "none", "crl": "stale"}, headers=ADMIN)
        stale = x509.load_der_x509_crl((await http.get("/nca/crl/nca_rsa_test.crl")).content)
        assert stale.next_update_utc is not None and stale.next_update_utc < datetime.now(UTC)
        crl = tmp_path / "stale.crl"
        crl.write_bytes(stale.public_bytes(serialization.Encoding.PEM))
        rc, out = await run("openssl", "verify", "-crl_check", "-CAfile", files["chain"], "-CRLfile", crl, good["cert"])
        assert rc != 0 and "CRL has expired" in out, out
        await http.post("/nca/api/faults", json={"crl": "unavailable"}, headers=ADMIN)
        unavailable = await http.get("/nca/crl/nca_rsa_test.crl")
        assert unavailable.status_code == 503 and unavailable.json()["code"] == "NCA_UNAVAILABLE"
    finally:
        await http.post("/nca/api/faults", json={"ocsp": "none", "crl": "none"}, headers=ADMIN)
    assert (await http.get("/nca/api/faults", headers=ADMIN)).json() == {"ocsp": "none", "crl": "none"}


# -- the operator's command line ----------------------------------------------------------------------
async def test_cert_commands_issue_revoke_hold_and_list_at_a_running_egovsim(
    nca: RunningSimulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    import sys

    cli = (sys.executable, "-m", "egovsim.cli", "cert")
    async with served(nca) as url:
        auth = ("--url", url, "--token", ADMIN["Authorization"].split()[1])
        rc, out = await run(
            *cli, "issue", "--iin", "850716400607", "--surname", "СЕРІКОВА", "--name", "АЙГҮЛ", "--kind", "auth",
            "--out", tmp_path, *auth,
        )  # fmt: skip
        assert rc == 0, out
        (p12,) = tmp_path.glob("AUTH_RSA256_*.p12")
        rc, dump = await run("openssl", "pkcs12", "-in", p12, "-passin", "pass:Qwerty12", "-nokeys", "-clcerts")
        assert rc == 0 and "IIN850716400607" in dump.replace(" ", ""), dump
        rc, openssl_serial = await run(
            "openssl", "x509", "-in", next(tmp_path.glob("AUTH_*.crt.pem")), "-noout", "-serial"
        )
        serial = openssl_serial.strip().split("=")[1]  # upper-case hex, as openssl prints it
        rc, out = await run(*cli, "hold", serial, *auth)
        assert rc == 0 and "hold" in out, out
        rc, out = await run(*cli, "list", "--iin", "850716400607", "--json", *auth)
        assert rc == 0 and '"status": "hold"' in out, out
        rc, out = await run(*cli, "revoke", serial, "--reason", "keyCompromise", *auth)
        assert rc == 0 and "revoked (keyCompromise)" in out, out
        rc, out = await run(*cli, "revoke", serial, "--reason", "keyCompromise", *auth)
        assert rc == 1 and "CERT_STATE_CONFLICT" in out, out
        rc, out = await run(*cli, "revoke", serial, "--reason", "bored", *auth)
        assert rc == 2, out
        rc, out = await run(*cli, "list", "--status", "revoked", *auth)
        assert format(int(serial, 16), "x") in out  # openssl pads to whole bytes (a leading 0); we do not
    rc, out = await run(*cli, "list", "--url", "http://127.0.0.1:9", "--token", "x")
    assert rc == 1 and "not reachable" in out


async def test_revocations_survive_a_restart(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from egovsim.app import running

    async with running(settings) as first, first.client() as http:
        issued = await issue(http)
        await http.post(f"/nca/api/certificates/{issued['serial']}/hold", headers=ADMIN)
        root_before = (await http.get("/nca/cert/root_rsa_test.cer")).content
    async with running(settings) as second, second.client() as http:
        assert (await http.get("/nca/cert/root_rsa_test.cer")).content == root_before
        state = (await http.get(f"/nca/api/certificates/{issued['serial']}", headers=ADMIN)).json()
        assert state["status"] == "hold" and state["reason"] == "certificateHold"
        crl = x509.load_der_x509_crl((await http.get("/nca/crl/nca_rsa_test.crl")).content)
        assert crl.get_revoked_certificate_by_serial_number(int(issued["serial"], 16)) is not None
