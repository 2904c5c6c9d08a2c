"""HTTP routes of signing/ (НУЦ РК): CA certificates, CRLs, the OCSP responder, the issuance and
revocation API, and the NCANode-compatible API (:mod:`signing.ncanode`).

Public, like the real НУЦ's: ``/nca/cert/…``, ``/nca/crl/…``, ``/nca/ocsp/``. Operator actions
(issue, revoke, hold, release, fault knobs) need the admin token.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from egovsim.errors import CodedError
from egovsim.fastlane import FastRequest, FastResponse, documented_endpoint
from egovsim.iin import is_valid_number
from egovsim.kernel import Kernel
from signing import ca
from signing.ca import Holder, KeyKind, Profile, RevocationReason
from signing.ncanode import ncanode_router
from signing.service import CertificationAuthority, CrlFault, OcspFault

DER_TYPES = {".cer": "application/pkix-cert", ".crl": "application/pkix-crl"}
MAX_OCSP_REQUEST = 64 * 1024


class IssueRequest(BaseModel):
    """``POST /nca/api/certificates``: a certificate for an IIN (individual) or a BIN (organisation)."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile = Profile.INDIVIDUAL
    kind: KeyKind = KeyKind.SIGN
    iin: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    bin: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    surname: Annotated[str | None, Field(max_length=100)] = None
    name: Annotated[str | None, Field(max_length=100)] = None
    patronymic: Annotated[str | None, Field(max_length=100)] = None
    organization: Annotated[str | None, Field(max_length=200)] = None
    system_name: Annotated[str | None, Field(max_length=100)] = None
    email: Annotated[str | None, Field(max_length=100)] = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    password: Annotated[str, Field(min_length=1, max_length=128)] = "Qwerty12"
    label: Annotated[str | None, Field(max_length=128)] = None

    @model_validator(mode="after")
    def _who(self) -> IssueRequest:
        for number in (self.iin, self.bin):
            if number is not None and not is_valid_number(number):
                raise ValueError(f"{number} fails the IIN/BIN check digit")
        if self.profile is Profile.INDIVIDUAL and not self.iin:
            raise ValueError("an individual's certificate needs an iin")
        if self.profile in (Profile.CEO, Profile.EMPLOYEE) and not (self.iin and self.bin and self.organization):
            raise ValueError(f"a {self.profile.value} certificate needs iin, bin and organization")
        if self.profile is Profile.SYSTEM and not (self.bin and self.system_name):
            raise ValueError("a system certificate needs bin and system_name")
        if self.profile is not Profile.SYSTEM and not self.surname:
            raise ValueError("surname is required")
        for moment in (self.not_before, self.not_after):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("notBefore and notAfter need a time zone offset")
        return self

    def holder(self) -> Holder:
        return Holder(
            profile=self.profile,
            kind=self.kind,
            iin=self.iin,
            bin=self.bin,
            surname=self.surname,
            given_name=self.name,
            patronymic=self.patronymic,
            organization=self.organization,
            system_name=self.system_name,
            email=self.email,
        )


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: RevocationReason = RevocationReason.unspecified


class FaultsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ocsp: OcspFault | None = None
    crl: CrlFault | None = None


def routers(kernel: Kernel) -> list[APIRouter]:
    authority = CertificationAuthority(kernel)
    admin = [Depends(kernel.require_admin)]
    public = APIRouter(prefix="/nca", tags=["signing"])
    api = APIRouter(prefix="/nca/api", tags=["signing"], dependencies=admin)

    # -- published by the CA ------------------------------------------------------------------
    @public.get("/cert/{name}", summary="CA certificates (DER .cer, or .pem with the whole chain)")
    async def ca_certificate(name: str) -> Response:
        auth = await authority.authority()
        files = {
            ca.ROOT_CERT_FILE: auth.root.cert,
            ca.CA_CERT_FILE: auth.intermediate.cert,
            "ocsp_rsa_test.cer": auth.responder.cert,
        }
        if name == "chain.pem":
            pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in auth.chain)
            return Response(pem, media_type="application/x-pem-file")
        if name not in files:
            raise CodedError("NOT_FOUND", f"no CA certificate {name}; try {', '.join(files)} or chain.pem")
        return Response(files[name].public_bytes(serialization.Encoding.DER), media_type=DER_TYPES[".cer"])

    @public.get("/crl/{name}", summary="full, delta and root CRLs (DER)")
    async def crl(name: str) -> Response:
        if name == ca.CRL_FILE:
            der = await authority.crl("full")
        elif name == ca.DELTA_CRL_FILE:
            der = await authority.crl("delta")
        elif name == ca.ROOT_CRL_FILE:
            der = await authority.root_crl()
        else:
            raise CodedError("NOT_FOUND", f"no CRL {name}")
        return Response(der, media_type=DER_TYPES[".crl"])

    # The responder is the hottest endpoint of all: the fast lane answers it, these routes
    # declare it in the OpenAPI document and serve the same answers.
    async def ocsp_post(request: FastRequest) -> FastResponse:
        body = request.body if len(request.body) <= MAX_OCSP_REQUEST else b""  # → malformedRequest
        return _ocsp_answer(*await authority.ocsp(body))

    async def ocsp_get(request: FastRequest) -> FastResponse:
        try:
            body = base64.b64decode(unquote(request.path[len("/nca/ocsp/") :]), validate=True)
        except (binascii.Error, ValueError):
            body = b""
        return _ocsp_answer(*await authority.ocsp(body))

    kernel.fast.add("POST", "/nca/ocsp/", ocsp_post)
    kernel.fast.add("POST", "/nca/ocsp", ocsp_post)
    kernel.fast.add("GET", "/nca/ocsp/", ocsp_get, prefix=True)

    public.add_api_route(
        "/ocsp/", documented_endpoint(ocsp_post), methods=["POST"], summary="OCSP responder (RFC 6960, POST)"
    )
    public.add_api_route(
        "/ocsp/{encoded:path}",
        documented_endpoint(ocsp_get),
        methods=["GET"],
        summary="OCSP responder (RFC 6960 A.1, GET)",
    )

    # -- the operator's API -------------------------------------------------------------------
    @api.post("/certificates", status_code=201, summary="issue a certificate and its key file")
    async def issue(body: IssueRequest) -> dict:
        issued = await authority.issue(body.holder(), body.not_before, body.not_after, body.label)
        described = await authority.get(issued.serial)
        return described | {
            "fileName": issued.file_name,
            "password": body.password,
            "pkcs12": base64.b64encode(issued.pkcs12(body.password)).decode(),
            "privateKey": issued.pair.key_pem().decode(),
            "chain": "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in issued.chain),
        }

    @api.get("/certificates", summary="issued certificates")
    async def list_certificates(
        iin: str | None = None,
        bin: str | None = None,
        status: Annotated[Literal["good", "revoked", "hold"] | None, Query()] = None,
    ) -> dict:
        return {"certificates": await authority.list(iin=iin, bin=bin, status=status)}

    @api.get("/certificates/{serial}")
    async def get_certificate(serial: str) -> dict:
        return await authority.get(serial)

    @api.post("/certificates/{serial}/revoke", summary="revoke with an RFC 5280 reason (final)")
    async def revoke(serial: str, body: RevokeRequest | None = None) -> dict:
        return await authority.revoke(serial, (body or RevokeRequest()).reason)

    @api.post("/certificates/{serial}/hold", summary="suspend (certificateHold)")
    async def hold(serial: str) -> dict:
        return await authority.hold(serial)

    @api.post("/certificates/{serial}/release", summary="lift a hold")
    async def release(serial: str) -> dict:
        return await authority.release(serial)

    @api.get("/faults", summary="fault knobs of the OCSP responder and the CRL distribution point")
    async def get_faults() -> dict:
        return await authority.set_faults()

    @api.post("/faults")
    async def set_faults(body: FaultsRequest) -> dict:
        return await authority.set_faults(body.ocsp, body.crl)

    return [public, api, ncanode_router(kernel)]


def _ocsp_answer(status: int, der: bytes) -> FastResponse:
    if status != 200:
        return FastResponse(status)
    return FastResponse(200, der, "application/ocsp-response")
