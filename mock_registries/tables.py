"""mock_registries/'s own tables: persons of ЖТ МДҚ / ГБД ФЛ, powers of attorney of БНАЖ / ЕНИС,
the fault switches, and the registries' system keys. Nothing here is read by another component
(principle 2): the others ask through the gateway.

``registry_persons`` is sized for a country: one narrow row per person, keyed by IIN (a clustered
``WITHOUT ROWID`` table on SQLite), the coded values stored as their codes (the names come from
``mock_registries.dictionaries``), and ``extra`` (JSON) for what a row rarely has (more documents,
addresses, statuses). Fields marked *proposed* in ``mock_registries.records`` are not known from
the real systems.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from egovsim.storage import Schema
from egovsim.system_keys import key_table

metadata = MetaData()

persons = Table(
    "registry_persons",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("surname", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("patronymic", Text),
    Column("surname_lat", Text),
    Column("name_lat", Text),
    Column("birth_date", Date, nullable=False),
    Column("gender", String(1), nullable=False),  # 1 male, 2 female (dictionaries.GENDER)
    Column("nationality", String(3), nullable=False),
    Column("citizenship", String(3), nullable=False),  # ISO 3166 numeric
    Column("birth_country", String(3), nullable=False),
    Column("birth_region", String(9)),  # KATO-style codes (dictionaries.REGIONS)
    Column("birth_district", String(9)),
    Column("birth_city", Text),
    Column("reg_region", String(9)),
    Column("reg_district", String(9)),
    Column("reg_street", Text),
    Column("reg_building", String(16)),
    Column("reg_flat", String(16)),
    Column("reg_begin_date", Date),
    Column("doc_type", String(3)),  # the identity document (dictionaries.DOCUMENT_TYPE)
    Column("doc_number", String(16)),
    Column("doc_begin_date", Date),
    Column("doc_end_date", Date),
    Column("doc_issuer", String(3)),
    Column("doc_status", String(2)),
    Column("life_status", String(1), nullable=False),  # 0 alive, 1 deceased (dictionaries.LIFE_STATUS)
    Column("death_date", Date),
    Column("capable_status", String(1)),  # None = capable; dictionaries.CAPABLE_STATUS
    Column("missing", Boolean, nullable=False),
    Column("removed", Boolean, nullable=False),
    Column("extra", Text),  # JSON: further documents, addresses, statuses
    sqlite_with_rowid=False,
)

powers_of_attorney = Table(
    "registry_powers_of_attorney",
    metadata,
    Column("registry_number", String(32), primary_key=True),
    Column("registration_date", Date, nullable=False),
    Column("notary_iin", String(12), nullable=False),
    Column("notary_name", Text, nullable=False),
    Column("notary_license", String(32), nullable=False),
    Column("notary_district", Text, nullable=False),
    Column("grantor_iin", String(12), nullable=False),
    Column("grantor_name", Text, nullable=False),
    Column("representative_iin", String(12), nullable=False),
    Column("representative_name", Text, nullable=False),
    Column("powers", Text, nullable=False),  # the text of the powers
    Column("services", Text),  # JSON list of catalogue service ids; NULL = a general power
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("substitution_allowed", Boolean, nullable=False),
    Column("revocation_date", Date),
    Column("revocation_reason", Text),
    Column("revocation_registry_number", String(32)),
    Index("ix_registry_poa_representative", "representative_iin"),
    Index("ix_registry_poa_grantor", "grantor_iin"),
)

faults = Table(
    "registry_faults",
    metadata,
    # one switch per registry (gbdfl, enis): unavailable, slow, timeout, not_found, malformed
    Column("registry", String(8), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("delay_seconds", Float, nullable=False),
    Column("remaining", Integer),  # answers still to spoil; NULL = until cleared
    Column("created_wall_us", BigInteger, nullable=False),
)

# each registry's system certificate (business data and transport signatures); a TEST key
keys = key_table("registry_keys", metadata)

SCHEMA = Schema("registries", metadata, Path(__file__).parent / "migrations")
