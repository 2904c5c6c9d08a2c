"""Running scenarios: each on a simulator of its own (in-process, the default) or against a running
egovsim (``--target``), serially or on worker processes, into one report.

In-process, every scenario starts from a copy of one template database: the НУЦ's CA hierarchy
and every key a chain signs with already issued (a warm-up through each portal, ХҚО and office
chain makes them). It is made once per seed and version of egovsim and kept in the cache folder
(:func:`cached_template`). Nothing is shared between scenarios after that, so their
order, and how they are spread over workers, does not change a single outcome: the clock is
frozen at each scenario's start, personas are drawn from the seed and the scenario's id, and
request numbers count from the same template.

A scenario's report is a plain dict (:func:`run_scenario`); wall-clock fields are ``duration_s``
and the run's ``started``, nothing else depends on when or where it ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

from egovsim.catalog.refusals import RefusalCatalog
from egovsim.qa import acts
from egovsim.qa.expect import mismatches
from egovsim.qa.scenario import Scenario, load_scenario

ADMIN_TOKEN = "egovsim-replay-admin-token"  # the in-process simulators' own, never a real one's
DB_FILE = "egovsim.sqlite3"
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_PORTAL = (
    "foster_care_patronage_placement",
    "disabled_child_home_education_compensation",
    "preschool_queue_registration",
    "local_social_assistance_assignment",
    "foreign_labour_permit",
)
_HQO = (
    "disabled_child_home_education_compensation",
    "oralman_status",
    "visitation_permit_deprived_parents",
    "preschool_queue_registration",
    "school_certificate_duplicate",
)
_OFFICE = ("externship_study_permit", "foreign_labour_permit")
_SEMEY = "semipalatinsk_victim_registration_compensation"
# every chain once, so that the template holds every key a scenario's chain signs with: the
# components' system keys, the ХҚО operator's and the providers' employees' SIGN keys
_WARM_UP = Scenario.model_validate(
    {
        "id": "warm-up",
        "title": "issues the keys every scenario's chain signs with",
        "regulation": ["-"],
        "given": {
            "personas": {"a": {}, "g": {"account": False}, "r": {"account": False}},
            "powers_of_attorney": [{"grantor": "g", "representative": "r"}],
            "providers": {s: {} for s in {*_PORTAL, *_HQO, *_OFFICE, _SEMEY}},
        },
        "acts": [
            *({"act": "portal.submit", "persona": "a", "service": s} for s in _PORTAL),
            {"act": "hqo.apply", "service": _SEMEY, "applicant": "g", "representative": "r", "power_of_attorney": 0},
            {"act": "hqo.send"},
            *(a for s in _HQO for a in ({"act": "hqo.apply", "service": s, "applicant": "g"}, {"act": "hqo.send"})),
            *({"act": "office.apply", "service": s, "applicant": "g"} for s in _OFFICE),
        ],
    }
)  # fmt: skip


def settings_for(data_dir: Path, scenario: Scenario | None, seed: int) -> Any:
    from egovsim.settings import Settings

    start = scenario.given.clock if scenario else None
    # a throw-away simulator: passwords hashed at argon2id's low test cost (egovsim.passwords)
    return Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN, clock_mode="frozen", clock_start=start, seed=seed,
                    log_level="warning", password_hashing="fast")  # fmt: skip


def template_key(seed: int) -> str:
    """What a template depends on: the seed and every file of egovsim's own (code, migrations,
    catalogues), so that any change to them makes a new one."""
    import hashlib

    import egovsim

    digest = hashlib.sha256(f"{egovsim.__version__}:{seed}".encode())
    root = Path(egovsim.__file__).resolve().parent.parent
    for package in ("egovsim", "gateway", "portal", "cabinet", "signing", "mock_registries"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".yaml", ".xsd", ".wsdl") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:24]


def cached_template(seed: int, cache: Path | None = None) -> tuple[Path, bool]:
    """The template database for ``seed`` from the cache folder (``EGOVSIM_CACHE_DIR``, else
    ``~/.cache/egovsim``), made there when missing: (its path, whether it was made now). Made
    aside and renamed when whole, so that concurrent runs and a run cut short never share a
    half-made one."""
    import os

    folder = cache or Path(os.environ.get("EGOVSIM_CACHE_DIR") or Path.home() / ".cache" / "egovsim")
    target = folder / f"replay-template-s{seed}-{template_key(seed)}"
    if (target / DB_FILE).exists():
        return target / DB_FILE, False
    folder.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=folder))
    try:
        asyncio.run(build_template(building, seed))
        for stale in folder.glob(f"replay-template-s{seed}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # made by other versions of egovsim
        building.rename(target)
    except OSError:
        if not (target / DB_FILE).exists():
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target / DB_FILE, True


async def build_template(folder: Path, seed: int) -> Path:
    """The template database: the CA hierarchy and every component's system keys, made once."""
    from egovsim.app import running

    folder.mkdir(parents=True, exist_ok=True)
    async with running(settings_for(folder, _WARM_UP, seed)) as sim, sim.client(timeout=120) as http:
        (await http.get("/nca/cert/chain.pem")).raise_for_status()
        report = await run_scenario(_WARM_UP, http, ADMIN_TOKEN, seed=str(seed))
        if not report["passed"]:
            raise RuntimeError(f"the warm-up failed: {report['error'] or [s['facts'] for s in report['steps']]}")
    return folder / DB_FILE


@contextlib.asynccontextmanager
async def simulator(template: Path, scenario: Scenario, seed: int) -> AsyncIterator[httpx.AsyncClient]:
    """A simulator of the scenario's own on a copy of the template; gone when the block ends."""
    from egovsim.app import running

    folder = Path(tempfile.mkdtemp(prefix="egovsim-replay-"))
    try:
        with (
            contextlib.closing(sqlite3.connect(template)) as source,
            contextlib.closing(sqlite3.connect(folder / DB_FILE)) as copy,
        ):
            source.backup(copy)
        async with running(settings_for(folder, scenario, seed)) as sim, sim.client(timeout=60) as http:
            yield http
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def run_scenario(scenario: Scenario, http: httpx.AsyncClient, admin_token: str, *, seed: str,
                       lang: str = "en", diagram: bool = True, shared: bool = False) -> dict[str, Any]:  # fmt: skip
    """Set the scenario's world up, run its acts, check each expectation: the scenario's report.
    ``shared``: a running egovsim, whose clock a scenario moves forward only."""
    refusals = RefusalCatalog.load()
    world = acts.World(http, admin_token, scenario, seed, shared=shared)
    began = time.perf_counter()
    steps: list[dict[str, Any]] = []
    error: str | None = None
    last_ref: str | None = None
    try:
        await world.setup()
        for n, act in enumerate(scenario.acts, start=1):
            out = await acts.ACTS[act.act](world, act)  # type: ignore[operator]
            last_ref = out.ref or last_ref
            diff = mismatches(act.expect, out, refusals) if act.expect else []
            expected = act.expect.model_dump(exclude_none=True) if act.expect else None
            steps.append({"n": n, "act": act.act, "note": act.note, "fault": act.fault, "facts": out.facts(),
                          "expect": expected, "diff": diff})  # fmt: skip
    except acts.ScenarioError as exc:
        error = str(exc)
    except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    trace = await _trace_table(http, last_ref)
    svg = await _diagram(http, last_ref, lang) if diagram and last_ref and trace else None
    report = {
        "id": scenario.id,
        "title": scenario.title,
        "regulation": scenario.regulation,
        "tags": scenario.tags,
        "passed": error is None and not any(s["diff"] for s in steps),
        "error": error,
        "steps": steps,
        "codes": sorted({s["facts"].get("code") for s in steps if s["facts"].get("code")} | set(_trace_codes(trace))),
        "trace": trace,
        "diagram": svg,
        "duration_s": round(time.perf_counter() - began, 3),
    }
    return normalise(report, world)


def _trace_codes(trace: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in trace if e.get("code")]


async def _trace_table(http: httpx.AsyncClient, ref: str | None) -> list[dict[str, Any]]:
    if not ref:
        return []
    r = await http.get(f"/api/catalog/traces/{ref}")
    if r.status_code != 200:
        return []
    return [{"step": e["step"], "component": e["component"], "outcome": e["outcome"], "code": e["code"],
             "at": e["sim_time"]} for e in r.json()["events"]]  # fmt: skip


async def _diagram(http: httpx.AsyncClient, ref: str, lang: str) -> str | None:
    r = await http.get(f"/api/catalog/traces/{ref}/diagram", params={"format": "svg", "lang": lang})
    return r.text if r.status_code == 200 else None


def normalise(value: Any, world: acts.World) -> Any:
    """The report without what differs between runs for no reason: the personas' IINs (drawn per
    run against a shared instance) become ``<alias.iin>``, UUIDs ``<uuid>``."""
    swaps = [(p.iin, f"<{alias}.iin>") for alias, p in world.people.items()]

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            for old, new in swaps:
                v = v.replace(old, new)
            return _UUID.sub("<uuid>", v)
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return fix(value)


# -- a run ------------------------------------------------------------------------------------------
def _run_in_process(scenario: Scenario, template: str, seed: int, lang: str, diagrams: bool = True) -> dict[str, Any]:
    """One scenario on its own simulator (a worker process's task, or the serial loop's)."""

    async def go() -> dict[str, Any]:
        async with simulator(Path(template), scenario, seed) as http:
            return await run_scenario(scenario, http, ADMIN_TOKEN, seed=str(seed), lang=lang, diagram=diagrams)

    return asyncio.run(go())


def run(
    paths: Iterable[Path],
    *,
    seed: int = 7,
    workers: int = 1,
    lang: str = "en",
    target: str | None = None,
    token: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    template: Path | None = None,
    diagrams: bool = True,
) -> dict[str, Any]:
    """Every scenario of ``paths``: the run's report (scenarios in id order). ``template``: a
    template database :func:`build_template` made with the same seed (made for this run if not).
    ``diagrams``: each scenario's process diagram coloured by its trace (for the HTML report)."""
    paths = list(paths)
    scenarios = [load_scenario(p) for p in paths]  # every file valid before anything runs
    started = time.time()
    began = time.perf_counter()
    results: list[dict[str, Any]] = []
    made = False

    def done(report: dict[str, Any]) -> None:
        results.append(report)
        if progress:
            progress(report)

    if target:
        asyncio.run(_run_against(target, token or "", scenarios, seed, lang, diagrams, done))
        template_s = 0.0
    else:
        t0 = time.perf_counter()
        if template is None:
            template, made = cached_template(seed)
        template_s = time.perf_counter() - t0
        if workers <= 1:
            for scenario in scenarios:
                done(_run_in_process(scenario, str(template), seed, lang, diagrams))
        else:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(_run_in_process, s, str(template), seed, lang, diagrams) for s in scenarios]
                for future in futures:
                    done(future.result())
    results.sort(key=lambda r: r["id"])
    return {
        "seed": seed,
        "lang": lang,
        "target": target or "in-process",
        "workers": workers,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.perf_counter() - began, 3),
        "template_s": round(template_s, 3),
        "template_made": made,
        "passed": sum(r["passed"] for r in results),
        "failed": sum(not r["passed"] for r in results),
        "scenarios": results,
    }


async def _run_against(target: str, token: str, scenarios: Iterable[Scenario], seed: int, lang: str,
                       diagrams: bool, done: Callable[[dict[str, Any]], None]) -> None:  # fmt: skip
    """Against a running egovsim: one scenario after another (they move its one clock), each with
    personas of its own; the run's own seed part keeps them new on every run."""
    nonce = f"{seed}:{time.time_ns()}"
    async with httpx.AsyncClient(base_url=target.rstrip("/"), timeout=60) as http:
        for scenario in scenarios:
            http.cookies.clear()
            done(await run_scenario(scenario, http, token, seed=nonce, lang=lang, diagram=diagrams, shared=True))


WALL_CLOCK_FIELDS = ("duration_s", "started", "template_s", "template_made")


def without_wall_clock(report: Any) -> Any:
    """The report with its wall-clock fields dropped: what two runs must agree on."""
    if isinstance(report, dict):
        return {k: without_wall_clock(v) for k, v in report.items() if k not in WALL_CLOCK_FIELDS}
    if isinstance(report, list):
        return [without_wall_clock(v) for v in report]
    return report
