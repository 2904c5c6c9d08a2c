"""HTTP edges of gateway/: the SOAP channels under ``/shep/`` (answered on the fast lane), their
WSDL and XSDs, the operator's API for routes, senders and the message journal, and the
regional workstation under ``/rshep/``. Health routes come from the kernel."""

from __future__ import annotations

from typing import Annotated, Literal

from cryptography import x509
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egovsim.errors import CodedError
from egovsim.fastlane import FastRequest, FastResponse, documented_endpoint
from egovsim.kernel import Kernel
from gateway import soap
from gateway.echo import register_echo
from gateway.inspector import inspector_router
from gateway.office import PaperApplication
from gateway.paper_pages import paper_pages
from gateway.registry import Route
from gateway.service import ASYNC_PATH, SYNC_PATH, Gateway
from gateway.workflow import AutopilotPolicy
from gateway.workstation import INBOX_PATH, Policy
from gateway.workstation_pages import workstation_pages

SOAP_TYPE = "text/xml; charset=utf-8"


class RouteBody(BaseModel):
    """``POST /shep/api/routes``: what serves a serviceId, and the route's policy."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    service_id: Annotated[str, Field(alias="serviceId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")]
    target: Annotated[str, Field(min_length=1, max_length=512, description="component:<name>:/<path> or a URL")]
    mode: Literal["sync", "async"] = "sync"
    transport_signature: bool = Field(True, alias="transportSignature")
    business_signature: bool = Field(False, alias="businessSignature")
    timeout_seconds: float = Field(30.0, alias="timeoutSeconds", gt=0, le=600)
    title: Annotated[str | None, Field(max_length=200)] = None


class SenderBody(BaseModel):
    """``POST /shep/api/senders``: a participant of the gateway."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender_id: Annotated[str, Field(alias="senderId", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    certificate: Annotated[str | None, Field(description="PEM system certificate its transport signature must use")] = (
        None
    )
    push_url: Annotated[str | None, Field(alias="pushUrl", max_length=512)] = None
    title: Annotated[str | None, Field(max_length=200)] = None


def routers(kernel: Kernel) -> list[APIRouter]:
    gateway = Gateway.of(kernel)
    admin = [Depends(kernel.require_admin)]
    shep = APIRouter(prefix="/shep", tags=["gateway"])
    api = APIRouter(prefix="/shep/api", tags=["gateway"], dependencies=admin)

    # -- SyncChannel v10 ------------------------------------------------------------------------
    async def send_message(request: FastRequest) -> FastResponse:
        status, envelope = await gateway.sync.handle(request.body)
        return FastResponse(status, envelope, SOAP_TYPE)

    async def send_message_oversize(_: FastRequest) -> FastResponse:
        return FastResponse(413, await gateway.sync.refuse_oversize(kernel.settings.max_body_bytes), SOAP_TYPE)

    for path in (SYNC_PATH, SYNC_PATH.rstrip("/")):
        kernel.fast.add("POST", path, send_message, oversize=send_message_oversize)
    register_echo(kernel, gateway)  # POST /shep/diag/echo: the diagnostic provider (gateway/echo.py)

    shep.add_api_route(
        "/bip-sync-wss-gost/",
        documented_endpoint(send_message),
        methods=["POST"],
        summary="SyncChannel v10 SendMessage (SOAP 1.1)",
    )

    @shep.get("/bip-sync-wss-gost/", summary="the SyncChannel WSDL (?wsdl) and its XSDs (?xsd=name)")
    async def sync_wsdl(request: Request) -> Response:
        # the address this client reached us at: what it fetches next (the XSDs) must reach us too
        return _description(request, "SyncChannel", f"{str(request.base_url).rstrip('/')}{SYNC_PATH}")

    # -- AsyncChannel v10 -----------------------------------------------------------------------
    async def async_operation(request: FastRequest) -> FastResponse:
        status, envelope = await gateway.async_.handle(request.body)
        return FastResponse(status, envelope, SOAP_TYPE)

    for path in (ASYNC_PATH, ASYNC_PATH.rstrip("/")):
        kernel.fast.add("POST", path, async_operation, oversize=send_message_oversize)

    shep.add_api_route(
        "/bip-async/",
        documented_endpoint(async_operation),
        methods=["POST"],
        summary="AsyncChannel v10: sendMessage, getMessageStatus, getMessages, sendDeliveryNotification",
    )

    @shep.get("/bip-async/", summary="the AsyncChannel WSDL (?wsdl) and its XSDs (?xsd=name)")
    async def async_wsdl(request: Request) -> Response:
        return _description(request, "AsyncChannel", f"{str(request.base_url).rstrip('/')}{ASYNC_PATH}")

    # -- the operator's API ---------------------------------------------------------------------
    @api.get("/routes", summary="routes: serviceId → target and policy")
    async def list_routes() -> dict:
        return {"routes": [r.describe() for r in await gateway.registry.routes()]}

    @api.post("/routes", status_code=201, summary="add or replace a route")
    async def put_route(body: RouteBody) -> dict:
        route = Route(
            body.service_id,
            body.target,
            body.mode,
            body.transport_signature,
            body.business_signature,
            body.timeout_seconds,
            body.title,
        )
        return (await gateway.registry.put_route(route)).describe()

    @api.get("/routes/{service_id}")
    async def get_route(service_id: str) -> dict:
        route = await gateway.registry.route(service_id)
        if route is None:
            raise CodedError("ROUTE_NOT_FOUND", f"no route for serviceId {service_id!r}")
        return route.describe()

    @api.delete("/routes/{service_id}", status_code=204)
    async def remove_route(service_id: str) -> Response:
        await gateway.registry.remove_route(service_id)
        return Response(status_code=204)

    @api.get("/senders", summary="senders (no password hashes)")
    async def list_senders() -> dict:
        return {"senders": [s.describe() for s in await gateway.registry.senders()]}

    @api.post("/senders", status_code=201, summary="add or replace a sender")
    async def put_sender(body: SenderBody) -> dict:
        cert = None
        if body.certificate:
            try:
                cert = x509.load_pem_x509_certificate(body.certificate.encode())
            except ValueError:
                raise CodedError("REQUEST_INVALID", "certificate is not a PEM X.509 certificate") from None
        record = await gateway.registry.put_sender(body.sender_id, body.password, cert, body.push_url, body.title)
        return record.describe()

    @api.delete("/senders/{sender_id}", status_code=204)
    async def remove_sender(sender_id: str) -> Response:
        await gateway.registry.remove_sender(sender_id)
        return Response(status_code=204)

    @api.get("/journal", summary="the message journal, newest first (without XML)")
    async def journal(
        message_id: Annotated[str | None, Query(alias="messageId")] = None,
        service_id: Annotated[str | None, Query(alias="serviceId")] = None,
        sender_id: Annotated[str | None, Query(alias="senderId")] = None,
        outcome: Literal["ok", "fault", "rejected"] | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(alias="beforeId")] = None,
    ) -> dict:
        entries = await gateway.journal.query(
            message_id=message_id,
            service_id=service_id,
            sender_id=sender_id,
            outcome=outcome,
            limit=limit,
            before_id=before_id,
        )
        return {"entries": entries}

    @api.get("/journal/{entry_id}", summary="one journal entry with its request and response XML")
    async def journal_entry(entry_id: int) -> dict:
        return await gateway.journal.get(entry_id)

    return [shep, api, *workstation_routers(kernel, gateway), inspector_router(kernel)]


class StepBody(BaseModel):
    """``POST /rshep/api/cases/{id}/steps/{n}``: an employee completes the current step."""

    model_config = ConfigDict(extra="forbid")

    employee: Annotated[str, Field(min_length=1, max_length=64)]
    outcome: Literal["done", "refused"] = "done"
    ground: Annotated[str | None, Field(max_length=1000)] = None


class IssueBody(BaseModel):
    """``POST /rshep/api/cases/{id}/issue``: the clerk who hands the result over (the office's first
    clerk when left out)."""

    model_config = ConfigDict(extra="forbid")

    employee: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class PolicyBody(BaseModel):
    """``PUT /rshep/api/policies/{serviceId}``: how the workstation works a service."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    mode: Literal["autopilot", "manual"] = "autopilot"
    decision: Literal["approve", "refuse"] = "approve"
    refusal_ground: Annotated[str | None, Field(alias="refusalGround", max_length=1000)] = None
    refuse_at_step: Annotated[str | None, Field(alias="refuseAtStep", max_length=16)] = None
    refusal_code: Annotated[
        str | None,
        Field(alias="refusalCode", max_length=64, description="a provider's refusal code (REASONED_REFUSAL)"),
    ] = None
    scale: Annotated[float, Field(ge=0, le=1000)] = 1.0


def workstation_routers(kernel: Kernel, gateway: Gateway) -> list[APIRouter]:
    """ЭҮАШ АЖО / АРМ РШЭП: its inbox on the gateway, and the API its employees and operators use."""
    station = gateway.workstation
    rshep = APIRouter(prefix="/rshep", tags=["workstation"])
    api = APIRouter(prefix="/rshep/api", tags=["workstation"], dependencies=[Depends(kernel.require_admin)])

    async def inbox(request: FastRequest) -> FastResponse:
        status, envelope = await station.receive(request.body)
        return FastResponse(status, envelope, SOAP_TYPE)

    kernel.fast.add("POST", INBOX_PATH, inbox)

    rshep.add_api_route(
        "/shep/",
        documented_endpoint(inbox),
        methods=["POST"],
        summary="the workstation's IAsyncChannelClient endpoint (pushes from the gateway)",
    )

    @api.get("/providers", summary="providers, their BINs, services and employees with roles")
    async def providers() -> dict:
        return {"providers": [p.model_dump() for p in station.providers.providers]}

    @api.get("/cases", summary="requests in the providers' inboxes, newest first")
    async def list_cases(provider: str | None = None, status: str | None = None) -> dict:
        return {"cases": await station.list(provider, status)}

    @api.get("/cases/{case_id}", summary="one request: its steps with their times, overdue or not")
    async def get_case(case_id: str) -> dict:
        return await station.case(case_id)

    @api.post("/cases/{case_id}/steps/{n}", summary="manual mode: an employee completes the current step")
    async def complete(case_id: str, n: str, body: StepBody) -> dict:
        return await station.complete(case_id, n, body.employee, body.outcome, body.ground)

    @api.post("/cases/{case_id}/issue", summary="the provider's office hands the result to the applicant")
    async def issue(case_id: str, body: IssueBody | None = None) -> dict:
        return await station.issue(case_id, body.employee if body else None)

    @api.post("/office/applications", status_code=201, summary="the office clerk registers a paper application")
    async def accept_paper(body: PaperApplication) -> dict:
        return await station.accept_paper(body)

    @api.get("/office/receipts/{number}", summary="a receipt of the office: of acceptance, or of refusal")
    async def receipt(number: str) -> dict:
        return await station.receipt(number)

    @api.get("/queue", summary="the kindergarten queue register: places of a service, per area in number order")
    async def queue(service: Annotated[str, Query(min_length=1, max_length=128)],
                    area: Annotated[str | None, Query(max_length=200)] = None) -> dict:  # fmt: skip
        return await station.queue(service, area)

    @api.get("/policies/{service_id}", summary="how the workstation works a service")
    async def get_policy(service_id: str) -> dict:
        return (await station.policy(service_id)).describe()

    @api.put("/policies/{service_id}", summary="autopilot (approve / refuse with a ground, scaled delays) or manual")
    async def put_policy(service_id: str, body: PolicyBody) -> dict:
        try:
            autopilot = AutopilotPolicy(
                decision=body.decision, refusal_ground=body.refusal_ground, refuse_at_step=body.refuse_at_step,
                scale=body.scale, refusal_code=body.refusal_code,
            )  # fmt: skip
        except ValidationError as exc:
            raise CodedError("REQUEST_INVALID", "; ".join(e["msg"] for e in exc.errors())) from None
        return (await station.set_policy(service_id, Policy(body.mode, autopilot))).describe()

    return [rshep, api, workstation_pages(kernel, station), paper_pages(kernel, station)]


def _description(request: Request, name: str, location: str) -> Response:
    """``?wsdl`` gives the WSDL with this server's address; ``?xsd=<file>`` the schemas it imports."""
    xsd = request.query_params.get("xsd")
    if xsd is not None:
        document = soap.xsd_document(xsd, location)
        if document is None:
            raise CodedError("NOT_FOUND", f"no schema {xsd!r}")
        return Response(document, media_type=SOAP_TYPE)
    if "wsdl" in request.query_params:
        return Response(soap.wsdl_document(name, location), media_type=SOAP_TYPE)
    raise CodedError("NOT_FOUND", "POST SOAP messages here; GET ?wsdl for the description")
