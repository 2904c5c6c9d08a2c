"""The gateway of one process: its registries, journal, keys and channels, shared by its HTTP
routes and its background work."""

from __future__ import annotations

from dataclasses import dataclass

from egovsim.kernel import Kernel
from gateway.async_channel import AsyncChannel
from gateway.channel import SyncChannel
from gateway.journal import Journal
from gateway.keys import GatewayKeys
from gateway.registry import Registry

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

    @classmethod
    def of(cls, kernel: Kernel) -> Gateway:
        """This process's gateway (created on first use)."""
        gateway = kernel.shared.get("gateway")
        if gateway is None:
            registry, journal, keys = Registry(kernel), Journal(kernel), GatewayKeys(kernel)
            parts = (kernel, registry, journal, keys)
            gateway = cls(*parts, SyncChannel(*parts), AsyncChannel(*parts))
            kernel.shared["gateway"] = gateway
        assert isinstance(gateway, Gateway)
        return gateway

    async def run(self) -> None:
        """The gateway's background work: async deliveries (and the workstation's autopilot)."""
        try:
            await self.async_.run()
        finally:
            await self.sync.aclose()
            await self.async_.aclose()


async def background(kernel: Kernel) -> None:
    await Gateway.of(kernel).run()
