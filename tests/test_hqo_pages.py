"""The ХҚО operator workstation's web pages (``/hqo/…``) over HTTP, as a browser without JavaScript
meets them: the login form and its cookie, the desk, the application form, the application's page
with its refusal (code, regulation step, text in the page language, the catalogue's HTTP status),
the CSRF token of every form, another centre's application, and the printable papers of standard
002 and regulation 004 in kk, ru and en.

The registries hold the demo personas of ``personas.yaml`` (seeded through their admin API): bolat
grants aigul a valid power of attorney for the Semipalatinsk compensation; erlan's has expired.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from lxml import etree

from egovsim import xmldsig
from egovsim.app import RunningSimulator, running
from egovsim.catalog.forms import intake_form
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.personas import ensure_registry_records
from egovsim.settings import Settings
from tests.conftest import ADMIN, ADMIN_TOKEN, database_for
from tests.test_hqo_chain import DOCUMENTS, FORMS, ORALMAN, PEOPLE, SEMEY

pytestmark = pytest.mark.asyncio(loop_scope="module")

LANGS = ("kk", "ru", "en")
REFUSALS = RefusalCatalog.load()
SERVICES = ServiceCatalog.load()
SEMEY_FORM = intake_form(SERVICES, SEMEY)
XSS = '<script>alert("x")</script>'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def simulator(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSimulator]:
    """One simulator for the module, the personas' registry records seeded and the providers of the
    services answering at once (autopilot, scale 0); every test logs its own operator in."""
    tmp = tmp_path_factory.mktemp("hqo-pages")
    with database_for(tmp) as url:
        async with running(Settings(data_dir=tmp / "data", database_url=url, admin_token=ADMIN_TOKEN)) as sim:
            async with sim.client() as http:
                await ensure_registry_records(http, ADMIN)
                for service in (SEMEY, ORALMAN):
                    r = await http.put(f"/rshep/api/policies/{service}", json={"scale": 0}, headers=ADMIN)
                    assert r.status_code == 200, r.text
            yield sim


@pytest_asyncio.fixture(loop_scope="module")
async def http(simulator: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with simulator.client() as client:
        yield client


class Desk:
    """An operator at the workstation's pages: the session cookie and the forms' CSRF token."""

    def __init__(self, http: httpx.AsyncClient, csrf: str) -> None:
        self.http = http
        self.csrf = csrf

    async def ticket(self) -> str:
        r = await self.http.post("/hqo/tickets", data={"csrf": self.csrf})
        assert r.status_code == 303, r.text
        return re.search(r"ticket=([\w-]+)", r.headers["location"]).group(1)  # type: ignore[union-attr]

    async def apply(self, applicant: str, representative: str | None = None, *, service: str = SEMEY,
                    documents: list[str] | None = None, lang: str = "en", **fields: str) -> httpx.Response:  # fmt: skip
        data = {
            "csrf": self.csrf, "service": service, "ticket": await self.ticket(), "applicant_iin": PEOPLE[applicant],
            "representative_iin": PEOPLE[representative] if representative else "", "poa_number": "",
            "applicant_lang": lang, **FORMS[service], **fields,
            "documents": DOCUMENTS[service] if documents is None else documents,
        }  # fmt: skip
        return await self.http.post(f"/hqo/applications?lang={lang}", data=data)

    async def accepted(self, applicant: str, representative: str | None = None, **extra: str) -> str:
        r = await self.apply(applicant, representative, **extra)  # type: ignore[arg-type]
        assert r.status_code == 303, r.text
        return r.headers["location"]

    async def answered(self, path: str, lang: str = "en") -> str:
        """Send the package (5-процесс) and reload the page until the provider's answer is in."""
        r = await self.http.post(f"{path}/send", data={"csrf": self.csrf})
        assert r.status_code == 303, r.text
        for _ in range(150):
            page = (await self.http.get(f"{path}?lang={lang}")).text
            if 'data-status="result_ready"' in page or 'data-status="refused_by_provider"' in page:
                return page
            await asyncio.sleep(0.1)
        raise AssertionError(page)


async def log_in(http: httpx.AsyncClient, login: str = "op.semey") -> Desk:
    r = await http.post("/hqo/login", data={"login": login, "password": "Qwerty12"})
    assert r.status_code == 303 and r.headers["location"] == "/hqo/", r.text
    page = await http.get("/hqo/")
    assert page.status_code == 200, page.text
    return Desk(http, re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1))  # type: ignore[union-attr]


@pytest_asyncio.fixture(loop_scope="module")
async def desk(http: httpx.AsyncClient) -> Desk:
    return await log_in(http)


def refusal_of(page: str) -> tuple[str, str, str]:
    """(code, step, message) of the page's refusal block."""
    block = re.search(r'<div class="refusal"[^>]*data-code="([^"]+)".*?<span class="step">([^<]*)</span>.*?'
                      r'<p class="message">([^<]*)</p>', page, re.S)  # fmt: skip
    assert block, page
    return block.group(1), html.unescape(block.group(2)), html.unescape(block.group(3))


def assert_refusal(r: httpx.Response, code: str, lang: str, **params: object) -> None:
    entry = REFUSALS.get(code)
    assert entry is not None
    assert r.status_code == entry.http_status, r.text
    assert refusal_of(r.text) == (code, entry.step, entry.message(lang, dict(params))), r.text


def number_of(path_or_page: str) -> str:
    return re.search(r"HQO-\d{6}-[0-9A-F]{8}", path_or_page).group(0)  # type: ignore[union-attr]


# -- 1-процесс -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "title", "centre"), [
    ("kk", "Оператордың кіруі", "Семей қаласының №1 ХҚО"), ("ru", "Вход оператора", "ЦОН №1 города Семей"),
    ("en", "Operator login", "Semey population service centre No. 1"),
])  # fmt: skip
async def test_login_page_lists_the_demo_operators_in_the_page_language(
    http: httpx.AsyncClient, lang: str, title: str, centre: str
) -> None:
    r = await http.get(f"/hqo/login?lang={lang}")
    assert r.status_code == 200
    assert f'<html lang="{lang}">' in r.text and f"<h1>{title}</h1>" in r.text
    assert 'data-operator="op.semey"' in r.text and 'data-operator="op.astana"' in r.text
    assert centre in r.text and "Qwerty12" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert '<label for="login-name">' in r.text and '<label for="password">' in r.text
    r = await http.get("/hqo/login?login=op.astana")
    assert 'value="op.astana"' in r.text  # the picker fills the login in


async def test_a_wrong_password_is_refused_at_process_1_with_the_catalogues_status(http: httpx.AsyncClient) -> None:
    r = await http.post("/hqo/login?lang=ru", data={"login": "op.astana", "password": "wrong-password"})
    assert_refusal(r, "HQO_AUTH_REFUSED", "ru")
    assert "egovsim_hqo" not in r.headers.get("set-cookie", "")
    assert 'value="op.astana"' in r.text  # the login is kept, the password is not


async def test_pages_without_a_session_go_to_the_login_form_and_back(http: httpx.AsyncClient) -> None:
    for path in ("/hqo/", "/hqo/applications/HQO-000000-00000000/receipt"):
        r = await http.get(path)
        assert r.status_code == 303
        assert r.headers["location"] == f"/hqo/login?{urlencode({'next': path})}"
    r = await http.post("/hqo/login", data={"login": "op.semey", "password": "Qwerty12", "next": "/hqo/?lang=ru"})
    assert r.status_code == 303 and r.headers["location"] == "/hqo/?lang=ru"
    r = await http.post("/hqo/login", data={"login": "op.semey", "password": "Qwerty12", "next": "//evil.example/"})
    assert r.headers["location"] == "/hqo/"  # no open redirect


async def test_logout_ends_the_session(desk: Desk) -> None:
    r = await desk.http.post("/hqo/logout", data={"csrf": desk.csrf})
    assert r.status_code == 303 and r.headers["location"] == "/hqo/login?out=1"
    r = await desk.http.get("/hqo/login?out=1&lang=en")
    assert "You have logged out." in r.text
    assert (await desk.http.get("/hqo/")).status_code == 303


# -- CSRF ----------------------------------------------------------------------------------------------
async def test_every_form_is_refused_without_the_csrf_token(desk: Desk) -> None:
    number = number_of(await desk.accepted("bolat"))
    for path, data in [
        ("/hqo/tickets", {}), ("/hqo/logout", {}),
        ("/hqo/applications", {"service": SEMEY, "ticket": "x", "applicant_iin": PEOPLE["bolat"]}),
        (f"/hqo/applications/{number}/send", {}), (f"/hqo/applications/{number}/handover", {"to": "applicant"}),
        (f"/hqo/applications/{number}/recall", {}),
    ]:  # fmt: skip
        for token in (None, "0" * 64):
            r = await desk.http.post(f"{path}?lang=kk", data=data | ({"csrf": token} if token else {}))
            assert_refusal(r, "PORTAL_CSRF_REFUSED", "kk")
    assert 'data-status="checked"' in (await desk.http.get(f"/hqo/applications/{number}")).text  # nothing was sent


# -- the desk and the form -----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
async def test_the_desk_and_the_application_form_in_each_language(desk: Desk, lang: str) -> None:
    r = await desk.http.post(f"/hqo/tickets?lang={lang}", data={"csrf": desk.csrf})
    assert r.status_code == 303
    r = await desk.http.get(r.headers["location"])
    assert r.status_code == 200 and f'<html lang="{lang}">' in r.text
    assert re.search(r'id="ticket-display">A\d{3}<', r.text)
    ticket = re.search(r'id="ticket-number">([\w-]+)<', r.text).group(1)  # type: ignore[union-attr]
    service = SERVICES.get(SEMEY)
    assert service is not None and SEMEY_FORM is not None
    assert html.escape(service.titles.get(lang)) in r.text
    assert f'<option value="{ORALMAN}">' in r.text
    assert "<table><thead><tr><th>{}".format({"kk": "Нөмірі", "ru": "Номер", "en": "Number"}[lang]) in r.text
    r = await desk.http.get(f"/hqo/applications/new?{urlencode({'service': SEMEY, 'ticket': ticket})}")
    assert r.status_code == 200
    assert f'name="ticket" value="{ticket}"' in r.text
    for field in SEMEY_FORM.fields:
        assert html.escape(field.label.get(lang)) in r.text
    for document in SEMEY_FORM.documents:
        assert f'<label for="doc-{document.id}">{html.escape(document.name.get(lang))}</label>' in r.text
    assert r.text.count('name="csrf"') == 2  # the application, and the log-out button


async def test_a_service_not_received_at_the_centre_is_refused(desk: Desk) -> None:
    r = await desk.http.get("/hqo/applications/new?service=foster_care_patronage_placement&lang=ru")
    assert_refusal(r, "HQO_SERVICE_NOT_AT_HQO", "ru")
    r = await desk.http.post("/hqo/applications?lang=en", data={"csrf": desk.csrf, "service": "nothing"})
    assert_refusal(r, "HQO_SERVICE_NOT_AT_HQO", "en")


async def test_bad_input_shows_the_form_again_with_the_refusal_and_stores_nothing(desk: Desk) -> None:
    before = (await desk.http.get("/hqo/")).text.count("<tr data-number=")
    r = await desk.apply("bolat", lang="ru", bank_account=XSS, applicant_iin="123456789012")
    assert r.status_code == 422
    code, step, message = refusal_of(r.text)
    assert (code, step) == ("HQO_FORM_INVALID", "hqo:2-процесс") and "applicantIin" in message
    assert 'value="123456789012"' in r.text and html.escape(XSS) in r.text and XSS not in r.text  # kept, escaped
    r = await desk.apply("bolat", applicant_iin="4803083001219")  # 13 digits: refused, not cut to 12
    assert refusal_of(r.text)[0] == "HQO_FORM_INVALID"
    r = await desk.apply("bolat", consent="")
    assert refusal_of(r.text)[0] == "HQO_FORM_INVALID"
    r = await desk.apply("bolat", ticket="000000-000-999")
    assert_refusal(r, "HQO_TICKET_INVALID", "en")
    assert (await desk.http.get("/hqo/")).text.count("<tr data-number=") == before


# -- 1-шарт → 4-процесс, and the incomplete package -------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
async def test_an_expired_power_of_attorney_lands_on_the_application_page_with_the_notice(
    desk: Desk, lang: str
) -> None:
    r = await desk.apply("bolat", "erlan", lang=lang)
    assert_refusal(r, "HQO_POA_EXPIRED", lang)
    assert 'data-status="refused"' in r.text
    path = f"/hqo/applications/{number_of(r.text)}"
    assert 'id="paper-notice"' in r.text and 'id="paper-receipt"' not in r.text
    assert '<tr data-step="hqo:4-процесс" data-outcome="refused">' in r.text
    r = await desk.http.get(path)
    assert r.status_code == 200 and refusal_of(r.text)[0] == "HQO_POA_EXPIRED"
    notice = await desk.http.get(f"{path}/notice?lang={lang}")
    assert notice.status_code == 200 and 'data-paper="notice"' in notice.text
    general = REFUSALS.get("HQO_DATA_NOT_OBTAINED")
    assert general is not None and html.escape(general.message(lang)) in notice.text
    assert refusal_of(notice.text)[2] == REFUSALS.get("HQO_POA_EXPIRED").message(lang)  # type: ignore[union-attr]
    assert PEOPLE["bolat"] in notice.text and PEOPLE["erlan"] in notice.text
    r = await desk.http.get(f"{path}/receipt?lang={lang}")  # accepted it was not: no receipt
    assert_refusal(r, "HQO_APPLICATION_STATE", lang, status="refused")
    r = await desk.http.post(f"{path}/send?lang={lang}", data={"csrf": desk.csrf})
    assert_refusal(r, "HQO_APPLICATION_STATE", lang, status="refused")


@pytest.mark.parametrize("lang", LANGS)
async def test_an_incomplete_package_gets_the_refusal_receipt_listing_the_missing_documents(
    desk: Desk, lang: str
) -> None:
    assert SEMEY_FORM is not None
    names = {d.id: d.name.get(lang) for d in SEMEY_FORM.documents}
    r = await desk.apply("bolat", "aigul", documents=["identity_document"], lang=lang)
    missing = [names["residence_certificate"], names["bank_details"]]
    assert_refusal(r, "PACKAGE_INCOMPLETE", lang, missing=", ".join(missing))
    assert 'data-status="not_accepted"' in r.text
    receipt = await desk.http.get(f"/hqo/applications/{number_of(r.text)}/refusal-receipt?lang={lang}")
    assert receipt.status_code == 200
    listed = re.search(r'<div id="missing"><ol>(.*?)</ol>', receipt.text).group(1)  # type: ignore[union-attr]
    assert re.findall(r"<li>([^<]*)</li>", listed) == [html.escape(n) for n in missing]
    form = next(f for f in SERVICES.get("visitation_permit_deprived_parents").forms if f.kind == "refusal_receipt")  # type: ignore[union-attr]
    for field in form.fields:  # every line of the standard's appendix 3, captioned in the page language
        assert f'data-field="{field.id}"' in receipt.text
        assert html.escape(field.label.get(lang)) in receipt.text
    assert "НҰРБЕКОВА ГҮЛНАР АСҚАРҚЫЗЫ" in receipt.text  # the employee
    assert "@media print" in receipt.text


# -- the happy path, 5-процесс … 8-процесс ------------------------------------------------------------------
async def test_the_chain_through_the_pages_with_a_representative_and_its_papers(desk: Desk) -> None:
    path = await desk.accepted("bolat", "aigul", bank_account=XSS)
    page = (await desk.http.get(path)).text
    assert 'data-status="checked"' in page and '<section aria-labelledby="checks" id="check" data-state="ok">' in page
    assert 'id="poa-number">N2025-000101<' in page and "ЖҰМАБЕКОВ БОЛАТ ТӨЛЕГЕНҰЛЫ" in page
    assert html.escape(XSS) in page and XSS not in page
    assert 'id="send-form"' in page and 'id="handover-form"' not in page
    page = await desk.answered(path)
    assert 'data-status="result_ready"' in page and 'data-keeping="held"' in page
    assert '<input type="radio" id="to-representative" name="to" value="representative" checked>' in page
    for lang in LANGS:
        receipt = await desk.http.get(f"{path}/receipt?lang={lang}")
        assert receipt.status_code == 200 and 'data-paper="receipt"' in receipt.text
        form = next(f for f in SERVICES.get("school_certificate_duplicate").forms if f.kind == "acceptance_receipt")  # type: ignore[union-attr]
        for field in form.fields:  # regulation 003 item 11.2: what the receipt states
            assert html.escape(field.label.get(lang)) in receipt.text
        assert SEMEY_FORM is not None and all(
            html.escape(d.name.get(lang)) in receipt.text for d in SEMEY_FORM.documents
        )
        assert f'<span id="receipt-number">{number_of(path)}</span>' in receipt.text
        result = await desk.http.get(f"{path}/result?lang={lang}")
        assert result.status_code == 200 and 'data-kind="result"' in result.text
        assert html.escape(SERVICES.get(SEMEY).result.get(lang)) in result.text  # type: ignore[union-attr]
        assert 'id="signed-by">' in result.text and PEOPLE["bolat"] in result.text
        consent = await desk.http.get(f"{path}/consent?lang={lang}")
        assert consent.status_code == 200 and "21" in consent.text and "ЖҰМАБЕКОВ БОЛАТ" in consent.text
    xml = await desk.http.get(f"{path}/result.xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    document = etree.fromstring(xml.content)
    assert document.findtext("{urn:egovsim:rshep:result}applicant/{urn:egovsim:rshep:result}iin") == PEOPLE["bolat"]
    xmldsig.verify_enveloped(document)  # the provider's signature, as it came
    r = await desk.http.post(f"{path}/handover", data={"csrf": desk.csrf, "to": "representative"})
    assert r.status_code == 303
    page = (await desk.http.get(path)).text
    assert 'data-status="handed"' in page and '<tr data-step="hqo:8-процесс" data-outcome="ok">' in page
    r = await desk.http.post(f"{path}/handover?lang=en", data={"csrf": desk.csrf, "to": "representative"})
    assert_refusal(r, "HQO_APPLICATION_STATE", "en", status="handed")


async def test_a_provider_refusal_shows_its_ground(desk: Desk, http: httpx.AsyncClient) -> None:
    ground = "registered as an oralman in another region"
    r = await http.put(f"/rshep/api/policies/{ORALMAN}", json={"scale": 0, "decision": "refuse",
                       "refusalGround": ground}, headers=ADMIN)  # fmt: skip
    assert r.status_code == 200, r.text
    try:
        path = await desk.accepted("aset", service=ORALMAN)
        page = await desk.answered(path, "ru")
    finally:
        await http.put(f"/rshep/api/policies/{ORALMAN}", json={"scale": 0, "decision": "approve"}, headers=ADMIN)
    code, _, message = refusal_of(page)
    assert (code, message) == ("REASONED_REFUSAL", REFUSALS.get(code).message("ru", {"ground": ground}))  # type: ignore[union-attr]
    result = await desk.http.get(f"{path}/result?lang=en")
    assert 'data-kind="refusal"' in result.text and f'id="ground">{ground}<' in result.text
    assert "<h1>Reasoned refusal to render the public service</h1>" in result.text


async def test_wrong_state_and_unknown_numbers_show_the_problems_code(desk: Desk) -> None:
    path = await desk.accepted("bolat")
    r = await desk.http.post(f"{path}/handover?lang=en", data={"csrf": desk.csrf, "to": "applicant"})
    assert_refusal(r, "HQO_APPLICATION_STATE", "en", status="checked")
    assert 'data-status="checked"' in r.text  # on the application's own page
    r = await desk.http.post(f"{path}/recall?lang=en", data={"csrf": desk.csrf})
    assert_refusal(r, "HQO_APPLICATION_STATE", "en", status="checked")
    r = await desk.http.get(f"{path}/result?lang=en")
    assert_refusal(r, "HQO_APPLICATION_STATE", "en", status="checked")
    r = await desk.http.get(f"{path}/result.xml?lang=en")
    assert_refusal(r, "HQO_APPLICATION_STATE", "en", status="checked")
    for unknown in ("/hqo/applications/HQO-NO-SUCH", "/hqo/applications/HQO-NO-SUCH/consent",
                    "/hqo/applications/" + "9" * 500, "/hqo/applications/HQO-NO-SUCH/result.xml"):  # fmt: skip
        r = await desk.http.get(f"{unknown}?lang=kk")
        assert_refusal(r, "HQO_APPLICATION_NOT_FOUND", "kk")
    r = await desk.http.post("/hqo/applications/HQO-NO-SUCH/send?lang=kk", data={"csrf": desk.csrf})
    assert_refusal(r, "HQO_APPLICATION_NOT_FOUND", "kk")


async def test_another_centres_operator_finds_nothing(desk: Desk, simulator: RunningSimulator) -> None:
    path = await desk.accepted("bolat", "aigul")
    async with simulator.client() as other_http:
        other = await log_in(other_http, "op.astana")
        assert number_of(path) not in (await other_http.get("/hqo/")).text
        for paper in ("", "/consent", "/receipt", "/result.xml"):
            r = await other_http.get(f"{path}{paper}?lang=ru")
            assert_refusal(r, "HQO_APPLICATION_NOT_FOUND", "ru")
        r = await other_http.post(f"{path}/send?lang=ru", data={"csrf": other.csrf})
        assert_refusal(r, "HQO_APPLICATION_NOT_FOUND", "ru")
    assert 'data-status="checked"' in (await desk.http.get(path)).text
