"""A component's own system certificate (НУЦ profile *system*): the key an information system
signs with, on the wire (WS-Security, the transport signature) and on the business data it
answers with (enveloped XMLDSig).

It is issued once by the НУЦ through its operator API, as a real participant would apply for
one, kept in the component's own key table (principle 2: ``gateway_keys``, ``registry_keys``…),
and reused after restarts. When two processes of a component issue one at the same moment, the
first stored wins and both use it. A TEST key of the simulator.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, Text, insert, select
from sqlalchemy.exc import IntegrityError

from egovsim import xmldsig
from egovsim.errors import CodedError
from egovsim.kernel import Kernel

# RSA signing releases the GIL: signing on these threads lets a second core sign while the event
# loop serves the next message
_SIGNERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="system-sign")


def _rsa_sha256(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    """Who the certificate is for: the row's ``role`` in the key table, and the subject."""

    role: str
    bin: str
    system_name: str  # the certificate's CN, e.g. SHEP, GBDFL
    organization: str
    label: str  # the НУЦ's note on the issued certificate
    # an employee's SIGN key instead (НУЦ profile *employee*): IIN, surname, name, patronymic
    person: tuple[str, str, str, str | None] | None = None

    def issue_request(self) -> dict[str, str | None]:
        """What the НУЦ's operator API is asked for."""
        body: dict[str, str | None] = {"kind": "sign", "bin": self.bin, "organization": self.organization,
                                       "label": self.label}  # fmt: skip
        if self.person is None:
            return body | {"profile": "system", "system_name": self.system_name}
        iin, surname, name, patronymic = self.person
        return body | {"profile": "employee", "iin": iin, "surname": surname, "name": name, "patronymic": patronymic}


def key_table(name: str, metadata: MetaData) -> Table:
    """The table a component keeps its system certificates in (a row per ``role``): the private
    key as PEM (a simulator TEST key) and the certificate as DER."""
    return Table(
        name,
        metadata,
        Column("role", String(32), primary_key=True),
        Column("key_pem", Text, nullable=False),
        Column("cert_der", LargeBinary, nullable=False),
    )


class SystemKeys:
    def __init__(self, kernel: Kernel, table: Table, identity: SystemIdentity) -> None:
        self.kernel = kernel
        self.table = table
        self.identity = identity
        self._pair: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None
        self._lock = asyncio.Lock()

    async def pair(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        if self._pair is None:
            async with self._lock:
                if self._pair is None:
                    self._pair = await self._load() or await self._issue()
        return self._pair

    async def certificate(self) -> x509.Certificate:
        return (await self.pair())[1]

    async def sign(self, envelope: etree._Element | bytes) -> bytes:
        """The envelope with the system's WS-Security transport signature. An element is signed in
        place: the caller built it for this and hands it over."""
        key, cert = await self.pair()
        return await self._finish(key, xmldsig.prepare_wsse(envelope, key, cert, in_place=True))

    async def sign_enveloped(self, document: etree._Element) -> bytes:
        """``document`` signed as a standalone document, the business signature as NCALayer
        ``signXml`` and ГБД ФЛ make it (``ds:Signature`` its last child); the caller's tree is
        left as it was."""
        key, cert = await self.pair()
        return await self._finish(key, xmldsig.prepare_enveloped(document, key, cert))

    async def _finish(self, key: rsa.RSAPrivateKey, pending: xmldsig.PendingSignature) -> bytes:
        """The RSA operation on a signing thread (it releases the interpreter lock); the XML work
        stays on the caller's, where it would wait for the lock anyway."""
        value = await asyncio.get_running_loop().run_in_executor(_SIGNERS, _rsa_sha256, key, pending.to_sign)
        return pending.finish(value)

    async def _load(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate] | None:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(self.table).where(self.table.c.role == self.identity.role))).first()
        if row is None:
            return None
        # our own key from our own table: skip the slow RSA key validation (pki notes §1: ~20 ms a load)
        key = serialization.load_pem_private_key(row.key_pem.encode(), None, unsafe_skip_rsa_key_validation=True)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key, x509.load_der_x509_certificate(row.cert_der)

    async def _issue(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        who = self.identity
        body = who.issue_request()
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        try:
            async with self.kernel.client_for("signing", timeout=120) as http:
                response = await http.post("/nca/api/certificates", json=body, headers=headers)
        except httpx.HTTPError as exc:  # the НУЦ is not reachable
            raise CodedError("NCA_UNAVAILABLE", f"{who.system_name} could not get its certificate: {exc}") from exc
        if response.status_code != 201:
            raise CodedError("NCA_UNAVAILABLE", f"the НУЦ answered {response.status_code} to {who.system_name}")
        issued = response.json()
        der = x509.load_pem_x509_certificate(issued["certificate"].encode()).public_bytes(serialization.Encoding.DER)
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(insert(self.table).values(role=who.role, key_pem=issued["privateKey"], cert_der=der))
        except IntegrityError:  # another process of the component stored one first: use that one
            pass
        loaded = await self._load()
        assert loaded is not None
        return loaded
