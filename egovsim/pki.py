"""The NCA (НУЦ РК / Ұлттық куәландырушы орталық) certificate profile, read and written.

Shared by the mock CA (signing/, which issues certificates in this profile) and every relying
party (the condition-2 check, the NCANode-compatible API). Facts come from
``shared/reference/egov-interfaces.md`` §10 and §11.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

NCA = "1.2.398.3.3"


class Oid:
    """Object identifiers of the NCA profile (relative ones are under 1.2.398.3.3)."""

    POLICY_NCA_REGULATION = x509.ObjectIdentifier(f"{NCA}.1.1")  # Регламент НУЦ
    POLICY_LEGAL_SIGN = x509.ObjectIdentifier(f"{NCA}.2.1")
    POLICY_LEGAL_AUTH = x509.ObjectIdentifier(f"{NCA}.2.2")
    POLICY_INDIVIDUAL_SIGN = x509.ObjectIdentifier(f"{NCA}.2.3")
    POLICY_INDIVIDUAL_AUTH = x509.ObjectIdentifier(f"{NCA}.2.4")
    POLICY_CA = x509.ObjectIdentifier(f"{NCA}.2")
    # role OIDs live in the extended key usage, not in the policies
    INDIVIDUAL = x509.ObjectIdentifier(f"{NCA}.4.1.1")
    ORGANIZATION = x509.ObjectIdentifier(f"{NCA}.4.1.2")
    CEO = x509.ObjectIdentifier(f"{NCA}.4.1.2.1")
    CAN_SIGN = x509.ObjectIdentifier(f"{NCA}.4.1.2.2")
    CAN_SIGN_FINANCIAL = x509.ObjectIdentifier(f"{NCA}.4.1.2.3")
    HR = x509.ObjectIdentifier(f"{NCA}.4.1.2.4")
    EMPLOYEE = x509.ObjectIdentifier(f"{NCA}.4.1.2.5")
    IDENTIFICATION_REMOTE_DIGITAL_ID = x509.ObjectIdentifier(f"{NCA}.4.3.2.1")
    CPS_URL = "http://pki.gov.kz/cps"


# NCANode's names for the role OIDs (CertificateKeyUser)
KEY_USERS: dict[str, str] = {
    f"{NCA}.4.1.1": "INDIVIDUAL",
    f"{NCA}.4.1.2": "ORGANIZATION",
    f"{NCA}.4.1.2.1": "CEO",
    f"{NCA}.4.1.2.2": "CAN_SIGN",
    f"{NCA}.4.1.2.3": "CAN_SIGN_FINANCIAL",
    f"{NCA}.4.1.2.4": "HR",
    f"{NCA}.4.1.2.5": "EMPLOYEE",
    f"{NCA}.4.2": "NCA_PRIVILEGES",
    f"{NCA}.4.2.1": "NCA_ADMIN",
    f"{NCA}.4.2.2": "NCA_MANAGER",
    f"{NCA}.4.2.3": "NCA_OPERATOR",
    f"{NCA}.4.3": "IDENTIFICATION",
    f"{NCA}.4.3.1": "IDENTIFICATION_CON",
    f"{NCA}.4.3.2": "IDENTIFICATION_REMOTE",
    f"{NCA}.4.3.2.1": "IDENTIFICATION_REMOTE_DIGITAL_ID",
}


class KeyUsageKind(enum.StrEnum):
    """NCANode's ``CertificateKeyUsage``: what a certificate's key may be used for."""

    SIGN = "SIGN"  # digitalSignature + nonRepudiation
    AUTH = "AUTH"  # digitalSignature + keyEncipherment
    UNKNOWN = "UNKNOWN"


def key_usage_kind(cert: x509.Certificate) -> KeyUsageKind:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return KeyUsageKind.UNKNOWN
    if ku.digital_signature and ku.content_commitment:
        return KeyUsageKind.SIGN
    if ku.digital_signature and ku.key_encipherment:
        return KeyUsageKind.AUTH
    return KeyUsageKind.UNKNOWN


def key_users(cert: x509.Certificate) -> list[str]:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [KEY_USERS[o.dotted_string] for o in eku if o.dotted_string in KEY_USERS]


# -- reading a certificate ------------------------------------------------------------------------
def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


@dataclass(frozen=True)
class Subject:
    """What the NCA profile puts in a subject DN, decoded."""

    common_name: str | None
    surname: str | None
    patronymic: str | None
    iin: str | None
    bin: str | None
    organization: str | None
    country: str | None
    email: str | None
    dn: str

    @classmethod
    def of(cls, name: x509.Name) -> Subject:
        serial = _attr(name, NameOID.SERIAL_NUMBER) or ""
        ou = _attr(name, NameOID.ORGANIZATIONAL_UNIT_NAME) or ""
        return cls(
            common_name=_attr(name, NameOID.COMMON_NAME),
            surname=_attr(name, NameOID.SURNAME),
            patronymic=_attr(name, NameOID.GIVEN_NAME),
            iin=serial[3:] if serial.startswith("IIN") else None,
            bin=ou[3:] if ou.startswith("BIN") else None,
            organization=_attr(name, NameOID.ORGANIZATION_NAME),
            country=_attr(name, NameOID.COUNTRY_NAME),
            email=_attr(name, NameOID.EMAIL_ADDRESS),
            dn=name.rfc4514_string(),
        )


def serial_hex(cert_or_serial: x509.Certificate | int) -> str:
    """A serial as NCANode v3 prints it: lower-case hex, no leading zeros."""
    serial = cert_or_serial if isinstance(cert_or_serial, int) else cert_or_serial.serial_number
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """A serial typed by a person: hex as openssl prints it (any case, optional ``0x`` or colons)."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    if not cleaned or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValueError(f"not a hexadecimal serial number: {text!r}")
    return int(cleaned, 16)


def within_validity(cert: x509.Certificate, moment: datetime) -> str | None:
    """``"expired"``, ``"not_yet_valid"`` or None, at ``moment`` (the simulated time)."""
    if moment < cert.not_valid_before_utc:
        return "not_yet_valid"
    if moment > cert.not_valid_after_utc:
        return "expired"
    return None
