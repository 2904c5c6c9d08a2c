"""Process diagrams of the services, generated from the catalogue: the interaction diagram of a
chain (portal, ХҚО, or the office flow) and the business-process diagram of a route, as SVG,
Mermaid or BPMN 2.0 XML, in kk, ru or en.

    from egovsim.diagrams import render
    svg = render(service, "interaction", "svg", "kk", chain="hqo",
                 states={"hqo:2-шарт": ("failed", "HQO_DOCS_DEFECTIVE")})

``states`` maps trace labels (``portal:2-шарт``, ``provider:3``) to ``done``, ``failed`` (with
its refusal code) or ``pending``; the SVG colours and labels those steps, Mermaid gives them a
class. Unknown kinds, formats, languages, chains and routes raise
:class:`~egovsim.errors.CodedError` with a ``DIAGRAM_*`` code.
"""

from __future__ import annotations

from egovsim.catalog.models import Service
from egovsim.diagrams.bpmn import render_bpmn
from egovsim.diagrams.layout import States, layout
from egovsim.diagrams.mermaid import render_mermaid
from egovsim.diagrams.model import KINDS, LANGS, Diagram, build, variants
from egovsim.diagrams.svg import render_svg
from egovsim.errors import CodedError

FORMATS = ("svg", "mermaid", "bpmn")
MEDIA_TYPES = {"svg": "image/svg+xml", "mermaid": "text/plain", "bpmn": "application/xml"}
SUFFIXES = {"svg": "svg", "mermaid": "mmd", "bpmn": "bpmn"}

__all__ = ["FORMATS", "KINDS", "LANGS", "MEDIA_TYPES", "SUFFIXES", "Diagram", "build", "render", "variants"]


def render(
    service: Service,
    kind: str,
    fmt: str,
    lang: str,
    *,
    chain: str | None = None,
    route: str | None = None,
    states: States | None = None,
) -> str:
    """One diagram of one service as text in ``fmt``; the same input gives the same bytes."""
    if fmt not in FORMATS:
        raise CodedError("DIAGRAM_FORMAT_UNKNOWN", f"format is svg, mermaid or bpmn, not {fmt!r}", format=fmt)
    diagram = build(service, kind, lang, chain=chain, route=route)
    if fmt == "mermaid":
        return render_mermaid(diagram, states)
    placed = layout(diagram, states)
    return render_svg(placed) if fmt == "svg" else render_bpmn(placed)
