"""The portal's question to ЖТ МДҚ / ГБД ФЛ at registration, asked as the real portal asks it:
through the gateway's SyncChannel (``GBDFL_UniversalServiceSync``), signed with the portal's own
system certificate from the НУЦ (BIN 200940004561, like the demo system ``portal``).

The portal is a gateway sender of its own, ``egov_portal``; it registers itself (with its
certificate bound) through the gateway's operator API before its first question. Its password
is derived from the admin token, so every process of a compose deployment knows it and none
stores it. The answer is trusted only with the gateway's transport signature (condition 2, the
gateway operator's BIN) and ГБД ФЛ's business signature over ``data``.
"""

from __future__ import annotations

import logging
import uuid

import httpx
from lxml import etree

from egovsim import xmldsig
from egovsim.kernel import Kernel
from gateway import soap
from gateway.keys import GATEWAY_BIN
from portal.accounts import PersonStatus
from portal.shep import SENDER_ID, SYNC_PATH, GatewayUnavailable, PortalSender

log = logging.getLogger("egovsim.portal")

SERVICE_ID = "GBDFL_UniversalServiceSync"
GBDFL_BIN = "160140002229"  # ГБД ФЛ's system certificate (mock_registries)


class GatewayPersonDirectory:
    """``PersonDirectory`` over the gateway: alive, deceased, absent, or unavailable when the
    gateway, ГБД ФЛ or a signature check fails (registration then fails closed)."""

    def __init__(self, kernel: Kernel, sender: PortalSender) -> None:
        self.kernel = kernel
        self.sender = sender
        self.keys = sender.keys
        self.verifier = sender.verifier

    async def status(self, iin: str) -> PersonStatus:
        try:
            async with self.kernel.client_for("gateway") as http:
                await self.sender.ensure_registered(http)
                answer = await http.post(
                    SYNC_PATH, content=await self._request(iin), headers={"Content-Type": "text/xml; charset=utf-8"}
                )
            return await self._read(answer.content, iin)
        except (
            httpx.HTTPError,
            GatewayUnavailable,
            RuntimeError,
            xmldsig.XmlSignatureError,
            soap.SoapFormatError,
        ) as exc:
            log.warning("ГБД ФЛ could not be asked about %s: %s", iin, exc)
            return "unavailable"

    async def _request(self, iin: str) -> bytes:
        now = self.kernel.clock.now()
        data = etree.Element("data")
        for name, value in (("messageId", str(uuid.uuid4())), ("messageDate", now.isoformat()),
                            ("senderCode", SENDER_ID), ("iin", iin)):  # fmt: skip
            etree.SubElement(data, name).text = value
        request = soap.SyncRequest(
            message_id=str(uuid.uuid4()),
            service_id=SERVICE_ID,
            message_date=now,
            sender=soap.Sender(SENDER_ID, self.sender.password),
            data=data,
        )
        return await self.keys.sign(soap.build_sync_request(request))

    async def _read(self, content: bytes, iin: str) -> PersonStatus:
        root = xmldsig.parse_xml(content)
        fault = soap.read_fault(root)
        if fault is not None:
            if fault.code == "SCE003":  # the sender was replaced meanwhile (another process): register again
                self.sender.forget_registration()
            raise RuntimeError(f"the gateway answered fault {fault.code}: {fault.message}")
        transport, _ = await self.verifier.check_xml(root, wsse=True, bin=GATEWAY_BIN, require_sign=False)  # type: ignore[arg-type]
        if not transport.valid:
            raise RuntimeError(f"the answer is not the gateway's: {transport.detail}")
        data = soap.read_sync_response(root).data
        if data is None:
            raise RuntimeError("the answer has no data")
        business, _ = await self.verifier.check_xml(data, bin=GBDFL_BIN, require_sign=False)  # type: ignore[arg-type]
        if not business.valid:
            raise RuntimeError(f"the data is not signed by ГБД ФЛ: {business.detail}")
        code = data.findtext("messageResult/code")
        if code == "00001":
            return "absent"
        person = data.find("persons/person")
        if code != "00000" or person is None or person.findtext("iin") != iin:
            raise RuntimeError(f"ГБД ФЛ answered {code!r}")
        if person.findtext("removed") == "true":
            return "absent"
        if person.findtext("lifeStatus/code") == "1" or person.findtext("deathDate"):
            return "deceased"
        return "alive"
