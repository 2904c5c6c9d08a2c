"""portal/'s own tables: citizens' accounts on egov.kz, the login throttle, the challenges of the
login by EDS, sessions, and the keys sessions are signed with. Nothing here is read by another
component (principle 2): the cabinet checks a session token with the keys the portal publishes (JWKS).

Instants are microseconds since the epoch on the SIMULATED clock (``egovsim.clock.to_us``):
lockouts, challenge and session expiry, and key rotation all follow ``kernel.clock``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text

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


def session_table(name: str) -> Table:
    """The sessions of one audience (portal.sessions.Sessions): a row per session, revoked at logout."""
    return Table(
        name,
        metadata,
        Column("sid", String(32), primary_key=True),
        Column("iin", String(12), nullable=False),
        Column("kid", String(32), nullable=False),
        Column("issued_us", BigInteger, nullable=False),
        Column("expires_us", BigInteger, nullable=False),
        Column("revoked_us", BigInteger),  # logged out
        Index(f"ix_{name}_iin", "iin"),
    )


sessions = session_table("portal_sessions")

session_keys = Table(
    "portal_session_keys",
    metadata,
    # RS256 signing keys, one per rotation period; the private key is a simulator TEST key
    Column("kid", String(32), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

eds_challenges = Table(
    "portal_eds_challenges",
    metadata,
    # what the portal gave a browser to sign for a login by EDS (portal.eds_login); the nonce is
    # kept as its SHA-256 only, and a challenge is spent (used_us) by the one login it allows
    Column("challenge_id", String(32), primary_key=True),
    Column("nonce_sha256", String(64), nullable=False),
    Column("issued_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("used_us", BigInteger),
    Index("ix_portal_eds_challenges_expires_us", "expires_us"),
)

# the portal's system certificate (transport signature of what it sends the gateway); a TEST key
system_keys = key_table("portal_system_keys", metadata)


requests = Table(
    "portal_requests",
    metadata,
    # a citizen's request from its draft to its submission (3-процесс … 5-процесс); what happens
    # after submission is the cabinet's (cabinet/), which the portal hands it to
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("iin", String(12), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # draft, submitted, refused, failed
    Column("lang", String(2), nullable=False),
    Column("fields_json", Text, nullable=False),
    Column("document_xml", Text),  # the document issued for signing (None until fetched)
    Column("message_id", String(64)),  # the gateway's id of the sent request
    Column("refusal_code", String(64)),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("submitted_us", BigInteger),
    Column("version", Integer, nullable=False),
    Index("ix_portal_requests_iin", "iin"),
)

attachments = Table(
    "portal_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("portal_requests.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", String(64), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("ix_portal_attachments_request", "request_id"),
)


# ---- the ХҚО operator workstation (ХҚО ЫАЖ АЖО, portal.hqo) ------------------------------------
hqo_operators = Table(
    "hqo_operators",
    metadata,
    # operators of the population service centres, seeded from personas.yaml (demo password);
    # the failed-login count and lockout live on the row
    Column("login", String(32), primary_key=True),
    Column("iin", String(12), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("centre", String(200), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("failures", Integer, nullable=False),
    Column("locked_until_us", BigInteger),
)

# the operators' sessions: tokens signed with the portal's session keys, issuer …/hqo
hqo_sessions = session_table("hqo_sessions")

hqo_tickets = Table(
    "hqo_tickets",
    metadata,
    # the operating hall's electronic queue: one ticket per applicant, numbered per centre and day
    Column("number", String(16), primary_key=True),  # e.g. 20261122-A017
    Column("centre", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("issued_us", BigInteger, nullable=False),
    Column("application", String(32)),  # the application taken on this ticket
    Index("ux_hqo_tickets_day_seq", "centre", "day", "seq", unique=True),
)

hqo_applications = Table(
    "hqo_applications",
    metadata,
    # one application taken at the ХҚО, from the hall (pre) to the hand-over (8-процесс)
    Column("number", String(32), primary_key=True),
    Column("ticket", String(16), nullable=False),
    Column("operator", String(32), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("applicant_iin", String(12), nullable=False),
    Column("representative_iin", String(12)),
    Column("poa_number", String(32)),
    Column("data_json", Text, nullable=False),  # fields, documents handed in, registry answers, papers
    Column("refusal_code", String(64)),
    Column("message_id", String(64)),
    Column("result_xml", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("result_us", BigInteger),  # when the provider's answer reached the centre
    Column("recalled_us", BigInteger),  # when a result returned to the provider was asked back
    Column("handed_us", BigInteger),
    Column("version", Integer, nullable=False),
    Index("ix_hqo_applications_applicant", "applicant_iin"),
)

SCHEMA = Schema("portal", metadata, Path(__file__).parent / "migrations")
