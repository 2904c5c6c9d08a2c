"""portal: requests (drafts and submissions) and their attachments

Revision ID: p0010
Revises: p0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "p0010"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("fields_json", sa.Text, nullable=False),
        sa.Column("document_xml", sa.Text),
        sa.Column("message_id", sa.String(64)),
        sa.Column("refusal_code", sa.String(64)),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("submitted_us", sa.BigInteger),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_portal_requests_iin", "portal_requests", ["iin"])
    op.create_table(
        "portal_attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("portal_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_portal_attachments_request", "portal_attachments", ["request_id"])


def downgrade() -> None:
    op.drop_table("portal_attachments")
    op.drop_table("portal_requests")
