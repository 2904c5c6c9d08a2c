"""The registries of one process: ГБД ФЛ and ЕНИС as SyncChannel providers behind the gateway,
their records, fault switches and system keys, shared by the HTTP routes and the background work.

Each registry answers ``SendMessage`` as a public provider does (egov-interfaces §3): a new
``messageId``, ``correlationId`` = the request's ``messageId``, the ``sessionId`` echoed,
``SCSS001``; its ``data`` carries the business result (``messageResult``) and the registry's
business signature (enveloped, last child of ``data``), and the whole answer its transport
signature (WS-Security), both made with the registry's own system certificate from the НУЦ
(:mod:`egovsim.system_keys`). It answers the gateway only, as a provider behind ШЭП does: a
request must carry the gateway's transport signature, checked as condition 2 checks it (chain to
the НУЦ, validity, revocation) with the gateway operator's BIN in the certificate; otherwise the
answer is a fault (SCE007 unsigned, SCE006 wrong or not the gateway's, SCE005 not current), so
nobody reads a citizen's record around the gateway. A request that is not a ``SendMessage`` gets
SCE001.

On start the component makes sure the gateway routes its two serviceIds here, through the
gateway's operator API, retrying with back-off until the gateway answers (in compose it may
start later). The route policy: sync, transport signature required both ways, 10 s timeout,
business signature *not* required. The gateway applies a route's business-signature rule to the
request too (SCE017 for unsigned ``data``), and the portal's and ХҚО's queries to ГБД ФЛ carry no
business signature (the request ``data`` of egov-interfaces §7 is unsigned); the answer's
business signature is there all the same, for the caller to verify.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from itertools import count

import httpx
from lxml import etree

from egovsim import xmldsig
from egovsim.calendar import to_almaty
from egovsim.fastlane import FastRequest, FastResponse
from egovsim.kernel import Kernel
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway import soap
from gateway.channel import TRANSPORT, fault_code, fault_envelope, relying_party
from gateway.keys import GATEWAY_BIN
from mock_registries import payloads
from mock_registries.dictionaries import Entry
from mock_registries.faults import FaultKind, FaultSwitches
from mock_registries.store import RegistryStore
from mock_registries.tables import keys

log = logging.getLogger("egovsim.registries")

SOAP_TYPE = "text/xml; charset=utf-8"
OPERATION = "SendMessage"
ROUTE_TIMEOUT_SECONDS = 10.0
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30, 60)  # back-off while the gateway does not answer


@dataclass(frozen=True, slots=True)
class RegistryService:
    """One registry as a gateway service: its serviceId, path, name and certificate subject."""

    registry: str  # gbdfl | enis: the fault switch and key row
    service_id: str
    path: str
    title: str  # the route's title: the `{system}` of SCE909 «Внутренняя ошибка ИС …»
    source: Entry  # data/sender of its answers
    identity: SystemIdentity

    @property
    def target(self) -> str:
        return f"component:registries:{self.path}"

    def route(self) -> dict[str, object]:
        return {
            "serviceId": self.service_id,
            "target": self.target,
            "mode": "sync",
            "transportSignature": True,
            "businessSignature": False,  # see the module docstring
            "timeoutSeconds": ROUTE_TIMEOUT_SECONDS,
            "title": self.title,
        }


GBDFL = RegistryService(
    "gbdfl",
    payloads.GBDFL_SERVICE_ID,
    "/registries/shep/gbdfl",
    "ГБД ФЛ",
    payloads.GBDFL,
    # the demo system of egovsim/data/personas.yaml
    SystemIdentity(
        "gbdfl", "160140002229", "GBDFL", 'РГП "ИНФОРМАЦИОННО-ПРОИЗВОДСТВЕННЫЙ ЦЕНТР (ТЕСТ)"', "registries:gbdfl"
    ),
)
ENIS = RegistryService(
    "enis",
    payloads.ENIS_SERVICE_ID,
    "/registries/shep/enis",
    "ЕНИС",
    payloads.ENIS,
    # egovsim.iin.make_bin(21, 5, 357): registered 2021-05, a resident legal entity; synthetic
    SystemIdentity("enis", "210540003570", "ENIS", "РЕСПУБЛИКАНСКАЯ НОТАРИАЛЬНАЯ ПАЛАТА (ТЕСТ)", "registries:enis"),
)
SERVICES = (GBDFL, ENIS)


class Registries:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.store = RegistryStore(kernel)
        self.faults = FaultSwitches(kernel)
        self.keys = {s.registry: SystemKeys(kernel, keys, s.identity) for s in SERVICES}
        self.verifier = relying_party(kernel)

    @classmethod
    def of(cls, kernel: Kernel) -> Registries:
        """This process's registries (created on first use)."""
        registries = kernel.shared.get("registries")
        if registries is None:
            registries = kernel.shared["registries"] = cls(kernel)
        assert isinstance(registries, Registries)
        return registries

    def today(self) -> date:
        """The simulated date in Kazakhstan: what a power of attorney's status is judged on."""
        return to_almaty(self.kernel.clock.now()).date()

    # -- the SyncChannel provider ---------------------------------------------------------------
    def endpoint(self, service: RegistryService) -> Callable[[FastRequest], Awaitable[FastResponse]]:
        async def answer(request: FastRequest) -> FastResponse:
            return await self.answer(service, request.body)

        return answer

    async def answer(self, service: RegistryService, body: bytes) -> FastResponse:
        try:
            root = xmldsig.parse_xml(body)
            request = soap.read_sync_request(root)
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            return self._fault(service, "SCE001", str(exc))
        # from the gateway only: its transport signature, its operator's BIN
        verdict, _ = await self.verifier.check_xml(root, wsse=True, bin=GATEWAY_BIN, require_sign=False)  # type: ignore[arg-type]
        if not verdict.valid:
            detail = f"{service.title} answers the gateway only: {verdict.detail}"
            return self._fault(service, fault_code(verdict, TRANSPORT), detail)
        switch = await self.faults.for_answer(service.registry)
        kind = switch.kind if switch else None
        if kind is FaultKind.UNAVAILABLE:
            return self._fault(service, "SCE909", "fault injected: the registry is unavailable")
        if kind in (FaultKind.SLOW, FaultKind.TIMEOUT):
            assert switch is not None
            await asyncio.sleep(switch.delay_seconds)
        data = await self._data(service, request.data, not_found=kind is FaultKind.NOT_FOUND)
        signed = etree.fromstring(await self.keys[service.registry].sign_enveloped(data))
        response = soap.SyncResponse(
            message_id=str(uuid.uuid4()),
            correlation_id=request.message_id,
            response_date=self.kernel.clock.now(),
            status_code="SCSS001",
            status_message="Message has been processed successfully",
            data=signed,
            session_id=request.session_id,
        )
        envelope = await self.keys[service.registry].sign(soap.build_sync_response(response))
        if kind is FaultKind.MALFORMED:  # cut off mid-way: not a SendMessageResponse at all
            envelope = envelope[: len(envelope) // 2]
        return FastResponse(200, envelope, SOAP_TYPE)

    async def _data(self, service: RegistryService, request: etree._Element, *, not_found: bool) -> etree._Element:
        """The answer's ``data``, unsigned."""
        now, answer_id = self.kernel.clock.now(), str(uuid.uuid4())
        header = payloads.read_header(request)
        try:
            if service is GBDFL:
                iin = payloads.read_person_query(request)
                person = None if not_found else await self.store.person(iin)
                result = payloads.OK if person else payloads.NOT_FOUND
                data = payloads.answer_data(header, service.source, result, answer_id, now)
                if person is not None:
                    payloads.add_person(data, person)
                return data
            power_query = payloads.read_power_query(request)
            powers = [] if not_found else await self.store.powers_of_attorney(
                representative_iin=power_query.representative_iin,
                grantor_iin=power_query.grantor_iin,
                registry_number=power_query.registry_number,
            )  # fmt: skip
            result = payloads.OK if powers else payloads.NOT_FOUND
            data = payloads.answer_data(header, service.source, result, answer_id, now)
            payloads.add_powers(data, powers, self.today(), power_query.service_id)
            return data
        except payloads.BadRequest as exc:
            log.info("%s: bad request: %s", service.service_id, exc)
            return payloads.answer_data(header, service.source, payloads.BAD_REQUEST, answer_id, now)

    def _fault(self, service: RegistryService, code: str, detail: str) -> FastResponse:
        return FastResponse(500, fault_envelope(self.kernel, OPERATION, code, detail, service.title), SOAP_TYPE)

    # -- background -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Make sure the gateway routes both serviceIds here, then have the keys ready; on stop,
        close the verifier's client."""
        try:
            await self._prepare()
            await self.kernel.stopping.wait()
        finally:
            await self.verifier.aclose()

    async def _prepare(self) -> None:
        for attempt in count():
            try:
                await self.ensure_routes()
                break
            except (httpx.HTTPError, RuntimeError, RouteRefused) as exc:
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning("registries: the gateway's routes are not set yet (%s); retrying in %s s", exc, delay)
                if await self.kernel.idle(delay):
                    return
        for key in self.keys.values():
            try:
                await key.pair()
            except Exception:  # the НУЦ is down: the first answer will try again
                log.exception("registries: could not get a system certificate yet")

    async def ensure_routes(self) -> None:
        """Add each route the gateway lacks; an operator's changes to an existing one are kept."""
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        async with self.kernel.client_for("gateway") as http:
            for service in SERVICES:
                found = await http.get(f"/shep/api/routes/{service.service_id}", headers=headers)
                if found.status_code == 200:
                    continue
                added = await http.post("/shep/api/routes", json=service.route(), headers=headers)
                if added.status_code not in (201, 409):  # 409: another process added it first
                    raise RouteRefused(f"POST /shep/api/routes answered {added.status_code}: {added.text[:200]}")


class RouteRefused(Exception):
    """The gateway did not take a route (not up yet in compose, or misconfigured)."""


async def background(kernel: Kernel) -> None:
    await Registries.of(kernel).run()
