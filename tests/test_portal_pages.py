"""The portal's and the personal cabinet's web pages (``/portal/…``, ``/cabinet/…``) over HTTP, as a
browser without JavaScript meets them: the language of the page, the login form and its cookie,
the CSRF token of every form, another citizen's request, escaping, and the whole chain with a
document the citizen signed with a tool of their own."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from egovsim.app import RunningSimulator, running
from egovsim.settings import Settings
from tests.conftest import ADMIN_TOKEN, database_for
from tests.portal_chain import (
    DOCUMENTS,
    FORMS,
    PASSWORD,
    PDF,
    Citizen,
    document,
    draft,
    instant_autopilot,
    new_citizen,
    submit,
    wait_closed,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

FOSTER = "foster_care_patronage_placement"
XSS = '<script>alert("x")</script>'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def simulator(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSimulator]:
    """One simulator for the module (its НУЦ keys are made once); every test makes its own citizens."""
    tmp = tmp_path_factory.mktemp("pages")
    with database_for(tmp) as url:
        async with running(Settings(data_dir=tmp / "data", database_url=url, admin_token=ADMIN_TOKEN)) as sim:
            yield sim


@pytest_asyncio.fixture(loop_scope="module")
async def http(simulator: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with simulator.client() as client:
        yield client


async def log_in(http: httpx.AsyncClient, citizen: Citizen) -> str:
    """Log in through the login form; the CSRF token the pages put in their forms."""
    r = await http.post("/portal/login", data={"iin": citizen.iin, "password": PASSWORD})
    assert r.status_code == 303, r.text
    page = await http.get("/portal/")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)


def files_for(service_id: str) -> dict[str, tuple[str, bytes, str]]:
    return {f"doc_{d}": (f"{d}.pdf", PDF, "application/pdf") for d in DOCUMENTS[service_id]}


async def test_pages_speak_the_language_asked_for_and_keep_it(http: httpx.AsyncClient) -> None:
    words = {"kk": "Мемлекеттік қызметтер", "ru": "Государственные услуги", "en": "Public services"}
    for lang, title in words.items():
        for path in ("/portal/", "/portal/login", "/portal/register", f"/portal/services/{FOSTER}", "/cabinet/verify"):
            r = await http.get(f"{path}?lang={lang}")
            assert r.status_code == 200, (path, r.text)
            assert f'<html lang="{lang}">' in r.text, path
            assert "default-src 'self'" in r.headers["content-security-policy"]
            assert "http://" not in r.text.split("</head>")[0] and "https://" not in r.text.split("</head>")[0]
        assert title in (await http.get(f"/portal/?lang={lang}")).text
        assert http.cookies.get("lang") == lang
    kept = await http.get("/portal/")  # no ?lang=: the cookie's language
    assert '<html lang="en">' in kept.text and "Public services" in kept.text
    http.cookies.clear()
    first = await http.get("/portal/")  # a first visit: Kazakh, the state language
    assert '<html lang="kk">' in first.text and words["kk"] in first.text
    service = await http.get(f"/portal/services/{FOSTER}?lang=ru")
    assert "Услугодатель" in service.text and "/portal/login?next=" in service.text  # log in to apply


async def test_the_login_form_sets_the_session_cookie_and_goes_back_to_next(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    r = await http.post("/portal/login", data={"iin": citizen.iin, "password": PASSWORD, "next": "/cabinet/"})
    assert r.status_code == 303 and r.headers["location"] == "/cabinet/"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("egovsim_portal=") and "httponly" in cookie and "samesite=lax" in cookie
    cabinet = await http.get("/cabinet/")
    assert cabinet.status_code == 200 and citizen.iin in cabinet.text
    http.cookies.clear()
    away = await http.post(
        "/portal/login", data={"iin": citizen.iin, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert away.status_code == 303 and away.headers["location"] == "/portal/"  # no open redirect


async def test_a_wrong_password_is_refused_at_condition_1_in_the_page_language(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    r = await http.post("/portal/login?lang=ru", data={"iin": citizen.iin, "password": "Wrong12345"})
    assert r.status_code == 401
    assert "PORTAL_AUTH_REFUSED" in r.text and "Отказ в авторизации на портале" in r.text
    assert "egovsim_portal" not in http.cookies


async def test_registration_form_checks_the_person_in_gbdfl(http: httpx.AsyncClient) -> None:
    missing = await new_citizen(http, in_registry=False, register=False)
    r = await http.post(
        "/portal/register?lang=en", data={"iin": missing.iin, "password": PASSWORD, "password2": PASSWORD}
    )
    assert r.status_code == 422 and "PORTAL_PERSON_NOT_FOUND" in r.text
    assert "the individuals database (ГБД ФЛ) holds no person with this IIN" in r.text
    citizen = await new_citizen(http, register=False)
    r = await http.post("/portal/register", data={"iin": citizen.iin, "password": PASSWORD, "password2": "Other123"})
    assert r.status_code == 422 and "The passwords do not match." in r.text
    r = await http.post("/portal/register", data={"iin": citizen.iin, "password": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/login?iin={citizen.iin}&registered=1"
    login = await http.get(r.headers["location"])
    assert "You are registered." in login.text and f'value="{citizen.iin}"' in login.text


async def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    csrf = await log_in(http, citizen)
    r = await http.post(f"/portal/services/{FOSTER}", data=FORMS[FOSTER], files=files_for(FOSTER))
    assert r.status_code == 403 and "PORTAL_CSRF_REFUSED" in r.text
    forged = await http.post(f"/portal/services/{FOSTER}", data=FORMS[FOSTER] | {"csrf": "0" * 64})
    assert forged.status_code == 403 and "PORTAL_CSRF_REFUSED" in forged.text
    assert (await http.get("/portal/api/requests")).json() == {"requests": []}
    r = await http.post("/cabinet/contacts", data={"email": "a@example.kz"})
    assert r.status_code == 403 and "PORTAL_CSRF_REFUSED" in r.text
    assert (await http.get("/cabinet/api/contacts")).json() == {"email": None, "phone": None}
    assert (await http.post("/portal/logout")).status_code == 403
    assert (await http.get("/portal/api/me")).status_code == 200  # still logged in
    r = await http.post("/cabinet/contacts", data={"email": "a@example.kz", "phone": "+77011234567", "csrf": csrf})
    assert r.status_code == 303
    assert (await http.get("/cabinet/api/contacts")).json() == {"email": "a@example.kz", "phone": "+77011234567"}
    bad = await http.post("/cabinet/contacts", data={"phone": "8701", "csrf": csrf})
    assert bad.status_code == 422 and "REQUEST_INVALID" in bad.text
    out = await http.post("/portal/logout", data={"csrf": csrf})
    assert out.status_code == 303 and (await http.get("/portal/api/me")).status_code == 401


async def test_pages_without_a_session_send_the_browser_to_the_login_form(http: httpx.AsyncClient) -> None:
    for path in ("/cabinet/", "/cabinet/requests/EG0001", "/portal/requests/EG0001"):
        r = await http.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/portal/login?{urlencode({'next': path})}"
    login = await http.get("/portal/login?next=/cabinet/")
    assert 'name="next" value="/cabinet/"' in login.text


async def test_another_citizens_request_is_not_found_on_either_page(http: httpx.AsyncClient) -> None:
    owner = await new_citizen(http)
    number = await draft(http, owner, FOSTER)
    assert (await submit(http, owner, number, owner.sign.sign(await document(http, owner, number)))).status_code == 202
    other = await new_citizen(http)
    await log_in(http, other)
    for path, code in ((f"/portal/requests/{number}", "PORTAL_REQUEST_NOT_FOUND"),
                       (f"/cabinet/requests/{number}", "CABINET_REQUEST_NOT_FOUND")):  # fmt: skip
        r = await http.get(path)
        assert r.status_code == 404 and code in r.text, path
        assert owner.iin not in r.text and "ТЕСТОВА АЙША" not in r.text


async def test_field_values_are_shown_escaped(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    csrf = await log_in(http, citizen)
    fields = FORMS[FOSTER] | {"child_name": XSS}
    incomplete = {k: v for k, v in fields.items() if k != "consent"} | {"csrf": csrf}
    again = await http.post(f"/portal/services/{FOSTER}?lang=en", data=incomplete, files=files_for(FOSTER))
    assert again.status_code == 422 and "PORTAL_FORM_INVALID" in again.text
    assert XSS not in again.text and html_escaped(XSS) in again.text  # the value is kept, escaped
    assert 'id="field-consent" name="consent" value="yes" required aria-invalid="true"' in again.text
    assert (await http.get("/portal/api/requests")).json() == {"requests": []}  # no draft was made
    r = await http.post(f"/portal/services/{FOSTER}", data=fields | {"csrf": csrf}, files=files_for(FOSTER))
    assert r.status_code == 303
    page = await http.get(r.headers["location"])
    assert XSS not in page.text and html_escaped(XSS) in page.text
    login = await http.get('/portal/login?iin="><b>x</b>')
    assert "<b>x</b>" not in login.text


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


async def test_a_request_signed_by_the_citizens_own_tool_reaches_the_cabinet(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, FOSTER)
    citizen = await new_citizen(http)
    csrf = await log_in(http, citizen)
    # a scan of 900 kB: the signed document (base64 of every attachment) is pasted at well over 1 MB
    scans = files_for(FOSTER) | {"doc_health_certificate": ("health.pdf", PDF + b"%" * 900_000, "application/pdf")}
    r = await http.post(f"/portal/services/{FOSTER}?lang=ru", data=FORMS[FOSTER] | {"csrf": csrf}, files=scans)
    assert r.status_code == 303, r.text
    number = r.headers["location"].rsplit("/", 1)[1]
    page = await http.get(r.headers["location"])
    assert 'data-signer-url="ws://127.0.0.1:13579/"' in page.text and "http://127.0.0.1:13579/" in page.text
    assert "connect-src 'self' ws://127.0.0.1:13579" in page.headers["content-security-policy"]
    assert '<script src="/portal/static/ncalayer-client.js" defer>' in page.text
    assert "патронатное воспитание" in page.text and "health.pdf (900048 B)" in page.text
    script = await http.get("/portal/static/ncalayer-client.js")
    assert script.status_code == 200 and "kz.gov.pki.knca.commonUtils" in script.text

    xml = (await http.get(f"/portal/api/requests/{number}/document")).content  # the cookie is enough to read
    signed = citizen.sign.sign(xml)
    assert len(signed) > 1_100_000
    sent = await http.post(f"/portal/requests/{number}/submit", data={"signed_xml": signed.decode(), "csrf": csrf})
    assert sent.status_code == 200 and "Запрос принят и отправлен услугодателю через ШЭП." in sent.text
    closed = await wait_closed(http, citizen, number)
    assert closed["status"] == "approved"

    cabinet = await http.get(f"/cabinet/requests/{number}")
    assert cabinet.status_code == 200 and 'data-status="approved"' in cabinet.text
    assert 'data-step="portal:2-шарт" data-outcome="ok"' in cabinet.text and "Результат готов" in cabinet.text
    assert f"/cabinet/api/requests/{number}/result" in cabinet.text and 'id="check-signature"' in cabinet.text
    result = await http.get(f"/cabinet/api/requests/{number}/result")
    verified = await http.post("/cabinet/verify", files={"file": ("result.xml", result.content, "application/xml")})
    assert verified.status_code == 200 and 'data-valid="true"' in verified.text and "ЭЦП действительна" in verified.text
    tampered = re.sub(rb"<((?:\w+:)?DigestValue)>[^<]+<", rb"<\1>" + b"A" * 43 + rb"=<", result.content, count=1)
    checked = await http.post("/cabinet/verify?lang=en", data={"xml": tampered.decode()})
    assert 'data-valid="false"' in checked.text

    home = await http.get("/cabinet/")
    assert f'data-number="{number}"' in home.text and 'data-read="false"' in home.text
    note = re.search(r'action="/cabinet/notifications/(\d+)/read"', home.text)
    assert note is not None
    assert (await http.post(f"/cabinet/notifications/{note.group(1)}/read", data={"csrf": csrf})).status_code == 303
    assert f'id="notification-{note.group(1)}" data-read="true"' in (await http.get("/cabinet/")).text


async def test_the_login_page_offers_the_demo_personas_of_personas_json(
    http: httpx.AsyncClient, simulator: RunningSimulator
) -> None:
    index = simulator.kernel.settings.data_dir / "personas.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": "aset", "iin": "870412300128", "surname": "ӘБДІҒАЛИЕВ", "name": "ӘСЕТ", "role": "applicant",
         "gbdfl": "alive", "password": "Qwerty12"},
        {"id": "kairat", "iin": "500101300017", "surname": "<b>КАЙРАТОВ</b>", "name": "КАЙРАТ",
         "role": "deceased person", "gbdfl": "deceased 2025-01-10", "password": "Qwerty12"},
    ]  # fmt: skip
    index.write_text(json.dumps({"personas": rows, "keyFiles": []}, ensure_ascii=False), encoding="utf-8")
    try:
        page = await http.get("/portal/login?lang=ru&next=/cabinet/")
    finally:
        index.unlink()
    assert "Демо-персоны" in page.text and "<code>Qwerty12</code>" in page.text
    assert 'href="/portal/login?iin=870412300128&amp;next=%2Fcabinet%2F"' in page.text
    assert 'href="/portal/register?iin=500101300017"' in page.text and "deceased 2025-01-10" in page.text
    assert "<b>КАЙРАТОВ</b>" not in page.text
    filled = await http.get("/portal/login?iin=870412300128")
    assert 'name="iin" value="870412300128"' in filled.text
    assert "Демо-персоны" not in (await http.get("/portal/login")).text  # no personas.json, no picker
