"""HTTP routes of gateway/. Its health routes (``<mount>/healthz``) come from the kernel."""

from __future__ import annotations

from fastapi import APIRouter

from egovsim.kernel import Kernel


def routers(kernel: Kernel) -> list[APIRouter]:
    return [APIRouter(prefix="/shep", tags=["gateway"]), APIRouter(prefix="/rshep", tags=["gateway"])]
