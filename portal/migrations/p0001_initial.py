"""portal: accounts, login throttle, sessions, session signing keys

Revision ID: p0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "p0001"
down_revision = None
branch_labels = ("portal",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_accounts",
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "portal_login_throttle",
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until_us", sa.BigInteger),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("sid", sa.String(32), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("issued_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger),
    )
    op.create_index("ix_portal_sessions_iin", "portal_sessions", ["iin"])
    op.create_table(
        "portal_session_keys",
        sa.Column("kid", sa.String(32), primary_key=True),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "portal_system_keys",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("key_pem", sa.Text, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "portal_system_keys",
        "portal_session_keys",
        "portal_sessions",
        "portal_login_throttle",
        "portal_accounts",
    ):
        op.drop_table(table)
