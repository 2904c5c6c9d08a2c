"""Citizens' accounts on egov.kz: registration, and login by IIN and password.

Regulation 001 (portal chain): 1-процесс, the recipient enters their IIN and password;
1-шарт, the portal checks the registered recipient's data; 2-процесс, on failure a refusal of
authorisation (``PORTAL_AUTH_REFUSED``). Registration itself comes before the regulation's chain
(it presumes a registered recipient); the portal checks the person against ГБД ФЛ through a
:class:`PersonDirectory`.

Passwords are kept as argon2id hashes. Five consecutive failed logins lock the IIN for 30
minutes on the simulated clock. The throttle is kept per IIN whether or not it has an account,
and an unknown IIN is verified against a dummy hash, so neither the answer, its timing nor the
lockout tells which IINs have an account.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from egovsim import passwords
from egovsim.clock import to_us
from egovsim.errors import CodedError
from egovsim.iin import NumberError, parse_iin
from egovsim.kernel import Kernel
from portal.tables import accounts, login_throttle

PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=30)

# what an unknown IIN's password is checked against: the same work as a real account's check

PersonStatus = Literal["alive", "deceased", "absent", "unavailable"]


class PersonDirectory(Protocol):
    """Who ГБД ФЛ says a person is: the check registration makes (ЖТ МДҚ / ГБД ФЛ)."""

    async def status(self, iin: str) -> PersonStatus: ...


@dataclass(frozen=True, slots=True)
class Account:
    iin: str
    created_us: int


def checked_iin(iin: str) -> str:
    try:
        return parse_iin(iin).number
    except NumberError as exc:
        raise CodedError("PORTAL_IIN_INVALID", str(exc)) from exc


def check_password_policy(password: str, iin: str) -> None:
    """The portal's password rules; the first one broken is named in the refusal's detail."""
    if len(password) < PASSWORD_MIN:
        raise CodedError("PORTAL_PASSWORD_POLICY", f"a password has at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise CodedError("PORTAL_PASSWORD_POLICY", f"a password has at most {PASSWORD_MAX} characters")
    if not any(c.isalpha() for c in password) or not any(c.isdecimal() for c in password):
        raise CodedError("PORTAL_PASSWORD_POLICY", "a password has both letters and digits")
    if iin in password:
        raise CodedError("PORTAL_PASSWORD_POLICY", "a password does not contain the IIN")


class Accounts:
    def __init__(self, kernel: Kernel, directory: PersonDirectory) -> None:
        self.kernel = kernel
        self.directory = directory

    async def register(self, iin: str, password: str) -> Account:
        """Registration (before the regulation's chain): the IIN, the password rules, the person
        alive in ГБД ФЛ. Each attempt is traced (``portal:registration``) under its own id, which a
        refusal carries (``traceId`` of the problem)."""
        trace_id = f"REG-{uuid.uuid4().hex[:20].upper()}"
        try:
            account = await self._register(iin, password)
        except CodedError as exc:
            await self.kernel.trace.record(trace_id, "portal", "registration", "refused", code=exc.code,
                                           detail={"reason": (exc.detail or "")[:200]})  # fmt: skip
            exc.extra["traceId"] = trace_id
            raise
        await self.kernel.trace.record(trace_id, "portal", "registration", "ok")
        return account

    async def _register(self, iin: str, password: str) -> Account:
        iin = checked_iin(iin)
        check_password_policy(password, iin)
        status = await self.directory.status(iin)
        if status == "absent":
            raise CodedError("PORTAL_PERSON_NOT_FOUND", f"ГБД ФЛ holds no person with IIN {iin}")
        if status == "deceased":
            raise CodedError("PORTAL_PERSON_DECEASED", f"ГБД ФЛ records the person with IIN {iin} as deceased")
        if status != "alive":
            raise CodedError("PORTAL_PERSON_CHECK_UNAVAILABLE", f"ГБД ФЛ could not be asked about IIN {iin}")
        password_hash = await asyncio.to_thread(passwords.hasher(self.kernel.settings.password_hashing).hash, password)
        created = to_us(self.kernel.clock.now())
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(insert(accounts).values(iin=iin, password_hash=password_hash, created_us=created))
        except IntegrityError as exc:
            raise CodedError("PORTAL_ACCOUNT_EXISTS", f"IIN {iin} already has an account") from exc
        return Account(iin, created)

    async def authenticate(self, iin: str, password: str) -> Account:
        """1-процесс, 1-шарт: the account of ``iin`` if ``password`` is its password; otherwise
        ``PORTAL_AUTH_REFUSED`` (2-процесс), or ``PORTAL_ACCOUNT_LOCKED`` while locked. Each attempt
        is traced under its own id, which a refusal carries (``traceId`` of the problem)."""
        trace_id = f"LOGIN-{uuid.uuid4().hex[:20].upper()}"
        trace = self.kernel.trace
        await trace.record(trace_id, "portal", "1-процесс", "ok")
        try:
            account = await self._authenticate(iin, password)
        except CodedError as exc:  # 1-шарт fails: 2-процесс, the refusal of authorisation
            await trace.record(trace_id, "portal", "1-шарт", "refused", code=exc.code)
            await trace.record(trace_id, "portal", "2-процесс", "refused", code=exc.code)
            exc.extra["traceId"] = trace_id
            raise
        await trace.record(trace_id, "portal", "1-шарт", "ok")
        return account

    async def _authenticate(self, iin: str, password: str) -> Account:
        iin = checked_iin(iin)
        now = self.kernel.clock.now()
        async with self.kernel.db.engine.connect() as conn:
            account = (await conn.execute(select(accounts).where(accounts.c.iin == iin))).first()
            throttle = (await conn.execute(select(login_throttle).where(login_throttle.c.iin == iin))).first()
        if throttle is not None and throttle.locked_until_us is not None and throttle.locked_until_us > to_us(now):
            raise CodedError("PORTAL_ACCOUNT_LOCKED", f"locked for 30 minutes after {MAX_FAILURES} failed logins")
        profile = self.kernel.settings.password_hashing
        stored = account.password_hash if account else passwords.dummy_hash(profile)
        ok = await asyncio.to_thread(passwords.verify, profile, stored, password)
        if not (ok and account):
            await self._failed(iin, now)
            raise CodedError("PORTAL_AUTH_REFUSED", "wrong IIN or password")
        if throttle is not None:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(delete(login_throttle).where(login_throttle.c.iin == iin))
        return Account(account.iin, account.created_us)

    async def _failed(self, iin: str, now: datetime) -> None:
        """Counts a failed login; the MAX_FAILURES-th in a row locks the IIN for LOCKOUT."""
        for _ in range(2):  # a concurrent first failure may insert the row before us: count again
            try:
                async with self.kernel.db.engine.begin() as conn:
                    query = select(login_throttle).where(login_throttle.c.iin == iin).with_for_update()
                    row = (await conn.execute(query)).first()
                    if row is None:
                        await conn.execute(insert(login_throttle).values(iin=iin, failures=1))
                        return
                    # a lock that has run out starts a new count
                    failures = 1 if row.locked_until_us is not None else row.failures + 1
                    locked = to_us(now + LOCKOUT) if failures >= MAX_FAILURES else None
                    await conn.execute(
                        update(login_throttle)
                        .where(login_throttle.c.iin == iin)
                        .values(failures=0 if locked else failures, locked_until_us=locked)
                    )
                    return
            except IntegrityError:
                continue
