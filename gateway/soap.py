"""ЭҮШ / ШЭП (электрондық үкімет шлюзі / шлюз «электронного правительства», the e-government
gateway): the SOAP codec of its v10 "BIP" interfaces, with no web framework in it.

* **SyncChannel** (``ISyncChannel``): one operation, ``SendMessage``: request in, answer out
  (egov-interfaces §3).
* **AsyncChannel** (``IAsyncChannel``): ``sendMessage``, ``sendDeliveryNotification``,
  ``getMessageStatus``, ``getMessages``; and ``IAsyncChannelClient``, the interface a participant
  implements so that SHEP can push to it: ``sendMessage`` and ``changeMassageStatusNotification``
  (sic, the real operation name) (egov-interfaces §4).

SOAP 1.1, document/literal. Only the operation wrapper element is namespace-qualified; its children
are unqualified, as the real schemas have no ``elementFormDefault`` (§2). The WSDL and XSD files are
in ``gateway/wsdl``; :func:`wsdl_document` / :func:`xsd_document` serve them with the endpoint's
address filled in, and :func:`validate` checks a message against them.

Readers take the Envelope element that :func:`egovsim.xmldsig.parse_xml` (hardened: no DTD, size
limit) returned, and raise :class:`SoapFormatError` (SCE001 upstream) naming what is wrong. They
check what the XSDs say (required elements, dates, enumerations, lengths, the ``{guid}`` pattern)
and are lenient only where real senders differ: element order and unknown elements are not checked
(as JAXB does not), an empty optional element (``<correlationId/>``, ``<sessionId/>``) reads as
absent, and SyncChannel ``data`` may be qualified with the Interfaces namespace (§7).

The business ``data`` element is kept as an lxml element, never re-serialised: it may carry an
enveloped signature whose canonical form must survive. Builders append a copy of it.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias, TypeVar, cast

from lxml import etree

from egovsim.calendar import ALMATY, to_almaty
from egovsim.errors import EgovsimError
from egovsim.xmldsig import SOAP11 as SOAP_ENV
from egovsim.xmldsig import WSU, parse_xml

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# -- namespaces (egov-interfaces §2) -------------------------------------------------------------

SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"  # only to name it when refusing it
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"

COMMON_TYPES = "http://bip.bee.kz/common/v10/types"
SYNC_INTERFACES = "http://bip.bee.kz/SyncChannel/v10/Interfaces"  # portType ISyncChannel
SYNC_ELEMENTS = "http://bip.bee.kz/SyncChannel/v10/Types"  # operation elements ("Types")
SYNC_TYPES = "http://bip.bee.kz/SyncChannel/v10/types"  # complex types ("types")
SYNC_REQUEST_TYPES = SYNC_TYPES + "/Request"
SYNC_RESPONSE_TYPES = SYNC_TYPES + "/Response"
ASYNC_INTERFACES = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"  # portType IAsyncChannel
ASYNC_CLIENT_INTERFACES = ASYNC_INTERFACES + "/Client"  # portType IAsyncChannelClient
ASYNC_ELEMENTS = "http://bip.bee.kz/AsyncChannel/v10/Types"  # operation elements ("Types")
# not in egov-interfaces §2: the namespace public JAXB bindings of IAsyncChannelClient use [I]; it keeps
# the pushed sendMessage apart from IAsyncChannel's sendMessage
ASYNC_CLIENT_ELEMENTS = ASYNC_ELEMENTS + "/Client"
ASYNC_TYPES = "http://bip.bee.kz/AsyncChannel/v10/types"  # complex types ("types")

__all__ = [
    "ASYNC_CLIENT_ELEMENTS",
    "ASYNC_CLIENT_INTERFACES",
    "ASYNC_ELEMENTS",
    "ASYNC_INTERFACES",
    "ASYNC_TYPES",
    "COMMON_TYPES",
    "LOCATION_PLACEHOLDER",
    "SESSION_ID",
    "SOAP12_ENV",
    "SOAP_ENV",
    "SYNC_ELEMENTS",
    "SYNC_INTERFACES",
    "SYNC_REQUEST_TYPES",
    "SYNC_RESPONSE_TYPES",
    "SYNC_TYPES",
    "WSDL_NAMES",
    "WSU",
    "XSD_NAMES",
    "XSI",
    "AsyncChangeStatusNotifyRequest",
    "AsyncChangeStatusNotifyResponse",
    "AsyncGetMessageStatusRequest",
    "AsyncGetMessageStatusResponse",
    "AsyncGetMessagesRequest",
    "AsyncGetMessagesResponse",
    "AsyncMessage",
    "AsyncMessageInfo",
    "AsyncSendDeliveryNotificationRequest",
    "AsyncSendDeliveryNotificationResponse",
    "AsyncSendMessageResponse",
    "ChangeStatusNotification",
    "Channel",
    "DeliveryNotification",
    "DeliveryStatusInfo",
    "Envelope",
    "ErrorInfo",
    "MessageState",
    "MessageStatusInfo",
    "MessageType",
    "Property",
    "ReceiveStatus",
    "ResendMessage",
    "Schemas",
    "Sender",
    "SoapFault",
    "SoapFormatError",
    "SyncRequest",
    "SyncResponse",
    "build_change_status_notification_request",
    "build_change_status_notification_response",
    "build_fault",
    "build_get_message_status_request",
    "build_get_message_status_response",
    "build_get_messages_request",
    "build_get_messages_response",
    "build_push_message_request",
    "build_push_message_response",
    "build_send_delivery_notification_request",
    "build_send_delivery_notification_response",
    "build_send_message_request",
    "build_send_message_response",
    "build_sync_request",
    "build_sync_response",
    "envelope_parts",
    "new_session_id",
    "read_change_status_notification_request",
    "read_change_status_notification_response",
    "read_fault",
    "read_get_message_status_request",
    "read_get_message_status_response",
    "read_get_messages_request",
    "read_get_messages_response",
    "read_operation",
    "read_push_message_request",
    "read_push_message_response",
    "read_send_delivery_notification_request",
    "read_send_delivery_notification_response",
    "read_send_message_request",
    "read_send_message_response",
    "read_sync_request",
    "read_sync_response",
    "to_bytes",
    "validate",
    "wsdl_document",
    "xsd_document",
]

Envelope: TypeAlias = etree._Element  # a SOAP 1.1 Envelope element
# the interface: "sync" is ISyncChannel, "async" IAsyncChannel, "async-client" IAsyncChannelClient
Channel: TypeAlias = Literal["sync", "async", "async-client"]

_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_HEADER = f"{{{SOAP_ENV}}}Header"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"
_WSU_ID = f"{{{WSU}}}Id"
_XSI_NIL = f"{{{XSI}}}nil"
_SOAP_PREFIX = "SOAP-ENV"  # as SmartBridge and NCANode write it (egov-interfaces §7)
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

# egov-interfaces §3: sessionId is a GUID with braces; SHEP fills it, senders leave it empty
SESSION_ID = re.compile(r"\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}")
# xsd:dateTime; the offset is optional in XSD, and fractional seconds may have any length
_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?")
# the fault detail element of every operation: <op>Fault1_<op>Fault
_FAULT_ENTRY = re.compile(r"(\w+)Fault1_\1Fault")

# egov-interfaces §2-3: the XSD length limits the readers check
_PROPERTY_KEY_MAX = 30
_PROPERTY_VALUE_MAX = 500
_STATUS_MESSAGE_MAX = 250


# -- errors ---------------------------------------------------------------------------------------


class SoapFormatError(EgovsimError):
    """The message is not in the ШЭП v10 format; upstream this is SCE001 «Сообщение не соответствует
    формату». ``str(error)`` says what is wrong and where (``SendMessage/request/requestInfo``)."""


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """ErrorInfo (egov-interfaces §5): the detail of every ШЭП fault, e.g. SCE004 «Сервис не существует»."""

    code: str  # errorCode, e.g. SCE006
    message: str  # errorMessage
    date: datetime  # errorDate
    data: str | None = None  # errorData
    sub_error: ErrorInfo | None = None  # subError: the cause, itself an ErrorInfo
    session_id: str | None = None  # sessionId, a {guid}


class SoapFault(EgovsimError):
    """A SOAP Fault came back instead of a response; ``error`` is its ErrorInfo detail."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


# -- values ---------------------------------------------------------------------------------------


class MessageType(StrEnum):
    """AsyncChannel ``messageType``: a REQUEST opens an exchange; the others answer one (correlationId)."""

    REQUEST = "REQUEST"
    NOTIFICATION = "NOTIFICATION"
    UPDATE = "UPDATE"
    RESPONSE = "RESPONSE"


class MessageState(StrEnum):
    """Where SHEP is with delivering an asynchronous message."""

    ON_DELIVERY = "ON_DELIVERY"
    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    DELIVERY_STOPPED = "DELIVERY_STOPPED"


class ReceiveStatus(StrEnum):
    """``DeliveryStatusInfo/receiveStatus``: did the recipient accept the message it was given."""

    MESSAGE_ACCEPTED = "MESSAGE_ACCEPTED"
    MESSAGE_NOT_ACCEPTED = "MESSAGE_NOT_ACCTEPTED"  # sic: the misspelling is the wire value


class ResendMessage(StrEnum):
    """``DeliveryStatusInfo/resendMessage``: whether SHEP should deliver the message again."""

    RESEND = "RESEND"
    NOT_RESEND = "NOT_RESEND"


@dataclass(frozen=True, slots=True)
class Sender:
    """SenderInfo: the sender's SHEP account (``senderId``, ``password``) from its SmartBridge passport."""

    sender_id: str
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Property:
    """A routing/processing property: ``key`` of at most 30 characters, ``value`` of at most 500."""

    key: str
    value: str


class _ComparesXml:
    """Equality for the messages that carry a business ``data`` element. lxml elements compare by
    identity, so an element compares here by its exclusive canonical form (with comments): the same
    content read back from the wire is equal, whatever namespaces its ancestors declared."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        me = cast("DataclassInstance", self)
        return all(_same(getattr(me, f.name), getattr(other, f.name)) for f in fields(me))


def _same(a: object, b: object) -> bool:
    if isinstance(a, etree._Element) and isinstance(b, etree._Element):
        return _canonical(a) == _canonical(b)
    return a == b


def _canonical(element: etree._Element) -> bytes:
    canonical: bytes = etree.tostring(element, method="c14n", exclusive=True, with_comments=True)
    return canonical


@dataclass(frozen=True, slots=True, eq=False)
class SyncRequest(_ComparesXml):
    """SyncChannel ``SendMessage/request``: ``requestInfo`` plus the business ``data`` element."""

    message_id: str  # the sender's own id for this message
    service_id: str  # the SHEP registry id of the service, e.g. GBDFL_UniversalServiceSync
    message_date: datetime
    sender: Sender
    data: etree._Element  # requestData/data, kept as an element (it may be signed)
    correlation_id: str | None = None
    route_id: str | None = None
    properties: list[Property] = field(default_factory=list)
    session_id: str | None = None  # {guid}; SHEP fills it


@dataclass(frozen=True, slots=True, eq=False)
class SyncResponse(_ComparesXml):
    """SyncChannel ``SendMessageResponse/response``: a provider answers with a new ``message_id``,
    ``correlation_id`` = the request's messageId, and echoes ``session_id`` (egov-interfaces §3)."""

    message_id: str
    correlation_id: str | None
    response_date: datetime
    status_code: str  # SCSS001 on success (egov-interfaces §5)
    status_message: str  # at most 250 characters
    data: etree._Element  # responseData/data
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class AsyncMessageInfo:
    """AsyncChannel ``messageInfo``. ``message_id`` is set by SHEP (empty when sending);
    ``correlation_id`` is empty for a REQUEST and required for every other message type."""

    service_id: str
    message_type: MessageType
    message_date: datetime
    sender: Sender
    message_id: str | None = None
    correlation_id: str | None = None
    route_id: str | None = None
    properties: list[Property] = field(default_factory=list)
    session_id: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AsyncMessage(_ComparesXml):
    """An asynchronous message: ``messageInfo`` plus ``messageData/data`` (AsyncSendMessageRequest)."""

    info: AsyncMessageInfo
    data: etree._Element


@dataclass(frozen=True, slots=True)
class AsyncSendMessageResponse:
    """SHEP's receipt for an accepted asynchronous message (and a participant's, for a push)."""

    message_id: str
    correlation_id: str
    response_date: datetime
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryStatusInfo:
    receive_status: ReceiveStatus
    status_date: datetime
    resend_message: ResendMessage
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class DeliveryNotification:
    """A recipient's report that it received (or refused) the message ``message_id``."""

    message_id: str
    service_id: str
    notification_date: datetime
    delivery_status: DeliveryStatusInfo


@dataclass(frozen=True, slots=True)
class AsyncSendDeliveryNotificationRequest:
    notification: DeliveryNotification
    request_date: datetime
    sender: Sender | None = None


@dataclass(frozen=True, slots=True)
class AsyncSendDeliveryNotificationResponse:
    notification_id: str
    response_date: datetime
    session_id: str  # {guid}


@dataclass(frozen=True, slots=True)
class MessageStatusInfo:
    code: str  # statusCode
    message: str  # statusMessage
    date: datetime  # statusDate


@dataclass(frozen=True, slots=True)
class AsyncGetMessageStatusRequest:
    message_id: str
    request_date: datetime
    sender: Sender
    properties: list[Property] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AsyncGetMessageStatusResponse:
    message_state: MessageState
    status: MessageStatusInfo
    response_date: datetime
    session_id: str | None = None  # a plain string in this one type, not a {guid}


@dataclass(frozen=True, slots=True)
class AsyncGetMessagesRequest:
    """Polling for messages addressed to the sender; ``amount`` 0 or absent means SHEP's default."""

    service_id: str
    message_id: str | None = None
    correlation_id: str | None = None
    request_date: datetime | None = None
    sender: Sender | None = None
    amount: int | None = None
    properties: list[Property] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AsyncGetMessagesResponse:
    response_date: datetime
    session_id: str  # {guid}
    messages: list[AsyncMessage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChangeStatusNotification:
    """SHEP telling a sender that its message ``message_id`` changed state."""

    notification_id: str
    message_id: str
    notification_date: datetime
    message_state: MessageState
    status: MessageStatusInfo
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class AsyncChangeStatusNotifyRequest:
    notification: ChangeStatusNotification
    request_date: datetime
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class AsyncChangeStatusNotifyResponse:
    response_date: datetime
    session_id: str | None = None


def new_session_id() -> str:
    """A new ``sessionId`` as SHEP writes it: ``{uuid4}``, with the braces."""
    return f"{{{uuid.uuid4()}}}"


# -- dates ----------------------------------------------------------------------------------------


def _parse_datetime(text: str, where: str) -> datetime:
    """xsd:dateTime with ``Z``, an offset or none. Without an offset the time is Kazakhstan's own
    (Asia/Almaty), where every party of this chain runs [I]."""
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise SoapFormatError(f"{where} is {text!r}, not an xsd:dateTime such as 2026-03-02T10:00:00.000+05:00")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
        if offset is None:
            return moment.replace(tzinfo=ALMATY)
        if offset == "Z":
            return moment.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        return moment.replace(tzinfo=timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))))
    except ValueError as exc:
        raise SoapFormatError(f"{where} is {text!r}, not a valid date and time: {exc}") from None


def _format_datetime(moment: datetime) -> str:
    """Almaty time with milliseconds, as SHEP writes it: 2026-03-02T10:00:00.000+05:00."""
    return to_almaty(moment).isoformat(timespec="milliseconds")


# -- the envelope ---------------------------------------------------------------------------------


def envelope_parts(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """(Header or None, Body) of a SOAP 1.1 Envelope; anything else is a :class:`SoapFormatError`."""
    if root.tag != _ENVELOPE:
        if root.tag == f"{{{SOAP12_ENV}}}Envelope":
            raise SoapFormatError(
                f"this is a SOAP 1.2 envelope ({SOAP12_ENV}); ШЭП v10 speaks SOAP 1.1 ({SOAP_ENV}) only"
            )
        raise SoapFormatError(f"the document element is {root.tag}, not a SOAP 1.1 Envelope ({{{SOAP_ENV}}}Envelope)")
    children = _elements(root)
    headers = [c for c in children if c.tag == _HEADER]
    bodies = [c for c in children if c.tag == _BODY]
    if len(headers) > 1 or (headers and children[0] is not headers[0]):
        raise SoapFormatError("the Envelope must have at most one Header, and as its first child")
    if len(bodies) != 1:
        raise SoapFormatError(f"the Envelope must have exactly one Body, not {len(bodies)}")
    return (headers[0] if headers else None), bodies[0]


def to_bytes(envelope: Envelope) -> bytes:
    """The message as it goes on the wire: UTF-8 with an XML declaration."""
    body: bytes = etree.tostring(envelope, encoding="UTF-8", xml_declaration=False)
    return _XML_DECLARATION + body


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Element children only: comments and processing instructions are no part of a message."""
    return [c for c in parent if isinstance(c.tag, str)]


def _payload(root: etree._Element) -> etree._Element:
    """The one element in the Body (document/literal: the operation element, or a Fault)."""
    _header, body = envelope_parts(root)
    children = _elements(body)
    if len(children) != 1:
        raise SoapFormatError(f"the Body must carry exactly one element, not {len(children)}")
    return children[0]


def _new_envelope() -> tuple[Envelope, etree._Element]:
    """A new Envelope with an empty Header and a Body carrying ``wsu:Id`` for the WS-Security
    transport signature (egov-interfaces §6), as SmartBridge writes it; returns (Envelope, Body)."""
    envelope = etree.Element(_ENVELOPE, nsmap={_SOAP_PREFIX: SOAP_ENV})
    etree.SubElement(envelope, _HEADER)
    body = etree.SubElement(envelope, _BODY, nsmap={"wsu": WSU})
    body.set(_WSU_ID, f"id-{uuid.uuid4()}")
    return envelope, body


# -- the operations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Operation:
    """One WSDL operation: its element names follow the same pattern in all three port types."""

    channel: Channel
    port_type: str
    name: str
    namespace: str  # of its wrapper elements

    @property
    def request(self) -> str:
        return f"{{{self.namespace}}}{self.name}"

    @property
    def response(self) -> str:
        return f"{{{self.namespace}}}{self.name}Response"

    @property
    def fault(self) -> str:
        return f"{{{self.namespace}}}{self.name}Fault1_{self.name}Fault"


_SYNC_SEND = _Operation("sync", "ISyncChannel", "SendMessage", SYNC_ELEMENTS)
_ASYNC_SEND = _Operation("async", "IAsyncChannel", "sendMessage", ASYNC_ELEMENTS)
_ASYNC_DELIVERY = _Operation("async", "IAsyncChannel", "sendDeliveryNotification", ASYNC_ELEMENTS)
_ASYNC_STATUS = _Operation("async", "IAsyncChannel", "getMessageStatus", ASYNC_ELEMENTS)
_ASYNC_GET = _Operation("async", "IAsyncChannel", "getMessages", ASYNC_ELEMENTS)
_CLIENT_SEND = _Operation("async-client", "IAsyncChannelClient", "sendMessage", ASYNC_CLIENT_ELEMENTS)
_CLIENT_STATUS = _Operation(
    "async-client", "IAsyncChannelClient", "changeMassageStatusNotification", ASYNC_CLIENT_ELEMENTS
)
_OPERATIONS = {
    (op.channel, op.name): op
    for op in (_SYNC_SEND, _ASYNC_SEND, _ASYNC_DELIVERY, _ASYNC_STATUS, _ASYNC_GET, _CLIENT_SEND, _CLIENT_STATUS)
}


# -- reading --------------------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)


class _Node:
    """An element being read, with its path for the error messages (``SendMessage/request/...``)."""

    __slots__ = ("element", "path")

    def __init__(self, element: etree._Element, path: str) -> None:
        self.element = element
        self.path = path

    def repeated(self, name: str) -> list[_Node]:
        return [_Node(c, f"{self.path}/{name}") for c in self.element if c.tag == name]

    def optional(self, name: str) -> _Node | None:
        found = self.repeated(name)
        if len(found) > 1:
            raise SoapFormatError(f"{self.path} has {len(found)} <{name}> elements; at most one is allowed")
        return found[0] if found else None

    def required(self, name: str) -> _Node:
        node = self.optional(name)
        if node is None:
            qualified = [c.tag for c in _elements(self.element) if etree.QName(c).localname == name]
            hint = (
                f" (found {qualified[0]}: the children of ШЭП operation elements are unqualified)" if qualified else ""
            )
            raise SoapFormatError(f"{self.path} has no <{name}> element, which is required{hint}")
        return node

    def value(self) -> str:
        if _elements(self.element):
            raise SoapFormatError(f"{self.path} must hold text, not elements")
        return self.element.text or ""

    def text(self, name: str, *, empty_ok: bool = False) -> str:
        node = self.required(name)
        value = node.value()
        if not empty_ok and not value.strip():
            raise SoapFormatError(f"{node.path} is empty")
        return value

    def optional_text(self, name: str) -> str | None:
        node = self.optional(name)
        value = node.value() if node is not None else ""
        return value if value.strip() else None  # senders write <correlationId/> for "none"

    def limited(self, name: str, limit: int, *, empty_ok: bool = False) -> str:
        value = self.text(name, empty_ok=empty_ok)
        if len(value) > limit:
            raise SoapFormatError(f"{self.path}/{name} has {len(value)} characters; at most {limit} are allowed")
        return value

    def date(self, name: str) -> datetime:
        return _parse_datetime(self.text(name), f"{self.path}/{name}")

    def optional_date(self, name: str) -> datetime | None:
        text = self.optional_text(name)
        return None if text is None else _parse_datetime(text, f"{self.path}/{name}")

    def optional_guid(self, name: str) -> str | None:
        text = self.optional_text(name)
        return None if text is None else _guid(text, f"{self.path}/{name}")

    def guid(self, name: str) -> str:
        return _guid(self.text(name), f"{self.path}/{name}")

    def enum(self, name: str, kind: type[_E]) -> _E:
        text = self.text(name).strip()
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise SoapFormatError(f"{self.path}/{name} is {text!r}, not one of {allowed}") from None

    def optional_int(self, name: str) -> int | None:
        text = self.optional_text(name)
        if text is None:
            return None
        try:
            number = int(text.strip())
        except ValueError:
            raise SoapFormatError(f"{self.path}/{name} is {text!r}, not an xsd:int") from None
        if not -(2**31) <= number < 2**31:
            raise SoapFormatError(f"{self.path}/{name} is {number}, outside the xsd:int range")
        return number


def _guid(text: str, where: str) -> str:
    if not SESSION_ID.fullmatch(text):
        raise SoapFormatError(
            f"{where} is {text!r}, not a guid in braces such as {{f0774397-4fcd-484a-9434-f71535ee4326}}"
        )
    return text


def _open(root: etree._Element, op: _Operation, part: Literal["request", "response"]) -> _Node:
    """The ``request``/``response`` child of ``op``'s element in the Body. A Fault where a response
    was expected is raised as :class:`SoapFault`."""
    payload = _payload(root)
    expected = op.request if part == "request" else op.response
    if payload.tag == _FAULT and part == "response":
        raise SoapFault(_read_fault(payload))
    if payload.tag != expected:
        raise SoapFormatError(f"the Body carries {payload.tag}, not {expected} ({op.port_type}.{op.name})")
    return _part(payload, part)


def _part(payload: etree._Element, part: str) -> _Node:
    node = _Node(payload, etree.QName(payload).localname).required(part)
    if node.element.get(_XSI_NIL) in ("true", "1"):
        raise SoapFormatError(f"{node.path} is nil")
    return node


def _read_sender(node: _Node) -> Sender:
    return Sender(node.text("senderId"), node.optional_text("password"))


def _read_properties(node: _Node) -> list[Property]:
    return [
        Property(p.limited("key", _PROPERTY_KEY_MAX), p.limited("value", _PROPERTY_VALUE_MAX, empty_ok=True))
        for p in node.repeated("properties")
    ]


def _read_data(node: _Node, holder: str, namespaces: tuple[str, ...] = ()) -> etree._Element:
    """``<holder>/data`` (xsd:anyType), unqualified or in one of ``namespaces``; the element itself."""
    data_node = node.required(holder)
    names = ("data", *(f"{{{ns}}}data" for ns in namespaces))
    found = [c for c in data_node.element if c.tag in names]
    if len(found) != 1:
        raise SoapFormatError(f"{data_node.path} must hold exactly one <data> element, not {len(found)}")
    return found[0]


def _read_error(node: _Node) -> ErrorInfo:
    sub = node.optional("subError")
    return ErrorInfo(
        code=node.text("errorCode"),
        message=node.text("errorMessage", empty_ok=True),
        date=node.date("errorDate"),
        data=node.optional_text("errorData"),
        sub_error=_read_error(sub) if sub is not None else None,
        session_id=node.optional_guid("sessionId"),
    )


def _read_optional_error(node: _Node, name: str) -> ErrorInfo | None:
    error = node.optional(name)
    return _read_error(error) if error is not None else None


def _read_sync_request(node: _Node) -> SyncRequest:
    info = node.required("requestInfo")
    return SyncRequest(
        message_id=info.text("messageId"),
        service_id=info.text("serviceId"),
        message_date=info.date("messageDate"),
        sender=_read_sender(info.required("sender")),
        # egov-interfaces §7: the SmartBridge sample qualifies data with the Interfaces namespace
        data=_read_data(node, "requestData", (SYNC_INTERFACES,)),
        correlation_id=info.optional_text("correlationId"),
        route_id=info.optional_text("routeId"),
        properties=_read_properties(info),
        session_id=info.optional_guid("sessionId"),
    )


def _read_sync_response(node: _Node) -> SyncResponse:
    info = node.required("responseInfo")
    status = info.required("status")
    return SyncResponse(
        message_id=info.text("messageId"),
        correlation_id=info.optional_text("correlationId"),
        response_date=info.date("responseDate"),
        status_code=status.text("code"),
        status_message=status.limited("message", _STATUS_MESSAGE_MAX, empty_ok=True),
        data=_read_data(node, "responseData", (SYNC_INTERFACES,)),
        session_id=info.optional_guid("sessionId"),
    )


def _read_message_info(node: _Node) -> AsyncMessageInfo:
    message_type = node.enum("messageType", MessageType)
    correlation_id = node.optional_text("correlationId")
    if correlation_id is None and message_type is not MessageType.REQUEST:
        # egov-interfaces §4: only a REQUEST opens an exchange; the others must say what they answer
        raise SoapFormatError(f"{node.path}/correlationId is required for a {message_type} message")
    return AsyncMessageInfo(
        service_id=node.text("serviceId"),
        message_type=message_type,
        message_date=node.date("messageDate"),
        sender=_read_sender(node.required("sender")),
        message_id=node.optional_text("messageId"),
        correlation_id=correlation_id,
        route_id=node.optional_text("routeId"),
        properties=_read_properties(node),
        session_id=node.optional_guid("sessionId"),
    )


def _read_async_message(node: _Node) -> AsyncMessage:
    return AsyncMessage(_read_message_info(node.required("messageInfo")), _read_data(node, "messageData"))


def _read_send_message_response(node: _Node) -> AsyncSendMessageResponse:
    return AsyncSendMessageResponse(
        message_id=node.text("messageId"),
        correlation_id=node.text("correlationId"),
        response_date=node.date("responseDate"),
        session_id=node.optional_guid("sessionId"),
    )


def _read_delivery_request(node: _Node) -> AsyncSendDeliveryNotificationRequest:
    notification = node.required("notification")
    status = notification.required("deliveryStatus")
    sender = node.optional("sender")
    return AsyncSendDeliveryNotificationRequest(
        notification=DeliveryNotification(
            message_id=notification.text("messageId"),
            service_id=notification.text("serviceId"),
            notification_date=notification.date("notificationDate"),
            delivery_status=DeliveryStatusInfo(
                receive_status=status.enum("receiveStatus", ReceiveStatus),
                status_date=status.date("statusDate"),
                resend_message=status.enum("resendMessage", ResendMessage),
                error=_read_optional_error(status, "error"),
            ),
        ),
        request_date=node.date("requestDate"),
        sender=_read_sender(sender) if sender is not None else None,
    )


def _read_delivery_response(node: _Node) -> AsyncSendDeliveryNotificationResponse:
    return AsyncSendDeliveryNotificationResponse(
        notification_id=node.text("notificationId"),
        response_date=node.date("responseDate"),
        session_id=node.guid("sessionId"),
    )


def _read_status_info(node: _Node) -> MessageStatusInfo:
    return MessageStatusInfo(
        code=node.text("statusCode"),
        message=node.text("statusMessage", empty_ok=True),
        date=node.date("statusDate"),
    )


def _read_status_request(node: _Node) -> AsyncGetMessageStatusRequest:
    return AsyncGetMessageStatusRequest(
        message_id=node.text("messageId"),
        request_date=node.date("requestDate"),
        sender=_read_sender(node.required("sender")),
        properties=_read_properties(node),
    )


def _read_status_response(node: _Node) -> AsyncGetMessageStatusResponse:
    return AsyncGetMessageStatusResponse(
        message_state=node.enum("messageState", MessageState),
        status=_read_status_info(node.required("status")),
        response_date=node.date("responseDate"),
        session_id=node.optional_text("sessionId"),
    )


def _read_get_request(node: _Node) -> AsyncGetMessagesRequest:
    sender = node.optional("sender")
    return AsyncGetMessagesRequest(
        service_id=node.text("serviceId"),
        message_id=node.optional_text("messageId"),
        correlation_id=node.optional_text("correlationId"),
        request_date=node.optional_date("requestDate"),
        sender=_read_sender(sender) if sender is not None else None,
        amount=node.optional_int("amount"),
        properties=_read_properties(node),
    )


def _read_get_response(node: _Node) -> AsyncGetMessagesResponse:
    return AsyncGetMessagesResponse(
        response_date=node.date("responseDate"),
        session_id=node.guid("sessionId"),
        messages=[_read_async_message(m) for m in node.repeated("messages")],
    )


def _read_change_request(node: _Node) -> AsyncChangeStatusNotifyRequest:
    notification = node.required("notification")
    return AsyncChangeStatusNotifyRequest(
        notification=ChangeStatusNotification(
            notification_id=notification.text("notificationId"),
            message_id=notification.text("messageId"),
            notification_date=notification.date("notificationDate"),
            message_state=notification.enum("messageState", MessageState),
            status=_read_status_info(notification.required("status")),
            error=_read_optional_error(notification, "error"),
        ),
        request_date=node.date("requestDate"),
        session_id=node.optional_guid("sessionId"),
    )


def _read_change_response(node: _Node) -> AsyncChangeStatusNotifyResponse:
    return AsyncChangeStatusNotifyResponse(
        response_date=node.date("responseDate"),
        session_id=node.optional_guid("sessionId"),
    )


# -- writing --------------------------------------------------------------------------------------


def _open_new(op: _Operation, part: Literal["request", "response"]) -> tuple[Envelope, etree._Element]:
    """A new Envelope carrying ``op``'s request or response element; returns (Envelope, its
    unqualified ``request``/``response`` child) for the caller to fill."""
    envelope, body = _new_envelope()
    tag = op.request if part == "request" else op.response
    wrapper = etree.SubElement(body, tag, nsmap={"ns2": op.namespace})
    return envelope, etree.SubElement(wrapper, part)


def _leaf(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, name).text = text


def _optional_leaf(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _leaf(parent, name, text)


def _write_sender(parent: etree._Element, sender: Sender) -> None:
    element = etree.SubElement(parent, "sender")
    _leaf(element, "senderId", sender.sender_id)
    _optional_leaf(element, "password", sender.password)


def _write_properties(parent: etree._Element, properties: list[Property]) -> None:
    for prop in properties:
        element = etree.SubElement(parent, "properties")
        _leaf(element, "key", prop.key)
        _leaf(element, "value", prop.value)


def _write_data(parent: etree._Element, holder: str, data: etree._Element) -> None:
    """``<holder>`` with a copy of ``data``: a copy, so that the caller's tree is left as it was and a
    message can be built twice; copied as a node, never re-serialised, so its canonical form (and any
    signature over it) is unchanged."""
    if etree.QName(data).localname != "data":
        raise ValueError(f"the business payload must be a <data> element, not {data.tag}")
    copy = deepcopy(data)
    copy.tail = None
    etree.SubElement(parent, holder).append(copy)


def _write_error(element: etree._Element, error: ErrorInfo) -> None:
    """ErrorInfo's children, in the order of the schema, into ``element``."""
    _leaf(element, "errorCode", error.code)
    _leaf(element, "errorMessage", error.message)
    _optional_leaf(element, "errorData", error.data)
    _leaf(element, "errorDate", _format_datetime(error.date))
    if error.sub_error is not None:
        _write_error(etree.SubElement(element, "subError"), error.sub_error)
    _optional_leaf(element, "sessionId", error.session_id)


def _write_optional_error(parent: etree._Element, name: str, error: ErrorInfo | None) -> None:
    if error is not None:
        _write_error(etree.SubElement(parent, name), error)


def _write_sync_request(element: etree._Element, req: SyncRequest) -> None:
    info = etree.SubElement(element, "requestInfo")
    _leaf(info, "messageId", req.message_id)
    _optional_leaf(info, "correlationId", req.correlation_id)
    _leaf(info, "serviceId", req.service_id)
    _leaf(info, "messageDate", _format_datetime(req.message_date))
    _optional_leaf(info, "routeId", req.route_id)
    _write_sender(info, req.sender)
    _write_properties(info, req.properties)
    _optional_leaf(info, "sessionId", req.session_id)
    _write_data(element, "requestData", req.data)


def _write_sync_response(element: etree._Element, resp: SyncResponse) -> None:
    info = etree.SubElement(element, "responseInfo")
    _leaf(info, "messageId", resp.message_id)
    _optional_leaf(info, "correlationId", resp.correlation_id)
    _leaf(info, "responseDate", _format_datetime(resp.response_date))
    status = etree.SubElement(info, "status")
    _leaf(status, "code", resp.status_code)
    _leaf(status, "message", resp.status_message)
    _optional_leaf(info, "sessionId", resp.session_id)
    _write_data(element, "responseData", resp.data)


def _write_async_message(element: etree._Element, message: AsyncMessage) -> None:
    info, meta = etree.SubElement(element, "messageInfo"), message.info
    _optional_leaf(info, "messageId", meta.message_id)
    _optional_leaf(info, "correlationId", meta.correlation_id)
    _leaf(info, "serviceId", meta.service_id)
    _leaf(info, "messageType", meta.message_type.value)
    _optional_leaf(info, "routeId", meta.route_id)
    _leaf(info, "messageDate", _format_datetime(meta.message_date))
    _write_sender(info, meta.sender)
    _write_properties(info, meta.properties)
    _optional_leaf(info, "sessionId", meta.session_id)
    _write_data(element, "messageData", message.data)


def _write_send_message_response(element: etree._Element, resp: AsyncSendMessageResponse) -> None:
    _leaf(element, "messageId", resp.message_id)
    _leaf(element, "correlationId", resp.correlation_id)
    _leaf(element, "responseDate", _format_datetime(resp.response_date))
    _optional_leaf(element, "sessionId", resp.session_id)


def _write_delivery_request(element: etree._Element, req: AsyncSendDeliveryNotificationRequest) -> None:
    notification, note = etree.SubElement(element, "notification"), req.notification
    _leaf(notification, "messageId", note.message_id)
    _leaf(notification, "serviceId", note.service_id)
    _leaf(notification, "notificationDate", _format_datetime(note.notification_date))
    status, delivery = etree.SubElement(notification, "deliveryStatus"), note.delivery_status
    _leaf(status, "receiveStatus", delivery.receive_status.value)
    _leaf(status, "statusDate", _format_datetime(delivery.status_date))
    _leaf(status, "resendMessage", delivery.resend_message.value)
    _write_optional_error(status, "error", delivery.error)
    _leaf(element, "requestDate", _format_datetime(req.request_date))
    if req.sender is not None:
        _write_sender(element, req.sender)


def _write_delivery_response(element: etree._Element, resp: AsyncSendDeliveryNotificationResponse) -> None:
    _leaf(element, "notificationId", resp.notification_id)
    _leaf(element, "responseDate", _format_datetime(resp.response_date))
    _leaf(element, "sessionId", resp.session_id)


def _write_status_info(parent: etree._Element, status: MessageStatusInfo) -> None:
    element = etree.SubElement(parent, "status")
    _leaf(element, "statusCode", status.code)
    _leaf(element, "statusMessage", status.message)
    _leaf(element, "statusDate", _format_datetime(status.date))


def _write_status_request(element: etree._Element, req: AsyncGetMessageStatusRequest) -> None:
    _leaf(element, "messageId", req.message_id)
    _leaf(element, "requestDate", _format_datetime(req.request_date))
    _write_sender(element, req.sender)
    _write_properties(element, req.properties)


def _write_status_response(element: etree._Element, resp: AsyncGetMessageStatusResponse) -> None:
    _leaf(element, "messageState", resp.message_state.value)
    _write_status_info(element, resp.status)
    _leaf(element, "responseDate", _format_datetime(resp.response_date))
    _optional_leaf(element, "sessionId", resp.session_id)


def _write_get_request(element: etree._Element, req: AsyncGetMessagesRequest) -> None:
    _optional_leaf(element, "messageId", req.message_id)
    _optional_leaf(element, "correlationId", req.correlation_id)
    if req.request_date is not None:
        _leaf(element, "requestDate", _format_datetime(req.request_date))
    _leaf(element, "serviceId", req.service_id)
    if req.sender is not None:
        _write_sender(element, req.sender)
    if req.amount is not None:
        _leaf(element, "amount", str(req.amount))
    _write_properties(element, req.properties)


def _write_get_response(element: etree._Element, resp: AsyncGetMessagesResponse) -> None:
    _leaf(element, "responseDate", _format_datetime(resp.response_date))
    _leaf(element, "sessionId", resp.session_id)
    for message in resp.messages:
        _write_async_message(etree.SubElement(element, "messages"), message)


def _write_change_request(element: etree._Element, req: AsyncChangeStatusNotifyRequest) -> None:
    notification, note = etree.SubElement(element, "notification"), req.notification
    _leaf(notification, "notificationId", note.notification_id)
    _leaf(notification, "messageId", note.message_id)
    _leaf(notification, "notificationDate", _format_datetime(note.notification_date))
    _leaf(notification, "messageState", note.message_state.value)
    _write_status_info(notification, note.status)
    _write_optional_error(notification, "error", note.error)
    _leaf(element, "requestDate", _format_datetime(req.request_date))
    _optional_leaf(element, "sessionId", req.session_id)


def _write_change_response(element: etree._Element, resp: AsyncChangeStatusNotifyResponse) -> None:
    _leaf(element, "responseDate", _format_datetime(resp.response_date))
    _optional_leaf(element, "sessionId", resp.session_id)


# -- SyncChannel ----------------------------------------------------------------------------------


def read_sync_request(envelope_root: etree._Element) -> SyncRequest:
    """``ISyncChannel.SendMessage``'s request, as a provider (or SHEP) receives it."""
    return _read_sync_request(_open(envelope_root, _SYNC_SEND, "request"))


def build_sync_request(req: SyncRequest) -> Envelope:
    envelope, element = _open_new(_SYNC_SEND, "request")
    _write_sync_request(element, req)
    return envelope


def read_sync_response(envelope_root: etree._Element) -> SyncResponse:
    """The answer to ``SendMessage``; a Fault is raised as :class:`SoapFault`."""
    return _read_sync_response(_open(envelope_root, _SYNC_SEND, "response"))


def build_sync_response(resp: SyncResponse) -> Envelope:
    envelope, element = _open_new(_SYNC_SEND, "response")
    _write_sync_response(element, resp)
    return envelope


# -- AsyncChannel: IAsyncChannel, called by participants on SHEP ----------------------------------


def read_send_message_request(envelope_root: etree._Element) -> AsyncMessage:
    return _read_async_message(_open(envelope_root, _ASYNC_SEND, "request"))


def build_send_message_request(message: AsyncMessage) -> Envelope:
    envelope, element = _open_new(_ASYNC_SEND, "request")
    _write_async_message(element, message)
    return envelope


def read_send_message_response(envelope_root: etree._Element) -> AsyncSendMessageResponse:
    return _read_send_message_response(_open(envelope_root, _ASYNC_SEND, "response"))


def build_send_message_response(resp: AsyncSendMessageResponse) -> Envelope:
    envelope, element = _open_new(_ASYNC_SEND, "response")
    _write_send_message_response(element, resp)
    return envelope


def read_send_delivery_notification_request(envelope_root: etree._Element) -> AsyncSendDeliveryNotificationRequest:
    return _read_delivery_request(_open(envelope_root, _ASYNC_DELIVERY, "request"))


def build_send_delivery_notification_request(req: AsyncSendDeliveryNotificationRequest) -> Envelope:
    envelope, element = _open_new(_ASYNC_DELIVERY, "request")
    _write_delivery_request(element, req)
    return envelope


def read_send_delivery_notification_response(envelope_root: etree._Element) -> AsyncSendDeliveryNotificationResponse:
    return _read_delivery_response(_open(envelope_root, _ASYNC_DELIVERY, "response"))


def build_send_delivery_notification_response(resp: AsyncSendDeliveryNotificationResponse) -> Envelope:
    envelope, element = _open_new(_ASYNC_DELIVERY, "response")
    _write_delivery_response(element, resp)
    return envelope


def read_get_message_status_request(envelope_root: etree._Element) -> AsyncGetMessageStatusRequest:
    return _read_status_request(_open(envelope_root, _ASYNC_STATUS, "request"))


def build_get_message_status_request(req: AsyncGetMessageStatusRequest) -> Envelope:
    envelope, element = _open_new(_ASYNC_STATUS, "request")
    _write_status_request(element, req)
    return envelope


def read_get_message_status_response(envelope_root: etree._Element) -> AsyncGetMessageStatusResponse:
    return _read_status_response(_open(envelope_root, _ASYNC_STATUS, "response"))


def build_get_message_status_response(resp: AsyncGetMessageStatusResponse) -> Envelope:
    envelope, element = _open_new(_ASYNC_STATUS, "response")
    _write_status_response(element, resp)
    return envelope


def read_get_messages_request(envelope_root: etree._Element) -> AsyncGetMessagesRequest:
    return _read_get_request(_open(envelope_root, _ASYNC_GET, "request"))


def build_get_messages_request(req: AsyncGetMessagesRequest) -> Envelope:
    envelope, element = _open_new(_ASYNC_GET, "request")
    _write_get_request(element, req)
    return envelope


def read_get_messages_response(envelope_root: etree._Element) -> AsyncGetMessagesResponse:
    return _read_get_response(_open(envelope_root, _ASYNC_GET, "response"))


def build_get_messages_response(resp: AsyncGetMessagesResponse) -> Envelope:
    envelope, element = _open_new(_ASYNC_GET, "response")
    _write_get_response(element, resp)
    return envelope


# -- AsyncChannel: IAsyncChannelClient, called by SHEP on a participant ---------------------------


def read_push_message_request(envelope_root: etree._Element) -> AsyncMessage:
    """``IAsyncChannelClient.sendMessage``: a message SHEP delivers to its recipient."""
    return _read_async_message(_open(envelope_root, _CLIENT_SEND, "request"))


def build_push_message_request(message: AsyncMessage) -> Envelope:
    envelope, element = _open_new(_CLIENT_SEND, "request")
    _write_async_message(element, message)
    return envelope


def read_push_message_response(envelope_root: etree._Element) -> AsyncSendMessageResponse:
    return _read_send_message_response(_open(envelope_root, _CLIENT_SEND, "response"))


def build_push_message_response(resp: AsyncSendMessageResponse) -> Envelope:
    envelope, element = _open_new(_CLIENT_SEND, "response")
    _write_send_message_response(element, resp)
    return envelope


def read_change_status_notification_request(envelope_root: etree._Element) -> AsyncChangeStatusNotifyRequest:
    """``IAsyncChannelClient.changeMassageStatusNotification`` (sic): a state change SHEP reports."""
    return _read_change_request(_open(envelope_root, _CLIENT_STATUS, "request"))


def build_change_status_notification_request(req: AsyncChangeStatusNotifyRequest) -> Envelope:
    envelope, element = _open_new(_CLIENT_STATUS, "request")
    _write_change_request(element, req)
    return envelope


def read_change_status_notification_response(envelope_root: etree._Element) -> AsyncChangeStatusNotifyResponse:
    return _read_change_response(_open(envelope_root, _CLIENT_STATUS, "response"))


def build_change_status_notification_response(resp: AsyncChangeStatusNotifyResponse) -> Envelope:
    envelope, element = _open_new(_CLIENT_STATUS, "response")
    _write_change_response(element, resp)
    return envelope


# which request a Body carries: its element's QName -> (portType.operation, reader)
_REQUEST_READERS: dict[str, tuple[_Operation, Callable[[_Node], object]]] = {
    _SYNC_SEND.request: (_SYNC_SEND, _read_sync_request),
    _ASYNC_SEND.request: (_ASYNC_SEND, _read_async_message),
    _ASYNC_DELIVERY.request: (_ASYNC_DELIVERY, _read_delivery_request),
    _ASYNC_STATUS.request: (_ASYNC_STATUS, _read_status_request),
    _ASYNC_GET.request: (_ASYNC_GET, _read_get_request),
    _CLIENT_SEND.request: (_CLIENT_SEND, _read_async_message),
    _CLIENT_STATUS.request: (_CLIENT_STATUS, _read_change_request),
}


def read_operation(envelope_root: etree._Element) -> tuple[str, object]:
    """Which operation a request envelope carries, by the QName of the Body's element, and its
    parsed request. The name is ``<portType>.<operation>``, since ``sendMessage`` exists on both
    sides of the asynchronous channel: ``ISyncChannel.SendMessage`` (:class:`SyncRequest`),
    ``IAsyncChannel.sendMessage`` (:class:`AsyncMessage`), ``IAsyncChannel.sendDeliveryNotification``,
    ``IAsyncChannel.getMessageStatus``, ``IAsyncChannel.getMessages``,
    ``IAsyncChannelClient.sendMessage`` (:class:`AsyncMessage`) and
    ``IAsyncChannelClient.changeMassageStatusNotification``."""
    payload = _payload(envelope_root)
    known = _REQUEST_READERS.get(payload.tag)
    if known is None:
        raise SoapFormatError(f"the Body carries {payload.tag}, which is not an operation of ШЭП v10")
    op, reader = known
    return f"{op.port_type}.{op.name}", reader(_part(payload, "request"))


# -- faults ---------------------------------------------------------------------------------------


def build_fault(
    operation: str,
    error: ErrorInfo,
    *,
    channel: Channel,
    fault_code: Literal["Server", "Client"] = "Server",
) -> Envelope:
    """A SOAP 1.1 Fault for ``operation`` of ``channel`` (``"sync"``: ISyncChannel, ``"async"``:
    IAsyncChannel, ``"async-client"``: IAsyncChannelClient): ``faultstring`` is the error message and
    ``detail`` holds ``<operation>Fault1_<operation>Fault`` with the ErrorInfo (egov-interfaces §5).

    ``fault_code`` defaults to ``Server`` because the JAX-WS stacks the gateway and the providers
    run on (CXF, Metro) report every service-specific fault, SCE001 included, as ``soap:Server`` [I].
    """
    op = _OPERATIONS.get((channel, operation))
    if op is None:
        raise ValueError(f"the {channel} channel has no operation {operation!r}")
    envelope, body = _new_envelope()
    fault = etree.SubElement(body, _FAULT)
    _leaf(fault, "faultcode", f"{_SOAP_PREFIX}:{fault_code}")
    _leaf(fault, "faultstring", error.message)
    detail = etree.SubElement(fault, "detail")
    _write_error(etree.SubElement(detail, op.fault, nsmap={"ns2": op.namespace}), error)
    return envelope


def read_fault(envelope_root: etree._Element) -> ErrorInfo | None:
    """The ErrorInfo of a Fault envelope, or None if the Body carries no Fault."""
    payload = _payload(envelope_root)
    return _read_fault(payload) if payload.tag == _FAULT else None


def _fault_entries(fault: etree._Element) -> list[etree._Element]:
    """The ``<op>Fault1_<op>Fault`` elements in a Fault's ``detail`` (SOAP 1.1: unqualified)."""
    return [
        entry
        for detail in fault.iterchildren("detail")
        for entry in _elements(detail)
        if _FAULT_ENTRY.fullmatch(etree.QName(entry).localname)
    ]


def _read_fault(fault: etree._Element) -> ErrorInfo:
    entries = _fault_entries(fault)
    if len(entries) != 1:
        code, string = fault.findtext("faultcode"), fault.findtext("faultstring")
        raise SoapFormatError(
            f"a SOAP Fault without one ШЭП ErrorInfo detail (<op>Fault1_<op>Fault): "
            f"faultcode {code!r}, faultstring {string!r}"
        )
    return _read_error(_Node(entries[0], etree.QName(entries[0]).localname))


# -- WSDL and XSD ---------------------------------------------------------------------------------

_WSDL_DIR = Path(__file__).with_name("wsdl")
WSDL_NAMES = ("SyncChannel", "AsyncChannel", "AsyncChannelClient")  # the files are <name>.wsdl
XSD_NAMES = (
    "bip-common.xsd",
    "sync-types.xsd",
    "sync-request.xsd",
    "sync-response.xsd",
    "sync-elements.xsd",
    "async-types.xsd",
    "async-elements.xsd",
    "async-client-elements.xsd",
)
LOCATION_PLACEHOLDER = "{{LOCATION}}"  # soap:address in the WSDL files, replaced when served
_SOAP_ADDRESS = f"{{{WSDL_SOAP}}}address"
_SCHEMA_REFERENCES = (f"{{{XSD}}}import", f"{{{XSD}}}include")
_DATA_HOLDERS = ("requestData", "responseData", "messageData")  # the MessageData elements


@cache
def _file(name: str) -> bytes:
    return (_WSDL_DIR / name).read_bytes()


def _served(name: str, location: str) -> bytes:
    """The file ``name`` as served at the endpoint ``location``: ``{{LOCATION}}`` in soap:address
    becomes ``location``, and every relative ``schemaLocation="x.xsd"`` becomes
    ``location?xsd=x.xsd``, so a client that fetched ``location?wsdl`` can follow the imports."""
    root = parse_xml(_file(name))
    for address in root.iter(_SOAP_ADDRESS):
        if address.get("location") == LOCATION_PLACEHOLDER:
            address.set("location", location)
    for reference in root.iter(*_SCHEMA_REFERENCES):
        if reference.get("schemaLocation") in XSD_NAMES:
            reference.set("schemaLocation", f"{location}?xsd={reference.get('schemaLocation')}")
    served: bytes = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)
    return served


def wsdl_document(name: str, location: str) -> bytes:
    """GET ``<endpoint>?wsdl``: the WSDL ``name`` (one of :data:`WSDL_NAMES`) for ``location``."""
    if name not in WSDL_NAMES:
        raise ValueError(f"no WSDL named {name!r}; there are {', '.join(WSDL_NAMES)}")
    return _served(f"{name}.wsdl", location)


def xsd_document(name: str, location: str) -> bytes | None:
    """GET ``<endpoint>?xsd=<name>``: one of :data:`XSD_NAMES`, or None for any other name (only
    these names are looked up, so the query can never name another file)."""
    return _served(name, location) if name in XSD_NAMES else None


class Schemas:
    """The v10 XSDs of ``gateway/wsdl``, compiled once, to validate messages against.

    A message's ``data`` is xsd:anyType whose ``xsi:type`` (``cs:Request``, egov-interfaces §3)
    names a type of the receiver's own schema, which SHEP does not have and does not check (JAXB
    keeps such content as DOM). Its content is therefore left out of the validation; everything
    around it is checked, including that ``data`` is unqualified.
    """

    def __init__(self) -> None:
        imports = "".join(
            f'<xsd:import namespace="{ns}" schemaLocation="{xsd}"/>'
            for ns, xsd in (
                (SYNC_ELEMENTS, "sync-elements.xsd"),
                (ASYNC_ELEMENTS, "async-elements.xsd"),
                (ASYNC_CLIENT_ELEMENTS, "async-client-elements.xsd"),
            )
        )
        # based in the folder, so that every relative schemaLocation resolves to our own files
        driver = etree.fromstring(
            f'<xsd:schema xmlns:xsd="{XSD}">{imports}</xsd:schema>', base_url=str(_WSDL_DIR / "all.xsd")
        )
        self._schema = etree.XMLSchema(driver)
        self._lock = threading.Lock()  # a validator's error log is per instance, not per call

    def validate(self, envelope_root: etree._Element) -> None:
        """Raise :class:`SoapFormatError` with the schema's message unless the Body's element (or,
        for a Fault, its ErrorInfo detail) is valid."""
        payload = _payload(envelope_root)
        targets = _fault_entries(payload) if payload.tag == _FAULT else [payload]
        if not targets:
            raise SoapFormatError("a SOAP Fault without a ШЭП ErrorInfo detail (<op>Fault1_<op>Fault)")
        for target in targets:
            skeleton = deepcopy(target)
            for holder in _DATA_HOLDERS:
                for data in skeleton.iterfind(f".//{holder}/data"):
                    data.clear()
            try:
                with self._lock:
                    self._schema.assertValid(skeleton)
            except etree.DocumentInvalid as exc:  # its message is the first error libxml2 found
                raise SoapFormatError(
                    f"{etree.QName(target).localname} does not match the ШЭП v10 schema: {exc}"
                ) from None


@cache
def _schemas() -> Schemas:
    return Schemas()


def validate(envelope_root: etree._Element) -> None:
    """:meth:`Schemas.validate` with the schemas compiled once per process."""
    _schemas().validate(envelope_root)
