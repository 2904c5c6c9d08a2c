"""The mock НУЦ РК as plain code: CA hierarchy, certificates in the NCA profile, key files,
CRLs and OCSP responses. No web framework and no database here; :mod:`signing.store` keeps
the state and :mod:`signing.router` serves it.

The hierarchy copies the NCA test PKI (``НЕГІЗГІ КО TEST (RSA)`` → ``ҰКО 3.0 (RSA TEST)``),
marked as the simulator's in every name so no one mistakes it for the real one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from egovsim.pki import Oid

SIMULATOR_MARK = "EGOVSIM SIMULATOR - NOT A REAL CA"
ROOT_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "НЕГІЗГІ КО TEST (RSA) EGOVSIM"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SIMULATOR_MARK),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
)
INTERMEDIATE_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "ҰКО 3.0 (RSA TEST) EGOVSIM"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SIMULATOR_MARK),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
)
OCSP_RESPONDER_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "OCSP RESPONDER ҰКО 3.0 (RSA TEST) EGOVSIM"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SIMULATOR_MARK),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
)
FOREIGN_ROOT_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "FOREIGN TEST CA (NOT TRUSTED) EGOVSIM"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
)

CA_KEY_BITS = 4096  # NCA CAs use RSA 4096, end entities RSA 2048 (egov-interfaces §10)
EE_KEY_BITS = 2048
EE_VALIDITY = timedelta(days=365)  # NCA end-entity certificates: exactly one year
CA_VALIDITY = timedelta(days=5 * 365)  # test intermediates: five years
ROOT_VALIDITY = timedelta(days=10 * 365)
BACKDATE = timedelta(minutes=5)  # a certificate is valid from a little before issuance, as CAs do

# file names on /nca/…, after the test PKI's (http://test.pki.gov.kz/crl/nca_rsa_test.crl …)
CRL_FILE = "nca_rsa_test.crl"
DELTA_CRL_FILE = "nca_d_rsa_test.crl"
ROOT_CRL_FILE = "root_rsa_test.crl"
CA_CERT_FILE = "nca_rsa_test.cer"
ROOT_CERT_FILE = "root_rsa_test.cer"


class Profile(enum.StrEnum):
    """Who a certificate is for (egov-interfaces §10)."""

    INDIVIDUAL = "individual"
    CEO = "ceo"
    EMPLOYEE = "employee"
    SYSTEM = "system"  # a gateway sender: portal, ХҚО, a provider, a registry


class KeyKind(enum.StrEnum):
    AUTH = "auth"
    SIGN = "sign"


class RevocationReason(enum.StrEnum):
    """RFC 5280 reason codes by their ASN.1 names."""

    unspecified = "unspecified"
    keyCompromise = "keyCompromise"
    cACompromise = "cACompromise"
    affiliationChanged = "affiliationChanged"
    superseded = "superseded"
    cessationOfOperation = "cessationOfOperation"
    certificateHold = "certificateHold"
    privilegeWithdrawn = "privilegeWithdrawn"
    aACompromise = "aACompromise"

    @property
    def flag(self) -> x509.ReasonFlags:
        return x509.ReasonFlags[_REASON_FLAG_NAMES[self.value]]


_REASON_FLAG_NAMES = {
    "unspecified": "unspecified",
    "keyCompromise": "key_compromise",
    "cACompromise": "ca_compromise",
    "affiliationChanged": "affiliation_changed",
    "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation",
    "certificateHold": "certificate_hold",
    "privilegeWithdrawn": "privilege_withdrawn",
    "aACompromise": "aa_compromise",
}


@dataclass(frozen=True)
class Urls:
    """Where the certificates say their CA certificate, CRLs and OCSP responder are."""

    base: str  # e.g. http://127.0.0.1:8080

    @property
    def crl(self) -> str:
        return f"{self.base}/nca/crl/{CRL_FILE}"

    @property
    def delta_crl(self) -> str:
        return f"{self.base}/nca/crl/{DELTA_CRL_FILE}"

    @property
    def root_crl(self) -> str:
        return f"{self.base}/nca/crl/{ROOT_CRL_FILE}"

    @property
    def ca_cert(self) -> str:
        return f"{self.base}/nca/cert/{CA_CERT_FILE}"

    @property
    def root_cert(self) -> str:
        return f"{self.base}/nca/cert/{ROOT_CERT_FILE}"

    @property
    def ocsp(self) -> str:
        return f"{self.base}/nca/ocsp/"


@dataclass
class KeyPair:
    """A certificate and its private key (a TEST key of the simulator, never a real one)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def from_pem(cls, key_pem: bytes, cert_der: bytes) -> KeyPair:
        # our own keys: skip the slow RSA key validation (pki notes §1: ~45 ms per load)
        key = serialization.load_pem_private_key(key_pem, None, unsafe_skip_rsa_key_validation=True)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(key, x509.load_der_x509_certificate(cert_der))


@dataclass
class Authority:
    """The simulator's CA hierarchy: root, issuing intermediate, delegated OCSP responder.

    ``foreign`` is an unrelated CA with a responder of its own; it exists so scenarios can
    present "a certificate from a foreign CA" and "an OCSP answer from an untrusted responder".
    """

    root: KeyPair
    intermediate: KeyPair
    responder: KeyPair
    foreign_root: KeyPair
    foreign_responder: KeyPair
    urls: Urls
    _issuer_hashes: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.intermediate.cert, self.root.cert]

    def issuer_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        """(issuerNameHash, issuerKeyHash) of the intermediate for an OCSP CertID."""
        cached = self._issuer_hashes.get(algorithm.name)
        if cached is None:
            name_hash = _digest(algorithm, self.intermediate.cert.subject.public_bytes())
            spki = self.intermediate.cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1
            )
            cached = (name_hash, _digest(algorithm, spki))
            self._issuer_hashes[algorithm.name] = cached
        return cached


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def new_key(bits: int = EE_KEY_BITS) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _ca_extensions(
    builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, issuer: KeyPair | None, path_length: int | None
) -> x509.CertificateBuilder:
    builder = (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return builder


def new_authority(now: datetime, urls: Urls, ca_bits: int = CA_KEY_BITS) -> Authority:
    """Create a fresh hierarchy valid from ``now`` (the simulated time)."""
    start = now - timedelta(days=1)
    root_key = new_key(ca_bits)
    root_cert = _ca_extensions(
        _builder(ROOT_NAME, ROOT_NAME, root_key, start, start + ROOT_VALIDITY), root_key, None, None
    ).sign(root_key, hashes.SHA256())
    root = KeyPair(root_key, root_cert)

    inter_key = new_key(ca_bits)
    inter_builder = _ca_extensions(
        _builder(INTERMEDIATE_NAME, ROOT_NAME, inter_key, start, start + CA_VALIDITY), inter_key, root, 0
    )
    inter_builder = (
        inter_builder.add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(Oid.POLICY_NCA_REGULATION, None), x509.PolicyInformation(Oid.POLICY_CA, None)]
            ),
            critical=False,
        )
        .add_extension(_cdp(urls.root_crl), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.root_cert)
                    )
                ]
            ),
            critical=False,
        )
    )
    intermediate = KeyPair(inter_key, inter_builder.sign(root_key, hashes.SHA256()))
    responder = issue_responder(intermediate, OCSP_RESPONDER_NAME, start, start + CA_VALIDITY)

    foreign_key = new_key(EE_KEY_BITS)
    foreign_cert = _ca_extensions(
        _builder(FOREIGN_ROOT_NAME, FOREIGN_ROOT_NAME, foreign_key, start, start + ROOT_VALIDITY),
        foreign_key,
        None,
        None,
    ).sign(foreign_key, hashes.SHA256())
    foreign_root = KeyPair(foreign_key, foreign_cert)
    # an untrusted responder named exactly like ours: only its issuer gives it away
    foreign_responder = issue_responder(foreign_root, OCSP_RESPONDER_NAME, start, start + CA_VALIDITY)
    return Authority(root, intermediate, responder, foreign_root, foreign_responder, urls)


def issue_responder(issuer: KeyPair, name: x509.Name, not_before: datetime, not_after: datetime) -> KeyPair:
    """A delegated OCSP responder certificate (RFC 6960 §4.2.2.2: id-kp-OCSPSigning, ocsp-nocheck)."""
    key = new_key(EE_KEY_BITS)
    cert = (
        _builder(name, issuer.cert.subject, key, not_before, not_after)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return KeyPair(key, cert)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())  # 20 bytes, as the NCA's
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _key_usage(
    digital_signature: bool = False, content_commitment: bool = False, key_encipherment: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])


@dataclass(frozen=True)
class Holder:
    """Who a certificate is issued to. Names in upper-case Cyrillic, as the NCA writes them."""

    profile: Profile
    kind: KeyKind
    iin: str | None = None
    bin: str | None = None
    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    organization: str | None = None
    system_name: str | None = None  # SYSTEM only: e.g. "EGOV PORTAL"
    email: str | None = None

    def subject(self) -> x509.Name:
        # RDN order as openssl prints NCA certificates: CN, SN, serialNumber, C, O, OU, GN
        attrs: list[x509.NameAttribute] = []
        if self.profile is Profile.SYSTEM:
            attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, self.system_name or "SYSTEM"))
        else:
            cn = " ".join(p for p in (self.surname, self.given_name) if p)
            attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn.upper()))
            if self.surname:
                attrs.append(x509.NameAttribute(NameOID.SURNAME, self.surname.upper()))
            if self.iin:
                attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{self.iin}"))
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"))
        if self.organization:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        if self.bin:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{self.bin}"))
        if self.patronymic and self.profile is not Profile.SYSTEM:
            attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, self.patronymic.upper()))
        if self.email:
            attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, self.email))
        return x509.Name(attrs)

    def usage(self) -> tuple[x509.KeyUsage, list[x509.ObjectIdentifier], x509.ObjectIdentifier]:
        """Key usage, extended key usage (purpose and role OIDs) and policy, per §10's table."""
        sign = self.kind is KeyKind.SIGN
        ku = _key_usage(digital_signature=True, content_commitment=sign, key_encipherment=not sign)
        purpose = ExtendedKeyUsageOID.EMAIL_PROTECTION if sign else ExtendedKeyUsageOID.CLIENT_AUTH
        if self.profile is Profile.INDIVIDUAL:
            policy = Oid.POLICY_INDIVIDUAL_SIGN if sign else Oid.POLICY_INDIVIDUAL_AUTH
            return ku, [purpose, Oid.INDIVIDUAL], policy
        policy = Oid.POLICY_LEGAL_SIGN if sign else Oid.POLICY_LEGAL_AUTH
        if self.profile is Profile.CEO:
            return ku, [purpose, Oid.ORGANIZATION, Oid.CEO], policy
        if self.profile is Profile.EMPLOYEE:
            return ku, [purpose, Oid.ORGANIZATION, Oid.EMPLOYEE, Oid.IDENTIFICATION_REMOTE_DIGITAL_ID], policy
        return ku, [purpose, Oid.ORGANIZATION], policy


def issue(
    authority: Authority,
    holder: Holder,
    not_before: datetime,
    not_after: datetime,
    key: rsa.RSAPrivateKey | None = None,
) -> KeyPair:
    """An end-entity certificate in the NCA profile, signed by the intermediate."""
    key = key or new_key()
    ku, eku, policy = holder.usage()
    issuer = authority.intermediate
    urls = authority.urls
    cert = (
        _builder(holder.subject(), issuer.cert.subject, key, not_before, not_after)
        .add_extension(ku, critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(policy, [Oid.CPS_URL])]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .add_extension(_cdp(urls.crl), critical=False)
        .add_extension(
            x509.FreshestCRL(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(urls.delta_crl)], None, None, None)]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.ca_cert)
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
                    ),
                ]
            ),
            critical=False,
        )
        .sign(issuer.key, hashes.SHA256())
    )
    return KeyPair(key, cert)


def key_id(cert: x509.Certificate) -> str:
    """The subject key identifier in hex: the alias and the file-name suffix of NCA key files."""
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()


def key_file_name(cert: x509.Certificate, kind: KeyKind) -> str:
    """``AUTH_RSA256_<id>.p12`` / ``RSA256_<id>.p12``, as the NCA names the files it hands out."""
    prefix = "AUTH_RSA256_" if kind is KeyKind.AUTH else "RSA256_"
    return f"{prefix}{key_id(cert)}.p12"


def pkcs12_bytes(pair: KeyPair, chain: list[x509.Certificate], password: str) -> bytes:
    # AES-256 + PBKDF2 (cryptography's best available), which OpenSSL 3 and Java keystores open
    return pkcs12.serialize_key_and_certificates(
        key_id(pair.cert).encode(),
        pair.key,
        pair.cert,
        chain,
        serialization.BestAvailableEncryption(password.encode()),
    )


# -- CRLs -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrlEntry:
    serial: int
    revoked_at: datetime
    reason: RevocationReason | None  # None in a delta: removeFromCRL (a hold released)


def build_crl(
    issuer: KeyPair,
    entries: list[CrlEntry],
    number: int,
    this_update: datetime,
    next_update: datetime,
    delta_of: int | None = None,
) -> x509.CertificateRevocationList:
    """A v2 CRL; ``delta_of`` makes it a delta CRL over that base CRL number (RFC 5280 §5.2.4)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if delta_of is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta_of), critical=True)
    for entry in entries:
        revoked = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
        flag = entry.reason.flag if entry.reason else x509.ReasonFlags.remove_from_crl
        if flag is not x509.ReasonFlags.unspecified:
            revoked = revoked.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(issuer.key, hashes.SHA256())


# -- OCSP -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertStatus:
    """What the CA knows of one serial: good, revoked (incl. on hold) with time and reason, or unknown."""

    status: ocsp.OCSPCertStatus
    revoked_at: datetime | None = None
    reason: RevocationReason | None = None


def ocsp_error(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def ocsp_response(
    authority: Authority,
    request: ocsp.OCSPRequest,
    status: CertStatus,
    this_update: datetime,
    next_update: datetime,
    responder: KeyPair | None = None,
) -> bytes:
    """A signed BasicOCSPResponse for one CertID, echoing the request's hashes and nonce."""
    responder = responder or authority.responder
    reason = status.reason.flag if status.reason and status.reason is not RevocationReason.unspecified else None
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=request.hash_algorithm,
        cert_status=status.status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=status.revoked_at,
        revocation_reason=reason,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder.cert).certificates([responder.cert])
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce)
    except x509.ExtensionNotFound:
        nonce = None
    if nonce is not None:
        builder = builder.add_extension(nonce.value, critical=False)
    response = builder.sign(responder.key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)
