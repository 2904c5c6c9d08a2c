"""Login to egov.kz by EDS: the citizen's AUTH key instead of the password.

Regulation 001 (portal chain): 1-процесс, the recipient logs in; 1-шарт, the portal checks the
registered recipient's data; 2-процесс, on failure a refusal of authorisation. egov.kz lets a
registered citizen through 1-процесс with IIN and password (:mod:`portal.accounts`) or with the
authentication (AUTH) key of their EDS (ЭЦҚ / ЭЦП), by a challenge and its signature:

1. ``POST /portal/api/login/eds/challenge`` answers ``{"challengeId", "xml", "expiresAt"}``;
   ``xml`` is the document to sign::

       <login xmlns="urn:egovsim:portal:eds-login"><challenge>43 characters: 32 random bytes,
       base64url</challenge><issuedAt>simulated time, Asia/Almaty offset</issuedAt>
       <audience>{public url}/portal</audience></login>

2. The browser signs it whole through NCALayer ``signXml`` with the AUTH key (an enveloped
   XMLDSig, :func:`egovsim.xmldsig.sign_enveloped` does the same).
3. ``POST /portal/api/login/eds`` with ``{"challengeId": …, "signedXml": …}`` (JSON; the id
   stays outside the document so the document is exactly the one issued). Checked in order:
   the challenge is known (``PORTAL_EDS_CHALLENGE_UNKNOWN``), unexpired (``…_EXPIRED``) and
   unused (``…_USED``); the signature and the certificate pass condition 2 as every relying
   party checks it (:class:`~egovsim.condition2.EdsVerifier`: chain to the НУЦ, validity on the
   simulated clock, OCSP then CRL), else ``PORTAL_EDS_LOGIN_REFUSED``; the key is an AUTH key
   (``PORTAL_EDS_LOGIN_WRONG_KEY``); the signed document is exactly the issued challenge
   (``PORTAL_EDS_CHALLENGE_MISMATCH``); the IIN of the certificate has an account
   (``PORTAL_EDS_ACCOUNT_NOT_FOUND``). Then the challenge is spent and a session opened, the same
   answer as the password login.

Decisions:

- The condition-2 failures are refused as ``PORTAL_EDS_LOGIN_REFUSED`` (2-процесс), the exact
  reason in ``detail`` as ``"<EDS_* code>: <why>"``: the ``EDS_*`` texts refuse a *service*
  (4-процесс), which a login is not. Malformed XML and a DOCTYPE (entities) are
  ``EDS_DOCUMENT_MALFORMED`` there; a ``signedXml`` over 64 KiB is ``REQUEST_INVALID`` (422).
  A refusal writes nothing.
- A challenge allows one login. It is spent atomically by the login it lets in (a conditional
  UPDATE: of two concurrent submissions one wins, the other is ``…_USED``); a refused attempt
  does not spend it, so a citizen who picked the SIGN key can sign the same challenge again with
  the AUTH key, and no one can spend another's challenge without that citizen's AUTH key.
- Only the SHA-256 of the nonce is stored. Issuing prunes challenges expired more than
  ``RETENTION`` ago (until then a late or replayed one is named expired or used, not unknown)
  and refuses a new one while ``MAX_CHALLENGES`` are kept (``PORTAL_EDS_CHALLENGE_LIMIT``), so
  the endpoint cannot fill the database.
- ``PORTAL_EDS_ACCOUNT_NOT_FOUND`` tells that the IIN has no account, as egov.kz does, and is no
  enumeration oracle: it is reached only with a valid, trusted, unrevoked AUTH signature, that is
  by the holder of that IIN's key, asking about themselves.
- The password lockout (:mod:`portal.accounts`) does not stop a login by EDS: it guards against
  guessing a password, and a signature by the citizen's key cannot be guessed.
- The password login records no trace event; this one records none either (to be added to both
  together).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, delete, func, insert, select, update

from egovsim import xmldsig
from egovsim.calendar import to_almaty
from egovsim.clock import from_us, to_us
from egovsim.condition2 import EdsVerifier
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.pki import KeyUsageKind, Subject, key_usage_kind
from gateway.channel import relying_party
from portal.accounts import Account
from portal.auth import LoginOut, start_session
from portal.service import Portal
from portal.tables import accounts, eds_challenges

NAMESPACE = "urn:egovsim:portal:eds-login"
FIELDS = ("challenge", "issuedAt", "audience")
CHALLENGE_LIFETIME = timedelta(minutes=5)
RETENTION = timedelta(minutes=5)  # an expired or spent challenge is kept this long after expiry
MAX_CHALLENGES = 10_000
MAX_SIGNED_XML = 64 * 1024  # a signed challenge is about 3 KB

_ELEMENTS = tuple(f"{{{NAMESPACE}}}{name}" for name in FIELDS)
_LOGIN = f"{{{NAMESPACE}}}login"
_DS_SIGNATURE = f"{{{xmldsig.DS}}}Signature"


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    challenge_id: str
    xml: str
    expires_at: datetime


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _issued_at_text(moment: datetime) -> str:
    return to_almaty(moment).isoformat()


def challenge_document(nonce: str, issued_at: datetime, audience: str) -> str:
    """The document a browser signs to log in."""
    root = etree.Element(_LOGIN, nsmap={None: NAMESPACE})
    for tag, text in zip(_ELEMENTS, (nonce, _issued_at_text(issued_at), audience), strict=True):
        etree.SubElement(root, tag).text = text
    return etree.tostring(root, encoding="unicode")


def document_mismatch(root: etree._Element, nonce_sha256: str, issued_at: datetime, audience: str) -> str | None:
    """Why the signed document is not the challenge issued, or None when it is: the three
    elements in order with the issued values, nothing else but the signature (comments aside,
    which no signature covers) and whitespace between them."""
    if root.tag != _LOGIN or root.attrib:
        return f"the document element is {root.tag}, not {_LOGIN} without attributes"
    fields = [child for child in root if isinstance(child.tag, str) and child.tag != _DS_SIGNATURE]
    if [child.tag for child in fields] != list(_ELEMENTS):
        return f"the document must hold {', '.join(FIELDS)} in that order and nothing else"
    texts = [root.text, *(child.tail for child in root)]
    if any(text and text.strip() for text in texts) or any(len(c) or c.attrib for c in fields):
        return "the document holds text, attributes or elements the challenge does not"
    nonce, issued, signed_for = (child.text or "" for child in fields)
    if not hmac.compare_digest(_sha256(nonce), nonce_sha256):
        return "the challenge value is not the one issued under this challengeId"
    if issued != _issued_at_text(issued_at):
        return f"issuedAt is {issued!r}, the challenge was issued at {_issued_at_text(issued_at)}"
    if signed_for != audience:
        return f"signed for the audience {signed_for!r}, not {audience!r}"
    return None


class EdsLogin:
    """Challenges, their checks and the account they log in to, for one process."""

    def __init__(self, kernel: Kernel, verifier: EdsVerifier | None = None) -> None:
        self.kernel = kernel
        self.verifier = verifier or relying_party(kernel)

    @classmethod
    def of(cls, kernel: Kernel) -> EdsLogin:
        """This process's EDS login (created on first use)."""
        login = kernel.shared.get("portal.eds_login")
        if not isinstance(login, EdsLogin):
            login = kernel.shared["portal.eds_login"] = cls(kernel)
        return login

    @property
    def audience(self) -> str:
        """The portal's own address, which a signed challenge must name (the sessions' issuer)."""
        return Portal.of(self.kernel).sessions.issuer

    async def issue(self) -> IssuedChallenge:
        now = self.kernel.clock.now().replace(microsecond=0)  # issuedAt is written in whole seconds
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        challenge_id = secrets.token_hex(16)
        expires = now + CHALLENGE_LIFETIME
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(delete(eds_challenges).where(eds_challenges.c.expires_us <= to_us(now - RETENTION)))
            kept = (await conn.execute(select(func.count()).select_from(eds_challenges))).scalar_one()
            if kept >= MAX_CHALLENGES:
                raise CodedError("PORTAL_EDS_CHALLENGE_LIMIT", f"{kept} challenges are outstanding")
            await conn.execute(
                insert(eds_challenges).values(
                    challenge_id=challenge_id,
                    nonce_sha256=_sha256(nonce),
                    issued_us=to_us(now),
                    expires_us=to_us(expires),
                )
            )
        return IssuedChallenge(challenge_id, challenge_document(nonce, now, self.audience), to_almaty(expires))

    async def authenticate(self, challenge_id: str, signed_xml: str) -> Account:
        """1-шарт by EDS: the account whose holder signed challenge ``challenge_id`` with a valid
        AUTH key; the challenge is spent. Refusals as the module docstring lists them."""
        async with self.kernel.db.engine.connect() as conn:
            query = select(eds_challenges).where(eds_challenges.c.challenge_id == challenge_id)
            challenge = (await conn.execute(query)).first()
        self._check_open(challenge_id, challenge)
        assert challenge is not None
        verdict, verified = await self.verifier.check_xml(signed_xml, require_sign=False)
        if not verdict.valid or verified is None:
            raise CodedError("PORTAL_EDS_LOGIN_REFUSED", f"{verdict.code}: {verdict.detail}")
        usage = key_usage_kind(verified.certificate)
        if usage is not KeyUsageKind.AUTH:
            raise CodedError("PORTAL_EDS_LOGIN_WRONG_KEY", f"key usage is {usage.value}, AUTH is required")
        mismatch = document_mismatch(
            verified.signed_element, challenge.nonce_sha256, from_us(challenge.issued_us), self.audience
        )
        if mismatch:
            raise CodedError("PORTAL_EDS_CHALLENGE_MISMATCH", mismatch)
        iin = Subject.of(verified.certificate.subject).iin
        if iin is None:
            raise CodedError("PORTAL_EDS_LOGIN_REFUSED", "the certificate's subject names no IIN")
        async with self.kernel.db.engine.connect() as conn:
            account = (await conn.execute(select(accounts).where(accounts.c.iin == iin))).first()
        if account is None:
            raise CodedError("PORTAL_EDS_ACCOUNT_NOT_FOUND", f"IIN {iin} of the certificate has no portal account")
        await self._spend(challenge_id)
        return Account(account.iin, account.created_us)

    def _check_open(self, challenge_id: str, challenge: Row[Any] | None) -> None:
        if challenge is None:
            raise CodedError("PORTAL_EDS_CHALLENGE_UNKNOWN", f"no challenge {challenge_id} is kept")
        if challenge.used_us is not None:
            raise CodedError("PORTAL_EDS_CHALLENGE_USED", f"challenge {challenge_id} has let a login in already")
        expires = from_us(challenge.expires_us)
        if expires <= self.kernel.clock.now():
            raise CodedError(
                "PORTAL_EDS_CHALLENGE_EXPIRED", f"challenge {challenge_id} expired at {to_almaty(expires)}"
            )

    async def _spend(self, challenge_id: str) -> None:
        """Marks the challenge used, if it still is open: of concurrent logins one wins."""
        now = to_us(self.kernel.clock.now())
        table = eds_challenges.c
        async with self.kernel.db.engine.begin() as conn:
            spent = await conn.execute(
                update(eds_challenges)
                .where(table.challenge_id == challenge_id, table.used_us.is_(None), table.expires_us > now)
                .values(used_us=now)
            )
            if spent.rowcount == 1:
                return
            challenge = (await conn.execute(select(eds_challenges).where(table.challenge_id == challenge_id))).first()
        self._check_open(challenge_id, challenge)
        raise CodedError("PORTAL_EDS_CHALLENGE_USED", f"challenge {challenge_id} could not be spent")


class ChallengeOut(BaseModel):
    challenge_id: str = Field(serialization_alias="challengeId")
    xml: str = Field(description="the document to sign whole with the AUTH key (enveloped XMLDSig)")
    expires_at: datetime = Field(serialization_alias="expiresAt")


class SignedChallenge(BaseModel):
    """The challenge's id and the document signed (as NCALayer ``signXml`` returns it)."""

    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(alias="challengeId", pattern=r"^[0-9a-f]{32}$")
    signed_xml: str = Field(alias="signedXml", min_length=1, max_length=MAX_SIGNED_XML)


def eds_login_router(kernel: Kernel) -> APIRouter:
    login = EdsLogin.of(kernel)
    api = APIRouter(prefix="/portal/api/login/eds", tags=["portal"])

    @api.post("/challenge", response_model=ChallengeOut, response_model_by_alias=True,
              summary="log in by EDS, step 1: a challenge to sign with the AUTH key (5 minutes)")  # fmt: skip
    async def challenge() -> ChallengeOut:
        issued = await login.issue()
        return ChallengeOut(challenge_id=issued.challenge_id, xml=issued.xml, expires_at=issued.expires_at)

    @api.post("", response_model=LoginOut, response_model_by_alias=True,
              summary="log in by EDS, step 2: the signed challenge for a session token (and cookie)")  # fmt: skip
    async def login_by_eds(body: SignedChallenge, request: Request, response: Response) -> LoginOut:
        """1-процесс / 1-шарт by EDS; refusals at 2-процесс: PORTAL_EDS_LOGIN_REFUSED (condition 2,
        the EDS_* reason in detail), PORTAL_EDS_LOGIN_WRONG_KEY, PORTAL_EDS_CHALLENGE_UNKNOWN /
        _EXPIRED / _USED / _MISMATCH, PORTAL_EDS_ACCOUNT_NOT_FOUND."""
        account = await login.authenticate(body.challenge_id, body.signed_xml)
        return await start_session(request, response, account.iin)

    return api
