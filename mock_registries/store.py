"""The registries' records in their own tables: persons of ГБД ФЛ by IIN, powers of attorney of
ЕНИС by registry number. Checks first (``mock_registries.records``, on the simulated clock's
date), then one statement: a refused record stores nothing. A record added or replaced is
answered as it was stored, read back in the same transaction (an address of nothing but nulls,
for one, is stored as no address)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from egovsim.calendar import to_almaty
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from mock_registries.records import (
    Person,
    PowerOfAttorney,
    check_person,
    check_power_of_attorney,
    person_from_row,
    person_to_row,
    power_of_attorney_from_row,
    power_of_attorney_to_row,
)
from mock_registries.tables import persons, powers_of_attorney

MAX_LIST = 1000


class RegistryStore:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def _today(self) -> date:
        return to_almaty(self.kernel.clock.now()).date()

    # -- ГБД ФЛ ---------------------------------------------------------------------------------
    async def person(self, iin: str) -> Person | None:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(persons).where(persons.c.iin == iin))).first()
        return None if row is None else person_from_row(row)

    async def add_person(self, person: Person) -> Person:
        check_person(person, self._today())
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(persons.insert().values(person_to_row(person)))
                return person_from_row(await _stored(conn, select(persons).where(persons.c.iin == person.iin)))
        except IntegrityError:
            raise CodedError("REGISTRY_RECORD_EXISTS", f"a person with IIN {person.iin} exists") from None

    async def replace_person(self, iin: str, person: Person) -> Person:
        if person.iin != iin:
            raise CodedError("REGISTRY_RECORD_INVALID", f"the body's iin {person.iin} is not the path's {iin}")
        check_person(person, self._today())
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(update(persons).where(persons.c.iin == iin).values(person_to_row(person)))
            if not done.rowcount:
                raise CodedError("PERSON_NOT_FOUND", f"no person with IIN {iin}")
            return person_from_row(await _stored(conn, select(persons).where(persons.c.iin == iin)))

    async def remove_person(self, iin: str) -> None:
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(delete(persons).where(persons.c.iin == iin))
        if not done.rowcount:
            raise CodedError("PERSON_NOT_FOUND", f"no person with IIN {iin}")

    # -- ЕНИС -----------------------------------------------------------------------------------
    def _services(self) -> set[str]:
        return {service.id for service in self.kernel.services}

    async def power_of_attorney(self, registry_number: str) -> PowerOfAttorney | None:
        table = powers_of_attorney
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(table).where(table.c.registry_number == registry_number))).first()
        return None if row is None else power_of_attorney_from_row(row)

    async def powers_of_attorney(
        self,
        *,
        representative_iin: str | None = None,
        grantor_iin: str | None = None,
        registry_number: str | None = None,
        limit: int = MAX_LIST,
    ) -> list[PowerOfAttorney]:
        """Those matching every filter given, newest registration first."""
        table = powers_of_attorney
        query = select(table)
        if representative_iin is not None:
            query = query.where(table.c.representative_iin == representative_iin)
        if grantor_iin is not None:
            query = query.where(table.c.grantor_iin == grantor_iin)
        if registry_number is not None:
            query = query.where(table.c.registry_number == registry_number)
        query = query.order_by(table.c.registration_date.desc(), table.c.registry_number).limit(limit)
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [power_of_attorney_from_row(r) for r in rows]

    async def add_power_of_attorney(self, power: PowerOfAttorney) -> PowerOfAttorney:
        check_power_of_attorney(power, self._services(), self._today())
        table = powers_of_attorney
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(table.insert().values(power_of_attorney_to_row(power)))
                query = select(table).where(table.c.registry_number == power.registry_number)
                return power_of_attorney_from_row(await _stored(conn, query))
        except IntegrityError:
            detail = f"a power of attorney numbered {power.registry_number} exists"
            raise CodedError("REGISTRY_RECORD_EXISTS", detail) from None

    async def replace_power_of_attorney(self, registry_number: str, power: PowerOfAttorney) -> PowerOfAttorney:
        if power.registry_number != registry_number:
            detail = f"the body's registryNumber {power.registry_number} is not the path's {registry_number}"
            raise CodedError("REGISTRY_RECORD_INVALID", detail)
        check_power_of_attorney(power, self._services(), self._today())
        table = powers_of_attorney
        same = table.c.registry_number == registry_number
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(update(table).where(same).values(power_of_attorney_to_row(power)))
            if not done.rowcount:
                raise CodedError("POWER_OF_ATTORNEY_NOT_FOUND", f"no power of attorney numbered {registry_number}")
            return power_of_attorney_from_row(await _stored(conn, select(table).where(same)))

    async def remove_power_of_attorney(self, registry_number: str) -> None:
        table = powers_of_attorney
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(delete(table).where(table.c.registry_number == registry_number))
        if not done.rowcount:
            raise CodedError("POWER_OF_ATTORNEY_NOT_FOUND", f"no power of attorney numbered {registry_number}")


async def _stored(conn: AsyncConnection, query: Any) -> Any:
    """The row just written, read back in its transaction."""
    return (await conn.execute(query)).one()
