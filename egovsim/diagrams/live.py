"""A request's diagram lit up by its trace: each step of the chain (or of the provider's route) done,
failed with its refusal code, or pending, as the trace journal has it at this moment.

The trace carries the very labels the diagrams' nodes carry (``portal:2-шарт``, ``hqo:6-процесс``,
``provider:3``): the last event of a label decides its state (``ok``/``info`` done, ``refused``/
``fault`` failed with the event's code, ``pending`` pending). Which service, chain and route the
request is on is read off the trace too: its events name the service, and their labels the chain
(``portal:``, ``hqo:``) and the route (``<route>:<n>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.models import Service
from egovsim.diagrams import render, variants
from egovsim.errors import CodedError
from egovsim.trace import TraceEvent

_STATE = {"ok": "done", "info": "done", "refused": "failed", "fault": "failed", "pending": "pending"}
# labels that close a request: the cabinet got the result or the refusal, the operator handed it over
_FINAL_OUTCOMES = ("refused",)


@dataclass(frozen=True)
class LitDiagram:
    service: Service
    kind: str
    variant: str
    states: dict[str, tuple[str, str | None]]
    closed: bool

    def render(self, fmt: str, lang: str) -> str:
        key = {"chain": self.variant} if self.kind == "interaction" else {"route": self.variant}
        return render(self.service, self.kind, fmt, lang, states=self.states, **key)  # type: ignore[arg-type]


def states_of(events: Sequence[TraceEvent]) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for e in events:
        state = _STATE.get(e.outcome)
        if state is not None:
            out[e.step] = (state, e.code if state == "failed" else None)
    return out


def lit(services: ServiceCatalog, request_id: str, events: Sequence[TraceEvent], kind: str) -> LitDiagram:
    """The diagram of ``kind`` for the request whose trace ``events`` are, with their states."""
    service_id = next((e.service_id for e in events if e.service_id), None)
    service = services.get(service_id) if service_id else None
    if service is None:
        raise CodedError(
            "TRACE_NOT_FOUND", f"no service's events in the trace of {request_id!r}", request_id=request_id
        )
    prefixes = {e.step.split(":", 1)[0] for e in events}
    allowed = variants(service, kind)  # type: ignore[arg-type]
    # the chain (interaction) or the route (business) the trace's labels belong to, else the first
    variant = next((v for v in allowed if v in prefixes), allowed[0])
    states = states_of(events)
    closed = any(e.outcome in _FINAL_OUTCOMES for e in events) or _delivered(events)
    return LitDiagram(service, kind, variant, states, closed)


def _delivered(events: Sequence[TraceEvent]) -> bool:
    """The answer has reached the citizen's cabinet, or the ХҚО operator handed it over."""
    return any(e.step in ("cabinet:result-received", "hqo:8-процесс") and e.component in ("cabinet", "hqo")
               for e in events)  # fmt: skip
