"""XMLDSig in the two e-government shapes: interoperable with xmlsec1 both ways, and refusing
tampering, signature wrapping, DTD/entity attacks and anything outside the profile, each with the
right reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from egovsim import xmldsig
from egovsim.xmldsig import XmlSignatureError
from signing.ca import Holder, KeyKind, KeyPair, Profile, Urls, issue, new_authority

DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS = {"ds": DS, "soap": SOAP, "wsu": WSU, "p": "urn:gbdfl:person"}

needs_xmlsec1 = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed")

PERSON = """<?xml version="1.0" encoding="UTF-8"?>
<!-- ГБД ФЛ ответ: комментарий до корня -->
<?egov-trace id="42"?>
<p:Request xmlns:p="urn:gbdfl:person" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xml:lang="ru">
  <!-- комментарий внутри: не подписывается (URI="" убирает комментарии) -->
  <p:iin>900115300013</p:iin>
  <p:name xml:space="preserve">Тестов Тест Тестович</p:name>
  <p:address><![CDATA[Астана, ул. Мәңгілік Ел & 55]]></p:address>
  <p:note attr="a &amp; b &#x4E2D;">Қазақстан</p:note>
  <x:extra xmlns:x="urn:extra" xmlns:unused="urn:unused"><x:flag/></x:extra>
</p:Request>
"""

SOAP_MESSAGE = """<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types">
<request><requestInfo><messageId>3f2a</messageId><serviceId>GBDFL_SERVICE</serviceId></requestInfo>
<requestData><data><!-- c --><iin>900115300013</iin><name>Тестов</name></data></requestData></request>
</ns2:SendMessage></SOAP-ENV:Body></SOAP-ENV:Envelope>"""


@dataclass
class Pki:
    signer: KeyPair
    other: KeyPair
    intermediate: x509.Certificate
    dir: Path

    def pem(self, name: str) -> str:
        return str(self.dir / name)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    now = datetime.now(UTC)
    auth = new_authority(now, Urls("http://127.0.0.1:8080"), ca_bits=2048)
    holder = Holder(
        Profile.INDIVIDUAL, KeyKind.SIGN, iin="900115300013", surname="ТЕСТОВ", given_name="ТЕСТ", patronymic="ТЕСТОВИЧ"
    )
    signer = issue(auth, holder, now - timedelta(minutes=5), now + timedelta(days=365))
    other = issue(auth, holder, now - timedelta(minutes=5), now + timedelta(days=365))
    directory = tmp_path_factory.mktemp("xmldsig-pki")
    pem = serialization.Encoding.PEM
    (directory / "root.pem").write_bytes(auth.root.cert.public_bytes(pem))
    (directory / "intermediate.pem").write_bytes(auth.intermediate.cert.public_bytes(pem))
    (directory / "key.pem").write_bytes(signer.key_pem())
    (directory / "signer.pem").write_bytes(signer.cert_pem())
    return Pki(signer, other, auth.intermediate.cert, directory)


def xmlsec1(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xmlsec1", *args], capture_output=True, text=True, timeout=60, check=False)


def xmlsec1_verify_enveloped(pki: Pki, path: Path) -> subprocess.CompletedProcess[str]:
    return xmlsec1(
        "--verify", "--trusted-pem", pki.pem("root.pem"), "--untrusted-pem", pki.pem("intermediate.pem"), str(path)
    )


def xmlsec1_verify_wsse(pki: Pki, path: Path) -> subprocess.CompletedProcess[str]:
    # xmlsec1 does not resolve wsse:SecurityTokenReference, so it is given the signer's key
    return xmlsec1("--verify", "--id-attr:Id", f"{SOAP}:Body", "--pubkey-cert-pem", pki.pem("signer.pem"), str(path))


def reason_of(call: Callable[..., object], *args: object) -> str:
    with pytest.raises(XmlSignatureError) as caught:
        call(*args)
    assert caught.value.reason in xmldsig.REASONS
    return caught.value.reason


def edit(signed: bytes, old: str, new: str, count: int = 1) -> bytes:
    text = signed.decode()
    assert old in text, f"{old!r} not in the signed document"
    return text.replace(old, new, count).encode()


def signature_of(root: etree._Element) -> etree._Element:
    return root.find(".//ds:Signature", NS)


# -- shape 1: enveloped ----------------------------------------------------------------------


@needs_xmlsec1
def test_our_enveloped_signature_verifies_with_xmlsec1_and_with_ours(pki: Pki, tmp_path: Path) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?><!--')
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{{{DS}}}Signature" and signature.prefix == "ds"
    assert [t.get("Algorithm") for t in signature.iterfind(".//ds:Transform", NS)] == [
        xmldsig.ENVELOPED_SIGNATURE,
        xmldsig.C14N_WITH_COMMENTS,
    ]
    (tmp_path / "signed.xml").write_bytes(signed)
    result = xmlsec1_verify_enveloped(pki, tmp_path / "signed.xml")
    assert result.returncode == 0, result.stderr

    verified = xmldsig.verify_enveloped(signed)
    assert verified.certificate == pki.signer.cert
    assert verified.signed_element.tag == "{urn:gbdfl:person}Request"
    assert verified.signed_element.findtext("p:name", namespaces=NS) == "Тестов Тест Тестович"
    assert verified.signature_method == xmldsig.RSA_SHA256
    assert verified.digest_method == xmldsig.SHA256
    assert xmldsig.verify_enveloped(signed.decode()).certificate == pki.signer.cert  # str input too


@needs_xmlsec1
def test_comments_are_outside_an_empty_uri_reference_for_both_xmlsec1_and_us(pki: Pki, tmp_path: Path) -> None:
    """XMLDSig §4.3.3.3: URI="" is the document minus comments, even before c14n#WithComments.
    If either side got it wrong, changing a comment would break that side's verification."""
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    changed = edit(signed, "комментарий внутри", "другой комментарий")
    changed = edit(changed, "<p:iin>", "<!-- new --><p:iin>")
    (tmp_path / "changed.xml").write_bytes(changed)
    result = xmlsec1_verify_enveloped(pki, tmp_path / "changed.xml")
    assert result.returncode == 0, result.stderr
    assert xmldsig.verify_enveloped(changed).certificate == pki.signer.cert
    # ...whereas the text around the comments is signed, for xmlsec1 and for us
    tampered = edit(signed, "Тестов Тест Тестович", "Тестов Тест Тестовиx")
    (tmp_path / "tampered.xml").write_bytes(tampered)
    assert xmlsec1_verify_enveloped(pki, tmp_path / "tampered.xml").returncode != 0
    assert reason_of(xmldsig.verify_enveloped, tampered) == "bad_signature"


ENVELOPED_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- before the root -->
<p:Request xmlns:p="urn:gbdfl:person" xml:lang="ru">
  <!-- inside -->
  <p:iin>900115300013</p:iin>
  <p:name>Тестов Тест</p:name>
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="{c14n}"/>
      <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
      <ds:Reference URI="">
        <ds:Transforms>
          <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <ds:Transform Algorithm="{transform}"/>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue></ds:DigestValue>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue></ds:SignatureValue>
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
  </ds:Signature>
</p:Request>
"""


@needs_xmlsec1
@pytest.mark.parametrize(
    ("c14n", "transform"),
    [
        (xmldsig.C14N, xmldsig.C14N_WITH_COMMENTS),  # NCALayer's shape
        (xmldsig.C14N, xmldsig.C14N),
        (xmldsig.EXC_C14N, xmldsig.EXC_C14N),
    ],
)
def test_a_document_signed_by_xmlsec1_passes_verify_enveloped(
    pki: Pki, tmp_path: Path, c14n: str, transform: str
) -> None:
    (tmp_path / "template.xml").write_text(ENVELOPED_TEMPLATE.format(c14n=c14n, transform=transform), "utf-8")
    out = tmp_path / "out.xml"
    keys = f"{pki.pem('key.pem')},{pki.pem('signer.pem')}"
    result = xmlsec1("--sign", "--privkey-pem", keys, "--output", str(out), str(tmp_path / "template.xml"))
    assert result.returncode == 0, result.stderr
    signed = out.read_bytes()
    verified = xmldsig.verify_enveloped(signed)
    assert verified.certificate == pki.signer.cert
    assert verified.transforms == (xmldsig.ENVELOPED_SIGNATURE, transform)
    # the comments in it are not signed, the content is
    assert xmldsig.verify_enveloped(edit(signed, "<!-- inside -->", "<!-- changed -->")).certificate == pki.signer.cert
    assert reason_of(xmldsig.verify_enveloped, edit(signed, "900115300013", "900115300014")) == "bad_signature"


@needs_xmlsec1
def test_a_chain_in_key_info_yields_the_signer_and_the_rest_separately(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "template.xml").write_text(ENVELOPED_TEMPLATE.format(c14n=xmldsig.C14N, transform=xmldsig.C14N))
    out = tmp_path / "out.xml"
    keys = f"{pki.pem('key.pem')},{pki.pem('signer.pem')},{pki.pem('intermediate.pem')}"
    result = xmlsec1("--sign", "--privkey-pem", keys, "--output", str(out), str(tmp_path / "template.xml"))
    assert result.returncode == 0, result.stderr
    verified = xmldsig.verify_enveloped(out.read_bytes())
    assert verified.certificate == pki.signer.cert
    assert verified.other_certificates == (pki.intermediate,)


def test_signing_an_element_signs_it_as_a_standalone_document(pki: Pki) -> None:
    soap = etree.fromstring(SOAP_MESSAGE.encode())
    data = soap.find(".//data")
    signed = xmldsig.sign_enveloped(data, pki.signer.key, pki.signer.cert)
    assert soap.find(".//ds:Signature", NS) is None, "the caller's tree is not modified"
    standalone = etree.fromstring(signed)
    assert standalone.tag == "data" and "SOAP-ENV" not in standalone.nsmap  # unused ancestor namespaces stay out
    assert xmldsig.verify_enveloped(signed).signed_element.findtext("iin") == "900115300013"

    # embedded back into a SOAP message (as text), it still verifies as the element it is
    embedded = SOAP_MESSAGE.replace(
        "<data><!-- c --><iin>900115300013</iin><name>Тестов</name></data>", signed.decode().split("?>", 1)[1]
    )
    element = etree.fromstring(embedded.encode()).find(".//data")
    verified = xmldsig.verify_enveloped(element)
    assert verified.certificate == pki.signer.cert
    assert verified.signed_element.findtext("name") == "Тестов"
    element.find("name").text = "Подменов"
    assert reason_of(xmldsig.verify_enveloped, element) == "bad_signature"


def test_verifying_a_parsed_root_in_place_leaves_the_tree_as_it_was(pki: Pki) -> None:
    signed = xmldsig.parse_xml(xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert))
    # move the signature to the front, the root's leading text becoming its tail: same signed text
    signature = signed[-1]
    signed.insert(0, signature)
    signature.tail, signed.text = signed.text, None
    root = xmldsig.parse_xml(etree.tostring(signed.getroottree()))
    assert root[0].tag == f"{{{DS}}}Signature" and root[0].tail == "\n  "
    before = etree.tostring(root.getroottree(), method="c14n")
    verified = xmldsig.verify_enveloped(root)
    assert verified.signed_element is root
    assert etree.tostring(root.getroottree(), method="c14n") == before
    assert xmldsig.verify_enveloped(root).certificate == pki.signer.cert  # and again


def test_tampered_content_is_bad_signature(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    assert reason_of(xmldsig.verify_enveloped, edit(signed, "900115300013", "900115300014")) == "bad_signature"
    assert reason_of(xmldsig.verify_enveloped, edit(signed, 'attr="a &amp; b', 'attr="a &amp; c')) == "bad_signature"
    added = edit(signed, "<p:iin>", "<p:iin2>1</p:iin2><p:iin>")
    assert reason_of(xmldsig.verify_enveloped, added) == "bad_signature"
    assert reason_of(xmldsig.verify_enveloped, edit(signed, "<?egov-trace", "<?egov-trice")) == "bad_signature"


def test_tampered_signed_info_is_bad_signature(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    root = etree.fromstring(signed)
    digest = root.find(".//ds:DigestValue", NS).text
    other_digest = ("B" if digest[0] == "A" else "A") + digest[1:]
    assert reason_of(xmldsig.verify_enveloped, edit(signed, digest, other_digest)) == "bad_signature"
    value = root.find(".//ds:SignatureValue", NS).text
    assert (
        reason_of(xmldsig.verify_enveloped, edit(signed, value, value[4:-4] + value[:4] + value[-4:]))
        == "bad_signature"
    )
    algorithm = f'<ds:Transform Algorithm="{xmldsig.C14N_WITH_COMMENTS}"/>'
    plain = f'<ds:Transform Algorithm="{xmldsig.C14N}"/>'  # same digest, but SignedInfo changed
    assert reason_of(xmldsig.verify_enveloped, edit(signed, algorithm, plain)) == "bad_signature"
    # a valid signature by someone else's key under the signer's certificate
    other = etree.fromstring(xmldsig.sign_enveloped(PERSON, pki.other.key, pki.other.cert))
    swapped = edit(signed, value, other.find(".//ds:SignatureValue", NS).text)
    assert reason_of(xmldsig.verify_enveloped, swapped) == "bad_signature"


def test_a_second_signature_is_wrapping(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    root = etree.fromstring(signed)
    signature = etree.tostring(signature_of(root)).decode()
    twice = edit(signed, "</p:Request>", signature + "</p:Request>")
    assert reason_of(xmldsig.verify_enveloped, twice) == "wrapping"
    hidden = edit(signed, "<x:flag/>", "<x:flag>" + signature + "</x:flag>")
    assert reason_of(xmldsig.verify_enveloped, hidden) == "wrapping"


def test_a_signature_that_is_not_a_child_of_the_root_is_wrapping(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    root = etree.fromstring(signed)
    # the signed document wrapped into a new root, with forged data next to it
    wrapper = etree.Element("Wrapper")
    etree.SubElement(wrapper, "forged").text = "999999999999"
    wrapper.append(root)
    assert reason_of(xmldsig.verify_enveloped, etree.tostring(wrapper)) == "wrapping"
    # the signature moved one level down
    moved = etree.fromstring(signed)
    moved.find("p:iin", NS).append(signature_of(moved))
    assert reason_of(xmldsig.verify_enveloped, etree.tostring(moved)) == "wrapping"


def test_a_reference_to_anything_but_the_whole_document_is_wrapping(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    reference = '<ds:Reference URI=""'
    assert reason_of(xmldsig.verify_enveloped, edit(signed, reference, '<ds:Reference URI="#part"')) == "wrapping"
    assert reason_of(xmldsig.verify_enveloped, edit(signed, reference, "<ds:Reference")) == "wrapping"


def test_sha1_and_unknown_algorithms_are_unsupported(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    rsa_sha1 = edit(signed, xmldsig.RSA_SHA256, DS + "rsa-sha1")
    with pytest.raises(XmlSignatureError, match="SHA-1") as caught:
        xmldsig.verify_enveloped(rsa_sha1)
    assert caught.value.reason == "unsupported"
    assert reason_of(xmldsig.verify_enveloped, edit(signed, xmldsig.SHA256, DS + "sha1")) == "unsupported"
    xslt = edit(signed, xmldsig.C14N_WITH_COMMENTS, "http://www.w3.org/TR/1999/REC-xslt-19991116")
    assert reason_of(xmldsig.verify_enveloped, xslt) == "unsupported"
    no_enveloped = edit(signed, xmldsig.ENVELOPED_SIGNATURE, xmldsig.C14N)
    assert reason_of(xmldsig.verify_enveloped, no_enveloped) == "unsupported"
    c14n11 = edit(signed, f'Algorithm="{xmldsig.C14N}"', 'Algorithm="http://www.w3.org/2006/12/xml-c14n11"')
    assert reason_of(xmldsig.verify_enveloped, c14n11) == "unsupported"


def test_an_unsigned_document_is_not_signed() -> None:
    assert reason_of(xmldsig.verify_enveloped, PERSON) == "not_signed"
    assert reason_of(xmldsig.verify_wsse, SOAP_MESSAGE) == "not_signed"


def test_a_signature_outside_the_profile_shape_is_malformed(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    root = etree.fromstring(signed)
    reference = root.find(".//ds:Reference", NS)
    two_refs = edit(signed, "</ds:SignedInfo>", etree.tostring(reference).decode() + "</ds:SignedInfo>")
    assert reason_of(xmldsig.verify_enveloped, two_refs) == "malformed"
    with_object = edit(signed, "</ds:Signature>", "<ds:Object>x</ds:Object></ds:Signature>")
    assert reason_of(xmldsig.verify_enveloped, with_object) == "malformed"
    assert reason_of(xmldsig.verify_enveloped, edit(signed, "<ds:DigestValue>", "<ds:DigestValue>!")) == "malformed"
    no_cert = etree.fromstring(signed)
    key_info = no_cert.find(".//ds:KeyInfo", NS)
    key_info.getparent().remove(key_info)
    assert reason_of(xmldsig.verify_enveloped, etree.tostring(no_cert)) == "unsupported"
    with pytest.raises(XmlSignatureError) as caught:
        xmldsig.sign_enveloped(signed, pki.signer.key, pki.signer.cert)
    assert caught.value.reason == "malformed"  # one signature per document in this profile


# -- hardened parsing ------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


@pytest.mark.parametrize("body", ["<lolz>&lol9;</lolz>", '<lolz a="&lol9;"/>', "<lolz>&lol2;</lolz>"])
def test_billion_laughs_is_malformed_and_never_expanded(body: str) -> None:
    for call in (xmldsig.parse_xml, xmldsig.verify_enveloped, xmldsig.verify_wsse):
        with pytest.raises(XmlSignatureError) as caught:
            call(BILLION_LAUGHS + body)
        assert caught.value.reason == "malformed"
        assert "lollol" not in str(caught.value)


def test_an_external_entity_is_malformed_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    for url in ("file:///etc/passwd", secret.as_uri(), "http://127.0.0.1:9/x"):
        xxe = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><r>&x;</r>'
        for call in (xmldsig.parse_xml, xmldsig.verify_enveloped):
            with pytest.raises(XmlSignatureError) as caught:
                call(xxe)
            assert caught.value.reason == "malformed"
            assert "root:" not in str(caught.value) and "TOP-SECRET" not in str(caught.value)
    parameter = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]><r/>'
    assert reason_of(xmldsig.parse_xml, parameter) == "malformed"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><r>&x;</r>',
        '<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]><r>&leak;</r>',
        '<!DOCTYPE r SYSTEM "{url}"><r>&leak;</r>',
    ],
)
def test_external_entities_and_dtds_are_never_opened(tmp_path: Path, template: str) -> None:
    """The entity points at a FIFO whose writer only gets through once someone opens it to read:
    if the parser ever opened it, the writer has run by the time the parse returns."""
    fifo = tmp_path / "entity.fifo"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:
        with open(fifo, "w") as f:  # blocks until a reader opens the FIFO
            opened.set()
            f.write('<!ENTITY leak "LEAKED">')

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert reason_of(xmldsig.parse_xml, template.format(url=fifo.as_uri())) == "malformed"
        assert not opened.is_set(), "the parser opened the external entity"
    finally:
        release = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # let the writer finish
        thread.join(10)
        os.close(release)


def test_any_doctype_is_malformed() -> None:
    assert reason_of(xmldsig.parse_xml, "<!DOCTYPE r><r/>") == "malformed"
    assert reason_of(xmldsig.parse_xml, '<!DOCTYPE r SYSTEM "r.dtd"><r/>') == "malformed"
    assert reason_of(xmldsig.parse_xml, "<r>&undeclared;</r>") == "malformed"
    # a tree someone else parsed with a DOCTYPE is refused as well
    parsed = etree.fromstring(b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
    assert reason_of(xmldsig.verify_enveloped, parsed) == "malformed"


def test_oversize_is_malformed_before_parsing() -> None:
    assert reason_of(xmldsig.parse_xml, b"<a>" + b"x" * 100 + b"</a>", 64) == "malformed"
    huge = b" " * (xmldsig.MAX_XML_BYTES + 1)  # not even XML: refused by size first
    with pytest.raises(XmlSignatureError, match="exceeds") as caught:
        xmldsig.verify_enveloped(huge)
    assert caught.value.reason == "malformed"
    assert xmldsig.parse_xml(b"<a>" + b"x" * 100 + b"</a>", 200).text == "x" * 100


@pytest.mark.parametrize("junk", [b"", b"   ", b"hello", b"<a><b></a>", b"\xff\xfe<", "<a>", b"<a/><b/>"])
def test_not_xml_is_malformed(junk: bytes | str) -> None:
    assert reason_of(xmldsig.verify_enveloped, junk) == "malformed"
    assert reason_of(xmldsig.verify_wsse, junk) == "malformed"


def test_text_input_may_declare_another_encoding() -> None:
    root = xmldsig.parse_xml('<?xml version="1.0" encoding="windows-1251"?><a>Тест</a>')
    assert root.text == "Тест"


# -- shape 2: WS-Security --------------------------------------------------------------------


@needs_xmlsec1
def test_our_wsse_signature_verifies_with_xmlsec1_and_with_ours(pki: Pki, tmp_path: Path) -> None:
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    (tmp_path / "signed.xml").write_bytes(signed)
    result = xmlsec1_verify_wsse(pki, tmp_path / "signed.xml")
    assert result.returncode == 0, result.stderr

    envelope = etree.fromstring(signed)
    header, body = envelope
    assert header.tag == f"{{{SOAP}}}Header" and body.tag == f"{{{SOAP}}}Body"
    security = header[0]
    assert security.get(f"{{{SOAP}}}mustUnderstand") == "1"
    body_id = body.get(f"{{{WSU}}}Id")
    assert body_id.startswith("id-") and body.nsmap["wsu"] == WSU
    assert envelope.find(".//ds:Reference", NS).get("URI") == "#" + body_id
    key_identifier = envelope.find(".//ds:KeyInfo/{*}SecurityTokenReference/{*}KeyIdentifier", NS)
    assert key_identifier.get("ValueType").endswith("#X509v3")

    verified = xmldsig.verify_wsse(signed)
    assert verified.certificate == pki.signer.cert
    assert verified.signed_element.tag == f"{{{SOAP}}}Body"
    assert verified.signed_element.findtext(".//iin") == "900115300013"
    assert verified.canonicalization_method == xmldsig.EXC_C14N

    tampered = edit(signed, "<name>Тестов</name>", "<name>Подменов</name>")
    (tmp_path / "tampered.xml").write_bytes(tampered)
    assert xmlsec1_verify_wsse(pki, tmp_path / "tampered.xml").returncode != 0
    assert reason_of(xmldsig.verify_wsse, tampered) == "bad_signature"
    assert xmldsig.verify_wsse(edit(signed, "<!-- c -->", "<!-- changed -->")).certificate == pki.signer.cert


def test_wsse_keeps_an_existing_id_and_header(pki: Pki) -> None:
    message = SOAP_MESSAGE.replace(
        "<SOAP-ENV:Body>",
        f'<SOAP-ENV:Header><h>1</h></SOAP-ENV:Header><SOAP-ENV:Body xmlns:wsu="{WSU}" wsu:Id="body-1">',
    )
    signed = xmldsig.sign_wsse(message.encode(), pki.signer.key, pki.signer.cert)
    envelope = etree.fromstring(signed)
    assert envelope.find(".//ds:Reference", NS).get("URI") == "#body-1"
    assert [etree.QName(c).localname for c in envelope[0]] == ["h", "Security"]
    assert xmldsig.verify_wsse(signed).signed_element.get(f"{{{WSU}}}Id") == "body-1"
    assert reason_of(xmldsig.sign_wsse, signed, pki.signer.key, pki.signer.cert) == "malformed"  # signed already
    duplicate = message.replace("<h>1</h>", '<h Id="body-1">1</h>')
    assert reason_of(xmldsig.sign_wsse, duplicate, pki.signer.key, pki.signer.cert) == "malformed"


def test_wsse_accepts_a_certificate_in_a_referenced_binary_security_token(pki: Pki) -> None:
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    envelope = etree.fromstring(signed)
    identifier = envelope.find(".//{*}KeyIdentifier")
    token_reference = identifier.getparent()
    security = token_reference.getparent().getparent().getparent()
    wsse = token_reference.nsmap["wsse"]
    token = etree.Element(f"{{{wsse}}}BinarySecurityToken", nsmap={"wsu": WSU})
    token.set(f"{{{WSU}}}Id", "X509-1")
    token.set("ValueType", identifier.get("ValueType"))
    token.set("EncodingType", identifier.get("EncodingType"))
    token.text = identifier.text
    security.insert(0, token)
    token_reference.remove(identifier)
    etree.SubElement(token_reference, f"{{{wsse}}}Reference", URI="#X509-1", ValueType=identifier.get("ValueType"))
    assert xmldsig.verify_wsse(etree.tostring(envelope)).certificate == pki.signer.cert
    token.set(f"{{{WSU}}}Id", "X509-2")
    assert reason_of(xmldsig.verify_wsse, etree.tostring(envelope)) == "unsupported"


WSSE_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
  <soap:Header>
    <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        soap:mustUnderstand="1">
      <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo>
          <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
          <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
          <ds:Reference URI="#id-body">
            <ds:Transforms>
              <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">
                <ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="m"/>
              </ds:Transform>
            </ds:Transforms>
            <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
            <ds:DigestValue></ds:DigestValue>
          </ds:Reference>
        </ds:SignedInfo>
        <ds:SignatureValue></ds:SignatureValue>
        <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
      </ds:Signature>
    </wsse:Security>
  </soap:Header>
  <soap:Body wsu:Id="id-body" xmlns:m="urn:used-only-through-prefix-list">
    <!-- a comment -->
    <ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><iin>900115300013</iin></ns2:SendMessage>
  </soap:Body>
</soap:Envelope>
"""


@needs_xmlsec1
def test_a_soap_message_signed_by_xmlsec1_passes_verify_wsse(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "template.xml").write_text(WSSE_TEMPLATE, "utf-8")
    out = tmp_path / "out.xml"
    result = xmlsec1(
        "--sign",
        "--id-attr:Id",
        f"{SOAP}:Body",
        "--privkey-pem",
        f"{pki.pem('key.pem')},{pki.pem('signer.pem')}",
        "--output",
        str(out),
        str(tmp_path / "template.xml"),
    )
    assert result.returncode == 0, result.stderr
    signed = out.read_bytes()
    verified = xmldsig.verify_wsse(signed)
    assert verified.certificate == pki.signer.cert
    assert verified.signed_element.findtext(".//iin") == "900115300013"
    # the PrefixList is honoured: the otherwise unused xmlns:m is signed
    renamed = edit(signed, 'xmlns:m="urn:used-only-through-prefix-list"', 'xmlns:m="urn:other"')
    assert reason_of(xmldsig.verify_wsse, renamed) == "bad_signature"
    assert reason_of(xmldsig.verify_wsse, edit(signed, "900115300013", "900115300014")) == "bad_signature"


def test_a_signed_body_moved_into_the_header_is_wrapping(pki: Pki) -> None:
    """The classic attack: the signed Body goes into the Header (where the digest still
    matches) and a new, unsigned Body carries the attacker's request."""
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    envelope = etree.fromstring(signed)
    header, body = envelope
    wrapper = etree.SubElement(header, "Wrapper")
    wrapper.append(body)
    forged = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    etree.SubElement(forged, "iin").text = "999999999999"
    assert reason_of(xmldsig.verify_wsse, etree.tostring(envelope)) == "wrapping"

    # ...or into the new Body, below it
    envelope = etree.fromstring(signed)
    body = envelope[1]
    forged = etree.Element(f"{{{SOAP}}}Body")
    etree.SubElement(forged, "iin").text = "999999999999"
    envelope.replace(body, forged)
    etree.SubElement(forged, "Wrapper").append(body)
    assert reason_of(xmldsig.verify_wsse, etree.tostring(envelope)) == "wrapping"


def test_a_duplicate_id_is_wrapping(pki: Pki) -> None:
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    envelope = etree.fromstring(signed)
    body_id = envelope[1].get(f"{{{WSU}}}Id")
    for attribute in (f"{{{WSU}}}Id", "Id", "{urn:other}Id", "{http://www.w3.org/XML/1998/namespace}id"):
        copy = etree.fromstring(signed)
        decoy = etree.SubElement(copy[0], "Decoy")
        decoy.set(attribute, body_id)
        assert reason_of(xmldsig.verify_wsse, etree.tostring(copy)) == "wrapping", attribute
    inside = etree.fromstring(signed)
    etree.SubElement(inside[1][0], "x").set("Id", body_id)
    assert reason_of(xmldsig.verify_wsse, etree.tostring(inside)) == "wrapping"


def test_a_second_body_or_a_misplaced_signature_is_wrapping(pki: Pki) -> None:
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    second_body = edit(
        signed, "</SOAP-ENV:Envelope>", "<SOAP-ENV:Body><iin>1</iin></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    assert reason_of(xmldsig.verify_wsse, second_body) == "wrapping"

    envelope = etree.fromstring(signed)
    signature = signature_of(envelope)
    envelope[0].append(signature)  # out of wsse:Security, directly into the Header
    assert reason_of(xmldsig.verify_wsse, etree.tostring(envelope)) == "wrapping"

    envelope = etree.fromstring(signed)
    security = envelope[0][0]
    security.append(etree.fromstring(etree.tostring(signature_of(envelope))))
    assert reason_of(xmldsig.verify_wsse, etree.tostring(envelope)) == "wrapping"

    pointing_elsewhere = edit(signed, 'URI="#', 'URI="#x')
    assert reason_of(xmldsig.verify_wsse, pointing_elsewhere) == "wrapping"


def test_a_signed_document_inside_the_body_does_not_count_as_a_second_signature(pki: Pki) -> None:
    business = xmldsig.sign_enveloped("<data><iin>900115300013</iin></data>", pki.other.key, pki.other.cert)
    message = SOAP_MESSAGE.replace(
        "<data><!-- c --><iin>900115300013</iin><name>Тестов</name></data>", business.decode().split("?>", 1)[1]
    )
    signed = xmldsig.sign_wsse(message, pki.signer.key, pki.signer.cert)
    verified = xmldsig.verify_wsse(signed)
    assert verified.certificate == pki.signer.cert
    inner = xmldsig.verify_enveloped(verified.signed_element.find(".//data"))
    assert inner.certificate == pki.other.cert


def test_wsse_refuses_what_is_not_a_soap_11_envelope(pki: Pki) -> None:
    signed = xmldsig.sign_enveloped(PERSON, pki.signer.key, pki.signer.cert)
    assert reason_of(xmldsig.verify_wsse, signed) == "malformed"
    soap12 = SOAP_MESSAGE.replace(SOAP, "http://www.w3.org/2003/05/soap-envelope")
    assert reason_of(xmldsig.sign_wsse, soap12, pki.signer.key, pki.signer.cert) == "malformed"
    signed = xmldsig.sign_wsse(SOAP_MESSAGE, pki.signer.key, pki.signer.cert)
    assert reason_of(xmldsig.verify_wsse, edit(signed, xmldsig.RSA_SHA256, DS + "rsa-sha1")) == "unsupported"
