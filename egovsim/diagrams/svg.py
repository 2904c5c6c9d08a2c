"""A laid-out diagram as plain SVG: no script, no web font, no external reference.

Each step is a ``<g>`` whose ``id`` is the node's ASCII key and whose ``data-step`` is the trace
label (``portal:2-шарт``), with a ``<title>`` holding its whole text (the box may shorten it).
A state (done, failed, pending) is a fill colour *and* a written line in the box, and the legend
says which colour is which, so colour is never the only sign.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from egovsim.diagrams.layout import HEADER_W, Layout, PlacedEdge, PlacedLane, PlacedNode, Text
from egovsim.diagrams.words import word

FONT_STACK = "'DejaVu Sans', 'Noto Sans', 'Liberation Sans', Arial, sans-serif"
FILLS = {"done": "#d7f0dc", "failed": "#f9d6d3", "pending": "#fff3c4"}
STYLE = f"""
text {{ font-family: {FONT_STACK}; fill: #1b2733; }}
.title {{ font-weight: 700; }}
.lane rect {{ fill: #f7f9fb; stroke: #8a97a3; }}
.lane:nth-of-type(even) rect {{ fill: #eef2f6; }}
.lane line {{ stroke: #8a97a3; }}
.node > rect, .node > polygon, .node > circle {{ fill: #ffffff; stroke: #1b2733; stroke-width: 1.2; }}
.node.refusal > rect {{ stroke: #b3261e; stroke-width: 2.4; stroke-dasharray: 6 3; }}
.node.end > circle {{ stroke-width: 3.5; }}
.node.done > rect, .node.done > polygon, .node.done > circle {{ fill: {FILLS["done"]}; }}
.node.failed > rect, .node.failed > polygon, .node.failed > circle {{ fill: {FILLS["failed"]}; stroke: #b3261e; }}
.node.pending > rect, .node.pending > polygon, .node.pending > circle {{ fill: {FILLS["pending"]}; }}
.edge path {{ fill: none; stroke: #3c4a57; stroke-width: 1.3; }}
.edge.failure path {{ stroke: #b3261e; stroke-dasharray: 5 3; }}
.edge.default path {{ stroke-dasharray: 2 3; }}
.code, .state, .duration {{ font-weight: 700; }}
.condition {{ font-style: italic; }}
"""


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(t: Text) -> str:
    attrs = f'x="{_f(t.x)}" y="{_f(t.y)}" font-size="{_f(t.size)}"'
    if t.bold:
        attrs += ' font-weight="700"'
    if t.middle:
        attrs += ' text-anchor="middle"'
    if t.cls:
        attrs += f' class="{t.cls}"'
    if t.lang:
        attrs += f' xml:lang="{t.lang}"'
    return f"<text {attrs}>{escape(t.text)}</text>"


def _lane(lane: PlacedLane) -> str:
    b = lane.box
    divider = b.x + HEADER_W
    return (
        f'<g class="lane" id="lane-{lane.key}"><rect x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" '
        f'height="{_f(b.h)}"/><line x1="{_f(divider)}" y1="{_f(b.y)}" x2="{_f(divider)}" y2="{_f(b.y + b.h)}"/>'
        + "".join(_text(t) for t in lane.lines)
        + "</g>"
    )


def _shape(p: PlacedNode) -> str:
    b, kind = p.shape, p.node.kind
    if kind in ("start", "end"):
        return f'<circle cx="{_f(b.x + b.w / 2)}" cy="{_f(p.cy)}" r="{_f(b.w / 2)}"/>'
    if kind == "gateway":
        cx, cy, r = b.x + b.w / 2, p.cy, b.w / 2
        marker = f'<text x="{_f(cx)}" y="{_f(cy + 6)}" font-size="18" text-anchor="middle" aria-hidden="true">×</text>'
        points = " ".join(f"{_f(x)},{_f(y)}" for x, y in ((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)))
        return f'<polygon points="{points}"/>' + marker
    if kind == "decision":
        i, x2, y2 = 16, b.x + b.w, b.y + b.h
        pts = [(b.x, p.cy), (b.x + i, b.y), (x2 - i, b.y), (x2, p.cy), (x2 - i, y2), (b.x + i, y2)]
        return '<polygon points="' + " ".join(f"{_f(x)},{_f(y)}" for x, y in pts) + '"/>'
    return f'<rect x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" rx="6"/>'


def _node(p: PlacedNode, lang: str) -> str:
    n = p.node
    classes = " ".join(c for c in ("node", n.kind, p.state) if c)
    step = f" data-step={quoteattr(n.step)}" if n.step else ""
    state = f" data-state={quoteattr(p.state)}" if p.state else ""
    code = f" data-code={quoteattr(p.code)}" if p.code else ""
    whole = " · ".join(x for x in (n.title, n.text, n.detail, n.condition, n.refusal_code or "") if x)
    if p.state:
        whole += f" · {word(p.state)(lang) if p.state in ('done', 'failed', 'pending') else p.state}"
        whole += f" ({p.code})" if p.code else ""
    return (
        f'<g class="{classes}" id="{n.key}"{step}{state}{code}><title>{escape(whole)}</title>'
        + _shape(p)
        + "".join(_text(t) for t in p.lines)
        + "</g>"
    )


def _edge(e: PlacedEdge) -> str:
    d = "M " + " L ".join(f"{_f(x)} {_f(y)}" for x, y in e.points)
    label = _text(e.label) if e.label else ""
    return (
        f'<g class="edge {e.edge.kind}" id="{e.edge.key}" data-source="{e.edge.source}" data-target="{e.edge.target}">'
        f'<path d="{d}" marker-end="url(#arrow)"/>{label}</g>'
    )


def _legend(lay: Layout) -> str:
    items = []
    for s in lay.legend:
        b = s.box
        items.append(
            f'<g class="swatch {s.state}"><rect x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" '
            f'fill="{FILLS[s.state]}" stroke="#1b2733"/>{_text(s.label)}</g>'
        )
    return f'<g class="legend" aria-label="{escape(word("legend")(lay.diagram.lang))}">' + "".join(items) + "</g>"


def render_svg(lay: Layout) -> str:
    d = lay.diagram
    desc = f"{d.subtitle}. " + "; ".join(" ".join(x for x in (n.title, n.text) if x) for n in d.nodes if n.step)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(lay.width)}" height="{_f(lay.height)}" '
        f'viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" role="img" aria-labelledby="diagram-title diagram-desc" '
        f'xml:lang="{d.lang}" data-service="{d.service_id}" data-kind="{d.kind}" data-variant="{d.variant}">\n'
        f'<title id="diagram-title">{escape(d.title)} — {escape(d.subtitle)}</title>\n'
        f'<desc id="diagram-desc">{escape(desc)}</desc>\n'
        f"<style>{STYLE}</style>\n"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#3c4a57"/></marker></defs>\n'
        + "".join(_text(t) for t in lay.heading)
        + '\n<g class="lanes">'
        + "".join(_lane(lane) for lane in lay.lanes)
        + '</g>\n<g class="edges">'
        + "".join(_edge(e) for e in lay.edges)
        + '</g>\n<g class="nodes">'
        + "".join(_node(p, d.lang) for p in lay.nodes)
        + "</g>\n"
        + _legend(lay)
        + "\n</svg>\n"
    )
