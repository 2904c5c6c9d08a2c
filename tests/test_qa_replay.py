"""QA: the scenario library and ``egovsim replay`` (issue 8).

- the library: valid against its published JSON Schema (checked with jsonschema, a validator we
  did not write), at least 40 scenarios, each citing its regulation item, and every refusal of
  the refusal catalogue exercised by some scenario;
- ``egovsim replay --all`` passes, with JUnit XML and an HTML report (the trace and the diagram);
- a wrong expectation fails with a readable diff and exit code 1;
- determinism: two runs give the same report apart from wall-clock fields, and 4 workers the
  same results as a serial run;
- against a running egovsim (``--target``) through HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from lxml import etree
from typer.testing import CliRunner

from egovsim.catalog.refusals import RefusalCatalog
from egovsim.cli import app
from egovsim.qa import runner
from egovsim.qa.scenario import json_schema, library, load_scenario

ROOT = Path(__file__).resolve().parents[1]
REFUSALS = RefusalCatalog.load()
SAMPLE = [
    "portal-020-eds-revoked",
    "hqo-022-poa-not-found",
    "portal-003-happy-preschool-queue",
    "office-002-package-incomplete",
]
# the SQLite pass of CI runs the library; replay's simulators are SQLite whatever the suite's backend
ON_POSTGRES = bool(os.environ.get("EGOVSIM_TEST_DATABASE_URL"))


def scenario_file(scenario_id: str) -> Path:
    return next(p for p in library() if p.stem == scenario_id)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One template database for the module's runs (a run makes its own otherwise)."""
    return asyncio.run(runner.build_template(tmp_path_factory.mktemp("replay-template"), 7))


# -- the library ------------------------------------------------------------------------------------
def test_the_published_schema_is_the_format_and_every_scenario_validates_against_it() -> None:
    published = json.loads((ROOT / "docs/qa/scenario.schema.json").read_text(encoding="utf-8"))
    assert published == json_schema(), "docs/qa/scenario.schema.json is stale: egovsim replay --schema > it"
    validator = jsonschema.Draft202012Validator(published)
    for path in library():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(raw)]
        assert not errors, (path.name, errors)
    broken = {"id": "x", "title": "t", "regulation": ["001"], "acts": [{"act": "portal.fly"}]}
    assert list(validator.iter_errors(broken)), "the schema refuses an act it does not know"


def test_the_library_has_40_scenarios_each_citing_its_regulation() -> None:
    scenarios = [load_scenario(p) for p in library()]
    assert len(scenarios) >= 40
    assert [s.id for s in scenarios] == [p.stem for p in library()], "a scenario's id is its file name"
    assert all(s.regulation and all(ref.strip() for ref in s.regulation) for s in scenarios)
    happy = {a.service for s in scenarios if "happy" in s.tags for a in s.acts if hasattr(a, "service")}
    portal_or_hqo = {"foster_care_patronage_placement", "preschool_queue_registration", "foreign_labour_permit",
                     "local_social_assistance_assignment", "disabled_child_home_education_compensation",
                     "semipalatinsk_victim_registration_compensation", "oralman_status",
                     "visitation_permit_deprived_parents", "school_certificate_duplicate"}  # fmt: skip
    assert portal_or_hqo <= happy, f"no happy path for {sorted(portal_or_hqo - happy)}"


def expected_codes(scenario: Any) -> set[str]:
    """The codes a scenario expects to see: refusal codes, codes in its trace expectations, the
    result document's refusal code and the notifications."""
    codes: set[str] = set()
    for act in scenario.acts:
        e = act.expect
        if e is None:
            continue
        codes |= {e.code} if e.code else set()
        for event in (e.trace or []) + ([e.trace_ends] if e.trace_ends else []):
            parts = event.split()
            codes |= {parts[2]} if len(parts) > 2 else set()
        codes |= {str((e.result or {}).get("refusalCode"))} if (e.result or {}).get("refusalCode") else set()
        codes |= set(e.notifications or [])
    return codes


def test_every_refusal_of_the_catalogue_is_exercised_by_some_scenario() -> None:
    exercised = set().union(*(expected_codes(load_scenario(p)) for p in library()))
    refined = {e.refines for e in REFUSALS.entries if e.code in exercised and e.refines}
    refusals = {e.code for e in REFUSALS.entries if e.kind == "refusal"}
    missing = sorted(refusals - exercised - refined)
    assert not missing, f"refusals no scenario exercises: {missing}"


def test_a_refined_refusal_is_a_reason_of_a_refusal_at_the_same_step() -> None:
    refined = [e for e in REFUSALS.entries if e.refines]
    assert {e.refines for e in refined} == {"EDS_NOT_CONFIRMED", "HQO_DATA_NOT_OBTAINED"}
    for entry in refined:
        general = REFUSALS.get(entry.refines or "")
        assert general is not None and general.kind == entry.kind == "refusal", entry.code
        assert general.step == entry.step, entry.code


# -- running it ---------------------------------------------------------------------------------------
@pytest.mark.skipif(ON_POSTGRES, reason="backend-independent: replay's simulators are SQLite; the SQLite pass runs it")
def test_replay_all_passes_with_junit_and_html(tmp_path: Path) -> None:
    junit, page, report = tmp_path / "junit.xml", tmp_path / "report.html", tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["replay", "--all", "--workers", "2", "--junit", str(junit), "--html", str(page), "--json", str(report)]
    )
    assert result.exit_code == 0, result.output[-3000:]
    suite = etree.parse(str(junit)).getroot()
    assert int(suite.get("tests") or 0) >= 40 and suite.get("failures") == "0"
    data = json.loads(report.read_text(encoding="utf-8"))
    # what the runs actually produced, not only what the files expect, covers the catalogue's refusals
    produced = set().union(*(set(s["codes"]) for s in data["scenarios"]))
    refined = {e.refines for e in REFUSALS.entries if e.code in produced and e.refines}
    missing = {e.code for e in REFUSALS.entries if e.kind == "refusal"} - produced - refined
    assert not missing, sorted(missing)
    html = page.read_text(encoding="utf-8")
    revoked = html[html.index('<section id="portal-020-eds-revoked">') :]
    revoked = revoked[: revoked.index("</section>")]
    assert "portal:4-процесс" in revoked and "EDS_CERT_REVOKED" in revoked
    assert 'data-step="portal:2-шарт" data-state="failed"' in revoked, "the diagram marks the failing step"


def test_a_wrong_expectation_fails_with_a_readable_diff(tmp_path: Path, template: Path) -> None:
    wrong = yaml.safe_load(scenario_file("portal-020-eds-revoked").read_text(encoding="utf-8"))
    wrong["id"] = "portal-020-wrong"
    wrong["acts"][-1]["expect"]["code"] = "EDS_CERT_EXPIRED"
    path = tmp_path / "portal-020-wrong.yaml"
    path.write_text(yaml.safe_dump(wrong, allow_unicode=True), encoding="utf-8")
    report = runner.run([path], template=template)
    assert report["failed"] == 1
    result = CliRunner().invoke(app, ["replay", str(path), "--junit", str(tmp_path / "j.xml")])
    assert result.exit_code == 1
    assert "FAIL  portal-020-wrong" in result.output
    assert "code:\n" in result.output
    assert "- expected: 'EDS_CERT_EXPIRED'" in result.output and "+ actual:   'EDS_CERT_REVOKED'" in result.output
    assert "0 of 1 scenarios passed, 1 failed" in result.output
    failure = etree.parse(str(tmp_path / "j.xml")).getroot().find("testcase/failure")
    assert failure is not None and "EDS_CERT_EXPIRED" in (failure.text or "")


def test_a_broken_scenario_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: t\nregulation: ['001']\nacts: [{act: portal.fly}]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(path)])
    assert result.exit_code == 2 and "broken.yaml" in result.output


def test_two_runs_are_identical_and_four_workers_agree_with_a_serial_run(template: Path) -> None:
    paths = [scenario_file(s) for s in SAMPLE]
    first = runner.run(paths, template=template)
    second = runner.run(paths, template=template)
    parallel = runner.run(paths, template=template, workers=4)
    assert first["passed"] == len(SAMPLE), [s["id"] for s in first["scenarios"] if not s["passed"]]
    assert runner.without_wall_clock(first) == runner.without_wall_clock(second)
    serial = runner.without_wall_clock(first)
    assert runner.without_wall_clock(parallel) == serial | {"workers": 4}


async def test_replay_against_a_running_egovsim(egovsim_server: Any) -> None:
    """``--target``: the scenarios go over real HTTP to a running simulator, one after another."""
    from egovsim.testing import ADMIN_TOKEN

    paths = [scenario_file("portal-020-eds-revoked"), scenario_file("hqo-022-poa-not-found")]
    report = await asyncio.to_thread(runner.run, paths, target=egovsim_server.url, token=ADMIN_TOKEN)
    assert report["passed"] == 2, json.dumps([s["steps"] for s in report["scenarios"]], ensure_ascii=False)[:3000]
    assert report["target"] == egovsim_server.url


def test_the_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(app, ["replay", "--schema"])
    assert result.exit_code == 0 and json.loads(result.output) == json_schema()
