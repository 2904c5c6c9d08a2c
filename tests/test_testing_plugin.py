"""egovsim's pytest plugin (egovsim.testing), used the way an integrator uses it: brand-new
citizens register and log in on the portal (which asks ГБД ФЛ through the gateway), sign XML as
NCALayer does, have their certificates revoked; the simulator answers over real HTTP and in a
browser; and the plugin loads from the installed distribution's entry point."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from egovsim.app import RunningSimulator
from egovsim.errors import CodedError
from egovsim.iin import Sex, is_valid_iin, parse_iin
from egovsim.testing import CitizenFactory, PersonaFactory, ServedSimulator
from egovsim.xmldsig import verify_enveloped

if TYPE_CHECKING:
    from playwright.async_api import Page

pytest_plugins = ["pytester"]

DOCUMENT = '<request xmlns="urn:integrator"><iin>{iin}</iin><purpose>справка</purpose></request>'


async def test_a_new_citizen_registers_and_logs_in_on_the_portal(
    egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory
) -> None:
    citizen = await egovsim_citizen()
    assert is_valid_iin(citizen.iin) and citizen.password == "Qwerty12"
    assert citizen.registry is not None and citizen.registry["lifeStatus"] == "0"
    assert citizen.sign_key.suffix == citizen.auth_key.suffix == ".p12" and citizen.sign_key != citizen.auth_key
    async with egovsim_sim.client() as http:
        account = await citizen.register(http)
        token = await citizen.login(http)
        me = await http.get("/portal/api/me", headers={"Authorization": f"Bearer {token}"})
        admin = {"Authorization": f"Bearer {citizen.admin_token}"}
        query = {"senderId": "egov_portal", "serviceId": "GBDFL_UniversalServiceSync"}
        asked = await http.get("/shep/api/journal", params=query, headers=admin)
        entry = await http.get(f"/shep/api/journal/{asked.json()['entries'][0]['id']}", headers=admin)
    assert account["iin"] == citizen.iin
    assert me.status_code == 200 and me.json()["iin"] == citizen.iin
    # registration asked ГБД ФЛ about this very person through the gateway's SyncChannel
    assert len(asked.json()["entries"]) == 1 and asked.json()["entries"][0]["outcome"] == "ok"
    assert citizen.iin in entry.json()["requestXml"]


async def test_every_citizen_is_a_new_person(egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory) -> None:
    first, second = await egovsim_citizen(), await egovsim_citizen(surname="ТЕСТОВА", sex=Sex.FEMALE)
    assert first.iin != second.iin and first.sign_cert_serial != second.sign_cert_serial
    assert second.surname == "ТЕСТОВА" and parse_iin(second.iin).sex is Sex.FEMALE


@pytest.mark.egovsim(seed=20260302, clock_mode="frozen", clock_start="2026-03-02T10:00:00+05:00")
async def test_a_seed_gives_the_same_citizens_every_run(egovsim_citizen: CitizenFactory) -> None:
    citizen = await egovsim_citizen()
    again = CitizenFactory(egovsim_citizen.sim, 20260302)
    assert again._draw(None, None) == citizen.iin  # the same draw from the same seed
    assert parse_iin(citizen.iin).birth_date.year in range(1956, 2007)


async def test_a_deceased_citizen_is_refused_registration(
    egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory
) -> None:
    citizen = await egovsim_citizen(deceased=True)
    assert citizen.registry is not None and citizen.registry["lifeStatus"] == "1"
    async with egovsim_sim.client() as http:
        with pytest.raises(CodedError) as refused:
            await citizen.register(http)
    assert refused.value.code == "PORTAL_PERSON_DECEASED"


async def test_a_citizen_unknown_to_gbdfl_is_refused_registration(
    egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory
) -> None:
    citizen = await egovsim_citizen(absent=True)
    assert citizen.registry is None and citizen.sign_key.exists()
    async with egovsim_sim.client() as http:
        with pytest.raises(CodedError, match="PORTAL_PERSON_NOT_FOUND"):
            await citizen.register(http)


async def test_sign_xml_is_an_enveloped_signature_that_xmlsec1_and_egovsim_verify(
    egovsim_citizen: CitizenFactory, tmp_path: Path
) -> None:
    citizen = await egovsim_citizen()
    signed = citizen.sign_xml(DOCUMENT.format(iin=citizen.iin))
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?><request')  # NCALayer's
    verified = verify_enveloped(signed)
    assert citizen.iin in verified.certificate.subject.rfc4514_string()
    auth_signed = citizen.sign_xml(DOCUMENT.format(iin=citizen.iin).encode(), kind="auth")
    assert verify_enveloped(auth_signed).certificate != verified.certificate
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    (tmp_path / "signed.xml").write_bytes(signed)
    chain = x509.load_pem_x509_certificates(citizen.chain.read_bytes())
    for cert in chain:
        role = "root" if cert.subject == cert.issuer else "intermediate"
        (tmp_path / f"{role}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    trust = ["--trusted-pem", str(tmp_path / "root.pem"), "--untrusted-pem", str(tmp_path / "intermediate.pem")]
    command = ["xmlsec1", "--verify", *trust, str(tmp_path / "signed.xml")]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    assert "OK" in ran.stderr


async def test_a_revoked_certificate_shows_revoked_at_the_nca(
    egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory
) -> None:
    citizen = await egovsim_citizen()
    async with egovsim_sim.client(headers={"Authorization": f"Bearer {citizen.admin_token}"}) as http:
        await citizen.revoke(http, reason="keyCompromise")
        sign = (await http.get(f"/nca/api/certificates/{citizen.sign_cert_serial}")).json()
        auth = (await http.get(f"/nca/api/certificates/{citizen.auth_cert_serial}")).json()
    assert sign["status"] == "revoked" and sign["reason"] == "keyCompromise"
    assert auth["status"] == "good"


async def test_a_persona_comes_with_its_registry_records_and_keys(
    egovsim_sim: RunningSimulator, egovsim_persona: PersonaFactory
) -> None:
    aset = await egovsim_persona("aset")
    assert (aset.iin, aset.surname, aset.persona) == ("900115300013", "АХМЕТОВ", "aset")
    assert aset.sign_key.parent.name == "aset" and aset.registry is not None
    assert await egovsim_persona("aset") is aset
    kairat = await egovsim_persona("kairat")
    async with egovsim_sim.client() as http:
        await aset.register(http)
        assert await aset.login(http)
        with pytest.raises(CodedError, match="PORTAL_PERSON_DECEASED"):
            await kairat.register(http)
    with pytest.raises(LookupError, match="aset"):
        await egovsim_persona("nobody")


async def test_the_server_answers_over_real_http(
    egovsim_server: ServedSimulator, egovsim_sim: RunningSimulator, egovsim_citizen: CitizenFactory
) -> None:
    assert egovsim_server.sim is egovsim_sim  # the same simulator, served
    assert egovsim_sim.kernel.settings.effective_public_url == egovsim_server.url
    citizen = await egovsim_citizen()
    async with egovsim_server.client() as http:
        health = await http.get("/healthz")
        await citizen.register(http)
        assert await citizen.login(http)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert egovsim_server.url.startswith("http://127.0.0.1:")


async def test_the_browser_opens_the_served_simulator(
    egovsim_server: ServedSimulator,
    egovsim_browser: Page,
    egovsim_screenshot: Callable[[Page, str], Awaitable[Path]],
    egovsim_artifacts: Path,
) -> None:
    response = await egovsim_browser.goto(f"{egovsim_server.url}/healthz")
    assert response is not None and response.ok
    assert '"status":"ok"' in await egovsim_browser.inner_text("body")
    png = await egovsim_screenshot(egovsim_browser, "healthz")
    assert png.parent == egovsim_artifacts and png.read_bytes().startswith(b"\x89PNG")


def test_the_plugin_loads_from_the_installed_distribution(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh pytest process, in a folder of its own (no conftest, pytest-asyncio in strict
    mode), finds the fixtures through the ``pytest11`` entry point alone; a failing browser test
    leaves its screenshot; without Playwright the browser fixture skips."""
    pytester.makepyfile(
        test_integrator="""
        import sys

        import pytest

        from egovsim.errors import CodedError

        pytestmark = pytest.mark.asyncio


        async def test_portal_over_real_http(egovsim_server, egovsim_citizen):
            citizen = await egovsim_citizen()
            async with egovsim_server.client() as http:
                assert (await http.get("/healthz")).status_code == 200
                await citizen.register(http)
                assert await citizen.login(http)
                with pytest.raises(CodedError, match="PORTAL_ACCOUNT_EXISTS"):
                    await citizen.register(http)


        async def test_a_page_that_fails(egovsim_browser):
            await egovsim_browser.set_content("<h1>broken</h1>")
            assert await egovsim_browser.inner_text("h1") == "fixed"


        @pytest.fixture
        def no_playwright(monkeypatch):
            monkeypatch.setitem(sys.modules, "playwright.async_api", None)


        async def test_without_playwright(no_playwright, egovsim_browser):
            raise AssertionError("not reached: the browser fixture skips")
        """
    )
    artifacts = pytester.path / "screens"
    monkeypatch.setenv("EGOVSIM_ARTIFACTS", str(artifacts))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rs", timeout=300)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*egovsim_browser needs Playwright*"])
    assert [p.name for p in artifacts.iterdir()] == ["test_a_page_that_fails-failure.png"]
