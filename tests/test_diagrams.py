"""The regulations' two appendices, generated from the catalogue: every service's interaction and
business-process diagrams in SVG, Mermaid and BPMN 2.0, in kk, ru and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import httpx
import pytest
import yaml
from lxml import etree
from typer.testing import CliRunner

from egovsim.catalog.loader import ServiceCatalog, load_service_file
from egovsim.catalog.models import Service
from egovsim.cli import app
from egovsim.diagrams import FORMATS, KINDS, LANGS, build, render, variants
from egovsim.diagrams.bpmn import MODEL, schema, schema_dir
from egovsim.diagrams.layout import layout, overlaps
from egovsim.errors import CodedError

CATALOG = ServiceCatalog.load()
SVG = "{http://www.w3.org/2000/svg}"
FOSTER = "foster_care_patronage_placement"
HOME_EDUCATION = "disabled_child_home_education_compensation"  # portal and ХҚО chains


def every_diagram() -> Iterator[tuple[Service, str, dict[str, str]]]:
    for service, kind in product(CATALOG, KINDS):
        for variant in variants(service, kind):
            yield service, kind, {"chain" if kind == "interaction" else "route": variant}


DIAGRAMS = list(every_diagram())


def ids(case: tuple[Service, str, dict[str, str]]) -> str:
    service, kind, which = case
    return f"{service.id}-{kind}-{next(iter(which.values()))}"


@pytest.mark.parametrize("case", DIAGRAMS, ids=ids)
def test_every_diagram_renders_in_every_format_and_language_the_same_each_time(case) -> None:  # type: ignore[no-untyped-def]
    service, kind, which = case
    for fmt, lang in product(FORMATS, LANGS):
        text = render(service, kind, fmt, lang, **which)
        assert text == render(service, kind, fmt, lang, **which), (fmt, lang)  # byte-identical
        if fmt in ("svg", "bpmn"):
            etree.fromstring(text.encode())


def numbered_steps(service: Service, kind: str, variant: str) -> list[str]:
    """The trace labels the diagram must carry: every chain step, or every route step."""
    if kind == "business":
        return [f"{variant}:{s.n}" for s in service.route(variant).steps]
    chain = {"portal": service.portal_chain, "hqo": service.hqo_chain}.get(variant)
    if chain is None:  # the office flow: its own labels and the first route's steps
        return ["office:registered", "office:result", "office:issued"] + [
            f"{service.routes[0].id}:{s.n}" for s in service.routes[0].steps
        ]
    return [f"{variant}:{s.label}" for s in chain.steps]


@pytest.mark.parametrize("case", DIAGRAMS, ids=ids)
def test_the_bpmn_validates_against_omgs_schema_and_holds_every_numbered_step(case) -> None:  # type: ignore[no-untyped-def]
    service, kind, which = case
    variant = next(iter(which.values()))
    for lang in LANGS:
        doc = etree.fromstring(render(service, kind, "bpmn", lang, **which).encode())
        assert schema().validate(doc), schema().error_log
        docs = " ".join(doc.xpath("//m:documentation/text()", namespaces={"m": MODEL}))
        for label in numbered_steps(service, kind, variant):
            assert f"trace: {label}" in docs, (lang, label)
        shapes = {s.get("bpmnElement") for s in doc.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
        flow_nodes = doc.xpath("//m:process/*[@id][not(self::m:laneSet) and not(self::m:sequenceFlow)]/@id",
                               namespaces={"m": MODEL})  # fmt: skip
        assert set(flow_nodes) <= shapes  # every element is drawn (diagram interchange)


def test_the_bpmn_of_a_condition_is_an_exclusive_gateway_with_its_refusal_branch() -> None:
    doc = etree.fromstring(render(CATALOG.get(FOSTER), "interaction", "bpmn", "kk").encode())  # type: ignore[arg-type]
    ns = {"m": MODEL}
    gateway = doc.xpath("//m:exclusiveGateway[@id='portal_c2']", namespaces=ns)[0]
    assert gateway.get("name").startswith("2-шарт")
    targets = doc.xpath("//m:sequenceFlow[@sourceRef='portal_c2']/@targetRef", namespaces=ns)
    assert sorted(targets) == ["portal_p4", "portal_p5"]
    refusal = doc.xpath("//m:task[@id='portal_p4']", namespaces=ns)[0]
    assert refusal.get("name").startswith("4-үдеріс")  # as the seed prints it
    assert "EDS_NOT_CONFIRMED" in refusal.findtext(f"{{{MODEL}}}documentation")
    assert doc.xpath("count(//m:startEvent)", namespaces=ns) == 1
    assert doc.xpath("count(//m:endEvent)", namespaces=ns) == 4  # the result and three refusals


def test_the_vendored_schema_is_omgs_bpmn_2_0() -> None:
    names = sorted(p.name for p in schema_dir().glob("*.xsd"))
    assert names == ["BPMN20.xsd", "BPMNDI.xsd", "DC.xsd", "DI.xsd", "Semantic.xsd"]
    root = etree.parse(str(schema_dir() / "BPMN20.xsd")).getroot()
    assert root.get("targetNamespace") == "http://www.omg.org/spec/BPMN/20100524/MODEL"
    assert "Semantic.xsd" in (schema_dir() / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", DIAGRAMS, ids=ids)
def test_the_mermaid_text_is_well_formed(case) -> None:  # type: ignore[no-untyped-def]
    service, kind, which = case
    for lang in LANGS:
        text = render(service, kind, "mermaid", lang, **which)
        lines = text.splitlines()
        assert lines[1] == "flowchart LR"
        defined = [m.group(1) for m in re.finditer(r"^    ([A-Za-z0-9_]+)[\[({]", text, re.M)]
        assert len(defined) == len(set(defined)), "node ids are unique"
        assert all(i.isascii() for i in defined)
        for source, target in re.findall(r"^  ([A-Za-z0-9_]+) -\.?->(?:\|\"[^\"]*\"\|)? ([A-Za-z0-9_]+)$", text, re.M):
            assert source in defined and target in defined
        edges = [ln for ln in lines if re.match(r"^  [A-Za-z0-9_]+ -", ln)]
        assert len(edges) == len(build(service, kind, lang, **which).edges)
        assert sum(ln.startswith("  subgraph ") for ln in lines) == sum(ln == "  end" for ln in lines)
        for label in re.findall(r'"([^"]*)"', text.split("\n", 1)[1]):
            assert "#" not in re.sub(r"#\d+;", "", label)  # only Mermaid's entity codes


@pytest.mark.parametrize("case", DIAGRAMS, ids=ids)
def test_no_two_labels_overlap_in_the_layout(case) -> None:  # type: ignore[no-untyped-def]
    service, kind, which = case
    for lang in LANGS:
        diagram = build(service, kind, lang, **which)
        states = {n.step: ("failed", "HQO_DATA_NOT_OBTAINED") for n in diagram.nodes if n.step}
        for placed in (layout(diagram), layout(diagram, states)):
            assert overlaps(placed.texts()) == []
            for node in placed.nodes:  # and each line stays inside its shape
                if node.node.kind in ("task", "refusal", "decision"):
                    for line in node.lines:
                        assert node.shape.x <= line.box.x and line.box.x + line.box.w <= node.shape.x + node.shape.w


def svg_of(service_id: str, kind: str, lang: str, **kw) -> etree._Element:  # type: ignore[no-untyped-def]
    return etree.fromstring(render(CATALOG.get(service_id), kind, "svg", lang, **kw).encode())  # type: ignore[arg-type]


def test_interaction_nodes_carry_the_trace_labels_and_the_seed_numbering() -> None:
    root = svg_of(FOSTER, "interaction", "kk")
    steps = {g.get("data-step"): g for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert {"portal:pre", "portal:1-шарт", "portal:2-шарт", "portal:4-процесс", "portal:7-процесс"} <= set(steps)
    texts = ["".join(t.itertext()) for t in steps["portal:4-процесс"].iter(f"{SVG}text")]
    assert texts[0] == "4-үдеріс" and "коды: EDS_NOT_CONFIRMED" in " ".join(texts)
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    hqo = svg_of(HOME_EDUCATION, "interaction", "ru", chain="hqo")
    lanes = [t.text for t in hqo.iter(f"{SVG}text") if t.get("class") == "lane-name"]
    assert {"Оператор ЦОН", "АРМ ИИС ЦОН", "ШЭП", "ГБД ФЛ", "ЕНИС", "АРМ РШЭП"} <= set(lanes)


def test_business_steps_have_durations_in_the_language_and_variants_behind_a_gateway() -> None:
    root = svg_of("preschool_queue_registration", "business", "kk", route="hqo")
    steps = {g.get("data-step"): g for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert {"hqo:1", "hqo:2", "hqo:2-alt"} <= set(steps)
    assert "≤ 15 минут" in " ".join(steps["hqo:2-alt"].itertext())
    assert "мерзімі көрсетілмеген" in " ".join(steps["hqo:1"].itertext())
    assert len(root.findall(f".//{SVG}g[@class='node gateway']")) == 2
    texts = " ".join(svg_of("oralman_status", "business", "ru").itertext())
    assert "1 рабочий день" in texts and "30 минут" in texts and "2 рабочих дня" in texts
    assert "1 working day" in " ".join(svg_of("oralman_status", "business", "en").itertext())


def test_a_service_with_no_chain_gets_its_office_flow() -> None:
    service = CATALOG.get("externship_study_permit")
    assert service is not None and variants(service, "interaction") == ["office"]
    root = svg_of(service.id, "interaction", "en")
    steps = [g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-step")]
    assert steps[0] == "office:registered" and steps[-2:] == ["office:result", "office:issued"]
    assert "provider:1" in steps


def test_a_failed_step_shows_its_code_in_words_and_colour_and_the_legend_explains() -> None:
    states = {
        "hqo:1-процесс": ("done", None),
        "hqo:2-шарт": ("failed", "HQO_DOCS_DEFECTIVE"),
        "hqo:8-процесс": ("pending", None),
    }
    root = etree.fromstring(render(CATALOG.get("oralman_status"), "interaction", "svg", "en", states=states).encode())  # type: ignore[arg-type]
    failed = root.find(f".//{SVG}g[@data-step='hqo:2-шарт']")
    assert failed.get("class") == "node decision failed" and failed.get("data-code") == "HQO_DOCS_DEFECTIVE"
    lines = ["".join(t.itertext()) for t in failed.iter(f"{SVG}text")]
    assert lines[-3:] == ["✗ failed:", "HQO_DOCS_", "DEFECTIVE"]  # a code is cut at its underscore
    legend = [t.text for t in root.find(f".//{SVG}g[@class='legend']").iter(f"{SVG}text")]
    assert legend == ["done", "failed", "pending"]
    mermaid = render(CATALOG.get("oralman_status"), "interaction", "mermaid", "en", states=states)  # type: ignore[arg-type]
    assert "class hqo_c2 failed" in mermaid


def test_unknown_kind_format_language_chain_and_route_raise_coded_errors() -> None:
    service = CATALOG.get(FOSTER)
    assert service is not None
    for call, code in (
        (lambda: render(service, "sequence", "svg", "kk"), "DIAGRAM_KIND_UNKNOWN"),
        (lambda: render(service, "business", "png", "kk"), "DIAGRAM_FORMAT_UNKNOWN"),
        (lambda: render(service, "business", "svg", "de"), "DIAGRAM_LANG_UNKNOWN"),
        (lambda: render(service, "interaction", "svg", "kk", chain="hqo"), "DIAGRAM_CHAIN_UNKNOWN"),
        (lambda: render(service, "business", "svg", "kk", route="hqo"), "DIAGRAM_ROUTE_UNKNOWN"),
    ):
        with pytest.raises(CodedError) as caught:
            call()
        assert caught.value.code == code


def test_a_new_service_file_is_enough_for_its_diagrams(tmp_path: Path) -> None:
    raw = yaml.safe_load((Path(__file__).parents[1] / f"egovsim/data/services/{FOSTER}.yaml").read_text("utf-8"))
    raw["id"] = "new_service"
    raw["portal_chain"]["steps"][1]["systems"] = ["portal", "Жаңа жүйе"]  # a system no table knows
    raw["routes"].append({**raw["routes"][0], "id": "second"})
    path = tmp_path / "new_service.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    service = load_service_file(path)
    assert variants(service, "business") == ["provider", "second"]
    for fmt, lang in product(FORMATS, LANGS):
        render(service, "business", fmt, lang, route="second")
    assert "Жаңа жүйе" in " ".join(svg_of_service(service).itertext())


def svg_of_service(service: Service) -> etree._Element:
    return etree.fromstring(render(service, "interaction", "svg", "kk").encode())


# -- HTTP and the command line ------------------------------------------------------------------------
async def test_the_api_serves_each_format_with_its_media_type(http: httpx.AsyncClient) -> None:
    base = f"/api/catalog/services/{HOME_EDUCATION}/diagrams"
    for fmt, media in (("svg", "image/svg+xml"), ("mermaid", "text/plain"), ("bpmn", "application/xml")):
        r = await http.get(f"{base}/interaction", params={"format": fmt, "lang": "ru", "chain": "hqo"})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), r.text
        assert r.text == render(CATALOG.get(HOME_EDUCATION), "interaction", fmt, "ru", chain="hqo")  # type: ignore[arg-type]
    r = await http.get(f"{base}/business", params={"lang": "en"})
    assert "<svg" in r.text and 'data-variant="provider"' in r.text


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/catalog/services/nope/diagrams/business", 404, "SERVICE_NOT_FOUND"),
        (f"/api/catalog/services/{FOSTER}/diagrams/sequence", 404, "DIAGRAM_KIND_UNKNOWN"),
        (f"/api/catalog/services/{FOSTER}/diagrams/business?format=png", 400, "DIAGRAM_FORMAT_UNKNOWN"),
        (f"/api/catalog/services/{FOSTER}/diagrams/business?lang=de", 400, "DIAGRAM_LANG_UNKNOWN"),
        (f"/api/catalog/services/{FOSTER}/diagrams/interaction?chain=hqo", 404, "DIAGRAM_CHAIN_UNKNOWN"),
        (f"/api/catalog/services/{FOSTER}/diagrams/business?route=hqo", 404, "DIAGRAM_ROUTE_UNKNOWN"),
    ],
)
async def test_unknown_things_are_coded_problems(http: httpx.AsyncClient, path: str, status: int, code: str) -> None:
    r = await http.get(path)
    assert r.status_code == status and r.json()["code"] == code


async def test_the_diagrams_page_lists_every_service_without_a_login(http: httpx.AsyncClient) -> None:
    r = await http.get("/inspector/diagrams", params={"lang": "en"})
    assert r.status_code == 200
    for service in CATALOG:
        assert f'id="{service.id}"' in r.text
        for kind in KINDS:
            for variant in variants(service, kind):
                assert f'id="{service.id}-{kind}-{variant}"' in r.text
    assert "format=bpmn&amp;lang=kk" in r.text
    one = await http.get(f"/inspector/diagrams/{FOSTER}", params={"kind": "business", "lang": "ru"})
    assert one.status_code == 200 and '<svg xmlns="http://www.w3.org/2000/svg"' in one.text
    assert (await http.get("/inspector/diagrams/nope")).status_code == 404


def test_the_cli_draws_without_a_server(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["diagram", FOSTER, "--kind", "business", "--format", "mermaid", "--lang", "en"])
    assert result.exit_code == 0 and result.stdout.startswith("%% 2.")
    out = tmp_path / "d.bpmn"
    result = runner.invoke(app, ["diagram", HOME_EDUCATION, "--format", "bpmn", "--chain", "hqo", "-o", str(out)])
    assert result.exit_code == 0 and schema().validate(etree.parse(str(out)))
    result = runner.invoke(app, ["diagram", FOSTER, "--chain", "hqo"])
    assert result.exit_code == 2 and "DIAGRAM_CHAIN_UNKNOWN" in result.output
