"""A neutral graph of one service's diagram, built from the catalogue (never drawn by hand).

Two kinds, as the regulations' two appendices:

* **interaction** (функционалдық өзара іс-қимыл диаграммасы / диаграмма функционального
  взаимодействия / functional interaction): the numbered processes and conditions of the portal
  or ХҚО chain in swimlanes of the information systems that run them, each condition with its
  refusal branch; a service with no chain gets its office flow.
* **business** (бизнес-процестер анықтамалығы / справочник бизнес-процессов / business-process
  handbook): the provider's actors as swimlanes, a route's steps in order with their durations,
  alternative steps behind an exclusive gateway.

Every node carries ``step``, the label a request's trace carries (``portal:2-шарт``,
``provider:3``, ``office:registered``), and ``key``, an ASCII id derived from it for formats that
need one (SVG and BPMN ids, Mermaid node names). Renderers place nothing themselves: positions
come from :mod:`egovsim.diagrams.layout`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from egovsim.catalog.models import Actor, Chain, ChainStep, InternalStep, Route, Service
from egovsim.diagrams.words import ACTOR_ROLES_RU, SYSTEMS, Words, duration_text, word
from egovsim.errors import CodedError

Kind = Literal["interaction", "business"]
KINDS: tuple[Kind, ...] = ("interaction", "business")
LANGS = ("kk", "ru", "en")
NodeKind = Literal["start", "end", "task", "decision", "refusal", "gateway"]
EdgeKind = Literal["flow", "failure", "default"]


@dataclass(frozen=True)
class Lane:
    key: str  # ASCII
    name: str


@dataclass(frozen=True)
class Node:
    """One shape. ``title`` is the label as printed (``2-шарт``, ``3a``), ``text`` what happens."""

    key: str
    step: str
    kind: NodeKind
    lane: str
    column: int
    title: str
    text: str = ""
    detail: str = ""  # a duration, the systems involved
    condition: str = ""  # when a variant step applies (English in the catalogue)
    refusal_code: str | None = None
    touches: tuple[str, ...] = ()  # the other systems the step involves, by name
    rank: int = 0  # 0 on the main path, 1 on a refusal branch (stacked below)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind = "flow"
    label: str = ""

    @property
    def key(self) -> str:
        return f"f_{self.source}_{self.target}"


@dataclass(frozen=True)
class Diagram:
    service_id: str
    kind: Kind
    variant: str  # chain (portal, hqo, office) or route id
    lang: str
    title: str
    subtitle: str
    lanes: tuple[Lane, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, key: str) -> Node:
        return next(n for n in self.nodes if n.key == key)


def ascii_key(prefix: str, label: str) -> str:
    """``portal`` + ``2-шарт`` → ``portal_c2``; ``3-процесс`` → ``p3``; ``2-alt`` → ``s2_alt``."""
    match = re.fullmatch(r"(\d+)-(процесс|шарт)", label)
    if match:
        tail = ("p" if match.group(2) == "процесс" else "c") + match.group(1)
    elif re.fullmatch(r"\d+[a-z]?(-alt)?", label):
        tail = "s" + label.replace("-", "_")
    else:
        tail = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_") or "x"
    return f"{prefix}_{tail}"


@dataclass
class _Builder:
    """Collects lanes, nodes and edges in order; ``column`` advances as nodes are added."""

    lang: str
    lanes: dict[str, Lane] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def lane(self, key: str, name: str) -> str:
        self.lanes.setdefault(key, Lane(key, name))
        return key

    def add(self, node: Node) -> Node:
        self.nodes.append(node)
        return node

    def link(self, source: Node, target: Node, kind: EdgeKind = "flow", label: str = "") -> None:
        self.edges.append(Edge(source.key, target.key, kind, label))

    def event(self, kind: NodeKind, key: str, lane: str, column: int, words: Words, rank: int = 0) -> Node:
        return self.add(Node(key, "", kind, lane, column, words(self.lang), rank=rank))


# -- interaction: a chain ------------------------------------------------------------------------
def _system_lane(b: _Builder, system: str) -> str:
    names = SYSTEMS.get(system)
    key = names.key if names else "sys_" + hashlib.sha256(system.encode()).hexdigest()[:8]
    return b.lane(key, names.words(b.lang) if names else system)


def _chain_lanes(b: _Builder, chain_id: str, chain: Chain) -> str:
    actor = word("operator" if chain_id == "hqo" else "applicant")
    actor_lane = b.lane("actor", actor(b.lang))
    for step in chain.steps:
        for system in step.systems:
            _system_lane(b, system)
    return actor_lane


def _chain_node(b: _Builder, chain_id: str, step: ChainStep, column: int, refusal: bool) -> Node:
    lanes = [_system_lane(b, s) for s in step.systems]
    names = {b.lanes[lane].name: None for lane in lanes[1:] if lane != lanes[0]}
    kind: NodeKind = "refusal" if refusal else ("decision" if step.kind == "condition" else "task")
    detail = duration_text(b.lang, step.duration) if step.duration else ""
    return Node(
        key=ascii_key(chain_id, step.label),
        step=f"{chain_id}:{step.label}",
        kind=kind,
        lane=lanes[0],
        column=column,
        title=step.printed or step.label,
        text=step.text.get(b.lang),
        detail=detail,
        refusal_code=step.refusal_code,
        touches=tuple(names),
        rank=1 if refusal else 0,
    )


def chain_diagram(service: Service, chain_id: str, chain: Chain, lang: str) -> _Builder:
    """The chain's steps in order; a condition's refusal step one column right of it, below the
    next main step when they share a lane, and ending the request."""
    b = _Builder(lang)
    actor_lane = _chain_lanes(b, chain_id, chain)
    failures = {s.on_failure for s in chain.steps if s.on_failure}
    start = b.event("start", f"{chain_id}_start", actor_lane, 0, word("start"))
    previous, column = start, 0
    pending_failure: tuple[Node, str] | None = None
    for step in chain.steps:
        if step.label in failures:
            assert pending_failure is not None
            condition, _ = pending_failure
            refusal = b.add(_chain_node(b, chain_id, step, condition.column + 1, refusal=True))
            b.link(condition, refusal, "failure", word("no")(lang))
            end = b.event("end", f"{chain_id}_end_{refusal.key.split('_', 1)[1]}", refusal.lane, refusal.column + 1,
                          word("refused"), rank=1)  # fmt: skip
            b.link(refusal, end)
            continue
        column += 1
        node = b.add(_chain_node(b, chain_id, step, column, refusal=False))
        b.link(previous, node, label=word("yes")(lang) if previous.kind == "decision" else "")
        previous = node
        pending_failure = (node, step.on_failure) if step.on_failure else None
    end = b.event("end", f"{chain_id}_end", actor_lane, column + 1, word("end"))
    b.link(previous, end)
    return b


# -- interaction: the office flow of a service with no chain -----------------------------------------
def office_diagram(service: Service, lang: str) -> _Builder:
    """Hand-in at the provider's office, registration, the first route's steps, the result issued.

    Labels follow the trace of a request handed in at the office (gateway/workflow.py):
    ``office:registered`` … ``office:result``, ``office:issued``."""
    b = _Builder(lang)
    applicant = b.lane("actor", word("applicant")(lang))
    office = b.lane("office", service.provider.get(lang))
    start = b.event("start", "office_start", applicant, 0, word("start"))
    registered = b.add(Node("office_registered", "office:registered", "task", office, 1,
                            word("registered")(lang), word("registered_text")(lang)))  # fmt: skip
    b.link(start, registered)
    route = service.routes[0]
    last, column = _route_steps(b, route, registered, 2, lambda _actor: office)
    result = b.add(Node("office_result", "office:result", "task", office, column, word("result")(lang),
                        service.result.get(lang)))  # fmt: skip
    b.link(last, result)
    issued = b.add(Node("office_issued", "office:issued", "task", applicant, column + 1, word("issued")(lang)))
    b.link(result, issued)
    b.link(issued, b.event("end", "office_end", applicant, column + 2, word("end")))
    return b


# -- business: a route ---------------------------------------------------------------------------
def _actor_name(actor: Actor, lang: str) -> str:
    # the catalogue names actors in kk and en; ru comes from the role (ACTOR_ROLES_RU)
    return {"kk": actor.kk, "en": actor.en}.get(lang) or ACTOR_ROLES_RU[actor.role]


def _step_node(b: _Builder, route: Route, step: InternalStep, lane: str, column: int) -> Node:
    return Node(
        key=ascii_key(route.id, step.n),
        step=f"{route.id}:{step.n}",
        kind="task",
        lane=lane,
        column=column,
        title=step.n,
        text=step.action.get(b.lang),
        detail=duration_text(b.lang, step.duration),
        condition=step.condition or "",
    )


def variant_groups(steps: Iterable[InternalStep]) -> Iterator[list[InternalStep]]:
    """Consecutive steps of one number (3a, 3b; 2 and 2-alt; a step and its ``variant_of``)."""

    def base(step: InternalStep) -> str:
        return re.match(r"\d+", step.variant_of or step.n).group(0)  # type: ignore[union-attr]

    group: list[InternalStep] = []
    for step in steps:
        if group and base(group[-1]) != base(step):
            yield group
            group = []
        group.append(step)
    if group:
        yield group


def _route_steps(b: _Builder, route: Route, previous: Node, column: int, lane_of) -> tuple[Node, int]:  # type: ignore[no-untyped-def]
    """Add a route's steps after ``previous``: a plain step in its own column, a group of
    alternatives (or one conditional step) between a split and a join exclusive gateway."""
    for group in variant_groups(route.steps):
        if len(group) == 1 and not group[0].condition:
            node = b.add(_step_node(b, route, group[0], lane_of(group[0].actor), column))
            b.link(previous, node)
            previous, column = node, column + 1
            continue
        first = re.match(r"\d+", group[0].variant_of or group[0].n).group(0)  # type: ignore[union-attr]
        lane = lane_of(group[0].actor)
        split = b.add(Node(f"{route.id}_g{first}", "", "gateway", lane, column, ""))
        b.link(previous, split)
        join = Node(f"{route.id}_j{first}", "", "gateway", lane, column + 2, "")
        for step in group:
            node = b.add(_step_node(b, route, step, lane_of(step.actor), column + 1))
            b.link(split, node)
            b.link(node, join)
        b.add(join)
        if len(group) == 1:  # one conditional step: the other way goes round it
            b.link(split, join, "default", word("otherwise")(b.lang))
        previous, column = join, column + 3
    return previous, column


def route_diagram(service: Service, route: Route, lang: str) -> _Builder:
    b = _Builder(lang)

    def lane_of(actor: Actor) -> str:
        return b.lane(actor.role, _actor_name(actor, lang))

    first_lane = lane_of(route.steps[0].actor)
    start = b.event("start", f"{route.id}_start", first_lane, 0, word("start"))
    last, column = _route_steps(b, route, start, 1, lane_of)
    b.link(last, b.event("end", f"{route.id}_end", last.lane, column, word("end")))
    return b


# -- choosing --------------------------------------------------------------------------------------
def chains_of(service: Service) -> list[tuple[str, Chain]]:
    return [(name, c) for name, c in (("portal", service.portal_chain), ("hqo", service.hqo_chain)) if c]


def variants(service: Service, kind: Kind) -> list[str]:
    """What ``chain=`` (interaction) or ``route=`` (business) may be, the default first."""
    if kind == "interaction":
        return [name for name, _ in chains_of(service)] or ["office"]
    return [r.id for r in service.routes]


def build(service: Service, kind: str, lang: str, *, chain: str | None = None, route: str | None = None) -> Diagram:
    """The diagram of ``kind`` for one chain or route (the first where none is asked)."""
    if kind not in KINDS:
        raise CodedError("DIAGRAM_KIND_UNKNOWN", f"kind is interaction or business, not {kind!r}", kind=kind)
    if lang not in LANGS:
        raise CodedError("DIAGRAM_LANG_UNKNOWN", f"lang is kk, ru or en, not {lang!r}", lang=lang)
    asked = chain if kind == "interaction" else route
    allowed = variants(service, kind)  # type: ignore[arg-type]
    variant = asked or allowed[0]
    if variant not in allowed:
        code = "DIAGRAM_CHAIN_UNKNOWN" if kind == "interaction" else "DIAGRAM_ROUTE_UNKNOWN"
        raise CodedError(code, f"{service.id} has {', '.join(allowed)}, not {variant!r}", variant=variant,
                         service_id=service.id, allowed=", ".join(allowed))  # fmt: skip
    if kind == "business":
        built, name = route_diagram(service, service.route(variant), lang), service.route(variant).name.get(lang)
    elif variant == "office":
        built, name = office_diagram(service, lang), word("office_flow")(lang)
    else:
        built, name = chain_diagram(service, variant, dict(chains_of(service))[variant], lang), word(variant)(lang)
    heading = word(kind)(lang)
    return Diagram(
        service_id=service.id,
        kind=kind,  # type: ignore[arg-type]
        variant=variant,
        lang=lang,
        title=f"{service.number}. {service.titles.get(lang)}",
        subtitle=f"{heading}: {name}",
        lanes=tuple(built.lanes.values()),
        nodes=tuple(built.nodes),
        edges=tuple(built.edges),
    )
