"""Loading a synthetic ЖТ МДҚ / ГБД ФЛ population (:mod:`mock_registries.generate`) fast into the
configured database, SQLite or PostgreSQL.

A load is one transaction: it either writes every person or, on any failure or Ctrl-C, none,
so a database never holds half a population and the same command can simply be run again.
Before it starts, the tables are migrated as the app does (:meth:`egovsim.storage.Database.migrate`)
and the persons already there are checked: the load is refused (:class:`PopulationExists`,
nothing written) when any IIN it would write is taken. Hand-made records (the demo personas,
serials 0000–0999) never are, so a population can join a simulator that is already in use, even
while it runs; a second population cannot (``--append`` would need a second, disjoint IIN range:
not offered). Beside a running simulator the app's reads go on; on SQLite the load's one long
write transaction holds the app's writes back meanwhile (they wait up to the app's busy
timeout, 10 s, then fail), on PostgreSQL only an insert of an IIN being loaded waits. Every
failure comes out as a :class:`LoadError` (or :class:`PopulationExists`) with a one-line
message; nothing is written.

Generation runs on a pool of processes (``workers``), each making ranges of units of the
generator in its own random streams; the writer takes the ranges back in order, so the rows
reach the clustered primary key in ascending IIN order (appended, never split):

- SQLite: ``executemany`` of each range inside the one transaction, with loader-time pragmas
  (``synchronous=OFF``, a 256 MB page cache, a rollback journal instead of WAL, which holds
  only the few pages that existed before; WAL is restored afterwards). While another
  connection has the file open (a running simulator) the journal mode cannot change: the load
  stays in WAL, and waits (``busy_timeout``) for the app's short write transactions;
- PostgreSQL: one ``COPY … FROM STDIN`` (text format) fed with blocks the workers render.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from egovsim.errors import EgovsimError
from egovsim.storage import Database, sync_url
from egovsim.tables import SCHEMA as KERNEL_SCHEMA
from mock_registries.generate import AS_OF, COLUMNS, PersonGenerator, Row
from mock_registries.tables import SCHEMA

TABLE = "registry_persons"
CHUNK_ROWS = 20_000
BUSY_TIMEOUT_S = 60  # how long a SQLite load waits for another writer's lock before it gives up
_CHECKED_AT_MOST = 1_000_000  # existing persons the collision check reads; beyond, a load is refused
_INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_COPY = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"


class LoadError(EgovsimError):
    """The load could not run or failed (the database, the URL, too many persons); nothing was written."""


class PopulationExists(LoadError):
    """The registry already holds persons this load would collide with; nothing was written."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    persons: int
    seconds: float
    backend: str
    size_bytes: int  # the database file(s) on SQLite, the table with its index on PostgreSQL

    @property
    def rate(self) -> float:
        return self.persons / self.seconds if self.seconds else 0.0


# -- generation on a pool --------------------------------------------------------------------------
_generators: dict[tuple[int, int, date], PersonGenerator] = {}


def _generator(seed: int, persons: int, as_of: date) -> PersonGenerator:
    key = (seed, persons, as_of)
    if key not in _generators:
        _generators.clear()
        _generators[key] = PersonGenerator(seed, persons, as_of)
    return _generators[key]


def _copy_text(rows: list[Row]) -> bytes:
    """COPY's text format: NULL ``\\N``, booleans ``t``/``f``. Generated values never hold a tab,
    newline or backslash (names and streets are from fixed lists; tested), so nothing is escaped."""
    lines = [
        "\t".join(["\\N" if v is None else v if v.__class__ is str else ("t" if v else "f") for v in row])
        for row in rows
    ]
    lines.append("")
    return "\n".join(lines).encode()


def _make_range(job: tuple[int, int, date, int, int, str]) -> tuple[int, Any]:
    seed, persons, as_of, lo, hi, form = job
    rows = _generator(seed, persons, as_of).rows(lo, hi)
    return len(rows), (_copy_text(rows) if form == "copy" else rows)


def generate_ranges(
    seed: int, persons: int, *, form: str = "rows", workers: int = 2, chunk_rows: int = CHUNK_ROWS,
    as_of: date = AS_OF,
) -> Iterator[tuple[int, Any]]:  # fmt: skip
    """``(count, payload)`` of each range of units, in order: rows (``form="rows"``) or COPY text
    (``"copy"``), made by ``workers`` processes (0: in this one). At most two ranges per worker
    wait for the consumer, so a slow writer holds the generators back instead of filling memory."""
    ranges = _generator(seed, persons, as_of).chunks(chunk_rows)
    jobs = ((seed, persons, as_of, lo, hi, form) for lo, hi in ranges)
    if workers <= 0:
        yield from map(_make_range, jobs)
        return
    # forkserver: the workers do not inherit the caller's threads (a progress bar's) or connections
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mock_registries.generate"])
    with context.Pool(workers) as pool:
        pending: deque[Any] = deque()
        for job in jobs:
            pending.append(pool.apply_async(_make_range, (job,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


# -- the load ---------------------------------------------------------------------------------------
def load_persons(
    database_url: str,
    persons: int,
    seed: int = 0,
    *,
    workers: int = 2,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    as_of: date = AS_OF,
) -> LoadResult:
    """Migrate, check, and write ``persons`` synthetic persons in one transaction.

    ``database_url`` is the app's (``Settings.effective_database_url``, async driver) or a plain
    SQLAlchemy URL; ``progress`` is called with the number of persons of each range written.
    Raises :class:`PopulationExists` (nothing written) when an IIN of the load is already taken,
    :class:`LoadError` (nothing written) on any other failure: too many persons, a bad URL, a
    database that cannot be reached or stays locked, a person added by another writer meanwhile.
    """
    started = time.perf_counter()
    try:
        generator = _generator(seed, persons, as_of)
    except ValueError as exc:  # too many persons for the IIN serials of a birth date
        raise LoadError(str(exc)) from None
    where = _describe(database_url)
    try:
        db = Database(_async_url(database_url))
        url = sync_url(db.url)
        path = _sqlite_path(url) if db.backend == "sqlite" else ""
        try:
            db.migrate([KERNEL_SCHEMA, SCHEMA])  # the tables exist as the app makes them
        finally:
            db.engine.sync_engine.dispose()  # never connected: migrate uses an engine of its own
        if path:
            _load_sqlite_file(path, generator, seed, persons, workers, chunk_rows, as_of, progress)
        else:
            engine = create_engine(url)
            try:
                with contextlib.closing(engine.raw_connection()) as raw:
                    conn: Any = raw.driver_connection  # psycopg.Connection
                    with conn.cursor() as cur:
                        cur.execute(f"SELECT iin FROM {TABLE} LIMIT %s", (_CHECKED_AT_MOST + 1,))
                        _refuse_collisions(generator, [r[0] for r in cur.fetchall()])
                    conn.commit()
                    ranges = generate_ranges(
                        seed, persons, form="copy", workers=workers, chunk_rows=chunk_rows, as_of=as_of
                    )
                    _load_postgresql(conn, ranges, progress)
            finally:
                engine.dispose()
        size = database_size(database_url)
    except LoadError:
        raise
    except EgovsimError as exc:  # a URL the app cannot use (its message would show the password)
        raise LoadError(_explain(exc.__cause__, where) if exc.__cause__ else str(exc)) from None
    except _database_errors() as exc:
        raise LoadError(_explain(exc, where)) from exc
    return LoadResult(persons, time.perf_counter() - started, db.backend, size)


def _load_sqlite_file(
    path: str,
    generator: PersonGenerator,
    seed: int,
    persons: int,
    workers: int,
    chunk_rows: int,
    as_of: date,
    progress: Callable[[int], None] | None,
) -> None:
    journal = _leave_wal(path)
    # timeout: the busy timeout, so the load waits for a running simulator's short write transactions
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)) as con:
        try:
            existing = con.execute(f"SELECT iin FROM {TABLE} LIMIT ?", (_CHECKED_AT_MOST + 1,))
            _refuse_collisions(generator, [r[0] for r in existing])
            ranges = generate_ranges(seed, persons, workers=workers, chunk_rows=chunk_rows, as_of=as_of)
            _load_sqlite(con, ranges, progress)
        finally:
            # back to the app's WAL (if a connection opened meanwhile holds the file, its connect does it)
            if journal == "wal":
                with contextlib.suppress(sqlite3.OperationalError):
                    con.execute("PRAGMA journal_mode=WAL")


def _leave_wal(path: str) -> str:
    """Switch the file from WAL to a rollback journal, which keeps only the pages that existed
    before (the table is appended to; WAL would write every new page twice); returns the mode
    it had. While another connection has the file open (a running simulator) SQLite refuses at
    once: the load then stays in WAL.

    Done on a connection of its own, closed at once: a connection that has read in WAL mode
    keeps pages in its cache that the switch's checkpoint may have made stale (another writer's
    commit in between would be overwritten), so the load opens a fresh one.
    """
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        journal = str(con.execute("PRAGMA journal_mode").fetchone()[0])
        if journal == "wal":
            with contextlib.suppress(sqlite3.OperationalError):
                con.execute("PRAGMA journal_mode=DELETE")  # one transaction: as cheap as TRUNCATE
        return journal


def _refuse_collisions(generator: PersonGenerator, existing: list[str]) -> None:
    if not existing:
        return
    if len(existing) > _CHECKED_AT_MOST:
        raise PopulationExists(
            f"the registry already holds more than {_CHECKED_AT_MOST:,} persons (a generated population?); "
            "load into a fresh database"
        )
    taken = generator.collisions(existing)
    if taken:
        raise PopulationExists(
            f"the registry already holds {len(taken):,} of the IINs this load would write (e.g. {taken[0]}): "
            f"a population was loaded here before; nothing was written. Load into a fresh database "
            f"(--data-dir / --database-url)"
        )


def _load_sqlite(
    con: sqlite3.Connection, ranges: Iterator[tuple[int, Any]], progress: Callable[[int], None] | None
) -> None:
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    try:
        con.execute("BEGIN IMMEDIATE")  # waits (busy timeout) for another writer's transaction
        try:
            for count, rows in ranges:
                con.executemany(_INSERT, rows)
                if progress:
                    progress(count)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    finally:
        con.execute("PRAGMA synchronous=NORMAL")


def _load_postgresql(conn: Any, ranges: Iterator[tuple[int, Any]], progress: Callable[[int], None] | None) -> None:
    try:
        with conn.cursor() as cur, cur.copy(_COPY) as copy:
            for count, block in ranges:
                copy.write(block)
                if progress:
                    progress(count)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


# -- helpers ----------------------------------------------------------------------------------------
def _async_url(url: str) -> str:
    """The app's URL form (async drivers), from a plain SQLAlchemy URL or the app's own."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise LoadError("a population is loaded into a SQLite file, not an in-memory database")
    return os.path.abspath(path)


def _database_errors() -> tuple[type[BaseException], ...]:
    """What a database, its driver or its URL raise: turned into a :class:`LoadError`."""
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, SQLAlchemyError, OSError, ValueError)
    try:
        import psycopg
    except ImportError:  # SQLite only
        return errors
    return (*errors, psycopg.Error)


def _describe(database_url: str) -> str:
    """The database, for a message: the SQLite file, or the PostgreSQL URL without its password."""
    try:
        url = make_url(sync_url(_async_url(database_url)))
    except (ArgumentError, ValueError):  # a malformed URL: load_persons then says what is wrong with it
        return "the database URL"
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or ':memory:'}"
    return f"the database {url.render_as_string(hide_password=True)}"


def _explain(exc: BaseException, where: str) -> str:
    """One line for a failed load (the driver's own error, without SQLAlchemy's decorations)."""
    orig = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(orig).splitlines() if line.strip()), type(orig).__name__)
    kind = type(orig).__name__
    if isinstance(orig, sqlite3.IntegrityError) or kind in ("UniqueViolation", "IntegrityError"):
        return (
            f"another writer added a person of this load to {where} while it ran ({first}); "
            "nothing was written. Load into a fresh database (--data-dir / --database-url)"
        )
    if isinstance(orig, sqlite3.OperationalError) and "locked" in first:
        return (
            f"{where} stayed locked by another writer for {BUSY_TIMEOUT_S} s (another load, or a long "
            f"transaction); nothing was written. Try again"
        )
    if isinstance(exc, ArgumentError) or isinstance(orig, ValueError):
        return f"cannot use {where}: {first}"
    if kind == "OperationalError" and not isinstance(orig, sqlite3.Error):
        return f"cannot connect to {where}: {first}"
    return f"the load into {where} failed: {first}; nothing was written"


def database_size(database_url: str) -> int:
    """Bytes the persons take: the SQLite file with its WAL, or the PostgreSQL table with its index."""
    url = sync_url(_async_url(database_url))
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        return sum(p.stat().st_size for p in (Path(path), Path(f"{path}-wal")) if p.exists())
    engine = create_engine(url)
    try:
        with contextlib.closing(engine.raw_connection()) as raw:
            cur = raw.cursor()
            cur.execute(f"SELECT pg_total_relation_size('{TABLE}'::regclass)")
            return int(cur.fetchone()[0])
    finally:
        engine.dispose()
