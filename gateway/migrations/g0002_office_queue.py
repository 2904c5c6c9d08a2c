"""gateway: the provider's office receipts and the kindergarten queue register

Revision ID: g0002
Revises: g0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "g0002"
down_revision = "g0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_receipts",
        sa.Column("number", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(40)),
        sa.Column("applicant_iin", sa.String(12), nullable=False),
        sa.Column("representative_iin", sa.String(12)),
        sa.Column("facts_json", sa.Text, nullable=False),
        sa.Column("issued_sim_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "gateway_queue_entries",
        sa.Column("case_id", sa.String(40), primary_key=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("area_key", sa.String(200), nullable=False),
        sa.Column("area", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("request_number", sa.String(64), nullable=False),
        sa.Column("applicant_iin", sa.String(12)),
        sa.Column("child_iin", sa.String(12)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("registered_sim_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("service_id", "area_key", "number", name="uq_gateway_queue_place"),
    )


def downgrade() -> None:
    op.drop_table("gateway_queue_entries")
    op.drop_table("gateway_receipts")
