"""The portal of one process: accounts and sessions, shared by the HTTP routes."""

from __future__ import annotations

from egovsim.kernel import Kernel
from portal.accounts import Accounts, PersonDirectory
from portal.gbdfl import GatewayPersonDirectory
from portal.requests import PortalRequests
from portal.sessions import Sessions
from portal.shep import PortalSender


class Portal:
    def __init__(self, kernel: Kernel, directory: PersonDirectory | None = None) -> None:
        self.kernel = kernel
        self.sender = PortalSender(kernel)
        self.accounts = Accounts(kernel, directory or GatewayPersonDirectory(kernel, self.sender))
        self.requests = PortalRequests(kernel, self.sender)
        self.sessions = Sessions(kernel)

    @classmethod
    def of(cls, kernel: Kernel) -> Portal:
        """This process's portal (created on first use)."""
        portal = kernel.shared.get("portal")
        if not isinstance(portal, Portal):
            portal = kernel.shared["portal"] = cls(kernel)
        return portal
