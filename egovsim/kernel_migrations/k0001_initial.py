"""kernel: clock, trace journal, boots

Revision ID: k0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "k0001"
down_revision = None
branch_labels = ("kernel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_clock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("anchor_sim_us", sa.BigInteger, nullable=False),
        sa.Column("anchor_wall_us", sa.BigInteger, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "kernel_trace_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64)),
        sa.Column("service_id", sa.String(64)),
        sa.Column("sim_time_us", sa.BigInteger, nullable=False),
        sa.Column("wall_time_us", sa.BigInteger, nullable=False),
        sa.Column("message_ref", sa.String(256)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_kernel_trace_events_request_id", "kernel_trace_events", ["request_id"])
    op.create_table(
        "kernel_boots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("wall_time_us", sa.BigInteger, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("seed", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("kernel_boots")
    op.drop_index("ix_kernel_trace_events_request_id", "kernel_trace_events")
    op.drop_table("kernel_trace_events")
    op.drop_table("kernel_clock")
