"""The components of egovsim and where each is mounted (README's URL map).

A component is a package beside the kernel (``signing/``, ``gateway/``…). It exposes a
:class:`Component`: its name, its path prefixes, a router factory and its tables. The
composition root (:mod:`egovsim.app`) is the only place that imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter

from egovsim.kernel import Kernel
from egovsim.storage import Schema


@dataclass(frozen=True)
class Component:
    name: str
    title: str
    mounts: tuple[str, ...]
    routers: Callable[[Kernel], list[APIRouter]]
    schema: Schema | None = None
    # long-running work of the component (delivery retries, the workstation's autopilot):
    # started after the migrations, cancelled on shutdown; it must survive its own errors
    background: Callable[[Kernel], Awaitable[None]] | None = None


# name -> module that defines COMPONENT; order is start-up and listing order
REGISTRY: dict[str, str] = {
    "kernel": "egovsim.catalog.component",
    "signing": "signing",
    "registries": "mock_registries",
    "gateway": "gateway",
    "portal": "portal",
    "cabinet": "cabinet",
}


def load_component(name: str) -> Component:
    if name not in REGISTRY:
        raise KeyError(f"unknown component {name!r}: choose one of {', '.join(REGISTRY)}")
    component: Component = importlib.import_module(REGISTRY[name]).COMPONENT
    return component


def all_components() -> list[Component]:
    return [load_component(n) for n in REGISTRY]


def health_router(component: Component, kernel: Kernel) -> APIRouter:
    """``<mount>/healthz`` for each of the component's mounts."""
    from egovsim.health import component_health  # local: health imports this module's types

    router = APIRouter(tags=["health"])

    async def healthz():  # type: ignore[no-untyped-def]
        return await component_health(component, kernel)

    for mount in component.mounts:
        router.add_api_route(f"{mount}/healthz", healthz, methods=["GET"], summary=f"health of {component.name}")
    return router
