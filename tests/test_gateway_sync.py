"""ЭҮШ / ШЭП SyncChannel through its public interface, as an integrator meets it: a SOAP client
built from our WSDL, signed messages, an external provider system (respx), every fault code,
and bad input that changes nothing but the journal's one rejection entry."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from egovsim import xmldsig
from egovsim.app import RunningSimulator
from gateway import soap
from tests.conftest import ADMIN
from tests.nca_helpers import issue, key_and_cert, run, served

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYNC = "/shep/bip-sync-wss-gost/"
PROVIDER_URL = "https://provider.integrator.test/shep"
PASSWORD = "sender-password-1"


class Party:
    """A gateway participant with its system certificate (key, cert)."""

    def __init__(self, issued: dict[str, Any]) -> None:
        self.issued = issued
        self.key, self.cert = key_and_cert(issued)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(Encoding.PEM).decode()


async def system(http: httpx.AsyncClient, bin_: str, name: str, **extra: Any) -> Party:
    body = {"profile": "system", "bin": bin_, "system_name": name, "organization": f"{name} LLP"}
    return Party(await issue(http, **(body | extra)))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    async with nca.client() as http:
        client = await system(http, "180440001235", "CLIENTSYS")
        provider = await system(http, "990340001111", "PROVIDERSYS")
        stranger = await system(http, "051240007898", "OTHERSYS")
        citizen = Party(await issue(http, kind="sign"))
        r = await http.post(
            "/shep/api/senders",
            json={"senderId": "client", "password": PASSWORD, "certificate": client.pem, "title": "client system"},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        routes = [
            {"serviceId": "EXT_LOOKUP", "target": PROVIDER_URL, "title": "INTEGRATOR"},
            {"serviceId": "EXT_SIGNED_DATA", "target": PROVIDER_URL, "businessSignature": True},
            {"serviceId": "EXT_PLAIN", "target": PROVIDER_URL, "transportSignature": False},
            {"serviceId": "EXT_SLOW", "target": PROVIDER_URL, "timeoutSeconds": 0.3},
            {"serviceId": "ASYNC_ONLY", "target": PROVIDER_URL, "mode": "async"},
        ]
        for route in routes:
            assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
        yield {"http": http, "client": client, "provider": provider, "stranger": stranger, "citizen": citizen}


def request_envelope(
    service_id: str = "EXT_LOOKUP", *, data: etree._Element | None = None, **info: Any
) -> etree._Element:
    if data is None:
        data = etree.fromstring("<data><iin>900115300013</iin><query>person</query></data>")
    return soap.build_sync_request(
        soap.SyncRequest(
            message_id=info.pop("message_id", str(uuid.uuid4())),
            service_id=service_id,
            message_date=datetime.now().astimezone(),
            sender=soap.Sender(info.pop("sender_id", "client"), info.pop("password", PASSWORD)),
            data=data,
            **info,
        )
    )


def signed(party: Party, envelope: etree._Element) -> bytes:
    return xmldsig.sign_wsse(envelope, party.key, party.cert)


def provider_answers(provider: Party, *, sign: bool = True, data: str = "<data><found>true</found></data>") -> Any:
    """An integrator's provider system: answers SendMessage with SCSS001, signed or not."""

    def answer(request: httpx.Request) -> httpx.Response:
        incoming = soap.read_sync_request(xmldsig.parse_xml(request.content))
        response = soap.build_sync_response(
            soap.SyncResponse(
                message_id=str(uuid.uuid4()),
                correlation_id=incoming.message_id,
                response_date=datetime.now().astimezone(),
                status_code="SCSS001",
                status_message="Message has been processed successfully",
                data=etree.fromstring(data),
                session_id=incoming.session_id,
            )
        )
        body = xmldsig.sign_wsse(response, provider.key, provider.cert) if sign else soap.to_bytes(response)
        return httpx.Response(200, content=body, headers={"Content-Type": "text/xml"})

    return answer


async def post(http: httpx.AsyncClient, body: bytes) -> tuple[int, etree._Element]:
    r = await http.post(SYNC, content=body, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
    return r.status_code, xmldsig.parse_xml(r.content)


def fault_of(root: etree._Element) -> soap.ErrorInfo:
    error = soap.read_fault(root)
    assert error is not None, etree.tostring(root)
    return error


async def last_journal(http: httpx.AsyncClient) -> dict[str, Any]:
    entries = (await http.get("/shep/api/journal", params={"limit": 1}, headers=ADMIN)).json()["entries"]
    return (await http.get(f"/shep/api/journal/{entries[0]['id']}", headers=ADMIN)).json()  # type: ignore[no-any-return]


async def journal_size(http: httpx.AsyncClient) -> int:
    return len((await http.get("/shep/api/journal", params={"limit": 1000}, headers=ADMIN)).json()["entries"])


# -- the happy path, with independent tools ------------------------------------------------------
async def test_a_signed_request_reaches_the_external_provider_and_its_signed_answer_comes_back(
    world, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    http, client, provider = world["http"], world["client"], world["provider"]
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(PROVIDER_URL).mock(side_effect=provider_answers(provider))
        status, root = await post(http, signed(client, request_envelope(message_id="MSG-HAPPY-1")))
    assert status == 200, etree.tostring(root)
    response = soap.read_sync_response(root)
    assert (response.status_code, response.correlation_id) == ("SCSS001", "MSG-HAPPY-1")
    assert response.session_id and soap.SESSION_ID.fullmatch(response.session_id)
    assert response.data is not None and response.data.findtext("found") == "true"
    # what the provider received: our sessionId, the gateway's transport signature
    forwarded = xmldsig.parse_xml(route.calls.last.request.content)
    assert soap.read_sync_request(forwarded).session_id == response.session_id
    gateway_cert = xmldsig.verify_wsse(forwarded).certificate
    assert "SHEP" in gateway_cert.subject.rfc4514_string()
    # the answer is the gateway's, signed by it; xmlsec1 agrees, and it validates against our XSDs
    assert xmldsig.verify_wsse(root).certificate == gateway_cert
    soap.validate(root)
    (tmp_path / "answer.xml").write_bytes(etree.tostring(root))
    (tmp_path / "gateway.pem").write_bytes(gateway_cert.public_bytes(Encoding.PEM))
    code, out = await run(
        "xmlsec1", "--verify", "--id-attr:Id", f"{soap.SOAP_ENV}:Body",
        "--pubkey-cert-pem", tmp_path / "gateway.pem", tmp_path / "answer.xml",
    )  # fmt: skip
    assert code == 0 and "OK" in out, out
    entry = await last_journal(http)
    assert (entry["outcome"], entry["code"], entry["messageId"], entry["target"]) == (
        "ok",
        "SCSS001",
        "MSG-HAPPY-1",
        PROVIDER_URL,
    )
    assert "MSG-HAPPY-1" in entry["requestXml"] and "SCSS001" in entry["responseXml"]
    assert PASSWORD not in entry["requestXml"] and "<password>***</password>" in entry["requestXml"]


async def test_zeep_builds_a_client_from_our_wsdl_and_calls_send_message(world, nca: RunningSimulator) -> None:  # type: ignore[no-untyped-def]
    import zeep
    from zeep.plugins import Plugin

    client_party, provider = world["client"], world["provider"]

    class Sign(Plugin):  # the integrator's way: sign the Body with the system key before sending
        def egress(self, envelope, http_headers, operation, binding_options):  # type: ignore[no-untyped-def]
            return xmldsig.parse_xml(signed(client_party, envelope)), http_headers

    async with served(nca) as base:

        def call() -> Any:
            client = zeep.Client(f"{base}{SYNC}?wsdl", plugins=[Sign()])
            data = etree.fromstring("<data><iin>900115300013</iin></data>")
            return client.service.SendMessage(
                request={
                    "requestInfo": {
                        "messageId": "ZEEP-1",
                        "serviceId": "EXT_LOOKUP",
                        "messageDate": datetime.now().astimezone(),
                        "sender": {"senderId": "client", "password": PASSWORD},
                    },
                    "requestData": {"data": data},
                }
            )

        with respx.mock(assert_all_called=True) as mock:  # zeep speaks `requests`: only the gateway's httpx is mocked
            mock.post(PROVIDER_URL).mock(side_effect=provider_answers(provider))
            result = await asyncio.to_thread(call)
    assert result.responseInfo.status.code == "SCSS001"
    assert result.responseInfo.correlationId == "ZEEP-1"


# -- every fault code -----------------------------------------------------------------------------
async def test_unknown_service_is_sce004_and_only_the_rejection_is_journaled(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    before = await journal_size(http)
    with respx.mock(assert_all_called=False) as mock:
        called = mock.post(PROVIDER_URL)
        status, root = await post(http, signed(world["client"], request_envelope("NO_SUCH_SERVICE")))
    assert status == 500 and fault_of(root).code == "SCE004" and not called.called
    assert await journal_size(http) == before + 1
    entry = await last_journal(http)
    assert (entry["outcome"], entry["code"], entry["serviceId"]) == ("rejected", "SCE004", "NO_SUCH_SERVICE")


async def test_a_service_of_the_async_channel_is_sce004_on_the_sync_one(world) -> None:  # type: ignore[no-untyped-def]
    _, root = await post(world["http"], signed(world["client"], request_envelope("ASYNC_ONLY")))
    assert fault_of(root).code == "SCE004"


@pytest.mark.parametrize(
    ("sender_id", "password"), [("client", "wrong-password"), ("nobody", PASSWORD), ("client", None)]
)
async def test_failed_sender_authentication_is_sce003(world, sender_id: str, password: str | None) -> None:  # type: ignore[no-untyped-def]
    _, root = await post(
        world["http"], signed(world["client"], request_envelope(sender_id=sender_id, password=password))
    )
    error = fault_of(root)
    assert error.code == "SCE003" and "password" in (error.data or "")


async def test_an_unsigned_message_is_sce007(world) -> None:  # type: ignore[no-untyped-def]
    _, root = await post(world["http"], soap.to_bytes(request_envelope()))
    assert fault_of(root).code == "SCE007"


async def test_a_tampered_message_is_sce006(world) -> None:  # type: ignore[no-untyped-def]
    body = signed(world["client"], request_envelope()).replace(b"900115300013", b"900115300014")
    _, root = await post(world["http"], body)
    assert fault_of(root).code == "SCE006"


async def test_a_message_signed_by_another_system_is_sce006(world) -> None:  # type: ignore[no-untyped-def]
    _, root = await post(world["http"], signed(world["stranger"], request_envelope()))
    error = fault_of(root)
    assert error.code == "SCE006" and "client" in (error.data or "")


async def test_an_expired_transport_certificate_is_sce005(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    now = datetime.now().astimezone()
    old = await system(http, "180440001235", "CLIENTSYS", not_before=(now - timedelta(days=400)).isoformat(),
                       not_after=(now - timedelta(days=35)).isoformat())  # fmt: skip
    await http.post(
        "/shep/api/senders", json={"senderId": "old", "password": PASSWORD, "certificate": old.pem}, headers=ADMIN
    )
    _, root = await post(http, signed(old, request_envelope(sender_id="old")))
    assert fault_of(root).code == "SCE005"


async def test_a_revoked_transport_certificate_is_sce005(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    gone = await system(http, "180440001235", "CLIENTSYS")
    await http.post(
        f"/nca/api/certificates/{gone.issued['serial']}/revoke", json={"reason": "keyCompromise"}, headers=ADMIN
    )
    await http.post("/shep/api/senders", json={"senderId": "gone", "password": PASSWORD}, headers=ADMIN)
    _, root = await post(http, signed(gone, request_envelope(sender_id="gone")))
    error = fault_of(root)
    assert error.code == "SCE005" and "revoked" in (error.data or "")


def signed_data(party: Party, text: str = "<data><iin>900115300013</iin></data>") -> etree._Element:
    return xmldsig.parse_xml(xmldsig.sign_enveloped(text, party.key, party.cert))


async def test_business_signature_faults_sce015_016_017(world) -> None:  # type: ignore[no-untyped-def]
    http, client, provider, citizen = world["http"], world["client"], world["provider"], world["citizen"]
    _, root = await post(http, signed(client, request_envelope("EXT_SIGNED_DATA")))
    assert fault_of(root).code == "SCE017"
    tampered = etree.fromstring(etree.tostring(signed_data(citizen)).replace(b"900115300013", b"900115300014"))
    _, root = await post(http, signed(client, request_envelope("EXT_SIGNED_DATA", data=tampered)))
    assert fault_of(root).code == "SCE016"
    now = datetime.now().astimezone()
    expired = Party(await issue(http, kind="sign", not_before=(now - timedelta(days=400)).isoformat(),
                                not_after=(now - timedelta(days=1)).isoformat()))  # fmt: skip
    _, root = await post(http, signed(client, request_envelope("EXT_SIGNED_DATA", data=signed_data(expired))))
    assert fault_of(root).code == "SCE015"
    with respx.mock(assert_all_called=True) as mock:  # and a valid business signature passes
        mock.post(PROVIDER_URL).mock(
            side_effect=provider_answers(provider, data=etree.tostring(signed_data(provider)).decode())
        )
        status, root = await post(http, signed(client, request_envelope("EXT_SIGNED_DATA", data=signed_data(citizen))))
    assert status == 200 and soap.read_sync_response(root).status_code == "SCSS001"


async def test_an_unsigned_or_wrongly_signed_provider_answer_is_sce909(world) -> None:  # type: ignore[no-untyped-def]
    http, client, provider = world["http"], world["client"], world["provider"]
    for answer, sub in (
        (provider_answers(provider, sign=False), "SCE007"),
        (_tampered(provider_answers(provider)), "SCE006"),
    ):
        with respx.mock(assert_all_called=True) as mock:
            mock.post(PROVIDER_URL).mock(side_effect=answer)
            _, root = await post(http, signed(client, request_envelope()))
        error = fault_of(root)
        assert error.code == "SCE909" and error.sub_error is not None and error.sub_error.code == sub
        assert "INTEGRATOR" in error.message


def _tampered(answer: Any) -> Any:
    def tamper(request: httpx.Request) -> httpx.Response:
        good = answer(request)
        return httpx.Response(200, content=good.content.replace(b"true", b"false"), headers=good.headers)

    return tamper


async def test_an_unreachable_slow_or_faulting_provider_is_sce909(world) -> None:  # type: ignore[no-untyped-def]
    http, client = world["http"], world["client"]

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2)
        return httpx.Response(200)

    provider_fault = soap.to_bytes(
        soap.build_fault("SendMessage", soap.ErrorInfo("SCE001", "bad", datetime.now().astimezone()), channel="sync")
    )
    cases = [
        ("EXT_LOOKUP", httpx.ConnectError("refused")),
        ("EXT_SLOW", slow),
        ("EXT_LOOKUP", httpx.Response(500, content=provider_fault)),
        ("EXT_LOOKUP", httpx.Response(200, content=b"not xml")),
    ]
    for service, effect in cases:
        with respx.mock(assert_all_called=False) as mock:  # respx counts a call once it returned: not the slow one
            mock.post(PROVIDER_URL).mock(side_effect=effect)
            _, root = await post(http, signed(client, request_envelope(service)))
        assert fault_of(root).code == "SCE909", service


# -- bad input --------------------------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>&lol3;</SOAP-ENV:Body></SOAP-ENV:Envelope>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>&xxe;</SOAP-ENV:Body></SOAP-ENV:Envelope>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<not-closed>", b"", b'{"json": true}'])
async def test_malformed_and_hostile_documents_are_sce001_with_no_expansion(world, body: bytes) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    before = await journal_size(http)
    status, root = await post(http, body)
    error = fault_of(root)
    assert status == 500 and error.code == "SCE001"
    text = etree.tostring(root)
    assert b"lollol" not in text and b"root:" not in text
    assert await journal_size(http) == before + 1
    assert (await last_journal(http))["outcome"] == "rejected"


async def test_an_oversize_body_is_refused_unread_with_a_soap_fault(world, nca: RunningSimulator) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    before = await journal_size(http)
    huge = b"<x>" + b"a" * (nca.kernel.settings.max_body_bytes + 1) + b"</x>"
    r = await http.post(SYNC, content=huge, headers={"Content-Type": "text/xml"})
    assert r.status_code == 413 and fault_of(xmldsig.parse_xml(r.content)).code == "SCE001"
    assert await journal_size(http) == before + 1


async def test_the_wsdl_names_the_address_it_was_fetched_from_and_an_unknown_schema_is_404(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    wsdl = (await http.get(f"{SYNC}?wsdl")).text
    assert f'location="{str(http.base_url).rstrip("/")}{SYNC}"' in wsdl and f"{SYNC}?xsd=" in wsdl
    assert (await http.get(f"{SYNC}?xsd=nope.xsd")).status_code == 404


async def test_the_operator_api_needs_the_admin_token_and_knows_unknown_ids(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    assert (await http.get("/shep/api/routes")).status_code == 401
    assert (await http.get("/shep/api/routes/NOPE", headers=ADMIN)).json()["code"] == "ROUTE_NOT_FOUND"
    assert (await http.delete("/shep/api/senders/NOPE", headers=ADMIN)).json()["code"] == "SENDER_NOT_FOUND"
    assert (await http.get("/shep/api/journal/999999", headers=ADMIN)).json()["code"] == "JOURNAL_ENTRY_NOT_FOUND"
    bad = await http.post("/shep/api/routes", json={"serviceId": "X", "target": "ftp://x"}, headers=ADMIN)
    assert bad.status_code == 422
    senders = (await http.get("/shep/api/senders", headers=ADMIN)).json()["senders"]
    assert all("password" not in str(s).lower() for s in senders)


async def test_the_route_cli_adds_lists_and_removes_routes_of_a_running_egovsim(world, nca: RunningSimulator) -> None:  # type: ignore[no-untyped-def]
    import sys

    cli = (sys.executable, "-m", "egovsim.cli", "route")
    async with served(nca) as url:
        auth = ("--url", url, "--token", ADMIN["Authorization"].split()[1])
        rc, out = await run(*cli, "add", "CLI_ROUTE", PROVIDER_URL, "--mode", "async", "--business-signature",
                            "--timeout", "5", "--title", "CLI TEST", *auth)  # fmt: skip
        assert rc == 0 and "CLI_ROUTE" in out and "transport+business" in out, out
        rc, out = await run(*cli, "list", "--json", *auth)
        listed = {r["serviceId"]: r for r in json.loads(out)}
        assert listed["CLI_ROUTE"]["mode"] == "async" and listed["CLI_ROUTE"]["timeoutSeconds"] == 5
        rc, out = await run(*cli, "remove", "CLI_ROUTE", *auth)
        assert rc == 0, out
        rc, out = await run(*cli, "remove", "CLI_ROUTE", *auth)
        assert rc != 0 and "ROUTE_NOT_FOUND" in out
        rc, out = await run(*cli, "add", "BAD", "ftp://nowhere", *auth)
        assert rc != 0 and "REQUEST_INVALID" in out


async def test_the_diagnostic_echo_provider_answers_a_routed_lookup_with_its_own_data(world) -> None:  # type: ignore[no-untyped-def]
    http, client = world["http"], world["client"]
    route = {"serviceId": "EGOVSIM_ECHO", "target": "component:gateway:/shep/diag/echo", "title": "ECHO"}
    assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
    data = etree.fromstring("<data><iin>900115300013</iin><lookup>Ақтөбе</lookup></data>")
    status, root = await post(http, signed(client, request_envelope("EGOVSIM_ECHO", data=data, message_id="ECHO-1")))
    assert status == 200, etree.tostring(root)
    response = soap.read_sync_response(root)
    assert response.correlation_id == "ECHO-1" and response.data.findtext("lookup") == "Ақтөбе"
    bad = await http.post("/shep/diag/echo", content=b"<nonsense/>", headers={"Content-Type": "text/xml"})
    assert bad.status_code == 500 and fault_of(xmldsig.parse_xml(bad.content)).code == "SCE001"


async def test_concurrent_messages_are_each_journaled_before_their_answer(world) -> None:  # type: ignore[no-untyped-def]
    """The journal group-commits: many exchanges at once share a transaction, and each answer
    leaves only once its own entry is stored (so it is queryable the moment the answer arrives)."""
    http, client = world["http"], world["client"]
    route = {"serviceId": "EGOVSIM_ECHO", "target": "component:gateway:/shep/diag/echo", "title": "ECHO"}
    await http.post("/shep/api/routes", json=route, headers=ADMIN)  # 201, or 409 after the echo test
    ids = [f"BURST-{uuid.uuid4()}" for _ in range(24)]

    async def one(message_id: str) -> dict[str, Any]:
        status, root = await post(http, signed(client, request_envelope("EGOVSIM_ECHO", message_id=message_id)))
        assert status == 200, etree.tostring(root)
        found = (await http.get("/shep/api/journal", params={"messageId": message_id}, headers=ADMIN)).json()
        return found["entries"]  # type: ignore[no-any-return]

    journaled = await asyncio.gather(*(one(m) for m in ids))
    assert [len(entries) for entries in journaled] == [1] * len(ids)
    assert {entries[0]["messageId"] for entries in journaled} == set(ids)
    assert all(entries[0]["outcome"] == "ok" and entries[0]["code"] == "SCSS001" for entries in journaled)
