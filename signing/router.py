"""HTTP routes of signing/. Its health routes (``<mount>/healthz``) come from the kernel."""

from __future__ import annotations

from fastapi import APIRouter

from egovsim.kernel import Kernel


def routers(kernel: Kernel) -> list[APIRouter]:
    return [APIRouter(prefix="/nca", tags=["signing"])]
