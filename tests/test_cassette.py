"""Gateway cassettes as QA uses them: an integrator's session of gateway calls recorded from the
message journal, written and read back, replayed green against the same registry data and red,
with a diff naming the field, once the data behind it changed; the journal's masked passwords,
cut messages and the AsyncChannel's resends; the ``egovsim cassette`` commands over HTTP."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from lxml import etree
from typer.testing import CliRunner

from egovsim import xmldsig
from egovsim.app import RunningSimulator
from egovsim.qa import cassette as cassette_module
from egovsim.qa.cassette import (
    SenderCredentials,
    normalised,
    read_cassette,
    record,
    replay,
    write_cassette,
)
from egovsim.qa.cassette_cli import cassette_app
from gateway import soap
from tests.conftest import ADMIN, ADMIN_TOKEN
from tests.nca_helpers import served
from tests.test_gateway_async import accepting, message
from tests.test_gateway_sync import PASSWORD, Party, signed, system
from tests.test_registries_gateway import AIGUL, GBDFL, query, wait_for_routes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYNC = "/shep/bip-sync-wss-gost/"
ASYNC = "/shep/bip-async/"
SENDER = "cassette-client"
ASYNC_SERVICE = "CASSETTE_ASYNC"
PUSH_URL = "https://provider.integrator.test/cassette-async"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def person(iin: str, birth_date: str, surname: str, name: str) -> dict[str, Any]:
    """A ГБД ФЛ record like AIGUL's (a woman) under another IIN and name."""
    return AIGUL | {"iin": iin, "birthDate": birth_date, "surname": surname, "name": name, "extra": {}}


DINA = person("900115400006", "1990-01-15", "ТӨЛЕУОВА", "ДИНА")
SAULE = person("900115400018", "1990-01-15", "ОМАРОВА", "САУЛЕ")
AIGUL_IIN = str(AIGUL["iin"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    async with nca.client(headers=ADMIN) as http:  # the operator's client: it reads the journal
        await wait_for_routes(http)
        client = await system(http, "180440001235", "CASSETTECLIENT")
        body = {"senderId": SENDER, "password": PASSWORD, "certificate": client.pem}
        assert (await http.post("/shep/api/senders", json=body, headers=ADMIN)).status_code == 201
        route = {"serviceId": ASYNC_SERVICE, "target": PUSH_URL, "mode": "async"}
        assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
        for record_ in (AIGUL, DINA, SAULE):
            r = await http.post("/registries/api/persons", json=record_, headers=ADMIN)
            assert r.status_code == 201, r.text
        yield {"http": http, "client": client}


def credentials(world: dict[str, Any]) -> dict[str, SenderCredentials]:
    client: Party = world["client"]
    return {SENDER: SenderCredentials(PASSWORD, client.key, client.cert)}


async def next_journal_id(http: httpx.AsyncClient) -> int:
    entries = (await http.get("/shep/api/journal", params={"limit": 1}, headers=ADMIN)).json()["entries"]
    return entries[0]["id"] + 1 if entries else 1


def lookup(
    iin: str, *, service_id: str = GBDFL, message_id: str | None = None, password: str = PASSWORD, padding: int = 0
) -> etree._Element:
    """A ГБД ФЛ person lookup by IIN as the integrator writes it (egov-interfaces §7), with its
    own messageId; ``padding`` characters make it longer."""
    data = query(service_id, iin=iin)
    data.find("senderCode").text = SENDER  # type: ignore[union-attr]
    if padding:
        etree.SubElement(data, "padding").text = "x" * padding
    return soap.build_sync_request(
        soap.SyncRequest(
            message_id=message_id or f"CASSETTE-{uuid.uuid4()}",
            service_id=service_id,
            message_date=datetime.now().astimezone(),
            sender=soap.Sender(SENDER, password),
            data=data,
        )
    )


async def send(world: dict[str, Any], request: etree._Element) -> httpx.Response:
    """POST a request to the SyncChannel, signed by the integrator's system key."""
    http: httpx.AsyncClient = world["http"]
    return await http.post(SYNC, content=signed(world["client"], request), headers=SOAP_HEADERS)


async def a_session(world: dict[str, Any]) -> int:
    """Three people looked up and a serviceId the gateway does not know; the first journal id."""
    first = await next_journal_id(world["http"])
    for iin in (AIGUL_IIN, DINA["iin"], SAULE["iin"]):
        assert (await send(world, lookup(iin))).status_code == 200
    assert (await send(world, lookup(AIGUL_IIN, service_id="NO_SUCH_SERVICE"))).status_code == 500
    return first


def changed_lines(diff: str) -> tuple[set[str], set[str]]:
    """The lines a unified diff takes out and puts in, without their indentation."""
    lines = [line for line in diff.splitlines() if not line.startswith(("---", "+++"))]
    return {x[1:].strip() for x in lines if x.startswith("-")}, {x[1:].strip() for x in lines if x.startswith("+")}


async def set_surname(http: httpx.AsyncClient, record_: dict[str, Any], surname: str) -> None:
    r = await http.put(f"/registries/api/persons/{record_['iin']}", json=record_ | {"surname": surname}, headers=ADMIN)
    assert r.status_code == 200, r.text


# -- the acceptance: green, then red ----------------------------------------------------------------
async def test_a_recorded_session_replays_green_and_red_once_a_surname_changed(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    first = await a_session(world)
    cassette = await record(http, first_id=first, sender=SENDER)
    assert [(i.operation, i.service_id, i.response.status, i.response.fault_code) for i in cassette.interactions] == [
        ("SendMessage", GBDFL, 200, None),
        ("SendMessage", GBDFL, 200, None),
        ("SendMessage", GBDFL, 200, None),
        ("SendMessage", "NO_SUCH_SERVICE", 500, "SCE004"),
    ]
    assert {i.request.path for i in cassette.interactions} == {SYNC} and cassette.skipped == []
    assert cassette.recording.source == str(http.base_url).rstrip("/")
    path = tmp_path / "session.yaml"
    write_cassette(cassette, path)
    assert path.read_text(encoding="utf-8").startswith("version: 1\n")
    assert read_cassette(path) == cassette

    green = await replay(http, read_cassette(path), credentials=credentials(world))
    assert [r.verdict for r in green.results] == ["same"] * 4, green.render()
    assert green.passed and all(r.journal_id is not None for r in green.results)

    await set_surname(http, DINA, "НҰРЛАНОВА")
    try:
        red = await replay(http, cassette, credentials=credentials(world))
    finally:
        await set_surname(http, DINA, DINA["surname"])
    assert [r.verdict for r in red.results] == ["same", "different", "same", "same"], red.render()
    assert not red.passed
    changed = red.results[1]
    assert changed.differences == ["the answer"]  # still HTTP 200, no fault: the data differs
    # the surname, in the person and in its identity document: nothing else
    assert changed_lines(changed.diff) == ({"<surname>ТӨЛЕУОВА</surname>"}, {"<surname>НҰРЛАНОВА</surname>"})
    assert changed.diff in red.render()


async def test_a_fault_that_changed_is_reported_by_status_and_code(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    first = await next_journal_id(http)
    assert (await send(world, lookup(AIGUL_IIN, service_id="CASSETTE_LATER"))).status_code == 500
    cassette = await record(http, first_id=first)
    route = {"serviceId": "CASSETTE_LATER", "target": "component:registries:/registries/shep/gbdfl"}
    assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
    try:
        report = await replay(http, cassette, credentials=credentials(world))
    finally:
        await http.delete("/shep/api/routes/CASSETTE_LATER", headers=ADMIN)
    (result,) = report.results
    assert result.verdict == "different"
    assert result.differences == ["HTTP status 500 → 200", "fault code SCE004 → (none)", "the answer"]


async def test_recording_pages_through_the_journal_and_keeps_to_the_time_window(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    monkeypatch.setattr(cassette_module, "JOURNAL_PAGE", 2)  # the session spans pages
    since = datetime.now(UTC)
    await a_session(world)
    until = datetime.now(UTC)
    await send(world, lookup(AIGUL_IIN, message_id="CASSETTE-AFTER"))
    recorded = await record(http, since=since, until=until, sender=SENDER)
    assert [i.service_id for i in recorded.interactions] == [GBDFL, GBDFL, GBDFL, "NO_SUCH_SERVICE"]
    assert [i.journal_id for i in recorded.interactions] == sorted(i.journal_id for i in recorded.interactions)
    assert recorded.recording.filter["since"] == since.isoformat()


# -- what changes between runs ----------------------------------------------------------------------
async def test_two_answers_to_the_same_call_normalise_alike_with_data_and_id_relations_kept(world) -> None:  # type: ignore[no-untyped-def]
    request = lookup(AIGUL_IIN, message_id="CASSETTE-TWICE")
    first, second = [(await send(world, request)).text for _ in range(2)]
    assert first != second  # ids, dates, signatures
    one, two = normalised(first), normalised(second)
    assert one.canonical == two.canonical
    shown = etree.fromstring(one.canonical)
    info = shown.find(".//responseInfo")
    assert info is not None
    # the answer's own messageId, then the correlationId naming the request (an id of its own)
    assert [info.findtext(n) for n in ("messageId", "correlationId", "responseDate", "sessionId")] == [
        "{id-1}",
        "{id-2}",
        "{timestamp}",
        "{id-3}",
    ]
    assert shown.findtext(".//person/birthDate") == "1985-07-16"  # a date is data
    signatures = shown.findall(f".//{{{xmldsig.DS}}}Signature")
    assert len(signatures) == 1 and len(signatures[0]) == 0  # the business signature: present, emptied
    security = shown.find(f".//{{{xmldsig.WSSE}}}Security")
    assert security is not None and len(security) == 0
    assert "wsu" not in etree.tostring(shown.find(f"{{{soap.SOAP_ENV}}}Body")).decode()


# -- what the journal does not keep ---------------------------------------------------------------
async def test_masked_passwords_need_the_senders_password_and_key_to_replay(world) -> None:  # type: ignore[no-untyped-def]
    http, client = world["http"], world["client"]
    first = await next_journal_id(http)
    await send(world, lookup(AIGUL_IIN))
    cassette = await record(http, first_id=first)
    assert "<password>***</password>" in cassette.interactions[0].request.body
    assert PASSWORD not in cassette.interactions[0].request.body

    nothing = await replay(http, cassette)
    assert [(r.verdict, r.reason) for r in nothing.results] == [
        ("skipped", f"the journal keeps no passwords: give sender {SENDER!r}'s password")
    ]
    assert not nothing.passed  # nothing was compared
    no_key = await replay(http, cassette, credentials={SENDER: SenderCredentials(PASSWORD)})
    assert "give sender 'cassette-client''s key to sign again" in (no_key.results[0].reason or "")
    stranger = await system(http, "051240007898", "STRANGER")
    other_key = await replay(
        http, cassette, credentials={SENDER: SenderCredentials(PASSWORD, stranger.key, stranger.cert)}
    )
    assert "another certificate" in (other_key.results[0].reason or "")
    assert (
        await replay(http, cassette, credentials={SENDER: SenderCredentials(PASSWORD, client.key, client.cert)})
    ).passed


async def test_a_refused_password_replays_as_recorded(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    first = await next_journal_id(http)
    assert (await send(world, lookup(AIGUL_IIN, password="not-the-password"))).status_code == 500
    report = await replay(http, await record(http, first_id=first))  # no credentials needed
    assert [(r.verdict, r.interaction.response.fault_code) for r in report.results] == [("same", "SCE003")]


async def test_a_message_the_journal_cut_is_not_recorded_and_says_why(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    first = await next_journal_id(http)
    # beyond journal_max_xml_bytes (64 KiB), for a serviceId nobody serves: refused, journaled cut
    await send(world, lookup(AIGUL_IIN, service_id="CASSETTE_BIG", padding=70_000))
    cassette = await record(http, first_id=first)
    assert cassette.interactions == []
    (skipped,) = cassette.skipped
    assert skipped.operation == "SendMessage"
    assert "cut message cannot be replayed" in skipped.reason and "journal_max_xml_bytes" in skipped.reason


# -- the AsyncChannel ------------------------------------------------------------------------------
async def test_an_async_resend_is_acknowledged_again_and_queue_operations_wait_to_be_asked(world) -> None:  # type: ignore[no-untyped-def]
    http, client = world["http"], world["client"]
    first = await next_journal_id(http)
    pushed: list[soap.AsyncMessage] = []
    with respx.mock(assert_all_called=False) as mock:
        mock.post(PUSH_URL).mock(side_effect=accepting(pushed))
        body = message(client, SENDER, message_id="CASSETTE-ASYNC-1", service_id=ASYNC_SERVICE, password=PASSWORD)
        assert (await http.post(ASYNC, content=body, headers=SOAP_HEADERS)).status_code == 200
        for _ in range(200):  # delivered: the gateway's push is in the journal
            entries = (
                await http.get("/shep/api/journal", params={"messageId": "CASSETTE-ASYNC-1"}, headers=ADMIN)
            ).json()
            if any(e["channel"] == "push" and e["outcome"] == "ok" for e in entries["entries"]):
                break
            await asyncio.sleep(0.05)
        status = soap.AsyncGetMessageStatusRequest(
            "CASSETTE-ASYNC-1", datetime.now().astimezone(), soap.Sender(SENDER, PASSWORD)
        )
        pull = soap.AsyncGetMessagesRequest(ASYNC_SERVICE, sender=soap.Sender(SENDER, PASSWORD))
        for request in (soap.build_get_message_status_request(status), soap.build_get_messages_request(pull)):
            assert (await http.post(ASYNC, content=signed(client, request), headers=SOAP_HEADERS)).status_code == 200

        cassette = await record(http, first_id=first, sender=SENDER)
        assert [(i.channel, i.operation) for i in cassette.interactions] == [
            ("async", "sendMessage"),  # the gateway's push to the provider is not an integrator's call
            ("async", "getMessageStatus"),
            ("async", "getMessages"),
        ]
        report = await replay(http, cassette, credentials=credentials(world))
        await asyncio.sleep(0.7)  # a delivery pass would have run by now
    assert [r.verdict for r in report.results] == ["same", "same", "skipped"], report.render()
    assert report.passed and len(pushed) == 1  # acknowledged again, not delivered again
    assert "not delivered again" in (report.results[0].journal_detail or "")
    assert "getMessages changes the gateway's message queue" in (report.results[2].reason or "")


# -- the command line -------------------------------------------------------------------------------
async def test_the_cassette_commands_record_and_replay_over_http(world, nca: RunningSimulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    http, runner = world["http"], CliRunner()
    client: Party = world["client"]
    key_file = tmp_path / "client.p12"
    key_file.write_bytes(base64.b64decode(client.issued["pkcs12"]))
    file = tmp_path / "cli.yaml"
    since = datetime.now(UTC).isoformat()
    await a_session(world)
    async with served(nca) as base:

        def cli(*args: str) -> Any:
            return runner.invoke(cassette_app, [*args, "--url", base], catch_exceptions=False)

        recorded = await asyncio.to_thread(
            cli, "record", "--token", ADMIN_TOKEN, "--since", since, "--sender", SENDER, "-o", str(file)
        )
        assert recorded.exit_code == 0, recorded.output
        assert f"recorded 4 interaction(s) from {base} into {file}" in recorded.output
        assert len(read_cassette(file).interactions) == 4

        replay_args = ("replay", str(file), "--password", f"{SENDER}={PASSWORD}", "--key", f"{SENDER}={key_file}")
        green = await asyncio.to_thread(cli, *replay_args, "--token", ADMIN_TOKEN)
        assert green.exit_code == 0, green.output
        assert "4 same, 0 different, 0 skipped" in green.output
        assert green.output.count("[replayed as journal #") == 4  # with the token: where each replayed call is

        await set_surname(http, SAULE, "ЖАҚСЫБЕКОВА")
        try:
            red = await asyncio.to_thread(cli, *replay_args)
        finally:
            await set_surname(http, SAULE, SAULE["surname"])
        assert red.exit_code == 1, red.output
        assert "3 same, 1 different, 0 skipped" in red.output
        assert changed_lines(red.output) == ({"<surname>ОМАРОВА</surname>"}, {"<surname>ЖАҚСЫБЕКОВА</surname>"})

        no_password = await asyncio.to_thread(cli, "replay", str(file))
        assert no_password.exit_code == 1 and "give sender" in no_password.output
        unreadable = tmp_path / "not-a-cassette.yaml"
        unreadable.write_text("version: 2\n", encoding="utf-8")
        assert (await asyncio.to_thread(cli, "replay", str(unreadable))).exit_code == 2
