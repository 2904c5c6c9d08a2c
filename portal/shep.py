"""The portal as a participant of the gateway (ЭҮШ / ШЭП): sender ``egov_portal``.

It signs what it sends with its own system certificate from the НУЦ (BIN 200940004561, like the
demo system ``portal``) and registers itself, with that certificate bound, through the gateway's
operator API before its first message. Its password is derived from the admin token, so every
process of a compose deployment knows it and none stores it. Answers that come back through the
async channel (the providers' results, 7-процесс) are pushed to the personal cabinet's
IAsyncChannelClient endpoint, which is why the sender's push URL is the cabinet's.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

import httpx
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from egovsim import xmldsig
from egovsim.kernel import Kernel
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway import soap
from gateway.channel import relying_party
from gateway.keys import GATEWAY_BIN
from portal.tables import system_keys

SENDER_ID = "egov_portal"
SYNC_PATH = "/shep/bip-sync-wss-gost/"
ASYNC_PATH = "/shep/bip-async/"
CABINET_INBOX = "component:cabinet:/cabinet/shep/"
IDENTITY = SystemIdentity("system", "200940004561", "EGOV PORTAL", 'АО "НИТ (ТЕСТ)"', "portal:system")
# the ХҚО operator workstation (ХҚО ЫАЖ АЖО) of the State Corporation: its own sender and key; the
# providers' answers to its packages come back to its own IAsyncChannelClient endpoint
HQO_SENDER_ID = "hqo_ais"
HQO_INBOX = "component:portal:/hqo/shep/"
HQO_IDENTITY = SystemIdentity("hqo:system", "051240007898", "HQO AIS",
                              'НАО "ГК "ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН" (ТЕСТ)', "hqo:system")  # fmt: skip


class GatewayUnavailable(RuntimeError):
    """The gateway did not take the portal as a sender."""


class GatewayRefused(RuntimeError):
    """A message was not taken or not answered as it must be: a fault, a bad signature, no data."""


class PortalSender:
    """One participant of the portal component on the gateway: the portal itself (the default) or
    the ХҚО operator workstation (sender ``hqo_ais``, :data:`HQO`), each with its own system key."""

    def __init__(self, kernel: Kernel, sender_id: str = SENDER_ID, identity: SystemIdentity = IDENTITY,
                 push_url: str = CABINET_INBOX, title: str = "egov.kz portal (egovsim)") -> None:  # fmt: skip
        self.kernel = kernel
        self.sender_id = sender_id
        self.push_url = push_url
        self.title = title
        self.keys = SystemKeys(kernel, system_keys, identity)
        self.verifier = relying_party(kernel)
        self.registered = False

    @property
    def password(self) -> str:
        return hmac.new(self.kernel.admin_token.encode(), f"{self.sender_id} gateway sender".encode(),
                        hashlib.sha256).hexdigest()  # fmt: skip

    async def ensure_registered(self, http: httpx.AsyncClient) -> None:
        if self.registered:
            return
        cert = await self.keys.certificate()
        body = {
            "senderId": self.sender_id,
            "password": self.password,
            "certificate": cert.public_bytes(Encoding.PEM).decode(),
            "pushUrl": self.push_url,
            "title": self.title,
        }
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        r = await http.post("/shep/api/senders", json=body, headers=headers)
        if r.status_code != 201:
            raise GatewayUnavailable(
                f"the gateway did not take {self.sender_id} as a sender: {r.status_code} {r.text[:200]}"
            )
        self.registered = True

    def forget_registration(self) -> None:
        """The gateway answered SCE003: the sender was replaced meanwhile (another process)."""
        self.registered = False

    async def _gateway_answer(self, content: bytes) -> etree._Element:
        """The gateway's answer, with its transport signature checked; a fault raises."""
        root = xmldsig.parse_xml(content)
        error = soap.read_fault(root)
        if error is not None:
            if error.code == "SCE003":  # the sender was replaced meanwhile (another process): register again
                self.forget_registration()
            raise GatewayRefused(f"{error.code}: {error.message}")
        transport, _ = await self.verifier.check_xml(root, wsse=True, bin=GATEWAY_BIN, require_sign=False)  # type: ignore[arg-type]
        if not transport.valid:
            raise GatewayRefused(f"the answer is not the gateway's: {transport.code} {transport.detail}")
        return root

    async def ask(self, service_id: str, data: etree._Element, business_bin: str) -> etree._Element:
        """A SyncChannel question; the answer's ``data``, signed by the system of ``business_bin``.
        Raises :class:`GatewayRefused` (or an httpx, XML or SOAP error) when there is none."""
        request = soap.SyncRequest(message_id=str(uuid.uuid4()), service_id=service_id,
                                   message_date=self.kernel.clock.now(),
                                   sender=soap.Sender(self.sender_id, self.password), data=data)  # fmt: skip
        async with self.kernel.client_for("gateway") as http:
            await self.ensure_registered(http)
            body = await self.keys.sign(soap.build_sync_request(request))
            answer = await http.post(SYNC_PATH, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        root = await self._gateway_answer(answer.content)
        answered = soap.read_sync_response(root).data
        if answered is None:
            raise GatewayRefused("the answer has no data")
        business, _ = await self.verifier.check_xml(answered, bin=business_bin, require_sign=False)  # type: ignore[arg-type]
        if not business.valid:
            raise GatewayRefused(f"the data is not signed by {business_bin}: {business.code} {business.detail}")
        return answered

    async def send(self, info: soap.AsyncMessageInfo, data: etree._Element) -> str:
        """An AsyncChannel message; the gateway's messageId for it. Raises :class:`GatewayRefused`
        (or an httpx, XML or SOAP error) when the gateway did not take it."""
        envelope = soap.build_send_message_request(soap.AsyncMessage(info, data))
        async with self.kernel.client_for("gateway") as http:
            await self.ensure_registered(http)
            body = await self.keys.sign(envelope)
            answer = await http.post(ASYNC_PATH, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        root = await self._gateway_answer(answer.content)
        return soap.read_send_message_response(root).message_id

    async def aclose(self) -> None:
        await self.verifier.aclose()


# the failures of :meth:`PortalSender.ask` and :meth:`PortalSender.send`
SEND_ERRORS = (httpx.HTTPError, GatewayUnavailable, GatewayRefused, xmldsig.XmlSignatureError, soap.SoapFormatError)
