"""Deterministic positions for a :class:`~egovsim.diagrams.model.Diagram`: swimlanes as rows,
the model's columns left to right, every piece of text as a measured line with its box.

No font is loaded: widths come from a per-character table sized for DejaVu Sans (Debian's
default sans-serif, among the widest), rounded up, so a line measured here is never narrower
than the browser draws it. Lines are wrapped to their shape; each text line is one element,
which is what the overlap checks compare (:func:`overlaps`).

Routing: an edge between neighbouring columns leaves its source on the right, turns in the gap
between the columns and enters its target on the left, so it crosses no shape; the one kind of
edge that skips a column (round a conditional step) runs under the lane's shapes.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from egovsim.diagrams.model import Diagram, Edge, Node
from egovsim.diagrams.words import word

FONT = 12
TITLE_FONT = 13
HEADING_FONT = 15
LINE = 17  # baseline to baseline: above a 13 px line's height in any sans-serif
TASK_W = 210
EVENT_D = 36
GATEWAY_D = 42
PAD = 8  # inside a shape
DECISION_INSET = 16  # the pointed ends of a condition's hexagon
COL_GAP = 64
SLOT_GAP = 28
LANE_TOP = 22
LANE_BOTTOM = 40
HEADER_W = 170
MARGIN = 16
MAX_TEXT_LINES = 8
States = Mapping[str, tuple[str, str | None]]

_NARROW = set(" .,:;'!|()[]ilIjtfr-/«»\"’")
_WIDE_LATIN = set("mwMW@%")
_WIDE_CYRILLIC = set("жшщыюмфдЖШЩЫЮМФДҚқҢңӨөҮүҰұҺһ")


def char_width(ch: str, size: float) -> float:
    if ch in _NARROW:
        return 0.4 * size
    if ch.isdigit():
        return 0.65 * size
    if ch in _WIDE_LATIN or ch in _WIDE_CYRILLIC:
        return 1.0 * size
    if ch.isascii():
        return (0.78 if ch.isupper() else 0.6) * size
    if unicodedata.category(ch).startswith("L"):
        return (0.8 if ch.isupper() else 0.65) * size
    return 1.0 * size


def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(char_width(c, size) for c in text) * (1.12 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int = 99) -> list[str]:
    """Greedy word wrap to ``width``; a word wider than a line is cut; the last line kept ends
    with an ellipsis when the text is longer than ``max_lines``."""
    lines: list[str] = []
    current = ""
    for word_ in text.split():
        candidate = f"{current} {word_}".strip()
        if text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word_
        while text_width(current, size, bold) > width:
            lines.append(current[: (cut := _cut(current, width, size, bold))])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + " …", size, bold) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + " …"]
    return lines


def _cut(word_: str, width: float, size: float, bold: bool) -> int:
    """Where to break a word wider than a line: after its last fitting ``_`` or ``-`` (a code
    such as HQO_DOCS_DEFECTIVE), else after its last fitting character."""
    fit = max(1, next((i for i in range(len(word_), 0, -1) if text_width(word_[:i], size, bold) <= width), 1))
    joint = max(word_.rfind("_", 0, fit), word_.rfind("-", 0, fit))
    return joint + 1 if joint > 0 else fit


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass(frozen=True)
class Text:
    """One line of text: ``x`` its start (or centre when ``middle``), ``y`` its baseline."""

    x: float
    y: float
    text: str
    size: float = FONT
    bold: bool = False
    middle: bool = False
    cls: str = ""
    lang: str | None = None  # set where the line is in another language than the diagram

    @property
    def box(self) -> Box:
        w = text_width(self.text, self.size, self.bold)
        left = self.x - w / 2 if self.middle else self.x
        return Box(left, self.y - 0.95 * self.size, w, 1.25 * self.size)


@dataclass(frozen=True)
class PlacedNode:
    node: Node
    shape: Box
    cy: float  # where edges attach
    lines: tuple[Text, ...]
    state: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class PlacedEdge:
    edge: Edge
    points: tuple[tuple[float, float], ...]
    label: Text | None


@dataclass(frozen=True)
class PlacedLane:
    key: str
    box: Box
    lines: tuple[Text, ...]


@dataclass(frozen=True)
class Swatch:
    state: str
    box: Box
    label: Text


@dataclass(frozen=True)
class Layout:
    diagram: Diagram
    width: float
    height: float
    heading: tuple[Text, ...]
    lanes: tuple[PlacedLane, ...]
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    legend: tuple[Swatch, ...]

    def texts(self) -> list[Text]:
        """Every line of text drawn, for the overlap checks."""
        out = [*self.heading]
        for lane in self.lanes:
            out += lane.lines
        for node in self.nodes:
            out += node.lines
        out += [e.label for e in self.edges if e.label]
        out += [s.label for s in self.legend]
        return out


def overlaps(texts: Iterable[Text]) -> list[tuple[Text, Text]]:
    items = sorted(texts, key=lambda t: t.box.x)
    found = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if b.box.x >= a.box.x + a.box.w:
                break
            if a.box.overlaps(b.box):
                found.append((a, b))
    return found


# -- the content of a shape ------------------------------------------------------------------------
def _shape_size(node: Node) -> tuple[float, float]:
    if node.kind in ("start", "end"):
        return EVENT_D, EVENT_D
    if node.kind == "gateway":
        return GATEWAY_D, GATEWAY_D
    return TASK_W, 0.0  # height from the content


def _content(node: Node, lang: str, state: tuple[str, str | None] | None, inner: float) -> list[Text]:
    """The lines inside a task, condition or refusal, at x=0 and baselines from 0."""
    rows: list[tuple[str, float, bool, str, str | None]] = [(node.title, TITLE_FONT, True, "label", None)]
    rows += [(t, FONT, False, "text", None) for t in wrap(node.text, inner, FONT, max_lines=MAX_TEXT_LINES)]
    if node.condition:
        cond = f"{word('condition')(lang)}: {node.condition}"
        rows += [(t, FONT, False, "condition", "en") for t in wrap(cond, inner, FONT, max_lines=4)]
    if node.detail:
        rows += [(t, FONT, True, "duration", None) for t in wrap(node.detail, inner, FONT, bold=True)]
    if node.touches:
        also = f"{word('also')(lang)}: {', '.join(node.touches)}"
        rows += [(t, FONT, False, "systems", None) for t in wrap(also, inner, FONT)]
    if node.refusal_code:
        rows += [
            (t, FONT, True, "code", None) for t in wrap(f"{word('code')(lang)}: {node.refusal_code}", inner, FONT, True)
        ]
    rows += _state_rows(lang, state, inner)
    return [
        Text(0, LINE * (i + 1) - 4, text, size, bold, cls=cls, lang=other)
        for i, (text, size, bold, cls, other) in enumerate(rows)
    ]


def _state_rows(
    lang: str, state: tuple[str, str | None] | None, inner: float
) -> list[tuple[str, float, bool, str, str | None]]:
    if state is None:
        return []
    name, code = state
    mark = {"done": "✓", "failed": "✗", "pending": "…"}.get(name, "•")
    text = f"{mark} {word(name)(lang) if name in ('done', 'failed', 'pending') else name}" + (
        f": {code}" if code else ""
    )
    return [(t, FONT, True, "state", None) for t in wrap(text, inner, FONT, bold=True)]


def _event_label(node: Node, state: tuple[str, str | None] | None, lang: str) -> list[Text]:
    width = TASK_W - 2 * PAD
    rows = [(t, False) for t in wrap(node.title, width, FONT)] + [(r[0], True) for r in _state_rows(lang, state, width)]
    top = (EVENT_D if node.kind != "gateway" else GATEWAY_D) + LINE - 2
    return [Text(0, top + LINE * i, t, FONT, bold, middle=True, cls="label") for i, (t, bold) in enumerate(rows)]


@dataclass
class _Sized:
    node: Node
    w: float  # the column space the node needs
    shape_w: float
    shape_h: float
    anchor: float  # cy - top
    h: float  # shape and label below it
    lines: list[Text]  # relative to the node's top left (centre for events)


def _size(node: Node, lang: str, state: tuple[str, str | None] | None) -> _Sized:
    shape_w, shape_h = _shape_size(node)
    if node.kind in ("task", "refusal", "decision"):
        inset = DECISION_INSET if node.kind == "decision" else 0
        lines = _content(node, lang, state, shape_w - 2 * (PAD + inset))
        shape_h = LINE * len(lines) + PAD
        for i, t in enumerate(lines):
            lines[i] = Text(t.x + PAD + inset, t.y + PAD / 2, t.text, t.size, t.bold, cls=t.cls, lang=t.lang)
        return _Sized(node, shape_w, shape_w, shape_h, shape_h / 2, shape_h, lines)
    lines = _event_label(node, state, lang)
    width = max([shape_w, *(t.box.w for t in lines)])
    height = shape_h + (LINE * len(lines) + 2 if lines else 0)
    return _Sized(node, width, shape_w, shape_h, shape_h / 2, height, lines)


# -- placing ----------------------------------------------------------------------------------------
def _slots(nodes: Iterable[Node]) -> dict[str, int]:
    """A node's place in the stack of its column within its lane: main path first, and a refusal
    branch in a row of its own below the main path of the lane, so the two never line up."""
    taken: dict[tuple[int, str], int] = defaultdict(int)
    out: dict[str, int] = {}
    ordered = sorted(nodes, key=lambda n: n.rank)
    main_lanes = {n.lane for n in ordered if n.rank == 0}
    for node in ordered:
        slot = max(taken[(node.column, node.lane)], 1 if node.rank and node.lane in main_lanes else 0)
        out[node.key] = slot
        taken[(node.column, node.lane)] = slot + 1
    return out


def layout(diagram: Diagram, states: States | None = None) -> Layout:
    states = states or {}
    sized = {n.key: _size(n, diagram.lang, states.get(n.step) if n.step else None) for n in diagram.nodes}
    slots = _slots(diagram.nodes)
    columns = max(n.column for n in diagram.nodes) + 1
    col_w = [max([EVENT_D, *(s.w for s in sized.values() if s.node.column == c)]) for c in range(columns)]
    col_x = [MARGIN + HEADER_W + COL_GAP / 2 + sum(col_w[:c]) + COL_GAP * c for c in range(columns)]
    width = col_x[-1] + col_w[-1] + COL_GAP / 2 + MARGIN
    heading = _heading(diagram, width)
    top = heading[-1].y + LINE
    lanes, placed = [], {}
    for lane in diagram.lanes:
        mine = [sized[n.key] for n in diagram.nodes if n.lane == lane.key]
        above, below = _rows(mine, slots)
        name = wrap(lane.name, HEADER_W - 2 * PAD, TITLE_FONT, bold=True)
        height = max(LANE_TOP + sum(above[s] + below[s] for s in above) + SLOT_GAP * (len(above) - 1) + LANE_BOTTOM,
                     LINE * len(name) + 2 * PAD)  # fmt: skip
        box = Box(MARGIN, top, width - 2 * MARGIN, height)
        lines = tuple(Text(MARGIN + PAD, top + PAD + LINE * (i + 1) - 4, t, TITLE_FONT, True, cls="lane-name")
                      for i, t in enumerate(name))  # fmt: skip
        lanes.append(PlacedLane(lane.key, box, lines))
        for s in mine:
            slot = slots[s.node.key]
            cy = top + LANE_TOP + sum(above[k] + below[k] + SLOT_GAP for k in range(slot)) + above[slot]
            placed[s.node.key] = _place(s, col_x[s.node.column], col_w[s.node.column], cy,
                                        states.get(s.node.step) if s.node.step else None)  # fmt: skip
        top += height
    edges = tuple(_route(e, placed, col_x, col_w, {ln.key: ln.box for ln in lanes}, diagram) for e in diagram.edges)
    legend = _legend(diagram.lang, top + LINE)
    return Layout(diagram, width, legend[-1].box.y + legend[-1].box.h + MARGIN, heading, tuple(lanes),
                  tuple(placed[n.key] for n in diagram.nodes), edges, legend)  # fmt: skip


def _rows(mine: list[_Sized], slots: dict[str, int]) -> tuple[dict[int, float], dict[int, float]]:
    """Per slot of a lane, the room above and below the line edges attach at."""
    above: dict[int, float] = defaultdict(float)
    below: dict[int, float] = defaultdict(float)
    for s in mine:
        slot = slots[s.node.key]
        above[slot] = max(above[slot], s.anchor)
        below[slot] = max(below[slot], s.h - s.anchor)
    return dict(sorted(above.items())), dict(sorted(below.items()))


def _place(s: _Sized, x: float, w: float, cy: float, state: tuple[str, str | None] | None) -> PlacedNode:
    left = x + (w - s.shape_w) / 2
    shape = Box(left, cy - s.anchor, s.shape_w, s.shape_h)
    if s.node.kind in ("start", "end", "gateway"):
        dx, dy = left + s.shape_w / 2, shape.y
    else:
        dx, dy = left, shape.y
    lines = tuple(Text(t.x + dx, t.y + dy, t.text, t.size, t.bold, t.middle, t.cls, t.lang) for t in s.lines)
    return PlacedNode(s.node, shape, cy, lines, state[0] if state else None, state[1] if state else None)


def _route(edge: Edge, placed: dict[str, PlacedNode], col_x: list[float], col_w: list[float],
           lanes: dict[str, Box], diagram: Diagram) -> PlacedEdge:  # fmt: skip
    s, t = placed[edge.source], placed[edge.target]
    if t.node.column == s.node.column + 1:
        xm = col_x[s.node.column] + col_w[s.node.column] + COL_GAP / 2
        start, end = (s.shape.x + s.shape.w, s.cy), (t.shape.x, t.cy)
        points = (start, (xm, s.cy), (xm, t.cy), end) if s.cy != t.cy else (start, end)
        label = None
        if edge.label:
            w = Text(0, 0, edge.label, FONT - 1).box.w
            label = Text(t.shape.x - 4 - w, t.cy - 4, edge.label, FONT - 1, cls="edge-label")
        return PlacedEdge(edge, points, label)
    # round the shapes of the lane: down from the source, along the lane's bottom, up into the target
    under = lanes[s.node.lane].y + lanes[s.node.lane].h - 12
    sx, tx = s.shape.x + s.shape.w / 2, t.shape.x + t.shape.w / 2
    points = ((sx, s.shape.y + s.shape.h), (sx, under), (tx, under), (tx, t.shape.y + t.shape.h))
    label = Text(sx + 6, under - 4, edge.label, FONT - 1, cls="edge-label") if edge.label else None
    return PlacedEdge(edge, points, label)


def _heading(diagram: Diagram, width: float) -> tuple[Text, ...]:
    inner = width - 2 * MARGIN
    lines = [
        Text(MARGIN, 0, t, HEADING_FONT, True, cls="title") for t in wrap(diagram.title, inner, HEADING_FONT, True)
    ]
    lines += [Text(MARGIN, 0, t, TITLE_FONT, cls="subtitle") for t in wrap(diagram.subtitle, inner, TITLE_FONT)]
    return tuple(
        Text(t.x, MARGIN + (LINE + 2) * (i + 1), t.text, t.size, t.bold, cls=t.cls) for i, t in enumerate(lines)
    )


def _legend(lang: str, top: float) -> tuple[Swatch, ...]:
    x = MARGIN
    out = []
    for state in ("done", "failed", "pending"):
        label = Text(x + 22, top + 13, f"{word(state)(lang)}", FONT, cls="legend")
        out.append(Swatch(state, Box(x, top + 2, 16, 14), label))
        x = label.box.x + label.box.w + 24
    return tuple(out)
