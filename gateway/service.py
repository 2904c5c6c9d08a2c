"""The gateway of one process: its registries, journal, keys and channels, shared by its HTTP
routes and its background work."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from egovsim.kernel import Kernel
from gateway.async_channel import AsyncChannel
from gateway.channel import SyncChannel
from gateway.journal import Journal
from gateway.keys import GatewayKeys
from gateway.registry import Registry
from gateway.workstation import RegionalWorkstation

log = logging.getLogger("egovsim.gateway")

SYNC_PATH = "/shep/bip-sync-wss-gost/"
ASYNC_PATH = "/shep/bip-async/"


@dataclass
class Gateway:
    kernel: Kernel
    registry: Registry
    journal: Journal
    keys: GatewayKeys
    sync: SyncChannel
    async_: AsyncChannel
    workstation: RegionalWorkstation

    @classmethod
    def of(cls, kernel: Kernel) -> Gateway:
        """This process's gateway (created on first use)."""
        gateway = kernel.shared.get("gateway")
        if gateway is None:
            registry, journal, keys = Registry(kernel), Journal(kernel), GatewayKeys(kernel)
            parts = (kernel, registry, journal, keys)
            async_channel = AsyncChannel(*parts)
            workstation = RegionalWorkstation(kernel, registry, keys, async_channel)
            gateway = cls(*parts, SyncChannel(*parts), async_channel, workstation)
            kernel.shared["gateway"] = gateway
        assert isinstance(gateway, Gateway)
        return gateway

    async def run(self) -> None:
        """The gateway's background work: the catalogue's routes to the workstation, async
        deliveries and the workstation's autopilot."""
        try:
            await self.registry.ensure_routes(self.workstation.routes())
            await asyncio.gather(self.async_.run(), self.workstation.run(), self._purge_journal())
        finally:
            await self.workstation.finish_pending()
            await self.sync.aclose()
            await self.async_.aclose()

    async def _purge_journal(self) -> None:
        """Drop journal entries older than EGOVSIM_JOURNAL_RETENTION_DAYS, at start and hourly."""
        while not self.kernel.stopping.is_set():
            try:
                await self.journal.purge()
            except Exception:
                log.exception("journal purge failed; retrying in an hour")
            await self.kernel.idle(3600)


async def background(kernel: Kernel) -> None:
    await Gateway.of(kernel).run()
