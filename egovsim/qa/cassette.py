"""Gateway cassettes: ЭҮШ / ШЭП traffic recorded from the gateway's message journal and replayed
later against egovsim, answer by answer, ignoring what legitimately changes between runs.

Recording
---------
``record`` reads the journal through the operator's API (``GET /shep/api/journal[/{id}]``, admin
token) and keeps the calls integrators made on the channel endpoints: journal channel ``sync``
(SyncChannel ``SendMessage`` on ``/shep/bip-sync-wss-gost/``) and ``async`` (AsyncChannel
``sendMessage``, ``getMessageStatus``, ``getMessages``, ``sendDeliveryNotification`` on
``/shep/bip-async/``). Channel ``push`` entries are the gateway's own deliveries to recipients:
they are the consequence of a call, not a call, and are left out. The journal keeps neither the
HTTP headers nor the status, so a cassette carries the headers an integrator sends
(``Content-Type: text/xml; charset=utf-8``, ``SOAPAction: ""``, egov-interfaces §1) and the status
the gateway answers with (200, or 500 with a SOAP fault). Entries that cannot be replayed are
listed under ``skipped`` with the reason: a message the journal cut at ``journal_max_xml_bytes``,
an oversize body the gateway never read, a request not in UTF-8 (the journal keeps its text).

The file (YAML; JSON reads too)::

    version: 1                                 # this format
    recording:
      source: http://127.0.0.1:8080            # the gateway the journal was read from
      at: '2026-03-02T10:00:00.250000Z'        # when (wall clock, UTC)
      filter: {since: null, until: null, fromId: null, toId: null, senderId: client, serviceId: null}
    interactions:                              # in the order the gateway received them
    - journalId: 12
      received: '2026-03-02T09:59:58.120000Z'
      channel: sync                            # sync | async
      operation: SendMessage
      senderId: client
      serviceId: GBDFL_UniversalServiceSync
      messageId: M-1
      request:
        method: POST
        path: /shep/bip-sync-wss-gost/
        headers: {Content-Type: text/xml; charset=utf-8, SOAPAction: '""'}
        body: <?xml …                          # as the journal keeps it: the password is ***
      response:
        status: 200
        faultCode: null                        # ErrorInfo/errorCode of a SOAP fault (SCE004 …)
        body: <?xml …
    skipped:
    - journalId: 13
      operation: SendMessage
      reason: the journal kept only the beginning of the 70312-byte request (journal_max_xml_bytes): …

Replaying
---------
``replay`` posts each request to the same path with the same headers and compares the answer
with the recorded one: the HTTP status, the fault code, and the answer's XML after ``normalised``
took out what changes on every run:

- the WS-Security header and every ``ds:Signature`` (values, digests, certificates, key ids,
  references) become empty elements: whether an answer is signed is compared, not the signature;
- the ``wsu:Id`` attributes (the Body's, referenced only from the signature);
- ``messageId``, ``correlationId``, ``sessionId`` and ``notificationId`` values, and any UUID in
  any text or attribute, become ``{id-1}``, ``{id-2}`` … in order of first appearance, so which
  ids of an answer are equal is still compared;
- any date and time (``2026-03-02T10:00:00.000+05:00``) becomes ``{timestamp}``; plain dates
  (a ``birthDate``) are data and stay;
- whitespace between elements; comments.

What is left is compared as exclusive C14N; a difference comes with a unified diff of the
normalised answers, indented.

The journal never keeps a sender's password (``requestInfo/sender/password`` is ``***``), and
the transport signature covers the Body that holds it. A request is therefore replayed as it
was recorded only when it holds no masked password, or when the gateway refused its sender
(SCE003: the masked password is refused the same way). Otherwise ``replay`` needs the sender's
``SenderCredentials``: the password is put back and, when the request was signed, the signature
is made again with the sender's key, which must be the key of the certificate that signed the
recorded request. A request whose recorded signature was refused (SCE006) cannot be re-signed
faithfully and is skipped. The gateway checks no message date or timestamp for freshness, so an
old request is not refused for its age; a certificate that expired or was revoked since the
recording is (SCE005), and that is a difference worth seeing.

SyncChannel ``SendMessage`` has no replay protection: a replay is a new call, forwarded to the
provider again. On the AsyncChannel, a ``sendMessage`` with a ``messageId`` that this gateway
already holds from the sender (a replay against the recording gateway) is acknowledged again and
not delivered again; the acknowledgement compares the same. One without a ``messageId`` is a new
message, delivered again. An answer (RESPONSE, UPDATE, NOTIFICATION) names its request by
``correlationId`` and is refused (SCE001) by a gateway that never saw that request.
``getMessageStatus`` answers the message's state now (one that moved on differs).
``getMessages`` takes messages off a pull queue and ``sendDeliveryNotification`` changes a
message's state, so both are skipped unless asked for (``queue_operations``). When the replay
client can read the journal (admin token), each result names the journal entry of the replayed
call and its detail (for a resend: "acknowledged again, not delivered again").

The journal keeps no HTTP headers: a call that forced a fault with ``X-Egovsim-Fault``
(:mod:`egovsim.call_faults`) is replayed without it, and differs.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egovsim import xmldsig
from egovsim.errors import EgovsimError
from gateway import soap
from gateway.journal import CUT_MARK
from gateway.service import ASYNC_PATH, SYNC_PATH

FORMAT_VERSION: Final = 1
CHANNEL_PATHS = {"sync": SYNC_PATH, "async": ASYNC_PATH}  # the journal's channels of incoming calls
REQUEST_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
MASKED_PASSWORD = "***"  # what the journal keeps of a password (gateway/journal.py)
QUEUE_OPERATIONS = frozenset({"getMessages", "sendDeliveryNotification"})
ID_ELEMENTS = frozenset({"messageId", "correlationId", "sessionId", "notificationId"})
JOURNAL_PAGE = 1000  # the journal API's largest page
COMMIT_MARGIN = timedelta(minutes=1)  # an entry is committed this long after it is timed, at most

_SOAP_HEADER = f"{{{soap.SOAP_ENV}}}Header"
_SOAP_BODY = f"{{{soap.SOAP_ENV}}}Body"
_SECURITY = f"{{{xmldsig.WSSE}}}Security"
_SIGNATURE = f"{{{xmldsig.DS}}}Signature"
_WSU_ID = f"{{{xmldsig.WSU}}}Id"
_CERTIFICATE_ELEMENTS = ("KeyIdentifier", "BinarySecurityToken", "X509Certificate")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"\{?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?")
_DECLARED_ENCODING = re.compile(r"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']""")


class CassetteError(EgovsimError):
    """A cassette cannot be recorded or read: the message says why."""


# -- the file ---------------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RecordedRequest(_Model):
    """What the integrator sent: replayed as it is (but for a masked password)."""

    method: Literal["POST"] = "POST"
    path: str
    headers: dict[str, str] = Field(default_factory=lambda: dict(REQUEST_HEADERS))
    body: str


class RecordedResponse(_Model):
    """What the gateway answered."""

    status: int
    fault_code: str | None = Field(None, alias="faultCode")
    body: str


class Interaction(_Model):
    """One integrator's call and the gateway's answer, from one journal entry."""

    journal_id: int = Field(alias="journalId")
    received: datetime
    channel: Literal["sync", "async"]
    operation: str
    sender_id: str | None = Field(None, alias="senderId")
    service_id: str | None = Field(None, alias="serviceId")
    message_id: str | None = Field(None, alias="messageId")
    request: RecordedRequest
    response: RecordedResponse


class Skipped(_Model):
    """A journal entry left out of the cassette, and why."""

    journal_id: int = Field(alias="journalId")
    operation: str
    reason: str


class Recording(_Model):
    """Where and when the journal was read, and which part of it."""

    source: str
    at: datetime
    filter: dict[str, str | int | None] = Field(default_factory=dict)


class Cassette(_Model):
    version: Literal[1] = FORMAT_VERSION
    recording: Recording
    interactions: list[Interaction] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)


class _Dumper(yaml.SafeDumper):
    """Multi-line text (an indented XML) as a YAML literal block; a line break YAML would
    normalise (``\\r``) keeps the quoted style."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text and "\r" not in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def write_cassette(cassette: Cassette, path: Path) -> None:
    """Write ``cassette`` as YAML (UTF-8, long lines kept whole)."""
    data = cassette.model_dump(mode="json", by_alias=True)
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=float("inf"))
    path.write_text(text, encoding="utf-8")


def read_cassette(path: Path) -> Cassette:
    """Read a cassette written by ``write_cassette`` (YAML or JSON)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Cassette.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CassetteError(f"cannot read {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CassetteError(f"{path} is not a cassette of version {FORMAT_VERSION}: {where}: {first['msg']}") from None


# -- recording --------------------------------------------------------------------------------------
async def _get_json(client: httpx.AsyncClient, path: str, params: Mapping[str, Any] | None = None) -> Any:
    response = await client.get(path, params={k: v for k, v in (params or {}).items() if v is not None})
    if response.status_code != 200:
        try:
            problem = response.json()
            why = f"{problem.get('code', response.status_code)}: {problem.get('message', response.text)}"
        except ValueError:
            why = f"HTTP {response.status_code}"
        raise CassetteError(f"the journal of {client.base_url} answered {path} with {why}")
    return response.json()


async def _newest_first(
    client: httpx.AsyncClient, last_id: int | None, sender: str | None, service: str | None
) -> AsyncIterator[dict[str, Any]]:
    """The journal's entries (without XML) up to ``last_id``, newest first, page by page."""
    before = None if last_id is None else last_id + 1
    while True:
        params = {"limit": JOURNAL_PAGE, "beforeId": before, "senderId": sender, "serviceId": service}
        page = (await _get_json(client, "/shep/api/journal", params))["entries"]
        for entry in page:
            yield entry
        if len(page) < JOURNAL_PAGE:
            return
        before = page[-1]["id"]


async def _journal_summaries(
    client: httpx.AsyncClient,
    since: datetime | None,
    until: datetime | None,
    first_id: int | None,
    last_id: int | None,
    sender: str | None,
    service: str | None,
) -> list[dict[str, Any]]:
    """The journal's entries (without XML) in the range, in the order they were received. The
    journal pages by id, the order of commits; an entry is committed just after ``received +
    durationMs``, so once one was committed well before ``since``, every older id was too."""
    found: list[tuple[datetime, dict[str, Any]]] = []
    async for entry in _newest_first(client, last_id, sender, service):
        received = datetime.fromisoformat(entry["received"])
        if first_id is not None and entry["id"] < first_id:
            break
        if since is not None and received + timedelta(milliseconds=entry["durationMs"]) + COMMIT_MARGIN < since:
            break
        if (since is None or received >= since) and (until is None or received <= until):
            found.append((received, entry))
    return [entry for _, entry in sorted(found, key=lambda pair: (pair[0], pair[1]["id"]))]


def _unreplayable(entry: Mapping[str, Any]) -> str | None:
    """Why a journal entry cannot be replayed, or None."""
    request, response = entry["requestXml"] or "", entry["responseXml"] or ""
    if not request:
        return "the request was larger than the gateway's size limit and never read: the journal has nothing of it"
    if request.endswith(CUT_MARK):
        return (
            f"the journal kept only the beginning of the {entry['requestBytes']}-byte request "
            "(journal_max_xml_bytes): a cut message cannot be replayed"
        )
    if response.endswith(CUT_MARK):
        return (
            f"the journal kept only the beginning of the {entry['responseBytes']}-byte answer "
            "(journal_max_xml_bytes): there is no whole answer to compare with"
        )
    declared = _DECLARED_ENCODING.match(request)
    if declared and declared.group(1).lower().replace("-", "") != "utf8":
        return f"the request was in {declared.group(1)}: the journal keeps a UTF-8 text of it, not its bytes"
    return None


def _interaction(entry: Mapping[str, Any]) -> Interaction:
    return Interaction(
        journal_id=entry["id"],
        received=datetime.fromisoformat(entry["received"]),
        channel=entry["channel"],
        operation=entry["operation"],
        sender_id=entry["senderId"],
        service_id=entry["serviceId"],
        message_id=entry["messageId"],
        request=RecordedRequest(path=CHANNEL_PATHS[entry["channel"]], body=entry["requestXml"]),
        response=RecordedResponse(
            # the channels answer 200, or 500 with a SOAP fault (SOAP 1.1 over HTTP)
            status=200 if entry["outcome"] == "ok" else 500,
            fault_code=fault_code(entry["responseXml"]),
            body=entry["responseXml"],
        ),
    )


async def record(
    client: httpx.AsyncClient,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    first_id: int | None = None,
    last_id: int | None = None,
    sender: str | None = None,
    service: str | None = None,
) -> Cassette:
    """A cassette of the integrators' calls in the gateway's journal: received within
    [``since``, ``until``] (wall clock), journal ids within [``first_id``, ``last_id``], of one
    sender or serviceId; every bound is optional. ``client`` reaches the gateway with the admin
    token (its ``base_url`` is recorded as the source)."""
    summaries = await _journal_summaries(client, since, until, first_id, last_id, sender, service)
    cassette = Cassette(
        recording=Recording(
            source=str(client.base_url).rstrip("/"),
            at=datetime.now(UTC),
            filter={
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "fromId": first_id,
                "toId": last_id,
                "senderId": sender,
                "serviceId": service,
            },
        )
    )
    for summary in summaries:
        if summary["channel"] not in CHANNEL_PATHS:
            continue  # push: the gateway delivering a message, not a call it received
        entry = await _get_json(client, f"/shep/api/journal/{summary['id']}")
        reason = _unreplayable(entry)
        if reason is None:
            cassette.interactions.append(_interaction(entry))
        else:
            cassette.skipped.append(Skipped(journal_id=entry["id"], operation=entry["operation"], reason=reason))
    return cassette


# -- normalising and comparing --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Normalised:
    """An answer without what changes between runs: ``canonical`` (exclusive C14N) to compare,
    ``text`` (indented) to show. An answer that is not XML is kept as it is in both."""

    canonical: bytes
    text: str


def _parse(text: str) -> etree._Element | None:
    try:
        return xmldsig.parse_xml(text.encode("utf-8"))
    except xmldsig.XmlSignatureError:
        return None


def _stub(element: etree._Element) -> None:
    """Replace a signature (or the WS-Security header) by an empty element of the same name."""
    prefix, namespace = element.prefix, etree.QName(element).namespace
    stub = etree.Element(element.tag, nsmap={prefix: namespace} if prefix and namespace else None)
    stub.tail = element.tail
    parent = element.getparent()
    if parent is not None:
        parent.replace(element, stub)


class _Placeholders:
    """Volatile values → placeholders; the same id always gets the same ``{id-n}``."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def id(self, value: str) -> str:
        return self.ids.setdefault(value, f"{{id-{len(self.ids) + 1}}}")

    def text(self, value: str) -> str:
        return _UUID.sub(lambda m: self.id(m.group(0)), _TIMESTAMP.sub("{timestamp}", value))


def normalised(xml: str) -> Normalised:
    """``xml`` without what legitimately changes between runs (module docstring)."""
    root = _parse(xml)
    if root is None:
        return Normalised(xml.encode("utf-8"), xml)
    for element in list(root.iter(_SECURITY, _SIGNATURE)):
        _stub(element)
    values = _Placeholders()
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            if name == _WSU_ID:
                del element.attrib[name]
            else:
                element.set(name, values.text(value))
        if element.text is not None:
            if len(element) and not element.text.strip():
                element.text = None
            elif etree.QName(element).localname in ID_ELEMENTS and element.text.strip():
                element.text = values.id(element.text.strip())
            else:
                element.text = values.text(element.text)
        if element.tail is not None:
            element.tail = values.text(element.tail) if element.tail.strip() else None
    canonical = etree.tostring(root, method="c14n", exclusive=True, with_comments=False)
    shown = etree.fromstring(canonical)
    etree.indent(shown, space="  ")
    return Normalised(canonical, etree.tostring(shown, encoding="unicode"))


def fault_code(xml: str) -> str | None:
    """The code of a SOAP fault answer (ШЭП's ErrorInfo ``errorCode``, else ``faultcode``), or None."""
    root = _parse(xml)
    if root is None or (fault := root.find(f"{_SOAP_BODY}/{{{soap.SOAP_ENV}}}Fault")) is None:
        return None
    try:
        error = soap.read_fault(root)
    except soap.SoapFormatError:
        return fault.findtext("faultcode")
    return error.code if error is not None else None


def compare(recorded: RecordedResponse, status: int, body: str) -> tuple[list[str], str]:
    """(what differs, a unified diff of the normalised answers) between a recorded answer and a
    new one: the same when the list is empty."""
    differences = []
    if recorded.status != status:
        differences.append(f"HTTP status {recorded.status} → {status}")
    code = fault_code(body)
    if recorded.fault_code != code:
        differences.append(f"fault code {recorded.fault_code or '(none)'} → {code or '(none)'}")
    before, after = normalised(recorded.body), normalised(body)
    if before.canonical == after.canonical:
        return differences, ""
    differences.append("the answer")
    diff = difflib.unified_diff(
        before.text.splitlines(), after.text.splitlines(), "recorded", "replayed", lineterm="", n=2
    )
    return differences, "\n".join(diff)


# -- replaying ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SenderCredentials:
    """What the journal does not keep of a sender: its password, and the key of its transport
    signature (with the certificate it signs under) to sign a request again."""

    password: str
    key: rsa.RSAPrivateKey | None = None
    certificate: x509.Certificate | None = None

    @classmethod
    def from_pkcs12(cls, password: str, key_file: bytes, key_file_password: str) -> SenderCredentials:
        """A sender's password and its system key file (PKCS#12, as the НУЦ issues it)."""
        try:
            key, certificate, _ = pkcs12.load_key_and_certificates(key_file, key_file_password.encode("utf-8"))
        except ValueError as exc:
            raise CassetteError(f"cannot open the key file: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey) or certificate is None:
            raise CassetteError("the key file holds no RSA key with its certificate")
        return cls(password, key, certificate)


class NotReplayable(CassetteError):
    """An interaction this replay cannot send faithfully; the message says what it needs."""


def _signer(security: etree._Element) -> x509.Certificate | None:
    """The certificate a WS-Security header carries (KeyIdentifier, token or X509Data)."""
    for element in security.iter(etree.Element):
        if etree.QName(element).localname in _CERTIFICATE_ELEMENTS and element.text:
            try:
                return x509.load_der_x509_certificate(base64.b64decode(element.text))
            except ValueError:
                return None
    return None


def request_body(interaction: Interaction, credentials: Mapping[str, SenderCredentials]) -> bytes:
    """The bytes to replay: the recorded request, with the masked password put back (and the
    request signed again) when it needs one (module docstring); ``NotReplayable`` otherwise."""
    recorded = interaction.request.body
    root = None if interaction.response.fault_code == "SCE003" else _parse(recorded)
    masked = [] if root is None else [
        p for p in root.iter(etree.Element) if etree.QName(p).localname == "password" and p.text == MASKED_PASSWORD
    ]  # fmt: skip
    if root is None or not masked:
        return recorded.encode("utf-8")  # as recorded: no password in it, unreadable, or refused (SCE003)
    signer: SenderCredentials | None = None
    for password in masked:
        holder = password.getparent()
        if holder is None or etree.QName(holder).localname != "sender":
            raise NotReplayable("the journal masked a password outside the sender's credentials: it cannot be put back")
        sender_id = holder.findtext("senderId")
        given = credentials.get(sender_id or "")
        if given is None:
            raise NotReplayable(f"the journal keeps no passwords: give sender {sender_id!r}'s password")
        password.text = given.password
        signer = signer or given
    assert signer is not None
    security = root.find(f"{_SOAP_HEADER}/{_SECURITY}")
    if security is None or security.find(f".//{_SIGNATURE}") is None:
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    if interaction.response.fault_code == "SCE006":
        raise NotReplayable("the recorded transport signature was refused (SCE006): a new one would not be")
    if signer.key is None or signer.certificate is None:
        raise NotReplayable(
            f"the transport signature covers the password: give sender {interaction.sender_id!r}'s key to sign again"
        )
    if _signer(security) != signer.certificate:
        raise NotReplayable(
            f"the request was signed with another certificate than the one given for {interaction.sender_id!r}"
        )
    security.getparent().remove(security)  # type: ignore[union-attr]
    return xmldsig.sign_wsse(root, signer.key, signer.certificate)


@dataclass(slots=True)
class ReplayResult:
    """One interaction replayed: ``same``, ``different`` (with what and a diff) or ``skipped``
    (with the reason); the journal entry of the replayed call when the journal could be read."""

    interaction: Interaction
    verdict: Literal["same", "different", "skipped"]
    differences: list[str] = field(default_factory=list)
    diff: str = ""
    reason: str | None = None
    journal_id: int | None = None
    journal_detail: str | None = None

    @property
    def title(self) -> str:
        i = self.interaction
        what = " ".join(x for x in (i.operation, i.service_id, i.message_id and f"messageId={i.message_id}") if x)
        return f"#{i.journal_id} {what}"


@dataclass(slots=True)
class ReplayReport:
    """A cassette replayed against a gateway."""

    source: str
    target: str
    results: list[ReplayResult]

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def passed(self) -> bool:
        """Green: nothing differs and at least one interaction was compared."""
        return self.count("different") == 0 and self.count("same") > 0

    def render(self) -> str:
        """The summary, a line per interaction, and the diffs."""
        lines = [
            f"replayed {len(self.results)} interaction(s) recorded at {self.source} against {self.target}: "
            f"{self.count('same')} same, {self.count('different')} different, {self.count('skipped')} skipped"
        ]
        for result in self.results:
            line = f"{result.verdict:<9} {result.title}"
            if result.reason:
                line += f": {result.reason}"
            elif result.differences:
                line += f": {'; '.join(result.differences)}"
            if result.journal_id is not None:
                detail = f": {result.journal_detail}" if result.journal_detail else ""
                line += f"  [replayed as journal #{result.journal_id}{detail}]"
            lines.append(line)
        for result in self.results:
            if result.diff:
                lines += ["", f"== {result.title}", result.diff]
        return "\n".join(lines)


class _JournalReader:
    """Finds the journal entry of a replayed call: the newest with its messageId written since
    the replay began. Without the admin token it finds nothing, and the report goes without."""

    def __init__(self, client: httpx.AsyncClient, newest_before: int | None) -> None:
        self.client = client
        self.newest_before = newest_before  # None: the journal cannot be read

    @classmethod
    async def open(cls, client: httpx.AsyncClient) -> _JournalReader:
        response = await client.get("/shep/api/journal", params={"limit": 1})
        if response.status_code != 200:
            return cls(client, None)
        entries = response.json()["entries"]
        return cls(client, entries[0]["id"] if entries else 0)

    async def entry_of(self, message_id: str | None) -> tuple[int | None, str | None]:
        """(id, detail) of the call's entry; a call the gateway gave a new messageId (an async
        sendMessage sent without one) is not found."""
        if self.newest_before is None or not message_id:
            return None, None
        response = await self.client.get("/shep/api/journal", params={"messageId": message_id, "limit": 1})
        entries = response.json()["entries"] if response.status_code == 200 else []
        if not entries or entries[0]["id"] <= self.newest_before:
            return None, None
        return entries[0]["id"], entries[0]["detail"]


async def _replay_one(
    client: httpx.AsyncClient,
    interaction: Interaction,
    credentials: Mapping[str, SenderCredentials],
    queue_operations: bool,
    journal: _JournalReader,
) -> ReplayResult:
    if interaction.operation in QUEUE_OPERATIONS and not queue_operations:
        reason = f"{interaction.operation} changes the gateway's message queue: replayed only when asked for"
        return ReplayResult(interaction, "skipped", reason=reason)
    try:
        body = request_body(interaction, credentials)
    except NotReplayable as exc:
        return ReplayResult(interaction, "skipped", reason=str(exc))
    request = interaction.request
    response = await client.post(request.path, content=body, headers=request.headers)
    differences, diff = compare(interaction.response, response.status_code, response.text)
    journal_id, detail = await journal.entry_of(interaction.message_id)
    return ReplayResult(
        interaction, "different" if differences else "same", differences, diff, None, journal_id, detail
    )


async def replay(
    client: httpx.AsyncClient,
    cassette: Cassette,
    *,
    credentials: Mapping[str, SenderCredentials] | None = None,
    queue_operations: bool = False,
) -> ReplayReport:
    """Replay ``cassette`` in order against the gateway ``client`` reaches, comparing each answer
    with the recorded one. ``credentials`` by senderId put back the passwords the journal masked;
    ``queue_operations`` replays ``getMessages`` and ``sendDeliveryNotification`` too."""
    journal = await _JournalReader.open(client)
    results = [
        await _replay_one(client, interaction, credentials or {}, queue_operations, journal)
        for interaction in cassette.interactions
    ]
    return ReplayReport(cassette.recording.source, str(client.base_url).rstrip("/"), results)
