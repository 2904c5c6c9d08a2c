"""The gateway's own system certificate: the transport signature (WS-Security) on everything the
ЭҮШ / ШЭП sends, requests forwarded to providers and answers returned to senders.

Issued once by the НУЦ and kept in the gateway's table (:mod:`egovsim.system_keys`).
"""

from __future__ import annotations

from egovsim.kernel import Kernel
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway.tables import keys

GATEWAY_BIN = "070340001000"  # the simulator's gateway operator (a valid check digit, not a real BIN)
GATEWAY_SYSTEM = "SHEP"
GATEWAY_IDENTITY = SystemIdentity(
    role="transport",
    bin=GATEWAY_BIN,
    system_name=GATEWAY_SYSTEM,
    organization="ЭҮШ / ШЭП EGOVSIM",
    label="system:shep",
)


class GatewayKeys(SystemKeys):
    def __init__(self, kernel: Kernel) -> None:
        super().__init__(kernel, keys, GATEWAY_IDENTITY)
