"""Per-call faults as an integrator forces them: a named fault in the ``X-Egovsim-Fault`` header of
one portal, gateway or НУЦ call spoils that call (and the calls it makes inside the simulator) and
nothing else; the global switches and knobs stay as they were, and so does every cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from lxml import etree

from egovsim import call_faults, xmldsig
from egovsim.call_faults import HEADER
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.settings import Settings
from gateway import soap
from gateway.channel import GATEWAY_UNAVAILABLE
from gateway.echo import ECHO_SERVICE_ID, ECHO_TARGET
from mock_registries.faults import REGISTRIES, FaultKind
from signing.service import CrlFault, OcspFault
from tests.conftest import ADMIN
from tests.nca_helpers import issue, key_and_cert
from tests.portal_chain import PASSWORD as CITIZEN_PASSWORD
from tests.portal_chain import Citizen, document, draft, new_citizen, submit
from tests.test_gateway_async import ASYNC, PUSH_URL, accepting, message, setup_parties, status_request, until_state
from tests.test_gateway_sync import PASSWORD, Party, fault_of, last_journal, request_envelope, signed, system
from tests.test_registries_gateway import ENIS, GBDFL, envelope, faults, query, set_fault, wait_for_routes

SYNC = "/shep/bip-sync-wss-gost/"
FOSTER = "foster_care_patronage_placement"
NAMES = [
    "gbdfl.unavailable", "gbdfl.not_found", "gbdfl.malformed",
    "enis.unavailable", "enis.not_found", "enis.malformed",
    "ocsp.unavailable", "ocsp.try_later", "ocsp.internal_error", "ocsp.untrusted_responder", "ocsp.unknown",
    "crl.unavailable", "crl.stale",
    "gateway.unavailable",
]  # fmt: skip


def forcing(*names: str) -> dict[str, str]:
    return {HEADER: ", ".join(names)} if names else {}


async def register(http: httpx.AsyncClient, iin: str, *names: str) -> httpx.Response:
    body = {"iin": iin, "password": CITIZEN_PASSWORD}
    return await http.post("/portal/api/accounts", json=body, headers=forcing(*names))


async def soap_call(http: httpx.AsyncClient, path: str, body: bytes, *names: str) -> tuple[int, etree._Element]:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'} | forcing(*names)
    r = await http.post(path, content=body, headers=headers)
    return r.status_code, xmldsig.parse_xml(r.content)


async def gateway_client(http: httpx.AsyncClient) -> Party:
    """An integrator's system registered as the gateway's sender ``client``."""
    client = await system(http, "180440001235", "CLIENTSYS")
    body = {"senderId": "client", "password": PASSWORD, "certificate": client.pem}
    assert (await http.post("/shep/api/senders", json=body, headers=ADMIN)).status_code == 201
    return client


async def journal(http: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    r = await http.get("/shep/api/journal", params={"limit": 1000} | query, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["entries"]  # type: ignore[no-any-return]


async def submit_forcing(
    http: httpx.AsyncClient, citizen: Citizen, number: str, signed_xml: bytes, *names: str
) -> httpx.Response:
    headers = citizen.bearer | {"Content-Type": "application/xml"} | forcing(*names)
    return await http.post(f"/portal/api/requests/{number}/submit", content=signed_xml, headers=headers)


# -- the header and the catalogue -------------------------------------------------------------------
def test_the_header_lists_names_separated_by_commas_case_sensitive_whitespace_tolerated() -> None:
    assert call_faults.parse([" gbdfl.unavailable ,ocsp.unavailable,, "]) == {"gbdfl.unavailable", "ocsp.unavailable"}
    assert call_faults.parse(["crl.stale", "enis.malformed"]) == {"crl.stale", "enis.malformed"}  # header repeated
    assert call_faults.parse([]) == call_faults.parse([" "]) == frozenset()
    with pytest.raises(CodedError) as raised:
        call_faults.parse(["GBDFL.unavailable, gbdfl.unavailable"])
    assert raised.value.code == "FAULT_UNKNOWN" and "'GBDFL.unavailable'" in (raised.value.detail or "")
    assert raised.value.extra["knownFaults"] == NAMES


def test_each_fault_names_a_kind_its_consumer_knows_and_the_first_in_the_catalogue_wins() -> None:
    for fault in call_faults.CATALOGUE:
        if fault.component == "registries":
            assert fault.prefix in REGISTRIES and FaultKind(fault.kind)
        elif fault.component == "signing":
            assert (OcspFault if fault.prefix == "ocsp" else CrlFault)(fault.kind)
        else:
            assert (fault.component, fault.name) == ("gateway", GATEWAY_UNAVAILABLE)
    assert call_faults.chosen("gbdfl") is None  # outside a call: nothing in force
    with call_faults.in_force(frozenset({"gbdfl.not_found", "gbdfl.unavailable", "crl.stale"})):
        assert call_faults.chosen("gbdfl") == "unavailable" and call_faults.chosen("ocsp") is None
        assert call_faults.consumed_by("signing") == {"crl.stale"} and call_faults.active("crl.stale")
    assert call_faults.current() == frozenset()


async def test_the_catalogue_of_faults_is_public_with_the_header_name(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/catalog/faults")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["header"] == "X-Egovsim-Fault" and body["count"] == len(NAMES)
    assert [f["name"] for f in body["faults"]] == NAMES
    assert {f["component"] for f in body["faults"]} == {"registries", "signing", "gateway"}
    assert all(f["description"] for f in body["faults"])


async def test_an_unknown_fault_is_refused_with_400_and_the_call_does_nothing(http: httpx.AsyncClient) -> None:
    await wait_for_routes(http)
    citizen = await new_citizen(http, register=False)
    entries = len(await journal(http))
    r = await register(http, citizen.iin, "gbdfl.unavailable", "gbdfl.gone")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["code"], body["step"]) == ("FAULT_UNKNOWN", "api:request")
    assert "'gbdfl.gone'" in body["message"] and set(body["messages"]) == {"kk", "ru", "en"}
    assert body["knownFaults"] == NAMES
    assert len(await journal(http)) == entries, "ГБД ФЛ was not asked"
    assert (await register(http, citizen.iin)).status_code == 201, "no account was made by the refused call"
    # on the fast lane too: a SendMessage naming an unknown fault never reaches the gateway
    entries = len(await journal(http))
    r = await http.post(SYNC, content=b"<not-soap/>", headers=forcing("gateway.down") | {"Accept-Language": "ru"})
    assert r.status_code == 400 and r.json()["code"] == "FAULT_UNKNOWN"
    assert r.json()["message"].startswith("В заголовке X-Egovsim-Fault")
    assert len(await journal(http)) == entries


# -- the registries ---------------------------------------------------------------------------------
async def test_registration_forcing_gbdfl_unavailable_is_refused_and_the_next_call_is_not(
    http: httpx.AsyncClient,
) -> None:
    await wait_for_routes(http)
    citizen = await new_citizen(http, register=False)
    r = await register(http, citizen.iin, "gbdfl.unavailable")
    assert r.status_code == 503 and r.json()["code"] == "PORTAL_PERSON_CHECK_UNAVAILABLE", r.text
    # portal → gateway → ГБД ФЛ: the registry itself answered with a fault, for this call only
    latest = (await journal(http, serviceId=GBDFL, limit=1))[0]
    assert (latest["outcome"], latest["code"]) == ("fault", "SCE909")
    assert "ГБД ФЛ answered with fault SCE909" in latest["detail"]
    assert await faults(http) == [], "no switch was set"
    r = await register(http, citizen.iin)
    assert r.status_code == 201, r.text


async def test_a_fault_forced_on_a_call_wins_over_the_switch_and_does_not_spend_it(http: httpx.AsyncClient) -> None:
    await wait_for_routes(http)
    citizen = await new_citizen(http, register=False)
    await set_fault(http, "gbdfl", kind="unavailable", remaining=1)
    r = await register(http, citizen.iin, "gbdfl.not_found")
    assert r.status_code == 422 and r.json()["code"] == "PORTAL_PERSON_NOT_FOUND", r.text
    assert await faults(http) == [{"registry": "gbdfl", "kind": "unavailable", "delaySeconds": 0.0, "remaining": 1}]
    r = await register(http, citizen.iin)  # the switch spoils its one answer …
    assert r.status_code == 503 and r.json()["code"] == "PORTAL_PERSON_CHECK_UNAVAILABLE", r.text
    assert (await register(http, citizen.iin)).status_code == 201  # … and is gone


async def test_a_registry_fault_spoils_only_its_registry_in_a_direct_gateway_call(http: httpx.AsyncClient) -> None:
    await wait_for_routes(http)
    client = await gateway_client(http)
    iin = (await new_citizen(http, register=False)).iin

    async def ask(service_id: str, *names: str, **fields: str) -> tuple[int, etree._Element]:
        body = signed(client, envelope(service_id, query(service_id, **fields)))
        return await soap_call(http, SYNC, body, *names)

    def data(answer: tuple[int, etree._Element]) -> etree._Element:
        status, root = answer
        assert status == 200, etree.tostring(root)
        answered = soap.read_sync_response(root).data
        assert answered is not None
        return answered

    status, root = await ask(ENIS, "enis.malformed", representativeIin=iin)
    error = fault_of(root)
    assert status == 500 and error.code == "SCE909" and "not SendMessageResponse" in (error.data or "")
    assert data(await ask(GBDFL, "enis.malformed", iin=iin)).findtext("messageResult/code") == "00000"
    assert data(await ask(GBDFL, "gbdfl.not_found", iin=iin)).findtext("messageResult/code") == "00001"
    assert data(await ask(GBDFL, iin=iin)).findtext("messageResult/code") == "00000"
    assert await faults(http) == []


# -- the НУЦ ----------------------------------------------------------------------------------------
async def test_a_submit_forcing_ocsp_and_crl_unavailable_is_refused_and_the_next_submit_passes_condition_2(
    http: httpx.AsyncClient,
) -> None:
    citizen = await new_citizen(http)
    first = await draft(http, citizen, FOSTER)
    r = await submit(http, citizen, first, citizen.sign.sign(await document(http, citizen, first)))
    assert r.status_code == 202, r.text  # the portal keeps the НУЦ's "good" for a few seconds now
    second = await draft(http, citizen, FOSTER)
    signed_xml = citizen.sign.sign(await document(http, citizen, second))
    r = await submit_forcing(http, citizen, second, signed_xml, "ocsp.unavailable", "crl.unavailable")
    assert r.status_code == 422 and r.json()["code"] == "EDS_REVOCATION_UNAVAILABLE", r.text
    assert "HTTP 503" in r.json()["detail"], "the НУЦ was asked, not the cache"
    assert (await http.get("/nca/api/faults", headers=ADMIN)).json() == {"ocsp": "none", "crl": "none"}
    third = await draft(http, citizen, FOSTER)
    r = await submit(http, citizen, third, citizen.sign.sign(await document(http, citizen, third)))
    assert r.status_code == 202, r.text
    events = (await http.get(f"/api/catalog/traces/{third}")).json()["events"]
    assert ("portal:2-шарт", "ok") in [(e["step"], e["outcome"]) for e in events]


async def test_ocsp_and_crl_faults_spoil_one_answer_and_never_the_responders_cache(http: httpx.AsyncClient) -> None:
    _, cert = key_and_cert(await issue(http, kind="sign"))
    ca = x509.load_der_x509_certificate((await http.get("/nca/cert/nca_rsa_test.cer")).content)
    # no nonce: an answer the responder may serve again from its cache (RFC 5019)
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, ca, hashes.SHA256()).build()
    der = request.public_bytes(serialization.Encoding.DER)

    async def ask(*names: str) -> httpx.Response:
        headers = {"Content-Type": "application/ocsp-request"} | forcing(*names)
        return await http.post("/nca/ocsp/", content=der, headers=headers)

    async def answer(*names: str) -> ocsp.OCSPResponse:
        r = await ask(*names)
        assert r.status_code == 200, r.text
        return ocsp.load_der_ocsp_response(r.content)

    good = await answer()  # cached now
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD and good.certificates[0].issuer == ca.subject
    assert (await answer("ocsp.try_later")).response_status is ocsp.OCSPResponseStatus.TRY_LATER
    assert (await answer("ocsp.internal_error")).response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR
    assert (await ask("ocsp.unavailable")).status_code == 503
    foreign = await answer("ocsp.untrusted_responder")
    assert foreign.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert foreign.certificates[0].issuer != ca.subject
    assert (await answer()).certificates[0].issuer == ca.subject, "the foreign answer was not cached"

    async def crl(*names: str) -> httpx.Response:
        return await http.get("/nca/crl/nca_rsa_test.crl", headers=forcing(*names))

    now = datetime.now(UTC)
    stale = x509.load_der_x509_crl((await crl("crl.stale")).content)
    assert stale.next_update_utc is not None and stale.next_update_utc < now
    r = await crl("crl.unavailable")
    assert r.status_code == 503 and r.json()["code"] == "NCA_UNAVAILABLE"
    fresh = x509.load_der_x509_crl((await crl()).content)
    assert fresh.next_update_utc is not None and fresh.next_update_utc > now


# -- the gateway ------------------------------------------------------------------------------------
async def test_send_message_forcing_gateway_unavailable_is_sce909_and_is_not_routed(http: httpx.AsyncClient) -> None:
    client = await gateway_client(http)
    route = {"serviceId": ECHO_SERVICE_ID, "target": ECHO_TARGET, "title": "ECHO"}
    assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
    body = signed(client, request_envelope(ECHO_SERVICE_ID, message_id="FAULT-SYNC-1"))
    status, root = await soap_call(http, SYNC, body, "gateway.unavailable")
    error = fault_of(root)
    assert status == 500 and error.code == "SCE909" and "ШЭП" in error.message
    entry = await last_journal(http)
    assert (entry["outcome"], entry["code"], entry["messageId"], entry["target"]) == (
        "rejected",
        "SCE909",
        "FAULT-SYNC-1",
        None,
    )
    status, root = await soap_call(http, SYNC, body)
    assert status == 200 and soap.read_sync_response(root).status_code == "SCSS001"


async def test_async_send_message_forcing_gateway_unavailable_is_sce909_and_never_stored(
    http: httpx.AsyncClient,
) -> None:
    requester: Party = (await setup_parties(http))["requester"]
    body = message(requester, "requester", message_id="FAULT-ASYNC-1")
    status, root = await soap_call(http, ASYNC, body, "gateway.unavailable")
    assert status == 500 and fault_of(root).code == "SCE909"
    status, root = await soap_call(http, ASYNC, status_request(requester, "FAULT-ASYNC-1"))
    assert status == 500 and fault_of(root).code == "SCE001", "the gateway holds no such message"
    pushed: list[soap.AsyncMessage] = []
    with respx.mock(assert_all_called=True) as mock:
        mock.post(PUSH_URL).mock(side_effect=accepting(pushed))
        status, root = await soap_call(http, ASYNC, body)
        assert status == 200, etree.tostring(root)
        await until_state(http, requester, "FAULT-ASYNC-1", soap.MessageState.DELIVERED)
    assert [m.info.message_id for m in pushed] == ["FAULT-ASYNC-1"]


# -- one call's faults are its own -------------------------------------------------------------------
async def test_concurrent_calls_with_and_without_the_header_get_their_own_outcomes(http: httpx.AsyncClient) -> None:
    await wait_for_routes(http)
    citizens = [await new_citizen(http, register=False) for _ in range(6)]
    calls = [register(http, c.iin, *(["gbdfl.unavailable"] if i % 2 == 0 else [])) for i, c in enumerate(citizens)]
    answers = await asyncio.gather(*calls)
    assert [r.status_code for r in answers] == [503, 201] * 3, [r.text for r in answers]


async def test_calls_between_components_over_http_carry_the_faults_on(tmp_path: Path) -> None:
    """In compose each component is its own process: the header itself travels on."""
    settings = Settings(data_dir=tmp_path, signing_url="http://signing.egovsim.test")
    kernel = Kernel.build(settings, ("portal",))
    try:
        with respx.mock(assert_all_called=True) as mock:
            chain = mock.get("http://signing.egovsim.test/nca/cert/chain.pem").respond(200)
            async with kernel.client_for("signing") as client:
                with call_faults.in_force(frozenset({"ocsp.unavailable", "crl.stale"})):
                    await client.get("/nca/cert/chain.pem")
                    await client.get("/nca/cert/chain.pem", headers={HEADER: "crl.unavailable"})
                await client.get("/nca/cert/chain.pem")
        carried = [call.request.headers.get(HEADER) for call in chain.calls]
        assert carried == ["crl.stale, ocsp.unavailable", "crl.unavailable", None]
    finally:
        await kernel.db.dispose()
