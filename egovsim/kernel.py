"""The kernel object handed to every component: settings, storage, clock, calendar,
catalogues and the trace journal. Components reach each other only over HTTP
(:meth:`Kernel.client_for`), never through each other's code."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from dataclasses import dataclass, field

import httpx
from fastapi import Request
from sqlalchemy import func, insert, select

from egovsim import call_faults
from egovsim.calendar import KazakhstanCalendar
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.clock import SimulatedClock, to_us, wall_now
from egovsim.fastlane import FastRoutes
from egovsim.security import check_admin, resolve_admin_token
from egovsim.settings import Settings
from egovsim.storage import Database
from egovsim.tables import boots
from egovsim.trace import TraceJournal


@dataclass
class Kernel:
    settings: Settings
    db: Database
    calendar: KazakhstanCalendar
    clock: SimulatedClock
    services: ServiceCatalog
    refusals: RefusalCatalog
    trace: TraceJournal
    admin_token: str
    components: tuple[str, ...]
    fast: FastRoutes = field(default_factory=FastRoutes)  # hot protocol endpoints (egovsim.fastlane)
    # per-process objects of a component that its routers and its background work share
    shared: dict[str, object] = field(default_factory=dict)
    _asgi_app: object | None = field(default=None, repr=False)
    # set when the process stops: background loops end their pass and return, so that nothing is
    # cancelled in the middle of a database call (see :func:`egovsim.app.stop`)
    stopping: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    # with a seed, ids drawn from it: the n-th id of this process after the b-th boot of the data
    _id_salt: str | None = field(default=None, repr=False)
    _ids_drawn: int = field(default=0, repr=False)

    def new_id(self, nbytes: int = 5) -> str:
        """A random hex id; with ``settings.seed`` the same ones in every run from the same data
        (the seed, how many boots the data has seen and how many ids this process drew before:
        a restart on the same data draws new ones)."""
        if self._id_salt is None:
            return secrets.token_hex(nbytes)
        self._ids_drawn += 1
        return hashlib.sha256(f"{self._id_salt}:{self._ids_drawn}".encode()).hexdigest()[: 2 * nbytes]

    async def idle(self, seconds: float, wake: asyncio.Event | None = None) -> bool:
        """Wait ``seconds``, or less if ``wake`` is set or the process stops; True once stopping."""
        waiters = [asyncio.ensure_future(self.stopping.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self.stopping.is_set()

    @classmethod
    def build(cls, settings: Settings, components: tuple[str, ...]) -> Kernel:
        """Load and validate everything that can fail before the server listens."""
        services = ServiceCatalog.load(settings.catalog_dir)
        refusals = RefusalCatalog.load()
        db = Database(settings.effective_database_url)
        calendar = KazakhstanCalendar()
        clock = SimulatedClock(db, settings, calendar)
        return cls(
            settings,
            db,
            calendar,
            clock,
            services,
            refusals,
            TraceJournal(db, clock),
            resolve_admin_token(settings),
            components,
        )

    async def seed_ids(self) -> None:
        """Salt the seeded ids with the data's boots (call after recording this one's)."""
        if self.settings.seed is None:
            return
        async with self.db.engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(boots))).scalar_one()
        self._id_salt, self._ids_drawn = f"{self.settings.seed}:{count}", 0

    async def record_boot(self, component: str) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                insert(boots).values(
                    component=component, wall_time_us=to_us(wall_now()), pid=os.getpid(), seed=self.settings.seed
                )
            )

    def client_for(self, component: str, timeout: float = 30.0) -> httpx.AsyncClient:
        """An HTTP client for another component: real HTTP in compose, in-process in one process.

        A call it makes carries on the faults of the call being served (``X-Egovsim-Fault``,
        :mod:`egovsim.call_faults`), so a fault forced on a portal call reaches the registry or
        the НУЦ that portal call makes the gateway ask."""
        hooks = {"request": [call_faults.carry_on]}
        base = self.settings.component_url(component)
        if base is None and component in self.components and self._asgi_app is not None:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self._asgi_app),  # type: ignore[arg-type]
                base_url=self.settings.effective_public_url,
                timeout=timeout,
                event_hooks=hooks,
            )
        if base is None:
            raise RuntimeError(
                f"component {component!r} is not in this process and EGOVSIM_{component.upper()}_URL is not set"
            )
        return httpx.AsyncClient(base_url=base, timeout=timeout, event_hooks=hooks)

    def require_admin(self, request: Request) -> None:
        check_admin(request, self.admin_token)


def get_kernel(request: Request) -> Kernel:
    kernel: Kernel = request.app.state.kernel
    return kernel
