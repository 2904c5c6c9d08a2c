"""registries: persons (ГБД ФЛ), powers of attorney (ЕНИС), fault switches, system keys

Revision ID: r0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = ("registries",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_persons",
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("surname", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("patronymic", sa.Text),
        sa.Column("surname_lat", sa.Text),
        sa.Column("name_lat", sa.Text),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("nationality", sa.String(3), nullable=False),
        sa.Column("citizenship", sa.String(3), nullable=False),
        sa.Column("birth_country", sa.String(3), nullable=False),
        sa.Column("birth_region", sa.String(9)),
        sa.Column("birth_district", sa.String(9)),
        sa.Column("birth_city", sa.Text),
        sa.Column("reg_region", sa.String(9)),
        sa.Column("reg_district", sa.String(9)),
        sa.Column("reg_street", sa.Text),
        sa.Column("reg_building", sa.String(16)),
        sa.Column("reg_flat", sa.String(16)),
        sa.Column("reg_begin_date", sa.Date),
        sa.Column("doc_type", sa.String(3)),
        sa.Column("doc_number", sa.String(16)),
        sa.Column("doc_begin_date", sa.Date),
        sa.Column("doc_end_date", sa.Date),
        sa.Column("doc_issuer", sa.String(3)),
        sa.Column("doc_status", sa.String(2)),
        sa.Column("life_status", sa.String(1), nullable=False),
        sa.Column("death_date", sa.Date),
        sa.Column("capable_status", sa.String(1)),
        sa.Column("missing", sa.Boolean, nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False),
        sa.Column("extra", sa.Text),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "registry_powers_of_attorney",
        sa.Column("registry_number", sa.String(32), primary_key=True),
        sa.Column("registration_date", sa.Date, nullable=False),
        sa.Column("notary_iin", sa.String(12), nullable=False),
        sa.Column("notary_name", sa.Text, nullable=False),
        sa.Column("notary_license", sa.String(32), nullable=False),
        sa.Column("notary_district", sa.Text, nullable=False),
        sa.Column("grantor_iin", sa.String(12), nullable=False),
        sa.Column("grantor_name", sa.Text, nullable=False),
        sa.Column("representative_iin", sa.String(12), nullable=False),
        sa.Column("representative_name", sa.Text, nullable=False),
        sa.Column("powers", sa.Text, nullable=False),
        sa.Column("services", sa.Text),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("substitution_allowed", sa.Boolean, nullable=False),
        sa.Column("revocation_date", sa.Date),
        sa.Column("revocation_reason", sa.Text),
        sa.Column("revocation_registry_number", sa.String(32)),
    )
    op.create_index("ix_registry_poa_representative", "registry_powers_of_attorney", ["representative_iin"])
    op.create_index("ix_registry_poa_grantor", "registry_powers_of_attorney", ["grantor_iin"])
    op.create_table(
        "registry_faults",
        sa.Column("registry", sa.String(8), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delay_seconds", sa.Float, nullable=False),
        sa.Column("remaining", sa.Integer),
        sa.Column("created_wall_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "registry_keys",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("key_pem", sa.Text, nullable=False),
        sa.Column("cert_der", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in ("registry_keys", "registry_faults", "registry_powers_of_attorney", "registry_persons"):
        op.drop_table(table)
