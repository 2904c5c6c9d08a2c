"""A diagnostic provider inside the gateway: ``POST /shep/diag/echo`` answers a SyncChannel
``SendMessage`` with ``SendMessageResponse`` whose ``data`` is the request's own (a "lookup" that
finds what it was asked), transport-signed with the gateway's system certificate.

It is what the gateway benchmark (``benchmarks/gateway.py``) routes a serviceId to
(``target: component:gateway:/shep/diag/echo``, ``transportSignature: true``), so that a round
trip through the gateway and a call of the same provider on its own can be measured side by side
on one server. An operator may route to it too, to see a route work end to end without an
integrator's system. It is answered on the fast lane, like the channels, and trusts its caller:
it does not verify the request's signature (the gateway did).
"""

from __future__ import annotations

import uuid

from egovsim import xmldsig
from egovsim.fastlane import FastRequest, FastResponse
from egovsim.kernel import Kernel
from gateway import soap
from gateway.channel import fault_envelope
from gateway.service import Gateway

ECHO_PATH = "/shep/diag/echo"
ECHO_SERVICE_ID = "EGOVSIM_ECHO"
ECHO_TARGET = f"component:gateway:{ECHO_PATH}"
SOAP_TYPE = "text/xml; charset=utf-8"
OPERATION = "SendMessage"


def register_echo(kernel: Kernel, gateway: Gateway) -> None:
    """The echo provider on ``kernel.fast`` (POST, with and without the trailing slash)."""

    async def echo(request: FastRequest) -> FastResponse:
        try:
            incoming = soap.read_sync_request(xmldsig.parse_xml(request.body))
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            return FastResponse(500, fault_envelope(kernel, OPERATION, "SCE001", str(exc), "EGOVSIM_ECHO"), SOAP_TYPE)
        answer = soap.build_sync_response(
            soap.SyncResponse(
                message_id=str(uuid.uuid4()),
                correlation_id=incoming.message_id,
                response_date=kernel.clock.now(),
                status_code="SCSS001",
                status_message="Message has been processed successfully",
                data=incoming.data,
                session_id=incoming.session_id,
            )
        )
        return FastResponse(200, await gateway.keys.sign(answer), SOAP_TYPE)

    for path in (ECHO_PATH, ECHO_PATH + "/"):
        kernel.fast.add("POST", path, echo)
