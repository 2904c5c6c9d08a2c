"""``egovsim cassette``: record a running egovsim's gateway traffic from its message journal into
a cassette file, and replay a cassette against a gateway (:mod:`egovsim.qa.cassette`).

``egovsim.cli`` mounts ``cassette_app``, so this module takes the CLI's helpers (``connection``,
``fail``, the consoles) when a command runs, never at import: importing them here would make the
two modules import each other (and ``python -m egovsim.cli`` load the CLI twice). The options it
shares with the CLI's other commands come from :mod:`egovsim.cli_options`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer

from egovsim.cli_options import DataDirOpt, TokenOpt, UrlOpt
from egovsim.personas import DEFAULT_PASSWORD as DEFAULT_KEY_PASSWORD  # the НУЦ's key files'
from egovsim.qa.cassette import (
    Cassette,
    CassetteError,
    ReplayReport,
    SenderCredentials,
    read_cassette,
    record,
    replay,
    write_cassette,
)

cassette_app = typer.Typer(
    help="Record the gateway's traffic from its journal into a cassette, and replay it.", no_args_is_help=True
)

T = TypeVar("T")


def _instant(text: str | None, option: str) -> datetime | None:
    from egovsim.clock import parse_instant

    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``SENDER=VALUE`` options by sender."""
    pairs = {}
    for value in values:
        sender, sep, rest = value.partition("=")
        if not sep or not sender or not rest:
            raise typer.BadParameter(f"{value!r} is not SENDER=VALUE", param_hint=option)
        pairs[sender] = rest
    return pairs


def _credentials(passwords: list[str], keys: list[str], key_password: str) -> dict[str, SenderCredentials]:
    """``--password SENDER=PASSWORD`` and ``--key SENDER=FILE.p12`` as each sender's credentials."""
    given, files = _pairs(passwords, "--password"), _pairs(keys, "--key")
    if missing := sorted(set(files) - set(given)):
        raise typer.BadParameter(f"a key without a password for {', '.join(missing)}", param_hint="--key")
    credentials = {}
    for sender, password in given.items():
        if sender not in files:
            credentials[sender] = SenderCredentials(password)
            continue
        try:
            credentials[sender] = SenderCredentials.from_pkcs12(
                password, Path(files[sender]).read_bytes(), key_password
            )
        except (OSError, CassetteError) as exc:
            raise typer.BadParameter(f"{files[sender]}: {exc}", param_hint="--key") from None
    return credentials


@cassette_app.command("record")
def record_command(
    out: Annotated[Path, typer.Option("-o", "--output", help="the cassette file to write (YAML)")],
    since: Annotated[str | None, typer.Option("--since", help="received at or after (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="received at or before (ISO 8601)")] = None,
    from_id: Annotated[int | None, typer.Option("--from-id", min=1, help="the first journal id to take")] = None,
    to_id: Annotated[int | None, typer.Option("--to-id", min=1, help="the last journal id to take")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="only this senderId's calls")] = None,
    service: Annotated[str | None, typer.Option("--service", help="only calls for this serviceId")] = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Record the integrators' calls in the gateway's message journal into a cassette."""
    from egovsim.cli import connection, console, err

    first, last = _instant(since, "--since"), _instant(until, "--until")
    base, headers = connection(url, token, data_dir, admin=True)

    async def run() -> Cassette:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            return await record(
                client, since=first, until=last, first_id=from_id, last_id=to_id, sender=sender, service=service
            )

    cassette = _run(run(), base)
    write_cassette(cassette, out)
    console.print(f"recorded {len(cassette.interactions)} interaction(s) from {base} into {out}")
    for skipped in cassette.skipped:
        err.print(f"skipped journal #{skipped.journal_id} {skipped.operation}: {skipped.reason}", markup=False)


@cassette_app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help="a cassette written by `egovsim cassette record`")],
    passwords: Annotated[
        list[str] | None,
        typer.Option("--password", help="SENDER=PASSWORD: the journal masks passwords (repeat per sender)"),
    ] = None,
    keys: Annotated[
        list[str] | None,
        typer.Option("--key", help="SENDER=FILE.p12: the sender's system key, to sign again (repeat per sender)"),
    ] = None,
    key_password: Annotated[str, typer.Option("--key-password", help="of the key files")] = DEFAULT_KEY_PASSWORD,
    queue_operations: Annotated[
        bool, typer.Option("--queue-operations", help="replay getMessages and sendDeliveryNotification too")
    ] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Replay a cassette and compare each answer with the recorded one (ids, timestamps and
    signatures aside). Exit code 0 when every replayed answer is the same, 1 when any differs or
    nothing could be replayed. With an admin token each result names the replayed call's journal
    entry."""
    from egovsim.cli import connection, console, fail

    try:
        cassette = read_cassette(file)
    except CassetteError as exc:
        fail(str(exc), 2)
    credentials = _credentials(passwords or [], keys or [], key_password)
    base, headers = connection(url, token, data_dir, admin=False)  # a token adds journal references

    async def run() -> ReplayReport:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            return await replay(client, cassette, credentials=credentials, queue_operations=queue_operations)

    report = _run(run(), base)
    console.print(report.render(), markup=False)
    if not report.passed:
        raise typer.Exit(1)


def _run(work: Coroutine[Any, Any, T], base: str) -> T:
    """Run a command's work; a gateway out of reach or a journal refusal ends it with one line."""
    from egovsim.cli import fail

    try:
        return asyncio.run(work)
    except httpx.HTTPError as exc:
        fail(f"egovsim is not reachable at {base} ({type(exc).__name__}); start it with `egovsim up`")
    except CassetteError as exc:
        fail(str(exc))
