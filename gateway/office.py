"""The provider's office (көрсетілетін қызметті берушінің кеңсесі / канцелярия услугодателя): a paper
application handed in by the applicant or a representative, registered by the office clerk.

Standard 002 item 9 and the catalogue's notices: the package is checked against the service's
application form (``egovsim/data/forms.yaml``) at intake; an incomplete one is refused there with a
receipt of refusal listing the missing documents (appendix 3) and enters no inbox; a complete one is
registered as a case of channel ``office`` and the applicant gets a receipt of acceptance (the
tear-off coupon where the service's notices name one). The result is issued at the office when the
applicant collects it.

Plain functions: what a paper application is, what is wrong with it, and the application
e-document the case keeps (the same shape as the portal's, with the documents by id only: they are
on paper).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from egovsim.catalog.forms import APPLICATION_NS, ApplicationForm, intake_form, missing_documents
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.models import Service, Texts
from egovsim.errors import CodedError
from egovsim.iin import is_valid_number

ACCEPTED = "RECEIPT_ACCEPTED"
COUPON = "TEAR_OFF_COUPON"
INCOMPLETE = "PACKAGE_INCOMPLETE"
INTAKE_STEP = "intake:pre"  # the refusal catalogue's step of PACKAGE_INCOMPLETE
FieldId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class PaperApplication(BaseModel):
    """``POST /rshep/api/office/applications``: what the clerk enters from the paper package."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    service_id: Annotated[str, Field(alias="serviceId", min_length=1, max_length=128)]
    applicant_iin: Annotated[str, Field(alias="applicantIin", pattern=r"^[0-9]{12}$")]
    representative_iin: Annotated[str | None, Field(alias="representativeIin", pattern=r"^[0-9]{12}$")] = None
    fields: Annotated[dict[FieldId, Annotated[str, Field(max_length=2000)]], Field(max_length=60)] = {}
    documents: Annotated[list[FieldId], Field(max_length=60, description="ids of the paper documents")] = []
    route: Annotated[str | None, Field(max_length=64, description="the route, where a service has several")] = None
    employee: Annotated[str | None, Field(max_length=64, description="the clerk; the office's first by default")] = None


@dataclass(frozen=True)
class Intake:
    """A paper application as the office checked it: its service, form and missing documents."""

    service: Service
    form: ApplicationForm | None
    missing: list[str]


def check_paper(services: ServiceCatalog, paper: PaperApplication) -> Intake:
    """Everything that makes the application unreadable raises (nothing is stored then); the
    missing required documents are the result, for the clerk to refuse with a receipt."""
    service = services.get(paper.service_id)
    if service is None:
        raise CodedError("SERVICE_NOT_FOUND", f"no service {paper.service_id!r}", service_id=paper.service_id)
    if not service.channels.office.available:
        raise CodedError("CASE_CHANNEL_UNAVAILABLE", f"{service.id} is not received at the provider's office")
    problems = [f"{who}: not a valid IIN" for who, number in (("applicantIin", paper.applicant_iin),
                ("representativeIin", paper.representative_iin)) if number and not is_valid_number(number)]  # fmt: skip
    if paper.route is not None and all(r.id != paper.route for r in service.routes):
        problems.append(f"route: {service.id} has no route {paper.route!r}")
    form = intake_form(services, service.id)
    if form is not None:
        problems += form.problems(paper.fields, complete=True)
        problems += [f"{d}: not a document of this service" for d in paper.documents if form.document(d) is None]
    if problems:
        raise CodedError("OFFICE_APPLICATION_INVALID", "; ".join(problems), problems="; ".join(problems))
    missing = [] if form is None else missing_documents(form, set(paper.documents))
    return Intake(service, form, missing)


def document_names(form: ApplicationForm | None, ids: list[str]) -> list[dict[str, Any]]:
    """The documents by id with their names as the form gives them (kk/ru/en), for the receipts."""
    out = []
    for document_id in ids:
        spec = form.document(document_id) if form else None
        name = spec.name.model_dump() if spec else {"kk": document_id, "ru": document_id, "en": document_id}
        out.append({"id": document_id, "name": name})
    return out


def receipt_code(service: Service) -> str:
    """The receipt of acceptance, or the tear-off coupon where the service's office notices name it."""
    coupon = any(n.code == COUPON and n.channel == "office" for n in service.notices)
    return COUPON if coupon else ACCEPTED


def notice_step(service: Service, code: str, default: str) -> str:
    """The step label the catalogue ties a code to at the office (``provider:1``), else ``default``."""
    return next((n.step for n in service.notices if n.code == code and n.channel == "office" and n.step), default)


def application_element(number: str, service: Service, paper: PaperApplication) -> etree._Element:
    """The application as the case keeps it, in the portal's namespace and shape."""
    ns = f"{{{APPLICATION_NS}}}"
    root = etree.Element(f"{ns}application", nsmap={None: APPLICATION_NS})
    etree.SubElement(root, f"{ns}requestNumber").text = number
    etree.SubElement(root, f"{ns}service", id=service.id).text = service.titles.kk
    etree.SubElement(etree.SubElement(root, f"{ns}applicant"), f"{ns}iin").text = paper.applicant_iin
    if paper.representative_iin:
        etree.SubElement(etree.SubElement(root, f"{ns}representative"), f"{ns}iin").text = paper.representative_iin
    values = etree.SubElement(root, f"{ns}fields")
    for field_id, value in paper.fields.items():
        etree.SubElement(values, f"{ns}field", id=field_id).text = value
    documents = etree.SubElement(root, f"{ns}documents")
    for document_id in paper.documents:
        etree.SubElement(documents, f"{ns}document", id=document_id, medium="paper")
    return root


def request_data(number: str, service: Service, paper: PaperApplication) -> etree._Element:
    """The ``data`` of the case's request, as a pushed request carries it."""
    data = etree.Element("data")
    for name, value in (("channel", "office"), ("requestNumber", number), ("iin", paper.applicant_iin)):
        etree.SubElement(data, name).text = value
    data.append(application_element(number, service, paper))
    return data


def texts(value: Texts) -> dict[str, str]:
    return value.model_dump()
