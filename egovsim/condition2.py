"""Condition 2 (2-шарт): the EDS check every chain of the regulations makes.

Regulation 001, item 8.6: "тіркеу куәлігінің қолдану мерзімін және қайтарылған (жойылған) тіркеу
куәліктерінің тізімінде жоқтығын, сондай-ақ сәйкестендіру деректерінің сәйкестігін (сұраныста
көрсетілген ЖСН және ЭЦҚ тіркеу куәлігінде көрсетілген ЖСН арасында) тексеру" — validity period,
absence from the revocation list, and the IIN of the request equal to the IIN of the certificate.
A failure leads to 4-процесс; each way of failing has its own refusal code.

:class:`EdsVerifier` is a relying party like NCANode: its trust anchors are the CA certificates
it fetched from the НУЦ, and it asks the НУЦ's OCSP responder and CRL distribution points over
HTTP (configured sources, as NCANode 3 does, not the URLs inside the certificate). Every
component uses it; the verdict names the trust anchor and the revocation source it used.

The order of checks: document and signature → issuer (chain to the trusted root) → validity at
the simulated time → key usage SIGN → revocation (OCSP then CRL by default; hard-fail by
default) → IIN/BIN. The hot path is lean: certificate facts and verified revocation answers
are cached, so a warm check costs one XML canonicalisation and one RSA verification.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from egovsim import call_faults, xmldsig
from egovsim import cms as cms_format
from egovsim.errors import CodedError
from egovsim.pki import KeyUsageKind, Subject, key_usage_kind, within_validity

CLOCK_SKEW = timedelta(seconds=60)  # tolerance for thisUpdate a little in the future
ROOT_PATH = "/nca/cert/root_rsa_test.cer"
CA_PATH = "/nca/cert/nca_rsa_test.cer"
OCSP_PATH = "/nca/ocsp/"
CRL_PATH = "/nca/crl/nca_rsa_test.crl"
DELTA_CRL_PATH = "/nca/crl/nca_d_rsa_test.crl"


class RevocationSource(enum.StrEnum):
    OCSP = "OCSP"
    CRL = "CRL"


@dataclass(frozen=True)
class RevocationPolicy:
    """Which sources to ask, in order; ``hard_fail`` refuses when none of them answers."""

    order: tuple[RevocationSource, ...] = (RevocationSource.OCSP, RevocationSource.CRL)
    hard_fail: bool = True
    cache_seconds: float = 0.0  # how long a verified answer is reused (wall time); 0 = ask every time


@dataclass(frozen=True)
class RevocationCheck:
    """One source's answer, in NCANode's vocabulary (``by``, ``revoked``, ``reason``)."""

    by: RevocationSource
    status: str  # good, revoked, hold, unknown, unavailable
    revoked_at: datetime | None = None
    reason: str | None = None  # RFC 5280 reason, or why the source gave no answer

    @property
    def definitive(self) -> bool:
        return self.status != "unavailable"


@dataclass
class Verdict:
    """The outcome of condition 2 for one signer: ``code`` is None when the signer passes.

    ``certificate`` is None when the document failed before a signer could be read.
    """

    certificate: x509.Certificate | None
    code: str | None = None
    detail: str | None = None
    revocations: list[RevocationCheck] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.code is None

    def require(self) -> Verdict:
        if self.code is not None:
            raise CodedError(self.code, self.detail)
        return self


@dataclass
class _Facts:
    """What never changes about a certificate, computed once."""

    cert: x509.Certificate
    serial: int
    issuer_error: str | None
    usage: KeyUsageKind
    subject: Subject
    not_before: datetime
    not_after: datetime


_XML_REASONS = {
    "malformed": "EDS_DOCUMENT_MALFORMED",
    "not_signed": "EDS_NOT_SIGNED",
    "unsupported": "EDS_ALGORITHM_UNSUPPORTED",
    "bad_signature": "EDS_SIGNATURE_INVALID",
    "wrapping": "EDS_SIGNATURE_WRAPPING",
    "no_data": "EDS_DOCUMENT_MALFORMED",
}


class EdsVerifier:
    """A relying party of the НУЦ: trust anchors, revocation sources, and the condition-2 check.

    ``client`` makes an HTTP client for the signing component (``Kernel.client_for("signing")``);
    ``now`` gives the simulated time.
    """

    def __init__(
        self,
        client: Callable[[], httpx.AsyncClient],
        now: Callable[[], datetime],
        policy: RevocationPolicy | None = None,
    ) -> None:
        self._make_client = client
        self._client: httpx.AsyncClient | None = None
        self.now = now
        self.policy = policy or RevocationPolicy()
        self.root: x509.Certificate | None = None
        self.issuer: x509.Certificate | None = None
        # by id(): hashing a Certificate hashes its DER; the entry holds the object, so the id
        # stays its own while the entry lives (a parsed KeyInfo certificate is cached by xmldsig)
        self._facts: dict[int, _Facts] = {}
        self._answers: dict[tuple[int, RevocationSource], tuple[float, RevocationCheck]] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- trust --------------------------------------------------------------------------------
    async def load_trust(self) -> None:
        """Fetch the root and issuing CA certificates; the issuing CA must chain to the root."""
        if self.issuer is not None:
            return
        root = x509.load_der_x509_certificate((await self._get(ROOT_PATH)).content)
        issuer = x509.load_der_x509_certificate((await self._get(CA_PATH)).content)
        issuer.verify_directly_issued_by(root)
        root.verify_directly_issued_by(root)
        self.root, self.issuer = root, issuer

    async def _get(self, path: str) -> httpx.Response:
        response = await self.client.get(path)
        response.raise_for_status()
        return response

    def _facts_of(self, cert: x509.Certificate) -> _Facts:
        facts = self._facts.get(id(cert))
        if facts is None or facts.cert is not cert:
            if len(self._facts) > 10_000:
                self._facts.clear()
            assert self.issuer is not None
            facts = _Facts(
                cert,
                cert.serial_number,
                self._issuer_error(cert),
                key_usage_kind(cert),
                Subject.of(cert.subject),
                max(cert.not_valid_before_utc, self.issuer.not_valid_before_utc),
                min(cert.not_valid_after_utc, self.issuer.not_valid_after_utc),
            )
            self._facts[id(cert)] = facts
        return facts

    def _issuer_error(self, cert: x509.Certificate) -> str | None:
        assert self.issuer is not None
        if cert.issuer != self.issuer.subject:
            return f"issuer {cert.issuer.rfc4514_string()} is not a trusted CA"
        try:  # same issuer name, another key: a forged CA
            cert.verify_directly_issued_by(self.issuer)
        except (ValueError, TypeError, InvalidSignature):
            return "the certificate's signature does not verify with the trusted CA's key"
        return None

    # -- condition 2 --------------------------------------------------------------------------
    async def check_certificate(
        self,
        cert: x509.Certificate,
        *,
        iin: str | None = None,
        bin: str | None = None,
        require_sign: bool = True,
        sources: Sequence[RevocationSource] | None = None,
        all_sources: bool = False,
    ) -> Verdict:
        """Condition 2 on a certificate whose signature was already verified."""
        await self.load_trust()
        facts = self._facts_of(cert)
        verdict = Verdict(cert)
        moment = self.now()
        if facts.issuer_error:
            return _fail(verdict, "EDS_CERT_UNTRUSTED", facts.issuer_error)
        assert self.issuer is not None and self.root is not None
        # the certificate and its issuing CA must both be within validity at the simulated time
        if moment > facts.not_after:
            return _fail(verdict, "EDS_CERT_EXPIRED", f"valid until {facts.not_after.isoformat()}")
        if moment < facts.not_before:
            return _fail(verdict, "EDS_CERT_NOT_YET_VALID", f"valid from {facts.not_before.isoformat()}")
        if require_sign and facts.usage is not KeyUsageKind.SIGN:
            return _fail(verdict, "EDS_WRONG_KEY_USAGE", f"key usage is {facts.usage.value}, SIGN is required")
        verdict.revocations = await self.revocation(cert, sources, all_sources=all_sources)
        code = _revocation_code(verdict.revocations, self.policy.hard_fail, all_sources)
        if code is not None:
            return _fail(
                verdict, code, "; ".join(f"{r.by}: {r.status} {r.reason or ''}".strip() for r in verdict.revocations)
            )
        # 2-шарт: the IIN in the request must equal the IIN in the certificate (001, item 8.6)
        if iin is not None and facts.subject.iin != iin:
            return _fail(verdict, "EDS_IIN_MISMATCH", f"request IIN {iin}, certificate IIN {facts.subject.iin}")
        if bin is not None and facts.subject.bin != bin:
            return _fail(verdict, "EDS_IIN_MISMATCH", f"request BIN {bin}, certificate BIN {facts.subject.bin}")
        return verdict

    async def check_xml(
        self, xml: bytes | str, *, iin: str | None = None, bin: str | None = None, wsse: bool = False,
        require_sign: bool = True,
    ) -> tuple[Verdict, xmldsig.VerifiedXml | None]:  # fmt: skip
        """Condition 2 on an enveloped (or WS-Security) signed XML document."""
        try:
            verified = xmldsig.verify_wsse(xml) if wsse else xmldsig.verify_enveloped(xml)
        except xmldsig.XmlSignatureError as exc:
            return _document_failure(exc.reason, str(exc)), None
        verdict = await self.check_certificate(verified.certificate, iin=iin, bin=bin, require_sign=require_sign)
        return verdict, verified

    async def check_cms(
        self, data: bytes, content: bytes | None = None, *, iin: str | None = None, require_sign: bool = True
    ) -> tuple[list[Verdict], cms_format.VerifiedCms | None]:
        try:
            verified = cms_format.verify_cms(cms_format.load_cms(data), content)
        except cms_format.CmsError as exc:
            return [_document_failure(exc.reason, str(exc))], None
        verdicts = [
            await self.check_certificate(s.certificate, iin=iin, require_sign=require_sign) for s in verified.signers
        ]
        return verdicts, verified

    # -- revocation ---------------------------------------------------------------------------
    async def revocation(
        self, cert: x509.Certificate, sources: Sequence[RevocationSource] | None = None, *, all_sources: bool = False
    ) -> list[RevocationCheck]:
        """Ask the sources in order; stop at the first definitive answer unless ``all_sources``."""
        answers: list[RevocationCheck] = []
        serial = self._facts_of(cert).serial if self.issuer is not None else cert.serial_number
        # a call forcing a fault on the НУЦ (egovsim.call_faults) asks it, and its answers are
        # kept for no one: they are this call's, not the НУЦ's state
        reuse = self.policy.cache_seconds > 0 and not call_faults.consumed_by("signing")
        for source in sources if sources is not None else self.policy.order:
            key = (serial, source)
            cached = self._answers.get(key) if reuse else None
            if cached is not None and time.monotonic() - cached[0] < self.policy.cache_seconds:
                answer = cached[1]
            else:
                answer = await (self._ocsp(cert) if source is RevocationSource.OCSP else self._crl(cert))
                if answer.definitive and reuse:
                    self._answers[key] = (time.monotonic(), answer)
            answers.append(answer)
            if answer.definitive and not all_sources:
                break
        return answers

    async def _ocsp(self, cert: x509.Certificate) -> RevocationCheck:
        assert self.issuer is not None
        nonce = os.urandom(16)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(cert, self.issuer, hashes.SHA256())  # SHA-256 CertID, as NCANode
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        try:
            response = await self.client.post(
                OCSP_PATH,
                content=request.public_bytes(serialization.Encoding.DER),
                headers={"Content-Type": "application/ocsp-request"},
            )
        except httpx.HTTPError as exc:
            return _unavailable(RevocationSource.OCSP, f"responder unreachable ({type(exc).__name__})")
        if response.status_code != 200:
            return _unavailable(RevocationSource.OCSP, f"responder answered HTTP {response.status_code}")
        try:
            answer = ocsp.load_der_ocsp_response(response.content)
        except ValueError:
            return _unavailable(RevocationSource.OCSP, "the answer is not an OCSP response")
        if answer.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return _unavailable(RevocationSource.OCSP, f"responder status {answer.response_status.name}: Try again")
        problem = self._ocsp_problem(answer, cert, nonce)
        if problem:
            return _unavailable(RevocationSource.OCSP, problem)
        status = answer.certificate_status
        if status is ocsp.OCSPCertStatus.GOOD:
            return RevocationCheck(RevocationSource.OCSP, "good")
        if status is ocsp.OCSPCertStatus.UNKNOWN:
            return RevocationCheck(RevocationSource.OCSP, "unknown", reason="Unknown status")
        reason = answer.revocation_reason
        name = _reason_name(reason)
        return RevocationCheck(
            RevocationSource.OCSP, "hold" if name == "certificateHold" else "revoked", answer.revocation_time_utc, name
        )

    def _ocsp_problem(self, answer: ocsp.OCSPResponse, cert: x509.Certificate, nonce: bytes) -> str | None:
        """X-Road's order: CertID, responder certificate, signature, authorisation, freshness."""
        assert self.issuer is not None
        if answer.serial_number != cert.serial_number:
            return "the answer is about another certificate"
        signer = next(iter(answer.certificates), None) or self.issuer
        if signer != self.issuer:
            try:
                signer.verify_directly_issued_by(self.issuer)
            except (ValueError, TypeError, InvalidSignature):
                return "the responder certificate is not issued by the trusted CA"
            try:
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                eku = x509.ExtendedKeyUsage([])
            if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                return "the responder certificate is not authorised for OCSP signing"
            if within_validity(signer, self.now()):
                return "the responder certificate is outside its validity"
        public_key = signer.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        try:
            assert answer.signature_hash_algorithm is not None
            public_key.verify(
                answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), answer.signature_hash_algorithm
            )
        except InvalidSignature:
            return "the OCSP answer's signature does not verify"
        try:
            echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if echoed != nonce:
            return "Nonce aren't equals"  # NCANode's words
        moment = self.now()
        if answer.this_update_utc > moment + CLOCK_SKEW:
            return "the OCSP answer is from the future"
        if answer.next_update_utc is not None and answer.next_update_utc < moment:
            return "the OCSP answer is stale"
        return None

    async def _crl(self, cert: x509.Certificate) -> RevocationCheck:
        """Delta first, then the full CRL (NCANode's order)."""
        assert self.issuer is not None
        moment = self.now()
        lists: list[x509.CertificateRevocationList] = []
        for path in (DELTA_CRL_PATH, CRL_PATH):
            try:
                response = await self.client.get(path)
            except httpx.HTTPError as exc:
                return _unavailable(RevocationSource.CRL, f"{path} unreachable ({type(exc).__name__})")
            if response.status_code != 200 or not response.content:
                return _unavailable(RevocationSource.CRL, f"{path} answered HTTP {response.status_code}")
            try:
                crl = x509.load_der_x509_crl(response.content)
            except ValueError:
                return _unavailable(RevocationSource.CRL, f"{path} is not a CRL")
            issuer_key = self.issuer.public_key()
            if crl.issuer != self.issuer.subject or not crl.is_signature_valid(issuer_key):  # type: ignore[arg-type]
                return _unavailable(RevocationSource.CRL, f"{path} is not signed by the trusted CA")
            if crl.next_update_utc is None or crl.next_update_utc < moment:
                return _unavailable(RevocationSource.CRL, f"{path} is stale (nextUpdate passed)")
            lists.append(crl)
        for crl in lists:
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is None:
                continue
            try:
                flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            except x509.ExtensionNotFound:
                flag = None
            if flag is x509.ReasonFlags.remove_from_crl:
                return RevocationCheck(RevocationSource.CRL, "good")  # a hold released since the base
            name = _reason_name(flag)
            status = "hold" if name == "certificateHold" else "revoked"
            return RevocationCheck(RevocationSource.CRL, status, entry.revocation_date_utc, name)
        return RevocationCheck(RevocationSource.CRL, "good")


def _fail(verdict: Verdict, code: str, detail: str) -> Verdict:
    verdict.code, verdict.detail = code, detail
    return verdict


def _document_failure(reason: str, message: str) -> Verdict:
    return Verdict(None, _XML_REASONS.get(reason, "EDS_DOCUMENT_MALFORMED"), message)


def _unavailable(source: RevocationSource, why: str) -> RevocationCheck:
    return RevocationCheck(source, "unavailable", reason=why)


_REASON_NAMES = {
    x509.ReasonFlags.unspecified: "unspecified",
    x509.ReasonFlags.key_compromise: "keyCompromise",
    x509.ReasonFlags.ca_compromise: "cACompromise",
    x509.ReasonFlags.affiliation_changed: "affiliationChanged",
    x509.ReasonFlags.superseded: "superseded",
    x509.ReasonFlags.cessation_of_operation: "cessationOfOperation",
    x509.ReasonFlags.certificate_hold: "certificateHold",
    x509.ReasonFlags.privilege_withdrawn: "privilegeWithdrawn",
    x509.ReasonFlags.aa_compromise: "aACompromise",
}


def _reason_name(flag: x509.ReasonFlags | None) -> str:
    return _REASON_NAMES.get(flag, "unspecified") if flag is not None else "unspecified"


def _revocation_code(answers: list[RevocationCheck], hard_fail: bool, all_sources: bool) -> str | None:
    for answer in answers:
        if answer.status == "revoked":
            return "EDS_CERT_REVOKED"
        if answer.status == "hold":
            return "EDS_CERT_ON_HOLD"
        if answer.status == "unknown":
            return "EDS_CERT_UNKNOWN"
    definitive = [a for a in answers if a.definitive]
    if all_sources and len(definitive) < len(answers):
        return "EDS_REVOCATION_UNAVAILABLE"
    if not definitive and hard_fail and answers:
        return "EDS_REVOCATION_UNAVAILABLE"
    return None


__all__ = ["EdsVerifier", "RevocationCheck", "RevocationPolicy", "RevocationSource", "Verdict"]
