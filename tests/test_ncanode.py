"""The NCANode v3-compatible API under /nca/… (reference §12), end to end through HTTP only:
the same paths, request and response JSON and error texts a system calling NCANode expects."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from egovsim.app import RunningSimulator
from tests.conftest import ADMIN
from tests.nca_helpers import issue, run

pytestmark = pytest.mark.asyncio(loop_scope="module")

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+00:00$")
SOAP = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<getPerson xmlns="urn:egovsim:test"><iin>900115300013</iin></getPerson></soap:Body></soap:Envelope>'
)
OTHER = {"iin": "850101300015", "surname": "ИВАНОВ", "name": "ИВАН", "patronymic": "ИВАНОВИЧ"}
DATA = base64.b64encode("Өтініш: 42".encode()).decode()


@pytest.fixture
async def http(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with nca.client() as client:
        yield client


def der_b64(issued: dict[str, Any]) -> str:
    cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def key_of(issued: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"key": issued["pkcs12"], "password": "Qwerty12", **extra}


async def ok(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == 200 and data["message"] == "OK"
    return data


async def error(http: httpx.AsyncClient, path: str, **kwargs: Any) -> str:
    response = await http.post(path, **kwargs)
    assert response.status_code == 400, response.text
    data = response.json()
    assert set(data) == {"status", "message"} and data["status"] == 400
    message: str = data["message"]
    return message


def assert_certificate_info(info: dict[str, Any], issued: dict[str, Any], usage: str = "SIGN") -> None:
    """NCANode's CertificateInfo for an individual issued as ASET (or OTHER)."""
    assert info["keyUsage"] == usage and info["keyUser"] == ["INDIVIDUAL"]
    assert info["serialNumber"] == issued["serial"] and re.fullmatch(r"[0-9a-f]+", info["serialNumber"])
    assert info["signAlg"] == "SHA256WithRSAEncryption"
    assert DATE.match(info["notBefore"]) and DATE.match(info["notAfter"])
    assert info["notBefore"][:19] == issued["notBefore"][:19]
    subject = info["subject"]
    assert subject["iin"] == issued["iin"] and subject["commonName"] == issued["commonName"]
    assert subject["country"] == "KZ" and "IIN" + issued["iin"] in subject["dn"]
    assert info["issuer"]["commonName"] == "ҰКО 3.0 (RSA TEST) EGOVSIM" and info["issuer"]["country"] == "KZ"
    # null fields are omitted, not sent as null
    for part in (info, subject, info["issuer"]):
        assert None not in part.values(), part
    assert not {"bin", "organization", "email"} & set(subject)


# -- /x509/info ---------------------------------------------------------------------------------------
async def test_x509_info_reports_a_good_certificate_valid_by_ocsp_and_crl(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    data = await ok(http, "/nca/x509/info", {"certs": [der_b64(issued)], "revocationCheck": ["OCSP", "CRL"]})
    assert data["valid"] is True and len(data["signers"]) == 1
    info = data["signers"][0]
    assert_certificate_info(info, issued)
    assert info["valid"] is True and "reason" not in info
    assert info["subject"]["surName"] == "АХМЕТОВ" and info["subject"]["lastName"] == "ЕРЛАНҰЛЫ"  # the patronymic
    assert [(r["by"], r["revoked"]) for r in info["revocations"]] == [("OCSP", False), ("CRL", False)]


async def test_x509_info_reports_a_revoked_certificate_invalid_by_both_sources(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    revoked = await http.post(
        f"/nca/api/certificates/{issued['serial']}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    assert revoked.status_code == 200, revoked.text
    data = await ok(http, "/nca/x509/info", {"certs": [der_b64(issued)], "revocationCheck": ["OCSP", "CRL"]})
    info = data["signers"][0]
    assert data["valid"] is False and info["valid"] is False and info["reason"]
    assert [(r["by"], r["revoked"]) for r in info["revocations"]] == [("OCSP", True), ("CRL", True)]
    for entry in info["revocations"]:
        assert DATE.match(entry["revocationTime"]) and entry["reason"] == "keyCompromise"


async def test_x509_info_of_no_certificates_is_ok_but_not_valid(http: httpx.AsyncClient) -> None:
    response = await http.post("/nca/x509/info", json={"certs": [], "revocationCheck": ["OCSP"]})
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "valid": False, "signers": []}


async def test_x509_info_names_the_index_of_a_non_certificate(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    for bad in ("aGVsbG8=", "!!!"):
        message = await error(http, "/nca/x509/info", json={"certs": [bad]})
        assert message == "[0]: Invalid certificate given."
    message = await error(http, "/nca/x509/info", json={"certs": [der_b64(issued), "aGVsbG8="]})
    assert message == "[1]: Invalid certificate given."


# -- /pkcs12 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,usage", [("sign", "SIGN"), ("auth", "AUTH")])
async def test_pkcs12_info_reports_the_key_usage_of_the_key_file(
    http: httpx.AsyncClient, kind: str, usage: str
) -> None:
    issued = await issue(http, kind=kind)
    data = await ok(http, "/nca/pkcs12/info", {"keys": [key_of(issued)], "revocationCheck": ["OCSP"]})
    assert data["valid"] is True
    assert_certificate_info(data["signers"][0], issued, usage)
    assert [r["by"] for r in data["signers"][0]["revocations"]] == ["OCSP"]


async def test_pkcs12_aliases_returns_the_alias_stored_in_the_key_file(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    friendly = pkcs12.load_pkcs12(base64.b64decode(issued["pkcs12"]), b"Qwerty12").cert
    assert friendly is not None and friendly.friendly_name
    alias = friendly.friendly_name.decode()
    data = await ok(http, "/nca/pkcs12/aliases", {"keys": [key_of(issued)]})
    assert data["aliases"] == [[alias]]
    data = await ok(http, "/nca/pkcs12/info", {"keys": [key_of(issued, keyAlias=alias)]})
    assert data["signers"][0]["serialNumber"] == issued["serial"]


async def test_key_reading_errors_use_ncanode_texts(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    wrong = {"keys": [{"key": issued["pkcs12"], "password": "Qwerty13"}]}
    assert await error(http, "/nca/pkcs12/info", json=wrong) == "Key reading error: Password incorrect."
    bad64 = {"keys": [{"key": "@@ not base64 @@", "password": "Qwerty12"}]}
    assert "Invalid Base64" in await error(http, "/nca/pkcs12/info", json=bad64)
    alias = {"keys": [key_of(issued, keyAlias="x")]}
    assert await error(http, "/nca/pkcs12/info", json=alias) == "Key reading error: Key does not have 'x' alias"


async def test_invalid_base64_key_error_is_ncanodes_exact_text(http: httpx.AsyncClient) -> None:
    bad64 = {"keys": [{"key": "@@ not base64 @@", "password": "Qwerty12"}]}
    assert await error(http, "/nca/pkcs12/info", json=bad64) == (
        "Key reading error: Invalid Base64 format. Key must be in valid Base64 format."
    )


# -- /xml and /wsse -----------------------------------------------------------------------------------
async def test_xml_signed_by_xml_sign_verifies_and_names_the_signer(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    xml = '<application xmlns="urn:egovsim:test"><iin>900115300013</iin><amount>100</amount></application>'
    signed = (await ok(http, "/nca/xml/sign", {"xml": xml, "signers": [key_of(issued)]}))["xml"]
    assert "<ds:Signature" in signed and "<amount>100</amount>" in signed
    data = await ok(http, "/nca/xml/verify", {"xml": signed, "revocationCheck": ["OCSP"]})
    assert data["valid"] is True and len(data["signers"]) == 1
    assert_certificate_info(data["signers"][0], issued)


async def test_tampered_signed_xml_is_not_valid(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    xml = '<application xmlns="urn:egovsim:test"><amount>100</amount></application>'
    signed = (await ok(http, "/nca/xml/sign", {"xml": xml, "signers": [key_of(issued)]}))["xml"]
    tampered = signed.replace("<amount>100</amount>", "<amount>900</amount>")
    assert tampered != signed
    data = await ok(http, "/nca/xml/verify", {"xml": tampered})
    assert data["valid"] is False and data["signers"] == []


async def test_xml_with_a_doctype_entity_is_a_400_error_never_a_500(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    xml = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "expanded">]><a>&x;</a>'
    assert "DOCTYPE" in await error(http, "/nca/xml/sign", json={"xml": xml, "signers": [key_of(issued)]})
    assert "DOCTYPE" in await error(http, "/nca/xml/verify", json={"xml": xml})
    assert "DOCTYPE" in await error(http, "/nca/wsse/verify", json={"xml": xml})


async def test_wsse_signed_soap_verifies_here_and_with_xmlsec1(http: httpx.AsyncClient, tmp_path: Path) -> None:
    issued = await issue(http, kind="auth")
    signed = (await ok(http, "/nca/wsse/sign", {"xml": SOAP, **key_of(issued)}))["xml"]
    assert "wsse:Security" in signed and "<iin>900115300013</iin>" in signed
    data = await ok(http, "/nca/wsse/verify", {"xml": signed, "revocationCheck": ["OCSP"]})
    assert data["valid"] is True
    assert_certificate_info(data["signers"][0], issued, "AUTH")
    (tmp_path / "signer.pem").write_text(issued["certificate"])
    (tmp_path / "soap.xml").write_text(signed, encoding="utf-8")
    rc, out = await run(
        "xmlsec1", "--verify", "--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Body",
        "--pubkey-cert-pem", tmp_path / "signer.pem", tmp_path / "soap.xml",
    )  # fmt: skip
    assert rc == 0 and "OK" in out, out
    tampered = signed.replace("900115300013</iin>", "900115300014</iin>")
    assert (await ok(http, "/nca/wsse/verify", {"xml": tampered}))["valid"] is False


# -- /cms ---------------------------------------------------------------------------------------------
async def test_attached_cms_verifies_and_extracts_the_data(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    signed = (await ok(http, "/nca/cms/sign", {"data": DATA, "signers": [key_of(issued)], "detached": False}))["cms"]
    data = await ok(http, "/nca/cms/verify", {"cms": signed, "revocationCheck": ["OCSP", "CRL"]})
    assert data["valid"] is True and len(data["signers"]) == 1 and data["signers"][0]["tsp"] is None
    info = data["signers"][0]["signers"][0]
    assert_certificate_info(info, issued)
    assert [(r["by"], r["revoked"]) for r in info["revocations"]] == [("OCSP", False), ("CRL", False)]
    assert (await ok(http, "/nca/cms/extract", {"cms": signed}))["data"] == DATA


async def test_detached_cms_verifies_only_with_its_data(http: httpx.AsyncClient) -> None:
    issued = await issue(http, kind="sign")
    signed = (await ok(http, "/nca/cms/sign", {"data": DATA, "signers": [key_of(issued)], "detached": True}))["cms"]
    data = await ok(http, "/nca/cms/verify", {"cms": signed, "data": DATA})
    assert data["valid"] is True and data["signers"][0]["signers"][0]["subject"]["iin"] == "900115300013"
    other = base64.b64encode(b"another document").decode()
    assert (await ok(http, "/nca/cms/verify", {"cms": signed, "data": other}))["valid"] is False
    assert await error(http, "/nca/cms/verify", json={"cms": signed})  # the data is required
    assert await error(http, "/nca/cms/extract", json={"cms": signed})  # nothing inside to extract


async def test_cms_sign_add_adds_a_second_signer(http: httpx.AsyncClient) -> None:
    first, second = await issue(http, kind="sign"), await issue(http, kind="sign", **OTHER)
    signed = (await ok(http, "/nca/cms/sign", {"data": DATA, "signers": [key_of(first)]}))["cms"]
    both = (await ok(http, "/nca/cms/sign/add", {"cms": signed, "signers": [key_of(second)]}))["cms"]
    data = await ok(http, "/nca/cms/verify", {"cms": both})
    # SignerInfos is a DER SET OF: sorted by encoding, so the order is not the signing order
    infos = {i["subject"]["iin"]: i for i in data["signers"][0]["signers"]}
    assert data["valid"] is True and sorted(infos) == ["850101300015", "900115300013"]
    assert infos["850101300015"]["subject"]["lastName"] == "ИВАНОВИЧ"
    assert_certificate_info(infos["850101300015"], second)
    assert_certificate_info(infos["900115300013"], first)
    assert (await ok(http, "/nca/cms/extract", {"cms": both}))["data"] == DATA


async def test_garbage_cms_is_a_400_error(http: httpx.AsyncClient) -> None:
    issued = await issue(http)
    garbage = base64.b64encode(b"this is not a CMS").decode()
    for path, body in (
        ("/nca/cms/verify", {"cms": garbage}),
        ("/nca/cms/extract", {"cms": "garbage"}),
        ("/nca/cms/sign/add", {"cms": garbage, "signers": [key_of(issued)]}),
    ):
        assert "CMS" in await error(http, path, json=body)


# -- health and request errors ------------------------------------------------------------------------
async def test_actuator_health_is_up(http: httpx.AsyncClient) -> None:
    response = await http.get("/nca/actuator/health")
    assert response.status_code == 200 and response.json() == {"status": "UP"}


@pytest.mark.parametrize(
    "path,content,where",
    [
        ("/nca/x509/info", b"{not json", "body"),
        ("/nca/x509/info", b"[]", "body"),
        ("/nca/pkcs12/info", b"{}", "keys"),
        ("/nca/xml/sign", b'{"xml": "<a/>"}', "signers"),
        ("/nca/cms/verify", b'{"data": "aGk="}', "cms"),
        ("/nca/x509/info", b'{"certs": [], "revocationCheck": ["ocsp"]}', "revocationCheck"),
    ],
)
async def test_a_malformed_body_or_missing_field_gets_an_ncanode_error(
    http: httpx.AsyncClient, path: str, content: bytes, where: str
) -> None:
    message = await error(http, path, content=content, headers={"Content-Type": "application/json"})
    assert where in message
