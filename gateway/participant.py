"""What a participant behind the gateway does with the providers' answers pushed to it: the personal
cabinet (``/cabinet/shep/``) and the ХҚО (``/hqo/shep/``) alike.

:func:`take_push` is the IAsyncChannelClient endpoint's part: the push must carry the gateway's
transport signature (else ``SCE006``) and be a well-formed ``sendMessage`` (else ``SCE001``); a
RESPONSE goes to the participant's handler; the answer is the participant's signed receipt, or a
SOAP fault. :func:`provider_answer` reads the provider's result e-document (``RESULT_NS``) and takes
it only for the request's own applicant and signed by an employee of the provider it names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass

from lxml import etree

from egovsim import xmldsig
from egovsim.catalog.forms import RESULT_NS
from egovsim.condition2 import EdsVerifier
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.system_keys import SystemKeys
from gateway import soap
from gateway.channel import fault_envelope
from gateway.keys import GATEWAY_BIN

R = f"{{{RESULT_NS}}}"


@dataclass(frozen=True)
class Participant:
    """Who takes the push: its kernel, its condition-2 checker and system key, its name in faults
    (``жеке кабинет``, ``ХҚО ЫАЖ АЖО``) and the prefix of its receipts' ids."""

    kernel: Kernel
    verifier: EdsVerifier
    keys: SystemKeys
    system: str
    receipt_prefix: str


async def take_push(
    who: Participant, body: bytes, on_response: Callable[[soap.AsyncMessage], Awaitable[None]]
) -> tuple[int, bytes]:
    """The HTTP status and SOAP body answering one push of the gateway."""
    try:
        root = xmldsig.parse_xml(body)
        transport, _ = await who.verifier.check_xml(root, wsse=True, bin=GATEWAY_BIN, require_sign=False)
        if not transport.valid:
            raise CodedError("SCE006", f"the push is not the gateway's: {transport.code} {transport.detail}")
        message = soap.read_push_message_request(root)
        if message.info.message_type is soap.MessageType.RESPONSE:  # status notices: nothing to keep yet
            await on_response(message)
    except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
        return 500, _fault(who, "SCE001", str(exc))
    except CodedError as exc:
        return 500, _fault(who, exc.code if exc.code.startswith("SCE") else "SCE001", exc.detail or exc.code)
    info = message.info
    receipt = soap.AsyncSendMessageResponse(f"{who.receipt_prefix}-{info.message_id or ''}"[:64],
                                            info.message_id or "", who.kernel.clock.now())  # fmt: skip
    return 200, await who.keys.sign(soap.build_push_message_response(receipt))


def _fault(who: Participant, code: str, detail: str) -> bytes:
    return fault_envelope(who.kernel, "sendMessage", code, detail, who.system, channel="async-client")


def answer_document(message: soap.AsyncMessage) -> tuple[etree._Element, str]:
    """The result e-document a RESPONSE carries, and the request number it names."""
    document = message.data.find(f"{R}document")
    if document is None:
        raise CodedError("SCE001", "the answer carries no result e-document")
    return document, (document.findtext(f"{R}requestNumber") or "").strip()


@dataclass(frozen=True)
class ProviderAnswer:
    approved: bool
    code: str | None  # the refusal's code; None for a result
    ground: str
    xml: str  # the document standalone, as the provider signed it


async def provider_answer(verifier: EdsVerifier, document: etree._Element, applicant_iin: str) -> ProviderAnswer:
    """The result or reasoned refusal, taken only for ``applicant_iin`` and with a valid signature of
    an employee of the provider whose BIN it names (``SCE001``, ``SCE016`` otherwise)."""
    if document.findtext(f"{R}applicant/{R}iin") != applicant_iin:
        raise CodedError("SCE001", "the result names another applicant")
    verdict, verified = await verifier.check_xml(document, bin=document.findtext(f"{R}provider/{R}bin"))
    if not verdict.valid or verified is None:
        raise CodedError("SCE016", f"the result's signature is not the provider's: {verdict.code} {verdict.detail}")
    approved = document.findtext(f"{R}kind") == "result"
    code = None if approved else (document.findtext(f"{R}refusalCode") or "REASONED_REFUSAL")
    # as a standalone document, the way it was signed: without the envelope's namespaces
    standalone = deepcopy(document)
    etree.cleanup_namespaces(standalone)
    return ProviderAnswer(
        approved, code, document.findtext(f"{R}ground") or "", etree.tostring(standalone, encoding="unicode")
    )
