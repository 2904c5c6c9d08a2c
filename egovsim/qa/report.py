"""A replay's report for people and for CI: console lines with a readable diff, JUnit XML, and a
self-contained HTML page (each scenario's steps, trace and the process diagram with the failing
step marked; no script, no external resource)."""

from __future__ import annotations

import html
import json
from typing import Any

from lxml import etree

from egovsim.web import Phrase

WORDS = {
    "title": Phrase(
        "egovsim: сценарийлерді қайталау", "egovsim: воспроизведение сценариев", "egovsim: scenario replay"
    ),
    "passed": Phrase("өтті", "пройден", "passed"),
    "failed": Phrase("өтпеді", "не пройден", "failed"),
    "steps": Phrase("Қадамдар", "Шаги", "Steps"),
    "trace": Phrase("Із (trace)", "Трасса", "Trace"),
    "expected": Phrase("күтілген", "ожидалось", "expected"),
    "diagram": Phrase("Процесс диаграммасы", "Диаграмма процесса", "Process diagram"),
    "act": Phrase("Әрекет", "Действие", "Act"),
    "facts": Phrase("Нәтиже", "Итог", "Outcome"),
    "diff": Phrase("Айырмашылық", "Расхождения", "Differences"),
    "regulation": Phrase("Регламент", "Регламент", "Regulation"),
    "error": Phrase("Қате", "Ошибка", "Error"),
}


def failure_text(scenario: dict[str, Any]) -> str:
    """What went wrong in one scenario, as a readable diff."""
    lines = []
    if scenario["error"]:
        lines.append(f"error: {scenario['error']}")
    for step in scenario["steps"]:
        if step["diff"]:
            lines.append(f"step {step['n']} ({step['act']}):")
            lines.extend(f"  {line}" for line in step["diff"])
    return "\n".join(lines)


def console(report: dict[str, Any]) -> str:
    out = []
    for s in report["scenarios"]:
        mark = "PASS" if s["passed"] else "FAIL"
        out.append(f"{mark}  {s['id']}  ({', '.join(s['regulation'])})")
        if not s["passed"]:
            out.extend(f"      {line}" for line in failure_text(s).splitlines())
    total = report["passed"] + report["failed"]
    workers = f"{report['workers']} worker{'s' if report['workers'] != 1 else ''}"
    out.append(
        f"{report['passed']} of {total} scenarios passed, {report['failed']} failed, in {report['duration_s']:.1f} s "
        f"({report['target']}, {workers}, seed {report['seed']})"
    )
    return "\n".join(out)


def junit(report: dict[str, Any]) -> bytes:
    suite = etree.Element(
        "testsuite",
        name="egovsim-replay",
        tests=str(report["passed"] + report["failed"]),
        failures=str(report["failed"]),
        errors="0",
        time=f"{report['duration_s']:.3f}",
        timestamp=report["started"],
    )
    for s in report["scenarios"]:
        case = etree.SubElement(
            suite, "testcase", classname=f"egovsim.{(s['tags'] or ['scenario'])[0]}", name=s["id"],
            time=f"{s['duration_s']:.3f}",
        )  # fmt: skip
        etree.SubElement(case, "properties").extend(
            etree.Element("property", name="regulation", value=ref) for ref in s["regulation"]
        )
        if not s["passed"]:
            failure = etree.SubElement(case, "failure", message=(s["error"] or "expectation not met")[:500])
            failure.text = failure_text(s)
        out = etree.SubElement(case, "system-out")
        out.text = "\n".join(f"{e['step']} {e['outcome']} {e['code'] or ''}".rstrip() for e in s["trace"])
    return etree.tostring(suite, xml_declaration=True, encoding="UTF-8", pretty_print=True)


_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 1.5rem; color: #1b2733; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { border: 1px solid #c5ced6; padding: .2rem .5rem; text-align: left; vertical-align: top; font-size: .9rem; }
.pass { color: #1e6b34; } .fail { color: #b3261e; }
section { border-top: 2px solid #c5ced6; margin-top: 1.5rem; padding-top: .5rem; }
pre { background: #f4f6f8; padding: .5rem; white-space: pre-wrap; }
.diagram { overflow-x: auto; border: 1px solid #c5ced6; }
tr.refused td, tr.failed td { background: #f9d6d3; }
"""


def page(report: dict[str, Any], lang: str = "en") -> str:
    w = {key: phrase(lang) for key, phrase in WORDS.items()}
    e = html.escape
    rows = "".join(
        f'<tr><td><a href="#{e(s["id"])}">{e(s["id"])}</a></td><td>{e(s["title"])}</td>'
        f'<td class="{"pass" if s["passed"] else "fail"}">{w["passed"] if s["passed"] else w["failed"]}</td>'
        f"<td>{e(', '.join(s['codes']))}</td></tr>"
        for s in report["scenarios"]
    )
    sections = "".join(_section(s, w) for s in report["scenarios"])
    summary = (
        f"{report['passed']} / {report['passed'] + report['failed']} {w['passed']} · {report['target']} · "
        f"seed {report['seed']} · {report['duration_s']:.1f} s"
    )
    return (
        f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(w["title"])}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{e(w['title'])}</h1><p>{e(summary)}</p>"
        f"<table><tr><th>id</th><th></th><th></th><th>codes</th></tr>{rows}</table>{sections}</body></html>\n"
    )


def _section(s: dict[str, Any], w: dict[str, str]) -> str:
    e = html.escape
    state = f'<p class="{"pass" if s["passed"] else "fail"}">{w["passed"] if s["passed"] else w["failed"]}</p>'
    error = f'<p class="fail">{e(w["error"])}: {e(s["error"])}</p>' if s["error"] else ""
    steps = "".join(
        f"<tr><td>{st['n']}</td><td>{e(st['act'])}{' · ' + e(', '.join(st['fault'])) if st['fault'] else ''}</td>"
        f"<td><pre>{e(json.dumps(_brief(st['facts']), ensure_ascii=False, indent=1))}</pre></td>"
        f"<td><pre>{e(json.dumps(st['expect'], ensure_ascii=False, indent=1)) if st['expect'] else ''}</pre></td>"
        f'<td class="{"fail" if st["diff"] else ""}"><pre>{e(chr(10).join(st["diff"]))}</pre></td></tr>'
        for st in s["steps"]
    )
    trace = "".join(
        f'<tr class="{e(t["outcome"])}"><td>{e(t["step"])}</td><td>{e(t["component"])}</td><td>{e(t["outcome"])}</td>'
        f"<td>{e(t['code'] or '')}</td><td>{e(t['at'])}</td></tr>"
        for t in s["trace"]
    )
    diagram = f'<h3>{e(w["diagram"])}</h3><div class="diagram">{_inline(s["diagram"])}</div>' if s["diagram"] else ""
    return (
        f'<section id="{e(s["id"])}"><h2>{e(s["id"])}</h2><p>{e(s["title"])}</p>'
        f"<p>{e(w['regulation'])}: {e(', '.join(s['regulation']))}</p>{state}{error}"
        f"<h3>{e(w['steps'])}</h3><table><tr><th>#</th><th>{e(w['act'])}</th><th>{e(w['facts'])}</th>"
        f"<th>{e(w['expected'])}</th><th>{e(w['diff'])}</th></tr>{steps}</table>"
        f"<h3>{e(w['trace'])}</h3><table>{trace}</table>{diagram}</section>"
    )


def _brief(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts without the trace (shown as its own table)."""
    return {k: v for k, v in facts.items() if k != "trace"}


def _inline(svg: str) -> str:
    """The diagram's SVG without its XML declaration, to sit inside the page."""
    return svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg
