"""cabinet/'s own tables: the citizen's requests as the personal cabinet knows them, their
results, the notifications and the outbox of e-mail and SMS messages, and the cabinet's system key
(it answers the gateway's pushes). Nothing here is read by another component (principle 2).

Instants are microseconds since the epoch on the SIMULATED clock (``egovsim.clock.to_us``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from egovsim.storage import Schema
from egovsim.system_keys import key_table

metadata = MetaData()

requests = Table(
    "cabinet_requests",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("iin", String(12), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("status", String(16), nullable=False),  # submitted, approved, refused, failed
    Column("message_id", String(64)),  # the gateway's id of the request: results correlate to it
    Column("refusal_code", String(64)),
    Column("detail", Text),
    Column("result_xml", Text),  # the provider's signed result e-document or reasoned refusal
    Column("submitted_us", BigInteger, nullable=False),
    Column("closed_us", BigInteger),
    Index("ix_cabinet_requests_iin", "iin"),
    Index("ix_cabinet_requests_message", "message_id"),
)

notifications = Table(
    "cabinet_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("iin", String(12), nullable=False),
    Column("number", String(32), nullable=False),
    Column("code", String(64), nullable=False),  # a code of the refusal catalogue: its texts
    Column("params_json", Text),  # what fills the texts' {placeholders}
    Column("created_us", BigInteger, nullable=False),
    Column("read_us", BigInteger),
    Index("ix_cabinet_notifications_iin", "iin"),
)

outbox = Table(
    "cabinet_outbox",
    metadata,
    # the e-mail and SMS messages the portal would send; egovsim keeps them here, visible in the UI
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("iin", String(12), nullable=False),
    Column("number", String(32), nullable=False),
    Column("channel", String(8), nullable=False),  # email, sms
    Column("address", String(200), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_cabinet_outbox_iin", "iin"),
)

contacts = Table(
    "cabinet_contacts",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("email", String(200)),
    Column("phone", String(20)),
)

system_keys = key_table("cabinet_system_keys", metadata)

SCHEMA = Schema("cabinet", metadata, Path(__file__).parent / "migrations")
