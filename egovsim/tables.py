"""The kernel's own tables: the shared simulated clock, the trace journal and process boots."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text

from egovsim.storage import Schema

metadata = MetaData()

clock_state = Table(
    "kernel_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("anchor_sim_us", BigInteger, nullable=False),
    Column("anchor_wall_us", BigInteger, nullable=False),
    Column("rate", Float, nullable=False),
    Column("version", Integer, nullable=False),
)

trace_events = Table(
    "kernel_trace_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("component", String(32), nullable=False),
    Column("step", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("code", String(64)),
    Column("service_id", String(64)),
    Column("sim_time_us", BigInteger, nullable=False),
    Column("wall_time_us", BigInteger, nullable=False),
    Column("message_ref", String(256)),
    Column("detail", Text),
)

boots = Table(
    "kernel_boots",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("component", String(32), nullable=False),
    Column("wall_time_us", BigInteger, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("seed", BigInteger),
)

SCHEMA = Schema("kernel", metadata, Path(__file__).parent / "kernel_migrations")
