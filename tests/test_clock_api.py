"""The simulated clock through the API: modes, bad commands that change nothing, admin only."""

from __future__ import annotations

import httpx

from egovsim.app import RunningSimulator, running
from egovsim.settings import Settings
from tests.conftest import ADMIN


async def test_clock_freezes_sets_and_advances_in_working_days(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/catalog/clock/freeze", json={"at": "2026-03-20T10:00:00+05:00"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["mode"] == "frozen"
    assert (await http.get("/api/catalog/clock")).json()["now"] == "2026-03-20T10:00:00+05:00"
    r = await http.post("/api/catalog/clock/advance", json={"by": "1wd"}, headers=ADMIN)
    assert r.json()["now"] == "2026-03-26T10:00:00+05:00"  # over Nauryz
    r = await http.post("/api/catalog/clock/advance", json={"by": "1h30m"}, headers=ADMIN)
    assert r.json()["now"] == "2026-03-26T11:30:00+05:00"
    r = await http.post("/api/catalog/clock/set", json={"at": "2026-01-05T09:00"}, headers=ADMIN)
    assert r.json()["now"] == "2026-01-05T09:00:00+05:00" and r.json()["mode"] == "frozen"


async def test_offset_speed_and_resume(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/catalog/clock/offset", json={"by": "-2h"}, headers=ADMIN)
    assert r.json()["mode"] == "offset" and abs(r.json()["offset_seconds"] + 7200) < 1
    r = await http.post("/api/catalog/clock/speed", json={"factor": 3600}, headers=ADMIN)
    assert r.json()["mode"] == "speed" and r.json()["rate"] == 3600
    r = await http.post("/api/catalog/clock/resume", headers=ADMIN)
    assert r.json()["mode"] == "real" and abs(r.json()["offset_seconds"]) < 1


async def test_wrong_clock_commands_get_a_clear_error_and_change_nothing(http: httpx.AsyncClient) -> None:
    await http.post("/api/catalog/clock/freeze", json={"at": "2026-03-20T10:00:00+05:00"}, headers=ADMIN)
    before = (await http.get("/api/catalog/clock")).json()
    for path, body in [
        ("/advance", {"by": "banana"}),
        ("/advance", {"by": "0m"}),
        ("/set", {"at": "yesterday"}),
        ("/set", {}),
        ("/freeze", {"at": "2026-13-45"}),
        ("/offset", {"by": "2wd"}),
        ("/speed", {"factor": -1}),
    ]:
        r = await http.post(f"/api/catalog/clock{path}", json=body, headers=ADMIN)
        assert r.status_code == 400, (path, body, r.text)
        problem = r.json()
        assert problem["code"] == "CLOCK_BAD_COMMAND" and problem["detail"], problem
        assert set(problem["messages"]) == {"kk", "ru", "en"}
    r = await http.post("/api/catalog/clock/speed", json={"factor": "fast"}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["code"] == "REQUEST_INVALID"
    assert (await http.get("/api/catalog/clock")).json() == before


async def test_changing_the_clock_needs_the_admin_token(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/catalog/clock/advance", json={"by": "1h"})
    assert r.status_code == 401 and r.json()["code"] == "ADMIN_AUTH_REQUIRED"
    r = await http.post("/api/catalog/clock/advance", json={"by": "1h"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert (await http.get("/api/catalog/clock")).json()["version"] == 0


async def test_clock_state_survives_a_restart(settings: Settings) -> None:
    async with running(settings) as sim, sim.client() as c:
        await c.post("/api/catalog/clock/freeze", json={"at": "2026-07-06T12:00:00+05:00"}, headers=ADMIN)
    async with running(settings) as again, again.client() as c:
        state = (await c.get("/api/catalog/clock")).json()
    assert state["now"] == "2026-07-06T12:00:00+05:00" and state["mode"] == "frozen"


async def test_every_component_reads_the_same_clock(sim: RunningSimulator, http: httpx.AsyncClient) -> None:
    await http.post("/api/catalog/clock/freeze", json={"at": "2026-03-20T10:00:00+05:00"}, headers=ADMIN)
    assert (await http.get("/healthz")).json()["simulated_time"] == "2026-03-20T10:00:00+05:00"
    event = await sim.kernel.trace.record("r-clock", "portal", "1-процесс")
    assert event.sim_time.isoformat() == "2026-03-20T10:00:00+05:00"
