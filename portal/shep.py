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

import httpx
from cryptography.hazmat.primitives.serialization import Encoding

from egovsim.kernel import Kernel
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway.channel import relying_party
from portal.tables import system_keys

SENDER_ID = "egov_portal"
SYNC_PATH = "/shep/bip-sync-wss-gost/"
ASYNC_PATH = "/shep/bip-async/"
CABINET_INBOX = "component:cabinet:/cabinet/shep/"
IDENTITY = SystemIdentity("system", "200940004561", "EGOV PORTAL", 'АО "НИТ (ТЕСТ)"', "portal:system")


class GatewayUnavailable(RuntimeError):
    """The gateway did not take the portal as a sender."""


class PortalSender:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.keys = SystemKeys(kernel, system_keys, IDENTITY)
        self.verifier = relying_party(kernel)
        self.registered = False

    @property
    def password(self) -> str:
        return hmac.new(self.kernel.admin_token.encode(), b"egov_portal gateway sender", hashlib.sha256).hexdigest()

    async def ensure_registered(self, http: httpx.AsyncClient) -> None:
        if self.registered:
            return
        cert = await self.keys.certificate()
        body = {
            "senderId": SENDER_ID,
            "password": self.password,
            "certificate": cert.public_bytes(Encoding.PEM).decode(),
            "pushUrl": CABINET_INBOX,
            "title": "egov.kz portal (egovsim)",
        }
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        r = await http.post("/shep/api/senders", json=body, headers=headers)
        if r.status_code != 201:
            raise GatewayUnavailable(f"the gateway did not take the portal as a sender: {r.status_code} {r.text[:200]}")
        self.registered = True

    def forget_registration(self) -> None:
        """The gateway answered SCE003: the sender was replaced meanwhile (another process)."""
        self.registered = False

    async def aclose(self) -> None:
        await self.verifier.aclose()
