"""portal/'s own tables: citizens' accounts on egov.kz, the login throttle, sessions, and the
keys sessions are signed with. Nothing here is read by another component (principle 2): the
cabinet checks a session token with the keys the portal publishes (JWKS).

Instants are microseconds since the epoch on the SIMULATED clock (``egovsim.clock.to_us``):
lockouts, session expiry and key rotation all follow ``kernel.clock``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from egovsim.storage import Schema
from egovsim.system_keys import key_table

metadata = MetaData()

accounts = Table(
    "portal_accounts",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("created_us", BigInteger, nullable=False),
)

login_throttle = Table(
    "portal_login_throttle",
    metadata,
    # consecutive failed logins per IIN, kept for IINs with no account too, so that the lockout
    # does not tell which IINs have one
    Column("iin", String(12), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until_us", BigInteger),
)

sessions = Table(
    "portal_sessions",
    metadata,
    Column("sid", String(32), primary_key=True),
    Column("iin", String(12), nullable=False),
    Column("kid", String(32), nullable=False),
    Column("issued_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),  # logged out
    Index("ix_portal_sessions_iin", "iin"),
)

session_keys = Table(
    "portal_session_keys",
    metadata,
    # RS256 signing keys, one per rotation period; the private key is a simulator TEST key
    Column("kid", String(32), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

# the portal's system certificate (transport signature of what it sends the gateway); a TEST key
system_keys = key_table("portal_system_keys", metadata)

SCHEMA = Schema("portal", metadata, Path(__file__).parent / "migrations")
