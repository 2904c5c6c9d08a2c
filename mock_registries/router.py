"""HTTP edges of mock_registries/: the two SyncChannel provider endpoints the gateway routes to
(answered on the fast lane, like the gateway's own), and the admin API under ``/registries/api/``
(admin token) to seed and edit records and to switch faults on. Health routes come from the
kernel.

An id in a path or a query that no record can have (an IIN that is not twelve digits, a registry
number outside ``RegistryNumber``'s pattern) is refused as ``REQUEST_INVALID`` (422) before any
lookup; a well-formed id that no record has is 404 with the record's not-found code."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from egovsim.errors import CodedError
from egovsim.fastlane import documented_endpoint
from egovsim.kernel import Kernel
from mock_registries.faults import REGISTRIES, FaultKind, fault
from mock_registries.records import (
    NUMBER_PATTERN,
    REGISTRY_NUMBER_PATTERN,
    Person,
    PowerOfAttorney,
    person_json,
    power_of_attorney_json,
)
from mock_registries.service import SERVICES, Registries
from mock_registries.store import MAX_LIST

# ids as the records define them: anything else is REQUEST_INVALID (422), never looked up
Iin = Annotated[str, Path(pattern=NUMBER_PATTERN, description="the person's IIN: twelve digits")]
RegistryNumber = Annotated[str, Path(pattern=REGISTRY_NUMBER_PATTERN, description="the registry number")]


class FaultBody(BaseModel):
    """``PUT /registries/api/faults/{registry}``: how the registry misbehaves (mock_registries.faults)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["unavailable", "slow", "timeout", "not_found", "malformed"]
    delay_seconds: float | None = Field(None, alias="delaySeconds", ge=0, le=3600)
    remaining: int | None = Field(None, ge=1, le=1_000_000, description="answers to spoil; null: until cleared")


def routers(kernel: Kernel) -> list[APIRouter]:
    registries = Registries.of(kernel)
    store = registries.store
    shep = APIRouter(prefix="/registries/shep", tags=["registries"])
    api = APIRouter(prefix="/registries/api", tags=["registries"], dependencies=[Depends(kernel.require_admin)])

    # -- the providers behind the gateway ----------------------------------------------------------
    for service in SERVICES:
        handler = registries.endpoint(service)
        for path in (service.path, service.path + "/"):
            kernel.fast.add("POST", path, handler)
        shep.add_api_route(
            service.path.removeprefix("/registries/shep"),
            documented_endpoint(handler),
            methods=["POST"],
            summary=f"{service.title}: the SendMessage provider of {service.service_id} (the gateway calls it)",
        )

    # -- ГБД ФЛ persons ----------------------------------------------------------------------------
    @api.post("/persons", status_code=201, summary="add a person to ГБД ФЛ")
    async def add_person(body: Person) -> dict:
        """Answers the record as stored."""
        return person_json(await store.add_person(body))

    @api.get("/persons/{iin}", summary="one person of ГБД ФЛ")
    async def get_person(iin: Iin) -> dict:
        """An ``iin`` not of twelve digits: 422 REQUEST_INVALID; no such person: 404 PERSON_NOT_FOUND."""
        person = await store.person(iin)
        if person is None:
            raise CodedError("PERSON_NOT_FOUND", f"no person with IIN {iin}")
        return person_json(person)

    @api.put("/persons/{iin}", summary="replace a person's record")
    async def replace_person(iin: Iin, body: Person) -> dict:
        """Answers the record as stored. An ``iin`` not of twelve digits: 422 REQUEST_INVALID; no
        such person: 404 PERSON_NOT_FOUND."""
        return person_json(await store.replace_person(iin, body))

    @api.delete("/persons/{iin}", status_code=204, summary="remove a person")
    async def remove_person(iin: Iin) -> Response:
        """An ``iin`` not of twelve digits: 422 REQUEST_INVALID; no such person: 404 PERSON_NOT_FOUND."""
        await store.remove_person(iin)
        return Response(status_code=204)

    # -- ЕНИС powers of attorney -------------------------------------------------------------------
    @api.post("/powers-of-attorney", status_code=201, summary="register a power of attorney in ЕНИС")
    async def add_power(body: PowerOfAttorney) -> dict:
        """Answers the record as stored, with its status today."""
        return power_of_attorney_json(await store.add_power_of_attorney(body), registries.today())

    @api.get("/powers-of-attorney", summary="powers of attorney by representative and/or grantor, newest first")
    async def list_powers(
        representative_iin: Annotated[str | None, Query(alias="representativeIin", pattern=NUMBER_PATTERN)] = None,
        grantor_iin: Annotated[str | None, Query(alias="grantorIin", pattern=NUMBER_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    ) -> dict:
        """``representativeIin`` / ``grantorIin`` not of twelve digits: 422 REQUEST_INVALID."""
        found = await store.powers_of_attorney(
            representative_iin=representative_iin, grantor_iin=grantor_iin, limit=limit
        )
        today = registries.today()
        return {"powersOfAttorney": [power_of_attorney_json(p, today) for p in found]}

    @api.get("/powers-of-attorney/{registry_number}", summary="one power of attorney, with its status today")
    async def get_power(registry_number: RegistryNumber) -> dict:
        """A malformed ``registry_number``: 422 REQUEST_INVALID; no such power: 404
        POWER_OF_ATTORNEY_NOT_FOUND."""
        power = await store.power_of_attorney(registry_number)
        if power is None:
            raise CodedError("POWER_OF_ATTORNEY_NOT_FOUND", f"no power of attorney numbered {registry_number}")
        return power_of_attorney_json(power, registries.today())

    @api.put("/powers-of-attorney/{registry_number}", summary="replace a power of attorney (e.g. to revoke it)")
    async def replace_power(registry_number: RegistryNumber, body: PowerOfAttorney) -> dict:
        """Answers the record as stored, with its status today. A malformed ``registry_number``:
        422 REQUEST_INVALID; no such power: 404 POWER_OF_ATTORNEY_NOT_FOUND."""
        power = await store.replace_power_of_attorney(registry_number, body)
        return power_of_attorney_json(power, registries.today())

    @api.delete("/powers-of-attorney/{registry_number}", status_code=204, summary="remove a power of attorney")
    async def remove_power(registry_number: RegistryNumber) -> Response:
        """A malformed ``registry_number``: 422 REQUEST_INVALID; no such power: 404
        POWER_OF_ATTORNEY_NOT_FOUND."""
        await store.remove_power_of_attorney(registry_number)
        return Response(status_code=204)

    # -- fault switches ----------------------------------------------------------------------------
    def known(registry: str) -> str:
        if registry not in REGISTRIES:
            raise CodedError("REGISTRY_UNKNOWN", f"no registry {registry!r}: choose {' or '.join(REGISTRIES)}")
        return registry

    @api.get("/faults", summary="the fault switches that are on")
    async def list_faults() -> dict:
        return {"faults": [f.describe() for f in await registries.faults.all()]}

    @api.put("/faults/{registry}", summary="switch a fault on for gbdfl or enis")
    async def put_fault(registry: str, body: FaultBody) -> dict:
        switch = fault(known(registry), FaultKind(body.kind), body.delay_seconds, body.remaining)
        return (await registries.faults.put(switch)).describe()

    @api.delete("/faults/{registry}", status_code=204, summary="switch the registry's fault off")
    async def clear_fault(registry: str) -> Response:
        await registries.faults.clear(known(registry))
        return Response(status_code=204)

    return [shep, api]
