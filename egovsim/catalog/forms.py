"""The application forms (``egovsim/data/forms.yaml``): the fields a citizen fills in and the
documents they attach (portal) or hand in on paper (ХҚО, the provider's office) for a service.

Kernel data, because several components read it: the portal and the ХҚО workstation render and
check the form, the provider's office checks the package at intake, and the provider's workstation
checks the attached documents at 3-шарт (2-шарт of the ХҚО chain). A form the seeds print comes from
the catalogue (:class:`egovsim.catalog.models.Form`); the others are egovsim's own minimal
applications, marked ``source: egovsim`` (the seeds name them but omit their content).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache
from importlib.resources import files
from typing import Literal

from lxml import etree
from pydantic import Field, ValidationError

from egovsim.catalog.loader import ServiceCatalog, load_yaml
from egovsim.catalog.models import FormField, Service, Strict, Texts
from egovsim.errors import CatalogError
from egovsim.iin import is_valid_number

# the namespaces of the chain's two e-documents: the citizen's signed request (the portal makes it,
# the provider's workstation checks its documents) and the provider's signed result or reasoned
# refusal (the workstation makes it, the cabinet takes it)
APPLICATION_NS = "urn:egovsim:portal:application"
RESULT_NS = "urn:egovsim:rshep:result"
MAX_DOCUMENT_BYTES = 2_000_000
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


class Choice(Strict):
    value: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Texts


class PortalField(FormField):
    choices: list[Choice] = Field(default_factory=list)


class DocumentSpec(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Texts
    required: bool = True
    max_bytes: int = MAX_DOCUMENT_BYTES


class ApplicationForm(Strict):
    service: str
    source: Literal["seed", "egovsim"]
    fields: list[PortalField] = Field(min_length=1)
    documents: list[DocumentSpec] = Field(default_factory=list)

    def field(self, field_id: str) -> PortalField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def document(self, document_id: str) -> DocumentSpec | None:
        return next((d for d in self.documents if d.id == document_id), None)

    def problems(self, values: dict[str, str], *, complete: bool) -> list[str]:
        """What is wrong with these values (unknown fields, bad formats; missing ones when
        ``complete``), in English, one line each."""
        out = [f"{k}: no such field" for k in values if self.field(k) is None]
        for f in self.fields:
            value = (values.get(f.id) or "").strip()
            if not value:
                if complete and f.required:
                    out.append(f"{f.id}: required")
                continue
            if len(value) > 2000:
                out.append(f"{f.id}: longer than 2000 characters")
            elif f.type == "iin" and not is_valid_number(value):
                out.append(f"{f.id}: not a valid IIN")
            elif f.type == "bin" and not is_valid_number(value):
                out.append(f"{f.id}: not a valid BIN")
            elif f.type == "number" and not value.isdigit():
                out.append(f"{f.id}: not a whole number")
            elif f.type == "choice" and value not in {c.value for c in f.choices}:
                out.append(f"{f.id}: one of {', '.join(c.value for c in f.choices)}")
            elif f.type == "consent" and value != "yes":
                out.append(f"{f.id}: 'yes' to consent")
            elif f.type == "date" and not _is_date(value):
                out.append(f"{f.id}: a date YYYY-MM-DD")
        return out


def _is_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@lru_cache(maxsize=1)
def load_forms() -> dict[str, ApplicationForm]:
    raw = load_yaml(files("egovsim").joinpath("data/forms.yaml").read_text(encoding="utf-8"))
    out: dict[str, ApplicationForm] = {}
    for item in raw["forms"]:
        try:
            form = ApplicationForm.model_validate(item)
        except ValidationError as exc:
            raise CatalogError(f"{item.get('service')}: {exc}", file="forms.yaml") from None
        out[form.service] = form
    return out


def form_for(services: ServiceCatalog, service_id: str) -> ApplicationForm | None:
    """The portal's form of a service received through the portal; None otherwise."""
    service = services.get(service_id)
    if service is None or not service.channels.portal.available:
        return None
    return load_forms().get(service_id)


def intake_form(services: ServiceCatalog, service_id: str) -> ApplicationForm | None:
    """The form of any service of the catalogue, whatever the channel; None if it has none."""
    if services.get(service_id) is None:
        return None
    return load_forms().get(service_id)


def missing_documents(form: ApplicationForm, handed_in: set[str]) -> list[str]:
    """The required documents of the form not among ``handed_in`` (ids), in the form's order."""
    return [d.id for d in form.documents if d.required and d.id not in handed_in]


RESULT_FIELDS = (
    "kind", "registrationNumber", "requestNumber", "decision", "refusalCode", "ground", "queueNumber", "area",
    "date", "provider/name", "provider/bin", "applicant/iin", "signedBy/name", "signedBy/iin",
)  # fmt: skip


def read_result(xml: str) -> dict[str, str]:
    """The provider's result e-document or reasoned refusal (``RESULT_NS``) as plain facts, keyed by
    the elements' paths (:data:`RESULT_FIELDS`); an element it lacks is an empty string."""
    doc = etree.fromstring(xml.encode("utf-8"))

    def text(path: str) -> str:
        return (doc.findtext("/".join(f"{{{RESULT_NS}}}{p}" for p in path.split("/"))) or "").strip()

    return {k: text(k) for k in RESULT_FIELDS}


def result_decision(service: Service | None, facts: dict[str, str], lang: str) -> str:
    """The decision in ``lang``: the service's result, or its refusal result, as the catalogue words
    them; the document's own (Kazakh) wording where the catalogue has none."""
    if service is not None and facts["kind"] == "result":
        return service.result.get(lang)
    if service is not None and facts["kind"] != "result" and service.refusal_result is not None:
        return service.refusal_result.get(lang)
    return facts["decision"]


def document_names(form: ApplicationForm | None, ids: list[str]) -> dict[str, str]:
    """The documents' names, listed in each language (a per-language refusal parameter: the
    ``{missing}`` of ``PACKAGE_INCOMPLETE``); an id the form does not know stands for itself."""
    specs = [form.document(i) if form else None for i in ids]
    return {lang: ", ".join(spec.name.get(lang) if spec else i for i, spec in zip(ids, specs, strict=True))
            for lang in ("kk", "ru", "en")}  # fmt: skip


def document_defects(form: ApplicationForm, documents: list[tuple[str, str, str]]) -> list[str]:
    """3-шарт on the attachments: (document id, declared sha256 hex, base64 content) each.
    A required document missing, an unknown one, or content not matching its digest is a defect."""
    defects = []
    present = {doc_id for doc_id, _, _ in documents}
    for spec in form.documents:
        if spec.required and spec.id not in present:
            defects.append(f"missing: {spec.id}")
    for doc_id, digest, content in documents:
        spec = form.document(doc_id)
        if spec is None:
            defects.append(f"not a document of this service: {doc_id}")
            continue
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            defects.append(f"unreadable: {doc_id}")
            continue
        if hashlib.sha256(raw).hexdigest() != digest.lower():
            defects.append(f"digest does not match the content: {doc_id}")
        elif not raw:
            defects.append(f"empty: {doc_id}")
    return defects
