"""Loading a synthetic ЖТ МДҚ / ГБД ФЛ population (:mod:`mock_registries.generate`) fast into the
configured database, SQLite or PostgreSQL.

A load is one transaction: it either writes every person or, on any failure or Ctrl-C, none,
so a database never holds half a population and the same command can simply be run again.
Before it starts, the tables are migrated as the app does (:meth:`egovsim.storage.Database.migrate`)
and the persons already there are checked: the load is refused (:class:`PopulationExists`,
nothing written) when any IIN it would write is taken. Hand-made records (the demo personas,
serials 0000–0999) never are, so a population can join a simulator that is already in use; a
second population cannot (``--append`` would need a second, disjoint IIN range: not offered).

Generation runs on a pool of processes (``workers``), each making ranges of units of the
generator in its own random streams; the writer takes the ranges back in order, so the rows
reach the clustered primary key in ascending IIN order (appended, never split):

- SQLite: ``executemany`` of each range inside the one transaction, with loader-time pragmas
  (``synchronous=OFF``, a 256 MB page cache, a rollback journal instead of WAL, which holds
  only the few pages that existed before; the journal mode is restored afterwards);
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

from egovsim.errors import EgovsimError
from egovsim.storage import Database, sync_url
from egovsim.tables import SCHEMA as KERNEL_SCHEMA
from mock_registries.generate import AS_OF, COLUMNS, PersonGenerator, Row
from mock_registries.tables import SCHEMA

TABLE = "registry_persons"
CHUNK_ROWS = 20_000
_CHECKED_AT_MOST = 1_000_000  # existing persons the collision check reads; beyond, a load is refused
_INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_COPY = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"


class PopulationExists(EgovsimError):
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
    Raises :class:`PopulationExists` (nothing written) when an IIN of the load is already taken.
    """
    started = time.perf_counter()
    db = Database(_async_url(database_url))
    try:
        db.migrate([KERNEL_SCHEMA, SCHEMA])  # the tables exist as the app makes them
    finally:
        db.engine.sync_engine.dispose()  # never connected: migrate uses an engine of its own
    generator = _generator(seed, persons, as_of)
    url = sync_url(db.url)
    if db.backend == "sqlite":
        path = _sqlite_path(url)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
            _refuse_collisions(
                generator, [r[0] for r in con.execute(f"SELECT iin FROM {TABLE} LIMIT ?", (_CHECKED_AT_MOST + 1,))]
            )
            _load_sqlite(
                con, generate_ranges(seed, persons, workers=workers, chunk_rows=chunk_rows, as_of=as_of), progress
            )
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
    seconds = time.perf_counter() - started
    return LoadResult(persons, seconds, db.backend, database_size(database_url))


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
    journal = con.execute("PRAGMA journal_mode").fetchone()[0]
    # a rollback journal keeps only the pages that existed before (the table is appended to);
    # WAL would copy every new page twice. Stays WAL if another connection has the file open.
    con.execute("PRAGMA journal_mode=TRUNCATE")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            for count, rows in ranges:
                con.executemany(_INSERT, rows)
                if progress:
                    progress(count)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute(f"PRAGMA journal_mode={journal}")
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
        raise EgovsimError("a population is loaded into a SQLite file, not an in-memory database")
    return os.path.abspath(path)


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
