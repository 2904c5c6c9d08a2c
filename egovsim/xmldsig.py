"""XMLDSig for the two signature shapes Kazakhstan's e-government uses, signed and verified.

Only two profiles exist here, on purpose: a general XMLDSig engine (signxml, xmlsec) accepts far
more than the e-government chain ever sends, and every extra algorithm, transform or reference
form is a place for signature wrapping to hide. Anything outside the profiles is refused.

1. **Enveloped** (:func:`sign_enveloped`, :func:`verify_enveloped`): what NCALayer ``signXml``,
   NCANode ``/xml/sign`` and the real ГБД ФЛ business-data signature produce. ``ds:Signature`` is
   a direct child (the last one when we sign) of the document element; one ``Reference URI=""``
   with the enveloped-signature transform then inclusive c14n (``#WithComments``), RSA-SHA256,
   SHA-256 digest, the signer's certificate in ``KeyInfo/X509Data/X509Certificate``.
2. **WS-Security** (:func:`sign_wsse`, :func:`verify_wsse`): the SmartBridge / NCANode
   ``WsseService`` transport signature over the SOAP 1.1 ``Body`` (``wsu:Id``), placed in
   ``Header/wsse:Security``, exclusive c14n, the certificate in a ``wsse:SecurityTokenReference``.

Trust in the certificate (chain, validity, revocation) is NOT checked here; that is condition 2's
job (:mod:`egovsim.condition2`). This module answers only "does this signature cover exactly the
element the caller is about to use, and did the key in this certificate make it?".

Why it is written by hand with lxml + cryptography: verification sits on the hot path of every
gateway hop, and must stay near 100 µs for a 1-2 KB document (RSA-2048 verify alone is ~28 µs).
So there is no deep copy of the document on that path (the signature is unlinked for the digest
and put back), certificates are parsed once per distinct base64 text, and canonicalization is
libxml2's own (``etree.tostring(method="c14n")``).

Same-document references and comments (XMLDSig §4.3.3.3): ``URI=""`` (and a bare ``#id``) selects
the document *minus its comment nodes*, so a following ``c14n#WithComments`` transform has no
comments left to keep. Signing and verifying both follow that (and xmlsec1 agrees; see the tests):
comments in a signed document may be changed freely, as every conforming verifier allows.

A non-root element given to :func:`sign_enveloped` or :func:`verify_enveloped` is treated as a
standalone document, the way the business ``data`` of a SOAP message is signed as its own XML
string: the element is copied (``copy.deepcopy``, i.e. libxml2's ``xmlDocCopyNode``) into a new
document, carrying its own namespace declarations plus only those ancestor declarations its
element and attribute names use. So a document signed standalone still verifies after it was
embedded under a parent that declares other namespaces (a SOAP envelope). Ancestor ``xml:*``
attributes are not carried into the copy and QName-valued content (``xsi:type="p:T"``) does not
keep an ancestor's otherwise unused prefix; both directions apply the same rule.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import threading
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

__all__ = [
    "C14N",
    "C14N_WITH_COMMENTS",
    "ENVELOPED_SIGNATURE",
    "EXC_C14N",
    "EXC_C14N_WITH_COMMENTS",
    "MAX_XML_BYTES",
    "REASONS",
    "RSA_SHA256",
    "SHA256",
    "VerifiedXml",
    "XmlSignatureError",
    "parse_xml",
    "sign_enveloped",
    "sign_wsse",
    "verify_enveloped",
    "verify_wsse",
]

# -- namespaces and algorithm identifiers ------------------------------------------------------

DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XML_NS = "http://www.w3.org/XML/1998/namespace"

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS = C14N + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = EXC_C14N + "WithComments"
ENVELOPED_SIGNATURE = DS + "enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
X509V3_TOKEN = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

MAX_XML_BYTES = 5_000_000
MIN_RSA_BITS = 2048  # NCA end-entity keys are RSA 2048; anything weaker is not a real signer
CERT_CACHE_SIZE = 1024

# What NCALayer writes; Java's transformer puts no newline after it.
_ENVELOPED_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
_SOAP_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

# canonicalization URI -> (exclusive, with_comments); the four every signer of this chain uses
_C14N_ALGORITHMS: dict[str, tuple[bool, bool]] = {
    C14N: (False, False),
    C14N_WITH_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_WITH_COMMENTS: (True, True),
}
_SIGNATURE_HASHES: dict[str, hashes.HashAlgorithm] = {RSA_SHA256: hashes.SHA256()}
_DIGESTS = {SHA256: hashlib.sha256}
# named in the error so that "refused SHA-1" reads as a decision, not as an unknown URI
_WEAK = {
    DS + "rsa-sha1",
    DS + "sha1",
    DS + "dsa-sha1",
    DS + "hmac-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
    "http://www.w3.org/2001/04/xmldsig-more#md5",
}
_PKCS1V15 = padding.PKCS1v15()


def _tag(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


_DS_SIGNATURE = _tag(DS, "Signature")
_DS_SIGNED_INFO = _tag(DS, "SignedInfo")
_DS_C14N_METHOD = _tag(DS, "CanonicalizationMethod")
_DS_SIGNATURE_METHOD = _tag(DS, "SignatureMethod")
_DS_REFERENCE = _tag(DS, "Reference")
_DS_TRANSFORMS = _tag(DS, "Transforms")
_DS_TRANSFORM = _tag(DS, "Transform")
_DS_DIGEST_METHOD = _tag(DS, "DigestMethod")
_DS_DIGEST_VALUE = _tag(DS, "DigestValue")
_DS_SIGNATURE_VALUE = _tag(DS, "SignatureValue")
_DS_KEY_INFO = _tag(DS, "KeyInfo")
_DS_X509_DATA = _tag(DS, "X509Data")
_DS_X509_CERTIFICATE = _tag(DS, "X509Certificate")
_EXC_INCLUSIVE_NAMESPACES = _tag(EXC_C14N, "InclusiveNamespaces")
_SOAP_ENVELOPE = _tag(SOAP11, "Envelope")
_SOAP_HEADER = _tag(SOAP11, "Header")
_SOAP_BODY = _tag(SOAP11, "Body")
_SOAP_MUST_UNDERSTAND = _tag(SOAP11, "mustUnderstand")
_WSSE_SECURITY = _tag(WSSE, "Security")
_WSSE_STR = _tag(WSSE, "SecurityTokenReference")
_WSSE_KEY_IDENTIFIER = _tag(WSSE, "KeyIdentifier")
_WSSE_REFERENCE = _tag(WSSE, "Reference")
_WSSE_BST = _tag(WSSE, "BinarySecurityToken")
_WSU_ID = _tag(WSU, "Id")
_XML_ATTR_PREFIX = "{" + XML_NS + "}"

# Attributes with a given value, anywhere; filtered in Python by name (an XPath that names the
# five Id attributes costs ~35 µs, this one ~6 µs).
_ATTRIBUTES_EQUAL = etree.XPath("//@*[. = $value]")
# Every attribute some resolver takes for an Id (wsu:Id, Id, ID, id, xml:id; xmlsec's --id-attr
# even ignores the namespace), by local name: a reference must match exactly one element.
_ID_LOCAL_NAMES = frozenset({"Id", "ID", "id"})

REASONS = frozenset({"malformed", "not_signed", "unsupported", "bad_signature", "wrapping"})


class XmlSignatureError(Exception):
    """A signed XML document was refused; ``reason`` says why in one word, for callers to branch on.

    * ``malformed``: not XML, a DOCTYPE/entities, too large, or a structure outside the profile;
    * ``not_signed``: no ``ds:Signature`` where the profile requires one;
    * ``unsupported``: an algorithm, transform or key form outside the profile (SHA-1 included);
    * ``bad_signature``: the digest or the RSA signature does not match, i.e. tampered;
    * ``wrapping``: the signature does not cover exactly the element that would be used.

    ``str(error)`` is the human message.
    """

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown XmlSignatureError reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"XmlSignatureError({self.reason!r}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class VerifiedXml:
    """What a valid signature vouches for. Use ``signed_element`` and nothing else of the document.

    The certificate is only the one that made the signature; whether to trust it is the caller's
    decision (condition 2).
    """

    certificate: x509.Certificate  # the signer's certificate from KeyInfo (trust NOT checked)
    signed_element: etree._Element  # the element the signature covers: the only one to use
    signature_method: str  # algorithm URI (always RSA_SHA256 today)
    digest_method: str  # algorithm URI (always SHA256 today)
    canonicalization_method: str  # of SignedInfo
    reference_uri: str  # "" (enveloped) or "#id-…" (WS-Security)
    transforms: tuple[str, ...]  # of the one Reference, in order
    other_certificates: tuple[x509.Certificate, ...] = ()  # further KeyInfo certificates (a chain)


def _fail(reason: str, message: str) -> XmlSignatureError:
    return XmlSignatureError(reason, message)


# -- parsing ------------------------------------------------------------------------------------


def _new_parser(encoding: str | None) -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_blank_text=False,
        dtd_validation=False,
        encoding=encoding,
    )
    # collect_ids=False is left out on purpose: with it, lxml 6.0 / libxml2 2.14 opens an external
    # DTD or parameter entity while reading the DOCTYPE (seen with strace, and a deny-all
    # etree.Resolver did not stop the open). Without it nothing is opened; the tests prove it with a
    # FIFO, and the DOCTYPE is refused afterwards anyway.
    return parser


_thread = threading.local()  # lxml parsers must not be used by two threads at once


def _parsers() -> tuple[etree.XMLParser, etree.XMLParser]:
    try:
        return _thread.parsers  # type: ignore[no-any-return]
    except AttributeError:
        # bytes honour their own declaration; text we encoded ourselves is UTF-8 whatever it says
        _thread.parsers = (_new_parser(None), _new_parser("utf-8"))
        return _thread.parsers  # type: ignore[no-any-return]


def parse_xml(data: bytes | str, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML, refusing what XML-based attacks need: size, DTDs and entities.

    The size is checked before libxml2 sees a byte. Entities are never resolved, nothing is
    fetched, and any DOCTYPE at all is refused afterwards (the e-government never sends one, and an
    internal subset is how billion-laughs and external-entity attacks arrive).
    """
    if isinstance(data, str):
        raw = data.encode("utf-8")
        parser = _parsers()[1]
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        parser = _parsers()[0]
    else:
        raise TypeError(f"parse_xml wants bytes or str, not {type(data).__name__}")
    if len(raw) > max_bytes:
        raise _fail("malformed", f"XML of {len(raw)} bytes exceeds the limit of {max_bytes}")
    if not raw:
        raise _fail("malformed", "empty XML document")
    try:
        root = etree.fromstring(raw, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _fail("malformed", f"not well-formed XML: {exc}") from None
    if root is None:
        raise _fail("malformed", "no document element")
    _refuse_doctype(root.getroottree())
    return root


def _refuse_doctype(tree: etree._ElementTree) -> None:
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _fail("malformed", "a DOCTYPE is not allowed in a signed document (entities/DTDs are refused)")


def _tree_of(xml: bytes | str | etree._Element | etree._ElementTree, *, copy: bool) -> etree._ElementTree:
    """The document to work on. Bytes/str are parsed (hardened). A root element is used in place
    (``copy=False``, verification) or copied with its comments/PIs (signing: never alter the
    caller's tree). A non-root element becomes a standalone document (module docstring)."""
    if isinstance(xml, (bytes, bytearray, memoryview, str)):
        return parse_xml(xml).getroottree()
    if isinstance(xml, etree._ElementTree):
        xml = xml.getroot()
        if xml is None:
            raise _fail("malformed", "empty element tree")
    if not isinstance(xml, etree._Element):
        raise TypeError(f"expected XML bytes, str or an lxml element, not {type(xml).__name__}")
    if not isinstance(xml.tag, str):
        raise _fail("malformed", "a comment, processing instruction or entity is not a document")
    tree = xml.getroottree()
    _refuse_doctype(tree)
    if xml.getparent() is not None:
        standalone = deepcopy(xml)
        standalone.tail = None
        return standalone.getroottree()
    return deepcopy(tree) if copy else tree


# -- canonicalization ---------------------------------------------------------------------------


def _c14n(el: etree._Element, exclusive: bool, with_comments: bool, prefixes: tuple[str, ...] | None) -> bytes:
    """Canonical bytes of ``el``'s subtree as a document subset, as XMLDSig defines them.

    libxml2 already carries the in-scope namespaces onto the apex; inclusive C14N 1.0 also makes
    the apex inherit the ancestors' ``xml:*`` attributes, which lxml's subtree c14n does not, so
    in that rare case they are set on the apex for the duration of the call.
    """
    if exclusive:
        return etree.tostring(  # type: ignore[no-any-return]
            el, method="c14n", exclusive=True, with_comments=with_comments, inclusive_ns_prefixes=prefixes
        )
    inherited: dict[str, str] = {}
    ancestor = el.getparent()
    while ancestor is not None:
        for name in ancestor.keys():  # noqa: SIM118 - lxml attribute keys, not a dict
            if name.startswith(_XML_ATTR_PREFIX) and name not in inherited and el.get(name) is None:
                inherited[name] = ancestor.get(name)
        ancestor = ancestor.getparent()
    if not inherited:
        return etree.tostring(el, method="c14n", exclusive=False, with_comments=with_comments)  # type: ignore[no-any-return]
    for name, value in inherited.items():
        el.set(name, value)
    try:
        return etree.tostring(el, method="c14n", exclusive=False, with_comments=with_comments)  # type: ignore[no-any-return]
    finally:
        for name in inherited:
            del el.attrib[name]


def _document_without(
    tree: etree._ElementTree, signature: etree._Element, exclusive: bool, prefixes: tuple[str, ...] | None
) -> bytes:
    """C14N of the whole document minus comments (``URI=""``) and minus ``signature`` (the
    enveloped-signature transform), without copying the document.

    The signature is unlinked and put back. lxml moves an element's tail with it, but the text
    after the signature is not part of the signature, so it is parked on the previous node
    meanwhile. The tree is restored, except that lxml may add or drop redundant namespace
    declarations on the signature while moving it, which changes no canonical form.
    """
    parent = signature.getparent()
    index = parent.index(signature)
    tail = signature.tail
    previous = signature.getprevious()
    if tail:
        signature.tail = None
        if previous is None:
            saved = parent.text
            parent.text = (saved or "") + tail
        else:
            saved = previous.tail
            previous.tail = (saved or "") + tail
    parent.remove(signature)
    try:
        return etree.tostring(  # type: ignore[no-any-return]
            tree, method="c14n", exclusive=exclusive, with_comments=False, inclusive_ns_prefixes=prefixes
        )
    finally:
        parent.insert(index, signature)
        if tail:
            if previous is None:
                parent.text = saved
            else:
                previous.tail = saved
            signature.tail = tail


# -- certificates -------------------------------------------------------------------------------

_cert_cache: dict[str, tuple[x509.Certificate, rsa.RSAPublicKey]] = {}


def _b64(text: str | None, what: str) -> bytes:
    """Strict base64, whitespace allowed (Java signers wrap lines, some with ``&#13;``)."""
    text = text or ""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return binascii.a2b_base64("".join(text.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _fail("malformed", f"{what} is not valid base64") from None


def _certificate(b64_text: str | None) -> tuple[x509.Certificate, rsa.RSAPublicKey]:
    """The certificate and its RSA key, parsed once per distinct base64 text (bounded cache)."""
    key = b64_text or ""
    hit = _cert_cache.get(key)
    if hit is not None:
        return hit
    der = _b64(key, "the certificate")
    try:
        cert = x509.load_der_x509_certificate(der)
        public_key = cert.public_key()
    except ValueError as exc:
        raise _fail("malformed", f"the certificate in KeyInfo cannot be read: {exc}") from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _fail("unsupported", f"only RSA signer keys are supported, not {type(public_key).__name__}")
    if public_key.key_size < MIN_RSA_BITS:
        raise _fail("unsupported", f"RSA key of {public_key.key_size} bits is below {MIN_RSA_BITS}")
    if len(_cert_cache) >= CERT_CACHE_SIZE:
        # FIFO eviction; another thread may have evicted the same entry first
        with contextlib.suppress(StopIteration, RuntimeError):
            _cert_cache.pop(next(iter(_cert_cache)), None)
    _cert_cache[key] = (cert, public_key)
    return cert, public_key


def _cert_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


# -- reading a ds:Signature ---------------------------------------------------------------------
# Every lxml call costs ~0.3-0.7 µs here, so the reader takes each node once, compares whole tag
# lists and builds plain slotted objects: the structure check stays under ~10 µs.


def _children(el: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """Element children and their tags; comments and PIs are no part of the structure."""
    kids = list(el)
    tags = [k.tag for k in kids]
    for tag in tags:
        if not isinstance(tag, str):
            kids = [k for k in kids if isinstance(k.tag, str)]
            return kids, [k.tag for k in kids]
    return kids, tags


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else repr(el)


@dataclass(slots=True)
class _SignatureParts:
    signed_info: etree._Element
    signature_value: bytes
    key_info: etree._Element
    c14n: str
    c14n_prefixes: tuple[str, ...] | None
    signature_method: str
    reference_uri: str
    transforms: tuple[str, ...]
    transform_prefixes: tuple[str, ...] | None  # of the last transform (the only c14n one)
    digest_method: str
    digest_value: bytes


def _algorithm(el: etree._Element, what: str) -> tuple[str, tuple[str, ...] | None]:
    """An ``Algorithm``-bearing element's URI, and the InclusiveNamespaces PrefixList that only
    exclusive c14n may carry as its one child parameter; any other parameter is refused."""
    uri = el.get("Algorithm")
    if not uri:
        raise _fail("malformed", f"{what} has no Algorithm")
    if not len(el):
        return uri, None
    kids, tags = _children(el)
    if not kids:
        return uri, None
    if uri not in (EXC_C14N, EXC_C14N_WITH_COMMENTS) or tags != [_EXC_INCLUSIVE_NAMESPACES]:
        raise _fail("unsupported", f"{what} {uri} has parameters outside the profile")
    return uri, tuple(kids[0].get("PrefixList", "").split()) or None


def _unsupported(what: str, uri: str) -> XmlSignatureError:
    weak = " (SHA-1/MD5 are refused)" if uri in _WEAK else ""
    return _fail("unsupported", f"{what} {uri} is not supported{weak}")


_SIGNATURE_TAGS = [_DS_SIGNED_INFO, _DS_SIGNATURE_VALUE, _DS_KEY_INFO]
_SIGNED_INFO_TAGS = [_DS_C14N_METHOD, _DS_SIGNATURE_METHOD, _DS_REFERENCE]
_REFERENCE_TAGS = [_DS_TRANSFORMS, _DS_DIGEST_METHOD, _DS_DIGEST_VALUE]


def _read_signature(signature: etree._Element) -> _SignatureParts:
    """Check the ``ds:Signature`` against the shape both profiles share and pull out its parts.

    Algorithms are checked here, before any cryptography or canonicalization runs on them.
    """
    parts, tags = _children(signature)
    if tags != _SIGNATURE_TAGS:
        if tags == _SIGNATURE_TAGS[:2]:
            raise _fail("unsupported", "ds:Signature has no KeyInfo: the signer's certificate must be in it")
        names = ", ".join(_local(p) for p in parts) or "nothing"
        raise _fail("malformed", f"ds:Signature must hold SignedInfo, SignatureValue, KeyInfo; it holds {names}")
    signed_info, signature_value, key_info = parts

    info, tags = _children(signed_info)
    if tags != _SIGNED_INFO_TAGS:
        if tags[:2] == _SIGNED_INFO_TAGS[:2] and len(tags) > 3 and all(t == _DS_REFERENCE for t in tags[2:]):
            raise _fail("malformed", f"the profile has exactly one Reference; this signature has {len(tags) - 2}")
        raise _fail("malformed", "SignedInfo must hold CanonicalizationMethod, SignatureMethod and one Reference")
    c14n, c14n_prefixes = _algorithm(info[0], "CanonicalizationMethod")
    if c14n not in _C14N_ALGORITHMS:
        raise _unsupported("CanonicalizationMethod", c14n)
    signature_method = _algorithm(info[1], "SignatureMethod")[0]
    if signature_method not in _SIGNATURE_HASHES:
        raise _unsupported("SignatureMethod", signature_method)

    reference = info[2]
    uri = reference.get("URI")
    if uri is None:
        raise _fail("wrapping", "the Reference has no URI: what it covers would be the verifier's guess")
    ref, tags = _children(reference)
    if tags != _REFERENCE_TAGS:
        raise _fail("malformed", "Reference must hold Transforms, DigestMethod, DigestValue")
    transform_elements, tags = _children(ref[0])
    if not tags or any(t != _DS_TRANSFORM for t in tags):
        raise _fail("malformed", "Transforms must hold Transform elements only")
    transforms: list[str] = []
    prefixes: tuple[str, ...] | None = None
    for transform in transform_elements:
        algorithm, prefixes = _algorithm(transform, "Transform")
        if algorithm != ENVELOPED_SIGNATURE and algorithm not in _C14N_ALGORITHMS:
            raise _unsupported("Transform", algorithm)
        transforms.append(algorithm)
    digest_method = _algorithm(ref[1], "DigestMethod")[0]
    if digest_method not in _DIGESTS:
        raise _unsupported("DigestMethod", digest_method)

    return _SignatureParts(
        signed_info,
        _b64(signature_value.text, "SignatureValue"),
        key_info,
        c14n,
        c14n_prefixes,
        signature_method,
        uri,
        tuple(transforms),
        prefixes,
        digest_method,
        _b64(ref[2].text, "DigestValue"),
    )


def _x509_data_certificates(key_info: etree._Element) -> list[str | None]:
    """The base64 texts of ``KeyInfo/X509Data/X509Certificate``, in document order."""
    certs: list[str | None] = []
    for data in key_info:
        if data.tag == _DS_X509_DATA:
            certs.extend(c.text for c in data if c.tag == _DS_X509_CERTIFICATE)
    return certs


def _check_signature(
    parts: _SignatureParts, candidates: list[str | None]
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """RSA-verify SignedInfo with the KeyInfo certificate; with several (a chain), the one that
    verifies is the signer and the rest are returned for the caller's chain building."""
    if not candidates:
        raise _fail("unsupported", "KeyInfo carries no X509 certificate")
    exclusive, with_comments = _C14N_ALGORITHMS[parts.c14n]
    signed_info = _c14n(parts.signed_info, exclusive, with_comments, parts.c14n_prefixes)
    algorithm = _SIGNATURE_HASHES[parts.signature_method]
    certs = [_certificate(text) for text in candidates]
    for cert, public_key in certs:
        try:
            public_key.verify(parts.signature_value, signed_info, _PKCS1V15, algorithm)
        except InvalidSignature:
            continue
        return cert, tuple(c for c, _ in certs if c is not cert)
    raise _fail("bad_signature", "the signature over SignedInfo does not verify with the KeyInfo certificate")


def _check_digest(parts: _SignatureParts, data: bytes) -> None:
    digest = _DIGESTS[parts.digest_method](data).digest()
    if not hmac.compare_digest(digest, parts.digest_value):
        raise _fail("bad_signature", "the digest of the signed content does not match: the content was changed")


def _verified(
    parts: _SignatureParts, element: etree._Element, cert: x509.Certificate, others: tuple[x509.Certificate, ...]
) -> VerifiedXml:
    return VerifiedXml(
        certificate=cert,
        signed_element=element,
        signature_method=parts.signature_method,
        digest_method=parts.digest_method,
        canonicalization_method=parts.c14n,
        reference_uri=parts.reference_uri,
        transforms=parts.transforms,
        other_certificates=others,
    )


# -- building a ds:Signature --------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _build_signature(
    parent: etree._Element, c14n: str, uri: str, transforms: tuple[str, ...], digest: bytes
) -> tuple[etree._Element, etree._Element]:
    """A ``ds:Signature`` under ``parent`` with SignedInfo filled in; returns it and SignedInfo."""
    signature = etree.SubElement(parent, _DS_SIGNATURE, nsmap={"ds": DS})
    signed_info = _sub(signature, _DS_SIGNED_INFO)
    _sub(signed_info, _DS_C14N_METHOD, Algorithm=c14n)
    _sub(signed_info, _DS_SIGNATURE_METHOD, Algorithm=RSA_SHA256)
    reference = _sub(signed_info, _DS_REFERENCE, URI=uri)
    transforms_el = _sub(reference, _DS_TRANSFORMS)
    for transform in transforms:
        _sub(transforms_el, _DS_TRANSFORM, Algorithm=transform)
    _sub(reference, _DS_DIGEST_METHOD, Algorithm=SHA256)
    _sub(reference, _DS_DIGEST_VALUE, base64.b64encode(digest).decode("ascii"))
    return signature, signed_info


def _check_key(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> None:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("only RSA keys sign in this profile")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise ValueError("the private key does not belong to the certificate")


def _serialize(tree: etree._ElementTree, declaration: bytes) -> bytes:
    return declaration + etree.tostring(tree, encoding="UTF-8", xml_declaration=False)


# -- shape 1: enveloped -------------------------------------------------------------------------

_ENVELOPED_TRANSFORMS = (ENVELOPED_SIGNATURE, C14N_WITH_COMMENTS)


def sign_enveloped(xml: bytes | str | etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    """Sign the whole document the way NCALayer ``signXml`` does; returns the signed bytes.

    ``ds:Signature`` is appended as the last child of the document element. The caller's tree is
    never modified; a non-root element is signed as a standalone document (module docstring). A
    document that already holds a ``ds:Signature`` is refused: the profile has exactly one.
    """
    pending = prepare_enveloped(xml, key, cert)
    return pending.finish(key.sign(pending.to_sign, _PKCS1V15, hashes.SHA256()))


def prepare_enveloped(
    xml: bytes | str | etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate, *, in_place: bool = False
) -> PendingSignature:
    """``sign_enveloped`` up to the RSA operation (see ``PendingSignature``); ``in_place`` as in
    ``prepare_wsse``."""
    _check_key(key, cert)
    tree = _tree_of(xml, copy=not in_place)
    root = tree.getroot()
    if next(root.iter(_DS_SIGNATURE), None) is not None:
        raise _fail("malformed", "the document already holds a ds:Signature; the profile allows exactly one")
    # URI="" is the document without comments; then enveloped (nothing to remove yet) and c14n
    digest = hashlib.sha256(etree.tostring(tree, method="c14n", exclusive=False, with_comments=False)).digest()
    signature, signed_info = _build_signature(root, C14N, "", _ENVELOPED_TRANSFORMS, digest)
    to_sign = _c14n(signed_info, False, False, None)
    return PendingSignature(tree, signature, to_sign, cert, _x509_data_key_info, _ENVELOPED_DECLARATION)


def _x509_data_key_info(signature: etree._Element, cert: x509.Certificate) -> None:
    _sub(_sub(_sub(signature, _DS_KEY_INFO), _DS_X509_DATA), _DS_X509_CERTIFICATE, _cert_b64(cert))


def verify_enveloped(xml: bytes | str | etree._Element) -> VerifiedXml:
    """Verify an enveloped signature over the whole document; ``signed_element`` is its root.

    Refused unless the document holds exactly one ``ds:Signature``, a direct child of the document
    element, with one ``Reference URI=""`` and the transforms enveloped-signature then (optionally)
    one c14n (inclusive or exclusive, with or without comments; the result is the same for
    comments, see the module docstring). A root element passed in is verified in place (its
    signature is unlinked and put back, so don't share the tree with another thread meanwhile); a
    non-root element is verified as a standalone copy, which is then the ``signed_element``.
    """
    tree = _tree_of(xml, copy=False)
    root = tree.getroot()
    signatures = list(root.iter(_DS_SIGNATURE))
    if not signatures:
        raise _fail("not_signed", "the document holds no ds:Signature")
    if len(signatures) > 1:
        raise _fail("wrapping", f"the document holds {len(signatures)} ds:Signature elements; the profile has one")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise _fail("wrapping", "ds:Signature is not a direct child of the document element")
    parts = _read_signature(signature)
    if parts.reference_uri != "":
        raise _fail("wrapping", f'the Reference points at {parts.reference_uri!r}, not at the whole document (URI="")')
    uris = parts.transforms
    if uris[0] != ENVELOPED_SIGNATURE or len(uris) > 2 or (len(uris) == 2 and uris[1] not in _C14N_ALGORITHMS):
        raise _fail("unsupported", f"transforms {list(uris)} are not enveloped-signature followed by one c14n")
    # with the enveloped transform alone, the implicit final c14n is inclusive C14N 1.0
    exclusive = len(uris) == 2 and _C14N_ALGORITHMS[uris[1]][0]
    prefixes = parts.transform_prefixes if exclusive else None
    cert, others = _check_signature(parts, _x509_data_certificates(parts.key_info))
    _check_digest(parts, _document_without(tree, signature, exclusive, prefixes))
    return _verified(parts, root, cert, others)


# -- shape 2: WS-Security -----------------------------------------------------------------------


def _envelope_parts(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """(Header or None, Body): the Envelope's direct children, as SOAP 1.1 orders them."""
    if root.tag != _SOAP_ENVELOPE:
        raise _fail("malformed", f"the document element is {root.tag}, not a SOAP 1.1 Envelope")
    children = _children(root)[0]
    headers = [c for c in children if c.tag == _SOAP_HEADER]
    bodies = [c for c in children if c.tag == _SOAP_BODY]
    if len(headers) > 1 or (headers and children[0] is not headers[0]):
        raise _fail("malformed", "the Envelope must have at most one Header, as its first child")
    if not bodies:
        raise _fail("malformed", "the Envelope has no Body")
    if len(bodies) > 1:
        raise _fail("wrapping", "the Envelope has more than one Body")
    return (headers[0] if headers else None), bodies[0]


def _outside(body: etree._Element, signature: etree._Element) -> bool:
    """True if ``signature`` is not inside ``body`` (a Body may carry signed business data)."""
    parent = signature.getparent()
    while parent is not None:
        if parent is body:
            return False
        parent = parent.getparent()
    return True


def _elements_with_id(tree: etree._ElementTree, value: str) -> list[etree._Element]:
    """Elements that carry ``value`` in any Id-like attribute, in any namespace."""
    found: list[etree._Element] = []
    for attribute in _ATTRIBUTES_EQUAL(tree, value=value):
        if attribute.attrname.rpartition("}")[2] in _ID_LOCAL_NAMES:
            element = attribute.getparent()
            if not any(e is element for e in found):
                found.append(element)
    return found


def _with_wsu_id(envelope: etree._Element, body: etree._Element) -> tuple[etree._Element, str]:
    """The Body with a ``wsu:Id`` (kept if present, else ``id-<uuid4>``), declared as ``wsu``.

    lxml cannot add a namespace declaration to an existing element (it would invent ``ns0``), so
    when ``wsu`` is not yet in scope the Body is rebuilt with the declaration, as SmartBridge
    writes it: ``<SOAP-ENV:Body xmlns:wsu="…" wsu:Id="id-…">``.
    """
    existing = body.get(_WSU_ID)
    if existing:
        return body, existing
    body_id = f"id-{uuid.uuid4()}"
    if WSU in body.nsmap.values():
        body.set(_WSU_ID, body_id)
        return body, body_id
    inherited = envelope.nsmap
    own = {p: u for p, u in body.nsmap.items() if inherited.get(p) != u and p != "wsu"}
    new_body = etree.Element(body.tag, nsmap={**own, "wsu": WSU})
    new_body.set(_WSU_ID, body_id)
    for name, value in body.attrib.items():
        new_body.set(name, value)
    new_body.text = body.text
    new_body.extend(list(body))
    new_body.tail = body.tail
    envelope.replace(body, new_body)
    return new_body, body_id


def sign_wsse(soap: bytes | str | etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    """Sign a SOAP 1.1 message's Body with a WS-Security header signature, as SmartBridge expects.

    The Body gets a ``wsu:Id`` if it has none; ``Header/wsse:Security[@mustUnderstand="1"]`` is
    created (or an existing unsigned one reused) and receives ``ds:Signature`` with exclusive c14n,
    RSA-SHA256, one ``Reference URI="#id-…"`` and the certificate as a
    ``wsse:SecurityTokenReference/wsse:KeyIdentifier``. Signatures inside the Body (signed business
    data) are fine; a message already signed in its header is refused. Returns the signed bytes.
    """
    pending = prepare_wsse(soap, key, cert)
    return pending.finish(key.sign(pending.to_sign, _PKCS1V15, hashes.SHA256()))


@dataclass(slots=True)
class PendingSignature:
    """A signature built up to its SignatureValue: ``to_sign`` is the canonical SignedInfo, to be
    signed RSA-SHA256 (PKCS#1 v1.5) by the key the ``prepare_*`` function was given; ``finish``
    puts the value and the KeyInfo in and returns the signed bytes. It lets a server run the RSA
    operation, which releases the interpreter lock, on another thread and nothing else there."""

    tree: etree._ElementTree
    signature: etree._Element
    to_sign: bytes
    cert: x509.Certificate
    key_info: Callable[[etree._Element, x509.Certificate], None]
    declaration: bytes

    def finish(self, value: bytes) -> bytes:
        _sub(self.signature, _DS_SIGNATURE_VALUE, base64.b64encode(value).decode("ascii"))
        self.key_info(self.signature, self.cert)
        return _serialize(self.tree, self.declaration)


def _wsse_key_info(signature: etree._Element, cert: x509.Certificate) -> None:
    token = _sub(_sub(signature, _DS_KEY_INFO), _WSSE_STR)
    _sub(token, _WSSE_KEY_IDENTIFIER, _cert_b64(cert), EncodingType=BASE64_BINARY, ValueType=X509V3_TOKEN)


def prepare_wsse(
    soap: bytes | str | etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate, *, in_place: bool = False
) -> PendingSignature:
    """``sign_wsse`` up to the RSA operation (see ``PendingSignature``). With ``in_place`` an element is
    signed as it is instead of a copy: for a caller that built it and hands it over."""
    _check_key(key, cert)
    tree = _tree_of(soap, copy=not in_place)
    root = tree.getroot()
    header, body = _envelope_parts(root)
    if any(_outside(body, s) for s in root.iter(_DS_SIGNATURE)):
        raise _fail("malformed", "the message already holds a ds:Signature outside its Body")
    body, body_id = _with_wsu_id(root, body)
    if len(_elements_with_id(tree, body_id)) != 1:
        raise _fail("malformed", f"the Body's Id {body_id!r} is not unique in the message; it would verify as wrapping")
    if header is None:
        header = etree.SubElement(root, _SOAP_HEADER)  # the Envelope's own prefix for SOAP-ENV
        root.insert(0, header)
    securities = [c for c in header.iterchildren(_WSSE_SECURITY)]
    if len(securities) > 1:
        raise _fail("malformed", "the Header holds more than one wsse:Security")
    security = securities[0] if securities else etree.SubElement(header, _WSSE_SECURITY, nsmap={"wsse": WSSE})
    security.set(_SOAP_MUST_UNDERSTAND, "1")

    digest = hashlib.sha256(_c14n(body, True, False, None)).digest()
    signature, signed_info = _build_signature(security, EXC_C14N, f"#{body_id}", (EXC_C14N,), digest)
    return PendingSignature(
        tree, signature, _c14n(signed_info, True, False, None), cert, _wsse_key_info, _SOAP_DECLARATION
    )


def _wsse_certificates(key_info: etree._Element, security: etree._Element) -> list[str | None]:
    """KeyInfo as WS-Security writes it (KeyIdentifier, or a Reference to a BinarySecurityToken in
    the same Security header), or plain X509Data as xmlsec and some Java stacks write it."""
    certs = _x509_data_certificates(key_info)
    for token in key_info.iterchildren(_WSSE_STR):
        for ref in _children(token)[0]:
            if ref.tag == _WSSE_KEY_IDENTIFIER:
                if ref.get("ValueType") != X509V3_TOKEN or ref.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
                    raise _fail("unsupported", "KeyIdentifier is not a base64 X509v3 certificate")
                certs.append(ref.text)
            elif ref.tag == _WSSE_REFERENCE:
                uri = ref.get("URI", "")
                tokens = [
                    t for t in security.iterchildren(_WSSE_BST) if uri.startswith("#") and t.get(_WSU_ID) == uri[1:]
                ]
                if len(tokens) != 1 or tokens[0].get("ValueType") != X509V3_TOKEN:
                    raise _fail("unsupported", f"the token reference {uri!r} is not one X509v3 BinarySecurityToken")
                certs.append(tokens[0].text)
            else:
                raise _fail("unsupported", f"SecurityTokenReference/{_local(ref)} is not supported")
    return certs


def verify_wsse(soap: bytes | str | etree._Element) -> VerifiedXml:
    """Verify the WS-Security signature of a SOAP 1.1 message; ``signed_element`` is its Body.

    The one ``ds:Signature`` outside the Body must sit at ``Envelope/Header/wsse:Security``; its one
    Reference ``#id`` must match exactly one element of the whole document (by ``wsu:Id``, ``Id``,
    ``ID``, ``id`` or ``xml:id``), and that element must be the Envelope's direct child Body.
    Anything else is "wrapping": the classic attack moves the signed Body into the Header and puts
    a new Body in its place, or repeats the Id. Signatures inside the Body are business content,
    covered by this one, and are not looked at.
    """
    tree = _tree_of(soap, copy=False)
    root = tree.getroot()
    _header, body = _envelope_parts(root)
    signatures = [s for s in root.iter(_DS_SIGNATURE) if _outside(body, s)]
    if not signatures:
        raise _fail("not_signed", "the SOAP message holds no WS-Security ds:Signature")
    if len(signatures) > 1:
        raise _fail("wrapping", f"the SOAP message holds {len(signatures)} signatures outside its Body; one is allowed")
    signature = signatures[0]
    security = signature.getparent()
    header = security.getparent()
    if security.tag != _WSSE_SECURITY or header is None or header.tag != _SOAP_HEADER or header.getparent() is not root:
        raise _fail("wrapping", "ds:Signature is not at Envelope/Header/wsse:Security")
    parts = _read_signature(signature)
    uri = parts.reference_uri
    if not uri.startswith("#") or len(uri) < 2:
        raise _fail("wrapping", f"the Reference {uri!r} does not point at an element by Id")
    if uri.startswith("#xpointer("):
        raise _fail("unsupported", "XPointer references are not supported")
    if len(parts.transforms) != 1 or parts.transforms[0] not in _C14N_ALGORITHMS:
        raise _fail("unsupported", f"transforms {list(parts.transforms)} are not exactly one c14n")
    targets = _elements_with_id(tree, uri[1:])
    if len(targets) != 1:
        raise _fail("wrapping", f"the Id {uri[1:]!r} matches {len(targets)} elements; it must match exactly one")
    if targets[0] is not body:
        raise _fail("wrapping", "the signed element is not the Envelope's Body: the Body in use is not signed")
    cert, others = _check_signature(parts, _wsse_certificates(parts.key_info, security))
    exclusive = _C14N_ALGORITHMS[parts.transforms[0]][0]
    # a bare "#id" reference drops comments whatever the c14n variant says (XMLDSig §4.3.3.3)
    _check_digest(parts, _c14n(body, exclusive, False, parts.transform_prefixes if exclusive else None))
    return _verified(parts, body, cert, others)
