"""The kernel's HTTP API under ``/api/catalog``: services, refusals, per-call faults, clock,
calendar, traces."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from egovsim import call_faults
from egovsim.calendar import SCHEDULES, UNITS
from egovsim.catalog.models import Service
from egovsim.clock import Advance, parse_advance, parse_instant
from egovsim.components import Component
from egovsim.diagrams import MEDIA_TYPES, render
from egovsim.diagrams.live import lit
from egovsim.diagrams.pages import router as diagram_pages
from egovsim.errors import CodedError
from egovsim.kernel import Kernel, get_kernel
from egovsim.problems import request_lang


def service_summary(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "number": s.number,
        "titles": s.titles.model_dump(),
        "provider": s.provider.model_dump(),
        "channels": {name: getattr(s.channels, name).available for name in ("office", "hqo", "portal")},
        "form_of_service": s.form_of_service.model_dump(),
        "overall_deadline": s.overall_deadline.model_dump(mode="json", include={"stated", "duration", "text"}),
        "checks_enis": s.checks_enis,
        "href": f"/api/catalog/services/{s.id}",
    }


class ClockAt(BaseModel):
    at: str | None = Field(None, description="ISO 8601 instant; without an offset it is Kazakhstan time")


class ClockBy(BaseModel):
    by: str = Field(
        description="duration: 90m, 2h, 1h30m, 3d, 1w, 3wd (working days), PT1H30M; offset accepts a leading '-'"
    )


class ClockSpeed(BaseModel):
    factor: float = Field(description="simulated seconds per real second")


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise CodedError("CLOCK_BAD_COMMAND", str(exc)) from None


def _advance(text: str) -> Advance:
    try:
        return parse_advance(text)
    except ValueError as exc:
        raise CodedError("CLOCK_BAD_COMMAND", str(exc)) from None


def routers(kernel: Kernel) -> list[APIRouter]:
    api = APIRouter(prefix="/api/catalog", tags=["catalog"])

    def admin(request: Request) -> None:
        kernel.require_admin(request)

    @api.get("/services", summary="the services of the seeds")
    async def list_services(k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        return {"count": len(k.services), "services": [service_summary(s) for s in k.services]}

    @api.get("/services/{service_id}", summary="one service, everything the catalogue knows")
    async def get_service(service_id: str, k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        service = k.services.get(service_id)
        if service is None:
            raise CodedError("SERVICE_NOT_FOUND", f"no service with id {service_id!r}", service_id=service_id)
        return service.model_dump(mode="json")

    @api.get(
        "/services/{service_id}/diagrams/{kind}",
        summary="a service's interaction or business-process diagram as SVG, Mermaid or BPMN 2.0",
        response_class=Response,
    )
    async def get_diagram(
        request: Request,
        service_id: str,
        kind: str,
        format: str = Query("svg", description="svg, mermaid or bpmn"),
        chain: str | None = Query(None, description="interaction: portal, hqo or office [default: the first]"),
        route: str | None = Query(None, description="business: a route id [default: the first]"),
        k: Kernel = Depends(get_kernel),
    ) -> Response:
        service = k.services.get(service_id)
        if service is None:
            raise CodedError("SERVICE_NOT_FOUND", f"no service with id {service_id!r}", service_id=service_id)
        lang = request.query_params.get("lang") or request_lang(request)
        text = render(service, kind, format, lang, chain=chain, route=route)
        return Response(text, media_type=MEDIA_TYPES[format], headers={"Content-Language": lang})

    @api.get("/refusals", summary="the refusal catalogue")
    async def list_refusals(k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        return {"count": len(k.refusals.entries), "refusals": [e.model_dump(mode="json") for e in k.refusals.entries]}

    @api.get("/refusals/{code}", summary="one code of the refusal catalogue")
    async def get_refusal(code: str, k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        entry = k.refusals.get(code)
        if entry is None:
            raise CodedError("REFUSAL_CODE_NOT_FOUND", f"no code {code!r}", code=code)
        return entry.model_dump(mode="json")

    @api.get("/faults", summary="the faults a call can force on itself with the X-Egovsim-Fault header")
    async def list_faults() -> dict[str, object]:
        """Each fault's name, the component that acts on it and what it does (egovsim.call_faults)."""
        return call_faults.catalogue()

    # -- clock -------------------------------------------------------------------------------
    @api.get("/clock", summary="the simulated clock")
    async def clock_show(k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        return k.clock.describe()

    @api.post("/clock/freeze", dependencies=[Depends(admin)], summary="stop the clock, now or at an instant")
    async def clock_freeze(body: ClockAt | None = None, k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        return await k.clock.freeze(_instant(body.at) if body and body.at else None)

    @api.post("/clock/set", dependencies=[Depends(admin)], summary="move the clock to an instant")
    async def clock_set(body: ClockAt, k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        if not body.at:
            raise CodedError("CLOCK_BAD_COMMAND", "set needs 'at': an ISO 8601 instant")
        return await k.clock.set(_instant(body.at))

    @api.post("/clock/advance", dependencies=[Depends(admin)], summary="move the clock forward")
    async def clock_advance(body: ClockBy, k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        return await k.clock.advance(_advance(body.by))

    @api.post("/clock/offset", dependencies=[Depends(admin)], summary="run in real time at an offset")
    async def clock_offset(body: ClockBy, k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        sign = -1 if body.by.strip().startswith("-") else 1
        how = _advance(body.by.strip().lstrip("+-"))
        if how.delta is None:
            raise CodedError("CLOCK_BAD_COMMAND", "an offset is a span of time, not working days")
        return await k.clock.offset(sign * how.delta)

    @api.post("/clock/speed", dependencies=[Depends(admin)], summary="run faster (or slower) than real time")
    async def clock_speed(body: ClockSpeed, k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        return await k.clock.speed(body.factor)

    @api.post("/clock/resume", dependencies=[Depends(admin)], summary="back to real time")
    async def clock_resume(k: Kernel = Depends(get_kernel)) -> dict[str, object]:
        return await k.clock.resume()

    # -- calendar ------------------------------------------------------------------------------
    @api.get("/calendar/holidays/{year}", summary="public holidays and carried-over days off")
    async def holidays(year: int, k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        if not 1991 <= year <= 2100:
            raise CodedError("REQUEST_INVALID", "year is between 1991 and 2100")
        return {"year": year, "holidays": [{"date": d.isoformat(), "name": n} for d, n in k.calendar.holidays_in(year)]}

    @api.get("/calendar/deadline", summary="when a step of VALUE UNIT begun at START is due")
    async def deadline(
        value: int = Query(ge=0, le=10_000),
        unit: Literal["minutes", "hours", "working_days", "calendar_days", "days_24h", "months"] = Query(),
        start: str | None = Query(None, description="ISO 8601; default: the simulated now"),
        hours: Literal["provider", "state_corporation", "none"] = Query("provider"),
        k: Kernel = Depends(get_kernel),
    ) -> dict[str, Any]:
        begin = _instant(start) if start else k.clock.now()
        due = k.calendar.deadline(begin, value, unit, None if hours == "none" else SCHEDULES[hours])
        return {
            "start": begin.isoformat(),
            "value": value,
            "unit": unit,
            "hours": hours,
            "due": due.isoformat(),
            "units": UNITS,
        }

    @api.get("/calendar/day/{day}", summary="is a day a working day")
    async def day_info(day: date, k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        return {
            "date": day.isoformat(),
            "holiday": k.calendar.holiday_name(day),
            "working_day": {name: k.calendar.is_working_day(day, h) for name, h in SCHEDULES.items()},
            "opening_hours": {
                name: [[a.isoformat(), b.isoformat()] for a, b in k.calendar.open_intervals(day, h)]
                for name, h in SCHEDULES.items()
            },
        }

    # -- traces --------------------------------------------------------------------------------
    @api.get("/traces", summary="requests with trace events, newest first")
    async def traces(limit: int = Query(50, ge=1, le=1000), k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        return {"requests": await k.trace.recent_requests(limit)}

    @api.get("/traces/{request_id}", summary="every step of one request, in order")
    async def trace(request_id: str, k: Kernel = Depends(get_kernel)) -> dict[str, Any]:
        events = await k.trace.events(request_id[:64])
        if not events:
            raise CodedError("TRACE_NOT_FOUND", f"no events for {request_id!r}", request_id=request_id[:64])
        first, last = events[0].sim_time, events[-1].sim_time
        return {
            "request_id": request_id,
            "events": [e.as_json() for e in events],
            "simulated_duration_seconds": (last - first) / timedelta(seconds=1),
        }

    @api.get("/traces/{request_id}/diagram", response_class=Response,
             summary="the diagram of a request, its steps coloured by the trace")  # fmt: skip
    async def trace_diagram(
        request: Request,
        request_id: str,
        kind: str = Query("interaction", description="interaction or business"),
        format: str = Query("svg", description="svg, mermaid or bpmn"),
        k: Kernel = Depends(get_kernel),
    ) -> Response:
        events = await k.trace.events(request_id[:64])
        if not events:
            raise CodedError("TRACE_NOT_FOUND", f"no events for {request_id!r}", request_id=request_id[:64])
        lang = request.query_params.get("lang") or request_lang(request)
        text = lit(k.services, request_id[:64], events, kind).render(format, lang)
        return Response(text, media_type=MEDIA_TYPES[format], headers={"Content-Language": lang})

    return [api, diagram_pages()]


COMPONENT = Component(
    name="kernel",
    title="kernel: service catalogue, refusal catalogue, clock, calendar, traces",
    mounts=("/api/catalog",),
    routers=routers,
    schema=None,  # the kernel's tables are migrated for every process (egovsim.tables)
)
