"""CMS (PKCS#7 SignedData, RFC 5652) signing and verification with RSA-SHA256.

What NCALayer's ``createCAdESFromBase64`` makes and what NCANode's ``/cms/sign``, ``/cms/sign/add``,
``/cms/verify`` and ``/cms/extract`` do, attached or detached. ``asn1crypto`` builds and parses the
ASN.1, ``cryptography`` does the RSA; the verification is our own (``cryptography`` has no CMS verify).

Only the cryptography of each SignerInfo is checked here: signer certificate found in the
``certificates`` set, contentType and messageDigest signed attributes, RSA PKCS#1 v1.5 signature.
Trust (the chain up to the root, revocation, key usage, validity at signing time) is the caller's
business, done with the certificates this module returns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, core
from asn1crypto import cms as acms
from asn1crypto import tsp as _tsp  # noqa: F401  (registers the ESS signing-certificate attributes)
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_CMS_BYTES = 10_000_000

# -- OIDs -------------------------------------------------------------------------------------------
_ID_DATA = "1.2.840.113549.1.7.1"
_ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_SHA256 = "2.16.840.1.101.3.4.2.1"
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
_ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"
_ATTR_SIGNING_CERT = "1.2.840.113549.1.9.16.2.12"  # ESS signingCertificate (SHA-1 cert hash)
_ATTR_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"  # ESS signingCertificateV2 (CAdES-BES)
# attributes that RFC 5652 §11 / RFC 5035 allow once with a single value
_SINGLE_ATTRS = (
    _ATTR_CONTENT_TYPE,
    _ATTR_MESSAGE_DIGEST,
    _ATTR_SIGNING_TIME,
    _ATTR_SIGNING_CERT,
    _ATTR_SIGNING_CERT_V2,
)

_DIGEST_NAMES = {_SHA256: "sha256"}  # the only digest we accept; sha1, GOST … are "unsupported"
_SIGNATURE_ALGORITHMS = (_RSA_ENCRYPTION, _SHA256_WITH_RSA)  # what OpenSSL and BouncyCastle/Kalkan emit
_ESS_HASHES = {
    "1.3.14.3.2.26": hashlib.sha1,  # ESSCertID: the hash only names the certificate, it signs nothing
    _SHA256: hashlib.sha256,
    "2.16.840.1.101.3.4.2.2": hashlib.sha384,
    "2.16.840.1.101.3.4.2.3": hashlib.sha512,
}

# what asn1crypto and cryptography raise on bad encodings (asn1crypto parses lazily, so these can
# come out of any attribute access on a parsed structure)
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, x509.InvalidVersion)
_PEM = re.compile(rb"-----BEGIN (CMS|PKCS7|PKCS #7 SIGNED DATA)-----(.*?)-----END \1-----", re.DOTALL)
_REASONS = frozenset({"malformed", "bad_signature", "no_data", "unsupported"})


class CmsError(Exception):
    """Why a CMS was refused.

    ``reason`` is one of: ``malformed`` (not ASN.1 / not SignedData / too large / pieces missing, such
    as the signer certificate or a mandatory signed attribute), ``bad_signature`` (the signature or
    the messageDigest does not match: tampered content, wrong detached data, a key that is not the
    certificate's), ``no_data`` (detached CMS and no data given), ``unsupported`` (an algorithm other
    than SHA-256 with RSA PKCS#1 v1.5, or a non-RSA key).
    """

    def __init__(self, reason: str, message: str):
        if reason not in _REASONS:
            raise ValueError(f"unknown CmsError reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class CmsSigner:
    certificate: x509.Certificate
    signing_time: datetime | None  # the signingTime signed attribute (UTC), None if absent
    digest_algorithm: str  # "sha256"


@dataclass(frozen=True)
class VerifiedCms:
    content: bytes  # the signed data: encapsulated, or the detached data given
    signers: list[CmsSigner]  # in the order of the SignerInfos
    detached: bool
    certificates: tuple[x509.Certificate, ...] = ()  # all of the CMS's certificates, for chain building


# -- loading ----------------------------------------------------------------------------------------
def load_cms(data: bytes) -> bytes:
    """DER of a CMS SignedData given as DER, PEM (``CMS``/``PKCS7``) or base64 text.

    The structure is checked (a ContentInfo holding a SignedData, nothing after it); BER with
    indefinite lengths, as streaming encoders write it, is accepted like OpenSSL does.
    """
    return _load(data)[0]


def _load(data: bytes | str) -> tuple[bytes, acms.SignedData]:
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CmsError("malformed", "the CMS must be bytes")
    data = bytes(data)
    if len(data) > 2 * MAX_CMS_BYTES:  # text: checked again on the decoded DER below
        raise CmsError("malformed", f"the CMS is larger than {MAX_CMS_BYTES} bytes")
    der = data if data[:1] == b"\x30" else _decode_text(data)
    if len(der) > MAX_CMS_BYTES:
        raise CmsError("malformed", f"the CMS is larger than {MAX_CMS_BYTES} bytes")
    try:
        return der, _parse_signed_data(der)
    except _PARSE_ERRORS as exc:
        raise CmsError("malformed", f"not a CMS SignedData: {exc}") from exc


def _decode_text(data: bytes) -> bytes:
    text = data.lstrip(b"\xef\xbb\xbf").strip()
    match = _PEM.search(text)
    if match is not None:
        text = match.group(2)
    elif text.startswith(b"-----BEGIN"):
        raise CmsError("malformed", "PEM that is not a CMS (expected BEGIN CMS or BEGIN PKCS7)")
    try:
        der = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CmsError("malformed", "neither DER nor PEM nor base64") from exc
    if der[:1] != b"\x30":
        raise CmsError("malformed", "the decoded CMS is not an ASN.1 SEQUENCE")
    return der


def _parse_signed_data(der: bytes) -> acms.SignedData:
    """Parse and touch every part we rely on, so that bad encodings fail here and not later."""
    info = acms.ContentInfo.load(der, strict=True)
    if info["content_type"].dotted != _ID_SIGNED_DATA:
        raise CmsError("malformed", f"a ContentInfo of type {info['content_type'].dotted}, not signedData")
    sd = info["content"]
    if not isinstance(sd, acms.SignedData):
        raise CmsError("malformed", "the ContentInfo has no SignedData")
    sd["version"].native  # noqa: B018
    for alg in sd["digest_algorithms"]:
        alg["algorithm"].dotted  # noqa: B018
    eci = sd["encap_content_info"]
    eci["content_type"].dotted  # noqa: B018
    eci["content"].native  # noqa: B018
    if not isinstance(sd["certificates"], core.Void):
        for choice in sd["certificates"]:
            choice.name  # noqa: B018
    signer_infos = list(sd["signer_infos"])
    if not signer_infos:
        raise CmsError("malformed", "the SignedData has no SignerInfo")
    for si in signer_infos:
        si["sid"].chosen  # noqa: B018
        si["digest_algorithm"]["algorithm"].dotted  # noqa: B018
        si["signature_algorithm"]["algorithm"].dotted  # noqa: B018
        si["signature"].native  # noqa: B018
        if not isinstance(si["signed_attrs"], core.Void):
            for attr in si["signed_attrs"]:
                attr["type"].dotted  # noqa: B018
    return sd


# -- verification -----------------------------------------------------------------------------------
def verify_cms(cms: bytes, data: bytes | None = None) -> VerifiedCms:
    """Check every SignerInfo of a CMS; raise :class:`CmsError` on the first failure.

    ``data`` is the signed data of a detached CMS. Given with an attached CMS it must equal the
    encapsulated content (else ``bad_signature``): the caller asked to verify *that* data.
    """
    return _verify(_load(cms)[1], data)


def extract_content(cms: bytes) -> bytes:
    """The encapsulated content, unverified (NCANode ``/cms/extract``); ``no_data`` if detached."""
    _, sd = _load(cms)
    content = sd["encap_content_info"]["content"].native
    if content is None:
        raise CmsError("no_data", "a detached CMS holds no content")
    return bytes(content)


def _verify(sd: acms.SignedData, data: bytes | None) -> VerifiedCms:
    try:
        return _verify_signed_data(sd, data)
    except _PARSE_ERRORS as exc:
        raise CmsError("malformed", f"bad CMS structure: {exc}") from exc


def _verify_signed_data(sd: acms.SignedData, data: bytes | None) -> VerifiedCms:
    eci = sd["encap_content_info"]
    content_type = eci["content_type"].dotted
    encapsulated = eci["content"].native
    if encapsulated is None:
        if data is None:
            raise CmsError("no_data", "a detached CMS: the signed data must be given")
        content, detached = bytes(data), True
    else:
        content, detached = bytes(encapsulated), False
        if data is not None and bytes(data) != content:
            raise CmsError("bad_signature", "the data given differ from the content the CMS holds")

    certs = _certificates(sd)
    digest = hashlib.sha256(content).digest()
    signers = [_verify_signer(si, certs, content_type, content, digest) for si in sd["signer_infos"]]
    return VerifiedCms(content, signers, detached, tuple(c for _, c in certs))


def _certificates(sd: acms.SignedData) -> list[tuple[ax509.Certificate, x509.Certificate]]:
    certs: list[tuple[ax509.Certificate, x509.Certificate]] = []
    if isinstance(sd["certificates"], core.Void):
        return certs
    for choice in sd["certificates"]:
        if choice.name != "certificate":  # attribute and other certificates: not signers
            continue
        parsed = choice.chosen
        certs.append((parsed, x509.load_der_x509_certificate(parsed.dump())))
    return certs


def _verify_signer(
    si: acms.SignerInfo,
    certs: list[tuple[ax509.Certificate, x509.Certificate]],
    content_type: str,
    content: bytes,
    digest: bytes,
) -> CmsSigner:
    digest_oid = si["digest_algorithm"]["algorithm"].dotted
    if digest_oid not in _DIGEST_NAMES:
        raise CmsError("unsupported", f"digest algorithm {_oid_name(si['digest_algorithm']['algorithm'])}")
    sig_oid = si["signature_algorithm"]["algorithm"].dotted
    if sig_oid not in _SIGNATURE_ALGORITHMS:
        raise CmsError("unsupported", f"signature algorithm {_oid_name(si['signature_algorithm']['algorithm'])}")

    parsed_cert, cert = _find_signer(si["sid"], certs)
    try:
        public_key = cert.public_key()
    except UnsupportedAlgorithm as exc:
        raise CmsError("unsupported", f"the signer key: {exc}") from exc
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CmsError("unsupported", f"the signer key is {type(public_key).__name__}, not RSA")

    signed_attrs = si["signed_attrs"]
    signing_time: datetime | None = None
    if isinstance(signed_attrs, core.Void):
        # RFC 5652 §5.3: without signed attributes the content must be id-data; the signature is
        # over the content itself
        if content_type != _ID_DATA:
            raise CmsError("malformed", "signed attributes are required for a content type other than data")
        signed_bytes = content
    else:
        attrs = _single_attrs(signed_attrs)
        if _ATTR_CONTENT_TYPE not in attrs or _ATTR_MESSAGE_DIGEST not in attrs:
            raise CmsError("malformed", "the signed attributes lack contentType or messageDigest")
        if attrs[_ATTR_CONTENT_TYPE].dotted != content_type:
            raise CmsError("bad_signature", "the contentType attribute differs from the encapsulated content type")
        if attrs[_ATTR_MESSAGE_DIGEST].native != digest:
            raise CmsError("bad_signature", "the messageDigest does not match the content")
        if _ATTR_SIGNING_TIME in attrs:
            signing_time = attrs[_ATTR_SIGNING_TIME].native
            if not isinstance(signing_time, datetime):
                raise CmsError("malformed", "the signingTime attribute is not a time")
            signing_time = signing_time.astimezone(UTC)
        _check_ess(attrs, parsed_cert)
        # the signature covers the DER of the attributes as a SET OF, not with their [0] IMPLICIT tag
        raw = signed_attrs.dump()
        signed_bytes = b"\x31" + raw[1:]

    try:
        public_key.verify(si["signature"].native, signed_bytes, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise CmsError("bad_signature", "the signature does not match the signer certificate's key") from None
    return CmsSigner(cert, signing_time, _DIGEST_NAMES[digest_oid])


def _oid_name(oid: core.ObjectIdentifier) -> str:
    native = oid.native
    return native if native == oid.dotted else f"{native} ({oid.dotted})"


def _find_signer(
    sid: acms.SignerIdentifier, certs: list[tuple[ax509.Certificate, x509.Certificate]]
) -> tuple[ax509.Certificate, x509.Certificate]:
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native
        issuer_der = issuer.dump()
        for parsed, cert in certs:
            if parsed.serial_number != serial:
                continue
            # the same bytes as a rule; else compare as RFC 5280 §7.1 says (asn1crypto normalises, slowly)
            if parsed.issuer.dump() == issuer_der or parsed.issuer == issuer:
                return parsed, cert
        raise CmsError("malformed", f"the signer certificate (serial {serial:x}) is not in the CMS")
    key_id = sid.chosen.native
    for parsed, cert in certs:
        # RFC 5280 §4.2.1.2 method 1 when the certificate carries no subjectKeyIdentifier
        if (parsed.key_identifier or parsed.public_key.sha1) == key_id:
            return parsed, cert
    raise CmsError("malformed", f"the signer certificate (key id {key_id.hex()}) is not in the CMS")


def _single_attrs(signed_attrs: acms.CMSAttributes) -> dict[str, core.Asn1Value]:
    """The single value of each once-only signed attribute, checking they appear once with one value."""
    found: dict[str, core.Asn1Value] = {}
    for attr in signed_attrs:
        oid = attr["type"].dotted
        if oid not in _SINGLE_ATTRS:
            continue
        values = list(attr["values"])
        if oid in found or len(values) != 1:
            raise CmsError("malformed", f"signed attribute {_oid_name(attr['type'])} must appear once with one value")
        found[oid] = values[0]
    return found


def _check_ess(attrs: dict[str, core.Asn1Value], parsed_cert: ax509.Certificate) -> None:
    """If the signer named its certificate (ESS signing-certificate, CAdES-BES), it must be this one."""
    for oid in (_ATTR_SIGNING_CERT_V2, _ATTR_SIGNING_CERT):
        if oid not in attrs:
            continue
        cert_ids = list(attrs[oid]["certs"])
        if not cert_ids:
            raise CmsError("malformed", "an empty ESS signing-certificate attribute")
        first = cert_ids[0]  # the first names the signer's own certificate (RFC 5035 §5.4)
        hash_oid = first["hash_algorithm"]["algorithm"].dotted if oid == _ATTR_SIGNING_CERT_V2 else "1.3.14.3.2.26"
        hash_fn = _ESS_HASHES.get(hash_oid)
        if hash_fn is None:
            raise CmsError("unsupported", f"ESS certificate hash {hash_oid}")
        if hash_fn(parsed_cert.dump()).digest() != first["cert_hash"].native:
            raise CmsError("bad_signature", "the ESS signing-certificate attribute names another certificate")


# -- signing ----------------------------------------------------------------------------------------
def sign_cms(
    data: bytes,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    detached: bool = False,
    signing_time: datetime | None = None,
) -> bytes:
    """A DER ContentInfo/SignedData over ``data`` with one RSA-SHA256 SignerInfo.

    Signed attributes: contentType (id-data), signingTime (``signing_time``, the simulated clock,
    else now; whole seconds, UTC) and messageDigest. ``certificates`` holds ``cert`` and ``chain``.
    """
    data = bytes(data)
    signer = _signer_info(data, _ID_DATA, key, cert, signing_time)
    certificates = _certificate_set([], [cert, *chain])
    encap: dict[str, object] = {"content_type": "data"}
    if not detached:
        encap["content"] = data
    signed_data = acms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [_sha256_algorithm()],
            "encap_content_info": encap,
            "certificates": certificates,
            "signer_infos": [signer],
        }
    )
    return acms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def add_signer(
    cms: bytes,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    *,
    data: bytes | None = None,
    signing_time: datetime | None = None,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """Add a parallel SignerInfo over the same content (NCANode ``/cms/sign/add``).

    The existing signatures are verified first (``data`` for a detached CMS), so nobody co-signs
    tampered content; their SignerInfos are kept byte for byte. Returns DER.
    """
    _, sd = _load(cms)
    existing = _verify(sd, data)
    content_type = sd["encap_content_info"]["content_type"].dotted  # parsed and checked by _verify
    signer = _signer_info(existing.content, content_type, key, cert, signing_time)
    try:
        digest_algorithms = list(sd["digest_algorithms"])
        if all(alg["algorithm"].dotted != _SHA256 for alg in digest_algorithms):
            digest_algorithms.append(_sha256_algorithm())
        old_certs = [] if isinstance(sd["certificates"], core.Void) else list(sd["certificates"])
        fields: dict[str, object] = {
            "version": sd["version"],
            "digest_algorithms": digest_algorithms,
            "encap_content_info": sd["encap_content_info"],
            "certificates": _certificate_set(old_certs, [cert, *chain]),
            "signer_infos": [*sd["signer_infos"], signer],
        }
        if not isinstance(sd["crls"], core.Void):
            fields["crls"] = sd["crls"]
        signed_data = acms.SignedData(fields)
        return acms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    except _PARSE_ERRORS as exc:
        raise CmsError("malformed", f"bad CMS structure: {exc}") from exc


def _sha256_algorithm() -> algos.DigestAlgorithm:
    # asn1crypto writes NULL parameters, as BouncyCastle (so Kalkan) does; RFC 5754 §2 has verifiers
    # accept both NULL and absent (OpenSSL writes absent), and so do we
    return algos.DigestAlgorithm({"algorithm": "sha256"})


def _certificate_set(
    existing: list[acms.CertificateChoices], add: Sequence[x509.Certificate]
) -> list[acms.CertificateChoices]:
    seen = {choice.dump() for choice in existing}
    result = list(existing)
    for cert in add:
        choice = acms.CertificateChoices(
            {"certificate": ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))}
        )
        encoded = choice.dump()
        if encoded not in seen:
            seen.add(encoded)
            result.append(choice)
    return result


def _signer_info(
    content: bytes, content_type: str, key: rsa.RSAPrivateKey, cert: x509.Certificate, signing_time: datetime | None
) -> acms.SignerInfo:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CmsError("unsupported", f"only RSA keys sign here, not {type(key).__name__}")
    cert_key = cert.public_key()
    if not isinstance(cert_key, rsa.RSAPublicKey) or cert_key.public_numbers() != key.public_key().public_numbers():
        raise ValueError("the private key does not belong to the certificate")
    parsed = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    when = signing_time if signing_time is not None else datetime.now(UTC)
    when = (when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)).replace(microsecond=0)
    # RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise
    time_value = {"utc_time": when} if 1950 <= when.year <= 2049 else {"generalized_time": when}
    attrs = acms.CMSAttributes(  # a SET OF: asn1crypto sorts the encodings (DER)
        [
            {"type": "content_type", "values": [acms.ContentType(content_type)]},
            {"type": "signing_time", "values": [acms.Time(time_value)]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        ]
    )
    signature = key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    return acms.SignerInfo(
        {
            "version": "v1",
            "sid": acms.SignerIdentifier(
                {
                    "issuer_and_serial_number": acms.IssuerAndSerialNumber(
                        {"issuer": parsed.issuer, "serial_number": parsed.serial_number}
                    )
                }
            ),
            "digest_algorithm": _sha256_algorithm(),
            "signed_attrs": attrs,
            # rsaEncryption with NULL parameters, as OpenSSL and BouncyCastle (so Kalkan) write it
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
            ),
            "signature": signature,
        }
    )
