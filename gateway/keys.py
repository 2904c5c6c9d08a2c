"""The gateway's own system certificate: the transport signature (WS-Security) on everything the
ЭҮШ / ШЭП sends, requests forwarded to providers and answers returned to senders.

It is issued once by the НУЦ through its operator API (as a real participant would apply for
one), kept in the gateway's table, and reused after restarts. A TEST key of the simulator.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from egovsim import xmldsig
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from gateway.tables import keys

GATEWAY_BIN = "070340001000"  # the simulator's gateway operator (a valid check digit, not a real BIN)
GATEWAY_SYSTEM = "SHEP"
# RSA signing releases the GIL: signing on these threads lets a second core sign while the event
# loop serves the next message
_SIGNERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="shep-sign")


def _rsa_sha256(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class GatewayKeys:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
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
        """The envelope with the gateway's WS-Security transport signature. An element is signed in
        place: the caller built it for this and hands it over. The RSA operation runs on a signing
        thread (it releases the interpreter lock); the XML work stays on the caller's."""
        key, cert = await self.pair()
        pending = xmldsig.prepare_wsse(envelope, key, cert, in_place=True)
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(_SIGNERS, _rsa_sha256, key, pending.to_sign)
        return pending.finish(value)

    async def _load(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate] | None:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(keys).where(keys.c.role == "transport"))).first()
        if row is None:
            return None
        key = serialization.load_pem_private_key(row.key_pem.encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key, x509.load_der_x509_certificate(row.cert_der)

    async def _issue(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        body = {
            "profile": "system",
            "kind": "sign",
            "bin": GATEWAY_BIN,
            "system_name": GATEWAY_SYSTEM,
            "organization": "ЭҮШ / ШЭП EGOVSIM",
            "label": "system:shep",
        }
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        try:
            async with self.kernel.client_for("signing", timeout=120) as http:
                response = await http.post("/nca/api/certificates", json=body, headers=headers)
        except httpx.HTTPError as exc:  # the НУЦ is not reachable
            raise CodedError("NCA_UNAVAILABLE", f"the gateway could not get its certificate: {exc}") from exc
        if response.status_code != 201:
            raise CodedError("NCA_UNAVAILABLE", f"the НУЦ answered {response.status_code} to the gateway")
        issued = response.json()
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(
                    insert(keys).values(
                        role="transport",
                        key_pem=issued["privateKey"],
                        cert_der=x509.load_pem_x509_certificate(issued["certificate"].encode()).public_bytes(
                            serialization.Encoding.DER
                        ),
                    )
                )
        except IntegrityError:  # another gateway process stored one first: use that one
            pass
        loaded = await self._load()
        assert loaded is not None
        return loaded
