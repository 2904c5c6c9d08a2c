"""Acceptance: a citizen in a real browser (headless Debian chromium, Playwright) on egov.kz and in the
personal cabinet, signing through the NCALayer-protocol signer the way a front end written for
NCALayer does (regulation 001: 1-процесс … 7-процесс, and 4-процесс for a revoked certificate).

The simulator is served by uvicorn (egovsim's pytest plugin: ``egovsim_server``); the signer
(:class:`signing.ncalayer.NcaLayerSigner`) listens on a free port that the portal's page is told
through the ``ncalayer_port`` setting, and finds the citizen's key files in the data folder. The
provider's workstation answers at once (autopilot, scale 0). Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from egovsim.app import RunningSimulator
from egovsim.settings import Settings
from egovsim.testing import Citizen, CitizenFactory, ServedSimulator
from signing.ncalayer import NcaLayerSigner

playwright = pytest.importorskip("playwright.async_api")
Page = playwright.Page
expect = playwright.expect

FOSTER = "foster_care_patronage_placement"
HOME_EDUCATION = "disabled_child_home_education_compensation"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
STEP_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def signer_port() -> int:
    """One free port for the module's signers: the settings stay the same from test to test, so the
    plugin's template database (with the НУЦ's CA keys) serves them all."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def egovsim_settings(egovsim_settings: Settings, signer_port: int) -> Settings:
    """The plugin's settings, with the signer's port for the portal's page."""
    return egovsim_settings.model_copy(update={"ncalayer_port": signer_port})


@pytest_asyncio.fixture
async def signer(egovsim_sim: RunningSimulator) -> AsyncIterator[NcaLayerSigner]:
    settings = egovsim_sim.kernel.settings
    async with NcaLayerSigner(settings.data_dir, port=settings.ncalayer_port, timeout=30) as running:
        yield running


@pytest.fixture
def shots(egovsim_artifacts: Path) -> Any:
    async def shot(page: Page, name: str) -> None:
        await page.screenshot(path=str(egovsim_artifacts / f"{name}.png"), full_page=True)

    return shot


def admin(sim: RunningSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.kernel.admin_token}"}


async def instant_autopilot(server: ServedSimulator, service_id: str) -> None:
    async with server.client() as http:
        r = await http.put(f"/rshep/api/policies/{service_id}", json={"scale": 0}, headers=admin(server.sim))
        assert r.status_code == 200, r.text


async def preselect(signer: NcaLayerSigner, citizen: Citizen) -> None:
    """The signer's HTTP API: sign with this key file without asking (a headless demo's way)."""
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{signer.chooser_url}api/preselect",
            json={"keyFile": str(citizen.sign_key), "password": citizen.key_password, "keyType": "SIGNATURE"},
        )
        assert r.status_code == 200, r.text


async def register_and_log_in(page: Page, server: ServedSimulator, citizen: Citizen, lang: str) -> None:
    """Registration and login through the portal's forms, as a citizen types them."""
    words = {
        "ru": ("ИИН", "Пароль", "Повторите пароль", "Зарегистрироваться", "Войти"),
        "kk": ("ЖСН", "Құпиясөз", "Құпиясөзді қайталаңыз", "Тіркелу", "Кіру"),
        "en": ("IIN", "Password", "Repeat the password", "Register", "Log in"),
    }[lang]
    iin, password, again, register, log_in = words
    await page.goto(f"{server.url}/portal/register?lang={lang}")
    await page.get_by_label(iin, exact=True).fill(citizen.iin)
    await page.get_by_label(password, exact=True).fill(citizen.password)
    await page.get_by_label(again, exact=True).fill(citizen.password)
    await page.locator("#register").get_by_role("button", name=register).click()
    await expect(page).to_have_url(re.compile(r"/portal/login\?iin=\d{12}&registered=1"))
    await expect(page.get_by_label(iin, exact=True)).to_have_value(citizen.iin)  # filled in for the citizen
    await page.get_by_label(password, exact=True).fill(citizen.password)
    await page.locator("#login").get_by_role("button", name=log_in).click()
    await expect(page.locator("header .iin")).to_have_text(citizen.iin)


async def apply(page: Page, server: ServedSimulator, service_id: str, fill: dict[str, str], files: dict[str, Path],
                button: str) -> str:  # fmt: skip
    """Open the service from the catalogue, fill its form by the labels, attach, save: the number."""
    await page.goto(f"{server.url}/portal/")
    await page.locator(f"#service-{service_id} a").click()
    form = page.locator("#application")
    for label, value in fill.items():
        field = form.get_by_label(label)
        tag = await field.evaluate("e => e.tagName + ':' + (e.type || '')")
        if tag.startswith("SELECT"):
            await field.select_option(value)
        elif tag == "INPUT:checkbox":
            await field.check()
        else:
            await field.fill(value)
    for label, path in files.items():
        await form.get_by_label(label).set_input_files(path)
    await form.get_by_role("button", name=button).click()
    await expect(page).to_have_url(re.compile(r"/portal/requests/EG\d+$"))
    return page.url.rsplit("/", 1)[1]


async def choose_key_in_the_signer(page: Page, signer: NcaLayerSigner, citizen: Citizen, cancel: bool = False) -> None:
    """The signer's chooser page, as NCALayer's dialog: the waiting request, the key file, its
    password, Sign (or Cancel)."""
    await page.goto(signer.chooser_url)
    request = page.locator("section.request")
    for _ in range(100):
        if await request.count():
            break
        await asyncio.sleep(0.1)
        await page.reload()
    await expect(request).to_have_count(1)
    if cancel:
        await request.get_by_role("button", name="Cancel").click()
        return
    await request.get_by_label(re.compile(rf"· SIGN · IIN {citizen.iin} ·")).check()
    await request.get_by_label("Password").fill(citizen.key_password)
    await request.get_by_role("button", name="Sign", exact=True).click()


async def check_result_in_the_cabinet(page: Page, number: str) -> None:
    await page.locator("#cabinet-link").click()
    await expect(page).to_have_url(re.compile(rf"/cabinet/requests/{number}$"))
    await expect(page.locator("#request-status")).to_have_attribute("data-status", "approved", timeout=STEP_TIMEOUT_MS)
    await expect(page.locator('[data-step="portal:2-шарт"][data-outcome="ok"]')).to_have_count(1)
    await expect(page.locator("#result")).to_be_visible()
    await page.locator("#check-signature").click()
    await expect(page.locator("#signature-check")).to_have_attribute("data-state", "valid")


def pdf(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(PDF)
    return path


async def test_foster_care_request_signed_in_the_signer_window_reaches_the_cabinet(
    egovsim_server: ServedSimulator,
    egovsim_citizen: CitizenFactory,
    egovsim_browser: Page,
    signer: NcaLayerSigner,
    shots: Any,
    tmp_path: Path,
) -> None:
    page = egovsim_browser
    await instant_autopilot(egovsim_server, FOSTER)
    citizen = await egovsim_citizen()
    await register_and_log_in(page, egovsim_server, citizen, "ru")
    fill = {
        "ФИО ребёнка": "ТЕСТОВА АЙША", "ИИН ребёнка": "150301600015", "Форма устройства": "patronage",
        "Контактный телефон": "+77011234567",
        "Согласен на использование сведений, составляющих охраняемую законом тайну": "yes",
    }  # fmt: skip
    files = {
        "Справка о состоянии здоровья": pdf(tmp_path, "health"),
        "Документ на право пользования жильём": pdf(tmp_path, "housing"),
    }
    number = await apply(page, egovsim_server, FOSTER, fill, files, "Сохранить и перейти к подписанию")
    await expect(page.locator('[data-document="health_certificate"]')).to_contain_text("health.pdf")
    await shots(page, "portal-foster-draft")

    await expect(page.locator("#sign")).to_have_attribute("data-state", "ready")  # its script is running
    await page.get_by_role("button", name="Подписать и отправить").click()
    chooser = await page.context.new_page()  # the signer's window, beside the portal's
    await choose_key_in_the_signer(chooser, signer, citizen)
    await expect(page.locator("#sign")).to_have_attribute("data-state", "accepted", timeout=STEP_TIMEOUT_MS)
    await expect(page.locator("#sign-outcome")).to_contain_text("Запрос принят и отправлен услугодателю")
    await shots(page, "portal-foster-accepted")

    await check_result_in_the_cabinet(page, number)
    await expect(page.locator("#signature-check")).to_contain_text("ЭЦП действительна")
    await shots(page, "cabinet-foster-result")
    await page.get_by_role("link", name="← История запросов").click()
    await expect(page.locator(f'[data-number="{number}"] [data-status="approved"]')).to_have_count(1)
    await expect(page.locator('li[id^="notification-"][data-read="false"]')).not_to_have_count(0)
    await shots(page, "cabinet-history")


async def test_home_education_compensation_signed_with_a_preselected_key_reaches_the_cabinet(
    egovsim_server: ServedSimulator,
    egovsim_citizen: CitizenFactory,
    egovsim_browser: Page,
    signer: NcaLayerSigner,
    shots: Any,
    tmp_path: Path,
) -> None:
    page = egovsim_browser
    await instant_autopilot(egovsim_server, HOME_EDUCATION)
    citizen = await egovsim_citizen()
    await register_and_log_in(page, egovsim_server, citizen, "en")
    fill = {
        "Child's full name": "TESTOV ALI", "Child's IIN": "150301500029",
        "School providing home education": "School-gymnasium No. 12", "Home education from": "2026-09-01",
        "Bank account number (IBAN)": "KZ12345678901234567890",
        "I consent to the use of information protected by law": "yes",
    }  # fmt: skip
    files = {
        "Conclusion of the psychological, medical and pedagogical consultation": pdf(tmp_path, "pmpk"),
        "Certificate that the child is educated at home": pdf(tmp_path, "home"),
    }
    number = await apply(page, egovsim_server, HOME_EDUCATION, fill, files, "Save and go on to signing")
    sign = page.get_by_role("button", name="Sign and send")
    await expect(page.locator("#sign")).to_have_attribute("data-state", "ready")  # its script is running
    await sign.click()  # the citizen changes their mind in the signer's window: action.canceled
    chooser = await page.context.new_page()
    await choose_key_in_the_signer(chooser, signer, citizen, cancel=True)
    await expect(page.locator("#sign")).to_have_attribute("data-state", "canceled", timeout=STEP_TIMEOUT_MS)
    await expect(page.locator("#sign-outcome")).to_contain_text("Signing was cancelled.")
    await expect(page.locator("#request-status")).to_have_attribute("data-status", "draft")
    await preselect(signer, citizen)
    await sign.click()
    await expect(page.locator("#sign")).to_have_attribute("data-state", "accepted", timeout=STEP_TIMEOUT_MS)
    await check_result_in_the_cabinet(page, number)
    await expect(page.locator("#signature-check")).to_contain_text("The signature is valid")
    await shots(page, "cabinet-home-education-result")


async def test_a_revoked_signing_certificate_ends_in_process_4_with_its_reason(
    egovsim_server: ServedSimulator,
    egovsim_citizen: CitizenFactory,
    egovsim_browser: Page,
    signer: NcaLayerSigner,
    shots: Any,
    tmp_path: Path,
) -> None:
    page = egovsim_browser
    citizen = await egovsim_citizen()
    await register_and_log_in(page, egovsim_server, citizen, "kk")
    fill = {
        "Баланың тегі, аты, әкесінің аты": "ТЕСТОВА АЙША", "Баланың ЖСН": "150301600015",
        "Тәрбиеге беру нысаны": "foster_family", "Байланыс телефоны": "+77011234567",
        "Заңмен қорғалатын құпияны құрайтын мәліметтерді пайдалануға келісемін": "yes",
    }  # fmt: skip
    files = {
        "Денсаулық жағдайы туралы анықтама": pdf(tmp_path, "health"),
        "Тұрғын үйге құқық белгілейтін құжат": pdf(tmp_path, "housing"),
    }
    number = await apply(page, egovsim_server, FOSTER, fill, files, "Сақтау және қол қоюға өту")
    async with egovsim_server.client() as http:  # the НУЦ revokes the SIGN certificate before it is used
        await citizen.revoke(http, "sign", reason="keyCompromise")
    await preselect(signer, citizen)
    await expect(page.locator("#sign")).to_have_attribute("data-state", "ready")  # its script is running
    await page.get_by_role("button", name="Қол қою және жіберу").click()
    sign = page.locator("#sign")
    await expect(sign).to_have_attribute("data-state", "refused", timeout=STEP_TIMEOUT_MS)
    await expect(sign).to_have_attribute("data-code", "EDS_CERT_REVOKED")
    revoked_kk = "тіркеу куәлігі қайтарылған (жойылған) тіркеу куәліктерінің тізімінде"
    await expect(page.locator("#sign-outcome")).to_contain_text(revoked_kk)
    await expect(page.locator("#sign-outcome")).to_contain_text("portal:4-процесс")
    await shots(page, "portal-revoked-refused")

    await page.locator("#cabinet-link").click()
    await expect(page.locator("#request-status")).to_have_attribute("data-status", "refused")
    await expect(page.locator("#refusal")).to_have_attribute("data-code", "EDS_CERT_REVOKED")
    await expect(page.locator("#refusal")).to_contain_text(revoked_kk)
    await expect(page.locator('[data-step="portal:4-процесс"][data-outcome="refused"]')).to_have_count(1)
    await shots(page, "cabinet-revoked-refusal")
    assert number in page.url
