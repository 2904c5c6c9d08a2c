"""The composition root: builds the ASGI application for some or all components.

The simulator is a library first and a server second: :func:`running` starts it in-process
for a test in one line, and the CLI serves the very same application with uvicorn::

    async with running(Settings(data_dir=tmp)) as sim:
        async with sim.client() as http:
            await http.get("/healthz")
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from egovsim import __version__, call_faults
from egovsim.clock import SimulatedClock
from egovsim.components import REGISTRY, Component, health_router, load_component
from egovsim.errors import CodedError
from egovsim.fastlane import FastLane
from egovsim.health import aggregate_health
from egovsim.kernel import Kernel
from egovsim.problems import BodySizeLimit, install_problem_handlers, problem, request_lang
from egovsim.settings import Settings
from egovsim.tables import SCHEMA as KERNEL_SCHEMA

log = logging.getLogger("egovsim")
STOP_GRACE_SECONDS = 10.0


def build_app(settings: Settings, names: Sequence[str] | None = None) -> FastAPI:
    """Assemble the application; a broken catalogue file fails here, before anything listens."""
    # every process runs the kernel library (clock, trace, storage); only the `kernel`
    # component serves its HTTP API (/api/catalog)
    names = list(names or REGISTRY)
    components = [load_component(n) for n in names]
    kernel = Kernel.build(settings, tuple(c.name for c in components))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start(app)
        try:
            yield
        finally:
            await stop(app)

    app = EgovsimApp(
        title="egovsim",
        version=__version__,
        description="A local simulator of Kazakhstan's e-government service chain.",
        lifespan=lifespan,
    )
    app.state.kernel = kernel
    app.state.components = components
    app.state.started = False
    kernel._asgi_app = app
    install_problem_handlers(app, kernel.refusals)
    distributed = len(components) < len(REGISTRY) or any(settings.component_url(n) for n in REGISTRY)
    follow = kernel.clock.refresh_if_stale if distributed else None
    app.fast_lane = FastLane(kernel.fast, kernel.refusals, settings.max_body_bytes, follow)
    if distributed:
        app.add_middleware(FollowSharedClock, clock=kernel.clock)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes, refusals=kernel.refusals)

    for component in components:
        for router in component.routers(kernel):
            app.include_router(router)
        app.include_router(health_router(component, kernel))

    async def healthz():  # type: ignore[no-untyped-def]
        return await aggregate_health(components, kernel)

    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"], summary="health of every component here")
    return app


class EgovsimApp(FastAPI):
    """FastAPI, with the fast lane (:mod:`egovsim.fastlane`) answering ahead of its stack.

    Every HTTP call runs with the faults its ``X-Egovsim-Fault`` header forces in force
    (:mod:`egovsim.call_faults`), on the fast lane and in FastAPI alike; a call naming an unknown
    fault is refused (``FAULT_UNKNOWN``) before either sees it.
    """

    fast_lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._dispatch(scope, receive, send)
            return
        try:
            faults = call_faults.from_asgi_headers(scope.get("headers") or ())
        except CodedError as exc:
            await self._refuse(exc, scope, receive, send)
            return
        with call_faults.in_force(faults):
            await self._dispatch(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The fast lane if it has the route, else FastAPI's stack."""
        if self.fast_lane is not None and await self.fast_lane.handle(scope, receive, send):
            return
        await super().__call__(scope, receive, send)

    async def _refuse(self, exc: CodedError, scope: Scope, receive: Receive, send: Send) -> None:
        """The problem answer of a call refused before any handler ran."""
        kernel: Kernel = self.state.kernel
        lang = request_lang(Request(scope, receive))
        answer = problem(kernel.refusals, exc.code, lang, exc.detail, params=exc.params, **exc.extra)
        await answer(scope, receive, send)


class FollowSharedClock:
    """In compose each process re-reads the shared simulated clock when its copy is stale."""

    def __init__(self, app: ASGIApp, clock: SimulatedClock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.clock.refresh_if_stale()
        await self.app(scope, receive, send)


async def start(app: FastAPI) -> None:
    """Migrate each component's tables, adopt the shared clock, record the boot."""
    if app.state.started:
        return
    kernel: Kernel = app.state.kernel
    components: list[Component] = app.state.components
    schemas = [KERNEL_SCHEMA] + [c.schema for c in components if c.schema is not None]
    await asyncio.to_thread(kernel.db.migrate, schemas)
    kernel.stopping.clear()
    await kernel.clock.load()
    await kernel.trace.purge_older_than(kernel.settings.trace_retention_days)
    for component in components:
        await kernel.record_boot(component.name)
    await kernel.seed_ids()
    app.state.background = [
        asyncio.create_task(c.background(kernel), name=f"{c.name}-background")
        for c in components
        if c.background is not None and kernel.settings.background_tasks
    ]
    app.state.started = True
    log.info("egovsim started: %s on %s", ", ".join(kernel.components), kernel.db.backend)


async def stop(app: FastAPI) -> None:
    if not app.state.started:
        return
    kernel: Kernel = app.state.kernel
    # the background loops see `stopping` and return after their current pass; only one that
    # does not within the grace period is cancelled
    kernel.stopping.set()
    if app.state.background:
        _, late = await asyncio.wait(app.state.background, timeout=STOP_GRACE_SECONDS)
        for task in late:
            log.warning("background task %s did not stop within %s s; cancelling it", task.get_name(),
                        STOP_GRACE_SECONDS)  # fmt: skip
            task.cancel()
        await asyncio.gather(*app.state.background, return_exceptions=True)
    await kernel.db.dispose()
    app.state.started = False


@dataclass
class RunningSimulator:
    app: FastAPI

    @property
    def kernel(self) -> Kernel:
        kernel: Kernel = self.app.state.kernel
        return kernel

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        """An HTTP client talking to the in-process simulator through its public interface."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=self.kernel.settings.effective_public_url,
            **kwargs,  # type: ignore[arg-type]
        )


@asynccontextmanager
async def running(settings: Settings, components: Sequence[str] | None = None) -> AsyncIterator[RunningSimulator]:
    app = build_app(settings, components)
    await start(app)
    try:
        yield RunningSimulator(app)
    finally:
        await stop(app)
