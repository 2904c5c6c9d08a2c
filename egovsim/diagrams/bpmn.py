"""A diagram as BPMN 2.0 XML with diagram interchange (BPMN 2.0, OMG formal/2013-12-09, §12):
one participant whose process holds a lane per swimlane, tasks, exclusive gateways for the
conditions and the alternative steps, start and end events, sequence flows; and a BPMNDiagram
with a shape per element (``dc:Bounds``) and an edge per flow (``di:waypoint``) at the positions of
:mod:`egovsim.diagrams.layout`, so bpmn.io and Camunda Modeler open it as drawn here.

It validates against OMG's schema (``egovsim/data/bpmn/BPMN20.xsd``, :func:`schema`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from lxml import etree

from egovsim.diagrams.layout import Box, Layout, PlacedNode

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NSMAP = {None: MODEL, "bpmndi": BPMNDI, "dc": DC, "di": DI}
POOL_BAND = 30  # the participant's name band left of its lanes
_ELEMENTS = {
    "start": "startEvent",
    "end": "endEvent",
    "task": "task",
    "refusal": "task",
    "decision": "exclusiveGateway",
    "gateway": "exclusiveGateway",
}


def _m(tag: str) -> str:
    return f"{{{MODEL}}}{tag}"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _bounds(parent: etree._Element, box: Box) -> None:
    etree.SubElement(parent, f"{{{DC}}}Bounds", x=_num(box.x), y=_num(box.y), width=_num(box.w), height=_num(box.h))


def _name(p: PlacedNode) -> str:
    n = p.node
    return f"{n.title}: {n.text}" if n.text else n.title


def _flow_node(process: etree._Element, p: PlacedNode, lay: Layout) -> None:
    n = p.node
    element = etree.SubElement(process, _m(_ELEMENTS[n.kind]), id=n.key)
    if n.title:
        element.set("name", _name(p))
    words = [x for x in (n.detail, n.condition, n.refusal_code or "", f"trace: {n.step}" if n.step else "") if x]
    if words:
        etree.SubElement(element, _m("documentation")).text = " · ".join(words)
    for e in lay.diagram.edges:
        if e.target == n.key:
            etree.SubElement(element, _m("incoming")).text = e.key
    for e in lay.diagram.edges:
        if e.source == n.key:
            etree.SubElement(element, _m("outgoing")).text = e.key
    default = next((e for e in lay.diagram.edges if e.source == n.key and e.kind == "default"), None)
    if default is not None:
        element.set("default", default.key)


def _process(root: etree._Element, lay: Layout) -> None:
    d = lay.diagram
    process = etree.SubElement(root, _m("process"), id="process", name=d.subtitle, isExecutable="false")
    lane_set = etree.SubElement(process, _m("laneSet"), id="lanes")
    for lane in d.lanes:
        element = etree.SubElement(lane_set, _m("lane"), id=f"lane_{lane.key}", name=lane.name)
        for n in d.nodes:
            if n.lane == lane.key:
                etree.SubElement(element, _m("flowNodeRef")).text = n.key
    for p in lay.nodes:
        _flow_node(process, p, lay)
    for e in d.edges:
        flow = etree.SubElement(process, _m("sequenceFlow"), id=e.key, sourceRef=e.source, targetRef=e.target)
        if e.label:
            flow.set("name", e.label)


def _diagram(root: etree._Element, lay: Layout) -> None:
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id="diagram", name=lay.diagram.subtitle)
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id="plane", bpmnElement="collaboration")
    first, last = lay.lanes[0].box, lay.lanes[-1].box
    pool = Box(first.x - POOL_BAND, first.y, first.w + POOL_BAND, last.y + last.h - first.y)
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id="participant_di", bpmnElement="participant",
                             isHorizontal="true")  # fmt: skip
    _bounds(shape, pool)
    for lane in lay.lanes:
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"lane_{lane.key}_di",
                                 bpmnElement=f"lane_{lane.key}", isHorizontal="true")  # fmt: skip
        _bounds(shape, lane.box)
    for p in lay.nodes:
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{p.node.key}_di", bpmnElement=p.node.key)
        if p.node.kind in ("decision", "gateway"):
            shape.set("isMarkerVisible", "true")
        _bounds(shape, p.shape)
    for e in lay.edges:
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{e.edge.key}_di", bpmnElement=e.edge.key)
        for x, y in e.points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=_num(x), y=_num(y))


def render_bpmn(lay: Layout) -> str:
    d = lay.diagram
    root = etree.Element(
        _m("definitions"),
        nsmap=NSMAP,  # type: ignore[arg-type]
        id=f"definitions_{d.service_id}",
        name=f"{d.title} — {d.subtitle}",
        targetNamespace=f"urn:egovsim:diagram:{d.service_id}:{d.kind}:{d.variant}",
        exporter="egovsim",
        exporterVersion="1",
    )
    collaboration = etree.SubElement(root, _m("collaboration"), id="collaboration")
    etree.SubElement(collaboration, _m("participant"), id="participant", name=d.title, processRef="process")
    _process(root, lay)
    _diagram(root, lay)
    root.set("{http://www.w3.org/XML/1998/namespace}lang", d.lang)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def schema_dir() -> Path:
    return Path(str(resources.files("egovsim.data").joinpath("bpmn")))


@cache
def schema() -> etree.XMLSchema:
    """OMG's BPMN 2.0 schema (BPMN20.xsd with Semantic, BPMNDI, DI and DC), read offline."""
    return etree.XMLSchema(etree.parse(str(schema_dir() / "BPMN20.xsd")))
