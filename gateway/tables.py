"""gateway/'s own tables: the route and sender registries, the message journal, the async
channel's durable queue, the regional workstation's cases, the office's receipts and the
kindergarten queue register. Nothing here is read by another
component (principle 2)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from egovsim.storage import Schema
from egovsim.system_keys import key_table

metadata = MetaData()

_id = BigInteger().with_variant(Integer, "sqlite")

# the gateway's own system certificate (transport signature of what it sends); a TEST key
keys = key_table("gateway_keys", metadata)

routes = Table(
    "gateway_routes",
    metadata,
    Column("service_id", String(128), primary_key=True),
    Column("target", String(512), nullable=False),  # component:<name>:<path> or an http(s) URL
    Column("mode", String(8), nullable=False),  # sync, async
    Column("transport_signature", Boolean, nullable=False),
    Column("business_signature", Boolean, nullable=False),
    Column("timeout_seconds", Float, nullable=False),
    Column("title", Text),
    Column("created_wall_us", BigInteger, nullable=False),
)

senders = Table(
    "gateway_senders",
    metadata,
    Column("sender_id", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("certificate_der", LargeBinary),  # the system certificate its transport signature must use
    Column("push_url", String(512)),  # its IAsyncChannelClient endpoint; none = it pulls (getMessages)
    Column("title", Text),
    Column("created_wall_us", BigInteger, nullable=False),
)

journal = Table(
    "gateway_journal",
    metadata,
    Column("id", _id, primary_key=True, autoincrement=True),
    Column("channel", String(8), nullable=False),  # sync, async, push
    Column("operation", String(48), nullable=False),
    Column("message_id", String(128)),
    Column("correlation_id", String(128)),
    Column("session_id", String(40)),
    Column("sender_id", String(64)),
    Column("service_id", String(128)),
    Column("target", String(512)),
    Column("outcome", String(12), nullable=False),  # ok, fault, rejected
    Column("code", String(16)),  # SCSS001, SCE…
    Column("detail", Text),
    Column("received_wall_us", BigInteger, nullable=False),
    Column("sim_time_us", BigInteger, nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Column("request_bytes", Integer, nullable=False),
    Column("response_bytes", Integer, nullable=False),
    Column("request_xml", Text),  # cut at journal_max_xml_bytes
    Column("response_xml", Text),
    Index("ix_gateway_journal_message_id", "message_id"),
    Index("ix_gateway_journal_service_id", "service_id"),
    Index("ix_gateway_journal_received", "received_wall_us"),
)

async_messages = Table(
    "gateway_async_messages",
    metadata,
    Column("id", _id, primary_key=True, autoincrement=True),
    Column("message_id", String(128), nullable=False),
    Column("sender_id", String(64), nullable=False),
    Column("correlation_id", String(128)),
    Column("service_id", String(128), nullable=False),
    Column("message_type", String(16), nullable=False),
    Column("session_id", String(40), nullable=False),
    Column("recipient", String(512), nullable=False),  # a push URL, component:…, or pull:<sender_id>
    Column("state", String(20), nullable=False),  # ON_DELIVERY, DELIVERED, NOT_DELIVERED, DELIVERY_STOPPED
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_wall_us", BigInteger, nullable=False),
    Column("claimed_until_wall_us", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("message_xml", Text, nullable=False),  # messageInfo + messageData as the gateway delivers them
    Column("created_wall_us", BigInteger, nullable=False),
    Column("delivered_wall_us", BigInteger),
    UniqueConstraint("sender_id", "message_id", name="uq_gateway_async_sender_message"),
    Index("ix_gateway_async_due", "state", "next_attempt_wall_us"),
)

cases = Table(
    "gateway_cases",
    metadata,
    Column("id", String(40), primary_key=True),  # the provider's registration number
    Column("service_id", String(128), nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("route_id", String(64), nullable=False),
    Column("message_id", String(128), nullable=False),  # of the incoming request
    Column("sender_id", String(64), nullable=False),
    Column("applicant_iin", String(12)),
    Column("mode", String(10), nullable=False),  # autopilot, manual
    Column("status", String(16), nullable=False),
    Column("received_sim_us", BigInteger, nullable=False),
    Column("closed_sim_us", BigInteger),
    Column("state_json", Text, nullable=False),  # gateway.workflow.Case
    Column("request_xml", Text, nullable=False),
    Column("result_xml", Text),
    Column("version", Integer, nullable=False),  # optimistic lock: one writer per step
    UniqueConstraint("sender_id", "message_id", name="uq_gateway_cases_message"),
    Index("ix_gateway_cases_provider_status", "provider_id", "status"),
)

policies = Table(
    "gateway_policies",
    metadata,
    # the workstation's per-service mode: autopilot (approve / refuse with a ground, delays scaled) or manual
    Column("service_id", String(128), primary_key=True),
    Column("mode", String(10), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("refusal_ground", Text),
    Column("refuse_at_step", String(16)),
    Column("scale", Float, nullable=False),
    Column("refusal_code", String(64)),  # the provider's refusal code; none: REASONED_REFUSAL
)

receipts = Table(
    "gateway_receipts",
    metadata,
    # the papers the provider's office hands the applicant at intake (standard 002): the receipt of
    # acceptance (or the tear-off coupon), or the refusal to accept an incomplete package (appendix 3)
    Column("number", String(40), primary_key=True),  # a refusal's own number; an acceptance's is the case's
    Column("kind", String(12), nullable=False),  # acceptance, refusal
    Column("code", String(48), nullable=False),  # RECEIPT_ACCEPTED, TEAR_OFF_COUPON, PACKAGE_INCOMPLETE
    Column("service_id", String(128), nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("case_id", String(40)),
    Column("applicant_iin", String(12), nullable=False),
    Column("representative_iin", String(12)),
    Column("facts_json", Text, nullable=False),  # fields, documents handed in, missing ones, the clerk
    Column("issued_sim_us", BigInteger, nullable=False),
)

queue_entries = Table(
    "gateway_queue_entries",
    metadata,
    # the electronic queue register (Электрондық тізілім / Электронный реестр): one place per case, its
    # number counted per service and area in the order of registration; the unique place is what
    # makes two registrations at once take two numbers (the second retries)
    Column("case_id", String(40), primary_key=True),
    Column("service_id", String(128), nullable=False),
    Column("area_key", String(200), nullable=False),  # the area as compared: spaces collapsed, casefolded
    Column("area", String(200), nullable=False),  # as the applicant wrote it
    Column("number", Integer, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("request_number", String(64), nullable=False),
    Column("applicant_iin", String(12)),
    Column("child_iin", String(12)),
    Column("status", String(12), nullable=False),  # queued, withdrawn (the case was refused)
    Column("registered_sim_us", BigInteger, nullable=False),
    UniqueConstraint("service_id", "area_key", "number", name="uq_gateway_queue_place"),
)

SCHEMA = Schema("gateway", metadata, Path(__file__).parent / "migrations")
