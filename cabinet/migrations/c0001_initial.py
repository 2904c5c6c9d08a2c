"""cabinet: requests, notifications, outbox, contacts, system keys

Revision ID: c0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = ("cabinet",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cabinet_requests",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("refusal_code", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.Column("result_xml", sa.Text),
        sa.Column("submitted_us", sa.BigInteger, nullable=False),
        sa.Column("closed_us", sa.BigInteger),
    )
    op.create_index("ix_cabinet_requests_iin", "cabinet_requests", ["iin"])
    op.create_index("ix_cabinet_requests_message", "cabinet_requests", ["message_id"])
    op.create_table(
        "cabinet_notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("params_json", sa.Text),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("read_us", sa.BigInteger),
    )
    op.create_index("ix_cabinet_notifications_iin", "cabinet_notifications", ["iin"])
    op.create_table(
        "cabinet_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cabinet_outbox_iin", "cabinet_outbox", ["iin"])
    op.create_table(
        "cabinet_contacts",
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("email", sa.String(200)),
        sa.Column("phone", sa.String(20)),
    )
    op.create_table(
        "cabinet_system_keys",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("key_pem", sa.Text, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in ("cabinet_system_keys", "cabinet_contacts", "cabinet_outbox", "cabinet_notifications",
                  "cabinet_requests"):  # fmt: skip
        op.drop_table(table)
