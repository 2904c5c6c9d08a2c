"""Condition 2 (2-шарт, regulation 001 item 8.6): one test per refusal code, each a crafted case.

The verifier is a relying party: it reaches the НУЦ only through its public HTTP interface
(CA certificates, OCSP, CRLs), as NCANode does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from egovsim import cms, xmldsig
from egovsim.app import RunningSimulator
from egovsim.condition2 import EdsVerifier, RevocationPolicy, RevocationSource
from signing import ca
from signing.ca import Holder, KeyKind, Profile, Urls
from signing.service import CertificationAuthority
from tests.conftest import ADMIN
from tests.nca_helpers import issue, key_and_cert

pytestmark = pytest.mark.asyncio(loop_scope="module")

APPLICATION = (
    '<application xmlns="urn:egovsim:test"><iin>900115300013</iin>'
    "<service>Мектепке дейінгі ұйымдарға кезекке қою</service><amount>0</amount></application>"
)
CODES = (
    "EDS_CERT_EXPIRED", "EDS_CERT_NOT_YET_VALID", "EDS_CERT_REVOKED", "EDS_CERT_ON_HOLD", "EDS_CERT_UNKNOWN",
    "EDS_CERT_UNTRUSTED", "EDS_WRONG_KEY_USAGE", "EDS_IIN_MISMATCH", "EDS_SIGNATURE_INVALID",
    "EDS_SIGNATURE_WRAPPING", "EDS_NOT_SIGNED", "EDS_DOCUMENT_MALFORMED", "EDS_ALGORITHM_UNSUPPORTED",
    "EDS_REVOCATION_UNAVAILABLE",
)  # fmt: skip


@pytest.fixture
async def http(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with nca.client() as client:
        yield client


@pytest.fixture
async def verifier(nca: RunningSimulator) -> AsyncIterator[EdsVerifier]:
    v = EdsVerifier(lambda: nca.kernel.client_for("signing"), nca.kernel.clock.now)
    yield v
    await v.aclose()


@pytest.fixture
async def faults(http: httpx.AsyncClient) -> AsyncIterator[None]:
    yield
    await http.post("/nca/api/faults", json={"ocsp": "none", "crl": "none"}, headers=ADMIN)


async def signed(http: httpx.AsyncClient, kind: str = "sign", **body: object) -> tuple[bytes, str]:
    issued = await issue(http, kind=kind, **body)
    key, cert = key_and_cert(issued)
    return xmldsig.sign_enveloped(APPLICATION, key, cert), issued["serial"]


async def code_of(verifier: EdsVerifier, document: bytes | str, iin: str | None = "900115300013") -> str | None:
    verdict, _ = await verifier.check_xml(document, iin=iin)
    return verdict.code


async def test_a_valid_sign_certificate_passes_condition_2(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http)
    verdict, verified = await verifier.check_xml(document, iin="900115300013")
    assert verdict.valid and verdict.code is None
    assert [r.by for r in verdict.revocations] == [RevocationSource.OCSP] and verdict.revocations[0].status == "good"
    assert verified is not None and etree.QName(verified.signed_element).localname == "application"


async def test_expired_certificate_is_refused(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    start = datetime.now(UTC) - timedelta(days=400)
    document, _ = await signed(http, not_before=start.isoformat(), not_after=(start + timedelta(days=365)).isoformat())
    assert await code_of(verifier, document) == "EDS_CERT_EXPIRED"


async def test_certificate_expires_on_the_simulated_clock(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http)
    try:
        await http.post("/api/catalog/clock/offset", json={"by": "366d"}, headers=ADMIN)
        assert await code_of(verifier, document) == "EDS_CERT_EXPIRED"
    finally:
        await http.post("/api/catalog/clock/resume", headers=ADMIN)
    assert await code_of(verifier, document) is None


async def test_not_yet_valid_certificate_is_refused(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http, not_before=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    assert await code_of(verifier, document) == "EDS_CERT_NOT_YET_VALID"


async def test_revoked_certificate_is_refused_at_condition_2(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, serial = await signed(http)
    await http.post(f"/nca/api/certificates/{serial}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN)
    verdict, _ = await verifier.check_xml(document, iin="900115300013")
    assert verdict.code == "EDS_CERT_REVOKED"
    assert verdict.revocations[0].reason == "keyCompromise" and verdict.revocations[0].revoked_at is not None


async def test_certificate_on_hold_is_refused_and_passes_again_when_released(
    http: httpx.AsyncClient, verifier: EdsVerifier
) -> None:
    document, serial = await signed(http)
    await http.post(f"/nca/api/certificates/{serial}/hold", headers=ADMIN)
    assert await code_of(verifier, document) == "EDS_CERT_ON_HOLD"
    await http.post(f"/nca/api/certificates/{serial}/release", headers=ADMIN)
    assert await code_of(verifier, document) is None


async def test_certificate_the_ca_never_issued_is_unknown(nca: RunningSimulator, verifier: EdsVerifier) -> None:
    # crafted: signed by the real issuing CA's key but never recorded (a CA's own leak, say)
    authority = await CertificationAuthority(nca.kernel).authority()
    now = datetime.now(UTC)
    holder = Holder(Profile.INDIVIDUAL, KeyKind.SIGN, iin="900115300013", surname="АХМЕТОВ", given_name="АСЕТ")
    pair = ca.issue(authority, holder, now - timedelta(minutes=1), now + timedelta(days=30))
    document = xmldsig.sign_enveloped(APPLICATION, pair.key, pair.cert)
    assert await code_of(verifier, document) == "EDS_CERT_UNKNOWN"


@pytest.mark.parametrize("same_names", [True, False])
async def test_certificate_from_a_foreign_ca_is_refused(verifier: EdsVerifier, same_names: bool) -> None:
    now = datetime.now(UTC)
    foreign = ca.new_authority(now, Urls("http://127.0.0.1:9"), ca_bits=2048)  # same DNs as ours, other keys
    issuer = foreign.intermediate if same_names else foreign.foreign_root
    holder = Holder(Profile.INDIVIDUAL, KeyKind.SIGN, iin="900115300013", surname="АХМЕТОВ", given_name="АСЕТ")
    authority = ca.Authority(foreign.root, issuer, foreign.responder, foreign.root, foreign.responder, foreign.urls)
    pair = ca.issue(authority, holder, now - timedelta(minutes=1), now + timedelta(days=30))
    document = xmldsig.sign_enveloped(APPLICATION, pair.key, pair.cert)
    assert await code_of(verifier, document) == "EDS_CERT_UNTRUSTED"


async def test_auth_certificate_used_to_sign_is_refused(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http, kind="auth")
    assert await code_of(verifier, document) == "EDS_WRONG_KEY_USAGE"


async def test_iin_in_the_request_must_equal_the_iin_in_the_certificate(
    http: httpx.AsyncClient, verifier: EdsVerifier
) -> None:
    document, _ = await signed(http)
    assert await code_of(verifier, document, iin="850716400607") == "EDS_IIN_MISMATCH"
    verdict, _ = await verifier.check_xml(document, iin="900115300013", bin="180440001235")
    assert verdict.code == "EDS_IIN_MISMATCH"  # an individual's certificate carries no BIN


async def test_tampered_document_is_refused(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http)
    assert await code_of(verifier, document.replace(b"<amount>0</amount>", b"<amount>9</amount>")) == (
        "EDS_SIGNATURE_INVALID"
    )


async def test_signature_wrapping_is_refused(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http)
    # the attacker wraps the genuinely signed application and puts his own beside it
    root = etree.fromstring(document)
    wrapper = etree.Element("{urn:egovsim:test}envelope")
    forged = etree.fromstring(APPLICATION.replace("900115300013", "850716400607"))
    wrapper.append(forged)
    wrapper.append(root)
    signature = root.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert signature is not None
    wrapper.append(signature)  # the signature moves up to look like it covers the new root
    assert await code_of(verifier, etree.tostring(wrapper)) in ("EDS_SIGNATURE_WRAPPING", "EDS_SIGNATURE_INVALID")
    doubled = etree.fromstring(document)
    doubled.append(etree.fromstring(etree.tostring(doubled.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))))
    assert await code_of(verifier, etree.tostring(doubled)) == "EDS_SIGNATURE_WRAPPING"


async def test_unsigned_document_is_refused(verifier: EdsVerifier) -> None:
    assert await code_of(verifier, APPLICATION) == "EDS_NOT_SIGNED"


@pytest.mark.parametrize(
    "document",
    [
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;">]><a>&y;</a>',
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        b"<a>" + b"x" * (xmldsig.MAX_XML_BYTES + 1) + b"</a>",
    ],
    ids=["garbage", "entity-expansion", "external-entity", "oversize"],
)
async def test_malformed_or_hostile_xml_is_refused(verifier: EdsVerifier, document: bytes) -> None:
    verdict, verified = await verifier.check_xml(document, iin="900115300013")
    assert verdict.code == "EDS_DOCUMENT_MALFORMED" and verified is None
    assert "root:" not in (verdict.detail or "")


async def test_sha1_signature_is_refused_as_unsupported(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    document, _ = await signed(http)
    weak = document.replace(
        b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", b"http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    )
    assert await code_of(verifier, weak) == "EDS_ALGORITHM_UNSUPPORTED"


async def test_revocation_falls_back_to_the_crl_when_ocsp_fails(
    http: httpx.AsyncClient, verifier: EdsVerifier, faults: None
) -> None:
    document, serial = await signed(http)
    await http.post(f"/nca/api/certificates/{serial}/revoke", json={"reason": "superseded"}, headers=ADMIN)
    for fault in ("try_later", "unavailable", "untrusted_responder", "internal_error"):
        await http.post("/nca/api/faults", json={"ocsp": fault}, headers=ADMIN)
        verdict, _ = await verifier.check_xml(document, iin="900115300013")
        assert verdict.code == "EDS_CERT_REVOKED", fault
        assert [(r.by, r.status) for r in verdict.revocations] == [
            (RevocationSource.OCSP, "unavailable"),
            (RevocationSource.CRL, "revoked"),
        ]


async def test_no_revocation_source_means_refusal_when_hard_fail_and_a_pass_when_soft(
    nca: RunningSimulator, http: httpx.AsyncClient, verifier: EdsVerifier, faults: None
) -> None:
    document, _ = await signed(http)
    await http.post("/nca/api/faults", json={"ocsp": "unavailable", "crl": "stale"}, headers=ADMIN)
    verdict, _ = await verifier.check_xml(document, iin="900115300013")
    assert verdict.code == "EDS_REVOCATION_UNAVAILABLE" and "stale" in (verdict.detail or "")
    await http.post("/nca/api/faults", json={"crl": "unavailable"}, headers=ADMIN)
    assert await code_of(verifier, document) == "EDS_REVOCATION_UNAVAILABLE"
    soft = EdsVerifier(
        lambda: nca.kernel.client_for("signing"), nca.kernel.clock.now, RevocationPolicy(hard_fail=False)
    )
    assert (await soft.check_xml(document, iin="900115300013"))[0].valid
    await soft.aclose()
    crl_only = EdsVerifier(
        lambda: nca.kernel.client_for("signing"), nca.kernel.clock.now, RevocationPolicy(order=(RevocationSource.CRL,))
    )
    await http.post("/nca/api/faults", json={"crl": "none"}, headers=ADMIN)
    assert (await crl_only.check_xml(document, iin="900115300013"))[0].valid
    await crl_only.aclose()


async def test_cms_signatures_go_through_the_same_check(http: httpx.AsyncClient, verifier: EdsVerifier) -> None:
    issued = await issue(http, kind="sign")
    key, cert = key_and_cert(issued)
    attached = cms.sign_cms(b"attachment: passport scan", key, cert)
    verdicts, verified = await verifier.check_cms(attached, iin="900115300013")
    assert [v.code for v in verdicts] == [None] and verified is not None
    detached = cms.sign_cms(b"attachment", key, cert, detached=True)
    assert (await verifier.check_cms(detached, b"attachment", iin="900115300013"))[0][0].valid
    assert (await verifier.check_cms(detached, b"changed", iin="900115300013"))[0][0].code == "EDS_SIGNATURE_INVALID"
    assert (await verifier.check_cms(b"\x30\x80garbage"))[0][0].code == "EDS_DOCUMENT_MALFORMED"


async def test_every_condition_2_code_leads_to_4_process_with_three_languages(http: httpx.AsyncClient) -> None:
    for code in CODES:
        entry = (await http.get(f"/api/catalog/refusals/{code}")).json()
        assert entry["step"] == "portal:4-процесс", code
        assert all(entry["texts"][lang] for lang in ("kk", "ru", "en")), code
