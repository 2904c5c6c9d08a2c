"""ГБД ФЛ and ЕНИС as an integrator meets them: through the gateway's SyncChannel, with a SOAP
client built from our WSDL, records seeded through the registries' admin API, signatures checked
with xmlsec1 against the НУЦ's chain, and every injected fault as the caller sees it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from copy import deepcopy
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from egovsim import xmldsig
from egovsim.app import RunningSimulator
from egovsim.iin import is_valid_bin
from gateway import soap
from gateway.keys import GATEWAY_BIN
from tests.conftest import ADMIN
from tests.nca_helpers import ca_files, run, served
from tests.test_gateway_sync import PASSWORD, Party, fault_of, post, signed, system

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYNC = "/shep/bip-sync-wss-gost/"
GBDFL = "GBDFL_UniversalServiceSync"
ENIS = "ENIS_PowerOfAttorneySync"
REQUEST_NS = "http://message.persistence.interactive.nat"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

AIGUL = {  # every field of the admin API filled in
    "iin": "850716400607",
    "surname": "СЕРІКОВА",
    "name": "АЙГҮЛ",
    "patronymic": "ҚАЙРАТҚЫЗЫ",
    "surnameLat": "SERIKOVA",
    "nameLat": "AIGUL",
    "birthDate": "1985-07-16",
    "gender": "2",
    "nationality": "005",
    "citizenship": "398",
    "birthPlace": {"country": "398", "region": "350000000", "district": "351010000", "city": "Караганда"},
    "regAddress": {
        "region": "710000000",
        "district": "711300000",
        "street": "ул. Сығанақ",
        "building": "10",
        "flat": "42",
        "beginDate": "2015-09-01",
    },
    "document": {
        "type": "002",
        "number": "045678912",
        "beginDate": "2021-03-10",
        "endDate": "2031-03-09",
        "issueOrganization": "002",
        "status": "00",
    },
    "lifeStatus": "0",
    "capableStatus": "2",
    "missing": False,
    "removed": False,
    "extra": {"note": "seeded by the test"},
}
ABSENT_IIN = "900115300013"  # valid, never stored here
SERVICE = "school_certificate_duplicate"
OTHER_SERVICE = "oralman_status"


async def wait_for_routes(http: httpx.AsyncClient) -> None:
    """The registries add their routes in the background at start."""
    for _ in range(200):
        found = [(await http.get(f"/shep/api/routes/{sid}", headers=ADMIN)).status_code for sid in (GBDFL, ENIS)]
        if found == [200, 200]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the registries' routes did not appear in the gateway")


def power(number: str, today: date, **changes: Any) -> dict[str, Any]:
    record = {
        "registryNumber": number,
        "registrationDate": str(today - timedelta(days=400)),
        "notary": {
            "iin": "780302300121",
            "fullName": "ЖАНҰЗАҚОВ НҰРЛАН САПАРҰЛЫ",
            "licenseNumber": "0001234",
            "notarialDistrict": "г. Астана",
        },
        "grantor": {"iin": "660427400014", "name": "ӘБЕНОВА ГҮЛНАР"},
        "representative": {"iin": AIGUL["iin"], "name": "СЕРІКОВА АЙГҮЛ ҚАЙРАТҚЫЗЫ"},
        "powers": "представлять мои интересы в государственных органах по получению государственных услуг",
        "services": [SERVICE],
        "validFrom": str(today - timedelta(days=400)),
        "validTo": str(today + timedelta(days=300)),
        "substitutionAllowed": False,
        "revocation": None,
    }
    return record | changes


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    async with nca.client() as http:
        await wait_for_routes(http)
        client = await system(http, "180440001235", "CLIENTSYS")
        r = await http.post(
            "/shep/api/senders",
            json={"senderId": "client", "password": PASSWORD, "certificate": client.pem},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        assert (await http.post("/registries/api/persons", json=AIGUL, headers=ADMIN)).status_code == 201
        today = date.fromisoformat((await http.get("/api/catalog/clock")).json()["now"][:10])
        powers = {
            "ACTIVE": power("NP-ACTIVE-1", today),
            "GENERAL": power("NP-GENERAL-1", today, services=None),
            "EXPIRED": power("NP-EXPIRED-1", today, validTo=str(today - timedelta(days=1))),
            "REVOKED": power(
                "NP-REVOKED-1",
                today,
                revocation={"date": str(today - timedelta(days=10)), "reason": "отмена доверителем"},
            ),
            "NOT_YET_VALID": power(
                "NP-FUTURE-1",
                today,
                registrationDate=str(today),
                validFrom=str(today + timedelta(days=5)),
            ),
        }
        for body in powers.values():
            r = await http.post("/registries/api/powers-of-attorney", json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield {"http": http, "client": client}


def query(service_id: str, **fields: str) -> etree._Element:
    """A request ``data`` as the SmartBridge sample writes it (egov-interfaces §7)."""
    data = etree.Element("data", nsmap={"cs": REQUEST_NS, "xsi": XSI})
    data.set(f"{{{XSI}}}type", "cs:Request")
    header = {"messageId": "1", "messageDate": "2017-10-12T15:22:16.183+06:00", "senderCode": "client"}
    for name, value in (header | fields).items():
        etree.SubElement(data, name).text = value
    return data


def envelope(service_id: str, data: etree._Element, message_id: str | None = None) -> etree._Element:
    return soap.build_sync_request(
        soap.SyncRequest(
            message_id=message_id or str(uuid.uuid4()),
            service_id=service_id,
            message_date=datetime.now().astimezone(),
            sender=soap.Sender("client", PASSWORD),
            data=data,
        )
    )


async def ask(world: dict[str, Any], service_id: str, **fields: str) -> tuple[int, etree._Element]:
    client: Party = world["client"]
    return await post(world["http"], signed(client, envelope(service_id, query(service_id, **fields))))


async def answer_data(world: dict[str, Any], service_id: str, **fields: str) -> etree._Element:
    status, root = await ask(world, service_id, **fields)
    assert status == 200, etree.tostring(root)
    response = soap.read_sync_response(root)
    assert response.status_code == "SCSS001"
    return response.data


def entry(element: etree._Element | None) -> tuple[str | None, ...]:
    assert element is not None
    return element.findtext("code"), element.findtext("nameRu"), element.findtext("nameKz")


async def xmlsec1_verifies(folder: Path, document: bytes, *options: str | Path) -> None:
    """xmlsec1, an independent implementation, verifies the document's signature."""
    path = folder / f"{uuid.uuid4().hex}.xml"
    path.write_bytes(document)
    code, out = await run("xmlsec1", "--verify", *options, path)
    assert code == 0 and "OK" in out, out


async def xmlsec1_verifies_wsse(folder: Path, envelope: bytes, signer: x509.Certificate) -> None:
    # xmlsec1 does not resolve wsse:SecurityTokenReference, so it is given the signer's certificate
    pem = folder / f"{uuid.uuid4().hex}.pem"
    pem.write_bytes(signer.public_bytes(Encoding.PEM))
    await xmlsec1_verifies(folder, envelope, "--id-attr:Id", f"{soap.SOAP_ENV}:Body", "--pubkey-cert-pem", pem)


async def set_fault(http: httpx.AsyncClient, registry: str, **body: Any) -> None:
    r = await http.put(f"/registries/api/faults/{registry}", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text


async def faults(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await http.get("/registries/api/faults", headers=ADMIN)).json()["faults"]  # type: ignore[no-any-return]


# -- ГБД ФЛ ---------------------------------------------------------------------------------------
async def test_a_zeep_client_gets_a_known_person_with_every_field_and_both_signatures_verify(
    world, nca: RunningSimulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import zeep
    from zeep import xsd
    from zeep.plugins import HistoryPlugin, Plugin

    client_party: Party = world["client"]
    history = HistoryPlugin()

    class Sign(Plugin):  # the integrator signs the Body with its system key before sending
        def egress(self, envelope, http_headers, operation, binding_options):  # type: ignore[no-untyped-def]
            return xmldsig.parse_xml(signed(client_party, envelope)), http_headers

    # the request data as SmartBridge sends it: xsi:type="cs:Request" (egov-interfaces §7)
    names = ("messageId", "messageDate", "senderCode", "iin")
    request_type = xsd.ComplexType(
        xsd.Sequence([xsd.Element(n, xsd.String()) for n in names]), qname=etree.QName(REQUEST_NS, "Request")
    )
    values = ("1", "2017-10-12T15:22:16.183+06:00", "client", AIGUL["iin"])
    data = xsd.AnyObject(request_type, request_type(**dict(zip(names, values, strict=True))))

    async with served(nca) as base:

        def call() -> Any:
            client = zeep.Client(f"{base}{SYNC}?wsdl", plugins=[Sign(), history])
            return client.service.SendMessage(
                request={
                    "requestInfo": {
                        "messageId": "ZEEP-GBDFL-1",
                        "serviceId": GBDFL,
                        "messageDate": datetime.now().astimezone(),
                        "sender": {"senderId": "client", "password": PASSWORD},
                    },
                    "requestData": {"data": data},
                }
            )

        result = await asyncio.to_thread(call)
    assert (result.responseInfo.status.code, result.responseInfo.correlationId) == ("SCSS001", "ZEEP-GBDFL-1")
    root = history.last_received["envelope"]
    data = soap.read_sync_response(root).data

    # the answer's header, as the real sample (egov-interfaces §7)
    assert data.findtext("requestId") == "1" and data.findtext("messageId")
    assert entry(data.find("sender")) == ("GBDFL", "ГБД ФЛ", "ЖТ МДҚ")
    assert data.findtext("receiver/code") == "client"
    sent = history.last_sent["envelope"].find(".//requestData/data")
    assert sent.get(f"{{{XSI}}}type").endswith(":Request") and sent.findtext("iin") == AIGUL["iin"]
    assert entry(data.find("messageResult"))[:2] == ("00000", "Сообщение успешно обработано")
    # the person, every coded value a dictionary entry (egov-interfaces §8)
    person = data.find("persons/person")
    assert person is not None
    texts = {name: person.findtext(name) for name in ("iin", "surname", "name", "patronymic", "birthDate", "removed")}
    assert texts == {
        "iin": "850716400607",
        "surname": "СЕРІКОВА",
        "name": "АЙГҮЛ",
        "patronymic": "ҚАЙРАТҚЫЗЫ",
        "birthDate": "1985-07-16",
        "removed": "false",
    }
    assert (person.findtext("engFirstName"), person.findtext("engSurname")) == ("AIGUL", "SERIKOVA")
    assert entry(person.find("gender")) == ("2", "Женский", "Әйел")
    assert entry(person.find("nationality")) == ("005", "КАЗАШКА", "ҚАЗАҚ")
    assert entry(person.find("citizenship")) == ("398", "КАЗАХСТАН", "ҚАЗАҚСТАН")
    assert entry(person.find("lifeStatus"))[:2] == ("0", "Нормальный")
    assert person.find("deathDate") is None
    assert entry(person.find("birthPlace/region"))[0] == "350000000"
    assert entry(person.find("birthPlace/district"))[0] == "351010000"
    assert person.findtext("birthPlace/city") == "Караганда"
    assert entry(person.find("regAddress/country"))[0] == "398"
    assert entry(person.find("regAddress/region"))[0] == "710000000"
    assert [person.findtext(f"regAddress/{n}") for n in ("street", "building", "flat", "beginDate")] == [
        "ул. Сығанақ",
        "10",
        "42",
        "2015-09-01",
    ]
    assert entry(person.find("regAddress/status"))[:2] == ("1", "Зарегистрирован")
    assert entry(person.find("personCapableStatus/capableStatus"))[0] == "2"
    document = person.find("documents/document")
    assert document is not None
    assert entry(document.find("type"))[:2] == ("002", "УДОСТОВЕРЕНИЕ РК")
    assert [document.findtext(n) for n in ("number", "beginDate", "endDate")] == [
        "045678912",
        "2021-03-10",
        "2031-03-09",
    ]
    assert entry(document.find("issueOrganization"))[:2] == ("002", "МВД РК")
    assert entry(document.find("status"))[:2] == ("00", "ДОКУМЕНТ ДЕЙСТВИТЕЛЕН")

    # the business signature: last child of data, by ГБД ФЛ's system certificate from the НУЦ
    assert data[-1].tag == f"{{{xmldsig.DS}}}Signature"
    # as its own document: its own namespace declarations, not the envelope's (a copy, not tostring)
    standalone = etree.tostring(deepcopy(data))
    registry_cert = xmldsig.verify_enveloped(standalone).certificate
    subject = registry_cert.subject.rfc4514_string()
    assert "GBDFL" in subject and "160140002229" in subject
    async with nca.client() as http:
        chain = await ca_files(http, tmp_path)
    await xmlsec1_verifies(tmp_path, standalone, "--trusted-pem", chain["root"], "--untrusted-pem", chain["ca"])
    # the transport signature of what the caller received: the gateway's
    await xmlsec1_verifies_wsse(tmp_path, etree.tostring(root), xmldsig.verify_wsse(root).certificate)


async def test_the_registry_transport_signs_its_answer_with_its_own_certificate(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the gateway's hop replayed: a system certificate with the gateway operator's BIN (the НУЦ's
    # operator may issue one); the gateway re-signs the answer for the caller, so only here is
    # the registry's own transport signature visible
    hop = await system(world["http"], GATEWAY_BIN, "SHEP")
    request = signed(hop, envelope(GBDFL, query(GBDFL, iin=AIGUL["iin"]), "DIRECT-1"))
    r = await world["http"].post("/registries/shep/gbdfl", content=request, headers={"Content-Type": "text/xml"})
    assert r.status_code == 200
    root = xmldsig.parse_xml(r.content)
    response = soap.read_sync_response(root)
    assert (response.status_code, response.correlation_id) == ("SCSS001", "DIRECT-1")
    transport = xmldsig.verify_wsse(root).certificate
    assert transport == xmldsig.verify_enveloped(response.data).certificate
    assert "GBDFL" in transport.subject.rfc4514_string()
    await xmlsec1_verifies_wsse(tmp_path, r.content, transport)


@pytest.mark.parametrize("registry", ["gbdfl", "enis"])
async def test_a_registry_answers_the_gateway_only(world, registry: str) -> None:  # type: ignore[no-untyped-def]
    """Nobody reads a citizen's record around the gateway: unsigned is SCE007, signed by a system
    that is not the gateway (even a registered sender) is SCE006; nothing is answered."""
    service, iin = (GBDFL if registry == "gbdfl" else ENIS), AIGUL["iin"]
    ask = {"iin": iin} if service == GBDFL else {"representativeIin": iin}
    unsigned = soap.to_bytes(envelope(service, query(service, **ask)))
    by_client = signed(world["client"], envelope(service, query(service, **ask)))
    for body, code in ((unsigned, "SCE007"), (by_client, "SCE006")):
        r = await world["http"].post(f"/registries/shep/{registry}", content=body, headers={"Content-Type": "text/xml"})
        assert r.status_code == 500, r.text
        assert fault_of(xmldsig.parse_xml(r.content)).code == code
        assert iin.encode() not in r.content and "АЙГҮЛ".encode() not in r.content


async def test_data_qualified_with_the_interfaces_namespace_is_answered_too(world) -> None:  # type: ignore[no-untyped-def]
    data = etree.Element(f"{{{soap.SYNC_INTERFACES}}}data", nsmap={"ns": soap.SYNC_INTERFACES})
    etree.SubElement(data, f"{{{soap.SYNC_INTERFACES}}}iin").text = AIGUL["iin"]
    _, root = await post(world["http"], signed(world["client"], envelope(GBDFL, data)))
    answer = soap.read_sync_response(root).data
    assert answer.findtext("messageResult/code") == "00000" and answer.findtext("persons/person/iin") == AIGUL["iin"]


async def test_an_absent_but_valid_iin_is_not_found_00001(world) -> None:  # type: ignore[no-untyped-def]
    data = await answer_data(world, GBDFL, iin=ABSENT_IIN)
    assert entry(data.find("messageResult"))[:2] == ("00001", "Сведения не найдены")
    assert data.find("persons") is None
    assert xmldsig.verify_enveloped(data).certificate  # signed like any answer


@pytest.mark.parametrize("iin", ["85071640060", "850716400608", "8507164006O7", "851316400607", ""])
async def test_a_malformed_or_invalid_iin_is_a_bad_request_00002(world, iin: str) -> None:  # type: ignore[no-untyped-def]
    data = await answer_data(world, GBDFL, iin=iin)
    assert entry(data.find("messageResult"))[:2] == ("00002", "Некорректный запрос")
    assert data.find("persons") is None


# -- faults -----------------------------------------------------------------------------------------
async def test_unavailable_is_sce909_for_the_caller_and_remaining_counts_down(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    await set_fault(http, "gbdfl", kind="unavailable", remaining=2)
    for left in (1, None):
        status, root = await ask(world, GBDFL, iin=AIGUL["iin"])
        error = fault_of(root)
        assert status == 500 and error.code == "SCE909" and "ГБД ФЛ" in error.message
        assert error.sub_error is not None and error.sub_error.code == "SCE909"
        assert [f["remaining"] for f in await faults(http) if f["registry"] == "gbdfl"] == ([left] if left else [])
    data = await answer_data(world, GBDFL, iin=AIGUL["iin"])  # spent: back to normal
    assert data.findtext("messageResult/code") == "00000"


async def test_slow_answers_normally_after_the_delay(world) -> None:  # type: ignore[no-untyped-def]
    await set_fault(world["http"], "gbdfl", kind="slow", delaySeconds=0.6, remaining=1)
    started = time.monotonic()
    data = await answer_data(world, GBDFL, iin=AIGUL["iin"])
    assert time.monotonic() - started >= 0.6
    assert data.findtext("messageResult/code") == "00000"


async def test_timeout_outlasts_the_route_timeout_and_the_caller_gets_sce909(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    route = (await http.get(f"/shep/api/routes/{GBDFL}", headers=ADMIN)).json()
    short = route | {"timeoutSeconds": 0.5}
    assert (await http.post("/shep/api/routes", json=short, headers=ADMIN)).status_code == 201
    try:
        await set_fault(http, "gbdfl", kind="timeout")  # default: longer than any route timeout
        started = time.monotonic()
        _, root = await ask(world, GBDFL, iin=AIGUL["iin"])
        error = fault_of(root)
        assert error.code == "SCE909" and "did not answer within 0.5 s" in (error.data or "")
        assert time.monotonic() - started < 5
    finally:
        assert (await http.delete("/registries/api/faults/gbdfl", headers=ADMIN)).status_code == 204
        assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201


async def test_not_found_answers_not_found_for_a_known_iin(world) -> None:  # type: ignore[no-untyped-def]
    await set_fault(world["http"], "gbdfl", kind="not_found", remaining=1)
    assert (await answer_data(world, GBDFL, iin=AIGUL["iin"])).findtext("messageResult/code") == "00001"
    assert (await answer_data(world, GBDFL, iin=AIGUL["iin"])).findtext("messageResult/code") == "00000"


async def test_malformed_is_not_a_send_message_response_and_the_caller_gets_sce909(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    await set_fault(http, "gbdfl", kind="malformed")
    try:
        for _ in range(2):  # until cleared
            _, root = await ask(world, GBDFL, iin=AIGUL["iin"])
            error = fault_of(root)
            assert error.code == "SCE909" and "not SendMessageResponse" in (error.data or "")
        assert await faults(http) == [
            {"registry": "gbdfl", "kind": "malformed", "delaySeconds": 0.0, "remaining": None}
        ]
    finally:
        assert (await http.delete("/registries/api/faults/gbdfl", headers=ADMIN)).status_code == 204
    assert await faults(http) == []
    assert (await answer_data(world, GBDFL, iin=AIGUL["iin"])).findtext("messageResult/code") == "00000"


async def test_a_fault_on_one_registry_leaves_the_other_alone(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    await set_fault(http, "enis", kind="unavailable")
    try:
        assert (await answer_data(world, GBDFL, iin=AIGUL["iin"])).findtext("messageResult/code") == "00000"
        _, root = await ask(world, ENIS, representativeIin=AIGUL["iin"])
        assert fault_of(root).code == "SCE909" and "ЕНИС" in fault_of(root).message
    finally:
        await http.delete("/registries/api/faults/enis", headers=ADMIN)


# -- ЕНИС -------------------------------------------------------------------------------------------
async def test_enis_returns_each_power_with_its_status_and_whether_it_covers_the_service(world) -> None:  # type: ignore[no-untyped-def]
    data = await answer_data(world, ENIS, representativeIin=AIGUL["iin"], serviceId=SERVICE)
    assert entry(data.find("sender"))[0] == "ENIS" and data.findtext("messageResult/code") == "00000"
    found = {
        p.findtext("registryNumber"): (p.findtext("status/code"), p.findtext("coversService"))
        for p in data.iterfind("powersOfAttorney/powerOfAttorney")
    }
    assert found == {
        "NP-ACTIVE-1": ("ACTIVE", "true"),
        "NP-GENERAL-1": ("ACTIVE", "true"),
        "NP-EXPIRED-1": ("EXPIRED", "true"),
        "NP-REVOKED-1": ("REVOKED", "true"),
        "NP-FUTURE-1": ("NOT_YET_VALID", "true"),
    }
    revoked = data.find("powersOfAttorney/powerOfAttorney[registryNumber='NP-REVOKED-1']")
    assert revoked is not None and revoked.findtext("revocation/reason") == "отмена доверителем"
    assert entry(revoked.find("status"))[1] == "Отменена"
    cert = xmldsig.verify_enveloped(data).certificate.subject.rfc4514_string()
    assert "ENIS" in cert and is_valid_bin(cert.split("BIN")[1][:12])


async def test_enis_scope_a_specific_power_does_not_cover_another_service(world) -> None:  # type: ignore[no-untyped-def]
    data = await answer_data(world, ENIS, representativeIin=AIGUL["iin"], serviceId=OTHER_SERVICE)
    covers = {p.findtext("registryNumber"): p.findtext("coversService") for p in data.iter("powerOfAttorney")}
    assert covers["NP-ACTIVE-1"] == "false" and covers["NP-GENERAL-1"] == "true"


async def test_enis_narrowed_by_grantor_and_registry_number(world) -> None:  # type: ignore[no-untyped-def]
    data = await answer_data(
        world, ENIS, representativeIin=AIGUL["iin"], grantorIin="660427400014", registryNumber="NP-ACTIVE-1"
    )
    numbers = [p.findtext("registryNumber") for p in data.iter("powerOfAttorney")]
    assert numbers == ["NP-ACTIVE-1"] and data.find(".//coversService") is None  # no serviceId asked


async def test_enis_no_power_is_not_found_and_a_bad_iin_is_a_bad_request(world) -> None:  # type: ignore[no-untyped-def]
    assert (await answer_data(world, ENIS, representativeIin=ABSENT_IIN)).findtext("messageResult/code") == "00001"
    assert (await answer_data(world, ENIS, representativeIin="123")).findtext("messageResult/code") == "00002"
    assert (await answer_data(world, ENIS)).findtext("messageResult/code") == "00002"
