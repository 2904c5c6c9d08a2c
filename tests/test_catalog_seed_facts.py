"""The catalogue agrees with the Kazakh seed texts: titles, quotes, and every step duration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.models import Duration, SeedRef, Service
from tests.seedtext import durations_in, normalise, qualifier_in, seed_text, seeds_dir

SEED_SERVICES = {
    "visitation_permit_deprived_parents", "foster_care_patronage_placement",
    "preschool_queue_registration", "school_certificate_duplicate", "externship_study_permit",
    "pmpk_examination_consultation", "developmental_rehab_social_adaptation",
    "disabled_child_family_consultation", "semipalatinsk_victim_registration_compensation",
    "disability_prosthetic_orthopaedic_docs", "disability_surdo_typhlo_hygiene_means",
    "disability_personal_assistant_sign_language_docs", "disability_wheelchair_provision",
    "disability_sanatorium_treatment", "local_social_assistance_assignment",
    "disabled_child_home_education_compensation", "foreign_labour_permit", "oralman_status",
}  # fmt: skip

CATALOG = ServiceCatalog.load()


def walk(node: object, path: str = "") -> Iterator[tuple[str, object]]:
    yield path, node
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from walk(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")


def durations(service: Service) -> list[tuple[str, Duration]]:
    return [(p, n) for p, n in walk(service) if isinstance(n, Duration)]


def test_catalogue_holds_the_18_services_of_the_seeds() -> None:
    assert {s.id for s in CATALOG} == SEED_SERVICES
    assert sorted(s.number for s in CATALOG) == list(range(1, 19))


def test_vendored_seeds_are_identical_to_the_shared_originals() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    ours = {p.name: p.read_bytes() for p in seeds_dir().glob("*.txt")}
    theirs = {p.name: p.read_bytes() for p in shared.glob("*.txt")}
    assert ours == theirs


@pytest.mark.parametrize("service", CATALOG.services, ids=lambda s: s.id)
def test_kazakh_title_is_exactly_as_in_the_seed(service: Service) -> None:
    files = {src.seed_file[:3] for src in service.legal_sources}
    assert any(normalise(service.titles.kk) in seed_text(f) for f in files), service.titles.kk


@pytest.mark.parametrize("service", CATALOG.services, ids=lambda s: s.id)
def test_every_quote_is_verbatim_seed_text(service: Service) -> None:
    refs = [(p, n) for p, n in walk(service) if isinstance(n, SeedRef) and n.quote]
    assert refs, "a service cites the seed"
    missing = [p for p, ref in refs if normalise(ref.quote or "") not in seed_text(ref.file)]
    assert not missing, f"quotes not found in the seed: {missing}"


@pytest.mark.parametrize("service", CATALOG.services, ids=lambda s: s.id)
def test_every_step_duration_and_unit_is_the_seeds(service: Service) -> None:
    found = durations(service)
    assert found or not any(r.steps for r in service.routes)
    for path, d in found:
        assert d.source.quote, f"{path}: a duration quotes the seed words it comes from"
        quote = normalise(d.source.quote)
        in_seed = {(x.value, x.unit) for x in durations_in(quote)}
        assert (d.value, d.unit.value) in in_seed, f"{path}: {d.value} {d.unit} not in seed words {quote!r} ({in_seed})"
        if d.max_value is not None:
            assert any(x.value == d.max_value for x in durations_in(quote)) or str(d.max_value) in quote, path
        elif d.qualifier is not None:
            assert qualifier_in(quote, d.qualifier.value), f"{path}: qualifier {d.qualifier} not in {quote!r}"


def test_foster_care_steps_are_30_minutes_then_1_27_1_1_calendar_days() -> None:
    steps = CATALOG.get("foster_care_patronage_placement").route("provider").steps  # type: ignore[union-attr]
    assert [(s.duration.value, s.duration.unit.value) for s in steps if s.duration] == [
        (30, "minutes"), (1, "calendar_days"), (27, "calendar_days"), (1, "calendar_days"), (1, "calendar_days"),
    ]  # fmt: skip
