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
from typing import Annotated, Any, NoReturn

import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from egovsim import __version__
from egovsim.components import REGISTRY, all_components, load_component
from egovsim.errors import CatalogError, ConfigurationError
from egovsim.settings import Settings

app = typer.Typer(help="egovsim: a local simulator of Kazakhstan's e-government service chain.", no_args_is_help=True)
catalog_app = typer.Typer(help="Read the service catalogue (the 18 services of the seeds).", no_args_is_help=True)
clock_app = typer.Typer(help="Drive the simulated clock of a running egovsim.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(clock_app, name="clock")
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
def _serve(settings: Settings, names: list[str], banner: bool) -> None:
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
    )
    server = QuietServer(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            if banner:
                print_banner(settings, application)
            else:
                console.print(f"egovsim {'+'.join(names)} listening on {settings.effective_public_url}")
        await task

    asyncio.run(main())
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


def print_banner(settings: Settings, application: Any) -> None:
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
    personas = settings.data_dir / "personas.json"
    if personas.exists():
        console.print(f"personas      {personas.resolve()}")
    else:
        console.print("personas      none yet: demo citizens arrive with the registries component")
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
    _serve(make_settings(port=port, host=host, data_dir=data_dir), list(REGISTRY), banner=True)


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


# -- clock ---------------------------------------------------------------------------------------
UrlOpt = Annotated[str | None, typer.Option("--url", help="egovsim to talk to [default: the local one]")]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="admin token [default: EGOVSIM_ADMIN_TOKEN or DATA_DIR/admin-token]")
]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="data folder holding admin-token")]


def _clock_call(
    method: str, path: str, url: str | None, token: str | None, data_dir: Path | None, body: Any = None
) -> None:
    settings = make_settings(data_dir=data_dir)
    base = (url or os.environ.get("EGOVSIM_URL") or settings.effective_public_url).rstrip("/")
    headers = {}
    if method == "POST":
        token = token or (settings.admin_token.get_secret_value() if settings.admin_token else None)
        token_file = settings.data_dir / "admin-token"
        if not token and token_file.exists():
            token = token_file.read_text(encoding="utf-8").strip()
        if not token:
            fail(f"no admin token: pass --token, set EGOVSIM_ADMIN_TOKEN, or run where {token_file} exists")
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(method, f"{base}/api/catalog/clock{path}", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        fail(f"egovsim is not reachable at {base} ({type(exc).__name__}); start it with `egovsim up`")
    data = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    if response.status_code >= 400:
        fail(
            f"{data.get('code', response.status_code)}: {data.get('message', response.text)}"
            + (f" ({data['detail']})" if data.get("detail") else "")
        )
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


def _validate_instant(text: str) -> None:
    from egovsim.clock import parse_instant

    try:
        parse_instant(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
