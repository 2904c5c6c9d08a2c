"""gateway: the provider's refusal code in a service's autopilot policy

Revision ID: g0003
Revises: g0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "g0003"
down_revision = "g0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gateway_policies", sa.Column("refusal_code", sa.String(64)))


def downgrade() -> None:
    op.drop_column("gateway_policies", "refusal_code")
