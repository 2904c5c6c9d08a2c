"""An NCANode v3-compatible API under ``/nca/…``, so a system that calls NCANode (malikzh/NCANode,
port 14579) can call egovsim instead: the same paths, request and response JSON, error texts.

Like NCANode it is a relying party: it verifies against the НУЦ's CA certificates and asks the
OCSP responder and CRLs the request names (``revocationCheck``), reporting each answer. Its
``valid`` follows NCANode: within validity, issuer trusted, every requested check ACTIVE. Key
usage and IIN are condition 2's business, not NCANode's.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egovsim import cms, xmldsig
from egovsim.condition2 import EdsVerifier, RevocationSource, Verdict
from egovsim.kernel import Kernel
from egovsim.pki import Subject, key_usage_kind, key_users, serial_hex

SIGN_ALGS = {"1.2.840.113549.1.1.11": "SHA256WithRSAEncryption", "1.2.840.113549.1.1.5": "SHA1WithRSAEncryption"}


class NcaNodeError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Signer(_Body):
    key: str
    password: str
    keyAlias: str | None = None


class CertsRequest(_Body):
    certs: list[str] = Field(default_factory=list)
    revocationCheck: list[RevocationSource] = Field(default_factory=list)


class XmlSignRequest(_Body):
    xml: str
    signers: list[Signer] = Field(min_length=1)
    clearSignatures: bool = False
    trimXml: bool = False


class XmlVerifyRequest(_Body):
    xml: str
    revocationCheck: list[RevocationSource] = Field(default_factory=list)


class WsseSignRequest(_Body):
    xml: str
    key: str
    password: str
    keyAlias: str | None = None
    trimXml: bool = False


class CmsSignRequest(_Body):
    data: str
    signers: list[Signer] = Field(min_length=1)
    detached: bool = False
    withTsp: bool = False
    tsaPolicy: str | None = None


class CmsAddRequest(_Body):
    cms: str
    signers: list[Signer] = Field(min_length=1)
    data: str | None = None
    detached: bool = False


class CmsVerifyRequest(_Body):
    cms: str
    data: str | None = None
    revocationCheck: list[RevocationSource] = Field(default_factory=list)


class CmsExtractRequest(_Body):
    cms: str


class KeysRequest(_Body):
    keys: list[Signer] = Field(min_length=1)
    revocationCheck: list[RevocationSource] = Field(default_factory=list)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NcaNodeError(f"{what}: Invalid Base64 format.") from exc


def load_key(signer: Signer) -> tuple[rsa.RSAPrivateKey, x509.Certificate, list[str]]:
    """A PKCS#12 key file as NCANode reads it, with NCANode's error texts."""
    try:
        data = base64.b64decode("".join(signer.key.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NcaNodeError("Key reading error: Invalid Base64 format. Key must be in valid Base64 format.") from exc
    try:
        loaded = pkcs12.load_pkcs12(data, signer.password.encode())
    except ValueError as exc:
        if not data.startswith(b"\x30"):  # not even DER: NCANode's "Invalid format"
            raise NcaNodeError("Key reading error: Invalid format.") from exc
        raise NcaNodeError("Key reading error: Password incorrect.") from exc
    if loaded.key is None or loaded.cert is None or not isinstance(loaded.key, rsa.RSAPrivateKey):
        raise NcaNodeError("Key reading error: the key file holds no RSA key and certificate.")
    alias = (loaded.cert.friendly_name or b"").decode(errors="replace")
    if signer.keyAlias and signer.keyAlias != alias:
        raise NcaNodeError(f"Key reading error: Key does not have '{signer.keyAlias}' alias")
    return loaded.key, loaded.cert.certificate, [alias]


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def certificate_info(verdict: Verdict) -> dict[str, Any]:
    """NCANode's CertificateInfo; null fields are omitted as NCANode omits them."""
    cert = verdict.certificate
    assert cert is not None  # document failures never reach here: they are answered before
    subject = Subject.of(cert.subject)
    issuer = Subject.of(cert.issuer)
    info: dict[str, Any] = {
        "valid": verdict.valid,
        "revocations": [
            {
                "revoked": r.status in ("revoked", "hold"),
                "by": r.by.value,
                "revocationTime": _date(r.revoked_at) if r.revoked_at else None,
                "reason": r.reason if r.status != "good" else "OK",
            }
            for r in verdict.revocations
        ],
        "notBefore": _date(cert.not_valid_before_utc),
        "notAfter": _date(cert.not_valid_after_utc),
        "keyUsage": key_usage_kind(cert).value,
        "serialNumber": serial_hex(cert),
        "signAlg": SIGN_ALGS.get(
            cert.signature_algorithm_oid.dotted_string, cert.signature_algorithm_oid.dotted_string
        ),
        "keyUser": key_users(cert),
        "issuer": _drop_none({"commonName": issuer.common_name, "country": issuer.country, "dn": issuer.dn}),
        "subject": _drop_none(
            {
                "commonName": subject.common_name,
                "surName": subject.surname,
                "lastName": subject.patronymic,  # NCANode's lastName holds the patronymic
                "iin": subject.iin,
                "bin": subject.bin,
                "organization": subject.organization,
                "email": subject.email,
                "country": subject.country,
                "dn": subject.dn,
            }
        ),
    }
    if verdict.code is not None:
        info["reason"] = verdict.detail
    return _drop_none(info)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _ok(**body: Any) -> JSONResponse:
    return JSONResponse({"status": 200, "message": "OK", **body})


def ncanode_router(kernel: Kernel) -> APIRouter:
    router = APIRouter(prefix="/nca", tags=["NCANode-compatible"])
    verifier = EdsVerifier(lambda: kernel.client_for("signing"), kernel.clock.now)

    async def parse(request: Request, model: type[_Body]) -> Any:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise NcaNodeError(f"Invalid request: {where}: {first['msg']}") from exc

    async def check(cert: x509.Certificate, sources: list[RevocationSource]) -> Verdict:
        return await verifier.check_certificate(cert, require_sign=False, sources=sources, all_sources=True)

    def route(path: str):  # type: ignore[no-untyped-def]
        def wrap(handler):  # type: ignore[no-untyped-def]
            async def endpoint(request: Request) -> JSONResponse:
                try:
                    return await handler(request)
                except NcaNodeError as exc:
                    return JSONResponse({"status": exc.status, "message": str(exc)}, status_code=exc.status)

            endpoint.__name__ = handler.__name__
            router.add_api_route(path, endpoint, methods=["POST"], summary=handler.__doc__)
            return handler

        return wrap

    @router.get("/actuator/health", summary="NCANode's health probe")
    async def actuator_health() -> dict:
        return {"status": "UP"}

    @route("/x509/info")
    async def x509_info(request: Request) -> JSONResponse:
        """certificate information and validity (NCANode /x509/info)"""
        body: CertsRequest = await parse(request, CertsRequest)
        signers = []
        for index, text in enumerate(body.certs):
            try:
                cert = x509.load_der_x509_certificate(_b64(text, "certificate"))
            except (ValueError, NcaNodeError) as exc:
                raise NcaNodeError(f"[{index}]: Invalid certificate given.") from exc
            signers.append(certificate_info(await check(cert, body.revocationCheck)))
        return _ok(valid=bool(signers) and all(s["valid"] for s in signers), signers=signers)

    async def verify_xml(request: Request, wsse: bool) -> JSONResponse:
        body: XmlVerifyRequest = await parse(request, XmlVerifyRequest)
        try:
            verified = xmldsig.verify_wsse(body.xml) if wsse else xmldsig.verify_enveloped(body.xml)
        except xmldsig.XmlSignatureError as exc:
            if exc.reason in ("malformed", "not_signed", "unsupported"):
                raise NcaNodeError(f"Failed to verify XML: {exc}") from exc
            return _ok(valid=False, signers=[], reason=str(exc))
        verdict = await check(verified.certificate, body.revocationCheck)
        return _ok(valid=verdict.valid, signers=[certificate_info(verdict)])

    @route("/xml/verify")
    async def xml_verify(request: Request) -> JSONResponse:
        """verify an enveloped XML signature (NCANode /xml/verify)"""
        return await verify_xml(request, wsse=False)

    @route("/wsse/verify")
    async def wsse_verify(request: Request) -> JSONResponse:
        """verify a WS-Security SOAP signature (NCANode /wsse/verify)"""
        return await verify_xml(request, wsse=True)

    @route("/xml/sign")
    async def xml_sign(request: Request) -> JSONResponse:
        """sign XML with an enveloped signature (NCANode /xml/sign)"""
        body: XmlSignRequest = await parse(request, XmlSignRequest)
        key, cert, _ = load_key(body.signers[0])
        try:
            signed = xmldsig.sign_enveloped(body.xml.strip() if body.trimXml else body.xml, key, cert)
        except xmldsig.XmlSignatureError as exc:
            raise NcaNodeError(f"Failed to sign XML: {exc}") from exc
        return _ok(xml=signed.decode())

    @route("/wsse/sign")
    async def wsse_sign(request: Request) -> JSONResponse:
        """sign a SOAP envelope's Body with WS-Security (NCANode /wsse/sign)"""
        body: WsseSignRequest = await parse(request, WsseSignRequest)
        key, cert, _ = load_key(Signer(key=body.key, password=body.password, keyAlias=body.keyAlias))
        try:
            signed = xmldsig.sign_wsse(body.xml.strip() if body.trimXml else body.xml, key, cert)
        except xmldsig.XmlSignatureError as exc:
            raise NcaNodeError(f"Failed to sign SOAP: {exc}") from exc
        return _ok(xml=signed.decode())

    @route("/cms/sign")
    async def cms_sign(request: Request) -> JSONResponse:
        """CMS (CAdES-BES) signature, attached or detached (NCANode /cms/sign)"""
        body: CmsSignRequest = await parse(request, CmsSignRequest)
        data = _b64(body.data, "data")
        key, cert, _ = load_key(body.signers[0])
        signed = cms.sign_cms(data, key, cert, detached=body.detached, signing_time=kernel.clock.now())
        for extra in body.signers[1:]:
            k, c, _ = load_key(extra)
            signed = cms.add_signer(signed, k, c, data=data if body.detached else None, signing_time=kernel.clock.now())
        return _ok(cms=base64.b64encode(signed).decode())

    @route("/cms/sign/add")
    async def cms_sign_add(request: Request) -> JSONResponse:
        """add a signer to an existing CMS (NCANode /cms/sign/add)"""
        body: CmsAddRequest = await parse(request, CmsAddRequest)
        signed = _load_cms(body.cms)
        data = _b64(body.data, "data") if body.data else None
        try:
            for signer in body.signers:
                key, cert, _ = load_key(signer)
                signed = cms.add_signer(signed, key, cert, data=data, signing_time=kernel.clock.now())
        except cms.CmsError as exc:
            raise NcaNodeError(f"Failed to add a signer: {exc}") from exc
        return _ok(cms=base64.b64encode(signed).decode())

    @route("/cms/verify")
    async def cms_verify(request: Request) -> JSONResponse:
        """verify a CMS signature (NCANode /cms/verify)"""
        body: CmsVerifyRequest = await parse(request, CmsVerifyRequest)
        signed = _load_cms(body.cms)
        data = _b64(body.data, "data") if body.data else None
        try:
            verified = cms.verify_cms(signed, data)
        except cms.CmsError as exc:
            if exc.reason in ("malformed", "no_data", "unsupported"):
                raise NcaNodeError(f"Failed to verify CMS: {exc}") from exc
            return _ok(valid=False, signers=[], reason=str(exc))
        infos = [certificate_info(await check(s.certificate, body.revocationCheck)) for s in verified.signers]
        return _ok(valid=all(i["valid"] for i in infos), signers=[{"signers": infos, "tsp": None}])

    @route("/cms/extract")
    async def cms_extract(request: Request) -> JSONResponse:
        """the data inside an attached CMS (NCANode /cms/extract)"""
        body: CmsExtractRequest = await parse(request, CmsExtractRequest)
        try:
            data = cms.extract_content(_load_cms(body.cms))
        except cms.CmsError as exc:
            raise NcaNodeError(f"Failed to extract data: {exc}") from exc
        return _ok(data=base64.b64encode(data).decode())

    @route("/pkcs12/info")
    async def pkcs12_info(request: Request) -> JSONResponse:
        """the certificates of key files and their validity (NCANode /pkcs12/info)"""
        body: KeysRequest = await parse(request, KeysRequest)
        signers = []
        for signer in body.keys:
            _, cert, _ = load_key(signer)
            signers.append(certificate_info(await check(cert, body.revocationCheck)))
        return _ok(valid=all(s["valid"] for s in signers), signers=signers)

    @route("/pkcs12/aliases")
    async def pkcs12_aliases(request: Request) -> JSONResponse:
        """the aliases inside key files (NCANode /pkcs12/aliases)"""
        body: KeysRequest = await parse(request, KeysRequest)
        return _ok(aliases=[load_key(signer)[2] for signer in body.keys])

    return router


def _load_cms(text: str) -> bytes:
    try:
        return cms.load_cms(text.encode())
    except cms.CmsError as exc:
        raise NcaNodeError(f"Invalid CMS: {exc}") from exc
