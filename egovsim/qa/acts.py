"""What a scenario does, act by act, through egovsim's public HTTP interfaces only: the registries'
and the НУЦ's admin APIs to set the world up, then the portal, the cabinet, the ХҚО workstation,
the provider's office and the clock, as a citizen, an operator or an integrator would.

Each act returns an :class:`Outcome`: the facts an expectation can check, in one shape whatever
the act (HTTP status, code, step, status, messages, trace, result), plus what the report shows.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from egovsim import xmldsig
from egovsim.catalog.forms import APPLICATION_NS, ApplicationForm, intake_form, read_result
from egovsim.catalog.loader import ServiceCatalog
from egovsim.iin import Sex, make_iin
from egovsim.personas import load_personas, person_record
from egovsim.qa import scenario as s

FAULT_HEADER = "X-Egovsim-Fault"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"  # a minimal attachment
CLOSED = ("approved", "refused", "failed")  # the cabinet's final statuses
ANSWERED = ("result_ready", "refused_by_provider", "refused", "failed", "handed")  # the ХҚО's
SAMPLE = {
    "person_name": "ТЕСТОВ АЛИ", "iin": "150301500029", "bin": "180440001235", "date": "2026-09-01",
    "phone": "+77011234567", "consent": "yes", "number": "3", "address": "Семей қ., Абай к-сі, 10",
    "text": "тест", "textarea": "тест", "signature": "ТЕСТОВ",
}  # fmt: skip
_SURNAMES = {Sex.MALE: ("СЕРІКОВ", "ОМАРОВ", "ЖАҚСЫБЕКОВ"), Sex.FEMALE: ("СЕРІКОВА", "ОМАРОВА", "ЖАҚСЫБЕКОВА")}
_NAMES = {Sex.MALE: ("ДАНИЯР", "АРМАН", "ЕРЛАН"), Sex.FEMALE: ("АЙГЕРІМ", "ДИНАРА", "ЖАНАР")}


class ScenarioError(Exception):
    """The scenario cannot go on (a setup call failed, a wait ran out): the scenario fails with it."""


@dataclass
class Outcome:
    """The facts of one act."""

    http: int | None = None
    ok: bool | None = None
    code: str | None = None
    step: str | None = None
    status: str | None = None
    messages: dict[str, str] | None = None
    trace: list[str] | None = None
    result: dict[str, Any] | None = None
    notifications: list[str] | None = None
    deadline: str | None = None
    ref: str | None = None  # the request or application number the act made or acted on

    def facts(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "ref"}


@dataclass
class Key:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    serial: str


@dataclass
class Person:
    alias: str
    iin: str
    surname: str
    name: str
    spec: s.Persona
    keys: dict[str, Key] = field(default_factory=dict)
    token: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.name}"


class World:
    """One scenario's world on one simulator: its personas, numbers, and the HTTP client."""

    def __init__(
        self, http: httpx.AsyncClient, admin_token: str, scenario: s.Scenario, seed: str, *, shared: bool = False
    ) -> None:
        self.http = http
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.scenario = scenario
        self.rng = random.Random(f"{seed}:{scenario.id}")
        self.people: dict[str, Person] = {}
        self.powers: list[str] = []  # ЕНИС registry numbers, in given order
        self.operator: dict[str, str] = {}
        self.request: str | None = None  # the last portal request's number
        self.application: str | None = None  # the last ХҚО application's number
        self.case: str | None = None  # the last office case
        self.services = ServiceCatalog.load()
        self.taken: set[str] = set()
        self.start = scenario.given.clock  # the frozen clock's start (later on a shared egovsim)
        self.now_iso = self.start.isoformat()
        self.shared = shared  # a running egovsim others use: its clock never goes back

    # -- setup ----------------------------------------------------------------------------------
    async def setup(self) -> None:
        given = self.scenario.given
        start = given.clock
        if self.shared:  # its НУЦ, keys and records were made at its own time: start no earlier
            now = datetime.fromisoformat((await self._call("GET", "/api/catalog/clock"))["now"])
            start = max(start, now)
        clock = await self._call("POST", "/api/catalog/clock/freeze", json={"at": start.isoformat()}, admin=True)
        self.start, self.now_iso = start, clock["now"]
        for alias, spec in given.personas.items():
            self.people[alias] = await self._person(alias, spec)
        for number, power in enumerate(given.powers_of_attorney, start=1):
            self.powers.append(await self._power(number, power))
        for service_id, policy in given.providers.items():
            body: dict[str, Any] = {"mode": policy.mode, "decision": policy.decision, "scale": policy.scale}
            body |= {"refusalGround": policy.ground} if policy.ground else {}
            body |= {"refuseAtStep": policy.refuse_at_step} if policy.refuse_at_step else {}
            body |= {"refusalCode": policy.refusal_code} if policy.refusal_code else {}
            await self._call("PUT", f"/rshep/api/policies/{service_id}", json=body, admin=True)
        for alias, person in self.people.items():
            if person.spec.account:
                r = await self.http.post(
                    "/portal/api/accounts", json={"iin": person.iin, "password": person.spec.password}
                )
                if r.status_code != 201:
                    raise ScenarioError(f"registering {alias}: {r.status_code} {r.text[:300]}")

    def _draw_iin(self, spec: s.Persona) -> tuple[str, Sex, date]:
        while True:
            sex = Sex.MALE if (spec.sex or self.rng.choice(["male", "female"])) == "male" else Sex.FEMALE
            born = spec.born or date(self.rng.randint(1960, 2000), self.rng.randint(1, 12), self.rng.randint(1, 28))
            iin = make_iin(born, sex, self.rng.randint(5000, 9999))
            if iin is not None and iin not in self.taken:
                self.taken.add(iin)
                return iin, sex, born

    async def _person(self, alias: str, spec: s.Persona) -> Person:
        iin, sex, _ = self._draw_iin(spec)
        surname = spec.surname or self.rng.choice(_SURNAMES[sex])
        name = spec.name or self.rng.choice(_NAMES[sex])
        person = Person(alias, iin, surname, name, spec)
        if spec.gbdfl != "absent":
            registry: dict[str, Any] = {}
            if spec.region:
                registry["region"] = spec.region
            if spec.gbdfl == "deceased":
                registry["deathDate"] = (self.start.date() - timedelta(days=30)).isoformat()
            record = person_record({"iin": iin, "surname": surname, "name": name, "patronymic": None,
                                    "registry": registry})  # fmt: skip
            await self._call("POST", "/registries/api/persons", json=record, admin=True)
        for kind in spec.keys:
            person.keys[kind] = await self.issue(person, kind)
        return person

    async def issue(self, person: Person, kind: str, **extra: Any) -> Key:
        body = {"iin": person.iin, "kind": kind, "surname": person.surname, "name": person.name} | extra
        issued = await self._call("POST", "/nca/api/certificates", json=body, admin=True)
        key = serialization.load_pem_private_key(issued["privateKey"].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return Key(key, x509.load_pem_x509_certificate(issued["certificate"].encode()), issued["serial"])

    async def _power(self, number: int, power: s.PowerOfAttorney) -> str:
        grantor, representative = self.people[power.grantor], self.people[power.representative]
        start = self.start.date()
        registry_number = f"N{start.year}-{self.rng.randint(100000, 999999)}"
        record = {
            "registryNumber": registry_number,
            "registrationDate": min(self._day(power.valid_from), start - timedelta(days=1)).isoformat(),
            "notary": {"iin": "700812300090", "fullName": "ЕРМЕКОВ БЕРІК САПАРҰЛЫ", "licenseNumber": "0001234",
                       "notarialDistrict": "Абай облысы, г. Семей"},
            "grantor": {"iin": grantor.iin, "name": grantor.full_name},
            "representative": {"iin": representative.iin, "name": representative.full_name},
            "powers": "представлять интересы доверителя при получении государственных услуг",
            "services": power.services,
            "validFrom": self._day(power.valid_from).isoformat(),
            "validTo": self._day(power.valid_to).isoformat(),
            "substitutionAllowed": False,
            "revocation": {"date": (start - timedelta(days=1)).isoformat(), "reason": "отменена доверителем",
                           "registryNumber": f"{registry_number}-R"} if power.revoked else None,
        }  # fmt: skip
        await self._call("POST", "/registries/api/powers-of-attorney", json=record, admin=True)
        return registry_number

    def _day(self, when: str | date) -> date:
        if isinstance(when, date):
            return when
        return (self.start + parse_duration(when)).date()

    # -- HTTP -----------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> Any:
        """A setup call that must succeed: its JSON."""
        headers = kwargs.pop("headers", {}) | (self.admin if admin else {})
        r = await self.http.request(method, path, headers=headers, **kwargs)
        if not r.is_success:
            raise ScenarioError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    async def send(self, act: s._Act, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An act's call, with the act's per-call faults."""
        headers = dict(kwargs.pop("headers", {}))
        if act.fault:
            headers[FAULT_HEADER] = ", ".join(act.fault)
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def trace(self, trace_id: str | None) -> list[str] | None:
        if not trace_id:
            return None
        r = await self.http.get(f"/api/catalog/traces/{trace_id}")
        if r.status_code != 200:
            return None
        return [" ".join(x for x in (e["step"], e["outcome"], e["code"]) if x) for e in r.json()["events"]]

    async def settled_trace(self, trace_id: str | None) -> list[str] | None:
        """The trace once no event has come for a moment: a case's status is stored before the
        events that close it are written, in a transaction of their own."""
        last = await self.trace(trace_id)
        for _ in range(50):
            await asyncio.sleep(0.02)
            now = await self.trace(trace_id)
            if now == last:
                return now
            last = now
        return last

    def bearer(self, alias: str) -> dict[str, str]:
        person = self.people[alias]
        if person.token is None:
            raise ScenarioError(f"{alias} has no session: log in first (portal.login)")
        return {"Authorization": f"Bearer {person.token}"}

    async def ensure_session(self, alias: str) -> dict[str, str]:
        person = self.people[alias]
        if person.token is None:
            r = await self.http.post("/portal/api/login", json={"iin": person.iin, "password": person.spec.password})
            if r.status_code != 200:
                raise ScenarioError(f"logging {alias} in: {r.status_code} {r.text[:300]}")
            person.token = r.json()["token"]
            self.http.cookies.clear()
        return self.bearer(alias)


def parse_duration(text: str) -> timedelta:
    """``-30d``, ``2h``, ``1w``, ``1mo`` (30 days), ``1y`` (365 days) as a timedelta."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    for unit, scale in (("mo", timedelta(days=30)), ("wd", timedelta(days=1)), ("m", timedelta(minutes=1)),
                        ("h", timedelta(hours=1)), ("d", timedelta(days=1)), ("w", timedelta(weeks=1)),
                        ("y", timedelta(days=365))):  # fmt: skip
        if body.endswith(unit):
            return sign * int(body[: -len(unit)]) * scale
    raise ValueError(f"not a duration: {text}")


def problem(r: httpx.Response) -> Outcome:
    """The facts of an answer: its status, and a JSON problem's code, step and messages."""
    out = Outcome(http=r.status_code, ok=r.is_success)
    try:
        body = r.json()
    except ValueError:
        return out
    if isinstance(body, dict):
        out.code = body.get("code")
        out.step = body.get("step")
        out.messages = body.get("messages")
        out.status = body.get("status") if isinstance(body.get("status"), str) else None
    return out


def sample_fields(form: ApplicationForm | None, given: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for f in form.fields if form else []:
        if getattr(f, "required", True) is False:
            continue
        choices = getattr(f, "choices", None)
        values[f.id] = choices[0].value if choices else SAMPLE.get(f.type, "тест")
    return values | given


def required_documents(form: ApplicationForm | None) -> list[str]:
    return [d.id for d in form.documents if d.required] if form else []


# -- signing the request document (2-шарт's failures) ----------------------------------------------
def self_signed(iin: str, now: datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}")])  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


async def signed_document(world: World, act: s.Submit, xml: bytes) -> bytes:
    """The request document signed as ``act.signing`` says (``sign``: as NCALayer would)."""
    person = world.people[act.signer or act.persona]
    how = act.signing
    if how == "unsigned":
        return xml
    if how == "entity_bomb":  # hostile XML: a DOCTYPE with nested entities
        return b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>'
    if how == "changed_document":
        xml = xml.replace(b"</", b"<!-- changed --></", 1)
    if how in ("expired", "not_yet_valid"):
        clock = world.start
        span = (clock - timedelta(days=800), clock - timedelta(days=400))
        if how == "not_yet_valid":
            span = (clock + timedelta(days=400), clock + timedelta(days=800))
        key = await world.issue(person, "sign", not_before=span[0].isoformat(), not_after=span[1].isoformat())
        return xmldsig.sign_enveloped(xml, key.key, key.cert)
    if how == "self_signed":
        return xmldsig.sign_enveloped(xml, *self_signed(person.iin, world.start))
    kind = "auth" if how == "auth" else "sign"
    if kind not in person.keys:
        person.keys[kind] = await world.issue(person, kind)
    signed = xmldsig.sign_enveloped(xml, person.keys[kind].key, person.keys[kind].cert)
    if how == "tampered":
        root = etree.fromstring(signed)
        value = root.find(f"{{{APPLICATION_NS}}}fields/{{{APPLICATION_NS}}}field")
        if value is None:
            raise ScenarioError("the request document has no field to tamper with")
        value.text = "ӨЗГЕРТІЛГЕН"
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if how == "wrapped":
        wrapper = etree.Element(f"{{{APPLICATION_NS}}}application")
        wrapper.append(etree.fromstring(signed))
        return etree.tostring(wrapper, xml_declaration=True, encoding="UTF-8")
    if how == "gost":
        return signed.replace(b"xmldsig-more#rsa-sha256", b"xmldsig-more#gost34310-gost34311")
    return signed


# -- the acts ---------------------------------------------------------------------------------------
async def register(world: World, act: s.Register) -> Outcome:
    person = world.people[act.persona]
    body = {"iin": person.iin, "password": act.password or person.spec.password}
    r = await world.send(act, "POST", "/portal/api/accounts", json=body)
    out = problem(r)
    out.trace = await world.trace(r.json().get("traceId") if not r.is_success else None)
    return out


async def login(world: World, act: s.Login) -> Outcome:
    person = world.people[act.persona]
    body = {"iin": person.iin, "password": act.password or person.spec.password}
    r: httpx.Response | None = None
    for _ in range(act.times):
        r = await world.send(act, "POST", "/portal/api/login", json=body)
    assert r is not None
    return await _logged_in(world, person, r)


async def _logged_in(world: World, person: Person, r: httpx.Response) -> Outcome:
    """A login's outcome: the session kept for the acts that follow, or the refusal's trace."""
    out = problem(r)
    if r.is_success:
        person.token = r.json()["token"]
        world.http.cookies.clear()  # the acts go with the bearer token only
    else:
        out.trace = await world.trace(r.json().get("traceId"))
    return out


async def login_eds(world: World, act: s.LoginEds) -> Outcome:
    person = world.people[act.persona]
    if act.key not in person.keys:
        person.keys[act.key] = await world.issue(person, act.key)
    r = await world.send(act, "POST", "/portal/api/login/eds/challenge")
    if not r.is_success:
        return problem(r)
    challenge = r.json()
    xml = challenge["xml"].encode()
    if act.altered:
        xml = xml.replace(b"</audience>", b"/other</audience>")
    key = person.keys[act.key]
    signed = xmldsig.sign_enveloped(xml, key.key, key.cert)
    body = {"challengeId": challenge["challengeId"], "signedXml": signed.decode()}
    r = await world.send(act, "POST", "/portal/api/login/eds", json=body)
    return await _logged_in(world, person, r)


async def submit(world: World, act: s.Submit) -> Outcome:
    headers = await world.ensure_session(act.persona)
    form = intake_form(world.services, act.service)
    fields = sample_fields(form, act.fields)
    r = await world.send(act, "POST", "/portal/api/requests", json={"serviceId": act.service, "fields": fields,
                                                                  "lang": "ru"}, headers=headers)  # fmt: skip
    if r.status_code != 201:
        return problem(r)
    number = world.request = r.json()["number"]
    for document_id in required_documents(form) if act.documents is None else act.documents:
        r = await world.send(act, "POST", f"/portal/api/requests/{number}/attachments", headers=headers,
                             files={"file": (f"{document_id}.pdf", PDF, "application/pdf")},
                             data={"documentId": document_id})  # fmt: skip
        if r.status_code != 201:
            return problem(r)
    r = await world.send(act, "GET", f"/portal/api/requests/{number}/document", headers=headers)
    if r.status_code != 200:
        return problem(r)
    signed = await signed_document(world, act, r.content)
    r = await world.send(act, "POST", f"/portal/api/requests/{number}/submit", content=signed,
                         headers=headers | {"Content-Type": "application/xml"})  # fmt: skip
    out = problem(r)
    out.ref = number
    if r.is_success and act.wait:
        out = await cabinet_view(world, act.persona, number, wait=True, http=r.status_code)
    out.trace = await world.trace(number)
    return out


async def cabinet_view(world: World, alias: str, number: str, *, wait: bool, http: int | None = None) -> Outcome:
    headers = world.bearer(alias)
    for _ in range(400):
        r = await world.http.get(f"/cabinet/api/requests/{number}?lang=ru", headers=headers)
        if r.status_code == 401:  # the session ran out on the simulated clock: log in again
            world.people[alias].token = None
            headers = await world.ensure_session(alias)
            continue
        if r.status_code != 200:
            return problem(r)
        body = r.json()
        if not wait or body["status"] in CLOSED:
            break
        await asyncio.sleep(0.02)
    else:
        raise ScenarioError(f"request {number} did not close: {body['status']}")
    out = Outcome(http=http or r.status_code, ok=True, status=body["status"], ref=number)
    if body.get("refusal"):
        out.code, out.step = body["refusal"]["code"], body["refusal"]["step"]
        out.messages = body["refusal"]["messages"]
    if body.get("resultReady"):
        x = await world.http.get(f"/cabinet/api/requests/{number}/result", headers=headers)
        if x.status_code == 200:
            out.result = read_result(x.text)
    n = await world.http.get("/cabinet/api/notifications", headers=headers)
    out.notifications = sorted(m["code"] for m in n.json()["notifications"] if m["number"] == number)
    out.trace = await world.trace(number)
    out.deadline = await _deadline(world, number)
    return out


async def _deadline(world: World, number: str) -> str | None:
    """Whether the provider's case of a request met its regulation deadline (or is past it)."""
    found = await world._call("GET", "/rshep/api/cases", admin=True)
    case = next((c for c in found["cases"] if c.get("requestNumber") == number), None)
    return None if case is None else deadline_of(case)


def deadline_of(case: dict[str, Any]) -> str:
    """``met`` or ``missed``: the workstation's overdue flag of a case (as listed or read alone)."""
    return "missed" if case["overdue"] else "met"


async def cabinet(world: World, act: s.Cabinet) -> Outcome:
    if world.request is None:
        raise ScenarioError("no portal request yet")
    await world.ensure_session(act.persona)
    return await cabinet_view(world, act.persona, world.request, wait=act.wait)


async def cert(world: World, act: s.Cert) -> Outcome:
    verb = act.act.split(".")[1]
    if act.operator:
        iin = next((o["iin"] for o in load_personas()["operators"] if o["login"] == act.operator), None)
        found = await world._call("GET", "/nca/api/certificates", params={"iin": iin or "-"}, admin=True)
        serials = [c["serial"] for c in found["certificates"]]
        if not serials:
            raise ScenarioError(f"the НУЦ has no certificate of operator {act.operator}")
        serial = serials[0]
    else:
        person = world.people[act.persona or ""]
        if act.kind not in person.keys:
            raise ScenarioError(f"{act.persona} has no {act.kind} key")
        serial = person.keys[act.kind].serial
    body = {"reason": "keyCompromise"} if verb == "revoke" else None
    r = await world.send(act, "POST", f"/nca/api/certificates/{serial}/{verb}", json=body, headers=world.admin)
    return problem(r)


async def clock_advance(world: World, act: s.ClockAdvance) -> Outcome:
    r = await world.send(act, "POST", "/api/catalog/clock/advance", json={"by": act.by}, headers=world.admin)
    out = problem(r)
    if r.is_success:
        world.now_iso = r.json()["now"]
        await _due_steps_done(world)
    return out


async def _due_steps_done(world: World) -> None:
    """Until the providers' autopilot has done every step the moved clock made due."""
    now = datetime.fromisoformat(world.now_iso)
    for _ in range(250):
        found = await world._call("GET", "/rshep/api/cases", params={"status": "in_progress"}, admin=True)
        due = [
            c for c in found["cases"] if c["mode"] == "autopilot" and any(
                s["dueAt"] and s["doneAt"] is None and datetime.fromisoformat(s["dueAt"]) <= now for s in c["steps"])
        ]  # fmt: skip
        if not due:
            return
        await asyncio.sleep(0.02)
    raise ScenarioError("the providers' autopilot did not catch up with the clock")


async def hqo_login(world: World, act: s.HqoLogin) -> Outcome:
    body = {"login": act.operator, "password": act.password or "Qwerty12"}
    r: httpx.Response | None = None
    for _ in range(act.times):
        r = await world.send(act, "POST", "/hqo/api/login", json=body)
    assert r is not None
    out = problem(r)
    if r.is_success:
        world.operator = {"Authorization": f"Bearer {r.json()['token']}"}
        world.http.cookies.clear()
    else:
        out.trace = await world.trace(r.json().get("traceId"))
    return out


async def _operator(world: World) -> dict[str, str]:
    if not world.operator:
        r = await world.http.post("/hqo/api/login", json={"login": "op.semey", "password": "Qwerty12"})
        if r.status_code != 200:
            raise ScenarioError(f"operator login: {r.status_code} {r.text[:300]}")
        world.operator = {"Authorization": f"Bearer {r.json()['token']}"}
        world.http.cookies.clear()
    return world.operator


async def as_operator(world: World, act: s._Act | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A call of the operator's session; a session the simulated clock ended is opened again."""
    for _ in range(2):
        headers = await _operator(world)
        if act is None:
            r = await world.http.request(method, path, headers=headers, **kwargs)
        else:
            r = await world.send(act, method, path, headers=headers, **kwargs)
        if r.status_code != 401:
            return r
        world.operator = {}
    return r


async def hqo_apply(world: World, act: s.HqoApply) -> Outcome:
    r = await as_operator(world, act, "POST", "/hqo/api/tickets")
    if r.status_code != 201:
        return problem(r)
    form = intake_form(world.services, act.service)
    body: dict[str, Any] = {
        "ticket": r.json()["number"], "serviceId": act.service, "applicantIin": world.people[act.applicant].iin,
        "representativeIin": world.people[act.representative].iin if act.representative else None,
        "fields": sample_fields(form, act.fields),
        "documents": required_documents(form) if act.documents is None else act.documents,
    }  # fmt: skip
    if act.power_of_attorney is not None:
        body["powerOfAttorneyNumber"] = world.powers[act.power_of_attorney]
    r = await as_operator(world, act, "POST", "/hqo/api/applications", json=body)
    out = problem(r)
    number = r.json().get("number") if isinstance(r.json(), dict) else None
    if number:
        world.application = out.ref = number
        out.trace = await world.trace(number)
        view = await as_operator(world, None, "GET", f"/hqo/api/applications/{number}")
        if view.status_code == 200:
            out.status = view.json()["status"]
            refusal = view.json().get("refusal")
            if refusal and not out.code:
                out.code, out.step, out.messages = refusal["code"], refusal["step"], refusal["messages"]
    return out


async def hqo_action(world: World, act: s.HqoAction) -> Outcome:
    if world.application is None:
        raise ScenarioError("no ХҚО application yet")
    number = world.application
    verb = act.act.split(".")[1]
    if verb == "show":
        out = Outcome(http=200, ok=True)
    else:
        body = {} if verb == "handover" else None
        r = await as_operator(world, act, "POST", f"/hqo/api/applications/{number}/{verb}", json=body)
        out = problem(r)
        if not r.is_success:
            out.trace = await world.trace(number)
            return out
    for _ in range(400):
        view = (await as_operator(world, None, "GET", f"/hqo/api/applications/{number}")).json()
        if not (verb == "send" and act.wait) or view["status"] in ANSWERED:
            break
        await asyncio.sleep(0.02)
    else:
        raise ScenarioError(f"application {number} got no answer: {view['status']}")
    out.status, out.ref = view["status"], number
    refusal = view.get("refusal")
    if refusal:
        out.code, out.step, out.messages = refusal["code"], refusal["step"], refusal["messages"]
    if view.get("status") in ("result_ready", "refused_by_provider", "handed"):
        x = await as_operator(world, None, "GET", f"/hqo/applications/{number}/result.xml")
        if x.status_code == 200:
            out.result = read_result(x.text)
    out.trace = await world.trace(number)
    return out


async def office_apply(world: World, act: s.OfficeApply) -> Outcome:
    form = intake_form(world.services, act.service)
    person = world.people[act.applicant]
    body: dict[str, Any] = {
        "serviceId": act.service, "applicantIin": person.iin, "fields": sample_fields(form, act.fields),
        "documents": required_documents(form) if act.documents is None else act.documents,
    }  # fmt: skip
    r = await world.send(act, "POST", "/rshep/api/office/applications", json=body, headers=world.admin)
    out = problem(r)
    answer = r.json() if r.headers.get("content-type", "").endswith("json") else {}
    receipt = answer.get("receipt") or {}
    if r.is_success:
        out.code, out.messages = receipt.get("code"), receipt.get("messages")
    case_id = answer.get("caseId")
    if case_id:
        world.case = out.ref = case_id
        if act.wait:
            case = await _case(world, case_id)
            out.status = case["status"]
            out.deadline = deadline_of(case)
            if case["status"] != "in_progress":  # the answer is signed and announced after the case closes
                await _announced(world, case_id)
    out.trace = await world.settled_trace(case_id or receipt.get("number"))
    return out


async def _announced(world: World, case_id: str) -> None:
    """Until the office announces the signed answer (``office:result`` or ``office:refused``)."""
    for _ in range(250):
        if any(e.startswith(("office:result", "office:refused")) for e in await world.trace(case_id) or []):
            return
        await asyncio.sleep(0.02)
    raise ScenarioError(f"case {case_id} closed but its answer was never announced")


async def _case(world: World, case_id: str) -> dict[str, Any]:
    """The provider's case once its autopilot has no step left to do now."""
    for _ in range(400):
        case: dict[str, Any] = await world._call("GET", f"/rshep/api/cases/{case_id}", admin=True)
        if case["status"] not in ("in_progress", "registered") or case["mode"] == "manual":
            return case
        step = next((x for x in case["steps"] if x["n"] == case["currentStep"]), None)
        if step and step["dueAt"] and datetime.fromisoformat(step["dueAt"]) > datetime.fromisoformat(world.now_iso):
            return case  # waits for the simulated clock
        await asyncio.sleep(0.02)
    raise ScenarioError(f"case {case_id} did not settle")


async def office_issue(world: World, act: s.OfficeIssue) -> Outcome:
    if world.case is None:
        raise ScenarioError("no office case yet")
    for _ in range(200):  # the clerk waits for the signed result
        r = await world.send(act, "POST", f"/rshep/api/cases/{world.case}/issue", headers=world.admin, json={})
        if r.status_code != 409 or r.json().get("code") != "CASE_RESULT_NOT_READY":
            break
        await asyncio.sleep(0.02)
    out = problem(r)
    if r.is_success:
        case = await _case(world, world.case)
        out.status = case["status"]
        out.deadline = deadline_of(case)
    out.trace = await world.settled_trace(world.case)
    return out


async def http_call(world: World, act: s.Http) -> Outcome:
    headers: dict[str, str] = {}
    if act.auth == "admin":
        headers = dict(world.admin)
    elif act.auth:
        headers = await world.ensure_session(act.auth)
    path = act.path
    for alias, person in world.people.items():
        path = path.replace(f"{{{alias}.iin}}", person.iin)
    path = path.replace("{request}", world.request or "").replace("{application}", world.application or "")
    kwargs: dict[str, Any] = {}
    if act.json_body is not None:
        kwargs["json"] = act.json_body
    if act.body is not None:
        kwargs["content"] = act.body.encode()
        headers["Content-Type"] = act.content_type or "application/xml"
    r = await world.send(act, act.method, path, headers=headers, **kwargs)
    out = problem(r)
    if not r.is_success and out.code and isinstance(r.json(), dict):
        out.trace = await world.trace(r.json().get("traceId"))
    return out


ACTS = {
    "portal.register": register, "portal.login": login, "portal.login_eds": login_eds, "portal.submit": submit,
    "cert.revoke": cert, "cert.hold": cert, "cert.release": cert, "clock.advance": clock_advance,
    "hqo.login": hqo_login, "hqo.apply": hqo_apply, "hqo.send": hqo_action, "hqo.handover": hqo_action,
    "hqo.recall": hqo_action, "hqo.show": hqo_action, "office.apply": office_apply, "office.issue": office_issue,
    "cabinet.show": cabinet, "http": http_call,
}  # fmt: skip
