"""The trace journal (ordered, append-only, durable) and the HTTP edge (bad input changes nothing)."""

from __future__ import annotations

import httpx

from egovsim.app import RunningSimulator, running
from egovsim.settings import Settings
from tests.conftest import ADMIN


async def test_a_trace_lists_a_requests_steps_in_order(sim: RunningSimulator, http: httpx.AsyncClient) -> None:
    await http.post("/api/catalog/clock/freeze", json={"at": "2026-03-02T10:00:00+05:00"}, headers=ADMIN)
    journal = sim.kernel.trace
    await journal.record("REQ-1", "portal", "1-процесс", service_id="foster_care_patronage_placement")
    await http.post("/api/catalog/clock/advance", json={"by": "5m"}, headers=ADMIN)
    await journal.record(
        "REQ-1",
        "portal",
        "2-шарт",
        "refused",
        code="EDS_NOT_CONFIRMED",
        message_ref="doc:1",
        detail={"reason": "revoked"},
    )
    await journal.record("REQ-2", "portal", "1-процесс")
    body = (await http.get("/api/catalog/traces/REQ-1")).json()
    assert [(e["step"], e["outcome"], e["code"]) for e in body["events"]] == [
        ("portal:1-процесс", "ok", None),
        ("portal:2-шарт", "refused", "EDS_NOT_CONFIRMED"),
    ]
    assert body["events"][1]["sim_time"] == "2026-03-02T10:05:00+05:00"
    assert body["events"][1]["detail"] == {"reason": "revoked"} and body["simulated_duration_seconds"] == 300
    listed = (await http.get("/api/catalog/traces")).json()["requests"]
    assert [r["request_id"] for r in listed] == ["REQ-2", "REQ-1"]


async def test_traces_survive_a_restart(settings: Settings) -> None:
    async with running(settings) as sim:
        await sim.kernel.trace.record("DURABLE-1", "gateway", "5-процесс", message_ref="journal:42")
    async with running(settings) as again, again.client() as c:
        events = (await c.get("/api/catalog/traces/DURABLE-1")).json()["events"]
    assert [(e["step"], e["message_ref"]) for e in events] == [("gateway:5-процесс", "journal:42")]


async def test_the_trace_journal_is_append_only_over_http(http: httpx.AsyncClient, sim: RunningSimulator) -> None:
    await sim.kernel.trace.record("KEEP", "portal", "1-процесс")
    for method in ("DELETE", "PUT", "PATCH"):
        r = await http.request(method, "/api/catalog/traces/KEEP")
        assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    assert len((await http.get("/api/catalog/traces/KEEP")).json()["events"]) == 1


async def test_unknown_trace_is_404_with_a_code(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/catalog/traces/NOPE")
    assert r.status_code == 404 and r.json()["code"] == "TRACE_NOT_FOUND"


async def test_an_oversize_body_is_refused_before_it_is_read_and_changes_nothing(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    before = (await http.get("/api/catalog/clock")).json()
    huge = b'{"by": "' + b"1" * (settings.max_body_bytes + 10) + b'h"}'
    r = await http.post(
        "/api/catalog/clock/advance", content=huge, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE"

    async def chunks():  # no Content-Length: counted while streaming
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"1" * 65536

    r = await http.post("/api/catalog/clock/advance", content=chunks(), headers=ADMIN)
    assert r.status_code == 413
    assert (await http.get("/api/catalog/clock")).json()["version"] == before["version"]


async def test_malformed_json_is_a_clear_422(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/api/catalog/clock/advance", content=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "REQUEST_INVALID" and r.json()["detail"]


async def test_unknown_paths_and_languages(http: httpx.AsyncClient) -> None:
    r = await http.get("/nowhere", params={"lang": "kk"})
    assert r.status_code == 404 and r.json()["message"] == "Мұндай мекенжай жоқ."


async def test_health_of_each_mount_and_the_aggregate(http: httpx.AsyncClient) -> None:
    body = (await http.get("/healthz")).json()
    assert body["status"] == "ok" and set(body["components"]) == {
        "kernel",
        "signing",
        "registries",
        "gateway",
        "portal",
        "cabinet",
    }
    for mount in ("/api/catalog", "/nca", "/registries", "/shep", "/rshep", "/portal", "/hqo", "/cabinet"):
        r = await http.get(f"{mount}/healthz")
        assert r.status_code == 200 and r.json()["checks"]["database"] == "ok", mount


async def test_components_reach_each_other_over_in_process_http(sim: RunningSimulator) -> None:
    async with sim.kernel.client_for("kernel") as kernel_api:
        r = await kernel_api.get("/api/catalog/services/oralman_status")
    assert r.status_code == 200 and r.json()["number"] == 18


async def test_a_component_outside_this_process_needs_its_url(settings: Settings) -> None:
    async with running(settings, ["signing"]) as only_signing:
        try:
            only_signing.kernel.client_for("gateway")
        except RuntimeError as exc:
            assert "EGOVSIM_GATEWAY_URL" in str(exc)
        else:
            raise AssertionError("expected a clear error naming the missing URL setting")
