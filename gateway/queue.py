"""The electronic queue register of the kindergarten queue (Балаларды кезекке қою бойынша Электрондық
тізілім / Электронный реестр постановки детей в очередь): seed 003, the portal chain's 5-процесс sends
the signed request "to the Electronic register of the kindergarten queue", and the answer is the
receipt with the queue number (7-процесс; at the office and the Centre, step 2's receipt).

A service keeps a queue when the catalogue gives it a ``QUEUE_RECEIPT`` notice. A request enters the
register when the workstation registers it, in the same transaction as the case, and takes the next
number of its area (the form's ``area``): numbers count per service and area from 1 in the order of
registration. Two registrations at once may read the same last number; the unique place
``(service, area, number)`` lets one of them in and the other retries (:class:`QueuePlaceTaken`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from egovsim.catalog.models import Service
from egovsim.clock import from_us
from gateway.tables import queue_entries

QUEUE_NOTICE = "QUEUE_RECEIPT"
AREA_FIELD = "area"
CHILD_FIELD = "child_iin"
MAX_AREA = 200


def keeps_queue(service: Service) -> bool:
    return any(n.code == QUEUE_NOTICE for n in service.notices)


def receipt_step(service: Service, route_id: str) -> str | None:
    """The route step that prints the receipt with the queue number (``provider:2``, ``hqo:2``)."""
    prefix = f"{route_id}:"
    return next(
        (n.step for n in service.notices if n.code == QUEUE_NOTICE and n.step and n.step.startswith(prefix)), None
    )


def area_of(value: str) -> str:
    """The area as written, with its runs of spaces collapsed."""
    return " ".join(value.split())


def area_defects(fields: dict[str, str]) -> list[str]:
    """What keeps a request out of the register: no area, or one too long for it."""
    area = area_of(fields.get(AREA_FIELD, ""))
    if not area:
        return [f"missing: {AREA_FIELD}"]
    if len(area) > MAX_AREA:
        return [f"{AREA_FIELD}: longer than {MAX_AREA} characters"]
    return []


@dataclass(frozen=True)
class QueueEntry:
    """A request's place: what goes into it when the case is registered."""

    case_id: str
    service_id: str
    area: str
    channel: str
    request_number: str
    applicant_iin: str | None
    child_iin: str | None


class QueueRegister:
    """The register's reads and writes, each in the caller's transaction or connection."""

    @staticmethod
    async def enter(conn: AsyncConnection, entry: QueueEntry, at_us: int) -> int:
        """The next number of the entry's area. A concurrent registration that took the same number
        first makes the insert fail with IntegrityError: the caller retries its transaction."""
        area = area_of(entry.area)
        key = area.casefold()
        last = await conn.scalar(
            select(func.max(queue_entries.c.number)).where(
                (queue_entries.c.service_id == entry.service_id) & (queue_entries.c.area_key == key)
            )
        )
        number = int(last or 0) + 1
        await conn.execute(
            insert(queue_entries).values(
                case_id=entry.case_id, service_id=entry.service_id, area_key=key, area=area, number=number,
                channel=entry.channel, request_number=entry.request_number, applicant_iin=entry.applicant_iin,
                child_iin=entry.child_iin, status="queued", registered_sim_us=at_us,
            )
        )  # fmt: skip
        return number

    @staticmethod
    async def withdraw(conn: AsyncConnection, case_id: str) -> None:
        """A refused case keeps its number (numbers are never given twice) but leaves the queue."""
        await conn.execute(update(queue_entries).where(queue_entries.c.case_id == case_id).values(status="withdrawn"))

    @staticmethod
    async def place(conn: AsyncConnection, case_id: str) -> dict[str, Any] | None:
        row = (await conn.execute(select(queue_entries).where(queue_entries.c.case_id == case_id))).first()
        return None if row is None else describe(row)

    @staticmethod
    async def entries(conn: AsyncConnection, service_id: str, area: str | None) -> list[dict[str, Any]]:
        query = select(queue_entries).where(queue_entries.c.service_id == service_id)
        if area is not None:
            query = query.where(queue_entries.c.area_key == area_of(area).casefold())
        query = query.order_by(queue_entries.c.area_key, queue_entries.c.number).limit(1000)
        return [describe(row) for row in (await conn.execute(query)).all()]


def describe(row: Any) -> dict[str, Any]:
    return {
        "queueNumber": row.number,
        "area": row.area,
        "serviceId": row.service_id,
        "caseId": row.case_id,
        "requestNumber": row.request_number,
        "channel": row.channel,
        "applicantIin": row.applicant_iin,
        "childIin": row.child_iin,
        "status": row.status,
        "registeredAt": from_us(row.registered_sim_us).isoformat(),
    }
