"""egovsim's pytest plugin: the simulator, brand-new citizens with their key files, a real HTTP
server and a browser, as fixtures for an integrator's own test suite.

``pip install egovsim`` registers the plugin (entry point ``pytest11``); nothing to import or
configure. The fixtures need pytest-asyncio (any mode, function-scoped event loops), the browser
fixture Playwright::

    import pytest

    from egovsim.errors import CodedError


    async def test_a_new_citizen_registers_and_logs_in(egovsim_sim, egovsim_citizen):
        citizen = await egovsim_citizen()  # alive in ГБД ФЛ, AUTH and SIGN key files
        async with egovsim_sim.client() as http:
            await citizen.register(http)  # the portal asks ГБД ФЛ through the gateway
            token = await citizen.login(http)
        signed = citizen.sign_xml(b"<a>1</a>")  # as NCALayer signXml, with the SIGN key


    async def test_a_deceased_person_cannot_register(egovsim_sim, egovsim_citizen):
        citizen = await egovsim_citizen(deceased=True)
        async with egovsim_sim.client() as http:
            with pytest.raises(CodedError, match="PORTAL_PERSON_DECEASED"):
                await citizen.register(http)

Every test gets its own simulator on its own database, so tests never share state.

Fixtures
--------

``egovsim_settings`` -> :class:`~egovsim.settings.Settings`
    A fresh data folder in ``tmp_path``, the admin token :data:`ADMIN_TOKEN`, SQLite in the data
    folder. With ``EGOVSIM_TEST_DATABASE_URL`` set to a PostgreSQL URL each test gets a new
    schema in that database instead (dropped afterwards). The marker ``egovsim`` sets any other field::

        @pytest.mark.egovsim(clock_mode="frozen", clock_start="2026-03-02T10:00:00+05:00", seed=7)

    Other ``EGOVSIM_*`` variables apply as for ``egovsim up``. Override the fixture for anything
    else.

``egovsim_sim`` -> :class:`~egovsim.app.RunningSimulator`
    Every component in-process (:func:`egovsim.app.running`); ``egovsim_sim.client()`` is an
    ``httpx.AsyncClient`` through its public HTTP interface, ``egovsim_sim.kernel.clock`` its
    simulated clock. Starting takes well under a second (see Speed below).

``egovsim_citizen`` -> :class:`CitizenFactory`
    ``await egovsim_citizen(**options)`` makes a brand-new person and returns a :class:`Citizen`:
    a valid IIN never handed out before in this test (birth date 20 to 70 years before the
    simulated today, serial 0–999 like hand-made records, so never one of a generated
    population; drawn from ``settings.seed`` when it is set, so reproducible with a frozen
    clock), a ГБД ФЛ record added through the registries' admin API, and an AUTH and a SIGN key
    file issued through the НУЦ's API (password ``Qwerty12``) in ``DATA_DIR/keys/<IIN>/``: the
    ``.p12`` under the NCA's file name with ``.crt.pem`` and ``.key.pem`` beside it, the CA
    chain in ``DATA_DIR/keys/ca-chain.pem``. Options: ``iin``, ``surname``, ``name``,
    ``patronymic``, ``birth_date``, ``sex`` (:class:`egovsim.iin.Sex`), ``deceased=True`` (died
    30 simulated days ago, or on ``death_date``), ``absent=True`` (ГБД ФЛ does not know the IIN;
    the key files exist), ``registry`` (fields of personas.yaml's ``registry``: region,
    district, street, building, flat, nationality, citizenship), ``password`` (for the portal;
    ``Qwerty12``). About 0.3 s each (two RSA 2048 keys).

``egovsim_persona`` -> :class:`PersonaFactory`
    ``await egovsim_persona("aset")``: a demo persona of ``egovsim/data/personas.yaml`` as a
    :class:`Citizen`. The first call seeds every persona's ГБД ФЛ record and the ЕНИС powers of
    attorney (which link personas: aigul represents bolat), then each persona's keys are issued
    (CEO and employee profiles for nurlan and dana) into ``DATA_DIR/keys/<id>/``, as
    ``egovsim up`` does.

``egovsim_server`` -> :class:`ServedSimulator`
    The test's ``egovsim_sim`` (the very same one, with the citizens made in it) served by
    uvicorn on ``127.0.0.1``: ``.url`` (also ``settings.public_url``, so the certificates' CRL
    and OCSP addresses answer), ``.sim``, ``.client()`` over real HTTP. The server runs in the
    test's event loop: talk to it with async clients (httpx, websockets, Playwright's async
    API); a blocking call in the test blocks the server too. It stops when the test ends.

``egovsim_browser`` -> ``playwright.async_api.Page``
    A new page of a headless Chromium: ``EGOVSIM_CHROMIUM``, else ``/usr/bin/chromium`` when
    present, else Playwright's own. Skipped when Playwright is not installed. A test that fails
    leaves a screenshot ``<test>-failure.png`` in ``egovsim_artifacts``.

``egovsim_screenshot`` -> ``async (page, name) -> Path``
    Saves a full-page PNG ``<test>-<name>.png`` in ``egovsim_artifacts``.

``egovsim_artifacts`` -> ``Path``
    ``EGOVSIM_ARTIFACTS``, else ``tests/artifacts`` under pytest's root folder (created).

A :class:`Citizen` has ``iin``, ``surname``, ``name``, ``patronymic``, ``password``,
``sign_key`` and ``auth_key`` (the ``.p12`` files), ``key_password``, ``sign_cert_serial``,
``auth_cert_serial``, ``chain`` (the CA chain PEM), ``registry`` (the ГБД ФЛ record as stored,
or None), ``persona`` and ``admin_token``; and ``key_file(kind)``, ``certificate_pem(kind)``,
``sign_xml(xml, kind="sign")`` (an enveloped XMLDSig as NCALayer ``signXml`` returns it, XML
declaration included), ``await register(http)``, ``await login(http)`` (the session token),
``await revoke(http, kind="sign")`` (through the НУЦ's admin API). A refusal raises
:class:`~egovsim.errors.CodedError` with the answer's code.

Speed: the НУЦ's CA hierarchy (two RSA 4096 keys, seconds) is made once per test session and
settings, in a template SQLite database that each test's database starts as a copy of (SQLite,
with a real clock or one frozen at a given ``clock_start``; otherwise each test makes its own).
The components' own system keys are made in each test, so its first registration on the portal
takes about a second longer than the next ones.

Loading the plugin costs nothing in test runs that use none of it: egovsim itself, uvicorn and
Playwright are imported by the fixtures that need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # anyio's plugin, or pytest's own error, handles async fixtures then
    from pytest import fixture as _async_fixture  # type: ignore[no-redef]

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from playwright.async_api import Page

    from egovsim.app import RunningSimulator
    from egovsim.iin import Sex
    from egovsim.settings import Settings

__all__ = ["ADMIN_TOKEN", "Citizen", "CitizenFactory", "PersonaFactory", "ServedSimulator"]

ADMIN_TOKEN = "egovsim-test-admin-token"  # a test simulator's, never a real one's
KeyKind = Literal["sign", "auth"]

_CHROMIUM = "/usr/bin/chromium"  # Debian's package
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "egovsim(**fields): Settings fields for this test's simulator, e.g. "
        "clock_mode='frozen', clock_start='2026-03-02T10:00:00+05:00', seed=7",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so that the browser's teardown sees a failure."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


# -- citizens -----------------------------------------------------------------------------------
def _admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _checked(response: httpx.Response) -> Any:
    """The answer's JSON; a JSON problem (RFC 9457) raises CodedError with its code."""
    from egovsim.errors import CodedError

    if response.is_success:
        return response.json() if response.content else None
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict) and "code" in problem:
        raise CodedError(problem["code"], problem.get("detail") or problem.get("title"))
    response.raise_for_status()
    return None


@dataclass(frozen=True)
class Citizen:
    """A person of the simulated Kazakhstan with an AUTH and a SIGN key file from the НУЦ."""

    iin: str
    surname: str
    name: str
    patronymic: str | None
    password: str  # for the portal (egov.kz)
    sign_key: Path  # .p12; the certificate in <stem>.crt.pem, the private key in <stem>.key.pem
    auth_key: Path
    key_password: str
    sign_cert_serial: str
    auth_cert_serial: str
    chain: Path  # the НУЦ's CA certificates, PEM
    registry: dict[str, Any] | None  # the ГБД ФЛ record as stored; None: ГБД ФЛ does not know the IIN
    admin_token: str = field(repr=False)
    persona: str | None = None  # the id in personas.yaml

    def key_file(self, kind: KeyKind = "sign") -> Path:
        return {"sign": self.sign_key, "auth": self.auth_key}[kind]

    def certificate_pem(self, kind: KeyKind = "sign") -> Path:
        key = self.key_file(kind)
        return key.with_name(f"{key.stem}.crt.pem")

    def sign_xml(self, xml: bytes | str, kind: KeyKind = "sign") -> bytes:
        """The document signed as NCALayer ``signXml`` returns it: an enveloped XMLDSig
        (RSA-SHA256, the certificate in KeyInfo) after NCALayer's XML declaration."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        from egovsim.xmldsig import sign_enveloped

        key_file = self.key_file(kind)
        key = load_pem_private_key(key_file.with_name(f"{key_file.stem}.key.pem").read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(self.certificate_pem(kind).read_bytes())
        return sign_enveloped(xml, key, cert)  # type: ignore[arg-type]

    async def register(self, http: httpx.AsyncClient) -> dict[str, Any]:
        """``POST /portal/api/accounts``: the account (``iin``, ``createdAt``)."""
        account: dict[str, Any] = _checked(
            await http.post("/portal/api/accounts", json={"iin": self.iin, "password": self.password})
        )
        return account

    async def login(self, http: httpx.AsyncClient) -> str:
        """``POST /portal/api/login``: the session token (the client keeps the cookie too)."""
        session = _checked(await http.post("/portal/api/login", json={"iin": self.iin, "password": self.password}))
        token: str = session["token"]
        return token

    async def revoke(
        self, http: httpx.AsyncClient, kind: KeyKind = "sign", reason: str = "unspecified"
    ) -> dict[str, Any]:
        """Revoke the certificate of one key file through the НУЦ's admin API; its state after."""
        serial = {"sign": self.sign_cert_serial, "auth": self.auth_cert_serial}[kind]
        url = f"/nca/api/certificates/{serial}/revoke"
        state: dict[str, Any] = _checked(
            await http.post(url, json={"reason": reason}, headers=_admin(self.admin_token))
        )
        return state


def _keys_dir(sim: RunningSimulator) -> Path:
    """``DATA_DIR/keys``, where ``egovsim up`` writes key files (egovsim.personas)."""
    return sim.kernel.settings.data_dir / "keys"


async def _issue_key_file(http: httpx.AsyncClient, keys: Path, folder: str, body: dict[str, Any]) -> tuple[Path, str]:
    """Issue one key file through ``POST /nca/api/certificates`` (``http`` carries the admin
    token) and write it as ``egovsim up`` does (egovsim.personas); its path and serial."""
    from egovsim.personas import DEFAULT_PASSWORD, write_key_file

    issued = _checked(await http.post("/nca/api/certificates", json=body | {"password": DEFAULT_PASSWORD}))
    return write_key_file(keys, folder, issued), issued["serial"]


class CitizenFactory:
    """``await egovsim_citizen(**options)``: a brand-new person (module docstring)."""

    def __init__(self, sim: RunningSimulator, seed: int | None) -> None:
        from egovsim.personas import load_personas

        self.sim = sim
        self.random = random.Random(seed)  # None: from the OS, different every run
        self.taken = {c["iin"] for c in load_personas()["citizens"]}

    def _client(self) -> httpx.AsyncClient:
        # the first certificate of a simulator may make its CA (seconds, on PostgreSQL)
        return self.sim.client(headers=_admin(self.sim.kernel.admin_token), timeout=120)

    def _draw(self, birth_date: date | None, sex: Sex | None) -> str:
        from egovsim.iin import Sex, make_iin

        today = self.sim.kernel.clock.now().date()
        while True:
            born = birth_date or date(today.year - 70, 1, 1) + timedelta(days=self.random.randrange(50 * 365))
            # serials 0–999 are left to hand-made records (mock_registries.generate.FIRST_SERIAL)
            number = make_iin(born, sex or self.random.choice(list(Sex)), self.random.randrange(1000))
            if number is not None and number not in self.taken:
                return number

    def _names(self, sex: Sex) -> tuple[str, str, str]:
        from egovsim.iin import Sex
        from mock_registries.generate import _namings

        kazakh = _namings()["005"]  # the synthetic population's Kazakh names
        female = sex is Sex.FEMALE
        surname = self.random.choice(kazakh.surnames)[female][0]
        given = self.random.choice(kazakh.given[female])[0]
        patronymic = self.random.choice(kazakh.kazakh_patronymics or kazakh.patronymics)[female]
        return surname, given, patronymic

    async def __call__(
        self,
        *,
        iin: str | None = None,
        surname: str | None = None,
        name: str | None = None,
        patronymic: str | None = None,
        birth_date: date | None = None,
        sex: Sex | None = None,
        deceased: bool = False,
        death_date: date | None = None,
        absent: bool = False,
        registry: dict[str, Any] | None = None,
        password: str | None = None,
    ) -> Citizen:
        from egovsim.errors import CodedError

        wanted = dict(registry or {}) | {"absent": absent}
        if deceased or death_date:
            died = death_date or self.sim.kernel.clock.now().date() - timedelta(days=30)
            wanted["deathDate"] = died.isoformat()
        given = {"surname": surname, "name": name, "patronymic": patronymic}
        async with self._client() as http:
            while True:
                number = iin or self._draw(birth_date, sex)
                self.taken.add(number)
                person = self._person(number, given) | {"registry": wanted}
                try:
                    stored = await self._add_to_gbdfl(http, person)
                    break
                except CodedError as exc:
                    # made already by someone else (a simulator shared between tests): draw again
                    if iin is not None or exc.code != "REGISTRY_RECORD_EXISTS":
                        raise
            holder = {k: person[k] for k in ("iin", "surname", "name", "patronymic")}
            label = f"egovsim_citizen:{number}"
            files = {
                kind: await _issue_key_file(http, _keys_dir(self.sim), number, holder | {"kind": kind, "label": label})
                for kind in ("sign", "auth")
            }
        return _citizen(self.sim, person, files, stored, password)

    def _person(self, number: str, given: dict[str, str | None]) -> dict[str, Any]:
        from egovsim.iin import parse_iin

        drawn = dict(zip(("surname", "name", "patronymic"), self._names(parse_iin(number).sex), strict=True))
        return {"iin": number} | drawn | {k: v for k, v in given.items() if v}

    async def _add_to_gbdfl(self, http: httpx.AsyncClient, person: dict[str, Any]) -> dict[str, Any] | None:
        """The record as stored (None: absent, and the IIN is unknown to ГБД ФЛ indeed)."""
        from egovsim.errors import CodedError
        from egovsim.personas import PERSONS_API, person_record

        record = person_record(person)
        if record is not None:
            stored: dict[str, Any] = _checked(await http.post(PERSONS_API, json=record))
            return stored
        if (await http.get(f"{PERSONS_API}/{person['iin']}")).status_code != 404:
            raise CodedError("REGISTRY_RECORD_EXISTS", f"ГБД ФЛ knows {person['iin']}")
        return None


def _citizen(
    sim: RunningSimulator,
    person: dict[str, Any],
    files: dict[str, tuple[Path, str]],
    registry: dict[str, Any] | None,
    password: str | None,
    persona: str | None = None,
) -> Citizen:
    from egovsim.personas import DEFAULT_PASSWORD

    (sign, sign_serial), (auth, auth_serial) = files["sign"], files["auth"]
    return Citizen(
        iin=person["iin"],
        surname=person["surname"],
        name=person["name"],
        patronymic=person.get("patronymic"),
        password=password or DEFAULT_PASSWORD,
        sign_key=sign,
        auth_key=auth,
        key_password=DEFAULT_PASSWORD,
        sign_cert_serial=sign_serial,
        auth_cert_serial=auth_serial,
        chain=_keys_dir(sim) / "ca-chain.pem",
        registry=registry,
        admin_token=sim.kernel.admin_token,
        persona=persona,
    )


class PersonaFactory:
    """``await egovsim_persona("aset")``: a demo persona with its registry records and keys."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.made: dict[str, Citizen] = {}
        self.records: dict[str, Any] | None = None

    async def __call__(self, persona_id: str) -> Citizen:
        from egovsim import personas as demo

        if persona_id in self.made:
            return self.made[persona_id]
        everyone = demo.load_personas()
        persona = next((c for c in everyone["citizens"] if c["id"] == persona_id), None)
        if persona is None:
            known = ", ".join(c["id"] for c in everyone["citizens"])
            raise LookupError(f"no persona {persona_id!r} in personas.yaml; there are {known}")
        admin = _admin(self.sim.kernel.admin_token)
        async with self.sim.client(headers=admin, timeout=120) as http:
            if self.records is None:
                self.records = await demo.ensure_registry_records(http, admin)
            files = {}
            # the issuance requests `egovsim up` makes (profiles ceo/employee with the organisation)
            for owner, kind, body in demo._requests(everyone):
                if owner == persona_id:
                    files[kind] = await _issue_key_file(http, _keys_dir(self.sim), owner, body)
        made = _citizen(self.sim, persona, files, self.records["persons"].get(persona_id), None, persona_id)
        self.made[persona_id] = made
        return made


# -- the simulator ------------------------------------------------------------------------------
@contextlib.contextmanager
def _fresh_database(url: str | None) -> Iterator[str | None]:
    """``url`` itself, except that a PostgreSQL database gets a new schema for this test."""
    if not url or not url.startswith("postgresql"):
        yield url
        return
    import uuid

    from sqlalchemy import create_engine, make_url, text

    schema = f"egovsim_{uuid.uuid4().hex[:12]}"
    server = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
        finally:
            with admin.connect() as conn:
                conn.execute(text("SET lock_timeout = '10s'"))
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


class _Session:
    """What the tests of one session share: template databases, and the server's port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port: int | None = None

    def listener(self) -> socket.socket:
        """A socket bound to 127.0.0.1, on the port of the session's earlier servers when it is
        free: the URL is in the settings, so their template database fits this server too."""
        for port in (self.port, 0):
            if port is None:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            self.port = sock.getsockname()[1]
            return sock
        raise OSError("no free port on 127.0.0.1")

    async def seed(self, settings: Settings) -> None:
        """Start a fresh SQLite data folder as a copy of a template in which the НУЦ's CA
        hierarchy exists: made once per session and settings, as the first test would make it.
        Only where the copy is indistinguishable: SQLite, a real or a frozen-at-a-given-instant
        clock (the stored clock state then does not depend on when it was stored)."""
        import sqlite3

        target = settings.data_dir / "egovsim.sqlite3"
        frozen_at_start = settings.clock_mode == "frozen" and settings.clock_start is not None
        if settings.database_url or target.exists() or not (settings.clock_mode == "real" or frozen_at_start):
            return
        key = hashlib.sha256(settings.model_dump_json(exclude={"data_dir"}).encode()).hexdigest()[:16]
        template = self.folder / key / "egovsim.sqlite3"
        if not template.parent.exists():
            import tempfile

            from egovsim.app import running

            # made aside and renamed when whole, so a template that failed halfway is never used
            building = Path(tempfile.mkdtemp(dir=self.folder))
            async with running(settings.model_copy(update={"data_dir": building})) as sim, sim.client() as http:
                (await http.get("/nca/cert/chain.pem", timeout=120)).raise_for_status()  # makes the CA
            building.rename(template.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(template)) as source,
            contextlib.closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)


@pytest.fixture(scope="session")
def _egovsim_session(tmp_path_factory: pytest.TempPathFactory) -> _Session:
    return _Session(tmp_path_factory.mktemp("egovsim-templates"))


@pytest.fixture
def egovsim_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh data folder (module docstring); override it for other settings."""
    from egovsim.settings import Settings

    marker = request.node.get_closest_marker("egovsim")
    with _fresh_database(os.environ.get("EGOVSIM_TEST_DATABASE_URL")) as url:
        fields: dict[str, Any] = {"data_dir": tmp_path / "egovsim", "database_url": url, "admin_token": ADMIN_TOKEN}
        yield Settings(**fields | (marker.kwargs if marker else {}))


@contextlib.asynccontextmanager
async def _serving(app: FastAPI, sock: socket.socket) -> AsyncIterator[None]:
    """uvicorn serving ``app`` on ``sock`` in this event loop until the block ends."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # Ctrl-C belongs to pytest, not to a test's server

    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=1)
    server = Server(config)
    with sock:
        task = asyncio.create_task(server.serve(sockets=[sock]), name="egovsim-uvicorn")
        while not server.started:
            if task.done():
                task.result()  # its exception, if it has one
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        try:
            yield
        finally:
            server.should_exit = True
            await task


@_async_fixture
async def egovsim_sim(
    egovsim_settings: Settings, request: pytest.FixtureRequest, _egovsim_session: _Session
) -> AsyncIterator[RunningSimulator]:
    """The whole simulator in-process; served over HTTP too when the test uses egovsim_server."""
    from pydantic import AnyHttpUrl

    from egovsim.app import running

    settings = egovsim_settings
    sock = _egovsim_session.listener() if "egovsim_server" in request.fixturenames else None
    try:
        if sock is not None:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            settings = settings.model_copy(update={"public_url": AnyHttpUrl(url)})
        await _egovsim_session.seed(settings)
        async with running(settings) as sim:
            if sock is None:
                yield sim
            else:
                async with _serving(sim.app, sock):
                    yield sim
    finally:
        if sock is not None:
            sock.close()


@dataclass(frozen=True)
class ServedSimulator:
    """The test's simulator behind a real HTTP server."""

    url: str  # http://127.0.0.1:<port>, no trailing slash
    sim: RunningSimulator

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` talking real HTTP to the server; the timeout is 60 s unless
        given, as a test's first registration makes the portal's and the gateway's keys."""
        import httpx

        return httpx.AsyncClient(base_url=self.url, **{"timeout": 60.0} | kwargs)


@pytest.fixture
def egovsim_server(egovsim_sim: RunningSimulator) -> ServedSimulator:
    """``egovsim_sim``, served by uvicorn (egovsim_sim sees this fixture requested)."""
    return ServedSimulator(egovsim_sim.kernel.settings.effective_public_url, egovsim_sim)


@pytest.fixture
def egovsim_citizen(egovsim_sim: RunningSimulator) -> CitizenFactory:
    """``await egovsim_citizen(**options)``: a brand-new person in ГБД ФЛ with AUTH and SIGN keys."""
    return CitizenFactory(egovsim_sim, egovsim_sim.kernel.settings.seed)


@pytest.fixture
def egovsim_persona(egovsim_sim: RunningSimulator) -> PersonaFactory:
    """``await egovsim_persona("aset")``: a demo persona (personas.yaml) with its records and keys."""
    return PersonaFactory(egovsim_sim)


# -- the browser --------------------------------------------------------------------------------
@pytest.fixture
def egovsim_artifacts(request: pytest.FixtureRequest) -> Path:
    """The folder for screenshots: EGOVSIM_ARTIFACTS, else tests/artifacts under the root folder."""
    folder = Path(os.environ.get("EGOVSIM_ARTIFACTS") or request.config.rootpath / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _png(folder: Path, node: pytest.Item, name: str) -> Path:
    return folder / re.sub(r"[^\w.-]+", "_", f"{node.name}-{name}.png")


@pytest.fixture
def egovsim_screenshot(
    request: pytest.FixtureRequest, egovsim_artifacts: Path
) -> Callable[[Page, str], Awaitable[Path]]:
    """``await egovsim_screenshot(page, name)``: a full-page PNG <test>-<name>.png in egovsim_artifacts."""

    async def screenshot(page: Page, name: str) -> Path:
        path = _png(egovsim_artifacts, request.node, name)
        await page.screenshot(path=str(path), full_page=True)
        return path

    return screenshot


@_async_fixture
async def egovsim_browser(request: pytest.FixtureRequest, egovsim_artifacts: Path) -> AsyncIterator[Page]:
    """A page of a headless Chromium (EGOVSIM_CHROMIUM, /usr/bin/chromium or Playwright's); a
    failing test leaves <test>-failure.png in egovsim_artifacts. Skipped without Playwright."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("egovsim_browser needs Playwright: pip install playwright (and a Chromium)")
    executable = os.environ.get("EGOVSIM_CHROMIUM") or (_CHROMIUM if Path(_CHROMIUM).exists() else None)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            page = await (await browser.new_context()).new_page()
            yield page
            call = request.node.stash.get(_REPORTS, {}).get("call")
            if call is not None and call.failed:
                await page.screenshot(path=str(_png(egovsim_artifacts, request.node, "failure")), full_page=True)
        finally:
            await browser.close()
