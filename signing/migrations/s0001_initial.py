"""signing: CA key pairs, certificates, revocation log, CRLs

Revision ID: s0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = ("signing",)
depends_on = None

_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "signing_keypairs",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("key_pem", sa.Text, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
        sa.Column("base_url", sa.String(256), nullable=False),
    )
    op.create_table(
        "signing_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("ocsp_fault", sa.String(32), nullable=False),
        sa.Column("crl_fault", sa.String(32), nullable=False),
        sa.Column("delta_base_number", sa.BigInteger),
        sa.Column("delta_base_version", sa.BigInteger),
        sa.Column("delta_base_at_us", sa.BigInteger),
    )
    op.create_table(
        "signing_certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("profile", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("iin", sa.String(12)),
        sa.Column("bin", sa.String(12)),
        sa.Column("subject_dn", sa.Text, nullable=False),
        sa.Column("not_before_us", sa.BigInteger, nullable=False),
        sa.Column("not_after_us", sa.BigInteger, nullable=False),
        sa.Column("issued_at_us", sa.BigInteger, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("revoked_at_us", sa.BigInteger),
        sa.Column("reason", sa.String(32)),
        sa.Column("changed_version", sa.BigInteger, nullable=False),
        sa.Column("label", sa.String(128)),
    )
    op.create_index("ix_signing_certificates_iin", "signing_certificates", ["iin"])
    op.create_index("ix_signing_certificates_bin", "signing_certificates", ["bin"])
    op.create_table(
        "signing_revocation_log",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("sim_time_us", sa.BigInteger, nullable=False),
        sa.Column("wall_time_us", sa.BigInteger, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_signing_revocation_log_serial", "signing_revocation_log", ["serial"])
    op.create_table(
        "signing_crls",
        sa.Column("number", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("base_number", sa.BigInteger),
        sa.Column("state_version", sa.BigInteger, nullable=False),
        sa.Column("this_update_us", sa.BigInteger, nullable=False),
        sa.Column("next_update_us", sa.BigInteger, nullable=False),
        sa.Column("der", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "signing_crls",
        "signing_revocation_log",
        "signing_certificates",
        "signing_state",
        "signing_keypairs",
    ):
        op.drop_table(table)
