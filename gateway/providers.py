"""The providers (көрсетілетін қызметті беруші / услугодатель) that work at ЭҮАШ АЖО / АРМ РШЭП,
and their employees: ``gateway/data/providers.yaml``, validated against the service catalogue.

A broken file stops start-up with a :class:`~egovsim.errors.CatalogError` naming the file and the
field: a number with a wrong check digit, a service served by no provider or by two, a role a
service's route gives the provider that none of its employees holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from egovsim.catalog.loader import ServiceCatalog, _field_path, load_yaml
from egovsim.catalog.models import Strict, Texts
from egovsim.errors import CatalogError
from egovsim.iin import is_valid_number
from gateway.workflow import CENTRE_ROLES, WORKSTATION_ROLES, CentreRole, WorkstationRole

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Number = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


def default_providers_file() -> Path:
    return Path(__file__).parent / "data" / "providers.yaml"


def _check_digit(number: str) -> str:
    # IIN and BIN carry the same check digit (reference egov-interfaces.md §11, egovsim.pki).
    if not is_valid_number(number):
        raise ValueError(f"{number} fails the IIN/BIN check digit")
    return number


class Person(Strict):
    id: Id
    surname: str = Field(min_length=1)
    name: str = Field(min_length=1)
    patronymic: str | None = None
    iin: Number

    _iin_check_digit = field_validator("iin")(_check_digit)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


class Employee(Person):
    """An employee of a provider: who they are, the roles they hold, whether they sign results."""

    roles: list[WorkstationRole] = Field(min_length=1)
    signs_results: bool = False


class CentreEmployee(Person):
    """An employee of the State Corporation (ХҚО / ЦОН) in the roles its services' ХҚО routes name."""

    roles: list[CentreRole] = Field(min_length=1)


class Organisation(Strict):
    id: Id
    names: Texts
    bin: Number
    region: Texts

    _bin_check_digit = field_validator("bin")(_check_digit)


class StateCorporation(Organisation):
    """«Азаматтарға арналған үкімет» мемлекеттік корпорациясы / Госкорпорация «Правительство для
    граждан»: the ХҚО's successor, whose staff do the ХҚО routes' steps of the paper relay."""

    employees: list[CentreEmployee] = Field(min_length=1)


class Provider(Organisation):
    services: list[Id] = Field(min_length=1)
    employees: list[Employee] = Field(min_length=1)

    @model_validator(mode="after")
    def _someone_signs(self) -> Provider:
        # 7-процесс: the result is an e-document certified with the EDS of the provider's
        # authorised person, уәкілетті тұлға (seed 004, the portal chains; seed 003 likewise).
        if not any(e.signs_results for e in self.employees):
            raise ValueError("no employee signs results (signs_results: true)")
        return self


def _repeats(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


class ProvidersFile(Strict):
    providers: list[Provider] = Field(min_length=1)
    state_corporation: StateCorporation

    @model_validator(mode="after")
    def _unique(self) -> ProvidersFile:
        organisations: list[Provider | StateCorporation] = [*self.providers, self.state_corporation]
        employees: list[Person] = [e for o in organisations for e in o.employees]
        for what, values in (
            ("provider ids", [o.id for o in organisations]),
            ("BINs", [o.bin for o in organisations]),
            ("employee ids", [e.id for e in employees]),
            ("IINs", [e.iin for e in employees]),
            ("service ids", [s for p in self.providers for s in p.services]),
        ):
            if dupes := _repeats(values):
                raise ValueError(f"{what} repeat: {dupes}")
        return self


@dataclass(frozen=True)
class Providers:
    """The validated providers and the State Corporation, with the lookups the workstation needs."""

    providers: tuple[Provider, ...]
    state_corporation: StateCorporation

    def provider(self, provider_id: str) -> Provider:
        for p in self.providers:
            if p.id == provider_id:
                return p
        raise KeyError(provider_id)

    def provider_for(self, service_id: str) -> Provider:
        for p in self.providers:
            if service_id in p.services:
                return p
        raise KeyError(service_id)

    def employee(self, employee_id: str) -> Employee | CentreEmployee:
        return self._employment(employee_id)[1]

    def employer(self, employee_id: str) -> Provider | StateCorporation:
        return self._employment(employee_id)[0]

    def employees_with(self, provider_id: str, role: str) -> list[Employee]:
        return [e for e in self.provider(provider_id).employees if role in e.roles]

    def performers(self, provider_id: str, role: str) -> list[Employee | CentreEmployee]:
        """Who may complete a step of this role in a case of this provider: the State Corporation's
        staff in a ХҚО role, the provider's employees holding a role of the provider's own people,
        and any of the provider's employees for a step of someone outside both (the recipient, the
        rural akim) or of the provider as a whole, which is recorded at the workstation."""
        if role in CENTRE_ROLES:
            return [e for e in self.state_corporation.employees if role in e.roles]
        if role in WORKSTATION_ROLES:
            return list(self.employees_with(provider_id, role))
        return list(self.provider(provider_id).employees)

    def signers(self, provider_id: str) -> list[Employee]:
        return [e for e in self.provider(provider_id).employees if e.signs_results]

    def _employment(self, employee_id: str) -> tuple[Provider | StateCorporation, Employee | CentreEmployee]:
        organisations: list[Provider | StateCorporation] = [*self.providers, self.state_corporation]
        for o in organisations:
            for e in o.employees:
                if e.id == employee_id:
                    return o, e
        raise KeyError(employee_id)


def load_providers(catalog: ServiceCatalog, path: Path | None = None) -> Providers:
    """Read and validate the providers file against ``catalog``; a problem raises CatalogError."""
    path = path or default_providers_file()
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
        parsed = ProvidersFile.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}", file=str(path)) from exc
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first["loc"])
        raise CatalogError(f"{path}: field {field}: {first['msg']}", file=str(path), field=field) from exc
    providers = Providers(tuple(parsed.providers), parsed.state_corporation)
    _check_against(catalog, providers, str(path))
    return providers


def _check_against(catalog: ServiceCatalog, providers: Providers, file: str) -> None:
    known = {s.id for s in catalog}
    mapped = {s for p in providers.providers for s in p.services}
    if unknown := sorted(mapped - known):
        raise CatalogError(f"{file}: services not in the catalogue: {unknown}", file=file, field="services")
    if unserved := sorted(known - mapped):
        raise CatalogError(f"{file}: services no provider serves: {unserved}", file=file, field="services")
    centre = {r for e in providers.state_corporation.employees for r in e.roles}
    for provider in providers.providers:
        held = {r for e in provider.employees for r in e.roles} | centre
        for service_id in provider.services:
            service = catalog.get(service_id)
            assert service is not None  # every mapped id is known (checked above)
            # Every route's steps by the provider's own people or the State Corporation's need someone
            # holding the role; steps of the recipient, the rural akim or the provider as a whole do not.
            for route in service.routes:
                for step in route.steps:
                    role = step.actor.role
                    if role in WORKSTATION_ROLES | CENTRE_ROLES and role not in held:
                        raise CatalogError(
                            f"{file}: provider {provider.id}: no employee holds role {role!r}, "
                            f"needed by {service_id} {route.id}:{step.n}",
                            file=file,
                            field="employees",
                        )
