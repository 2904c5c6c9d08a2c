"""The local signer speaks NCALayer's protocol: a front end written for NCALayer signs through it,
the user chooses the key file and types its password on the signer's page, and what comes back
verifies with our XMLDSig and with xmlsec1, which we did not write.

Key files are issued by the in-process НУЦ through its public API, as `egovsim up` does."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography import x509
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from egovsim import cms, xmldsig
from egovsim.app import RunningSimulator, running
from egovsim.catalog.loader import default_services_dir
from egovsim.settings import Settings
from signing.ncalayer import (
    BASICS,
    COMMON_UTILS,
    KeyFile,
    KeyType,
    NcaLayerSigner,
    PendingRequest,
    load_key_file,
    sign_xml,
)
from tests.conftest import ADMIN_TOKEN, database_for
from tests.nca_helpers import ca_files, issue, run

pytestmark = pytest.mark.asyncio(loop_scope="module")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Qwerty12"
DOCUMENT = '<?xml version="1.0" encoding="UTF-8"?>\n<request xmlns="urn:egov:test"><iin>900115300013</iin></request>'


@dataclass(frozen=True)
class Keys:
    data_dir: Path
    sign: Path
    auth: Path
    sign_cert: x509.Certificate
    auth_cert: x509.Certificate
    root: Path  # the НУЦ's root and issuing CA certificates, PEM
    ca: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nca_alone(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSimulator]:
    """The НУЦ alone, in-process (its CA keys, RSA 4096, are made once for the module). One
    service file instead of the catalogue's 18: the signer needs none, and parsing them all is
    most of a whole simulator's start."""
    tmp = tmp_path_factory.mktemp("nca")
    catalog = tmp / "catalog"
    catalog.mkdir()
    shutil.copy(min(default_services_dir().glob("*.yaml"), key=lambda p: p.stat().st_size), catalog)
    with database_for(tmp) as url:
        settings = Settings(data_dir=tmp / "data", database_url=url, admin_token=ADMIN_TOKEN, catalog_dir=catalog)
        async with running(settings, ["signing"]) as simulator:
            yield simulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def keys(nca_alone: RunningSimulator, tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """A data folder as `egovsim up` leaves it: a SIGN and an AUTH key file of one persona, the
    certificate PEM beside each, the CA certificates, and personas.json's keyFiles rows."""
    data_dir = tmp_path_factory.mktemp("signer-data")
    folder = data_dir / "keys" / "aset"
    folder.mkdir(parents=True)
    rows, paths, certs = [], {}, {}
    async with nca_alone.client() as http:
        for kind in ("sign", "auth"):
            issued = await issue(http, kind=kind, password=PASSWORD)
            p12 = folder / issued["fileName"]
            p12.write_bytes(base64.b64decode(issued["pkcs12"]))
            (folder / f"{p12.stem}.crt.pem").write_text(issued["certificate"], encoding="utf-8")
            (data_dir / "keys" / "ca-chain.pem").write_text(issued["chain"], encoding="utf-8")
            paths[kind], certs[kind] = p12, x509.load_pem_x509_certificate(issued["certificate"].encode())
            rows.append(
                {
                    "id": "aset",
                    "kind": kind,
                    "iin": "900115300013",
                    "bin": None,
                    "name": issued["commonName"],
                    "serial": issued["serial"],
                    "file": str(p12),
                    "password": PASSWORD,
                }
            )
        ca = await ca_files(http, data_dir / "keys")
    (data_dir / "personas.json").write_text(json.dumps({"personas": [], "keyFiles": rows}), encoding="utf-8")
    return Keys(data_dir, paths["sign"], paths["auth"], certs["sign"], certs["auth"], ca["root"], ca["ca"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def started(keys: Keys) -> AsyncIterator[NcaLayerSigner]:
    async with NcaLayerSigner(keys.data_dir, port=0, timeout=30) as signer:
        yield signer


@pytest_asyncio.fixture(loop_scope="module")
async def signer(started: NcaLayerSigner) -> AsyncIterator[NcaLayerSigner]:
    """The module's signer, as a test finds it: nothing preselected, nothing waiting."""
    started.clear_preselection()
    yield started
    for request in started.pending():  # a failed test may leave one behind
        started.cancel(request.id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(started: NcaLayerSigner) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=started.chooser_url, timeout=10) as client:
        yield client


async def layer(signer: NcaLayerSigner) -> ClientConnection:
    """A front end's connection, greeting read."""
    ws = await connect(signer.url, max_size=None)
    assert json.loads(await ws.recv()) == {"result": {"version": "1.2"}}
    return ws


async def send(ws: ClientConnection, module: str, method: str, args: Any = None) -> None:
    request: dict[str, Any] = {"module": module, "method": method}
    if args is not None:
        request["args"] = args
    await ws.send(json.dumps(request))


async def call(ws: ClientConnection, module: str, method: str, args: Any = None) -> dict[str, Any]:
    await send(ws, module, method, args)
    reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return reply


def sign_xml_args(key_type: str = "SIGNATURE", xml: str = DOCUMENT) -> list[str]:
    return ["PKCS12", key_type, xml, "", ""]


async def waiting(signer: NcaLayerSigner, count: int = 1) -> list[PendingRequest]:
    for _ in range(500):
        pending = signer.pending()
        if len(pending) >= count:
            return pending
        await asyncio.sleep(0.01)
    raise AssertionError("no signing request came to the chooser")


def certificate_in(signed: str) -> x509.Certificate:
    found = re.search(r"<ds:X509Certificate>(.*?)</ds:X509Certificate>", signed, re.S)
    assert found is not None
    return x509.load_der_x509_certificate(base64.b64decode("".join(found.group(1).split())))


# -- the protocol -----------------------------------------------------------------------------------
async def test_the_greeting_is_ncalayers_and_heartbeats_are_echoed_even_while_a_request_waits(
    signer: NcaLayerSigner,
) -> None:
    async with await layer(signer) as ws:  # layer() checks the greeting
        await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
        await waiting(signer)
        await ws.send("--heartbeat--")
        assert await asyncio.wait_for(ws.recv(), 5) == "--heartbeat--"


async def test_file_storage_only_so_there_are_no_active_tokens(signer: NcaLayerSigner) -> None:
    async with await layer(signer) as ws:
        assert await call(ws, COMMON_UTILS, "getActiveTokens") == {"code": "200", "responseObject": []}


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed")
async def test_sign_xml_has_ncalayers_shape_and_verifies_with_ours_and_xmlsec1(
    signer: NcaLayerSigner, keys: Keys, tmp_path: Path
) -> None:
    await signer.preselect(str(keys.sign), PASSWORD)
    async with await layer(signer) as ws:
        reply = await call(ws, COMMON_UTILS, "signXml", sign_xml_args())
    assert reply["code"] == "200", reply
    signed: str = reply["responseObject"]
    assert signed.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?><request')
    # NCALayer's layout: CRLF between the signature's elements, base64 in lines of 76 with CRLF
    assert '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\r\n<ds:SignedInfo>' in signed
    assert "</ds:SignedInfo>\r\n<ds:SignatureValue>\r\n" in signed
    assert "\r\n</ds:KeyInfo>\r\n</ds:Signature></request>" in signed
    value = signed.split("<ds:SignatureValue>", 1)[1].split("</ds:SignatureValue>", 1)[0]
    certificate = signed.split("<ds:X509Certificate>", 1)[1].split("</ds:X509Certificate>", 1)[0]
    for block in (value, certificate):
        lines = block.split("\r\n")
        assert lines[0] == "" and lines[-1] == ""
        assert all(len(line) == 76 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 76
        assert "\n" not in block.replace("\r\n", "")
    verified = xmldsig.verify_enveloped(signed.encode())
    assert verified.certificate == keys.sign_cert
    assert verified.transforms == (xmldsig.ENVELOPED_SIGNATURE, xmldsig.C14N_WITH_COMMENTS)
    path = tmp_path / "signed.xml"
    path.write_bytes(signed.encode())
    rc, out = await run("xmlsec1", "--verify", "--trusted-pem", keys.root, "--untrusted-pem", keys.ca, path)
    assert rc == 0 and "OK" in out, out
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.replace("900115300013", "900115300014").encode())
    rc, out = await run("xmlsec1", "--verify", "--trusted-pem", keys.root, "--untrusted-pem", keys.ca, tampered)
    assert rc != 0, out


@pytest.mark.parametrize(
    "document",
    [
        '<a xmlns:ds="http://www.w3.org/2000/09/xmldsig#">the root declares ds already</a>',
        '<a xmlns:ds="urn:not-xmldsig"><ds:b>ds is another namespace</ds:b></a>',
        "<!-- before --><?pi x?><a>text with\r\nCRLF, &amp; and ✓</a><!-- after the root -->",
    ],
)
async def test_sign_xml_keeps_ncalayers_layout_for_any_document(keys: Keys, document: str) -> None:
    loaded = load_key_file(KeyFile("sign", keys.sign, "sign", "SIGN"), PASSWORD)
    signed = sign_xml(document, loaded.key, loaded.certificate)
    assert signed.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    assert re.search(r"<ds:Signature[^>]*>\r\n<ds:SignedInfo>", signed)
    assert "</ds:SignatureValue>\r\n<ds:KeyInfo>\r\n<ds:X509Data>\r\n<ds:X509Certificate>\r\n" in signed
    assert xmldsig.verify_enveloped(signed.encode()).certificate == keys.sign_cert


async def test_sign_xmls_signs_each_document(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.sign), PASSWORD)
    second = DOCUMENT.replace("900115300013", "850716400607")
    async with await layer(signer) as ws:
        reply = await call(ws, COMMON_UTILS, "signXmls", ["PKCS12", "SIGNATURE", [DOCUMENT, second], "", ""])
    assert reply["code"] == "200", reply
    first, other = reply["responseObject"]
    assert xmldsig.verify_enveloped(first.encode()).signed_element.findtext("{urn:egov:test}iin") == "900115300013"
    assert xmldsig.verify_enveloped(other.encode()).signed_element.findtext("{urn:egov:test}iin") == "850716400607"


async def test_key_type_signature_refuses_an_auth_key(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.auth), PASSWORD)
    async with await layer(signer) as ws:
        reply = await call(ws, COMMON_UTILS, "signXml", sign_xml_args("SIGNATURE"))
        assert reply["code"] == "500" and "SIGN key" in reply["message"], reply
        # the same key answers a request that asks for authentication
        reply = await call(ws, COMMON_UTILS, "signXml", sign_xml_args("AUTHENTICATION"))
    assert reply["code"] == "200", reply
    assert certificate_in(reply["responseObject"]) == keys.auth_cert


async def test_each_key_type_takes_its_own_preselected_key(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.sign), PASSWORD, key_type=KeyType.SIGNATURE)
    await signer.preselect(str(keys.auth), PASSWORD, key_type=KeyType.AUTHENTICATION)
    async with await layer(signer) as ws:
        signature = await call(ws, COMMON_UTILS, "signXml", sign_xml_args("SIGNATURE"))
        authentication = await call(ws, COMMON_UTILS, "signXml", sign_xml_args("AUTHENTICATION"))
    assert certificate_in(signature["responseObject"]) == keys.sign_cert
    assert certificate_in(authentication["responseObject"]) == keys.auth_cert


async def test_a_wrong_password_keeps_the_request_waiting_and_the_right_one_signs(
    signer: NcaLayerSigner, keys: Keys, api: httpx.AsyncClient
) -> None:
    async with await layer(signer) as ws:
        await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
        (request,) = await waiting(signer)
        body = {"requestId": request.id, "keyFile": "keys/aset/" + keys.sign.name, "password": "wrong"}
        refused = await api.post("/api/choose", json=body)
        assert refused.status_code == 422
        assert refused.json() == {"code": "wrong_password", "message": "Password incorrect."}
        listed = (await api.get("/api/pending")).json()["pending"]
        assert [p["requestId"] for p in listed] == [request.id]
        assert listed[0]["error"] == "Password incorrect." and listed[0]["keyType"] == "SIGNATURE"
        chosen = await api.post("/api/choose", json=body | {"password": PASSWORD})
        assert chosen.status_code == 200, chosen.text
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["code"] == "200"
    assert xmldsig.verify_enveloped(reply["responseObject"].encode()).certificate == keys.sign_cert
    assert signer.pending() == []


async def test_choosing_an_auth_key_for_a_signature_is_refused_and_the_request_waits(
    signer: NcaLayerSigner, keys: Keys, api: httpx.AsyncClient
) -> None:
    async with await layer(signer) as ws:
        await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
        (request,) = await waiting(signer)
        body = {"requestId": request.id, "keyFile": str(keys.auth), "password": PASSWORD}
        refused = await api.post("/api/choose", json=body)
        assert refused.status_code == 422 and refused.json()["code"] == "unsuitable_key"
        assert [p.id for p in signer.pending()] == [request.id]
        assert (await api.post("/api/cancel", json={"requestId": request.id})).status_code == 200
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"code": "500", "message": "action.canceled"}


async def test_cancel_answers_action_canceled(signer: NcaLayerSigner, api: httpx.AsyncClient) -> None:
    async with await layer(signer) as ws:
        await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
        (request,) = await waiting(signer)
        assert (await api.post("/api/cancel", json={"requestId": request.id})).status_code == 200
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"code": "500", "message": "action.canceled"}
        # the connection goes on
        assert (await call(ws, COMMON_UTILS, "getActiveTokens"))["code"] == "200"
    assert (await api.post("/api/cancel", json={"requestId": request.id})).status_code == 404


async def test_nobody_choosing_in_time_is_action_canceled(keys: Keys) -> None:
    async with NcaLayerSigner(keys.data_dir, port=0, timeout=0.2) as short, await layer(short) as ws:
        reply = await call(ws, COMMON_UTILS, "signXml", sign_xml_args())
        assert reply == {"code": "500", "message": "action.canceled"}
        assert short.pending() == []


async def test_a_closed_connection_takes_its_waiting_request_away(signer: NcaLayerSigner) -> None:
    ws = await layer(signer)
    await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
    await waiting(signer)
    await ws.close()
    for _ in range(200):
        if not signer.pending():
            break
        await asyncio.sleep(0.01)
    assert signer.pending() == []


async def test_basics_sign_xml_answers_status_true_with_the_signed_xml(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.sign), PASSWORD)
    args = {
        "allowedStorages": ["PKCS12"],
        "format": "xml",
        "data": DOCUMENT,
        "signingParams": {"decode": "true", "encapsulate": "true", "digested": "false", "tsaProfile": None},
        "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.4"], "iin": "900115300013", "bin": "", "chain": None},
        "locale": "ru",
    }
    async with await layer(signer) as ws:
        reply = await call(ws, BASICS, "sign", args)
        assert reply["status"] is True, reply
        assert xmldsig.verify_enveloped(reply["body"]["result"].encode()).certificate == keys.sign_cert
        listed = await call(ws, BASICS, "sign", args | {"data": [DOCUMENT, DOCUMENT]})
        assert len(listed["body"]["result"]) == 2
        other_person = await call(ws, BASICS, "sign", args | {"signerParams": {"iin": "850716400607"}})
        assert other_person["status"] is False and "850716400607" in other_person["message"]


async def test_basics_sign_cms_and_the_users_cancel(signer: NcaLayerSigner, keys: Keys, api: httpx.AsyncClient) -> None:
    data = "Заявление / өтініш".encode()
    args = {
        "format": "cms",
        "data": base64.b64encode(data).decode(),
        "signingParams": {"decode": True, "encapsulate": True, "digested": False, "tsaProfile": {}},
        "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2"]},
    }
    async with await layer(signer) as ws:
        await send(ws, BASICS, "sign", args)
        (request,) = await waiting(signer)
        assert request.requirements.key_type == KeyType.AUTHENTICATION
        await api.post("/api/cancel", json={"requestId": request.id})
        # the client library tells a cancel by a body without result
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"status": True, "body": {}}
        await signer.preselect(str(keys.auth), PASSWORD)
        reply = await call(ws, BASICS, "sign", args)
    verified = cms.verify_cms(base64.b64decode(reply["body"]["result"]))
    assert verified.content == data and verified.signers[0].certificate == keys.auth_cert


async def test_create_cades_from_base64_is_a_cms_over_the_data(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.sign), PASSWORD)
    data = b"%PDF-1.7 not really"
    async with await layer(signer) as ws:
        detached = await call(
            ws, COMMON_UTILS, "createCAdESFromBase64", ["PKCS12", "SIGNATURE", "JVBERi0xLjcgbm90IHJlYWxseQ==", False]
        )
        attached = await call(
            ws, COMMON_UTILS, "createCAdESFromBase64", ["PKCS12", "SIGNATURE", "JVBERi0xLjcgbm90IHJlYWxseQ==", True]
        )
    assert cms.verify_cms(base64.b64decode(detached["responseObject"]), data).detached
    assert cms.verify_cms(base64.b64decode(attached["responseObject"])).content == data


async def test_get_key_info_describes_the_chosen_key(signer: NcaLayerSigner, keys: Keys) -> None:
    await signer.preselect(str(keys.sign), PASSWORD)
    async with await layer(signer) as ws:
        info = (await call(ws, COMMON_UTILS, "getKeyInfo", ["PKCS12"]))["responseObject"]
    cert = keys.sign_cert
    assert info["algorithm"] == "RSA" and info["subjectCn"] == "АХМЕТОВ АСЕТ"
    assert "serialNumber=IIN900115300013" in info["subjectDn"] or "2.5.4.5=IIN900115300013" in info["subjectDn"]
    assert info["serialNumber"] == format(cert.serial_number, "x")
    assert int(info["certNotAfter"]) == int(cert.not_valid_after_utc.timestamp() * 1000)
    assert int(info["certNotBefore"]) == int(cert.not_valid_before_utc.timestamp() * 1000)
    assert info["alias"] == info["keyId"] and keys.sign.stem.endswith(info["keyId"])
    assert x509.load_pem_x509_certificate(info["pem"].encode()) == cert


async def test_unknown_methods_modules_and_bad_arguments_get_500(signer: NcaLayerSigner) -> None:
    async with await layer(signer) as ws:
        unknown = await call(ws, COMMON_UTILS, "formatHardDrive", [])
        assert unknown["code"] == "500" and "formatHardDrive" in unknown["message"]
        module = await call(ws, "kz.digiflow.mobile.extensions", "getVersion")
        assert module["code"] == "500" and "kz.digiflow.mobile.extensions" in module["message"]
        mismatch = await call(ws, COMMON_UTILS, "getKeyInfo", [None])
        assert mismatch == {
            "code": "500",
            "message": "java.lang.IllegalArgumentException: argument type mismatch. Method: getKeyInfo",
        }
        bad_xml = await call(ws, COMMON_UTILS, "signXml", sign_xml_args(xml="<this>is not a valid XML"))
        assert bad_xml["code"] == "500" and "cannot be parsed" in bad_xml["message"]
        assert signer.pending() == []  # nothing to choose for: the user was not asked


async def test_malformed_json_gets_500_and_the_connection_stays_usable(signer: NcaLayerSigner) -> None:
    async with await layer(signer) as ws:
        await ws.send("{not json")
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply["code"] == "500" and "not JSON" in reply["message"]
        await ws.send("[1, 2]")
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == "500"
        assert (await call(ws, COMMON_UTILS, "getActiveTokens"))["code"] == "200"


async def test_a_message_over_the_size_cap_closes_the_connection(signer: NcaLayerSigner) -> None:
    async with await layer(signer) as ws:
        await ws.send("x" * 5_000_001)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


# -- the chooser page and its API -------------------------------------------------------------------
async def test_the_chooser_page_lists_the_waiting_request_and_the_key_files(
    signer: NcaLayerSigner, keys: Keys, api: httpx.AsyncClient
) -> None:
    async with await layer(signer) as ws:
        await send(ws, COMMON_UTILS, "signXml", sign_xml_args())
        (request,) = await waiting(signer)
        page = await api.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        text = page.text
        assert '<html lang="en">' in text
        assert f'data-pending="{request.id}"' in text
        assert "<code>signXml</code>" in text and "keyType SIGNATURE" in text
        assert "&lt;iin&gt;900115300013&lt;/iin&gt;" in text  # the preview, escaped
        assert keys.sign.name in text and keys.auth.name in text
        assert f'<label for="password-{request.id}">Password</label>' in text
        assert re.search(r'<input type="radio" name="keyFile" id="key-[^"]+-0" value="keys/aset/RSA256_', text)
        # the plain form: a wrong password shows NCALayer's wording next to the request
        form = {"requestId": request.id, "keyFile": f"keys/aset/{keys.sign.name}", "password": "nope"}
        refused = await api.post("/choose", data=form)
        assert refused.status_code == 422 and "Password incorrect." in refused.text
        done = await api.post("/choose", data=form | {"password": PASSWORD})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == "200"
    for asset in ("chooser.js", "chooser.css"):
        assert (await api.get(f"/static/{asset}")).status_code == 200
    assert (await api.get("/static/../ncalayer.py")).status_code == 404


async def test_other_sites_cannot_choose_keys(signer: NcaLayerSigner, keys: Keys, api: httpx.AsyncClient) -> None:
    body = {"keyFile": str(keys.sign), "password": PASSWORD}
    evil = await api.post("/api/preselect", json=body, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and evil.json()["code"] == "cross_site"
    embedded = await api.post("/api/preselect", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert embedded.status_code == 403
    rebound = await api.get("/api/pending", headers={"Host": f"evil.example:{signer.port}"})
    assert rebound.status_code == 421
    assert signer.preselected() == {"any": None, "SIGNATURE": None, "AUTHENTICATION": None}
    own = await api.post("/api/preselect", json=body, headers={"Origin": signer.chooser_url.rstrip("/")})
    assert own.status_code == 200 and own.json()["preselected"]["any"]["kind"] == "SIGN"
    cleared = await api.delete("/api/preselect")
    assert cleared.json()["preselected"]["any"] is None


async def test_preselect_with_a_wrong_password_is_refused(api: httpx.AsyncClient, keys: Keys) -> None:
    refused = await api.post("/api/preselect", json={"keyFile": str(keys.sign), "password": "wrong"})
    assert refused.status_code == 422 and refused.json()["message"] == "Password incorrect."
    unknown = await api.post("/api/preselect", json={"keyFile": "/etc/passwd", "password": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_key_file"


async def test_tls_serves_wss_with_a_localhost_certificate(keys: Keys, tmp_path: Path) -> None:
    async with NcaLayerSigner(keys.data_dir, port=0, tls=True) as secure:
        assert secure.url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=keys.data_dir / "ncalayer" / "localhost.crt.pem")
        async with connect(secure.url, ssl=context) as ws:
            assert json.loads(await ws.recv()) == {"result": {"version": "1.2"}}


# -- in a browser -----------------------------------------------------------------------------------
FRONT_END = """<!doctype html><html lang="en"><body><script>
window.signed = new Promise((resolve) => {
  const socket = new WebSocket("%(url)s");
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.result && message.result.version) {
      socket.send(JSON.stringify({module: "kz.gov.pki.knca.commonUtils", method: "signXml",
        args: ["PKCS12", "SIGNATURE", %(xml)s, "", ""]}));
    } else {
      resolve(message);
    }
  };
});
</script></body></html>"""


async def test_a_browser_front_end_signs_while_the_user_chooses_on_the_page(signer: NcaLayerSigner, keys: Keys) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        try:
            front_end = await browser.new_page()
            await front_end.set_content(FRONT_END % {"url": signer.url, "xml": json.dumps(DOCUMENT)})
            await waiting(signer)
            chooser = await browser.new_page()
            await chooser.goto(signer.chooser_url)
            await chooser.get_by_label(re.compile(re.escape(keys.sign.name))).check()
            await chooser.get_by_label("Password").fill(PASSWORD)
            ARTIFACTS.mkdir(exist_ok=True)
            await chooser.screenshot(path=str(ARTIFACTS / "ncalayer-chooser.png"), full_page=True)
            await chooser.get_by_role("button", name="Sign").click()
            reply = await asyncio.wait_for(front_end.evaluate("window.signed"), 10)
            # back on the page (303), the request is gone
            await playwright_api.expect(chooser.get_by_role("heading", name="Waiting requests (0)")).to_be_visible()
        finally:
            await browser.close()
    assert reply["code"] == "200"
    assert xmldsig.verify_enveloped(reply["responseObject"].encode()).certificate == keys.sign_cert
