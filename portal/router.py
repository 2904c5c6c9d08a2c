"""HTTP routes of portal/. Its health routes (``<mount>/healthz``) come from the kernel."""

from __future__ import annotations

from fastapi import APIRouter

from egovsim.kernel import Kernel


def routers(kernel: Kernel) -> list[APIRouter]:
    return [APIRouter(prefix="/portal", tags=["portal"]), APIRouter(prefix="/hqo", tags=["portal"])]
