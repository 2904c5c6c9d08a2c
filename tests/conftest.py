"""Fixtures: each test gets its own simulator on its own database.

The backend is chosen by ``EGOVSIM_TEST_BACKEND`` (``sqlite``, the default, or ``postgresql``).
On PostgreSQL each test gets a fresh schema (``search_path``) in the database of
``EGOVSIM_TEST_POSTGRES_URL``, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from egovsim.app import RunningSimulator, running
from egovsim.settings import Settings

BACKEND = os.environ.get("EGOVSIM_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("EGOVSIM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token-not-a-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pytest_report_header(config: pytest.Config) -> str:
    return f"egovsim test backend: {BACKEND}" + (f" ({POSTGRES_URL})" if BACKEND == "postgresql" else "")


@contextlib.contextmanager
def database_for(tmp: Path) -> Iterator[str]:
    """A fresh database for one simulator: a SQLite file in ``tmp``, or a new PostgreSQL schema."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp / 'egovsim.sqlite3'}"
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"EGOVSIM_TEST_BACKEND must be sqlite or postgresql, not {BACKEND!r}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin: Any, schema: str) -> None:
    """Drop a test schema; a connection the simulator leaked idle in a transaction (a background
    loop cancelled mid-query at shutdown) would block DROP forever, so after a short wait such
    connections are ended and the drop is tried again. Tests run one at a time: no other test
    holds a transaction meanwhile."""
    for attempt in range(3):
        try:
            with admin.connect() as conn:
                conn.execute(text("SET lock_timeout = '5s'"))
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return
        except OperationalError:
            if attempt == 2:
                raise
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                    )
                )


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with database_for(tmp_path) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nca(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSimulator]:
    """One simulator per test module, for the НУЦ tests: its CA keys (RSA 4096) are made once.

    Tests using it run in the module's event loop: ``pytestmark = pytest.mark.asyncio(loop_scope="module")``.
    """
    tmp = tmp_path_factory.mktemp("nca")
    with database_for(tmp) as url:
        settings = Settings(data_dir=tmp / "data", database_url=url, admin_token=ADMIN_TOKEN)
        async with running(settings) as simulator:
            yield simulator


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[RunningSimulator]:
    async with running(settings) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with sim.client() as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def egovsim_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "egovsim.cli", *args]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> float:
    """Poll ``url`` until it answers 200; returns the seconds it took. Fails if the process dies."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"process exited with {proc.returncode} before it was healthy:\n{out}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} was not healthy within {timeout} s")
