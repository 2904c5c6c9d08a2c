"""Storage: one SQLAlchemy async engine per process, Alembic migrations per component.

SQLite (the embedded default, in the data folder) and PostgreSQL (compose) run the same
code. Each component declares its tables on its own ``MetaData`` with a name prefix and
versions them in its own Alembic version table, so components never share tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from egovsim.errors import ConfigurationError

log = logging.getLogger("egovsim.storage")
MIGRATIONS_ENV = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Schema:
    """A component's tables: its metadata, its migration scripts and its version table."""

    component: str
    metadata: MetaData
    versions: Path

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.component}"


def sync_url(async_url: str) -> str:
    if async_url.startswith("sqlite+aiosqlite:"):
        return "sqlite:" + async_url.removeprefix("sqlite+aiosqlite:")
    return async_url


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout waits instead of failing, and is
    # set first so that switching to WAL waits too (a bulk load may hold the file meanwhile).
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _make_sync_engine(url: str) -> Engine:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class _SerialWrites:
    """An SQLite engine whose write transactions (``engine.begin()``) take turns in the process.

    SQLite has one writer at a time. Two transactions of one process that write at once meet in
    SQLite's busy handler, which sleeps and polls (1, 2, 5 … 100 ms) until the lock is free: under
    load that added tens of milliseconds to a step and hundreds to the p99. Here the second writer
    waits on an asyncio lock instead and starts the moment the first commits. Reads (WAL) never
    wait; other processes on the same file still meet in the busy handler, as before. The lock is
    re-entrant within a task, so a write transaction opened inside another never waits on itself.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._locks: dict[int, tuple[asyncio.Lock, list[object]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        loop = asyncio.get_running_loop()
        lock, holder = self._locks.setdefault(id(loop), (asyncio.Lock(), [None]))
        task = asyncio.current_task()
        if holder[0] is task:  # already this task's turn
            async with self._engine.begin() as conn:
                yield conn
            return
        async with lock:
            holder[0] = task
            try:
                async with self._engine.begin() as conn:
                    yield conn
            finally:
                holder[0] = None


class Database:
    """The process's database: an async engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        except Exception as exc:  # an unknown driver or a malformed URL
            raise ConfigurationError(f"cannot use database URL {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            self.engine = _SerialWrites(self.engine)  # type: ignore[assignment]
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def _sqlite_migration_lock(self) -> Iterator[None]:
        """Processes sharing one SQLite file migrate one at a time (PostgreSQL uses an advisory lock)."""
        path = self.url.split("///", 1)[-1] if self.backend == "sqlite" else ""
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.migrate.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def migrate(self, schemas: Sequence[Schema]) -> None:
        """Bring each component's tables to its newest revision (idempotent, safe in parallel)."""
        engine = _make_sync_engine(self.url)
        try:
            with self._sqlite_migration_lock():
                for schema in schemas:
                    with engine.begin() as conn:
                        if conn.dialect.name == "postgresql":
                            # compose starts every component at once: one migrates at a time
                            lock_key = zlib.crc32(b"egovsim-migrations")
                            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
                        cfg = Config()
                        cfg.set_main_option("script_location", str(MIGRATIONS_ENV))
                        cfg.set_main_option("path_separator", "os")
                        cfg.set_main_option("version_locations", str(schema.versions))
                        cfg.attributes.update(
                            connection=conn, target_metadata=schema.metadata, version_table=schema.version_table
                        )
                        command.upgrade(cfg, "head")
                    log.debug("migrated %s", schema.component)
        finally:
            engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def current_revision(self, schema: Schema) -> str | None:
        async with self.engine.connect() as conn:
            try:
                row = (await conn.execute(text(f"SELECT version_num FROM {schema.version_table}"))).first()
            except Exception:
                return None
            return row[0] if row else None

    async def dispose(self) -> None:
        await self.engine.dispose()
