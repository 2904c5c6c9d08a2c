"""The ``egovsim`` command line.

``up`` starts every component in one process; ``serve`` starts one (compose); ``catalog``
reads the service catalogue; ``clock`` drives the simulated clock of a running instance,
as an operator's tool would (``--url``, default the local one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from egovsim import __version__
from egovsim.cli_options import DataDirOpt, TokenOpt, UrlOpt
from egovsim.components import REGISTRY, all_components, load_component
from egovsim.errors import CatalogError, ConfigurationError
from egovsim.qa.cassette_cli import cassette_app
from egovsim.settings import Settings

if TYPE_CHECKING:
    from signing.ncalayer import NcaLayerSigner

app = typer.Typer(help="egovsim: a local simulator of Kazakhstan's e-government service chain.", no_args_is_help=True)
catalog_app = typer.Typer(help="Read the service catalogue (the 18 services of the seeds).", no_args_is_help=True)
clock_app = typer.Typer(help="Drive the simulated clock of a running egovsim.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
cert_app = typer.Typer(help="Issue and revoke certificates at a running egovsim's НУЦ.", no_args_is_help=True)
app.add_typer(clock_app, name="clock")
app.add_typer(cert_app, name="cert")
route_app = typer.Typer(help="Routes of a running egovsim's gateway (ШЭП): serviceId → target.", no_args_is_help=True)
app.add_typer(route_app, name="route")
registries_app = typer.Typer(help="The registries' data (ГБД ФЛ): a synthetic population.", no_args_is_help=True)
app.add_typer(registries_app, name="registries")
app.add_typer(cassette_app, name="cassette")
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Lang = Annotated[str, typer.Option("--lang", help="kk, ru or en")]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def make_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}", 2)


# -- servers -----------------------------------------------------------------------------------
def _serve(settings: Settings, names: list[str], banner: bool, with_signer: bool = False) -> None:
    from egovsim.app import build_app

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        application = build_app(settings, names)
    except (CatalogError, ConfigurationError) as exc:
        fail(str(exc))
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        access_log=settings.log_level == "debug",
        proxy_headers=False,  # the public address is a setting (EGOVSIM_PUBLIC_URL), not a header
    )
    server = QuietServer(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        signer: NcaLayerSigner | None = None
        if server.started:
            if with_signer and settings.ncalayer_enabled:
                signer = await _start_signer(settings, application)
            if banner:
                index = await _persona_keys(settings, application)
                print_banner(settings, application, index, signer)
            else:
                console.print(f"egovsim {'+'.join(names)} listening on {settings.effective_public_url}")
        try:
            await task
        finally:
            if signer is not None:
                await signer.stop()

    # uvicorn's own choice of loop: uvloop where it is installed (most of a protocol endpoint's cost
    # per request is the event loop's and the HTTP parser's)
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())
    if not server.started:
        fail(f"could not start on {settings.host}:{settings.port} (is the port taken?)")
    console.print("egovsim stopped.")


class QuietServer(uvicorn.Server):
    """uvicorn re-raises SIGINT after its graceful shutdown, which asyncio turns into a
    cancellation traceback; here the loop owns SIGINT/SIGTERM and Ctrl-C simply stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def _start_signer(settings: Settings, application: Any) -> NcaLayerSigner | None:
    """The NCALayer-protocol signer (signing/ncalayer.py) beside the server; a taken port (say, by
    the real NCALayer) is a warning and `up` goes on without it."""
    from signing.ncalayer import NcaLayerSigner

    signer = NcaLayerSigner(
        settings.data_dir,
        settings.ncalayer_host,
        settings.ncalayer_port,
        tls=settings.ncalayer_tls,
        timeout=settings.ncalayer_timeout_seconds,
        clock=application.state.kernel.clock.now,
    )
    try:
        await signer.start()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        err.print(
            f"[yellow]warning:[/] no signer: {settings.ncalayer_host}:{settings.ncalayer_port}: {reason} (is "
            "NCALayer running?). Set EGOVSIM_NCALAYER_PORT, or EGOVSIM_NCALAYER_ENABLED=false to silence this."
        )
        return None
    return signer


async def _persona_keys(settings: Settings, application: Any) -> dict[str, Any]:
    """Issue the demo personas' key files through the НУЦ's API, register the demo gateway
    senders, seed the personas' registry records (in-process HTTP) and write personas.json."""
    from egovsim import personas as demo

    kernel = application.state.kernel
    admin = {"Authorization": f"Bearer {kernel.admin_token}"}
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url=settings.effective_public_url, timeout=120) as http:
        rows = await demo.ensure_key_files(http, settings.data_dir, admin)
        senders = await demo.ensure_gateway_senders(http, admin, rows)
        registry = await demo.ensure_registry_records(http, admin)
        states = await demo.certificate_states(http, admin, rows)
    index = demo.build_index(rows, states, registry, senders)
    demo.write_index(settings.data_dir, index)
    return index


def print_banner(
    settings: Settings, application: Any, index: dict[str, Any], signer: NcaLayerSigner | None = None
) -> None:
    kernel = application.state.kernel
    base = settings.effective_public_url
    table = Table(title=f"egovsim {__version__} is up", title_justify="left", show_lines=False)
    table.add_column("component")
    table.add_column("URL")
    for component in all_components():
        for mount in component.mounts:
            table.add_row(component.name, f"{base}{mount}/")
    table.add_row("health", f"{base}/healthz")
    table.add_row("OpenAPI", f"{base}/docs")
    console.print(table)
    console.print(f"data folder   {settings.data_dir.resolve()}")
    console.print(f"database      {kernel.db.backend} ({_redact(kernel.db.url)})")
    token_source = "EGOVSIM_ADMIN_TOKEN" if settings.admin_token else settings.data_dir.resolve() / "admin-token"
    console.print(f"admin token   {token_source}")
    console.print(f"clock         {kernel.clock.now().isoformat()} ({kernel.clock.state.mode})")
    console.print(f"services      {len(kernel.services)} in the catalogue: {base}/api/catalog/services")
    people = Table(title="demo personas (password Qwerty12; AUTH and SIGN key files each)", title_justify="left")
    people.add_column("id", no_wrap=True)
    people.add_column("IIN", no_wrap=True)
    people.add_column("name")
    people.add_column("role")
    people.add_column("ГБД ФЛ")
    people.add_column("power of attorney")
    for p in index["personas"]:
        held = [w for w in p["powersOfAttorney"] if w["as"] == "representative"]
        granted = len(p["powersOfAttorney"]) - len(held)
        powers = ", ".join(f"{w['status'] or '?'} from {w['grantor']}" for w in held)
        powers = powers or (f"grants {granted}" if granted else "")
        people.add_row(p["id"], p["iin"], f"{p['surname']} {p['name']}", p["role"] or "", p["gbdfl"], powers)
    console.print(people)
    for o in index.get("hqoOperators", []):
        console.print(f"ХҚО operator  {o['login']} / {o['password']} ({o['name']}, {o['centre']['en']}) at {base}/hqo/")
    keys = (settings.data_dir / "keys").resolve()
    console.print(f"keys folder   {keys} (<id>/<file>.p12, PEM beside each; the CA chain in ca-chain.pem)")
    console.print(f"personas      {(settings.data_dir / 'personas.json').resolve()} (everything above, in full)")
    senders = sorted(s["senderId"] for s in index["gatewaySenders"])
    if senders:
        console.print(
            f"gateway       senders {', '.join(senders)} (password Qwerty12, their system certificates) "
            f"at {base}/shep/bip-sync-wss-gost/ and {base}/shep/bip-async/ (?wsdl)"
        )
    if signer is not None:
        console.print(f"signer        {signer.url} (NCALayer protocol; choose keys at {signer.chooser_url})")
    console.print("Press Ctrl-C to stop; a second `egovsim up` on this data folder keeps its data.")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="HTTP port [default 8080]")] = None,
    host: Annotated[str | None, typer.Option(help="interface [default 127.0.0.1]")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="data folder [default ./.egovsim]")] = None,
) -> None:
    """Start every component in one process on one port, SQLite in the data folder."""
    _serve(make_settings(port=port, host=host, data_dir=data_dir), list(REGISTRY), banner=True, with_signer=True)


@app.command()
def serve(
    component: Annotated[str, typer.Argument(help=f"one of: {', '.join(REGISTRY)}")],
    port: Annotated[int | None, typer.Option(help="HTTP port [default 8080]")] = None,
    host: Annotated[str | None, typer.Option(help="interface [default 127.0.0.1]")] = None,
) -> None:
    """Start one component (as docker-compose does, one container each)."""
    try:
        load_component(component)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    _serve(make_settings(port=port, host=host), [component], banner=False)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


# -- catalogue ----------------------------------------------------------------------------------
def _catalog(settings: Settings) -> Any:
    from egovsim.catalog.loader import ServiceCatalog

    try:
        return ServiceCatalog.load(settings.catalog_dir)
    except CatalogError as exc:
        fail(str(exc))


def _check_lang(lang: str) -> str:
    if lang not in ("kk", "ru", "en"):
        raise typer.BadParameter("use kk, ru or en", param_hint="--lang")
    return lang


@catalog_app.command("list")
def catalog_list(lang: Lang = "en", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the services: number, id, channels, title."""
    _check_lang(lang)
    services = _catalog(make_settings())
    if as_json:
        from egovsim.catalog.component import service_summary

        print(json.dumps([service_summary(s) for s in services], ensure_ascii=False, indent=2))
        return
    table = Table(show_lines=False)
    for col in ("#", "id", "office", "ХҚО", "portal"):
        table.add_column(col, no_wrap=True)
    table.add_column("title")
    for s in services:
        ch = s.channels
        table.add_row(
            str(s.number),
            s.id,
            *("yes" if c.available else "" for c in (ch.office, ch.hqo, ch.portal)),
            s.titles.get(lang),
        )
    console.print(table)


@catalog_app.command("show")
def catalog_show(
    service_id: Annotated[str, typer.Argument(metavar="ID")],
    lang: Lang = "en",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one service: provider, deadline, internal steps with durations, chains."""
    _check_lang(lang)
    services = _catalog(make_settings())
    s = services.get(service_id)
    if s is None:
        fail(f"SERVICE_NOT_FOUND: no service {service_id!r}; `egovsim catalog list` shows the ids")
    if as_json:
        print(json.dumps(s.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{s.number}. {s.titles.get(lang)}[/]  ({s.id})")
    console.print(f"provider: {s.provider.get(lang)}")
    console.print(f"deadline: {s.overall_deadline.text.get(lang)}")
    for route in s.routes:
        table = Table(title=f"route {route.id}: {route.name.get(lang)}", title_justify="left")
        for col in ("step", "actor", "duration", "action"):
            table.add_column(col)
        for st in route.steps:
            d = st.duration
            dur = (
                "not stated"
                if d is None
                else f"{d.value}{'-' + str(d.max_value) if d.max_value else ''} {d.unit.value}"
                + (f" ({d.qualifier.value})" if d.qualifier else "")
            )
            table.add_row(st.n, st.actor.en, dur, st.action.get(lang))
        console.print(table)
    for name, chain in (("portal", s.portal_chain), ("ХҚО", s.hqo_chain)):
        if chain:
            table = Table(title=f"{name} chain", title_justify="left")
            for col in ("label", "systems", "on failure", "code"):
                table.add_column(col, no_wrap=True)
            table.add_column("what happens")
            for st in chain.steps:
                table.add_row(
                    st.printed or st.label,
                    ", ".join(st.systems),
                    st.on_failure or "",
                    st.refusal_code or "",
                    st.text.get(lang),
                )
            console.print(table)


@app.command("diagram")
def diagram(
    service_id: Annotated[str, typer.Argument(metavar="SERVICE")],
    kind: Annotated[str, typer.Option("--kind", help="interaction or business")] = "interaction",
    fmt: Annotated[str, typer.Option("--format", help="svg, mermaid or bpmn")] = "svg",
    lang: Lang = "kk",
    chain: Annotated[str | None, typer.Option("--chain", help="portal, hqo or office [default: the first]")] = None,
    route: Annotated[str | None, typer.Option("--route", help="a route id [default: the first]")] = None,
    out: Annotated[Path | None, typer.Option("-o", "--output", help="file to write [default: stdout]")] = None,
) -> None:
    """Draw a service's interaction or business-process diagram from the catalogue (no server needed)."""
    from egovsim.diagrams import render
    from egovsim.errors import CodedError

    _check_lang(lang)
    service = _catalog(make_settings()).get(service_id)
    if service is None:
        fail(f"SERVICE_NOT_FOUND: no service {service_id!r}; `egovsim catalog list` shows the ids")
    try:
        text = render(service, kind, fmt, lang, chain=chain, route=route)
    except CodedError as exc:
        fail(f"{exc.code}: {exc.detail}", 2)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    err.print(f"wrote {out} ({len(text.encode('utf-8'))} bytes)")


# -- clock ---------------------------------------------------------------------------------------
def connection(url: str | None, token: str | None, data_dir: Path | None, *, admin: bool) -> tuple[str, dict[str, str]]:
    """(base URL, headers) of the running egovsim a command talks to: ``--url``, ``EGOVSIM_URL``,
    the settings' public URL; ``--token``, ``EGOVSIM_ADMIN_TOKEN``, the data folder's
    ``admin-token``. Without a token an ``admin`` command ends."""
    settings = make_settings(data_dir=data_dir)
    base = (url or os.environ.get("EGOVSIM_URL") or settings.effective_public_url).rstrip("/")
    token = token or (settings.admin_token.get_secret_value() if settings.admin_token else None)
    token_file = settings.data_dir / "admin-token"
    if not token and token_file.exists():
        token = token_file.read_text(encoding="utf-8").strip()
    if not token and admin:
        fail(f"no admin token: pass --token, set EGOVSIM_ADMIN_TOKEN, or run where {token_file} exists")
    return base, {"Authorization": f"Bearer {token}"} if token else {}


def _api_call(
    method: str, path: str, url: str | None, token: str | None, data_dir: Path | None, body: Any = None,
    admin: bool = True,
) -> Any:  # fmt: skip
    """Call a running egovsim's API as an operator's tool does; errors end the command."""
    base, headers = connection(url, token, data_dir, admin=admin)
    if not admin:
        headers = {}  # a public endpoint: no token goes with it
    try:
        response = httpx.request(method, f"{base}{path}", json=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        fail(f"egovsim is not reachable at {base} ({type(exc).__name__}); start it with `egovsim up`")
    data = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    if response.status_code >= 400:
        fail(
            f"{data.get('code', response.status_code)}: {data.get('message', response.text)}"
            + (f" ({data['detail']})" if data.get("detail") else "")
        )
    return data


def _clock_call(
    method: str, path: str, url: str | None, token: str | None, data_dir: Path | None, body: Any = None
) -> None:
    data = _api_call(method, f"/api/catalog/clock{path}", url, token, data_dir, body, admin=method == "POST")
    console.print(f"{data['now']}  mode={data['mode']}  rate={data['rate']}")


@clock_app.command("show")
def clock_show(url: UrlOpt = None) -> None:
    """Print the simulated time and mode."""
    _clock_call("GET", "", url, None, None)


@clock_app.command("freeze")
def clock_freeze(
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 instant to freeze at [default: now]")] = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Stop the clock (now, or at an instant)."""
    if at:
        _validate_instant(at)
    _clock_call("POST", "/freeze", url, token, data_dir, {"at": at} if at else None)


@clock_app.command("advance")
def clock_advance(
    by: Annotated[str, typer.Argument(help="90m, 2h, 1h30m, 3d, 1w, 3wd (working days), PT1H30M")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Move the clock forward."""
    from egovsim.clock import parse_advance

    try:
        parse_advance(by)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="BY") from None
    _clock_call("POST", "/advance", url, token, data_dir, {"by": by})


@clock_app.command("set")
def clock_set(
    at: Annotated[str, typer.Argument(help="ISO 8601 instant, e.g. 2026-03-20T10:00:00+05:00")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Move the clock to an instant (keeps its mode)."""
    _validate_instant(at)
    _clock_call("POST", "/set", url, token, data_dir, {"at": at})


@clock_app.command("resume")
def clock_resume(url: UrlOpt = None, token: TokenOpt = None, data_dir: DataDirOpt = None) -> None:
    """Back to real time."""
    _clock_call("POST", "/resume", url, token, data_dir)


@clock_app.command("speed")
def clock_speed(
    factor: Annotated[float, typer.Argument(help="simulated seconds per real second")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run the clock faster than real time."""
    if not 0 < factor <= 1_000_000:
        raise typer.BadParameter("a speed factor is above 0 and at most 1000000", param_hint="FACTOR")
    _clock_call("POST", "/speed", url, token, data_dir, {"factor": factor})


# -- certificates (НУЦ) ----------------------------------------------------------------------------
REASONS = (
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "privilegeWithdrawn", "aACompromise",
)  # fmt: skip


def _cert_line(c: dict[str, Any]) -> None:
    reason = f" ({c['reason']})" if c.get("reason") else ""
    console.print(f"{c['serial']}  {c['kind']:<4}  {c['status']}{reason}  {c['subject']}  until {c['notAfter']}")


@cert_app.command("issue")
def cert_issue(
    iin: Annotated[str | None, typer.Option("--iin", help="IIN of the holder (12 digits)")] = None,
    bin_: Annotated[str | None, typer.Option("--bin", help="BIN of the organisation (12 digits)")] = None,
    kind: Annotated[str, typer.Option("--kind", help="auth or sign")] = "sign",
    role: Annotated[str, typer.Option("--role", help="individual, ceo, employee or system")] = "individual",
    surname: Annotated[str | None, typer.Option("--surname")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    patronymic: Annotated[str | None, typer.Option("--patronymic")] = None,
    organization: Annotated[str | None, typer.Option("--organization")] = None,
    system_name: Annotated[str | None, typer.Option("--system-name", help="for --role system")] = None,
    valid_from: Annotated[str | None, typer.Option("--valid-from", help="ISO 8601 [default: now]")] = None,
    valid_to: Annotated[str | None, typer.Option("--valid-to", help="ISO 8601 [default: one year on]")] = None,
    password: Annotated[str, typer.Option("--password", help="of the PKCS#12 file")] = "Qwerty12",
    out: Annotated[Path, typer.Option("--out", help="folder for the .p12 and PEM files")] = Path("."),
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Issue a certificate in the NCA profile and save its key file (.p12) and PEM files."""
    if kind not in ("auth", "sign"):
        raise typer.BadParameter("auth or sign", param_hint="--kind")
    if role not in ("individual", "ceo", "employee", "system"):
        raise typer.BadParameter("individual, ceo, employee or system", param_hint="--role")
    for moment in (valid_from, valid_to):
        if moment:
            _validate_instant(moment)
    body = {
        "profile": role, "kind": kind, "iin": iin, "bin": bin_, "surname": surname, "name": name,
        "patronymic": patronymic, "organization": organization, "system_name": system_name,
        "not_before": valid_from, "not_after": valid_to, "password": password,
    }  # fmt: skip
    data = _api_call("POST", "/nca/api/certificates", url, token, data_dir, {k: v for k, v in body.items() if v})
    import base64

    out.mkdir(parents=True, exist_ok=True)
    p12 = out / data["fileName"]
    p12.write_bytes(base64.b64decode(data["pkcs12"]))
    stem = p12.stem
    (out / f"{stem}.crt.pem").write_text(data["certificate"], encoding="utf-8")
    (out / f"{stem}.key.pem").write_text(data["privateKey"], encoding="utf-8")
    (out / "ca-chain.pem").write_text(data["chain"], encoding="utf-8")
    _cert_line(data)
    console.print(f"key file      {p12.resolve()} (password {password})")
    console.print(f"PEM           {out / (stem + '.crt.pem')}, {out / (stem + '.key.pem')}, {out / 'ca-chain.pem'}")


@cert_app.command("revoke")
def cert_revoke(
    serial: Annotated[str, typer.Argument(help="serial in hex, as openssl prints it")],
    reason: Annotated[str, typer.Option("--reason", help=", ".join(REASONS))] = "unspecified",
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a certificate (final) with an RFC 5280 reason."""
    if reason not in REASONS:
        raise typer.BadParameter(f"one of {', '.join(REASONS)} (use `cert hold` for certificateHold)")
    _cert_line(
        _api_call("POST", f"/nca/api/certificates/{_serial(serial)}/revoke", url, token, data_dir, {"reason": reason})
    )


@cert_app.command("hold")
def cert_hold(
    serial: Annotated[str, typer.Argument(help="serial in hex")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Suspend a certificate (certificateHold)."""
    _cert_line(_api_call("POST", f"/nca/api/certificates/{_serial(serial)}/hold", url, token, data_dir))


@cert_app.command("release")
def cert_release(
    serial: Annotated[str, typer.Argument(help="serial in hex")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Lift a hold."""
    _cert_line(_api_call("POST", f"/nca/api/certificates/{_serial(serial)}/release", url, token, data_dir))


@cert_app.command("list")
def cert_list(
    iin: Annotated[str | None, typer.Option("--iin")] = None,
    bin_: Annotated[str | None, typer.Option("--bin")] = None,
    status: Annotated[str | None, typer.Option("--status", help="good, revoked or hold")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List issued certificates."""
    query = "&".join(f"{k}={v}" for k, v in (("iin", iin), ("bin", bin_), ("status", status)) if v)
    data = _api_call("GET", f"/nca/api/certificates?{query}", url, token, data_dir)
    if as_json:
        print(json.dumps(data["certificates"], ensure_ascii=False, indent=2))
        return
    for c in data["certificates"]:
        _cert_line(c)


# -- gateway routes ------------------------------------------------------------------------------
def _route_line(r: dict[str, Any]) -> None:
    signatures = "+".join(
        k for k, on in (("transport", r["transportSignature"]), ("business", r["businessSignature"])) if on
    )
    console.print(
        f"{r['serviceId']}  → {r['target']}  {r['mode']}  "
        f"signatures={signatures or 'none'}  timeout={r['timeoutSeconds']}s"
    )


@route_app.command("add")
def route_add(
    service_id: Annotated[str, typer.Argument(help="the serviceId senders put in requestInfo")],
    target: Annotated[str, typer.Argument(help="an http(s) URL of the provider system, or component:<name>:/<path>")],
    mode: Annotated[str, typer.Option("--mode", help="sync or async")] = "sync",
    transport_signature: Annotated[bool, typer.Option("--transport-signature/--no-transport-signature")] = True,
    business_signature: Annotated[bool, typer.Option("--business-signature/--no-business-signature")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds the gateway waits for the provider")] = 30.0,
    title: Annotated[str | None, typer.Option("--title", help="the provider system's name (in SCE909 texts)")] = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Add or replace a route."""
    if mode not in ("sync", "async"):
        raise typer.BadParameter("sync or async", param_hint="--mode")
    body = {
        "serviceId": service_id,
        "target": target,
        "mode": mode,
        "transportSignature": transport_signature,
        "businessSignature": business_signature,
        "timeoutSeconds": timeout,
        "title": title,
    }
    _route_line(_api_call("POST", "/shep/api/routes", url, token, data_dir, body))


@route_app.command("list")
def route_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List the routes."""
    data = _api_call("GET", "/shep/api/routes", url, token, data_dir)
    if as_json:
        print(json.dumps(data["routes"], ensure_ascii=False, indent=2))
        return
    for r in data["routes"]:
        _route_line(r)


@route_app.command("remove")
def route_remove(
    service_id: Annotated[str, typer.Argument(help="the serviceId of the route")],
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Remove a route: senders then get SCE004 for its serviceId."""
    _api_call("DELETE", f"/shep/api/routes/{service_id}", url, token, data_dir)
    console.print(f"removed {service_id}")


# -- registries ----------------------------------------------------------------------------------
@registries_app.command("generate")
def registries_generate(
    persons: Annotated[
        int,
        typer.Option(
            "--persons", min=1, help="how many persons to write (at most about 186 million: IIN serials per birth date)"
        ),
    ],
    seed: Annotated[int, typer.Option("--seed", min=0, help="same seed and --persons: the same persons")] = 0,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="[default: EGOVSIM_DATABASE_URL, else SQLite in DATA_DIR]")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="data folder [default ./.egovsim]")] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="generating processes (0: the writer's own)")] = 2,
) -> None:
    """Write a synthetic ГБД ФЛ population into the database, in one transaction (all or nothing).

    It may run while the simulator is up on the same database, which keeps answering reads. On
    SQLite the load's one long write transaction holds the app's writes back meanwhile (an admin
    API insert, a cabinet action): they wait, and fail after the app's 10 s busy timeout. On
    PostgreSQL only an insert of an IIN being loaded waits. On failure nothing is written and
    the reason comes as one line (exit code 1).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from egovsim.errors import EgovsimError
    from mock_registries.bulk import load_persons

    settings = make_settings(database_url=database_url, data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("persons"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("persons", total=persons)
        try:
            result = load_persons(
                settings.effective_database_url, persons, seed, workers=workers,
                progress=lambda n: bar.advance(task, n),
            )  # fmt: skip
        except EgovsimError as exc:  # PopulationExists, LoadError: nothing was written
            fail(str(exc))
    console.print(f"persons written  {result.persons:,} (seed {seed})")
    console.print(f"seconds          {result.seconds:.1f}")
    console.print(f"rows/s           {result.rate:,.0f}")
    where = "SQLite file with WAL" if result.backend == "sqlite" else "PostgreSQL registry_persons with its index"
    console.print(f"database size    {result.size_bytes / 2**20:,.1f} MiB ({where})")


def _serial(text: str) -> str:
    from egovsim.pki import parse_serial, serial_hex

    try:
        return serial_hex(parse_serial(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="SERIAL") from None


def _validate_instant(text: str) -> None:
    from egovsim.clock import parse_instant

    try:
        parse_instant(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("replay")
def replay(
    paths: Annotated[list[Path] | None, typer.Argument(help="scenario files (YAML) or folders of them")] = None,
    all_: Annotated[bool, typer.Option("--all", help="the built-in library (egovsim/data/scenarios)")] = False,
    target: Annotated[
        str | None, typer.Option("--target", help="a running egovsim's URL [default: in-process]")
    ] = None,
    token: Annotated[str | None, typer.Option("--token", help="the target's admin token")] = None,
    lang: Lang = "en",
    junit: Annotated[Path | None, typer.Option("--junit", help="write JUnit XML here")] = None,
    html_file: Annotated[Path | None, typer.Option("--html", help="write the HTML report here")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="write the JSON report here")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="worker processes (in-process)")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="the seed personas are drawn from")] = 7,
    schema: Annotated[bool, typer.Option("--schema", help="print the scenario JSON Schema and exit")] = False,
) -> None:
    """Replay QA scenarios: each on a simulator of its own (or against --target), with a report;
    the exit code is 1 when any scenario fails."""
    from egovsim.qa import report as reports
    from egovsim.qa import runner
    from egovsim.qa.scenario import library, library_dir, schema_text

    if schema:
        sys.stdout.write(schema_text())
        return
    _check_lang(lang)
    files = library() if all_ else []
    for path in paths or []:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        fail(f"no scenarios: give files or folders, or --all (the library in {library_dir()})", code=2)
    if target and workers > 1:
        err.print("against --target the scenarios run one after another (they move its one clock)")
    if target and not token:
        token = os.environ.get("EGOVSIM_ADMIN_TOKEN")
    try:
        result = runner.run(files, seed=seed, workers=1 if target else workers, lang=lang, target=target,
                            token=token, diagrams=html_file is not None)  # fmt: skip
    except CatalogError as exc:
        fail(str(exc), code=2)
    console.print(reports.console(result), markup=False)
    if junit:
        junit.write_bytes(reports.junit(result))
    if html_file:
        html_file.write_text(reports.page(result, lang), encoding="utf-8")
    if json_file:
        json_file.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if result["failed"]:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
