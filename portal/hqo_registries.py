"""3-процесс and 1-шарт of the ХҚО chain (regulation 004): the operator workstation asks ЖТ МДҚ /
ГБД ФЛ for the applicant and, for a representative, БНАЖ / ЕНИС for the notarised power of attorney,
through the gateway's SyncChannel as the ХҚО's own sender (``hqo_ais``), and reads the answers.

Condition 1 is made precise: each reason the data "cannot be obtained" (4-процесс) has its own code
(``HQO_PERSON_NOT_FOUND``, ``HQO_POA_EXPIRED``…). The power of attorney is judged from everything
ЕНИС holds for the representative, so that "none at all" and "only another grantor's" differ:

1. none of the representative's powers, or none with the registry number the operator typed in:
   ``HQO_POA_NOT_FOUND``;
2. none granted by the applicant: ``HQO_POA_OTHER_GRANTOR``;
3. among the applicant's: one in force that covers the service passes; else one in force (that does
   not cover it) gives ``HQO_POA_SCOPE``; else revoked, not yet valid, expired, in that order.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from egovsim.errors import CodedError
from portal.gbdfl import GBDFL_BIN, SERVICE_ID, person_query, person_status
from portal.shep import SEND_ERRORS, PortalSender

log = logging.getLogger("egovsim.hqo")

ENIS_SERVICE_ID = "ENIS_PowerOfAttorneySync"
ENIS_BIN = "210540003570"  # ЕНИС's system certificate (mock_registries)
GBDFL_NAME = "ГБД ФЛ (ЖТ МДҚ)"
ENIS_NAME = "ЕНИС (БНАЖ)"
# what stops a power of attorney of the applicant, worst last (the best reason is reported)
_POA_STATES = (("REVOKED", "HQO_POA_REVOKED"), ("NOT_YET_VALID", "HQO_POA_NOT_YET_VALID"),
               ("EXPIRED", "HQO_POA_EXPIRED"))  # fmt: skip


@dataclass
class DataCheck:
    """What 3-процесс obtained: the applicant's record and the power of attorney that was found."""

    person: dict[str, str] = field(default_factory=dict)
    power: dict[str, str] | None = None
    enis_queried: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "powerOfAttorney": self.power, "enisQueried": self.enis_queried}


def _text(element: etree._Element | None, path: str) -> str:
    return ((element.findtext(path) if element is not None else None) or "").strip()


class RegistryChecks:
    def __init__(self, sender: PortalSender) -> None:
        self.sender = sender
        self.kernel = sender.kernel

    async def _ask(self, service_id: str, data: etree._Element, business_bin: str, name: str) -> etree._Element:
        try:
            return await self.sender.ask(service_id, data, business_bin)
        except SEND_ERRORS as exc:
            log.warning("%s could not be asked: %s", name, exc)
            raise CodedError("HQO_REGISTRY_UNAVAILABLE", f"{name}: {exc}"[:300], registry=name) from exc

    async def person(self, iin: str) -> dict[str, str]:
        """The applicant in ГБД ФЛ, alive; else HQO_PERSON_NOT_FOUND / _DECEASED / REGISTRY_UNAVAILABLE."""
        data = await self._ask(SERVICE_ID, person_query(self.sender, iin), GBDFL_BIN, GBDFL_NAME)
        try:
            status = person_status(data, iin)
        except RuntimeError as exc:
            raise CodedError("HQO_REGISTRY_UNAVAILABLE", str(exc), registry=GBDFL_NAME) from exc
        if status == "absent":
            raise CodedError("HQO_PERSON_NOT_FOUND", f"ГБД ФЛ holds no person with IIN {iin}")
        if status == "deceased":
            raise CodedError("HQO_PERSON_DECEASED", f"ГБД ФЛ records the person with IIN {iin} as deceased")
        person = data.find("persons/person")
        return {
            "iin": iin,
            "surname": _text(person, "surname"),
            "name": _text(person, "name"),
            "patronymic": _text(person, "patronymic"),
            "birthDate": _text(person, "birthDate"),
        }

    async def power_of_attorney(
        self, applicant_iin: str, representative_iin: str, service_id: str, registry_number: str | None
    ) -> dict[str, str]:
        """The representative's power of attorney from the applicant for this service, in force."""
        data = etree.Element("data")
        for name, value in (("messageId", str(uuid.uuid4())), ("messageDate", self.kernel.clock.now().isoformat()),
                            ("senderCode", self.sender.sender_id), ("representativeIin", representative_iin),
                            ("serviceId", service_id)):  # fmt: skip
            etree.SubElement(data, name).text = value
        answer = await self._ask(ENIS_SERVICE_ID, data, ENIS_BIN, ENIS_NAME)
        code = _text(answer, "messageResult/code")
        if code not in ("00000", "00001"):
            raise CodedError("HQO_REGISTRY_UNAVAILABLE", f"ЕНИС answered {code!r}", registry=ENIS_NAME)
        powers = [p for p in answer.iterfind("powersOfAttorney/powerOfAttorney")
                  if _text(p, "representative/iin") == representative_iin]  # fmt: skip
        if registry_number:
            powers = [p for p in powers if _text(p, "registryNumber") == registry_number]
        if not powers:
            which = f" numbered {registry_number}" if registry_number else ""
            raise CodedError("HQO_POA_NOT_FOUND", f"ЕНИС holds no power of attorney{which} of {representative_iin}")
        own = [p for p in powers if _text(p, "grantor/iin") == applicant_iin]
        if not own:
            grantors = sorted({_text(p, "grantor/iin") for p in powers})
            raise CodedError("HQO_POA_OTHER_GRANTOR", f"granted by {', '.join(grantors)}, not by {applicant_iin}")
        active = [p for p in own if _text(p, "status/code") == "ACTIVE"]
        covering = [p for p in active if _text(p, "coversService") == "true"]
        if covering:
            return _power_json(covering[0])
        if active:
            raise CodedError("HQO_POA_SCOPE", f"{_text(active[0], 'registryNumber')} does not cover {service_id}")
        states = {_text(p, "status/code"): p for p in own}
        for state, refusal in _POA_STATES:
            if state in states:
                p = states[state]
                raise CodedError(refusal, f"{_text(p, 'registryNumber')}: {state} (valid {_text(p, 'validFrom')} "
                                          f"to {_text(p, 'validTo')})")  # fmt: skip
        raise CodedError("HQO_REGISTRY_UNAVAILABLE", "ЕНИС gave no status the ХҚО knows", registry=ENIS_NAME)


def _power_json(p: etree._Element) -> dict[str, str]:
    return {
        "registryNumber": _text(p, "registryNumber"),
        "registrationDate": _text(p, "registrationDate"),
        "grantor": _text(p, "grantor/name"),
        "representative": _text(p, "representative/name"),
        "notary": _text(p, "notary/fullName"),
        "validFrom": _text(p, "validFrom"),
        "validTo": _text(p, "validTo"),
    }
