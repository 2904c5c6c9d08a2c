"""portal: the ХҚО operator workstation (operators, sessions, queue tickets, applications)

Revision ID: p0012
Revises: p0011
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "p0012"
down_revision = "p0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hqo_operators",
        sa.Column("login", sa.String(32), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False, unique=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("centre", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until_us", sa.BigInteger),
    )
    op.create_table(
        "hqo_sessions",
        sa.Column("sid", sa.String(32), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("issued_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger),
    )
    op.create_index("ix_hqo_sessions_iin", "hqo_sessions", ["iin"])
    op.create_table(
        "hqo_tickets",
        sa.Column("number", sa.String(16), primary_key=True),
        sa.Column("centre", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("issued_us", sa.BigInteger, nullable=False),
        sa.Column("application", sa.String(32)),
    )
    op.create_index("ux_hqo_tickets_day_seq", "hqo_tickets", ["centre", "day", "seq"], unique=True)
    op.create_table(
        "hqo_applications",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("ticket", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("applicant_iin", sa.String(12), nullable=False),
        sa.Column("representative_iin", sa.String(12)),
        sa.Column("poa_number", sa.String(32)),
        sa.Column("data_json", sa.Text, nullable=False),
        sa.Column("refusal_code", sa.String(64)),
        sa.Column("message_id", sa.String(64)),
        sa.Column("result_xml", sa.Text),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("result_us", sa.BigInteger),
        sa.Column("recalled_us", sa.BigInteger),
        sa.Column("handed_us", sa.BigInteger),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_hqo_applications_applicant", "hqo_applications", ["applicant_iin"])


def downgrade() -> None:
    op.drop_table("hqo_applications")
    op.drop_table("hqo_tickets")
    op.drop_table("hqo_sessions")
    op.drop_table("hqo_operators")
