"""Acceptance (issue 7): an operator of a ХҚО in a real browser (headless Debian chromium, Playwright)
takes one application of a representative through the chain of regulation 004, from the login
(1-процесс) to the hand-over (8-процесс), and prints the receipt and the result.

bolat (the applicant, ``personas.yaml``) is represented by aigul with the notarised power of
attorney N2025-000101, which ЕНИС holds for the Semipalatinsk compensation. The registries' records
are seeded through their admin API, and the provider's workstation answers at once (autopilot,
scale 0). The simulator is served by uvicorn (egovsim's pytest plugin: ``egovsim_server``).
Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from egovsim.personas import ensure_registry_records
from egovsim.testing import ServedSimulator
from tests.test_hqo_chain import PEOPLE, SEMEY
from tests.test_portal_browser import STEP_TIMEOUT_MS, admin, instant_autopilot

playwright = pytest.importorskip("playwright.async_api")
Page = playwright.Page
expect = playwright.expect

POWER_OF_ATTORNEY = "N2025-000101"


@pytest.fixture
def shots(egovsim_artifacts: Path) -> Any:
    async def shot(page: Page, name: str, *, media: str = "screen") -> None:
        await page.emulate_media(media=media)
        await page.screenshot(path=str(egovsim_artifacts / f"{name}.png"), full_page=True)
        await page.emulate_media(media="screen")

    return shot


async def wait_for_status(page: Page, status: str, timeout: float = STEP_TIMEOUT_MS / 1000) -> None:
    """Reload the application's page until its status is ``status`` (the provider works meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    state = page.locator("#status")
    while await state.get_attribute("data-status") != status:
        assert asyncio.get_running_loop().time() < deadline, await state.get_attribute("data-status")
        await asyncio.sleep(0.2)
        await page.reload()


async def test_an_operator_takes_a_representatives_application_to_the_hand_over(
    egovsim_server: ServedSimulator, egovsim_browser: Page, shots: Any
) -> None:
    page = egovsim_browser
    async with egovsim_server.client() as http:
        await ensure_registry_records(http, admin(egovsim_server.sim))
    await instant_autopilot(egovsim_server, SEMEY)

    # 1-процесс: the operator picks their login from the demo operators and types the password
    await page.goto(f"{egovsim_server.url}/hqo/login?lang=ru")
    await page.locator('[data-operator="op.semey"]').get_by_role("link", name="Подставить логин").click()
    await expect(page.get_by_label("Логин", exact=True)).to_have_value("op.semey")
    await page.get_by_label("Пароль", exact=True).fill("Qwerty12")
    await page.locator("#login").get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/hqo/$"))
    await expect(page.locator("header .operator")).to_contain_text("ЦОН №1 города Семей")

    # pre: a ticket of the hall's queue, then the service
    await page.get_by_role("button", name="Взять талон очереди").click()
    await expect(page.locator("#ticket-display")).to_have_text(re.compile(r"^A\d{3}$"))
    await shots(page, "hqo-desk-ticket")
    await page.get_by_label("Услуга", exact=True).select_option(SEMEY)
    await page.get_by_role("button", name="Заполнить заявление").click()
    await expect(page).to_have_url(re.compile(r"/hqo/applications/new\?"))

    # 2-процесс: the applicant, the representative and the power of attorney, the form, the papers
    form = page.locator("#application")
    await expect(form.get_by_label("Номер талона")).not_to_have_value("")
    await form.get_by_label("ИИН услугополучателя").fill(PEOPLE["bolat"])
    await form.get_by_label("ИИН представителя").fill(PEOPLE["aigul"])
    await form.get_by_label("Номер доверенности (ЕНИС)").fill(POWER_OF_ATTORNEY)
    await form.get_by_label("Зона проживания").select_option("maximum")
    await form.get_by_label("Начало проживания в зоне").fill("1955-01-01")
    await form.get_by_label("Конец проживания в зоне").fill("1965-12-31")
    await form.get_by_label("Номер банковского счёта (IBAN)").fill("KZ12345678901234567890")
    for document in ("Документ, удостоверяющий личность", "Документ, подтверждающий проживание в зоне",
                     "Реквизиты банковского счёта"):  # fmt: skip
        await form.get_by_label(document, exact=True).check()
    await form.get_by_label("Согласен на использование сведений, составляющих охраняемую законом тайну").check()
    await shots(page, "hqo-application-form")
    await form.get_by_role("button", name="Принять и проверить данные").click()

    # 3-процесс, 1-шарт: ГБД ФЛ and ЕНИС through the gateway
    await expect(page).to_have_url(re.compile(r"/hqo/applications/HQO-\d{6}-[0-9A-F]{8}$"))
    number = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#status")).to_have_attribute("data-status", "checked")
    await expect(page.locator("#check")).to_have_attribute("data-state", "ok")
    await expect(page.locator("#poa-number")).to_have_text(POWER_OF_ATTORNEY)
    await expect(page.locator('[data-step="hqo:1-шарт"][data-outcome="ok"]')).to_have_count(1)
    await shots(page, "hqo-data-checked")

    # 5-процесс: signed with the operator's EDS and sent; the provider answers (6-, 2-шарт)
    await page.get_by_role("button", name="Подписать ЭЦП оператора и отправить").click()
    await wait_for_status(page, "result_ready")
    await expect(page.locator('[data-step="hqo:2-шарт"][data-outcome="ok"]')).to_have_count(1)
    await shots(page, "hqo-result-ready")

    # 8-процесс: handed over to the representative
    issued = page.locator('[data-step="hqo:8-процесс"][data-outcome="ok"]')  # the answer formed at ЭҮАШ АЖО
    formed = await issued.count()
    await page.get_by_label("представителю").check()
    await page.get_by_role("button", name="Выдать результат").click()
    await expect(page.locator("#status")).to_have_attribute("data-status", "handed")
    await expect(issued).to_have_count(formed + 1)  # … and received through the operator
    await shots(page, "hqo-handed-over")

    # the papers, printable
    await page.locator("#paper-receipt").click()
    await expect(page.locator("h1")).to_have_text("Расписка о приёме документов")
    await expect(page.locator("#receipt-number")).to_have_text(number)
    await expect(page.locator('[data-paper="receipt"] [data-field="attached_documents"] li')).to_have_count(3)
    await shots(page, "hqo-receipt-print", media="print")
    await page.go_back()
    await page.locator("#paper-result").click()
    await expect(page.locator('[data-paper="result"]')).to_have_attribute("data-kind", "result")
    await expect(page.locator("#signed-by")).not_to_have_text("—")
    await shots(page, "hqo-result-print", media="print")
    await page.goto(f"{egovsim_server.url}/hqo/applications/{number}/result?lang=kk")
    await expect(page.locator("h1")).to_have_text("Мемлекеттік қызмет көрсету нәтижесі")
    await shots(page, "hqo-result-kk")
