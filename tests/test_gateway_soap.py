"""ЭҮШ / ШЭП v10 SOAP codec: our WSDLs work with an independent SOAP stack (zeep), from files and over
HTTP; every message we build matches our XSDs and reads back to the same value; malformed messages
are refused with a message that says what is wrong."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import zeep
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from egovsim import xmldsig
from egovsim.calendar import ALMATY
from egovsim.xmldsig import XmlSignatureError, parse_xml
from gateway import soap
from gateway.soap import (
    AsyncChangeStatusNotifyRequest,
    AsyncChangeStatusNotifyResponse,
    AsyncGetMessagesRequest,
    AsyncGetMessagesResponse,
    AsyncGetMessageStatusRequest,
    AsyncGetMessageStatusResponse,
    AsyncMessage,
    AsyncMessageInfo,
    AsyncSendDeliveryNotificationRequest,
    AsyncSendDeliveryNotificationResponse,
    AsyncSendMessageResponse,
    ChangeStatusNotification,
    DeliveryNotification,
    DeliveryStatusInfo,
    ErrorInfo,
    MessageState,
    MessageStatusInfo,
    MessageType,
    Property,
    ReceiveStatus,
    ResendMessage,
    Sender,
    SoapFault,
    SoapFormatError,
    SyncRequest,
    SyncResponse,
)
from signing.ca import Holder, KeyKind, Profile, Urls, issue, new_authority

WSDL_DIR = Path(soap.__file__).with_name("wsdl")
CS = "http://message.persistence.interactive.nat"  # the payload namespace of egov-interfaces §3
T0 = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 10:00 in Astana
SESSION = "{f0774397-4fcd-484a-9434-f71535ee4326}"
SENDER = Sender("smartbridge", "not-a-secret")


def data(iin: str = "900115300013") -> etree._Element:
    """A ГБД ФЛ request payload as SmartBridge sends it: xsi:type cs:Request (egov-interfaces §7)."""
    return etree.fromstring(
        f'<data xmlns:cs="{CS}" xmlns:xsi="{soap.XSI}" xsi:type="cs:Request">'
        f"<messageId>1</messageId><senderCode>smartbridge</senderCode><iin>{iin}</iin></data>"
    )


def only(root: etree._Element, path: str) -> etree._Element:
    found = root.findall(path)
    assert len(found) == 1, f"{len(found)} elements at {path}"
    return found[0]


def wire(envelope: etree._Element) -> etree._Element:
    """Through the wire and back: bytes out, then the hardened parser the gateway uses."""
    return parse_xml(soap.to_bytes(envelope))


def sync_request(**changes: Any) -> SyncRequest:
    values: dict[str, Any] = {
        "message_id": "ccb1010b-8446-4937-913f-c87a717f6809",
        "service_id": "GBDFL_UniversalServiceSync",
        "message_date": T0,
        "sender": SENDER,
        "data": data(),
        "correlation_id": None,
        "route_id": "route-1",
        "properties": [Property("CONNECTOR_CLIENT", "true")],
        "session_id": SESSION,
    }
    return SyncRequest(**(values | changes))


def sync_response() -> SyncResponse:
    return SyncResponse(
        message_id="129f9727-a75a-4a0f-911e-bf507334a9b1",
        correlation_id="ccb1010b-8446-4937-913f-c87a717f6809",
        response_date=T0 + timedelta(milliseconds=94),
        status_code="SCSS001",
        status_message="Message has been processed successfully",
        data=etree.fromstring("<data><messageResult><code>00000</code></messageResult></data>"),
        session_id=SESSION,
    )


def error(code: str = "SCE004", message: str = "Сервис не существует", **more: Any) -> ErrorInfo:
    return ErrorInfo(code, message, T0, **more)


def nested_error() -> ErrorInfo:
    return error(
        "SCE909",
        "Внутренняя ошибка ИС ГБД ФЛ",
        data="stack: …",
        sub_error=error("SCE006", "Не верная транспортная подпись", sub_error=error("X1", "deepest")),
        session_id=SESSION,
    )


def async_message(message_type: MessageType = MessageType.REQUEST, **changes: Any) -> AsyncMessage:
    info: dict[str, Any] = {
        "service_id": "IbdNiisActual",
        "message_type": message_type,
        "message_date": T0,
        "sender": SENDER,
        "message_id": None if message_type is MessageType.REQUEST else "shep-1",
        "correlation_id": None if message_type is MessageType.REQUEST else "shep-0",
        "properties": [Property("k", "v"), Property("empty", "")],
    }
    return AsyncMessage(AsyncMessageInfo(**(info | changes)), data())


STATUS = MessageStatusInfo("DELIVERED", "Доставлено", T0)

# (builder, reader, value) for every IAsyncChannel and IAsyncChannelClient message
ASYNC_CASES: list[tuple[Callable[[Any], etree._Element], Callable[[etree._Element], Any], Any]] = [
    (soap.build_send_message_request, soap.read_send_message_request, async_message()),
    (soap.build_send_message_response, soap.read_send_message_response, AsyncSendMessageResponse("m", "c", T0)),
    (
        soap.build_send_delivery_notification_request,
        soap.read_send_delivery_notification_request,
        AsyncSendDeliveryNotificationRequest(
            DeliveryNotification(
                "shep-1",
                "IbdNiisActual",
                T0,
                DeliveryStatusInfo(ReceiveStatus.MESSAGE_NOT_ACCEPTED, T0, ResendMessage.RESEND, nested_error()),
            ),
            T0,
            SENDER,
        ),
    ),
    (
        soap.build_send_delivery_notification_response,
        soap.read_send_delivery_notification_response,
        AsyncSendDeliveryNotificationResponse("n-1", T0, SESSION),
    ),
    (
        soap.build_get_message_status_request,
        soap.read_get_message_status_request,
        AsyncGetMessageStatusRequest("shep-1", T0, SENDER, [Property("k", "v")]),
    ),
    (
        soap.build_get_message_status_response,
        soap.read_get_message_status_response,
        AsyncGetMessageStatusResponse(MessageState.ON_DELIVERY, STATUS, T0, "not-a-guid-here"),
    ),
    (soap.build_get_messages_request, soap.read_get_messages_request, AsyncGetMessagesRequest("IbdNiisActual")),
    (
        soap.build_get_messages_request,
        soap.read_get_messages_request,
        AsyncGetMessagesRequest("IbdNiisActual", "m", "c", T0, SENDER, 10, [Property("k", "v")]),
    ),
    (
        soap.build_get_messages_response,
        soap.read_get_messages_response,
        AsyncGetMessagesResponse(T0, SESSION, [async_message(MessageType.RESPONSE), async_message()]),
    ),
    (soap.build_get_messages_response, soap.read_get_messages_response, AsyncGetMessagesResponse(T0, SESSION)),
    (soap.build_push_message_request, soap.read_push_message_request, async_message(MessageType.NOTIFICATION)),
    (
        soap.build_push_message_response,
        soap.read_push_message_response,
        AsyncSendMessageResponse("m", "c", T0, SESSION),
    ),
    (
        soap.build_change_status_notification_request,
        soap.read_change_status_notification_request,
        AsyncChangeStatusNotifyRequest(
            ChangeStatusNotification("n-1", "shep-1", T0, MessageState.NOT_DELIVERED, STATUS, error()), T0, SESSION
        ),
    ),
    (
        soap.build_change_status_notification_response,
        soap.read_change_status_notification_response,
        AsyncChangeStatusNotifyResponse(T0),
    ),
]

REQUEST_OPERATIONS = {
    soap.build_sync_request: "ISyncChannel.SendMessage",
    soap.build_send_message_request: "IAsyncChannel.sendMessage",
    soap.build_send_delivery_notification_request: "IAsyncChannel.sendDeliveryNotification",
    soap.build_get_message_status_request: "IAsyncChannel.getMessageStatus",
    soap.build_get_messages_request: "IAsyncChannel.getMessages",
    soap.build_push_message_request: "IAsyncChannelClient.sendMessage",
    soap.build_change_status_notification_request: "IAsyncChannelClient.changeMassageStatusNotification",
}

PORTS = {
    "SyncChannel": ("ISyncChannelHttpService", "SyncChannelHttpPort", ["SendMessage"]),
    "AsyncChannel": (
        "AsyncChannelHttpService",
        "AsyncChannelHttpPort",
        ["sendMessage", "sendDeliveryNotification", "getMessageStatus", "getMessages"],
    ),
    "AsyncChannelClient": (
        "AsyncChannelClientHttpService",
        "AsyncChannelClientHttpPort",
        ["sendMessage", "changeMassageStatusNotification"],
    ),
}


# -- the WSDLs with an independent SOAP stack -----------------------------------------------------


def zeep_client(wsdl: str, session: requests.Session | None = None) -> Any:
    """A zeep client for a WSDL file or URL (zeep ships no type hints, hence Any)."""
    transport = Transport(session=session, timeout=10) if session else None  # type: ignore[no-untyped-call]
    return zeep.Client(wsdl, transport=transport)  # type: ignore[no-untyped-call]


def operations_of(client: Any, service: str, port: str) -> list[str]:
    return list(client.wsdl.services[service].ports[port].binding._operations)


@pytest.mark.parametrize("name", soap.WSDL_NAMES)
def test_zeep_builds_a_client_from_each_wsdl_file(name: str) -> None:
    service, port, operations = PORTS[name]
    client = zeep_client(str(WSDL_DIR / f"{name}.wsdl"))
    assert operations_of(client, service, port) == operations
    assert client.wsdl.services[service].ports[port].binding_options["address"] == soap.LOCATION_PLACEHOLDER


# where each WSDL is served in the HTTP test: the real paths of egov-interfaces §1, and a participant's
ENDPOINTS = {
    "SyncChannel": "/shep/bip-sync-wss-gost/",
    "AsyncChannel": "/shep/bip-async/",
    "AsyncChannelClient": "/participant/async-client/",
}


@contextlib.contextmanager
def serving_wsdls() -> Iterator[tuple[str, list[str]]]:
    """A tiny HTTP server answering ``?wsdl`` and ``?xsd=<name>`` at three endpoints the way the
    gateway does; yields its base URL and the list of requests it received."""
    endpoints = {path: name for name, path in ENDPOINTS.items()}
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            wsdl = endpoints.get(url.path)
            location = f"http://{self.headers['Host']}{url.path}"
            body: bytes | None = None
            if wsdl is not None and "wsdl" in query:
                body = soap.wsdl_document(wsdl, location)
            elif wsdl is not None and "xsd" in query:
                body = soap.xsd_document(query["xsd"][0], location)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def http_client(url: str) -> Any:
    session = requests.Session()
    session.trust_env = False  # never through a proxy from the environment: the server is local
    return zeep_client(url, session)


def test_zeep_follows_the_schema_imports_of_each_wsdl_over_http() -> None:
    with serving_wsdls() as (base, requested):
        for name, path in ENDPOINTS.items():
            service, port, operations = PORTS[name]
            client = http_client(f"{base}{path}?wsdl")
            assert operations_of(client, service, port) == operations
            # the soap:address is the endpoint itself, ready to call
            assert client.wsdl.services[service].ports[port].binding_options["address"] == f"{base}{path}"
    fetched = {urlsplit(p).query for p in requested}
    assert {f"xsd={name}" for name in soap.XSD_NAMES} <= fetched  # every import was followed
    assert not any(p.endswith(".xsd") and "?" not in p for p in requested)  # never a bare relative path


def test_served_documents_point_every_import_at_the_endpoint() -> None:
    location = "https://gateway.example/shep/bip-sync-wss-gost/"
    for name in soap.WSDL_NAMES:
        text = soap.wsdl_document(name, location).decode()
        assert soap.LOCATION_PLACEHOLDER not in text.split("-->")[-1]  # the comment may still name it
        assert f'location="{location}"' in text
    for name in soap.XSD_NAMES:
        served = parse_xml(soap.xsd_document(name, location) or b"")
        for imported in served.iter(f"{{{soap.XSD}}}import"):
            assert imported.get("schemaLocation", "").startswith(f"{location}?xsd="), name


def test_only_our_own_schema_files_are_served() -> None:
    assert soap.xsd_document("../soap.py", "http://h/") is None
    assert soap.xsd_document("SyncChannel.wsdl", "http://h/") is None
    with pytest.raises(ValueError, match="no WSDL named"):
        soap.wsdl_document("SyncChannel.wsdl", "http://h/")


def zeep_data(iin: str) -> Any:
    """A ``data`` payload for zeep: xsd:anyType content must be typed, here as cs:Request."""
    fields = [xsd.Element(name, xsd.String()) for name in ("senderCode", "iin")]  # type: ignore[no-untyped-call]
    request_type = xsd.ComplexType(xsd.Sequence(fields), qname=etree.QName(CS, "Request"))  # type: ignore[no-untyped-call]
    return xsd.AnyObject(request_type, request_type(senderCode="smartbridge", iin=iin))  # type: ignore[no-untyped-call]


def test_a_send_message_request_serialised_by_zeep_is_read_by_read_sync_request() -> None:
    client = zeep_client(str(WSDL_DIR / "SyncChannel.wsdl"))
    info = {
        "messageId": "ccb1010b-8446-4937-913f-c87a717f6809",
        "serviceId": "GBDFL_UniversalServiceSync",
        "messageDate": datetime(2019, 12, 25, 12, 48, 21, 24000, tzinfo=UTC),
        "sender": {"senderId": "smartbridge", "password": "not-a-secret"},
        "properties": [{"key": "CONNECTOR_CLIENT", "value": "true"}],
    }
    envelope = client.create_message(
        client.service, "SendMessage", request={"requestInfo": info, "requestData": {"data": zeep_data("900115300013")}}
    )
    soap.validate(envelope)
    req = soap.read_sync_request(wire(envelope))
    assert (req.message_id, req.service_id) == (info["messageId"], "GBDFL_UniversalServiceSync")
    assert req.message_date == info["messageDate"]
    assert req.sender == SENDER
    assert req.properties == [Property("CONNECTOR_CLIENT", "true")]
    assert (req.correlation_id, req.route_id, req.session_id) == (None, None, None)
    assert [c.tag for c in req.data] == ["senderCode", "iin"] and req.data.findtext("iin") == "900115300013"
    xsi_type = req.data.get(f"{{{soap.XSI}}}type") or ""
    assert req.data.nsmap[xsi_type.partition(":")[0]] == CS and xsi_type.endswith(":Request")


def test_requests_serialised_by_zeep_for_every_async_operation_are_recognised() -> None:
    message = {
        "messageInfo": {
            "serviceId": "IbdNiisActual",
            "messageType": "REQUEST",
            "messageDate": T0,
            "sender": {"senderId": "smartbridge"},
        },
        "messageData": {"data": zeep_data("900115300013")},
    }
    requests_by_operation: dict[str, dict[str, Any]] = {
        "sendMessage": message,
        "sendDeliveryNotification": {
            "notification": {
                "messageId": "shep-1",
                "serviceId": "IbdNiisActual",
                "notificationDate": T0,
                "deliveryStatus": {
                    "receiveStatus": "MESSAGE_ACCEPTED",
                    "statusDate": T0,
                    "resendMessage": "NOT_RESEND",
                },
            },
            "requestDate": T0,
        },
        "getMessageStatus": {"messageId": "shep-1", "requestDate": T0, "sender": {"senderId": "smartbridge"}},
        "getMessages": {"serviceId": "IbdNiisActual", "amount": 5},
        "changeMassageStatusNotification": {
            "notification": {
                "notificationId": "n-1",
                "messageId": "shep-1",
                "notificationDate": T0,
                "messageState": "DELIVERED",
                "status": {"statusCode": "OK", "statusMessage": "ok", "statusDate": T0},
            },
            "requestDate": T0,
        },
    }
    parsed: dict[str, object] = {}
    for name, port_type in (("AsyncChannel", "IAsyncChannel"), ("AsyncChannelClient", "IAsyncChannelClient")):
        client = zeep_client(str(WSDL_DIR / f"{name}.wsdl"))
        for operation in PORTS[name][2]:
            envelope = client.create_message(client.service, operation, request=requests_by_operation[operation])
            soap.validate(envelope)
            found, request = soap.read_operation(wire(envelope))
            assert found == f"{port_type}.{operation}"
            parsed[found] = request
    for pushed in ("IAsyncChannel.sendMessage", "IAsyncChannelClient.sendMessage"):
        message_read = parsed[pushed]
        assert isinstance(message_read, AsyncMessage) and message_read.data.findtext("iin") == "900115300013"
    assert parsed["IAsyncChannel.getMessages"] == AsyncGetMessagesRequest("IbdNiisActual", amount=5)


# -- what we build matches our XSDs and reads back ------------------------------------------------


def test_a_sync_request_validates_and_reads_back_equal() -> None:
    req = sync_request()
    envelope = soap.build_sync_request(req)
    soap.validate(envelope)
    assert soap.read_sync_request(wire(envelope)) == req
    assert soap.read_operation(wire(envelope)) == ("ISyncChannel.SendMessage", req)


def test_a_sync_request_envelope_has_an_empty_header_and_a_body_with_a_wsu_id() -> None:
    envelope = soap.build_sync_request(sync_request())
    header, body = soap.envelope_parts(envelope)
    assert header is not None and len(header) == 0
    assert body.get(f"{{{soap.WSU}}}Id", "").startswith("id-")
    wrapper = body[0]
    assert wrapper.tag == f"{{{soap.SYNC_ELEMENTS}}}SendMessage"
    # only the wrapper is qualified (egov-interfaces §2)
    assert all(etree.QName(e).namespace is None for e in wrapper.iter("request", "requestInfo", "messageId", "data"))
    assert soap.to_bytes(envelope).startswith(b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope')


def test_dates_are_written_in_almaty_time_with_milliseconds() -> None:
    envelope = soap.build_sync_request(sync_request(message_date=datetime(2026, 3, 2, 5, 0, 0, 123456, tzinfo=UTC)))
    assert envelope.findtext(".//messageDate") == "2026-03-02T10:00:00.123+05:00"


def test_a_sync_response_validates_and_reads_back_equal() -> None:
    resp = sync_response()
    envelope = soap.build_sync_response(resp)
    soap.validate(envelope)
    assert soap.read_sync_response(wire(envelope)) == resp
    assert soap.read_fault(wire(envelope)) is None


def test_messages_with_different_data_are_not_equal() -> None:
    assert sync_request() == sync_request()
    assert sync_request(data=data("111111111111")) != sync_request()


@pytest.mark.parametrize(("build", "read", "value"), ASYNC_CASES, ids=lambda c: getattr(c, "__name__", None))
def test_every_async_message_validates_and_reads_back_equal(
    build: Callable[[Any], etree._Element], read: Callable[[etree._Element], Any], value: Any
) -> None:
    envelope = build(value)
    soap.validate(envelope)
    assert read(wire(envelope)) == value
    if build in REQUEST_OPERATIONS:
        assert soap.read_operation(wire(envelope)) == (REQUEST_OPERATIONS[build], value)


def test_data_carrying_a_business_signature_survives_building_and_reading() -> None:
    now = datetime.now(UTC)
    authority = new_authority(now, Urls("http://127.0.0.1:8080"), ca_bits=2048)
    holder = Holder(Profile.SYSTEM, KeyKind.SIGN, bin="000740000000", organization="ГБД ФЛ", system_name="GBDFL")
    signer = issue(authority, holder, now - timedelta(minutes=5), now + timedelta(days=1))
    signed = parse_xml(xmldsig.sign_enveloped(data(), signer.key, signer.cert))
    response = soap.build_sync_response(
        SyncResponse("m", "c", T0, "SCSS001", "Message has been processed successfully", signed)
    )
    on_the_wire = parse_xml(xmldsig.sign_wsse(response, signer.key, signer.cert))
    assert xmldsig.verify_wsse(on_the_wire).signed_element.get(f"{{{soap.WSU}}}Id", "").startswith("id-")
    received = soap.read_sync_response(on_the_wire)
    verified = xmldsig.verify_enveloped(received.data)  # raises unless the business signature still holds
    assert verified.certificate == signer.cert
    assert received.data[-1].tag == f"{{{xmldsig.DS}}}Signature"


# -- faults ---------------------------------------------------------------------------------------

FAULT_OPERATIONS = [
    ("sync", "SendMessage"),
    *(("async", op) for op in PORTS["AsyncChannel"][2]),
    *(("async-client", op) for op in PORTS["AsyncChannelClient"][2]),
]


@pytest.mark.parametrize(("channel", "operation"), FAULT_OPERATIONS)
def test_a_fault_with_nested_sub_errors_validates_and_reads_back(channel: soap.Channel, operation: str) -> None:
    envelope = soap.build_fault(operation, nested_error(), channel=channel)
    soap.validate(envelope)
    received = wire(envelope)
    assert soap.read_fault(received) == nested_error()
    fault = only(received, f".//{{{soap.SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "SOAP-ENV:Server"
    assert fault.findtext("faultstring") == "Внутренняя ошибка ИС ГБД ФЛ"
    entry = only(fault, "detail/*")
    assert etree.QName(entry).localname == f"{operation}Fault1_{operation}Fault"
    assert [c.tag for c in entry] == ["errorCode", "errorMessage", "errorData", "errorDate", "subError", "sessionId"]


def test_a_sync_fault_comes_back_as_soap_fault_with_its_error_info() -> None:
    envelope = soap.build_fault("SendMessage", error(), channel="sync", fault_code="Client")
    assert envelope.findtext(f".//{{{soap.SOAP_ENV}}}Fault/faultcode") == "SOAP-ENV:Client"
    with pytest.raises(SoapFault) as caught:
        soap.read_sync_response(wire(envelope))
    assert caught.value.error == error()
    assert caught.value.error.code == "SCE004"
    with pytest.raises(SoapFault):
        soap.read_get_messages_response(wire(soap.build_fault("getMessages", error(), channel="async")))


def test_a_fault_for_an_operation_the_channel_does_not_have_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="the sync channel has no operation"):
        soap.build_fault("getMessages", error(), channel="sync")


def test_a_fault_without_error_info_is_a_format_error() -> None:
    bare = envelope_of(
        "<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Unmarshalling Error</faultstring>"
        "</SOAP-ENV:Fault>"
    )
    with pytest.raises(SoapFormatError, match=r"without one ШЭП ErrorInfo detail.*Unmarshalling Error"):
        soap.read_fault(bare)
    with pytest.raises(SoapFormatError, match="without one ШЭП ErrorInfo detail"):
        soap.read_sync_response(bare)


# -- malformed input ------------------------------------------------------------------------------

REQUEST_INFO = (
    "<messageId>m-1</messageId><serviceId>GBDFL_UniversalServiceSync</serviceId>"
    "<messageDate>2019-12-25T12:48:21.024Z</messageDate><sender><senderId>smartbridge</senderId></sender>"
)
REQUEST_DATA = "<requestData><data><iin>900115300013</iin></data></requestData>"


def envelope_of(body: str, envelope_ns: str = soap.SOAP_ENV) -> etree._Element:
    return parse_xml(
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{envelope_ns}" xmlns:xsi="{soap.XSI}"><SOAP-ENV:Header/>'
        f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def send_message(request: str) -> etree._Element:
    return envelope_of(f'<ns3:SendMessage xmlns:ns3="{soap.SYNC_ELEMENTS}">{request}</ns3:SendMessage>')


def sync_with(info: str = REQUEST_INFO, request_data: str = REQUEST_DATA) -> etree._Element:
    return send_message(f"<request><requestInfo>{info}</requestInfo>{request_data}</request>")


def info_replacing(old: str, new: str) -> etree._Element:
    assert old in REQUEST_INFO
    return sync_with(info=REQUEST_INFO.replace(old, new))


def info_plus(extra: str) -> etree._Element:
    return sync_with(info=REQUEST_INFO + extra)


DATE = "2019-12-25T12:48:21.024Z"
UNQUALIFIED_HINT = (
    "SendMessage has no <request> element, which is required (found {http://bip.bee.kz/SyncChannel/v10/Types}"
    "request: the children of ШЭП operation elements are unqualified)"
)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (parse_xml("<Envelope><Body/></Envelope>"), "the document element is Envelope, not a SOAP 1.1 Envelope"),
        (envelope_of("<x/>", "http://www.w3.org/2003/05/soap-envelope"), "SOAP 1.2 envelope"),
        (send_message(f"<request>{REQUEST_DATA}</request>"), "SendMessage/request has no <requestInfo> element"),
        (info_replacing("<serviceId>GBDFL_UniversalServiceSync</serviceId>", ""), "requestInfo has no <serviceId>"),
        (info_replacing("<messageId>m-1</messageId>", ""), "SendMessage/request/requestInfo has no <messageId>"),
        (info_replacing("<messageId>m-1</messageId>", "<messageId> </messageId>"), "requestInfo/messageId is empty"),
        (info_replacing("<sender><senderId>smartbridge</senderId></sender>", ""), "requestInfo has no <sender>"),
        (info_replacing("<senderId>smartbridge</senderId>", ""), "requestInfo/sender has no <senderId>"),
        (sync_with(request_data=""), "SendMessage/request has no <requestData>"),
        (sync_with(request_data="<requestData/>"), "requestData must hold exactly one <data> element, not 0"),
        (info_replacing(DATE, "25.12.2019 12:48"), "messageDate is '25.12.2019 12:48', not an xsd:dateTime"),
        (info_replacing(DATE, "2019-02-30T12:48:21Z"), "messageDate is '2019-02-30T12:48:21Z', not a valid date"),
        (info_plus(f"<sessionId>{SESSION[1:-1]}</sessionId>"), f"sessionId is '{SESSION[1:-1]}', not a guid in braces"),
        (info_plus(f"<sessionId>{SESSION}</sessionId>" * 2), "has 2 <sessionId> elements; at most one"),
        (info_plus(f"<properties><key>{'k' * 31}</key><value/></properties>"), "key has 31 characters; at most 30"),
        (info_replacing("<messageId>m-1</messageId>", "<messageId><b/></messageId>"), "must hold text, not elements"),
        (send_message('<request xsi:nil="true"/>'), "SendMessage/request is nil"),
        (envelope_of(f'<SendMessage xmlns="{soap.SYNC_ELEMENTS}"><request/></SendMessage>'), UNQUALIFIED_HINT),
        (
            envelope_of('<ns3:SendMessage xmlns:ns3="http://bip.bee.kz/SyncChannel/v9/Types"/>'),
            "the Body carries {http://bip.bee.kz/SyncChannel/v9/Types}SendMessage, not "
            "{http://bip.bee.kz/SyncChannel/v10/Types}SendMessage",
        ),
        (envelope_of(""), "the Body must carry exactly one element, not 0"),
    ],
)
def test_a_malformed_sync_request_is_refused_saying_what_is_wrong(document: etree._Element, message: str) -> None:
    with pytest.raises(SoapFormatError) as caught:
        soap.read_sync_request(document)
    assert message in str(caught.value)


def test_an_unknown_operation_is_refused() -> None:
    unknown = envelope_of(f'<ns2:sendMessages xmlns:ns2="{soap.ASYNC_ELEMENTS}"><request/></ns2:sendMessages>')
    with pytest.raises(SoapFormatError, match=r"sendMessages, which is not an operation of ШЭП v10"):
        soap.read_operation(unknown)


def test_a_response_message_needs_a_correlation_id() -> None:
    message = async_message(MessageType.RESPONSE, correlation_id=None)
    with pytest.raises(SoapFormatError, match="correlationId is required for a RESPONSE message"):
        soap.read_send_message_request(wire(soap.build_send_message_request(message)))


def test_an_unknown_message_type_is_refused_naming_the_allowed_ones() -> None:
    envelope = soap.build_send_message_request(async_message())
    only(envelope, ".//messageType").text = "QUERY"
    with pytest.raises(
        SoapFormatError, match="messageType is 'QUERY', not one of REQUEST, NOTIFICATION, UPDATE, RESPONSE"
    ):
        soap.read_send_message_request(wire(envelope))


def test_a_doctype_is_refused_before_the_codec_sees_the_message() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{soap.SOAP_ENV}"><SOAP-ENV:Body>&lol2;</SOAP-ENV:Body></SOAP-ENV:Envelope>'
    )
    with pytest.raises(XmlSignatureError, match="DOCTYPE") as caught:
        parse_xml(bomb)
    assert caught.value.reason == "malformed"


# -- what real senders do differently -------------------------------------------------------------


def test_data_qualified_with_the_interfaces_namespace_is_accepted() -> None:
    qualified_data = f'<ns2:data xmlns:ns2="{soap.SYNC_INTERFACES}"><iin>1</iin></ns2:data>'
    qualified = sync_with(request_data=f"<requestData>{qualified_data}</requestData>")
    assert soap.read_sync_request(qualified).data.tag == f"{{{soap.SYNC_INTERFACES}}}data"


def test_empty_optional_elements_read_as_absent() -> None:
    # what the Go and C# clients of egov-interfaces §7 write for "none"
    info = REQUEST_INFO.replace("<serviceId>", "<correlationId/><serviceId>").replace(
        "<sender>", "<routeId></routeId><sender>"
    )
    req = soap.read_sync_request(sync_with(info=info + "<sessionId/>"))
    assert (req.correlation_id, req.route_id, req.session_id) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2019-12-25T12:48:21.024Z", datetime(2019, 12, 25, 12, 48, 21, 24000, tzinfo=UTC)),
        ("2023-03-01T16:35:01.094+06:00", datetime(2023, 3, 1, 10, 35, 1, 94000, tzinfo=UTC)),
        ("2026-03-02T10:00:00+05:00", T0),
        ("2026-03-02T10:00:00.123456789-00:30", datetime(2026, 3, 2, 10, 30, 0, 123456, tzinfo=UTC)),
        ("2026-03-02T10:00:00", datetime(2026, 3, 2, 10, 0, tzinfo=ALMATY)),  # no offset: Almaty time
    ],
)
def test_dates_are_read_with_or_without_an_offset(text: str, moment: datetime) -> None:
    req = soap.read_sync_request(sync_with(info=REQUEST_INFO.replace("2019-12-25T12:48:21.024Z", text)))
    assert req.message_date == moment
    assert req.message_date.utcoffset() is not None


def test_new_session_ids_are_guids_in_braces() -> None:
    first, second = soap.new_session_id(), soap.new_session_id()
    assert first != second and soap.SESSION_ID.fullmatch(first) and soap.SESSION_ID.fullmatch(second)
    req = sync_request(session_id=first)
    assert soap.read_sync_request(wire(soap.build_sync_request(req))).session_id == first


# -- validation against the XSDs ------------------------------------------------------------------


def test_validation_names_what_the_schema_refuses() -> None:
    too_long = SyncResponse("m", "c", T0, "SCSS001", "я" * 251, etree.fromstring("<data/>"))
    with pytest.raises(SoapFormatError, match=r"SendMessageResponse does not match the ШЭП v10 schema: .*message"):
        soap.validate(soap.build_sync_response(too_long))
    qualified = etree.fromstring(f'<data xmlns="{soap.SYNC_INTERFACES}"/>')
    with pytest.raises(SoapFormatError, match="does not match the ШЭП v10 schema"):
        soap.validate(soap.build_sync_request(sync_request(data=qualified)))


def test_validation_does_not_look_into_the_business_data() -> None:
    # xsi:type names the receiver's own type, which the gateway's schemas do not have (cs:Request)
    envelope = soap.build_sync_request(sync_request())
    assert only(envelope, ".//data").get(f"{{{soap.XSI}}}type") == "cs:Request"
    soap.validate(envelope)
    assert envelope.find(".//data/iin") is not None  # and the message itself is left as it was


def test_only_a_data_element_can_be_the_payload() -> None:
    with pytest.raises(ValueError, match="must be a <data> element"):
        soap.build_sync_request(sync_request(data=etree.fromstring(f'<cs:Request xmlns:cs="{CS}"/>')))


def test_a_naive_datetime_is_refused_when_building() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        soap.build_sync_request(sync_request(message_date=datetime(2026, 3, 2, 10, 0)))


def test_error_info_dates_keep_their_instant_across_offsets() -> None:
    shifted = error().date.astimezone(timezone(timedelta(hours=-3)))
    assert soap.read_fault(wire(soap.build_fault("SendMessage", error(), channel="sync"))) == ErrorInfo(
        "SCE004", "Сервис не существует", shifted
    )
