"""egovsim.cms: CMS SignedData signing and verification, checked against OpenSSL both ways."""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as acms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from egovsim.cms import (
    MAX_CMS_BYTES,
    CmsError,
    add_signer,
    extract_content,
    load_cms,
    sign_cms,
    verify_cms,
)
from signing.ca import Authority, Holder, KeyKind, KeyPair, Profile, Urls, issue, new_authority

DATA = "Өтініш № 1: анықтама / справка\r\n".encode() + bytes(range(256)) + b"\n end"


@dataclass
class Pki:
    auth: Authority
    pair: KeyPair
    second: KeyPair  # another holder, for a second signer
    dir: Path

    def write(self, name: str, content: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(content)
        return path

    def openssl_sign(self, *extra: str, detached: bool = False, data: bytes = DATA) -> bytes:
        data_file = self.write("to-sign.bin", data)
        args = ["cms", "-sign", "-binary", "-in", str(data_file), "-outform", "DER"]
        args += ["-signer", str(self.dir / "cert.pem"), "-inkey", str(self.dir / "key.pem")]
        if not detached:
            args.append("-nodetach")
        proc = openssl(*args, *extra)
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    def openssl_verify(self, cms: bytes, content: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        args = ["cms", "-verify", "-inform", "DER", "-in", str(self.write("to-verify.der", cms))]
        if content is not None:
            args += ["-binary", "-content", str(self.write("content.bin", content))]
        args += ["-CAfile", str(self.dir / "root.pem"), "-certfile", str(self.dir / "intermediate.pem")]
        return openssl(*args, "-purpose", "any")


def openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, timeout=60, check=False)


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    now = datetime.now(UTC)
    auth = new_authority(now, Urls("http://127.0.0.1:8080"), ca_bits=2048)
    pair = issue(
        auth,
        Holder(
            Profile.INDIVIDUAL,
            KeyKind.SIGN,
            iin="900115300013",
            surname="ТЕСТОВ",
            given_name="ТЕСТ",
            patronymic="ТЕСТОВИЧ",
        ),
        now - timedelta(minutes=5),
        now + timedelta(days=365),
    )
    second = issue(
        auth,
        Holder(
            Profile.CEO, KeyKind.SIGN, iin="850101400021", bin="123456789021", surname="ЕКІНШІ", given_name="ДИРЕКТОР"
        ),
        now - timedelta(minutes=5),
        now + timedelta(days=365),
    )
    pki = Pki(auth, pair, second, tmp_path_factory.mktemp("cms"))
    pki.write("root.pem", pem(auth.root.cert))
    pki.write("intermediate.pem", pem(auth.intermediate.cert))
    pki.write("cert.pem", pair.cert_pem())
    pki.write("key.pem", pair.key_pem())
    return pki


def ours(pki: Pki, data: bytes = DATA, **kwargs) -> bytes:
    # OpenSSL 3.0's `cms -verify -certfile` only looks there for signer certificates, not for the
    # chain, so the intermediate goes into the CMS (as NCALayer can include the chain)
    return sign_cms(data, pki.pair.key, pki.pair.cert, chain=[pki.auth.intermediate.cert], **kwargs)


def reason_of(cms: bytes, data: bytes | None = None) -> str:
    with pytest.raises(CmsError) as caught:
        verify_cms(cms, data)
    return caught.value.reason


def resign(cms: bytes, key, edit=lambda attrs: attrs) -> bytes:
    """The CMS with its first SignerInfo's signed attributes edited and signed again with ``key``."""
    info = acms.ContentInfo.load(cms)
    sd = info["content"]
    si = sd["signer_infos"][0]
    attrs = acms.CMSAttributes(edit(list(si["signed_attrs"])))
    signature = key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    new_si = acms.SignerInfo(
        {
            "version": si["version"],
            "sid": si["sid"],
            "digest_algorithm": si["digest_algorithm"],
            "signed_attrs": attrs,
            "signature_algorithm": si["signature_algorithm"],
            "signature": signature,
        }
    )
    new_sd = acms.SignedData(
        {
            "version": sd["version"],
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "certificates": sd["certificates"],
            "signer_infos": [new_si],
        }
    )
    return acms.ContentInfo({"content_type": "signed_data", "content": new_sd}).dump()


def without(oid_name: str):
    return lambda attrs: [attr for attr in attrs if attr["type"].native != oid_name]


# -- 1. what we make, OpenSSL accepts -------------------------------------------------------------
def test_our_attached_cms_verifies_with_openssl_which_outputs_the_same_content(pki: Pki) -> None:
    proc = pki.openssl_verify(ours(pki))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == DATA


def test_our_detached_cms_verifies_with_openssl_given_the_data(pki: Pki) -> None:
    cms = ours(pki, detached=True)
    proc = pki.openssl_verify(cms, content=DATA)
    assert proc.returncode == 0, proc.stderr.decode()
    assert pki.openssl_verify(cms, content=DATA + b"!").returncode != 0


def test_our_cms_verifies_with_our_verify_and_carries_the_signing_time(pki: Pki) -> None:
    when = datetime(2031, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)  # the simulated clock, not now
    verified = verify_cms(ours(pki, signing_time=when))
    assert verified.content == DATA
    assert not verified.detached
    [signer] = verified.signers
    assert signer.certificate == pki.pair.cert
    assert signer.signing_time == when.replace(microsecond=0)
    assert signer.digest_algorithm == "sha256"
    assert set(verified.certificates) == {pki.pair.cert, pki.auth.intermediate.cert}

    detached = verify_cms(ours(pki, detached=True), DATA)
    assert detached.detached and detached.content == DATA


def test_our_signed_attributes_are_content_type_signing_time_and_message_digest(pki: Pki) -> None:
    si = acms.ContentInfo.load(ours(pki))["content"]["signer_infos"][0]
    types = {attr["type"].native for attr in si["signed_attrs"]}
    assert types == {"content_type", "signing_time", "message_digest"}
    assert si["digest_algorithm"]["algorithm"].native == "sha256"
    assert si["signature_algorithm"]["algorithm"].dotted == "1.2.840.113549.1.1.1"  # rsaEncryption


def test_signing_time_without_a_clock_is_now(pki: Pki) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    [signer] = verify_cms(ours(pki)).signers
    assert before <= signer.signing_time <= datetime.now(UTC)


def test_signing_with_a_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    with pytest.raises(ValueError):
        sign_cms(DATA, pki.second.key, pki.pair.cert)


def test_empty_content_signs_and_verifies(pki: Pki) -> None:
    assert verify_cms(ours(pki, data=b"")).content == b""
    assert pki.openssl_verify(ours(pki, data=b"")).returncode == 0


# -- 2. what OpenSSL makes, we accept -------------------------------------------------------------
def test_openssl_attached_cms_passes_and_returns_the_signer_certificate(pki: Pki) -> None:
    verified = verify_cms(pki.openssl_sign("-md", "sha256"))
    assert verified.content == DATA
    assert not verified.detached
    [signer] = verified.signers
    assert signer.certificate == pki.pair.cert
    assert signer.signing_time is not None
    assert abs(signer.signing_time - datetime.now(UTC)) < timedelta(minutes=5)


def test_openssl_detached_cms_passes_with_the_data(pki: Pki) -> None:
    verified = verify_cms(pki.openssl_sign("-md", "sha256", detached=True), DATA)
    assert verified.detached
    assert verified.content == DATA
    assert [s.certificate for s in verified.signers] == [pki.pair.cert]


def test_openssl_cms_without_signed_attributes_passes(pki: Pki) -> None:
    verified = verify_cms(pki.openssl_sign("-md", "sha256", "-noattr"))
    assert verified.content == DATA
    [signer] = verified.signers
    assert signer.certificate == pki.pair.cert
    assert signer.signing_time is None
    detached = pki.openssl_sign("-md", "sha256", "-noattr", detached=True)
    assert verify_cms(detached, DATA).signers[0].certificate == pki.pair.cert
    assert reason_of(detached, DATA[:-1]) == "bad_signature"


def test_openssl_cms_naming_the_signer_by_subject_key_identifier_passes(pki: Pki) -> None:
    cms = pki.openssl_sign("-md", "sha256", "-keyid")
    assert acms.ContentInfo.load(cms)["content"]["signer_infos"][0]["sid"].name == "subject_key_identifier"
    assert verify_cms(cms).signers[0].certificate == pki.pair.cert


def test_openssl_pem_and_base64_load_as_der(pki: Pki) -> None:
    der = pki.openssl_sign("-md", "sha256")
    proc = openssl("cms", "-cmsout", "-inform", "DER", "-outform", "PEM", "-in", str(pki.write("p.der", der)))
    assert proc.stdout.startswith(b"-----BEGIN CMS-----")
    assert load_cms(proc.stdout) == der
    assert load_cms(proc.stdout.replace(b" CMS-----", b" PKCS7-----")) == der
    assert load_cms(base64.b64encode(der)) == der
    assert load_cms(base64.encodebytes(der) + b"\n") == der  # wrapped lines, as NCALayer users paste them
    assert load_cms(der) == der
    assert verify_cms(base64.b64encode(der)).content == DATA


# -- 3. two signers -------------------------------------------------------------------------------
def test_two_signers_via_add_signer_both_verify_and_openssl_agrees(pki: Pki) -> None:
    when = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    one = ours(pki)
    two = add_signer(one, pki.second.key, pki.second.cert, signing_time=when)
    verified = verify_cms(two)
    assert verified.content == DATA
    assert {s.certificate for s in verified.signers} == {pki.pair.cert, pki.second.cert}
    assert {s.signing_time for s in verified.signers if s.certificate == pki.second.cert} == {when}
    proc = pki.openssl_verify(two)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == DATA
    # the first SignerInfo is kept byte for byte
    first = acms.ContentInfo.load(one)["content"]["signer_infos"][0].dump()
    assert first in [si.dump() for si in acms.ContentInfo.load(two)["content"]["signer_infos"]]


def test_two_signers_on_a_detached_cms(pki: Pki) -> None:
    two = add_signer(ours(pki, detached=True), pki.second.key, pki.second.cert, data=DATA)
    verified = verify_cms(two, DATA)
    assert verified.detached and len(verified.signers) == 2
    proc = pki.openssl_verify(two, content=DATA)
    assert proc.returncode == 0, proc.stderr.decode()
    with pytest.raises(CmsError) as caught:
        add_signer(ours(pki, detached=True), pki.second.key, pki.second.cert)
    assert caught.value.reason == "no_data"


def test_a_signer_added_to_an_openssl_cms_keeps_openssls_signature_valid(pki: Pki) -> None:
    original = pki.openssl_sign("-md", "sha256", "-certfile", str(pki.dir / "intermediate.pem"))
    two = add_signer(original, pki.second.key, pki.second.cert)
    assert {s.certificate for s in verify_cms(two).signers} == {pki.pair.cert, pki.second.cert}
    proc = pki.openssl_verify(two)
    assert proc.returncode == 0, proc.stderr.decode()


def test_no_one_cosigns_tampered_content(pki: Pki) -> None:
    with pytest.raises(CmsError) as caught:
        add_signer(flip_content_byte(ours(pki)), pki.second.key, pki.second.cert)
    assert caught.value.reason == "bad_signature"


# -- 4. refusals ----------------------------------------------------------------------------------
def flip_content_byte(cms: bytes) -> bytes:
    at = cms.index(DATA) + 7
    return cms[:at] + bytes([cms[at] ^ 0x01]) + cms[at + 1 :]


def test_tampered_encapsulated_content_is_a_bad_signature(pki: Pki) -> None:
    assert reason_of(flip_content_byte(ours(pki))) == "bad_signature"
    assert reason_of(flip_content_byte(pki.openssl_sign("-md", "sha256"))) == "bad_signature"
    assert reason_of(flip_content_byte(pki.openssl_sign("-md", "sha256", "-noattr"))) == "bad_signature"


def test_detached_cms_with_wrong_data_is_a_bad_signature(pki: Pki) -> None:
    assert reason_of(ours(pki, detached=True), DATA + b" ") == "bad_signature"
    assert reason_of(pki.openssl_sign("-md", "sha256", detached=True), b"other") == "bad_signature"


def test_attached_cms_with_other_data_given_is_a_bad_signature(pki: Pki) -> None:
    assert verify_cms(ours(pki), DATA).content == DATA
    assert reason_of(ours(pki), b"other") == "bad_signature"


def test_detached_cms_without_data_is_no_data(pki: Pki) -> None:
    assert reason_of(ours(pki, detached=True)) == "no_data"
    assert reason_of(pki.openssl_sign("-md", "sha256", detached=True)) == "no_data"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"not a cms at all", b"\x30\x03\x02\x01", b"-----BEGIN CMS-----\n!!!\n-----END CMS-----\n", b"MII="],
)
def test_garbage_is_malformed(garbage: bytes) -> None:
    assert reason_of(garbage) == "malformed"
    with pytest.raises(CmsError) as caught:
        load_cms(garbage)
    assert caught.value.reason == "malformed"


def test_truncated_der_is_malformed(pki: Pki) -> None:
    cms = ours(pki)
    for cut in (1, 2, 10, len(cms) // 2, len(cms) - 1):
        assert reason_of(cms[:cut]) == "malformed", cut
    assert reason_of(cms + b"\x00") == "malformed"  # trailing bytes


def test_a_certificate_is_not_a_cms(pki: Pki) -> None:
    der = pki.pair.cert.public_bytes(serialization.Encoding.DER)
    assert reason_of(der) == "malformed"
    assert reason_of(pki.pair.cert_pem()) == "malformed"


def test_a_cms_without_signers_or_signer_certificate_is_malformed(pki: Pki) -> None:
    certs_only = openssl("crl2pkcs7", "-nocrl", "-certfile", str(pki.dir / "cert.pem"), "-outform", "DER")
    assert certs_only.returncode == 0
    assert reason_of(certs_only.stdout) == "malformed"
    no_certs = pki.openssl_sign("-md", "sha256", "-nocerts")
    assert reason_of(no_certs) == "malformed"


def test_oversize_is_malformed(pki: Pki) -> None:
    big = sign_cms(b"\x00" * MAX_CMS_BYTES, pki.pair.key, pki.pair.cert)  # valid, but over the limit
    assert len(big) > MAX_CMS_BYTES
    assert reason_of(big) == "malformed"
    assert reason_of(base64.b64encode(big)) == "malformed"


def test_signature_from_another_key_is_a_bad_signature(pki: Pki) -> None:
    forged = resign(ours(pki), pki.second.key)  # claims pair.cert, signed by second's key
    assert reason_of(forged) == "bad_signature"
    assert verify_cms(resign(ours(pki), pki.pair.key)).content == DATA  # the helper itself is sound


def test_sha1_is_unsupported(pki: Pki) -> None:
    assert reason_of(pki.openssl_sign("-md", "sha1")) == "unsupported"


def test_signed_attributes_must_match_and_be_complete(pki: Pki) -> None:
    def wrong_type(attrs):
        return [
            {"type": "content_type", "values": ["signed_data"]} if a["type"].native == "content_type" else a
            for a in attrs
        ]

    assert reason_of(resign(ours(pki), pki.pair.key, wrong_type)) == "bad_signature"
    assert reason_of(resign(ours(pki), pki.pair.key, without("message_digest"))) == "malformed"
    assert reason_of(resign(ours(pki), pki.pair.key, without("content_type"))) == "malformed"
    assert verify_cms(resign(ours(pki), pki.pair.key, without("signing_time"))).signers[0].signing_time is None

    def twice(attrs):
        return [*attrs, next(a for a in attrs if a["type"].native == "signing_time")]

    assert reason_of(resign(ours(pki), pki.pair.key, twice)) == "malformed"


def test_an_ess_signing_certificate_attribute_must_name_the_signer(pki: Pki) -> None:
    def naming(cert):
        cert_hash = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
        return lambda attrs: [
            *attrs,
            {"type": "signing_certificate_v2", "values": [{"certs": [{"cert_hash": cert_hash}]}]},
        ]

    assert verify_cms(resign(ours(pki), pki.pair.key, naming(pki.pair.cert))).content == DATA
    assert reason_of(resign(ours(pki), pki.pair.key, naming(pki.second.cert))) == "bad_signature"


def test_extract_content(pki: Pki) -> None:
    assert extract_content(ours(pki)) == DATA
    assert extract_content(base64.b64encode(pki.openssl_sign("-md", "sha256"))) == DATA
    with pytest.raises(CmsError) as caught:
        extract_content(ours(pki, detached=True))
    assert caught.value.reason == "no_data"
    with pytest.raises(CmsError) as caught:
        extract_content(b"junk")
    assert caught.value.reason == "malformed"


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # damaged certificates
def test_damaged_cms_fails_only_with_cms_errors(pki: Pki) -> None:
    """Random byte flips and cuts: verify_cms either passes or raises CmsError, never anything else."""
    rng = random.Random(20240602)
    samples = [ours(pki, data=b"short"), pki.openssl_sign("-md", "sha256", data=b"short")]
    for _ in range(400):
        cms = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            cms[rng.randrange(len(cms))] ^= 1 << rng.randrange(8)
        if rng.random() < 0.3:
            cms = cms[: rng.randrange(len(cms))]
        try:
            verify_cms(bytes(cms))
        except CmsError as exc:
            assert exc.reason in {"malformed", "bad_signature", "no_data", "unsupported"}


def test_adding_a_signer_with_a_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    with pytest.raises(ValueError) as caught:
        add_signer(ours(pki), pki.second.key, pki.pair.cert)
    assert not isinstance(caught.value, CmsError)
