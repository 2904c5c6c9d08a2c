"""ЭҮШ / ШЭП SyncChannel v10: ``SendMessage`` from a sender, through the gateway, to the system
that serves the ``serviceId``, and its answer back (5-процесс of the portal and ХҚО chains).

For each message, in order: the envelope is read (SCE001), the sender authenticated by
``senderId`` and password (SCE003), the route found (SCE004), the transport signature checked
when the route requires it (SCE007 missing, SCE006 wrong, SCE005 certificate not current), the
business signature of ``data`` likewise (SCE017 / SCE016 / SCE015). The gateway then sets the
``sessionId``, signs the request with its own system certificate and forwards it; the answer
is checked the same way (its failures, like a provider that cannot be reached or answers
nonsense, are SCE909 with the provider's problem as ``subError``), re-signed by the gateway and
returned. Every exchange, refused or not, is one journal entry.

A call carrying ``X-Egovsim-Fault: gateway.unavailable`` (:mod:`egovsim.call_faults`) is
answered SCE909 as soon as its envelope is read, on both channels: not authenticated, not
routed, nothing delivered; its journal entry says so.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

import httpx
from lxml import etree

from egovsim import call_faults, xmldsig
from egovsim.condition2 import EdsVerifier, RevocationPolicy, Verdict
from egovsim.fastlane import FastRequest
from egovsim.kernel import Kernel
from gateway import soap
from gateway.journal import Entry, Journal
from gateway.keys import GatewayKeys
from gateway.registry import Registry, Route, Sender

log = logging.getLogger("egovsim.gateway")

GATEWAY_NAME = "ШЭП"
NOT_CURRENT = {"EDS_CERT_EXPIRED", "EDS_CERT_NOT_YET_VALID", "EDS_CERT_REVOKED", "EDS_CERT_ON_HOLD"}
# condition-2 verdict → the fault of each signature layer: (missing, wrong, not current)
TRANSPORT = ("SCE007", "SCE006", "SCE005")
BUSINESS = ("SCE017", "SCE016", "SCE015")
GATEWAY_UNAVAILABLE = "gateway.unavailable"  # the per-call fault of egovsim.call_faults


@dataclass
class GatewayFault(Exception):
    """A fault the gateway answers with: an SCE code, what exactly was wrong, maybe a cause."""

    code: str
    detail: str
    sub_error: soap.ErrorInfo | None = None
    system: str = GATEWAY_NAME

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


def fault_code(verdict: Verdict, layer: tuple[str, str, str]) -> str:
    missing, wrong, not_current = layer
    if verdict.code == "EDS_NOT_SIGNED":
        return missing
    if verdict.code in NOT_CURRENT:
        return not_current
    if verdict.code == "EDS_REVOCATION_UNAVAILABLE":
        return "SCE909"  # the gateway cannot tell: its own failure, not the sender's
    return wrong


def refuse_if_unavailable() -> None:
    """SCE909 for a message whose call forces ``gateway.unavailable``: the gateway is down for it."""
    if call_faults.active(GATEWAY_UNAVAILABLE):
        detail = f"the gateway is unavailable for this call ({call_faults.HEADER}: {GATEWAY_UNAVAILABLE})"
        raise GatewayFault("SCE909", detail)


def relying_party(kernel: Kernel) -> EdsVerifier:
    """Condition 2 as a participant behind the gateway checks a transport or business signature:
    the НУЦ of this deployment, verified revocation answers reused for a few seconds."""
    return EdsVerifier(
        lambda: kernel.client_for("signing"),
        kernel.clock.now,
        RevocationPolicy(cache_seconds=kernel.settings.revocation_cache_seconds),
    )


def refusal_error(
    kernel: Kernel,
    code: str,
    detail: str,
    system: str | None = None,
    sub_error: soap.ErrorInfo | None = None,
    session: str | None = None,
) -> soap.ErrorInfo:
    """ErrorInfo of an SCE code, worded from the refusal catalogue (ШЭП's own texts are Russian)."""
    entry = kernel.refusals.get(code)
    assert entry is not None, code
    return soap.ErrorInfo(
        code=code,
        message=entry.message("ru", {"system": system}),
        date=kernel.clock.now(),
        data=detail,
        sub_error=sub_error,
        session_id=session,
    )


def fault_envelope(kernel: Kernel, operation: str, code: str, detail: str, system: str, channel: str = "sync") -> bytes:
    """The SOAP fault a provider behind the gateway answers with."""
    return soap.to_bytes(soap.build_fault(operation, refusal_error(kernel, code, detail, system), channel=channel))


class ChannelBase:
    """What both channels share: the registries, journal and keys, the condition-2 verifier of
    both signature layers, the HTTP clients to providers, and how a fault is worded."""

    def __init__(self, kernel: Kernel, registry: Registry, journal: Journal, keys: GatewayKeys) -> None:
        self.kernel = kernel
        self.registry = registry
        self.journal = journal
        self.keys = keys
        self.verifier = relying_party(kernel)
        self._clients: dict[str, httpx.AsyncClient] = {}

    def error_info(self, fault: GatewayFault, session: str | None) -> soap.ErrorInfo:
        return refusal_error(self.kernel, fault.code, fault.detail, fault.system, fault.sub_error, session)

    def _fault(
        self, operation: str, channel: soap.Channel, fault: GatewayFault, entry: Entry, session: str | None
    ) -> bytes:
        """The fault envelope; the entry records it (a rejection if nothing was routed yet)."""
        entry.outcome = "rejected" if entry.target is None else "fault"
        entry.code, entry.detail = fault.code, fault.detail
        return soap.to_bytes(soap.build_fault(operation, self.error_info(fault, session), channel=channel))

    async def _check_transport(self, root: etree._Element, sender: Sender | None, *, of: str = "the sender") -> None:
        verdict, _ = await self.verifier.check_xml(root, wsse=True, require_sign=False)  # type: ignore[arg-type]
        if not verdict.valid:
            raise GatewayFault(fault_code(verdict, TRANSPORT), f"transport signature of {of}: {verdict.detail}")
        if sender is not None and sender.certificate is not None and verdict.certificate != sender.certificate:
            raise GatewayFault("SCE006", f"signed with a certificate other than sender {sender.sender_id!r}'s")

    async def _check_business(self, data: etree._Element, *, of: str = "the sender") -> None:
        verdict, _ = await self.verifier.check_xml(data, require_sign=False)  # type: ignore[arg-type]
        if not verdict.valid:
            raise GatewayFault(fault_code(verdict, BUSINESS), f"business data signature of {of}: {verdict.detail}")

    async def _post(self, target: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST a SOAP message to a target; (HTTP status, body). A component's protocol endpoint in
        this process is called on its fast lane with the same bytes (the in-process transport of
        the embedded default, without an HTTP client's per-call cost); anything else over HTTP.
        The faults the call forces (:mod:`egovsim.call_faults`) reach a component either way: in
        the same context here, in the header :meth:`Kernel.client_for`'s clients add over HTTP."""
        if target.startswith("component:"):
            _, name, path = target.split(":", 2)
            route = self.kernel.fast.find("POST", path)
            if (
                route is not None
                and name in self.kernel.components
                and self.kernel.settings.component_url(name) is None
            ):
                headers = {b"content-type": b"text/xml; charset=utf-8"}
                try:
                    answer = await asyncio.wait_for(
                        route.handler(FastRequest("POST", path, b"", headers, body)), timeout
                    )
                except TimeoutError:
                    raise
                except Exception as exc:  # the provider broke: to the sender that is SCE909, as over HTTP
                    log.exception("in-process provider %s failed", target)
                    raise httpx.TransportError(f"{type(exc).__name__} in {target}") from exc
                return answer.status, answer.body
        client, url = self._client(target)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        reply = await asyncio.wait_for(client.post(url, content=body, headers=headers), timeout)
        return reply.status_code, reply.content

    def _client(self, target: str) -> tuple[httpx.AsyncClient, str]:
        """A client and URL for ``component:<name>:<path>`` (in-process or compose) or a URL."""
        if not target.startswith("component:"):
            if "" not in self._clients:
                self._clients[""] = httpx.AsyncClient()
            return self._clients[""], target
        _, name, path = target.split(":", 2)
        if name not in self._clients:
            self._clients[name] = self.kernel.client_for(name)
        return self._clients[name], path

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await self.verifier.aclose()


class SyncChannel(ChannelBase):
    operation = "SendMessage"

    # -- the edge -----------------------------------------------------------------------------
    async def handle(self, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, SOAP envelope) for the bytes of one POST."""
        entry = Entry("sync", self.operation, body)
        session = soap.new_session_id()
        try:
            answer = await self._exchange(body, entry, session)
            status = 200
        except GatewayFault as fault:
            answer = self._fault(self.operation, "sync", fault, entry, session)
            status = 500  # SOAP 1.1 over HTTP: a fault travels with 500
        entry.response = answer
        await self.journal.write(entry)
        return status, answer

    async def refuse_oversize(self, size_limit: int) -> bytes:
        """An oversize body (never read whole): SCE001, and one journal entry saying so."""
        fault = GatewayFault("SCE001", f"the message is larger than the limit of {size_limit} bytes")
        entry = Entry("sync", self.operation, b"")
        entry.response = self._fault(self.operation, "sync", fault, entry, None)
        await self.journal.write(entry)
        return entry.response

    # -- one message --------------------------------------------------------------------------
    async def _exchange(self, body: bytes, entry: Entry, session: str) -> bytes:
        try:
            root = xmldsig.parse_xml(body)
            request = soap.read_sync_request(root)
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            raise GatewayFault("SCE001", str(exc)) from None
        entry.message_id, entry.correlation_id = request.message_id, request.correlation_id
        entry.sender_id, entry.service_id = request.sender.sender_id, request.service_id
        refuse_if_unavailable()
        sender = await self.registry.authenticate(request.sender.sender_id, request.sender.password)
        if sender is None:
            raise GatewayFault("SCE003", f"sender {request.sender.sender_id!r}: unknown, or the password is wrong")
        route = await self.registry.route(request.service_id)
        if route is None or route.mode != "sync":
            why = "is not registered" if route is None else "is served on the async channel only"
            raise GatewayFault("SCE004", f"serviceId {request.service_id!r} {why}")
        if route.transport_signature:
            await self._check_transport(root, sender)
        if route.business_signature:
            await self._check_business(request.data)
        entry.session_id = session
        entry.target = route.target
        response = await self._forward(route, replace(request, session_id=session))
        entry.code = response.status_code
        entry.correlation_id = response.correlation_id
        return await self.keys.sign(soap.build_sync_response(replace(response, session_id=session)))

    # -- the provider's side ------------------------------------------------------------------
    async def _forward(self, route: Route, request: soap.SyncRequest) -> soap.SyncResponse:
        system = route.title or route.target
        signed = await self.keys.sign(soap.build_sync_request(request))
        try:
            status, content = await self._post(route.target, signed, route.timeout_seconds)
        except TimeoutError:
            raise GatewayFault(
                "SCE909", f"{system} did not answer within {route.timeout_seconds} s", system=system
            ) from None
        except httpx.HTTPError as exc:
            raise GatewayFault("SCE909", f"{system} cannot be reached: {type(exc).__name__}", system=system) from None
        try:
            root = xmldsig.parse_xml(content)
            fault = soap.read_fault(root)
            if fault is not None:
                raise GatewayFault("SCE909", f"{system} answered with fault {fault.code}", fault, system)
            if status != 200:
                raise GatewayFault("SCE909", f"{system} answered HTTP {status}", system=system)
            response = soap.read_sync_response(root)
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            detail = f"{system} answered something that is not SendMessageResponse: {exc}"
            raise GatewayFault("SCE909", detail, system=system) from None
        # the answer is checked exactly as a request would be: an integrator's provider system
        # learns here that its signature is missing or wrong
        try:
            if route.transport_signature:
                await self._check_transport(root, None, of=system)
            if route.business_signature and response.data is not None:
                await self._check_business(response.data, of=system)
        except GatewayFault as cause:
            raise GatewayFault("SCE909", cause.detail, self.error_info(cause, request.session_id), system) from None
        return response if response.correlation_id else replace(response, correlation_id=request.message_id)
