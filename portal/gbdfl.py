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

from lxml import etree

from egovsim.kernel import Kernel
from portal.accounts import PersonStatus
from portal.shep import SEND_ERRORS, PortalSender

log = logging.getLogger("egovsim.portal")

SERVICE_ID = "GBDFL_UniversalServiceSync"
GBDFL_BIN = "160140002229"  # ГБД ФЛ's system certificate (mock_registries)


def person_query(sender: PortalSender, iin: str) -> etree._Element:
    """The request ``data`` of ``GBDFL_UniversalServiceSync`` for one IIN."""
    data = etree.Element("data")
    for name, value in (("messageId", str(uuid.uuid4())), ("messageDate", sender.kernel.clock.now().isoformat()),
                        ("senderCode", sender.sender_id), ("iin", iin)):  # fmt: skip
        etree.SubElement(data, name).text = value
    return data


def person_status(data: etree._Element, iin: str) -> PersonStatus:
    """What ГБД ФЛ's answer says of ``iin``: alive, deceased or absent (``RuntimeError`` when it
    answers something else)."""
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


class GatewayPersonDirectory:
    """``PersonDirectory`` over the gateway: alive, deceased, absent, or unavailable when the
    gateway, ГБД ФЛ or a signature check fails (registration then fails closed)."""

    def __init__(self, kernel: Kernel, sender: PortalSender) -> None:
        self.kernel = kernel
        self.sender = sender

    async def status(self, iin: str) -> PersonStatus:
        try:
            data = await self.sender.ask(SERVICE_ID, person_query(self.sender, iin), GBDFL_BIN)
            return person_status(data, iin)
        except (*SEND_ERRORS, RuntimeError) as exc:
            log.warning("ГБД ФЛ could not be asked about %s: %s", iin, exc)
            return "unavailable"
