"""portal: challenges of the login by EDS

Revision ID: p0011
Revises: p0010
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "p0011"
down_revision = "p0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_eds_challenges",
        sa.Column("challenge_id", sa.String(32), primary_key=True),
        sa.Column("nonce_sha256", sa.String(64), nullable=False),
        sa.Column("issued_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("used_us", sa.BigInteger),
    )
    op.create_index("ix_portal_eds_challenges_expires_us", "portal_eds_challenges", ["expires_us"])


def downgrade() -> None:
    op.drop_table("portal_eds_challenges")
