"""ЭҮАШ АЖО / АРМ РШЭП's pages (``/rshep/``) as the providers' employees and the operator meet
them: through HTTP, and in a real browser (Debian's chromium over the DevTools pipe).

A foster-care request (seed 001: the office clerk, the head, the responsible executor, the head,
the office clerk) is sent on the async channel as the portal sends it, with the service in manual
mode, and is worked through the pages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import lxml.html
import pytest
import pytest_asyncio

from egovsim.app import RunningSimulator
from egovsim.catalog.loader import ServiceCatalog
from gateway.inspector import COOKIE, issue_session
from gateway.providers import load_providers
from gateway.workstation_pages import employees_for_step, form_token
from tests import test_gateway_workstation as workstation_api
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.nca_helpers import served
from tests.test_gateway_inspector import BROWSER, CSP, Chromium, assert_safe_html_page, require_chromium, rows
from tests.test_gateway_workstation import FOSTER, advance, apply, freeze

pytestmark = pytest.mark.asyncio(loop_scope="module")

# the portal as a sender of the workstation's services, its certificate valid 2026–2029 (the
# clock is frozen in 2027), and the operator's HTTP client: the JSON API tests' own fixture
world = workstation_api.world

PROVIDER = "aktobe_city_education"
VISITATION = "visitation_permit_deprived_parents"  # the same provider's other service
CLERK, HEAD = "ЖҰМАБАЕВА ГҮЛНАР СЕРІКҚЫЗЫ", "ТӨЛЕГЕНОВ ЕРБОЛ МАРАТҰЛЫ"
HOSTILE_GROUND = '<script>alert("ground")</script> құжаттар толық емес & <b>қате</b>'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def manual(world: dict[str, Any]) -> AsyncIterator[None]:
    """Foster care is worked by hand while this module runs."""
    http = world["http"]
    assert (await http.put(f"/rshep/api/policies/{FOSTER}", json={"mode": "manual"}, headers=ADMIN)).status_code == 200
    yield
    await http.put(f"/rshep/api/policies/{FOSTER}", json={}, headers=ADMIN)


async def new_case(world: dict[str, Any], message_id: str, at: str = "2027-06-01T09:00:00+05:00") -> str:
    await freeze(world["http"], at)
    return str((await apply(world, FOSTER, message_id))["id"])


@contextlib.asynccontextmanager
async def employee(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client signed in through the inspector's login form: the session cookie only."""
    async with nca.client() as http:
        r = await http.post("/inspector/login", data={"token": ADMIN_TOKEN, "next": "/rshep/"}, headers=BROWSER)
        assert (r.status_code, r.headers["location"]) == (303, "/rshep/")
        yield http


def step_form(page: httpx.Response) -> dict[str, Any]:
    """The case page's form for the current step: where it posts, its token, whom it offers."""
    forms = lxml.html.fromstring(page.text).xpath('//form[@id="complete-step"]')
    assert len(forms) == 1, page.text
    form = forms[0]
    return {
        "action": form.get("action"),
        "token": form.xpath('input[@name="token"]/@value')[0],
        "employees": [v for v in form.xpath('.//select[@name="employee"]/option/@value') if v],
    }


def current_step(page: httpx.Response) -> str:
    return str(lxml.html.fromstring(page.text).get_element_by_id("current-step").text_content())


def step_cells(page: httpx.Response, n: str) -> dict[str, str]:
    doc = lxml.html.fromstring(page.text)
    heads = [th.text_content() for th in doc.xpath('//table[@id="steps"]/thead/tr/th')]
    (row,) = doc.xpath(f'//table[@id="steps"]/tbody/tr[@data-step="{n}"]')
    return dict(zip(heads, (td.text_content() for td in row.xpath("td")), strict=True))


def messages(nca: RunningSimulator, code: str, **params: object) -> dict[str, str]:
    entry = nca.kernel.refusals.get(code)
    assert entry is not None
    return entry.messages(params)


def assert_refusal_shown(nca: RunningSimulator, page: httpx.Response, code: str, **params: object) -> None:
    assert_safe_html_page(page)
    alert = lxml.html.fromstring(page.text).xpath('//div[@role="alert"]')
    assert alert, page.text
    text = alert[0].text_content()
    assert code in text
    for message in messages(nca, code, **params).values():
        assert message in text, message


async def complete(http: httpx.AsyncClient, page: httpx.Response, **fields: str) -> httpx.Response:
    form = step_form(page)
    return await http.post(form["action"], data={"token": form["token"]} | fields, headers=BROWSER)


# -- who may work the inbox -------------------------------------------------------------------------
async def test_a_browser_without_a_session_signs_in_at_the_inspector_and_comes_back(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-LOGIN")
    path = f"/rshep/cases/{case_id}"
    async with nca.client() as http:
        for page in ("/rshep/", "/rshep/?provider=aktobe_city_education", path, "/rshep/policies"):
            r = await http.get(page, headers=BROWSER)
            assert (r.status_code, r.headers["location"]) == (303, f"/inspector/login?{urlencode({'next': page})}")
            assert r.headers["content-security-policy"] == CSP
            api = await http.get(page, headers={"Accept": "application/json"})
            assert api.status_code == 401 and api.json()["code"] == "ADMIN_AUTH_REQUIRED"
        posted = await http.post(f"{path}/steps/1", data={"employee": "aktobe_clerk"}, headers=BROWSER)
        assert posted.headers["location"] == f"/inspector/login?{urlencode({'next': path})}"
        form = await http.get(posted.headers["location"], headers=BROWSER)
        assert lxml.html.fromstring(form.text).xpath('//input[@name="next"]/@value') == [path]
        signed = await http.post("/inspector/login", data={"token": ADMIN_TOKEN, "next": path}, headers=BROWSER)
        assert (signed.status_code, signed.headers["location"]) == (303, path)
        cookies = signed.headers.get_list("set-cookie")
        paths = {part.strip().lower() for c in cookies for part in c.split(";") if "path=" in part.lower()}
        assert paths == {"path=/inspector", "path=/rshep"}
        assert all("httponly" in c.lower() and "samesite=strict" in c.lower() for c in cookies)
        assert (await http.get(path, headers=BROWSER)).status_code == 200  # the cookie alone
        for elsewhere in ("https://evil.example/rshep/", "//evil.example/rshep/", "/shep/api/routes", "/rshepx",
                          "/rshep\\@evil.example", "javascript:alert(1)"):  # fmt: skip
            r = await http.post("/inspector/login", data={"token": ADMIN_TOKEN, "next": elsewhere}, headers=BROWSER)
            assert r.headers["location"] == "/inspector/journal", elsewhere
        out = await http.post("/inspector/logout", headers=BROWSER)
        assert {c.split(";")[0] for c in out.headers.get_list("set-cookie")} == {f'{COOKIE}=""'}
        assert len(out.headers.get_list("set-cookie")) == 2
        assert (await http.get(path, headers=BROWSER)).status_code == 303


# -- the inbox --------------------------------------------------------------------------------------
async def test_the_inbox_lists_requests_newest_first_with_the_current_step_its_role_and_due_time(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    older = await new_case(world, "PAGES-INBOX-1", "2027-06-02T09:00:00+05:00")
    newer = await new_case(world, "PAGES-INBOX-2", "2027-06-02T09:05:00+05:00")
    async with employee(nca) as http:
        page = await http.get("/rshep/", params={"provider": PROVIDER}, headers=BROWSER)
        assert page.status_code == 200
        assert_safe_html_page(page)
        listed = rows(page)
        ids = [row["Registration number"] for row in listed]
        assert ids.index(newer) < ids.index(older)
        row = listed[ids.index(newer)]
        assert FOSTER in row["Service"] and "Баланы (балаларды) патронаттық тәрбиелеуге беру" in row["Service"]
        assert (row["Applicant IIN"], row["Mode"], row["Status"]) == ("900115300013", "manual", "registered")
        assert (row["Current step"], row["Role"], row["Overdue"]) == ("1", "office_clerk", "")
        assert row["Step due"] == "2027-06-02 09:35:00"  # step 1: 30 minutes
        assert f'href="/rshep/cases/{newer}"' in page.text
        tab = lxml.html.fromstring(page.text).xpath('//nav[@class="tabs"]/a[@aria-current="page"]/@href')
        assert tab == [f"/rshep/?provider={PROVIDER}"]
        elsewhere = await http.get("/rshep/", params={"provider": "kyzylorda_city_education"}, headers=BROWSER)
        assert newer not in elsewhere.text
        everyone = await http.get("/rshep/", params={"provider": '"><script>alert(1)</script>'}, headers=BROWSER)
        assert everyone.status_code == 200 and newer in everyone.text and "<script" not in everyone.text


async def test_a_request_past_the_regulation_deadline_is_flagged_overdue(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-LATE", "2027-07-01T09:00:00+05:00")
    await advance(world["http"], "31d")  # nobody worked it: past the regulation's 30 calendar days
    async with employee(nca) as http:
        row = next(r for r in rows(await http.get("/rshep/", headers=BROWSER)) if r["Registration number"] == case_id)
        assert row["Overdue"] == "OVERDUE"
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        assert '<span class="badge overdue">OVERDUE</span>' in page.text


# -- one request ------------------------------------------------------------------------------------
async def test_the_case_page_shows_the_steps_and_offers_only_the_office_clerk_for_step_1(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-CASE")
    async with employee(nca) as http:
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        assert page.status_code == 200
        assert_safe_html_page(page)
        form = step_form(page)
        assert form["employees"] == ["aktobe_clerk"]
        assert form["action"] == f"/rshep/cases/{case_id}/steps/1"
        text = lxml.html.fromstring(page.text).text_content()
        for shown in ("Баланы (балаларды) патронаттық тәрбиелеуге беру", "Передача ребенка (детей) на патронатное",
                      "Ақтөбе қаласының білім бөлімі", "990340001111", "900115300013", "2027-06-01 09:00:00",
                      CLERK):  # fmt: skip
            assert shown in text, shown
        first = step_cells(page, "1")
        assert first["Action"].startswith("Стандарттың 9-тармағына сәйкес ұсынылған құжаттарды қабылдауды")
        assert (first["Role"], first["Duration"], first["Due"]) == ("office_clerk", "30 minutes", "2027-06-01 09:30:00")
        assert step_cells(page, "5")["Started"] == "—"
        assert current_step(page) == "1"


async def test_an_employee_of_another_role_is_refused_with_case_wrong_role(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-WRONG-ROLE")
    async with employee(nca) as http:
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        r = await complete(http, page, employee="aktobe_head", outcome="done")
        assert r.status_code == 403
        assert_refusal_shown(nca, r, "CASE_WRONG_ROLE")
        assert current_step(r) == "1" and step_form(r)["employees"] == ["aktobe_clerk"]
        stranger = await complete(http, page, employee="kyzylorda_clerk")  # another provider's clerk
        assert stranger.status_code == 403 and "CASE_WRONG_ROLE" in stranger.text
    case = (await world["http"].get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
    assert case["currentStep"] == "1" and case["steps"][0]["doneAt"] is None


async def test_the_office_clerk_completes_step_1_and_step_2_becomes_the_heads(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-ADVANCE")
    await advance(world["http"], "10m")
    async with employee(nca) as http:
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        r = await complete(http, page, employee="aktobe_clerk", outcome="done", ground="")
        assert (r.status_code, r.headers["location"]) == (303, f"/rshep/cases/{case_id}")
        page = await http.get(r.headers["location"], headers=BROWSER)
        assert current_step(page) == "2"
        first = step_cells(page, "1")
        assert (first["Done"], first["Outcome"]) == ("2027-06-01 09:10:00", "done")
        assert first["By"] == f"{CLERK} (aktobe_clerk)"
        assert step_form(page)["employees"] == ["aktobe_head"]
        assert step_form(page)["action"] == f"/rshep/cases/{case_id}/steps/2"
        again = await complete(http, page, employee="aktobe_clerk")
        assert again.status_code == 403  # the same form posted to step 2 by the clerk
    case = (await world["http"].get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
    assert case["currentStep"] == "2" and case["steps"][0]["doneBy"] == "aktobe_clerk"


async def test_a_form_without_this_sessions_token_for_this_request_is_refused(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-TOKEN")
    other = await new_case(world, "PAGES-TOKEN-OTHER")
    action = f"/rshep/cases/{case_id}/steps/1"
    async with employee(nca) as http:
        session = http.cookies.get(COOKIE, path="/rshep")
        assert session
        another_session = issue_session(ADMIN_TOKEN, datetime.now().astimezone() - timedelta(minutes=1))
        tokens = {
            "missing": None,
            "forged": "0" * 64,
            "another request's": form_token(ADMIN_TOKEN, session, f"case:{other}"),
            "another session's": form_token(ADMIN_TOKEN, another_session, f"case:{case_id}"),
            "another admin token's": form_token("another-admin-token", session, f"case:{case_id}"),
        }
        for name, token in tokens.items():
            fields = {"employee": "aktobe_clerk"} | ({"token": token} if token else {})
            r = await http.post(action, data=fields, headers=BROWSER)
            assert r.status_code == 422, name
            assert_refusal_shown(nca, r, "REQUEST_INVALID")
            assert "form token" in r.text and current_step(r) == "1", name
    # signed in with the bearer token instead, the cookie's token is not this session's either
    async with nca.client() as bearer:
        good_for_cookie = form_token(ADMIN_TOKEN, session, f"case:{case_id}")
        r = await bearer.post(action, data={"token": good_for_cookie, "employee": "aktobe_clerk"}, headers=ADMIN)
        assert r.status_code == 422
    case = (await world["http"].get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
    assert case["currentStep"] == "1"


async def test_an_unknown_request_is_a_404_page_naming_the_code(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    async with employee(nca) as http:
        for case_id in ("NOPE", '"><img src=x onerror=alert(1)>'):
            r = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
            assert r.status_code == 404
            assert_refusal_shown(nca, r, "CASE_NOT_FOUND")
            assert "<img" not in r.text
        token = form_token(ADMIN_TOKEN, http.cookies.get(COOKIE, path="/rshep") or "", "case:NOPE")
        r = await http.post("/rshep/cases/NOPE/steps/1", data={"token": token, "employee": "aktobe_clerk"})
        assert r.status_code == 404 and "CASE_NOT_FOUND" in r.text


async def test_a_refusal_needs_its_ground_which_is_shown_escaped_with_the_signed_refusal(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    case_id = await new_case(world, "PAGES-REFUSE")
    async with employee(nca) as http:
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        assert (await complete(http, page, employee="aktobe_clerk")).status_code == 303
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        bare = await complete(http, page, employee="aktobe_head", outcome="refused", ground="  ")
        assert bare.status_code == 422
        assert_refusal_shown(nca, bare, "CASE_BAD_GROUND")
        kept = lxml.html.fromstring(bare.text)
        assert kept.xpath('//input[@name="outcome"][@checked]/@value') == ["refused"]
        assert kept.xpath('//select[@name="employee"]/option[@selected]/@value') == ["aktobe_head"]
        r = await complete(http, page, employee="aktobe_head", outcome="refused", ground=HOSTILE_GROUND)
        assert r.status_code == 303
        page = await http.get(f"/rshep/cases/{case_id}", headers=BROWSER)
        assert page.status_code == 200
        assert_safe_html_page(page)
        assert "<script" not in page.text and "<b>қате" not in page.text
        doc = lxml.html.fromstring(page.text)
        assert not doc.xpath("//script") and not doc.xpath('//form[@id="complete-step"]')  # closed: no form
        assert step_cells(page, "2")["Ground"] == HOSTILE_GROUND
        assert [step_cells(page, n)["Outcome"] for n in "12345"] == ["done", "refused", "skipped", "skipped", "skipped"]
        assert doc.get_element_by_id("result-signer").text_content() == HEAD
        shown = doc.get_element_by_id("result-xml").text_content()  # the XML as text: its markup escaped once
        assert "<kind>refusal</kind>" in shown and f"<registrationNumber>{case_id}</registrationNumber>" in shown
        assert '<ground>&lt;script&gt;alert("ground")&lt;/script&gt; құжаттар толық емес &amp; ' in shown
        assert "\n  <" in shown and "SignatureValue" in shown  # indented, with its signature


# -- policies ---------------------------------------------------------------------------------------
async def test_the_policies_page_sets_how_a_service_is_worked(
    nca: RunningSimulator, world: dict[str, Any], manual: None
) -> None:
    async with employee(nca) as http:
        page = await http.get("/rshep/policies", headers=BROWSER)
        assert page.status_code == 200
        assert_safe_html_page(page)
        by_service = {r["Service"].split("\n")[-1]: r for r in rows(page)}
        assert len(by_service) == len(nca.kernel.services)
        foster = next(r for key, r in by_service.items() if key.endswith(FOSTER))
        assert (foster["Mode"], foster["Decision"], foster["Scale"]) == ("manual", "approve", "1.0")
        doc = lxml.html.fromstring(page.text)
        action = f"/rshep/policies/{VISITATION}"
        (token,) = doc.xpath(f'//form[@action="{action}"]/input[@name="token"]/@value')
        try:
            no_ground = {"token": token, "mode": "autopilot", "decision": "refuse", "refusalGround": ""}
            r = await http.post(action, data=no_ground, headers=BROWSER)
            assert r.status_code == 422
            assert_refusal_shown(nca, r, "REQUEST_INVALID")
            assert "a refusal needs its ground" in r.text
            refuse = no_ground | {"refusalGround": "құжаттар толық емес", "refuseAtStep": "3", "scale": "0.5"}
            r = await http.post(action, data=refuse, headers=BROWSER)
            assert (r.status_code, r.headers["location"]) == (303, f"/rshep/policies#policy-{VISITATION}")
            policy = (await world["http"].get(f"/rshep/api/policies/{VISITATION}", headers=ADMIN)).json()
            assert policy == {
                "mode": "autopilot", "decision": "refuse", "refusal_ground": "құжаттар толық емес",
                "refuse_at_step": "3", "scale": 0.5, "refusal_code": None,
            }  # fmt: skip
            row = rows(await http.get("/rshep/policies", headers=BROWSER))
            shown = next(r for r in row if r["Service"].endswith(VISITATION))
            assert (shown["Decision"], shown["Refusal ground"], shown["Scale"]) == (
                "refuse",
                "құжаттар толық емес",
                "0.5",
            )
            r = await http.post(action, data={"mode": "manual"}, headers=BROWSER)  # no token
            assert r.status_code == 422 and "form token" in r.text
            nope_token = form_token(ADMIN_TOKEN, http.cookies.get(COOKIE, path="/rshep") or "", "policy:nope")
            r = await http.post("/rshep/policies/nope", data={"token": nope_token}, headers=BROWSER)
            assert r.status_code == 404
            assert_refusal_shown(nca, r, "SERVICE_NOT_FOUND", service_id="nope")
        finally:
            await world["http"].put(f"/rshep/api/policies/{VISITATION}", json={}, headers=ADMIN)


async def test_a_step_of_someone_outside_the_provider_may_be_recorded_by_any_of_its_employees() -> None:
    providers = load_providers(ServiceCatalog.load())
    assert [e.id for e in employees_for_step(providers, PROVIDER, "head")] == ["aktobe_head"]
    anyone = [e.id for e in employees_for_step(providers, PROVIDER, "recipient")]
    assert anyone == ["aktobe_clerk", "aktobe_head", "aktobe_executor"]


# -- in a real browser ------------------------------------------------------------------------------
def wait_until(browser: Chromium, expression: str, expected: Any, timeout: float = 20.0) -> None:
    """Until ``expression`` gives ``expected`` on the page (a navigation in flight is retried)."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = browser.evaluate(expression)
        except RuntimeError:  # the old document went away mid-call
            seen = None
        if seen == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"{expression} stayed {seen!r}, not {expected!r}")


def work_in_browser(base: str, case_id: str, profile: Path) -> dict[str, Any]:
    """An employee's visit: open the request, sign in, choose the office clerk, complete step 1."""
    browser = Chromium(profile)
    path = f"/rshep/cases/{case_id}"
    try:
        browser.call("Page.navigate", url=f"{base}{path}")
        browser.wait_for_page(f"/inspector/login?{urlencode({'next': path})}")  # not signed in
        browser.evaluate(f"document.querySelector('input[name=token]').value = {json.dumps(ADMIN_TOKEN)}")
        browser.evaluate("document.querySelector('form[action=\"/inspector/login\"] button[type=submit]').click()")
        browser.wait_for_page(path)  # and back at the request
        select = "document.querySelector('#complete-step select[name=employee]')"
        seen: dict[str, Any] = {
            "before": browser.evaluate("document.getElementById('current-step').textContent"),
            "choices": browser.evaluate(f"Array.from({select}.options).map(o => o.value).filter(v => v)"),
            "lang": browser.evaluate("document.documentElement.lang"),
            "cookies": browser.call("Network.getCookies")["cookies"],
        }
        browser.evaluate(f"{select}.value = 'aktobe_clerk'")
        browser.evaluate("document.querySelector('#complete-step button[type=submit]').click()")
        wait_until(browser, "document.getElementById('current-step').textContent", "2")
        browser.wait_for_page(path)
        seen["done_by"] = browser.evaluate("document.querySelector('#steps tr[data-step=\"1\"]').cells[7].textContent")
        seen["current_row"] = browser.evaluate("document.querySelector('#steps tr.current').dataset.step")
        seen["choices_after"] = browser.evaluate(f"Array.from({select}.options).map(o => o.value).filter(v => v)")
        seen["scripts"] = browser.evaluate("document.scripts.length")
        return seen
    finally:
        browser.close()


@pytest.mark.slow
async def test_an_employee_completes_a_step_in_chromium(
    nca: RunningSimulator, world: dict[str, Any], manual: None, tmp_path: Path
) -> None:
    require_chromium()
    case_id = await new_case(world, "PAGES-BROWSER")
    async with served(nca) as base:
        seen = await asyncio.wait_for(asyncio.to_thread(work_in_browser, base, case_id, tmp_path), timeout=120)
    assert (seen["before"], seen["choices"], seen["lang"]) == ("1", ["aktobe_clerk"], "en")
    session = next(c for c in seen["cookies"] if c["name"] == COOKIE)
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/rshep"
    assert seen["done_by"] == f"{CLERK} (aktobe_clerk)"
    assert (seen["current_row"], seen["choices_after"], seen["scripts"]) == ("2", ["aktobe_head"], 0)
    case = (await world["http"].get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
    assert case["currentStep"] == "2" and case["steps"][0]["doneBy"] == "aktobe_clerk"
