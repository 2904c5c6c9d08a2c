"""The live view: a request's diagram coloured by its trace (issue 9). A portal request refused at
condition 2 shows 2-шарт failed with its code; an approved one shows its steps done, the provider's
route too; the page refreshes while the request moves and stops once it has ended."""

from __future__ import annotations

import httpx
from lxml import etree

from tests.conftest import ADMIN
from tests.portal_chain import document, draft, instant_autopilot, new_citizen, submit, wait_closed

FOSTER = "foster_care_patronage_placement"
SVG = "{http://www.w3.org/2000/svg}"


def steps_of(svg: bytes) -> dict[str, tuple[str | None, str | None]]:
    root = etree.fromstring(svg)
    return {g.get("data-step"): (g.get("data-state"), g.get("data-code")) for g in root.iter(f"{SVG}g")
            if g.get("data-step")}  # fmt: skip


async def test_a_request_refused_at_condition_2_shows_2_shart_failed_with_its_code(http: httpx.AsyncClient) -> None:
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    xml = await document(http, citizen, number)
    r = await http.post(f"/nca/api/certificates/{citizen.sign.serial}/revoke", headers=ADMIN)
    assert r.status_code == 200, r.text
    r = await submit(http, citizen, number, citizen.sign.sign(xml))
    assert r.json()["code"] == "EDS_CERT_REVOKED"

    r = await http.get(f"/api/catalog/traces/{number}/diagram?lang=kk")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    states = steps_of(r.content)
    assert states["portal:2-шарт"] == ("failed", "EDS_CERT_REVOKED")
    assert states["portal:4-процесс"] == ("failed", "EDS_CERT_REVOKED")
    assert states["portal:3-процесс"][0] == "done"
    assert states["portal:5-процесс"] == (None, None)  # never reached

    page = await http.get(f"/inspector/diagrams/live/{number}?lang=ru")
    assert page.status_code == 200
    assert 'data-step="portal:2-шарт"' in page.text and "EDS_CERT_REVOKED" in page.text
    assert 'http-equiv="refresh"' not in page.text  # the request has ended: nothing more to show
    assert "Запрос завершён." in page.text


async def test_an_approved_request_lights_its_chain_and_its_route(http: httpx.AsyncClient) -> None:
    await instant_autopilot(http, FOSTER)
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    r = await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    assert r.status_code == 202, r.text
    assert (await wait_closed(http, citizen, number))["status"] == "approved"
    chain = steps_of((await http.get(f"/api/catalog/traces/{number}/diagram")).content)
    for label in ("portal:2-шарт", "portal:5-процесс", "portal:3-шарт", "portal:7-процесс"):
        assert chain[label][0] == "done", (label, chain)
    assert chain["portal:4-процесс"] == (None, None) and chain["portal:6-процесс"] == (None, None)
    route = steps_of((await http.get(f"/api/catalog/traces/{number}/diagram?kind=business")).content)
    provider = {k: v for k, v in route.items() if k.startswith("provider:")}
    assert provider and all(state == "done" for state, _ in provider.values()), route
    r = await http.get(f"/api/catalog/traces/{number}/diagram?format=mermaid")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")


async def test_a_request_still_moving_refreshes_and_unknown_ones_are_refused(http: httpx.AsyncClient) -> None:
    await http.put(f"/rshep/api/policies/{FOSTER}", json={"mode": "manual"}, headers=ADMIN)
    citizen = await new_citizen(http)
    number = await draft(http, citizen, FOSTER)
    r = await submit(http, citizen, number, citizen.sign.sign(await document(http, citizen, number)))
    assert r.status_code == 202, r.text
    page = await http.get(f"/inspector/diagrams/live/{number}")
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.text
    for url in ("/inspector/diagrams/live/NO-SUCH-REQUEST", "/api/catalog/traces/NO-SUCH-REQUEST/diagram"):
        r = await http.get(url)
        assert r.status_code == 404 and r.json()["code"] == "TRACE_NOT_FOUND"
    r = await http.get(f"/api/catalog/traces/{number}/diagram?format=gif")
    assert r.status_code == 400 and r.json()["code"] == "DIAGRAM_FORMAT_UNKNOWN"
