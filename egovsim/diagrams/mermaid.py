"""A diagram as Mermaid flowchart text (renders on GitHub and GitLab): one ``subgraph`` per lane,
node names the ASCII keys, every label quoted with Mermaid's entity codes for the characters
that would end it."""

from __future__ import annotations

from egovsim.diagrams.layout import States
from egovsim.diagrams.model import Diagram, Edge, Node
from egovsim.diagrams.svg import FILLS

_SHAPES = {
    "start": ('(("', '"))'),
    "end": ('((("', '")))'),
    "task": ('["', '"]'),
    "refusal": ('[["', '"]]'),
    "decision": ('{{"', '"}}'),
    "gateway": ('{"', '"}'),
}
TEXT_CHARS = 160


def quote(text: str) -> str:
    """Mermaid's ``#<decimal>;`` entity for each character that would end or break a label."""
    return "".join(f"#{ord(c)};" if c in '"#<>&`' else c for c in " ".join(text.split()))


def _label(node: Node) -> str:
    text = node.text if len(node.text) <= TEXT_CHARS else node.text[: TEXT_CHARS - 1].rstrip() + "…"
    parts = [node.title or "×", text, node.condition, node.detail, node.refusal_code or ""]
    return "<br/>".join(quote(p) for p in parts if p)


def _node(node: Node) -> str:
    opening, closing = _SHAPES[node.kind]
    return f"    {node.key}{opening}{_label(node)}{closing}"


def _edge(edge: Edge) -> str:
    arrow = "-.->" if edge.kind in ("failure", "default") else "-->"
    label = f'|"{quote(edge.label)}"|' if edge.label else ""
    return f"  {edge.source} {arrow}{label} {edge.target}"


def render_mermaid(diagram: Diagram, states: States | None = None) -> str:
    lines = [f"%% {diagram.title} — {diagram.subtitle}", "flowchart LR"]
    for lane in diagram.lanes:
        members = [n for n in diagram.nodes if n.lane == lane.key]
        if not members:
            continue
        lines.append(f'  subgraph lane_{lane.key}["{quote(lane.name)}"]')
        lines += [_node(n) for n in members]
        lines.append("  end")
    lines += [_edge(e) for e in diagram.edges]
    states = states or {}
    for state, fill in FILLS.items():
        keys = [n.key for n in diagram.nodes if n.step and states.get(n.step, ("",))[0] == state]
        if keys:
            lines.append(f"  classDef {state} fill:{fill},stroke:#1b2733")
            lines.append(f"  class {','.join(keys)} {state}")
    return "\n".join(lines) + "\n"
