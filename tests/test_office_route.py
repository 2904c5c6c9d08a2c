"""The provider's office (кеңсе / канцелярия) through public interfaces: the clerk registers a paper
application, an incomplete package is refused at intake with a receipt of refusal (standard 002
appendix 3), a complete one runs the service's internal steps at the workstation, and its signed
result is issued at the office."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from egovsim.app import RunningSimulator
from tests.conftest import ADMIN

pytestmark = pytest.mark.asyncio(loop_scope="module")

APPLICANT = "880401303125"
REPRESENTATIVE = "870412403153"
EXTERNSHIP = "externship_study_permit"
VISITATION = "visitation_permit_deprived_parents"
EXTERNSHIP_FIELDS = {
    "child_name": "ТЕСТОВ АЛИ", "child_iin": "150301500029", "school": "№ 12 мектеп-гимназия", "grade": "7",
    "consent": "yes",
}  # fmt: skip
VISITATION_FIELDS = {
    "placement_institution": "№ 2 балалар үйі", "child_name": "ТЕСТОВА АЙША", "meeting_between": "сенбі 10:00-12:00",
    "consent": "yes",
}  # fmt: skip
EXTERNSHIP_DOCUMENTS = ["identity_document", "medical_conclusion"]
OFFICE = "/rshep/api/office/applications"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with nca.client() as client:
        for service in (EXTERNSHIP, VISITATION):  # every step done the moment it starts
            r = await client.put(f"/rshep/api/policies/{service}", json={"scale": 0}, headers=ADMIN)
            assert r.status_code == 200, r.text
        yield client


def paper(service: str, fields: dict[str, str], documents: list[str], **more: object) -> dict[str, Any]:
    return {"serviceId": service, "applicantIin": APPLICANT, "fields": fields, "documents": documents} | more


async def counts(http: httpx.AsyncClient) -> tuple[int, int]:
    cases = (await http.get("/rshep/api/cases", headers=ADMIN)).json()["cases"]
    traces = (await http.get("/api/catalog/traces?limit=1000")).json()["requests"]
    return len(cases), len(traces)


async def until_closed(http: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    """The case once its result is signed and its closing traced (``office:result``)."""
    for _ in range(200):
        events = (await http.get(f"/api/catalog/traces/{case_id}")).json().get("events", [])
        if events and events[-1]["step"] == "office:result":
            return (await http.get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never closed")


async def trace(http: httpx.AsyncClient, request_id: str) -> list[dict[str, Any]]:
    return (await http.get(f"/api/catalog/traces/{request_id}")).json()["events"]  # type: ignore[no-any-return]


async def test_an_incomplete_package_is_refused_at_intake_with_a_receipt_naming_the_missing_documents(
    http: httpx.AsyncClient,
) -> None:
    before = await counts(http)
    body = paper(VISITATION, VISITATION_FIELDS, ["identity_document"], representativeIin=REPRESENTATIVE)
    r = await http.post(f"{OFFICE}?lang=ru", json=body, headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert (problem["code"], problem["step"], problem["kind"]) == ("PACKAGE_INCOMPLETE", "intake:pre", "refusal")
    # the missing documents by name, each text in its own language
    assert problem["messages"] == {
        "kk": "Құжаттар топтамасы толық ұсынылмағандықтан құжаттарды қабылдаудан бас тартылды; бас тарту туралы "
        "қолхат берілді. Жетіспейтін құжаттар - Ата-ана құқығынан айыру туралы сот шешімі, Ішкі істер органының "
        "мінездемесі.",
        "ru": "Отказано в приеме документов в связи с неполнотой пакета документов; выдана расписка об отказе. "
        "Отсутствующие документы — Решение суда о лишении родительских прав, Характеристика органа внутренних дел.",
        "en": "The documents are not accepted because the package is incomplete; a receipt of refusal has been "
        "issued. Missing documents - Court decision on deprivation of parental rights, Character reference from "
        "the internal affairs body.",
    }
    assert problem["message"] == problem["messages"]["ru"]
    assert [d["name"]["ru"] for d in problem["missingDocuments"]] == [
        "Решение суда о лишении родительских прав", "Характеристика органа внутренних дел",
    ]  # fmt: skip
    receipt = problem["receipt"]
    assert (receipt["kind"], receipt["code"], receipt["caseId"]) == ("refusal", "PACKAGE_INCOMPLETE", None)
    assert receipt["representativeIin"] == REPRESENTATIVE
    # the refusal is the whole story: no case in any inbox, one trace event of the office
    assert (await counts(http))[0] == before[0]
    events = await trace(http, receipt["number"])
    assert [(e["component"], e["step"], e["outcome"], e["code"]) for e in events] == [
        ("office", "intake:pre", "refused", "PACKAGE_INCOMPLETE")
    ]
    again = (await http.get(f"/rshep/api/office/receipts/{receipt['number']}", headers=ADMIN)).json()
    assert again["facts"]["missing"] == problem["missingDocuments"]
    # the appendix 3 form, printable in the applicant's language
    expected = {
        "kk": ("Құжаттарды қабылдаудан бас тарту туралы қолхат", "Ата-ана құқығынан айыру туралы сот шешімі"),
        "ru": ("Расписка об отказе в приеме документов", "Характеристика органа внутренних дел"),
        "en": ("Receipt of refusal to accept the documents", "Court decision on deprivation of parental rights"),
    }
    for lang, (title, missing_name) in expected.items():
        page = await http.get(f"{receipt['url']}?lang={lang}", headers=ADMIN)
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
        assert title in page.text and missing_name in page.text and "ЖҰМАБАЕВА ГҮЛНАР СЕРІКҚЫЗЫ" in page.text
        assert problem["messages"][lang] in page.text.replace("&#x27;", "'")


async def test_an_office_only_service_runs_its_steps_and_its_result_is_issued_at_the_office(
    http: httpx.AsyncClient,
) -> None:
    r = await http.post(OFFICE, json=paper(EXTERNSHIP, EXTERNSHIP_FIELDS, EXTERNSHIP_DOCUMENTS), headers=ADMIN)
    assert r.status_code == 201, r.text
    accepted = r.json()
    case_id, receipt = accepted["caseId"], accepted["receipt"]
    assert (receipt["kind"], receipt["code"], receipt["caseId"]) == ("acceptance", "RECEIPT_ACCEPTED", case_id)
    assert receipt["messages"]["kk"] == "Құжаттардың қабылданғаны туралы қолхат берілді."
    case = await until_closed(http, case_id)
    assert (case["channel"], case["routeId"], case["status"], case["issued"]) == (
        "office",
        "provider",
        "approved",
        None,
    )
    labels = [(e["component"], e["step"], e["code"]) for e in await trace(http, case_id)]
    assert labels[0] == ("office", "intake:receipt", "RECEIPT_ACCEPTED")
    assert labels[1] == ("gateway", "office:registered", None)
    assert [step for _, step, _ in labels if step.startswith("provider:")] == [f"provider:{n}" for n in "12345678"], (
        labels
    )
    assert labels[-1] == ("gateway", "office:result", "RESULT_READY_AT_OFFICE")
    # no requester to answer: nothing went back through the gateway
    journal = (await http.get(f"/shep/api/journal?serviceId=RSHEP_{EXTERNSHIP}", headers=ADMIN)).json()
    assert journal["entries"] == []
    # a result not issued yet reads as such; the clerk issues it once
    issued = await http.post(f"/rshep/api/cases/{case_id}/issue", json={"employee": "kyzylorda_clerk"}, headers=ADMIN)
    assert issued.status_code == 200 and issued.json()["issued"]["by"] == "kyzylorda_clerk"
    last = (await trace(http, case_id))[-1]
    assert (last["component"], last["step"], last["code"]) == ("office", "provider:8", "RESULT_ISSUED")
    twice = await http.post(f"/rshep/api/cases/{case_id}/issue?lang=kk", headers=ADMIN)
    assert twice.status_code == 409 and twice.json()["code"] == "CASE_ALREADY_ISSUED"
    assert twice.json()["message"] == "Өтініштің нәтижесі көрсетілетін қызметті алушыға бұрын берілген."
    assert len(await trace(http, case_id)) == len(labels) + 1
    # the receipt and the result, printable in kk/ru/en
    papers = {
        "kk": ("Құжаттардың қабылданғаны туралы қолхат", "Дәрігерлік-консультациялық комиссияның қорытындысы"),
        "ru": ("Расписка о приеме документов", "Заключение врачебно-консультационной комиссии"),
        "en": ("Receipt of acceptance of the documents", "Conclusion of the medical consultation commission"),
    }
    for lang, (title, document) in papers.items():
        page = await http.get(f"/rshep/office/receipts/{case_id}?lang={lang}", headers=ADMIN)
        assert page.status_code == 200 and title in page.text and document in page.text
    results = {"kk": "Мемлекеттік қызмет көрсету нәтижесі", "ru": "Результат оказания государственной услуги",
               "en": "Result of the public service"}  # fmt: skip
    for lang, title in results.items():
        page = await http.get(f"/rshep/cases/{case_id}/result?lang={lang}", headers=ADMIN)
        assert page.status_code == 200 and title in page.text and 'data-kind="result"' in page.text
        assert "ЖАҚЫПОВА ЛӘЗЗАТ АСҚАРҚЫЗЫ" in page.text  # the head who signed it


async def test_the_foreign_labour_office_gives_the_tear_off_coupon(http: httpx.AsyncClient) -> None:
    fields = {"employer_bin": "051240007898", "position": "инженер", "workers": "2", "consent": "yes"}
    r = await http.post(OFFICE, json=paper("foreign_labour_permit", fields, ["labour_market_search"]), headers=ADMIN)
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt"]
    assert receipt["code"] == "TEAR_OFF_COUPON" and receipt["messages"]["ru"] == "Выдан отрывной талон заявления."
    first = (await trace(http, r.json()["caseId"]))[0]
    assert (first["step"], first["code"]) == ("provider:1", "TEAR_OFF_COUPON")  # the catalogue's notice step
    page = await http.get(f"{receipt['url']}?lang=en", headers=ADMIN)
    assert "Tear-off coupon of the application" in page.text


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        (paper("no_such_service", {}, []), 404, "SERVICE_NOT_FOUND", "no_such_service"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS, ["identity_document"]) | {"applicantIin": "880401303126"}, 422,
         "OFFICE_APPLICATION_INVALID", "applicantIin: not a valid IIN"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS | {"grade": "seventh"}, []), 422, "OFFICE_APPLICATION_INVALID",
         "grade: not a whole number"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS, ["passport_of_mars"]), 422, "OFFICE_APPLICATION_INVALID",
         "passport_of_mars: not a document of this service"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS, [], route="hqo"), 422, "OFFICE_APPLICATION_INVALID", "no route 'hqo'"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS, [], employee="aktobe_clerk"), 403, "CASE_WRONG_ROLE", "aktobe_clerk"),
        (paper(EXTERNSHIP, EXTERNSHIP_FIELDS, []) | {"unknown": 1}, 422, "REQUEST_INVALID", "unknown"),
    ],
)  # fmt: skip
async def test_bad_applications_are_refused_clearly_and_change_nothing(
    http: httpx.AsyncClient, body: dict[str, Any], status: int, code: str, says: str
) -> None:
    before = await counts(http)
    r = await http.post(OFFICE, json=body, headers=ADMIN)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert says in r.json()["detail"] and set(r.json()["messages"]) == {"kk", "ru", "en"}
    assert await counts(http) == before


async def test_issuing_is_for_closed_cases_of_the_office_only(http: httpx.AsyncClient) -> None:
    r = await http.put(f"/rshep/api/policies/{EXTERNSHIP}", json={"mode": "manual"}, headers=ADMIN)
    assert r.status_code == 200
    try:
        r = await http.post(OFFICE, json=paper(EXTERNSHIP, EXTERNSHIP_FIELDS, EXTERNSHIP_DOCUMENTS), headers=ADMIN)
        case_id = r.json()["caseId"]
        early = await http.post(f"/rshep/api/cases/{case_id}/issue", headers=ADMIN)
        assert (early.status_code, early.json()["code"]) == (409, "CASE_RESULT_NOT_READY")
        assert early.json()["messages"]["en"] == "The request's result is not ready yet."
        unknown = await http.post("/rshep/api/cases/NOPE-1/issue", headers=ADMIN)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "CASE_NOT_FOUND")
        assert (await http.post(f"/rshep/api/cases/{case_id}/issue")).status_code == 401
        page = await http.get(f"/rshep/cases/{case_id}/result?lang=ru", headers=ADMIN)
        assert page.status_code == 409 and "Результат ещё не готов." in page.text
        assert (await http.get("/rshep/office/receipts/NOPE?lang=en", headers=ADMIN)).status_code == 404
        assert (await http.get("/rshep/api/office/receipts/NOPE", headers=ADMIN)).json()["code"] == "RECEIPT_NOT_FOUND"
        assert (await http.get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()["issued"] is None
    finally:
        await http.put(f"/rshep/api/policies/{EXTERNSHIP}", json={"scale": 0}, headers=ADMIN)
