"""gateway: keys, routes, senders, message journal, async queue, workstation cases and policies

Revision ID: g0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "g0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = None

_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "gateway_keys",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("key_pem", sa.Text, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "gateway_routes",
        sa.Column("service_id", sa.String(128), primary_key=True),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("transport_signature", sa.Boolean, nullable=False),
        sa.Column("business_signature", sa.Boolean, nullable=False),
        sa.Column("timeout_seconds", sa.Float, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("created_wall_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "gateway_senders",
        sa.Column("sender_id", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("certificate_der", sa.LargeBinary),
        sa.Column("push_url", sa.String(512)),
        sa.Column("title", sa.Text),
        sa.Column("created_wall_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "gateway_journal",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("operation", sa.String(48), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("correlation_id", sa.String(128)),
        sa.Column("session_id", sa.String(40)),
        sa.Column("sender_id", sa.String(64)),
        sa.Column("service_id", sa.String(128)),
        sa.Column("target", sa.String(512)),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("code", sa.String(16)),
        sa.Column("detail", sa.Text),
        sa.Column("received_wall_us", sa.BigInteger, nullable=False),
        sa.Column("sim_time_us", sa.BigInteger, nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        sa.Column("request_bytes", sa.Integer, nullable=False),
        sa.Column("response_bytes", sa.Integer, nullable=False),
        sa.Column("request_xml", sa.Text),
        sa.Column("response_xml", sa.Text),
    )
    op.create_index("ix_gateway_journal_message_id", "gateway_journal", ["message_id"])
    op.create_index("ix_gateway_journal_service_id", "gateway_journal", ["service_id"])
    op.create_index("ix_gateway_journal_received", "gateway_journal", ["received_wall_us"])
    op.create_table(
        "gateway_async_messages",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(128)),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("message_type", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(512), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_wall_us", sa.BigInteger, nullable=False),
        sa.Column("claimed_until_wall_us", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("message_xml", sa.Text, nullable=False),
        sa.Column("created_wall_us", sa.BigInteger, nullable=False),
        sa.Column("delivered_wall_us", sa.BigInteger),
        sa.UniqueConstraint("sender_id", "message_id", name="uq_gateway_async_sender_message"),
    )
    op.create_index("ix_gateway_async_due", "gateway_async_messages", ["state", "next_attempt_wall_us"])
    op.create_table(
        "gateway_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("route_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("applicant_iin", sa.String(12)),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_sim_us", sa.BigInteger, nullable=False),
        sa.Column("closed_sim_us", sa.BigInteger),
        sa.Column("state_json", sa.Text, nullable=False),
        sa.Column("request_xml", sa.Text, nullable=False),
        sa.Column("result_xml", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("sender_id", "message_id", name="uq_gateway_cases_message"),
    )
    op.create_index("ix_gateway_cases_provider_status", "gateway_cases", ["provider_id", "status"])
    op.create_table(
        "gateway_policies",
        sa.Column("service_id", sa.String(128), primary_key=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("refusal_ground", sa.Text),
        sa.Column("refuse_at_step", sa.String(16)),
        sa.Column("scale", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "gateway_policies",
        "gateway_cases",
        "gateway_async_messages",
        "gateway_journal",
        "gateway_senders",
        "gateway_routes",
        "gateway_keys",
    ):
        op.drop_table(table)
