"""Per-call faults: a named scenario fault forced on one HTTP call with a request header.

The fault switches of the registries (:mod:`mock_registries.faults`) and the НУЦ's knobs
(``POST /nca/api/faults``) are global: every caller meets them until they are cleared. An
integrator's test that runs beside others needs a fault for *its* call only, so a call may name
faults in the ``X-Egovsim-Fault`` header (comma-separated, case-sensitive, whitespace around
names ignored)::

    POST /portal/api/accounts
    X-Egovsim-Fault: gbdfl.unavailable

They are in force for that call and for the calls it makes inside the simulator: the HTTP clients
components use to call each other (:meth:`egovsim.kernel.Kernel.client_for`) carry the header
on, and an in-process call simply runs in the same context. Nothing is stored and nothing global
changes; a call without the header, at the same moment, meets the simulator as it is. A name not in
:data:`CATALOGUE` refuses the whole call (``FAULT_UNKNOWN``, 400) before anything is done.

Each fault is ``<prefix>.<kind>``: the prefix names what misbehaves (a registry, the OCSP
responder, the CRL distribution point, the gateway) and its consumer asks :func:`chosen` for the
kind. Where a call names several kinds of one prefix, the first in catalogue order wins. A per-call
fault wins over the global switch of the same thing, and does not count a switch's ``remaining``
down.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import httpx

from egovsim.errors import CodedError

HEADER = "X-Egovsim-Fault"
_MAX_ECHOED = 10  # unknown names repeated in the refusal, at most (each cut to 64 characters)


@dataclass(frozen=True, slots=True)
class CallFault:
    """One fault a call can force: ``name`` is ``<prefix>.<kind>``; ``component`` consumes it."""

    name: str
    component: str
    description: str

    @property
    def prefix(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def kind(self) -> str:
        return self.name.split(".", 1)[1]

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "component": self.component, "description": self.description}


def _registry(registry: str, title: str) -> tuple[CallFault, ...]:
    """The faults of one registry: the switches of :mod:`mock_registries.faults` that need no delay."""
    return (
        CallFault(f"{registry}.unavailable", "registries",
                  f"{title} answers the gateway with a SOAP fault (SCE909); the caller gets SCE909 with the "
                  "registry's fault as subError"),
        CallFault(f"{registry}.not_found", "registries",
                  f"{title} answers 'not found' (messageResult 00001) whatever was asked"),
        CallFault(f"{registry}.malformed", "registries",
                  f"{title} answers HTTP 200 with half an envelope, not a SendMessageResponse; the caller gets "
                  "SCE909"),
    )  # fmt: skip


CATALOGUE: tuple[CallFault, ...] = (
    *_registry("gbdfl", "ГБД ФЛ"),
    *_registry("enis", "ЕНИС"),
    CallFault("ocsp.unavailable", "signing", "the НУЦ's OCSP responder answers HTTP 503, no OCSP response at all"),
    CallFault("ocsp.try_later", "signing", "the OCSP responder answers OCSPResponseStatus tryLater"),
    CallFault("ocsp.internal_error", "signing", "the OCSP responder answers OCSPResponseStatus internalError"),
    CallFault("ocsp.untrusted_responder", "signing", "the OCSP answer is signed by a responder of a foreign CA"),
    CallFault("ocsp.unknown", "signing", "the OCSP responder answers certStatus unknown, as if it lost the cert"),
    CallFault("crl.unavailable", "signing", "the НУЦ's CRL distribution point answers 503 (NCA_UNAVAILABLE)"),
    CallFault("crl.stale", "signing", "the full and delta CRLs served have a nextUpdate in the past"),
    CallFault("gateway.unavailable", "gateway",
              "ШЭП answers SendMessage (sync) and sendMessage (async) with the SOAP fault SCE909 before it "
              "authenticates or routes the message; nothing is delivered, the journal keeps the fault"),
)  # fmt: skip
BY_NAME: dict[str, CallFault] = {f.name: f for f in CATALOGUE}

_in_force: ContextVar[frozenset[str]] = ContextVar("egovsim_call_faults", default=frozenset())


def parse(values: Iterable[str]) -> frozenset[str]:
    """The faults named by the header's values (one per occurrence of the header).

    Raises :class:`~egovsim.errors.CodedError` ``FAULT_UNKNOWN`` naming the unknown ones and
    listing the known ones (``knownFaults`` in the problem)."""
    names = {name.strip() for value in values for name in value.split(",")} - {""}
    unknown = sorted(names - BY_NAME.keys())
    if unknown:
        echoed = ", ".join(repr(n[:64]) for n in unknown[:_MAX_ECHOED])
        error = CodedError(
            "FAULT_UNKNOWN",
            f"{HEADER} names unknown faults: {echoed}; known: {', '.join(BY_NAME)}",
            names=echoed,
        )
        error.extra["knownFaults"] = list(BY_NAME)
        raise error
    return frozenset(names)


def from_asgi_headers(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[str]:
    """:func:`parse` on the header in an ASGI scope's raw headers (lower-cased names)."""
    key = HEADER.lower().encode("latin-1")
    return parse(value.decode("latin-1") for name, value in headers if name == key)


@contextmanager
def in_force(faults: frozenset[str]) -> Iterator[None]:
    """``faults`` are the current call's for the duration of the block, then no longer."""
    token = _in_force.set(faults)
    try:
        yield
    finally:
        _in_force.reset(token)


def current() -> frozenset[str]:
    """The faults the current call forces (empty outside a call or without the header)."""
    return _in_force.get()


def active(name: str) -> bool:
    """Whether the current call forces the fault ``name``."""
    return name in _in_force.get()


def chosen(prefix: str) -> str | None:
    """The kind of the fault the current call forces on ``prefix`` (``"unavailable"`` for
    ``gbdfl.unavailable``), the first in catalogue order if it names several; None if none."""
    faults = _in_force.get()
    if not faults:
        return None
    return next((f.kind for f in CATALOGUE if f.prefix == prefix and f.name in faults), None)


def consumed_by(component: str) -> frozenset[str]:
    """The current call's faults that ``component`` acts on."""
    return frozenset(name for name in _in_force.get() if BY_NAME[name].component == component)


async def carry_on(request: httpx.Request) -> None:
    """httpx request hook: a call made while a call's faults are in force carries them on (a
    header the caller set itself is kept)."""
    faults = _in_force.get()
    if faults and HEADER not in request.headers:
        request.headers[HEADER] = ", ".join(sorted(faults))


def catalogue() -> dict[str, object]:
    """``GET /api/catalog/faults``: the header and every fault a call can force."""
    return {"header": HEADER, "count": len(CATALOGUE), "faults": [f.describe() for f in CATALOGUE]}


__all__ = [
    "BY_NAME",
    "CATALOGUE",
    "HEADER",
    "CallFault",
    "active",
    "carry_on",
    "catalogue",
    "chosen",
    "consumed_by",
    "current",
    "from_asgi_headers",
    "in_force",
    "parse",
]
