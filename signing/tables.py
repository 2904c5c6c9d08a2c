"""signing/'s own tables: the CA's key pairs, issued certificates, the revocation log and
published CRLs. Revocations are durable: they survive restarts and are shared by every
process of the component."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

from egovsim.storage import Schema

metadata = MetaData()

_id = BigInteger().with_variant(Integer, "sqlite")

keypairs = Table(
    "signing_keypairs",
    metadata,
    # root, intermediate, responder, foreign_root, foreign_responder; TEST keys of the simulator
    Column("role", String(32), primary_key=True),
    Column("key_pem", Text, nullable=False),
    Column("cert_der", LargeBinary, nullable=False),
    Column("base_url", String(256), nullable=False),
)

state = Table(
    "signing_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),  # bumped by every revoke / hold / release
    Column("ocsp_fault", String(32), nullable=False),
    Column("crl_fault", String(32), nullable=False),
    Column("delta_base_number", BigInteger),  # the full CRL the delta CRLs are relative to
    Column("delta_base_version", BigInteger),
    Column("delta_base_at_us", BigInteger),
)

certificates = Table(
    "signing_certificates",
    metadata,
    Column("serial", String(40), primary_key=True),  # lower-case hex, as NCANode v3 prints it
    Column("profile", String(16), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("iin", String(12), index=True),
    Column("bin", String(12), index=True),
    Column("subject_dn", Text, nullable=False),
    Column("not_before_us", BigInteger, nullable=False),
    Column("not_after_us", BigInteger, nullable=False),
    Column("issued_at_us", BigInteger, nullable=False),
    Column("cert_der", LargeBinary, nullable=False),
    Column("status", String(8), nullable=False),  # good, revoked, hold
    Column("revoked_at_us", BigInteger),
    Column("reason", String(32)),
    Column("changed_version", BigInteger, nullable=False),
    Column("label", String(128)),
)

revocation_log = Table(
    "signing_revocation_log",
    metadata,
    Column("id", _id, primary_key=True, autoincrement=True),
    Column("serial", String(40), nullable=False, index=True),
    Column("action", String(8), nullable=False),  # revoke, hold, release
    Column("reason", String(32)),
    Column("sim_time_us", BigInteger, nullable=False),
    Column("wall_time_us", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
)

crls = Table(
    "signing_crls",
    metadata,
    Column("number", BigInteger, primary_key=True),  # complete and delta CRLs share one sequence
    Column("kind", String(8), nullable=False),  # full, delta
    Column("base_number", BigInteger),
    Column("state_version", BigInteger, nullable=False),
    Column("this_update_us", BigInteger, nullable=False),
    Column("next_update_us", BigInteger, nullable=False),
    Column("der", LargeBinary, nullable=False),
)

SCHEMA = Schema("signing", metadata, Path(__file__).parent / "migrations")
