"""A local signer that speaks the NCALayer protocol: what a front end written for NCALayer talks to.

NCALayer (НУЦ РК's signing app, «NCALayer бағдарламасы» / «программа NCALayer») listens on
``wss://127.0.0.1:13579/``; egov.kz and every other Kazakh front end sign in the browser by sending
it JSON over that websocket. :class:`NcaLayerSigner` answers the same messages, so such a front end
works against egovsim unchanged. Where NCALayer pops up a native dialog to choose the key file and
type its password, this signer serves a small page on the same host and port
(``http://127.0.0.1:13579/``) listing the waiting requests and the data folder's key files, and an
HTTP JSON API for the same, including a preselection that signs without asking (headless demos,
the pytest plugin).

Wire behaviour (``shared/reference/egov-interfaces.md`` §13; sources below):

* greeting ``{"result":{"version":"1.2"}}``; ``--heartbeat--`` is echoed at once, even while a
  request waits for the user;
* ``kz.gov.pki.knca.commonUtils`` with positional ``args``: ``getActiveTokens`` (``[]``: file keys
  only), ``getKeyInfo``, ``signXml``, ``signXmls``, ``createCAdESFromBase64``, ``changeLocale``;
  replies ``{"code":"200","responseObject":…}`` or ``{"code":"500","message":…}``; the user's
  cancel (or the wait timing out) is ``"message":"action.canceled"``;
* ``kz.gov.pki.knca.basics`` ``sign`` with one argument object; replies
  ``{"status":true,"body":{"result":…}}``, ``{"status":false,"code":…,"message":…}``, and for the
  user's cancel ``{"status":true,"body":{}}`` (a body without ``result``);
* one request at a time per connection, answered in order, as NCALayer does.

Found in sources (read with the search tool):

* ``sigex-kz/ncalayer-js-client`` ``test/test-data.json``: requests and NCALayer's real replies,
  among them the ``signXml`` output (declaration, CRLF between the signature's elements, base64 of
  SignatureValue wrapped at 76 characters with CRLF), ``action.canceled``, and the type-mismatch
  text ``java.lang.IllegalArgumentException: argument type mismatch. Method: <name>``;
* ``sigex-kz/ncalayer-js-client`` ``ncalayer-client.js``: the ``basics`` reply handling (``status``
  false is an error, a body without ``result`` is the user's cancel), the storages, and the
  extended-key-usage OIDs front ends pass to pick SIGN (``1.3.6.1.5.5.7.3.4``) or AUTH
  (``1.3.6.1.5.5.7.3.2``) keys;
* ``pkigovkz/NCALayerJSExample`` ``js/ncalayer.js``: the ``basics.sign`` argument object
  (``signingParams`` values sent as the strings ``"true"``/``"false"``, ``outputCert``, ``logo``)
  and the ``{"signatures":…, "certificate":…}`` result with ``outputCert``;
* public front-end code reading ``getKeyInfo``: the field names ``alias``, ``keyId``,
  ``algorithm``, ``subjectCn``, ``subjectDn``, ``issuerCn``, ``issuerDn``, ``serialNumber``,
  ``certNotBefore``/``certNotAfter`` (parsed with ``new Date(Number(…))``: epoch milliseconds as a
  string), ``authorityKeyIdentifier``, ``pem``.

Inferred, no public source:

* ``getKeyInfo``: ``alias`` is the PKCS#12 friendly name (the НУЦ's files use the subject key
  identifier in hex), ``keyId`` the subject key identifier in hex, ``serialNumber`` lower-case hex,
  the DNs in RFC 4514 order;
* ``basics.sign`` returns a string for a string ``data`` and a list for a list; ``encapsulate`` and
  ``decode`` default to true for CMS; a ``tsaProfile`` is accepted and no timestamp is added;
  error codes ``INVALID_SIGNING_PARAMS``/``SIGNING_FAILURE`` as a protocol reimplementation names
  them;
* the X509Certificate base64 is wrapped like SignatureValue (the sample strips the certificate);
* the texts of wrong-argument-count and unsupported-storage errors, and ``changeLocale``'s empty
  200 reply.

Left out: hardware tokens (``getActiveTokens`` is ``[]``), ``createCAdESFromBase64Hash``,
``createCMSSignatureFromBase64`` (needs a TSA), signing part of a document
(``tbsElementXPath``/``signatureParentElementXPath`` must be empty), a second signature on an
already signed document, ``basics`` formats ``raw`` and ``digested`` data, chain building for
``signerParams.chain``, a revocation check (``allowRevoked`` is accepted and changes nothing), the
``locale`` of the dialog, and the legacy applet API (no ``module``). Requests that need one of
them are answered with a 500 / ``status:false`` naming it. The CRLF layout of SignedInfo's own
children is not reproduced: they are signed, and :func:`egovsim.xmldsig.sign_enveloped` writes
them compact.

Security: the websocket, like NCALayer's, takes requests from any origin (the user decides on the
page); a preselection therefore signs for any page that asks, so preselect test keys only. The
HTTP page and API refuse requests whose ``Host`` is not the signer's own loopback address (DNS
rebinding) and state-changing requests whose ``Origin`` is another origin or whose
``Sec-Fetch-Site`` is not same-origin; the page cannot be framed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import html
import http
import inspect
import ipaddress
import json
import logging
import re
import secrets
import ssl
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from egovsim.cms import sign_cms
from egovsim.pki import KeyUsageKind, Subject, key_usage_kind, parse_serial, serial_hex, within_validity
from egovsim.xmldsig import XmlSignatureError, parse_xml, sign_enveloped, verify_enveloped

__all__ = [
    "BASICS",
    "COMMON_UTILS",
    "DEFAULT_PORT",
    "GREETING",
    "KeyChoiceError",
    "KeyFile",
    "KeyRequirements",
    "KeyType",
    "LoadedKey",
    "NcaLayerSigner",
    "PendingRequest",
    "SignerRefusal",
    "create_cades",
    "find_key_files",
    "key_info",
    "load_key_file",
    "render_chooser",
    "sign_xml",
]

log = logging.getLogger("egovsim.ncalayer")

DEFAULT_PORT = 13579
COMMON_UTILS = "kz.gov.pki.knca.commonUtils"
BASICS = "kz.gov.pki.knca.basics"
GREETING = {"result": {"version": "1.2"}}
HEARTBEAT = "--heartbeat--"
CANCELED = "action.canceled"
PKCS12_STORAGE = "PKCS12"
MAX_MESSAGE_BYTES = 5_000_000  # a websocket message; larger ones close the connection (1009)
MAX_QUEUED_REQUESTS = 64  # per connection, behind the one being answered
MAX_HTTP_BODY_BYTES = 64 * 1024  # the chooser's forms and JSON API carry a few fields
PREVIEW_CHARS = 1500
WRONG_PASSWORD = "Password incorrect."  # NCANode's "Key reading error: Password incorrect."
SIGN_EKU = ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string  # 1.3.6.1.5.5.7.3.4: NCA SIGN keys
AUTH_EKU = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string  # 1.3.6.1.5.5.7.3.2: NCA AUTH keys


class KeyType(enum.StrEnum):
    """NCALayer's ``keyType``: ``SIGNATURE`` wants a SIGN key, ``AUTHENTICATION`` an AUTH key;
    any other value lets the user pick any key (``None`` here)."""

    SIGNATURE = "SIGNATURE"
    AUTHENTICATION = "AUTHENTICATION"

    @classmethod
    def parse(cls, value: str | None) -> KeyType | None:
        try:
            return cls(value) if value is not None else None
        except ValueError:
            return None


# -- failures ---------------------------------------------------------------------------------------
class SignerRefusal(Exception):
    """A request the signer answers with a failure: ``{"code":"500","message":…}`` in
    commonUtils, ``{"status":false,"code":basics_code,"message":…}`` in basics."""

    def __init__(self, message: str, basics_code: str = "SIGNING_FAILURE") -> None:
        super().__init__(message)
        self.message = message
        self.basics_code = basics_code


class _Canceled(Exception):
    """The user cancelled the key choice, or nobody chose before the timeout."""


class KeyChoiceError(Exception):
    """A key choice (page or API) that cannot be taken; the request, if any, stays pending.

    ``code``: ``unknown_request``, ``unknown_key_file``, ``wrong_password``, ``bad_key_file``,
    ``unsuitable_key``; ``status`` is the HTTP status the API answers with.
    """

    _STATUS: ClassVar[dict[str, int]] = {
        "unknown_request": 404,
        "unknown_key_file": 404,
        "wrong_password": 422,
        "bad_key_file": 422,
        "unsuitable_key": 422,
    }

    def __init__(self, code: str, message: str) -> None:
        if code not in self._STATUS:
            raise ValueError(f"unknown KeyChoiceError code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self._STATUS[code]


# -- key files --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFile:
    """A PKCS#12 key file the user can choose, described without its password (from personas.json
    or the certificate PEM the НУЦ writes beside each file)."""

    id: str  # the path relative to the data folder (posix), or the absolute path outside it
    path: Path
    name: str
    kind: str  # SIGN, AUTH or UNKNOWN
    iin: str | None = None
    bin: str | None = None
    persona: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "file": str(self.path),
            "name": self.name,
            "kind": self.kind,
            "iin": self.iin,
            "bin": self.bin,
            "persona": self.persona,
        }

    @property
    def label(self) -> str:
        who = f"IIN {self.iin}" if self.iin else f"BIN {self.bin}" if self.bin else "no IIN known"
        return f"{self.name} · {self.kind} · {who} · {self.path.name}"


@dataclass(frozen=True)
class LoadedKey:
    """A key file opened with its password."""

    file: KeyFile
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    alias: str


def find_key_files(data_dir: Path) -> list[KeyFile]:
    """The key files of ``<data_dir>/personas.json`` (its ``keyFiles`` rows, in order), then every
    other ``*.p12`` under ``<data_dir>/keys/``. Files that do not exist are left out."""
    root = data_dir.resolve()
    found: dict[Path, KeyFile] = {}
    for row in _persona_rows(data_dir / "personas.json"):
        path = Path(str(row["file"]))
        path = (path if path.is_absolute() else data_dir / path).resolve()
        if path.is_file() and path not in found:
            found[path] = _describe(root, path, row)
    keys = data_dir / "keys"
    if keys.is_dir():
        for path in sorted(keys.rglob("*")):
            resolved = path.resolve()
            if path.suffix.lower() == ".p12" and resolved.is_file() and resolved not in found:
                found[resolved] = _describe(root, resolved, None)
    return list(found.values())


def _persona_rows(index: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows = data if isinstance(data, list) else data.get("keyFiles", []) if isinstance(data, dict) else []
    return [r for r in rows if isinstance(r, dict) and isinstance(r.get("file"), str)]


def _describe(root: Path, path: Path, row: dict[str, Any] | None) -> KeyFile:
    cert = _certificate_beside(path)
    subject = Subject.of(cert.subject) if cert is not None else None
    row = row or {}
    if row.get("kind"):
        kind = str(row["kind"]).upper()
    elif cert is not None:
        kind = key_usage_kind(cert).value
    else:  # the НУЦ's file names: AUTH_RSA256_<id>.p12 and RSA256_<id>.p12
        kind = "AUTH" if path.name.startswith("AUTH_") else "SIGN" if path.name.startswith("RSA256_") else "UNKNOWN"
    name = row.get("name") or (subject.common_name if subject else None) or path.stem
    try:
        key_id = path.relative_to(root).as_posix()
    except ValueError:
        key_id = str(path)
    return KeyFile(
        id=key_id,
        path=path,
        name=str(name),
        kind=kind,
        iin=row.get("iin") or (subject.iin if subject else None),
        bin=row.get("bin") or (subject.bin if subject else None),
        persona=row.get("id"),
    )


def _certificate_beside(p12: Path) -> x509.Certificate | None:
    pem = p12.with_name(f"{p12.stem}.crt.pem")
    try:
        return x509.load_pem_x509_certificate(pem.read_bytes())
    except (OSError, ValueError):
        return None


def load_key_file(file: KeyFile, password: str) -> LoadedKey:
    """Open a key file; :class:`KeyChoiceError` ``wrong_password`` or ``bad_key_file`` if it won't."""
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise KeyChoiceError("bad_key_file", f"the key file cannot be read: {exc.strerror}") from None
    try:
        loaded = pkcs12.load_pkcs12(data, password.encode("utf-8"))
    except ValueError:
        if not data.startswith(b"\x30"):
            raise KeyChoiceError("bad_key_file", "the file is not a PKCS#12 key file") from None
        raise KeyChoiceError("wrong_password", WRONG_PASSWORD) from None
    if loaded.cert is None or not isinstance(loaded.key, rsa.RSAPrivateKey):
        raise KeyChoiceError("bad_key_file", "the key file holds no RSA key with its certificate")
    cert = loaded.cert.certificate
    alias = (loaded.cert.friendly_name or b"").decode("utf-8", "replace") or _key_id(cert) or serial_hex(cert)
    return LoadedKey(file, loaded.key, cert, alias)


@dataclass(frozen=True)
class KeyRequirements:
    """What a request asks of the key: NCALayer shows only the keys that fit, so a key that does
    not is refused with the reason."""

    key_type: KeyType | None = None
    ext_key_usage_oids: tuple[str, ...] = ()
    iin: str | None = None
    bin: str | None = None
    serial_number: str | None = None
    allow_expired: bool = False

    def refusal(self, cert: x509.Certificate, now: datetime) -> str | None:
        kind = key_usage_kind(cert)
        if self.key_type is KeyType.SIGNATURE and kind is not KeyUsageKind.SIGN:
            return f"keyType SIGNATURE needs a SIGN key (RSA256_….p12); this key is {kind.value}"
        if self.key_type is KeyType.AUTHENTICATION and kind is not KeyUsageKind.AUTH:
            return f"keyType AUTHENTICATION needs an AUTH key (AUTH_RSA256_….p12); this key is {kind.value}"
        if self.ext_key_usage_oids:
            try:
                eku = {o.dotted_string for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
            except x509.ExtensionNotFound:
                eku = set()
            missing = [o for o in self.ext_key_usage_oids if o not in eku]
            if missing:
                return f"the certificate lacks the extended key usage {', '.join(missing)} asked for"
        subject = Subject.of(cert.subject)
        if self.iin and subject.iin != self.iin:
            return f"the certificate's IIN {subject.iin or '(none)'} is not the IIN {self.iin} asked for"
        if self.bin and subject.bin != self.bin:
            return f"the certificate's BIN {subject.bin or '(none)'} is not the BIN {self.bin} asked for"
        if self.serial_number:
            try:
                wanted = parse_serial(self.serial_number)
            except ValueError:
                return f"the serial number {self.serial_number!r} asked for is not hexadecimal"
            if wanted != cert.serial_number:
                return f"the certificate's serial number {serial_hex(cert)} is not {self.serial_number}"
        if not self.allow_expired:
            state = within_validity(cert, now)
            if state == "expired":
                return f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"
            if state == "not_yet_valid":
                return f"the certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d}"
        return None

    @property
    def kind(self) -> str | None:
        """The key usage kind (SIGN, AUTH) the key type asks for; None for any."""
        return {KeyType.SIGNATURE: "SIGN", KeyType.AUTHENTICATION: "AUTH", None: None}[self.key_type]

    def fits_kind(self, kind: str) -> bool:
        """Whether a key file of this kind (known without its password) can fit."""
        return self.kind is None or kind in (self.kind, "UNKNOWN")

    def describe(self) -> str:
        parts = [f"keyType {self.key_type.value}" if self.key_type else "any key"]
        parts += [f"IIN {self.iin}"] if self.iin else []
        parts += [f"BIN {self.bin}"] if self.bin else []
        parts += [f"serial {self.serial_number}"] if self.serial_number else []
        parts += [f"extended key usage {', '.join(self.ext_key_usage_oids)}"] if self.ext_key_usage_oids else []
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "keyType": self.key_type.value if self.key_type else None,
            "extKeyUsageOids": list(self.ext_key_usage_oids),
            "iin": self.iin,
            "bin": self.bin,
            "serialNumber": self.serial_number,
        }


# -- what is signed, and how ------------------------------------------------------------------------
# the signature sign_enveloped appends (compact; xmlns:ds left out when the root declares it already)
_DS_HEAD = re.compile(r'<ds:Signature(?: xmlns:ds="http://www\.w3\.org/2000/09/xmldsig#")?>(?=<ds:SignedInfo>)')
_DS_TAIL = re.compile(
    r"</ds:SignedInfo><ds:SignatureValue>(?P<value>[A-Za-z0-9+/=]+)</ds:SignatureValue>"
    r"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>(?P<cert>[A-Za-z0-9+/=]+)</ds:X509Certificate>"
    r"</ds:X509Data></ds:KeyInfo></ds:Signature>"
)


def _wrap76(b64: str) -> str:
    """Base64 as Java's MIME encoder (and so NCALayer) writes it: 76-character lines, CRLF."""
    return "\r\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))


def sign_xml(xml: str, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> str:
    """The document signed as NCALayer ``signXml`` returns it.

    :func:`egovsim.xmldsig.sign_enveloped` makes the signature (enveloped, C14N 1.0, rsa-sha256,
    ``URI=""``, X509Data, the XML declaration with ``standalone="no"``); here only its layout
    outside SignedInfo becomes NCALayer's: CRLF between the signature's elements, and the base64
    of SignatureValue and X509Certificate wrapped at 76 characters with CRLF. None of that is
    signed: SignatureValue and KeyInfo lie outside SignedInfo (which has no Reference to KeyInfo),
    and the enveloped-signature transform takes the whole ``ds:Signature`` out of the digest;
    base64 decoding skips the line breaks. The result is verified before it is handed out.
    """
    signed = sign_enveloped(xml, key, cert).decode("utf-8")
    # ours is the last signature: the document held none, and it is the root's last child
    tails = list(_DS_TAIL.finditer(signed))
    heads = list(_DS_HEAD.finditer(signed, 0, tails[-1].start())) if tails else []
    if not heads:
        raise RuntimeError("egovsim.xmldsig.sign_enveloped changed its output; signing/ncalayer.py must follow")
    head, tail = heads[-1], tails[-1]
    formatted = (
        signed[: head.end()]
        + "\r\n"
        + signed[head.end() : tail.start()]
        + "</ds:SignedInfo>\r\n<ds:SignatureValue>\r\n"
        + _wrap76(tail["value"])
        + "\r\n</ds:SignatureValue>\r\n<ds:KeyInfo>\r\n<ds:X509Data>\r\n<ds:X509Certificate>\r\n"
        + _wrap76(tail["cert"])
        + "\r\n</ds:X509Certificate>\r\n</ds:X509Data>\r\n</ds:KeyInfo>\r\n</ds:Signature>"
        + signed[tail.end() :]
    )
    verify_enveloped(formatted.encode("utf-8"))  # never hand out a signature that does not verify
    return formatted


def create_cades(data: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate, attach: bool, now: datetime) -> str:
    """``createCAdESFromBase64``: a CMS SignedData (RSA-SHA256, signingTime ``now``) in base64,
    the data inside it when ``attach``; made by :func:`egovsim.cms.sign_cms`."""
    return base64.b64encode(sign_cms(data, key, cert, detached=not attach, signing_time=now)).decode("ascii")


def _sign_document(payload: str | bytes, loaded: LoadedKey, attach: bool, now: datetime) -> str:
    """basics.sign of one document: XML text is signed as XML, bytes as CMS."""
    if isinstance(payload, str):
        return sign_xml(payload, loaded.key, loaded.certificate)
    return create_cades(payload, loaded.key, loaded.certificate, attach, now)


def _key_id(cert: x509.Certificate) -> str:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        return ""


def key_info(loaded: LoadedKey) -> dict[str, str]:
    """``getKeyInfo``'s responseObject (field names found in front-end code; formats inferred,
    see the module docstring)."""
    cert = loaded.certificate
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier or b""
    except x509.ExtensionNotFound:
        aki = b""
    subject_cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_cn = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "alias": loaded.alias,
        "keyId": _key_id(cert),
        "algorithm": "RSA",
        "subjectCn": str(subject_cn[0].value) if subject_cn else "",
        "subjectDn": cert.subject.rfc4514_string(),
        "issuerCn": str(issuer_cn[0].value) if issuer_cn else "",
        "issuerDn": cert.issuer.rfc4514_string(),
        "serialNumber": serial_hex(cert),
        "certNotBefore": str(int(cert.not_valid_before_utc.timestamp() * 1000)),
        "certNotAfter": str(int(cert.not_valid_after_utc.timestamp() * 1000)),
        "authorityKeyIdentifier": aki.hex(),
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


# -- the requests -----------------------------------------------------------------------------------
@dataclass(eq=False)
class PendingRequest:
    """A signing request waiting for the user to choose a key file (NCALayer's open dialog)."""

    id: str
    module: str
    method: str
    requirements: KeyRequirements
    preview: str
    documents: int
    origin: str | None
    created: datetime
    future: asyncio.Future[LoadedKey | None] = field(repr=False)
    error: str | None = None  # the last refused choice, shown on the page

    def as_json(self) -> dict[str, Any]:
        return {
            "requestId": self.id,
            "module": self.module,
            "method": self.method,
            "requirements": self.requirements.as_json(),
            "keyType": self.requirements.key_type.value if self.requirements.key_type else None,
            "preview": self.preview,
            "documents": self.documents,
            "origin": self.origin,
            "createdAt": self.created.isoformat(),
            "error": self.error,
        }


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _preview_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"({len(data)} bytes of binary data)"
    if any(ord(c) < 32 and c not in "\r\n\t" for c in text[:PREVIEW_CHARS]):
        return f"({len(data)} bytes of binary data)"
    return _preview(text)


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignerRefusal(f"{what} is not valid base64", "INVALID_SIGNING_PARAMS") from None


def _check_xml(xml: str) -> None:
    """Refuse what cannot be signed before the user is asked, as NCALayer does for bad XML."""
    try:
        root = parse_xml(xml)
    except XmlSignatureError as exc:
        raise SignerRefusal(f"the XML cannot be parsed: {exc.message}", "INVALID_SIGNING_PARAMS") from None
    if next(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"), None) is not None:
        raise SignerRefusal(
            "the XML already holds a ds:Signature; egovsim's signer adds none to a signed document",
            "INVALID_SIGNING_PARAMS",
        )


# commonUtils methods: the Java parameter types of NCALayer's methods, checked as Java's reflection
# does ("argument type mismatch"); JSON null is no String there either (sigex test-data.json)
_COMMON_UTILS_ARGS: dict[str, tuple[type, ...]] = {
    "getActiveTokens": (),
    "getKeyInfo": (str,),
    "signXml": (str, str, str, str, str),
    "signXmls": (str, str, list, str, str),
    "createCAdESFromBase64": (str, str, str, bool),
    "createCAdESFromBase64Hash": (str, str, str),
    "createCMSSignatureFromBase64": (str, str, str, bool),
    "changeLocale": (str,),
}


def _positional(method: str, args: Any, types: tuple[type, ...]) -> list[Any]:
    args = [] if args is None else args
    if not isinstance(args, list):
        raise SignerRefusal(f"java.lang.IllegalArgumentException: argument type mismatch. Method: {method}")
    if len(args) != len(types):
        raise SignerRefusal(f"java.lang.IllegalArgumentException: wrong number of arguments. Method: {method}")
    for value, wanted in zip(args, types, strict=True):
        ok = isinstance(value, wanted) and (wanted is bool or not isinstance(value, bool))
        if ok and wanted is list:
            ok = all(isinstance(item, str) for item in value)
        if not ok:
            raise SignerRefusal(f"java.lang.IllegalArgumentException: argument type mismatch. Method: {method}")
    return args


def _storage(storage: str) -> None:
    if storage != PKCS12_STORAGE:
        raise SignerRefusal(
            f"storage {storage} is not available: egovsim's signer holds PKCS12 key files only "
            "(getActiveTokens answers [])"
        )


class _SigningParams(BaseModel):
    """``signingParams``; the field names are NCALayer's (camelCase)."""

    model_config = ConfigDict(extra="ignore")

    decode: bool = True
    encapsulate: bool = True
    digested: bool = False
    tsaProfile: dict[str, Any] | None = None
    allowExpired: bool = False
    allowRevoked: bool = False
    outputCert: bool = False


class _SignerParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    extKeyUsageOids: list[str] = Field(default_factory=list)
    iin: str | None = None
    bin: str | None = None
    serialNumber: str | None = None
    chain: list[str] | None = None


class _BasicsSign(BaseModel):
    """``kz.gov.pki.knca.basics`` ``sign``'s argument object (``logo`` and the like are ignored)."""

    model_config = ConfigDict(extra="ignore")

    allowedStorages: list[str] | None = None
    format: str
    data: str | list[str]
    signingParams: _SigningParams = Field(default_factory=_SigningParams)
    signerParams: _SignerParams = Field(default_factory=_SignerParams)
    locale: str | None = None


# -- the HTTP API's bodies --------------------------------------------------------------------------
class _ChooseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requestId: str
    keyFile: str
    password: str


class _CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requestId: str


class _PreselectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyFile: str
    password: str
    keyType: Literal["SIGNATURE", "AUTHENTICATION"] | None = None


# -- the signer -------------------------------------------------------------------------------------
class NcaLayerSigner:
    """The signer: ``await start()``, then front ends connect to :attr:`url` and the user chooses
    keys at :attr:`chooser_url`; ``await stop()`` ends it (pending requests get action.canceled).

    ``port=0`` takes a free port (tests); :attr:`port` is the bound one. ``tls=True`` serves
    ``wss://``/``https://`` with a self-signed localhost certificate made once in
    ``<data_dir>/ncalayer/``. ``clock`` gives "now" for validity checks and CMS signingTime (the
    simulated clock under ``egovsim up``); ``timeout`` is how long a request waits for a choice.

    The methods behind the page and the HTTP API are public for in-process use: :meth:`pending`,
    :meth:`choose`, :meth:`cancel`, :meth:`preselect`, :meth:`clear_preselection`,
    :meth:`key_files`; :meth:`answer` is the protocol without a socket.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        tls: bool = False,
        timeout: float = 300.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.tls = tls
        self.timeout = timeout
        self._requested_port = port
        self._clock = clock or (lambda: datetime.now(UTC))
        self._server: Server | None = None
        self._pending: dict[str, PendingRequest] = {}
        self._preselected: dict[KeyType | None, LoadedKey] = {}
        self._hosts: frozenset[str] = frozenset()

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen; raises ``OSError`` when the port is taken."""
        if self._server is not None:
            raise RuntimeError("the signer is already started")
        if "method" not in {f.name for f in fields(Request)}:
            # older websockets close non-GET requests before process_request sees them
            raise RuntimeError("the chooser's forms need a newer websockets (one whose Request has a method)")
        context = _tls_context(self.data_dir / "ncalayer") if self.tls else None
        self._server = await serve(
            self._serve_connection,
            self.host,
            self._requested_port,
            process_request=self._process_request,
            create_connection=_SignerConnection,
            max_size=MAX_MESSAGE_BYTES,
            ssl=context,
            server_header=None,
        )
        port = self.port
        names = {"127.0.0.1", "localhost", "[::1]"}
        if self.host not in ("", "0.0.0.0", "::"):
            names.add(f"[{self.host}]" if ":" in self.host else self.host)
            self._hosts = frozenset(f"{name}:{port}" for name in names)
        else:
            self._hosts = frozenset()  # listening on every interface: any Host (documented)
        log.info("NCALayer-protocol signer listening on %s", self.url)

    async def stop(self) -> None:
        for request in list(self._pending.values()):
            if not request.future.done():
                request.future.set_result(None)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> NcaLayerSigner:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the signer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def _address(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The websocket front ends connect to (NCALayer's is ``wss://127.0.0.1:13579/``)."""
        return f"{'wss' if self.tls else 'ws'}://{self._address}/"

    @property
    def chooser_url(self) -> str:
        """The page where the user chooses key files."""
        return f"{'https' if self.tls else 'http'}://{self._address}/"

    def _now(self) -> datetime:
        return self._clock()

    # -- the user's part, in-process ------------------------------------------------------------
    def key_files(self) -> list[KeyFile]:
        return find_key_files(self.data_dir)

    def key_file(self, ref: str) -> KeyFile:
        """A key file by its id or its path (absolute, or relative to the data folder)."""
        files = self.key_files()
        for file in files:
            if ref == file.id:
                return file
        candidates = {Path(ref).resolve(), (self.data_dir / ref).resolve()} if ref else set()
        for file in files:
            if file.path in candidates:
                return file
        raise KeyChoiceError("unknown_key_file", f"no key file {ref!r} in {self.data_dir}")

    def pending(self) -> list[PendingRequest]:
        return sorted(self._pending.values(), key=lambda r: r.created)

    def preselected(self) -> dict[str, dict[str, Any] | None]:
        return {
            (slot.value if slot else "any"): (
                self._preselected[slot].file.as_json() if slot in self._preselected else None
            )
            for slot in (None, KeyType.SIGNATURE, KeyType.AUTHENTICATION)
        }

    async def choose(self, request_id: str, key_file: str, password: str) -> None:
        """Answer a pending request with a key file; a wrong password or a key that does not fit
        raises :class:`KeyChoiceError` and the request stays pending, its ``error`` set."""
        request = self._request(request_id)
        try:
            file = self.key_file(key_file)
            loaded = await asyncio.to_thread(load_key_file, file, password)
            refusal = request.requirements.refusal(loaded.certificate, self._now())
            if refusal is not None:
                raise KeyChoiceError("unsuitable_key", f"{file.name}: {refusal}")
        except KeyChoiceError as exc:
            request.error = exc.message
            raise
        request = self._request(request_id)  # still there after the key file was read?
        request.future.set_result(loaded)

    def cancel(self, request_id: str) -> None:
        """The user's Cancel: the request is answered with action.canceled."""
        self._request(request_id).future.set_result(None)

    def _request(self, request_id: str) -> PendingRequest:
        request = self._pending.get(request_id)
        if request is None or request.future.done():
            raise KeyChoiceError("unknown_request", f"no pending signing request {request_id!r}")
        return request

    async def preselect(self, key_file: str, password: str, key_type: KeyType | None = None) -> LoadedKey:
        """Sign every following request (of ``key_type``, or any when None) with this key without
        asking. A request takes the preselection of its keyType, else the one for any."""
        file = self.key_file(key_file)
        loaded = await asyncio.to_thread(load_key_file, file, password)
        # validity is checked at each request, against the (simulated) time of that request
        refusal = KeyRequirements(key_type=key_type, allow_expired=True).refusal(loaded.certificate, self._now())
        if refusal is not None:
            raise KeyChoiceError("unsuitable_key", f"{file.name}: {refusal}")
        self._preselected[key_type] = loaded
        return loaded

    def clear_preselection(self) -> None:
        """Ask the user again for every following request."""
        self._preselected.clear()

    def _preselection_for(self, key_type: KeyType | None) -> LoadedKey | None:
        order = [key_type, None] if key_type else [None, KeyType.SIGNATURE, KeyType.AUTHENTICATION]
        return next((self._preselected[slot] for slot in order if slot in self._preselected), None)

    async def _key_for(
        self, module: str, method: str, requirements: KeyRequirements, preview: str, documents: int, origin: str | None
    ) -> LoadedKey:
        """The key for a request: the preselected one, else the user's choice (waits)."""
        chosen = self._preselection_for(requirements.key_type)
        if chosen is not None:
            refusal = requirements.refusal(chosen.certificate, self._now())
            if refusal is not None:
                raise SignerRefusal(f"the preselected key file {chosen.file.name} does not fit: {refusal}")
            return chosen
        request = PendingRequest(
            id=secrets.token_hex(8),
            module=module,
            method=method,
            requirements=requirements,
            preview=preview,
            documents=documents,
            origin=origin,
            created=datetime.now(UTC),
            future=asyncio.get_running_loop().create_future(),
        )
        self._pending[request.id] = request
        try:
            async with asyncio.timeout(self.timeout):
                loaded = await request.future
        except TimeoutError:
            loaded = None
        finally:
            self._pending.pop(request.id, None)
        if loaded is None:
            raise _Canceled
        return loaded

    # -- the protocol ---------------------------------------------------------------------------
    async def answer(self, message: str, origin: str | None = None) -> str:
        """The reply to one websocket message (the protocol without the socket). Never raises
        for anything the client sent; a request asking for a key waits for the user."""
        try:
            request = json.loads(message)
        except (ValueError, RecursionError) as exc:
            return _common_failure(f"the request is not JSON: {exc}")
        if not isinstance(request, dict):
            return _common_failure("the request is not a JSON object with module, method and args")
        module, method = request.get("module"), request.get("method")
        try:
            if module == COMMON_UTILS:
                return await self._common_utils(method, request.get("args"), origin)
            if module == BASICS:
                return await self._basics(method, request.get("args"), origin)
        except Exception:  # a bug here must not end the connection: the client gets a 500
            log.exception("NCALayer request failed: %s.%s", module, method)
            return _common_failure("internal error of egovsim's signer; see its log")
        if module is None:
            return _common_failure("the legacy applet API (requests without module) is not supported by egovsim")
        return _common_failure(f"unknown module {module!r}: egovsim's signer serves {COMMON_UTILS} and {BASICS}")

    async def _common_utils(self, method: Any, raw_args: Any, origin: str | None) -> str:
        types = _COMMON_UTILS_ARGS.get(method) if isinstance(method, str) else None
        if types is None:
            return _common_failure(f"unknown method {method!r} of {COMMON_UTILS}")
        try:
            args = _positional(method, raw_args, types)
            result = await self._common_utils_call(method, args, origin)
        except SignerRefusal as exc:
            return _common_failure(exc.message)
        except _Canceled:
            return _common_failure(CANCELED)
        reply: dict[str, Any] = {"code": "200"}
        if result is not None:
            reply["responseObject"] = result
        return json.dumps(reply, ensure_ascii=False)

    async def _common_utils_call(self, method: str, args: list[Any], origin: str | None) -> Any:
        if method == "getActiveTokens":
            return []  # no hardware tokens: PKCS12 files only
        if method == "changeLocale":
            return None
        _storage(args[0])
        if method == "getKeyInfo":
            loaded = await self._key_for(COMMON_UTILS, method, KeyRequirements(), "(the key's details)", 0, origin)
            return key_info(loaded)
        requirements = KeyRequirements(key_type=KeyType.parse(args[1]))
        if method in ("signXml", "signXmls"):
            if args[3] or args[4]:
                raise SignerRefusal(
                    "tbsElementXPath and signatureParentElementXPath are not supported by egovsim's signer; "
                    'pass "" to sign the whole document'
                )
            xmls: list[str] = args[2] if method == "signXmls" else [args[2]]
            if not xmls:
                raise SignerRefusal("signXmls got an empty list of documents")
            for xml in xmls:
                _check_xml(xml)
            preview = _preview(xmls[0]) + (f"\n(and {len(xmls) - 1} more documents)" if len(xmls) > 1 else "")
            loaded = await self._key_for(COMMON_UTILS, method, requirements, preview, len(xmls), origin)
            signed = [await asyncio.to_thread(sign_xml, xml, loaded.key, loaded.certificate) for xml in xmls]
            return signed if method == "signXmls" else signed[0]
        if method == "createCAdESFromBase64":
            data = _b64decode(args[2], "dataB64")
            loaded = await self._key_for(COMMON_UTILS, method, requirements, _preview_bytes(data), 1, origin)
            now = self._now()
            return await asyncio.to_thread(create_cades, data, loaded.key, loaded.certificate, args[3], now)
        if method == "createCAdESFromBase64Hash":
            raise SignerRefusal("createCAdESFromBase64Hash is not supported by egovsim's signer (sign the data)")
        raise SignerRefusal(
            "createCMSSignatureFromBase64 (CMS with a TSP timestamp; deprecated) is not supported by egovsim's "
            "signer: use createCAdESFromBase64"
        )

    async def _basics(self, method: Any, raw_args: Any, origin: str | None) -> str:
        if method != "sign":
            return _basics_failure("INVOCATION_ERROR", f"unknown method {method!r} of {BASICS}")
        try:
            args = _BasicsSign.model_validate(raw_args)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return _basics_failure("INVALID_SIGNING_PARAMS", f"args.{where}: {first['msg']}")
        try:
            result = await self._basics_sign(args, origin)
        except SignerRefusal as exc:
            return _basics_failure(exc.basics_code, exc.message)
        except _Canceled:
            return json.dumps({"status": True, "body": {}})
        return json.dumps({"status": True, "body": {"result": result}}, ensure_ascii=False)

    async def _basics_sign(self, args: _BasicsSign, origin: str | None) -> Any:
        params, signer = args.signingParams, args.signerParams
        if args.allowedStorages is not None and args.allowedStorages and PKCS12_STORAGE not in args.allowedStorages:
            raise SignerRefusal(
                f"allowedStorages {args.allowedStorages} leaves out PKCS12, the only storage egovsim's signer has",
                "INVALID_SIGNING_PARAMS",
            )
        if args.format not in ("xml", "cms"):
            raise SignerRefusal(f"format {args.format!r} is not supported here (xml or cms)", "INVALID_SIGNING_PARAMS")
        if params.digested:
            raise SignerRefusal("digested data (signing a hash) is not supported here", "INVALID_SIGNING_PARAMS")
        documents = args.data if isinstance(args.data, list) else [args.data]
        if not documents:
            raise SignerRefusal("data is an empty list", "INVALID_SIGNING_PARAMS")
        oids = tuple(signer.extKeyUsageOids)
        key_type = KeyType.SIGNATURE if SIGN_EKU in oids else KeyType.AUTHENTICATION if AUTH_EKU in oids else None
        requirements = KeyRequirements(
            key_type=key_type,
            ext_key_usage_oids=oids,
            iin=signer.iin or None,
            bin=signer.bin or None,
            serial_number=signer.serialNumber or None,
            allow_expired=params.allowExpired,
        )
        payloads: list[str | bytes]
        if args.format == "xml":
            for xml in documents:
                _check_xml(xml)
            payloads, preview = list(documents), _preview(documents[0])
        else:
            payloads = [_b64decode(d, "data") if params.decode else d.encode("utf-8") for d in documents]
            preview = _preview_bytes(payloads[0])  # type: ignore[arg-type]
        if len(documents) > 1:
            preview += f"\n(and {len(documents) - 1} more documents)"
        loaded = await self._key_for(BASICS, f"sign ({args.format})", requirements, preview, len(documents), origin)
        now = self._now()
        signatures = [
            await asyncio.to_thread(_sign_document, payload, loaded, params.encapsulate, now) for payload in payloads
        ]
        if params.outputCert:
            der = loaded.certificate.public_bytes(serialization.Encoding.DER)
            return {"signatures": signatures, "certificate": base64.b64encode(der).decode("ascii")}
        return signatures if isinstance(args.data, list) else signatures[0]

    # -- the websocket --------------------------------------------------------------------------
    async def _serve_connection(self, connection: ServerConnection) -> None:
        origin = _header(connection.request.headers, "Origin") if connection.request else None
        await connection.send(json.dumps(GREETING))
        inbox: asyncio.Queue[str] = asyncio.Queue()
        worker = asyncio.create_task(self._answer_in_order(connection, inbox, origin))
        try:
            async for message in connection:
                if message == HEARTBEAT:  # answered at once, even while a request waits
                    await connection.send(HEARTBEAT)
                elif inbox.qsize() >= MAX_QUEUED_REQUESTS:
                    await connection.close(1008, "too many requests waiting for an answer")
                else:
                    inbox.put_nowait(message.decode("utf-8", "replace") if isinstance(message, bytes) else message)
        except ConnectionClosed:
            pass
        finally:
            worker.cancel()  # a request still waiting for the user goes away with its page
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _answer_in_order(
        self, connection: ServerConnection, inbox: asyncio.Queue[str], origin: str | None
    ) -> None:
        while True:
            message = await inbox.get()
            reply = await self.answer(message, origin)
            try:
                await connection.send(reply)
            except ConnectionClosed:
                return

    # -- HTTP: the chooser page and the JSON API ------------------------------------------------
    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if "websocket" in " ".join(request.headers.get_all("Upgrade")).lower():
            return None  # NCALayer's socket takes every origin: the user decides on the page
        reader = connection.protocol.reader
        body = reader.body if isinstance(reader, _RequestBodyReader) else b""
        try:
            return await self._http(request, body)
        except Exception:
            log.exception("signer page failed: %s %s", request.method, request.path)
            return _text(500, "internal error of egovsim's signer; see its log\n")

    async def _http(self, request: Request, body: bytes) -> Response:
        host = _header(request.headers, "Host") or ""
        if self._hosts and host.lower() not in self._hosts:
            return _text(421, f"this is egovsim's signer at {self._address}; Host {host!r} is not it\n")
        url = urlsplit(request.path)
        route, method = url.path, request.method
        if method in ("POST", "DELETE", "PUT", "PATCH"):
            refusal = self._cross_site(request, host)
            if refusal:
                return _json(403, {"code": "cross_site", "message": refusal})
        if route == "/" and method == "GET":
            return _page(self._render())
        if route.startswith("/static/") and method == "GET":
            return _static(route.removeprefix("/static/"))
        if route in ("/choose", "/cancel") and method == "POST":
            return await self._form(route, body)
        if route == "/api/pending" and method == "GET":
            return _json(200, self._pending_json())
        if route == "/api/choose" and method == "POST":
            return await self._api(body, _ChooseBody, lambda b: self.choose(b.requestId, b.keyFile, b.password))
        if route == "/api/cancel" and method == "POST":
            return await self._api(body, _CancelBody, lambda b: self.cancel(b.requestId))
        if route == "/api/preselect" and method == "POST":
            return await self._api(
                body, _PreselectBody, lambda b: self.preselect(b.keyFile, b.password, KeyType.parse(b.keyType))
            )
        if route == "/api/preselect" and method == "DELETE":
            self.clear_preselection()
            return _json(200, self._pending_json())
        if route in ("/", "/choose", "/cancel", "/api/pending", "/api/choose", "/api/cancel", "/api/preselect"):
            return _text(405, f"{method} is not allowed on {route}\n")
        return _text(404, f"no {route} here: the signer's page is /, its API /api/pending\n")

    def _cross_site(self, request: Request, host: str) -> str | None:
        origin = _header(request.headers, "Origin")
        own = f"{'https' if self.tls else 'http'}://{host}"
        if origin is not None and origin.lower() != own.lower():
            return f"requests from {origin} are refused: only the signer's own page ({own}) may choose keys"
        site = _header(request.headers, "Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return f"a {site} request is refused: only the signer's own page may choose keys"
        return None

    async def _api(self, body: bytes, model: type[BaseModel], action: Callable[[Any], object]) -> Response:
        try:
            parsed = model.model_validate_json(body or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return _json(400, {"code": "bad_request", "message": f"{where}: {first['msg']}"})
        try:
            outcome = action(parsed)
            if inspect.isawaitable(outcome):
                await outcome
        except KeyChoiceError as exc:
            return _json(exc.status, {"code": exc.code, "message": exc.message})
        return _json(200, self._pending_json())

    async def _form(self, route: str, body: bytes) -> Response:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        request_id = fields.get("requestId", "")
        try:
            if route == "/cancel":
                self.cancel(request_id)
            else:
                await self.choose(request_id, fields.get("keyFile", ""), fields.get("password", ""))
        except KeyChoiceError as exc:
            # the page again: the reason shows next to the request, or on top when it is gone
            notice = exc.message if exc.code == "unknown_request" else None
            return _page(self._render(chosen={request_id: fields.get("keyFile", "")}, notice=notice), 422)
        return Response(303, "See Other", _headers("text/plain; charset=utf-8", Location="/"), b"")

    def _pending_json(self) -> dict[str, Any]:
        return {
            "pending": [r.as_json() for r in self.pending()],
            "keyFiles": [f.as_json() for f in self.key_files()],
            "preselected": self.preselected(),
        }

    def _render(self, chosen: dict[str, str] | None = None, notice: str | None = None) -> str:
        return render_chooser(self.pending(), self.key_files(), self.preselected(), self.url, chosen or {}, notice)


def _header(headers: Headers, name: str) -> str | None:
    """A header's value; a repeated one counts as its first (websockets' get() raises then)."""
    values = headers.get_all(name)
    return values[0] if values else None


def _common_failure(message: str) -> str:
    return json.dumps({"code": "500", "message": message}, ensure_ascii=False)


def _basics_failure(code: str, message: str) -> str:
    return json.dumps({"status": False, "code": code, "message": message}, ensure_ascii=False)


# -- HTTP responses ---------------------------------------------------------------------------------
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer a browser posts the forms with "Origin: null"
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Connection": "close",
}


def _headers(content_type: str, **extra: str) -> Headers:
    return Headers({"Content-Type": content_type, **_SECURITY_HEADERS, **extra})


def _response(status: int, content_type: str, body: bytes) -> Response:
    headers = _headers(content_type)
    headers["Content-Length"] = str(len(body))
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def _text(status: int, text: str) -> Response:
    return _response(status, "text/plain; charset=utf-8", text.encode("utf-8"))


def _json(status: int, data: Any) -> Response:
    return _response(status, "application/json", json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _page(text: str, status: int = 200) -> Response:
    return _response(status, "text/html; charset=utf-8", text.encode("utf-8"))


_STATIC_TYPES = {"chooser.js": "text/javascript; charset=utf-8", "chooser.css": "text/css; charset=utf-8"}


def _static(name: str) -> Response:
    if name not in _STATIC_TYPES:  # a fixed list: no path ever reaches the file system
        return _text(404, f"no static file {name!r}\n")
    data = resources.files("signing.ncalayer_static").joinpath(name).read_bytes()
    return _response(200, _STATIC_TYPES[name], data)


# -- the page ---------------------------------------------------------------------------------------
def render_chooser(
    pending: Sequence[PendingRequest],
    key_files: Sequence[KeyFile],
    preselected: dict[str, dict[str, Any] | None],
    socket_url: str,
    chosen: dict[str, str],
    notice: str | None,
) -> str:
    """The chooser page: each waiting request with what it asks and a preview of the data, the key
    files to choose from, a password field, Sign and Cancel. Plain forms; chooser.js only reloads
    the page when requests come or go."""
    e = html.escape
    ids = " ".join(r.id for r in pending)
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>egovsim signer (NCALayer protocol)</title>",
        '<link rel="stylesheet" href="/static/chooser.css">',
        '<script src="/static/chooser.js" defer></script>',
        "</head>",
        f'<body data-pending="{e(ids)}">',
        "<main>",
        "<h1>egovsim signer</h1>",
        f"<p>Speaks the NCALayer protocol at <code>{e(socket_url)}</code>. A front end's signing request waits "
        "here until you choose a key file and type its password, or cancel it.</p>",
        '<p id="changes" role="status" hidden>Requests have changed: '
        '<a href="/">reload the page</a> when you have finished typing.</p>',
    ]
    if notice:
        parts.append(f'<p class="error" role="alert">{e(notice)}</p>')
    slots = [(name, row) for name, row in preselected.items() if row]
    if slots:
        items = "".join(
            f"<li>{e(name)}: {e(row['name'])} ({e(row['kind'])}, {e(row['id'])})</li>" for name, row in slots
        )
        parts.append(
            "<section><h2>Preselected keys</h2><p>Requests are signed with these without asking "
            f"(<code>DELETE /api/preselect</code> stops it):</p><ul>{items}</ul></section>"
        )
    parts.append(f"<h2>Waiting requests ({len(pending)})</h2>")
    if not pending:
        parts.append("<p>None. This page updates when a front end asks for a signature.</p>")
    for request in pending:
        parts.append(_render_request(request, key_files, chosen.get(request.id, "")))
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _render_request(request: PendingRequest, key_files: Sequence[KeyFile], chosen: str) -> str:
    e = html.escape
    rid = e(request.id)
    fitting = [f for f in key_files if request.requirements.fits_kind(f.kind)]
    others = [f for f in key_files if not request.requirements.fits_kind(f.kind)]
    error = f'<p class="error" id="error-{rid}" role="alert">{e(request.error)}</p>' if request.error else ""
    described = f' aria-describedby="error-{rid}"' if request.error else ""
    options = []
    for index, file in enumerate([*fitting, *others]):
        note = "" if file in fitting else f" (this request needs a {request.requirements.kind} key)"
        checked = " checked" if file.id == chosen else ""
        options.append(
            f'<div class="key"><input type="radio" name="keyFile" id="key-{rid}-{index}" value="{e(file.id)}"'
            f' required{checked}><label for="key-{rid}-{index}">{e(file.label)}{note}</label></div>'
        )
    if not options:
        options.append("<p>No key files in the data folder (<code>personas.json</code>, <code>keys/</code>).</p>")
    asked_by = (
        " from a page without an origin (<code>null</code>)"
        if request.origin == "null"
        else f" from <code>{e(request.origin)}</code>"
        if request.origin
        else ""
    )
    documents = f"{request.documents} documents, " if request.documents > 1 else ""
    return "\n".join(
        [
            f'<section class="request" aria-labelledby="title-{rid}">',
            f'<h3 id="title-{rid}"><code>{e(request.method)}</code> of <code>{e(request.module)}</code></h3>',
            f"<p>Asked{asked_by} at {request.created:%H:%M:%S} UTC: {e(request.requirements.describe())}.</p>",
            f"<details open><summary>What is signed ({documents}preview)</summary>",
            f"<pre>{e(request.preview)}</pre></details>",
            '<form method="post" action="/choose">',
            f'<input type="hidden" name="requestId" value="{rid}">',
            f"<fieldset><legend>Key file</legend>{''.join(options)}</fieldset>",
            f'<p><label for="password-{rid}">Password</label> <input type="password" name="password"'
            f' id="password-{rid}" autocomplete="off" required{described}></p>',
            error,
            '<p><button type="submit">Sign</button> '
            '<button type="submit" formaction="/cancel" formnovalidate>Cancel</button></p>',
            "</form>",
            "</section>",
        ]
    )


# -- plumbing ---------------------------------------------------------------------------------------
class _RequestBodyReader(StreamReader):
    """websockets' stream reader, which also takes a small HTTP request body off the stream.

    websockets parses the opening HTTP request itself and refuses one with a body, as a WebSocket
    handshake has none; the chooser's forms and JSON API need one. So while the request head is
    read, this reader keeps ``Content-Length`` from websockets' parser and, after the blank line
    that ends the head, reads that many bytes into :attr:`body`. Everything else (limits, errors,
    websockets' own 4xx answers) stays websockets'. It rests on websockets' Sans-I/O layer
    (``Protocol.reader`` and ``Protocol.parser``); tests/test_ncalayer.py posts through it.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.body = b""
        self._limit = limit
        self._length = 0
        self._in_head = True

    def read_line(self, m: int, too_long_exc_type: type[Exception] = RuntimeError) -> Generator[None, None, bytearray]:
        line = yield from super().read_line(m, too_long_exc_type)
        if not self._in_head:
            return line
        if not line.rstrip(b"\r\n"):  # the blank line that ends the head
            self._in_head = False
            if self._length:
                self.body = bytes((yield from self.read_exact(self._length)))
            return line
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise ValueError("invalid Content-Length") from None
            if not 0 <= length <= self._limit:
                raise too_long_exc_type(f"a request body of {length} bytes; at most {self._limit} are read")
            self._length = length
            return (yield from self.read_line(m, too_long_exc_type))
        return line


class _SignerConnection(ServerConnection):
    """A websockets connection whose request parser reads request bodies (see above)."""

    def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
        protocol.reader = _RequestBodyReader(MAX_HTTP_BODY_BYTES)
        protocol.parser = protocol.parse()  # restart the parser on the new reader (no byte read yet)
        next(protocol.parser)
        super().__init__(protocol, *args, **kwargs)


def _tls_context(folder: Path) -> ssl.SSLContext:
    """A server context with the localhost certificate, made once in ``folder`` (self-signed;
    the browser must be told to trust it once, as NCALayer's own installer does for its)."""
    cert_path, key_path = folder / "localhost.crt.pem", folder / "localhost.key.pem"
    cert = None
    if cert_path.exists() and key_path.exists():
        with contextlib.suppress(ValueError):
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert is None or cert.not_valid_after_utc < datetime.now(UTC) + timedelta(days=1):
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egovsim signer (localhost)")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
