"""The mock НУЦ РК with its state: issuance, durable revocation, CRL publication and the OCSP
responder, on signing/'s own tables and the simulated clock.

Revocation status is cached per process and re-read when the state version in the database
moves (checked at most once per ``STATUS_TTL`` of wall time), so a revocation made in one
process of a scaled-out deployment is visible to every responder within that interval and
at once in the process that made it.

The fault knobs (:class:`OcspFault`, :class:`CrlFault`) are global; a call may force the same
faults on itself alone (``X-Egovsim-Fault: ocsp.unavailable``, :mod:`egovsim.call_faults`), which
then win over the knobs for that call.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from egovsim import call_faults
from egovsim.clock import from_us, to_us, wall_now
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.pki import Subject, parse_serial, serial_hex
from signing import ca
from signing.ca import Authority, CertStatus, CrlEntry, Holder, KeyKind, KeyPair, Profile, RevocationReason, Urls
from signing.tables import certificates, crls, keypairs, revocation_log, state

STATUS_TTL = 1.0  # seconds of wall time a process trusts its cached revocation state
FULL_CRL_PERIOD = timedelta(hours=24)  # NCANode refreshes the full CRL daily …
DELTA_CRL_PERIOD = timedelta(hours=1)  # … and the delta hourly
OCSP_VALIDITY = timedelta(minutes=30)
STALE_BY = timedelta(days=1)
ROLES = ("root", "intermediate", "responder", "foreign_root", "foreign_responder")


class OcspFault(enum.StrEnum):
    """Fault knobs of the OCSP responder, for scenarios."""

    none = "none"
    unavailable = "unavailable"  # HTTP 503, no OCSP answer at all
    try_later = "try_later"  # OCSPResponseStatus tryLater
    internal_error = "internal_error"  # OCSPResponseStatus internalError
    untrusted_responder = "untrusted_responder"  # signed by a responder of a foreign CA
    unknown = "unknown"  # certStatus unknown: the responder does not know the certificate


class CrlFault(enum.StrEnum):
    none = "none"
    unavailable = "unavailable"  # HTTP 503
    stale = "stale"  # nextUpdate in the past


@dataclass(frozen=True)
class IssuedCertificate:
    pair: KeyPair
    kind: KeyKind
    chain: list[x509.Certificate]

    @property
    def serial(self) -> str:
        return serial_hex(self.pair.cert)

    @property
    def file_name(self) -> str:
        return ca.key_file_name(self.pair.cert, self.kind)

    def pkcs12(self, password: str) -> bytes:
        return ca.pkcs12_bytes(self.pair, self.chain, password)


@dataclass
class _Snapshot:
    version: int
    ocsp_fault: OcspFault
    crl_fault: CrlFault
    statuses: dict[int, CertStatus]
    read_at: float


@dataclass
class CertificationAuthority:
    kernel: Kernel
    _authority: Authority | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _snapshot: _Snapshot | None = None
    _ocsp_cache: dict[tuple[bytes, bytes, int, str], tuple[int, datetime, bytes]] = field(default_factory=dict)

    # -- the hierarchy ------------------------------------------------------------------------
    @property
    def urls(self) -> Urls:
        base = self.kernel.settings.component_url("signing") or self.kernel.settings.effective_public_url
        return Urls(base.rstrip("/"))

    async def authority(self) -> Authority:
        """The CA hierarchy, created on first use and kept in the database from then on."""
        if self._authority is not None:
            return self._authority
        async with self._lock:
            if self._authority is None:
                self._authority = await self._load_or_create()
        return self._authority

    async def _load_or_create(self) -> Authority:
        db = self.kernel.db
        async with db.engine.connect() as conn:
            rows = {r.role: r for r in (await conn.execute(select(keypairs))).all()}
        if not rows:
            created = await asyncio.to_thread(ca.new_authority, self.kernel.clock.now(), self.urls)
            try:
                async with db.engine.begin() as conn:
                    for role in ROLES:
                        pair: KeyPair = getattr(created, role)
                        await conn.execute(
                            insert(keypairs).values(
                                role=role,
                                key_pem=pair.key_pem().decode(),
                                cert_der=pair.cert.public_bytes(serialization.Encoding.DER),
                                base_url=created.urls.base,
                            )
                        )
                    await conn.execute(insert(state).values(id=1, version=0, ocsp_fault="none", crl_fault="none"))
                return created
            except IntegrityError:  # another process created it first: use theirs
                async with db.engine.connect() as conn:
                    rows = {r.role: r for r in (await conn.execute(select(keypairs))).all()}
        pairs = {role: KeyPair.from_pem(rows[role].key_pem.encode(), rows[role].cert_der) for role in ROLES}
        return Authority(urls=Urls(rows["intermediate"].base_url), **pairs)

    # -- issuance -----------------------------------------------------------------------------
    async def issue(
        self,
        holder: Holder,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        label: str | None = None,
    ) -> IssuedCertificate:
        authority = await self.authority()
        now = self.kernel.clock.now()
        not_before = not_before or now - ca.BACKDATE
        not_after = not_after or not_before + ca.EE_VALIDITY
        if not_after <= not_before:
            raise CodedError("CERT_REQUEST_INVALID", "notAfter must be later than notBefore")
        pair = await asyncio.to_thread(ca.issue, authority, holder, not_before, not_after)
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(
                insert(certificates).values(
                    serial=serial_hex(pair.cert),
                    profile=holder.profile.value,
                    kind=holder.kind.value,
                    iin=holder.iin,
                    bin=holder.bin,
                    subject_dn=pair.cert.subject.rfc4514_string(),
                    not_before_us=to_us(pair.cert.not_valid_before_utc),
                    not_after_us=to_us(pair.cert.not_valid_after_utc),
                    issued_at_us=to_us(now),
                    cert_der=pair.cert.public_bytes(serialization.Encoding.DER),
                    status="good",
                    changed_version=0,  # only revoke / hold / release move it (delta CRLs)
                    label=label,
                )
            )
        return IssuedCertificate(pair, holder.kind, authority.chain)

    async def _version(self, conn) -> int:  # type: ignore[no-untyped-def]
        row = (await conn.execute(select(state.c.version))).first()
        return int(row[0]) if row else 0

    async def list(self, iin: str | None = None, bin: str | None = None, status: str | None = None) -> list[dict]:
        query = select(certificates).order_by(certificates.c.issued_at_us, certificates.c.serial)
        if iin:
            query = query.where(certificates.c.iin == iin)
        if bin:
            query = query.where(certificates.c.bin == bin)
        if status:
            query = query.where(certificates.c.status == status)
        async with self.kernel.db.engine.connect() as conn:
            return [_describe(r) for r in (await conn.execute(query)).all()]

    async def get(self, serial: str) -> dict:
        return _describe(await self._row(serial))

    async def certificate(self, serial: str) -> x509.Certificate:
        return x509.load_der_x509_certificate((await self._row(serial)).cert_der)

    async def _row(self, serial: str):  # type: ignore[no-untyped-def]
        try:
            key = serial_hex(parse_serial(serial))
        except ValueError as exc:
            raise CodedError("CERT_NOT_FOUND", str(exc), serial=serial) from exc
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(certificates).where(certificates.c.serial == key))).first()
        if row is None:
            raise CodedError("CERT_NOT_FOUND", f"no certificate with serial {key} was issued here", serial=serial)
        return row

    # -- revocation ---------------------------------------------------------------------------
    async def revoke(self, serial: str, reason: RevocationReason = RevocationReason.unspecified) -> dict:
        if reason is RevocationReason.certificateHold:
            return await self.hold(serial)
        return await self._change(serial, "revoke", reason)

    async def hold(self, serial: str) -> dict:
        return await self._change(serial, "hold", RevocationReason.certificateHold)

    async def release(self, serial: str) -> dict:
        return await self._change(serial, "release", None)

    async def _change(self, serial: str, action: str, reason: RevocationReason | None) -> dict:
        row = await self._row(serial)
        # RFC 5280 §5.3.1: only a certificate on hold can come back; a revocation is final
        if row.status == "revoked":
            raise CodedError("CERT_STATE_CONFLICT", f"certificate {row.serial} is already revoked", serial=row.serial)
        if action == "release" and row.status != "hold":
            raise CodedError("CERT_STATE_CONFLICT", f"certificate {row.serial} is not on hold", serial=row.serial)
        if action == "hold" and row.status == "hold":
            raise CodedError("CERT_STATE_CONFLICT", f"certificate {row.serial} is already on hold", serial=row.serial)
        now = self.kernel.clock.now()
        async with self.kernel.db.engine.begin() as conn:
            version = await self._version(conn) + 1
            await conn.execute(update(state).where(state.c.id == 1).values(version=version))
            values: dict[str, object] = {"changed_version": version}
            if action == "release":
                values.update(status="good", revoked_at_us=None, reason=None)
            else:
                # a hold turned into a revocation keeps the time the key was first suspended
                at = row.revoked_at_us if row.status == "hold" else to_us(now)
                values.update(status="hold" if action == "hold" else "revoked", revoked_at_us=at, reason=reason.value)
            await conn.execute(update(certificates).where(certificates.c.serial == row.serial).values(**values))
            await conn.execute(
                insert(revocation_log).values(
                    serial=row.serial,
                    action=action,
                    reason=reason.value if reason else None,
                    sim_time_us=to_us(now),
                    wall_time_us=to_us(wall_now()),
                    version=version,
                )
            )
        self._snapshot = None
        return await self.get(row.serial)

    async def set_faults(self, ocsp_fault: OcspFault | None = None, crl_fault: CrlFault | None = None) -> dict:
        await self.authority()
        values: dict[str, str] = {}
        if ocsp_fault is not None:
            values["ocsp_fault"] = ocsp_fault.value
        if crl_fault is not None:
            values["crl_fault"] = crl_fault.value
        if values:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(update(state).where(state.c.id == 1).values(**values))
            self._snapshot = None
        snap = await self.snapshot()
        return {"ocsp": snap.ocsp_fault.value, "crl": snap.crl_fault.value}

    async def snapshot(self) -> _Snapshot:
        """Revocation state and fault knobs, re-read when another process may have changed them."""
        snap = self._snapshot
        if snap is not None and time.monotonic() - snap.read_at < STATUS_TTL:
            return snap
        await self.authority()
        async with self.kernel.db.engine.connect() as conn:
            st = (await conn.execute(select(state).where(state.c.id == 1))).one()
            if snap is not None and snap.version == st.version:
                statuses = snap.statuses
            else:
                rows = (
                    await conn.execute(
                        select(
                            certificates.c.serial,
                            certificates.c.status,
                            certificates.c.revoked_at_us,
                            certificates.c.reason,
                        )
                    )
                ).all()
                statuses = {int(r.serial, 16): _status(r) for r in rows}
        self._snapshot = _Snapshot(
            st.version, OcspFault(st.ocsp_fault), CrlFault(st.crl_fault), statuses, time.monotonic()
        )
        return self._snapshot

    async def _status_of(self, snap: _Snapshot, serial: int) -> CertStatus:
        """A serial the snapshot does not know: issued since it was read, or never issued."""
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(certificates).where(certificates.c.serial == serial_hex(serial)))).first()
        if row is None:
            return _UNKNOWN
        snap.statuses[serial] = _status(row)
        return snap.statuses[serial]

    # -- CRLs ---------------------------------------------------------------------------------
    async def crl(self, kind: str) -> bytes:
        """The current full or delta CRL (DER), issued anew when the state or the period moved on."""
        snap = await self.snapshot()
        crl_fault = _in_force(snap.crl_fault, "crl")
        if crl_fault is CrlFault.unavailable:
            raise CodedError(
                "NCA_UNAVAILABLE", "the CRL distribution point is switched off (a fault knob or this call's fault)"
            )
        now = self.kernel.clock.now()
        if crl_fault is CrlFault.stale:
            return await self._stale_crl(kind, now)
        for _ in range(5):  # lose a race with another process: read what it published
            latest = await self._latest_crl(kind)
            period = FULL_CRL_PERIOD if kind == "full" else DELTA_CRL_PERIOD
            if latest is not None and latest.state_version == snap.version:
                this_update = from_us(latest.this_update_us)
                if this_update <= now < this_update + period / 2:
                    return bytes(latest.der)
            try:
                return await self._publish(kind, now)
            except IntegrityError:
                continue
        raise CodedError("INTERNAL_ERROR", "could not publish a CRL")

    async def _latest_crl(self, kind: str):  # type: ignore[no-untyped-def]
        async with self.kernel.db.engine.connect() as conn:
            return (
                await conn.execute(select(crls).where(crls.c.kind == kind).order_by(crls.c.number.desc()).limit(1))
            ).first()

    async def _publish(self, kind: str, now: datetime) -> bytes:
        authority = await self.authority()
        async with self.kernel.db.engine.begin() as conn:
            st = (await conn.execute(select(state).where(state.c.id == 1))).one()
            number = int((await conn.execute(select(func.max(crls.c.number)))).scalar() or 0) + 1

            async def publish_full() -> bytes:
                entries = await _listed_entries(conn)
                full = ca.build_crl(authority.intermediate, entries, number, now, now + FULL_CRL_PERIOD)
                return await self._store_crl(conn, "full", number, None, st.version, full)

            if kind == "full":
                return await publish_full()
            base_number, base_version = st.delta_base_number, st.delta_base_version
            # re-base daily, and when the simulated clock went back before the base
            if base_number is None or not timedelta(0) <= now - from_us(st.delta_base_at_us) < FULL_CRL_PERIOD:
                # the base of the deltas is the complete CRL as of now; publish it first
                await publish_full()
                base_number, base_version = number, st.version
                await conn.execute(
                    update(state)
                    .where(state.c.id == 1)
                    .values(delta_base_number=number, delta_base_version=st.version, delta_base_at_us=to_us(now))
                )
                number += 1
            changed = (
                await conn.execute(select(certificates).where(certificates.c.changed_version > base_version))
            ).all()
            # a hold released since the base is listed as removeFromCRL (RFC 5280 §5.3.1)
            entries = [_entry(r) if r.status != "good" else _removal(r, now) for r in changed]
            delta = ca.build_crl(
                authority.intermediate, entries, number, now, now + DELTA_CRL_PERIOD, delta_of=base_number
            )
            return await self._store_crl(conn, "delta", number, base_number, st.version, delta)

    async def _store_crl(self, conn, kind, number, base, version, crl: x509.CertificateRevocationList) -> bytes:  # type: ignore[no-untyped-def]
        der = crl.public_bytes(serialization.Encoding.DER)
        await conn.execute(
            insert(crls).values(
                number=number,
                kind=kind,
                base_number=base,
                state_version=version,
                this_update_us=to_us(crl.last_update_utc),
                next_update_us=to_us(crl.next_update_utc),
                der=der,
            )
        )
        return der

    async def _stale_crl(self, kind: str, now: datetime) -> bytes:
        """A CRL whose nextUpdate has passed (fault knob); built on the fly and never stored."""
        authority = await self.authority()
        latest = await self._latest_crl(kind)
        async with self.kernel.db.engine.connect() as conn:
            entries = await _listed_entries(conn)
        start = now - STALE_BY - (FULL_CRL_PERIOD if kind == "full" else DELTA_CRL_PERIOD)
        number = latest.number if latest is not None else 1
        crl = ca.build_crl(
            authority.intermediate,
            entries,
            number,
            start,
            now - STALE_BY,
            delta_of=(latest.base_number or number) if kind == "delta" and latest is not None else None,
        )
        return crl.public_bytes(serialization.Encoding.DER)

    async def root_crl(self) -> bytes:
        """The root's CRL: it lists no intermediate (``openssl verify -crl_check_all`` needs one)."""
        authority = await self.authority()
        now = self.kernel.clock.now()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        crl = ca.build_crl(authority.root, [], int(day.timestamp()) // 86400, day, day + timedelta(days=180))
        return crl.public_bytes(serialization.Encoding.DER)

    # -- OCSP ---------------------------------------------------------------------------------
    async def ocsp(self, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, DER OCSPResponse) for a DER OCSPRequest (RFC 6960 §4.1, A.1)."""
        try:
            request = ocsp.load_der_ocsp_request(body)
            algorithm = request.hash_algorithm
        except Exception:  # any undecodable request: RFC 6960 §2.3 malformedRequest
            return 200, ca.ocsp_error(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        snap = await self.snapshot()
        ocsp_fault = _in_force(snap.ocsp_fault, "ocsp")
        if ocsp_fault is OcspFault.unavailable:
            return 503, b""
        if ocsp_fault is OcspFault.try_later:
            return 200, ca.ocsp_error(ocsp.OCSPResponseStatus.TRY_LATER)
        if ocsp_fault is OcspFault.internal_error:
            return 200, ca.ocsp_error(ocsp.OCSPResponseStatus.INTERNAL_ERROR)
        authority = await self.authority()
        if (request.issuer_name_hash, request.issuer_key_hash) == authority.issuer_hashes(algorithm):
            status = snap.statuses.get(request.serial_number) or await self._status_of(snap, request.serial_number)
        else:  # RFC 6960 §2.2: a CA this responder does not serve
            status = _UNKNOWN
        if ocsp_fault is OcspFault.unknown:  # as a responder whose database lost the certificate
            status = _UNKNOWN
        # a faulted answer is never cached: only the responder's own answers are (responder None)
        responder = authority.foreign_responder if ocsp_fault is OcspFault.untrusted_responder else None
        now = self.kernel.clock.now()
        has_nonce = any(isinstance(e.value, x509.OCSPNonce) for e in request.extensions)
        cache_key = (request.issuer_name_hash, request.issuer_key_hash, request.serial_number, algorithm.name)
        cacheable = responder is None and ocsp_fault is not OcspFault.unknown
        if not has_nonce and cacheable:
            # RFC 5019 §2.2: without a nonce a pre-produced response may be served until it ages
            cached = self._ocsp_cache.get(cache_key)
            if cached is not None and cached[0] == snap.version and cached[1] <= now < cached[1] + OCSP_VALIDITY / 2:
                return 200, cached[2]
        der = ca.ocsp_response(authority, request, status, now, now + OCSP_VALIDITY, responder)
        if not has_nonce and cacheable:
            if len(self._ocsp_cache) > 10_000:
                self._ocsp_cache.clear()
            self._ocsp_cache[cache_key] = (snap.version, now, der)
        return 200, der


_UNKNOWN = CertStatus(ocsp.OCSPCertStatus.UNKNOWN)
_Knob = TypeVar("_Knob", OcspFault, CrlFault)


def _in_force(knob: _Knob, prefix: str) -> _Knob:
    """The knob, unless the call being served forces its own fault on ``prefix`` (``ocsp`` or
    ``crl``, :mod:`egovsim.call_faults`): that one wins, for that call only."""
    forced = call_faults.chosen(prefix)
    return knob if forced is None else type(knob)(forced)


def _status(row) -> CertStatus:  # type: ignore[no-untyped-def]
    if row.status == "good":
        return CertStatus(ocsp.OCSPCertStatus.GOOD)
    return CertStatus(ocsp.OCSPCertStatus.REVOKED, from_us(row.revoked_at_us), RevocationReason(row.reason))


async def _listed_entries(conn) -> list[CrlEntry]:  # type: ignore[no-untyped-def]
    """Every certificate a complete CRL lists now: revoked or on hold."""
    rows = (await conn.execute(select(certificates).where(certificates.c.status != "good"))).all()
    return [_entry(r) for r in rows]


def _entry(row) -> CrlEntry:  # type: ignore[no-untyped-def]
    return CrlEntry(int(row.serial, 16), from_us(row.revoked_at_us), RevocationReason(row.reason))


def _removal(row, now: datetime) -> CrlEntry:  # type: ignore[no-untyped-def]
    return CrlEntry(int(row.serial, 16), now, None)


def _describe(row) -> dict:  # type: ignore[no-untyped-def]
    cert = x509.load_der_x509_certificate(row.cert_der)
    subject = Subject.of(cert.subject)
    return {
        "serial": row.serial,
        "profile": row.profile,
        "kind": row.kind,
        "iin": row.iin,
        "bin": row.bin,
        "subject": subject.dn,
        "commonName": subject.common_name,
        "notBefore": from_us(row.not_before_us).isoformat(),
        "notAfter": from_us(row.not_after_us).isoformat(),
        "status": row.status,
        "revokedAt": from_us(row.revoked_at_us).isoformat() if row.revoked_at_us is not None else None,
        "reason": row.reason,
        "label": row.label,
        "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }


__all__ = ["CertificationAuthority", "CrlFault", "Holder", "IssuedCertificate", "KeyKind", "OcspFault", "Profile"]
