"""The catalogue over HTTP: 18 services with the seeds' Kazakh titles, refusals, 404 with a code."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from egovsim.app import build_app
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.errors import CatalogError
from egovsim.settings import Settings
from tests.seedtext import normalise, seed_text
from tests.test_catalog_seed_facts import walk


async def test_services_lists_all_18_with_kazakh_titles_identical_to_the_seeds(http: httpx.AsyncClient) -> None:
    body = (await http.get("/api/catalog/services")).json()
    assert body["count"] == 18 and len(body["services"]) == 18
    assert [s["number"] for s in body["services"]] == list(range(1, 19))
    for s in body["services"]:
        detail = (await http.get(s["href"])).json()
        files = {src["seed_file"][:3] for src in detail["legal_sources"]}
        assert any(normalise(s["titles"]["kk"]) in seed_text(f) for f in files), s["id"]


async def test_a_service_shows_its_steps_and_chains(http: httpx.AsyncClient) -> None:
    s = (await http.get("/api/catalog/services/foster_care_patronage_placement")).json()
    assert [st["duration"]["unit"] for st in s["routes"][0]["steps"]] == ["minutes"] + ["calendar_days"] * 4
    labels = [st["label"] for st in s["portal_chain"]["steps"]]
    assert labels[:4] == ["pre", "1-процесс", "1-шарт", "2-процесс"]
    assert s["portal_chain"]["steps"][1]["printed"] == "1-үдеріс"


async def test_an_unknown_service_is_404_with_a_code_and_three_languages(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/catalog/services/no_such_service", headers={"Accept-Language": "ru"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    p = r.json()
    assert p["code"] == "SERVICE_NOT_FOUND" and p["step"] == "api:catalog"
    assert "no_such_service" in p["messages"]["kk"] and p["message"] == p["messages"]["ru"]


async def test_refusal_catalogue_is_served_with_step_labels_and_texts(http: httpx.AsyncClient) -> None:
    body = (await http.get("/api/catalog/refusals")).json()
    codes = {e["code"]: e for e in body["refusals"]}
    assert codes["EDS_NOT_CONFIRMED"]["step"] == "portal:4-процесс"
    assert codes["HQO_DATA_NOT_OBTAINED"]["step"] == "hqo:4-процесс"
    assert all(set(e["texts"]) == {"kk", "ru", "en"} for e in body["refusals"])
    assert (await http.get("/api/catalog/refusals/NOPE")).json()["code"] == "REFUSAL_CODE_NOT_FOUND"


def test_every_code_a_service_names_is_in_the_refusal_catalogue() -> None:
    refusals = RefusalCatalog.load()
    for service in ServiceCatalog.load():
        for path, node in walk(service):
            if path.endswith(("refusal_code", ".code")) and isinstance(node, str):
                assert node in refusals, f"{service.id}.{path}: {node}"


def test_refusal_seed_quotes_are_verbatim_and_every_seed_refusal_has_a_code() -> None:
    refusals = RefusalCatalog.load()
    for e in refusals.entries:
        if e.seed and e.seed.quote:
            assert normalise(e.seed.quote) in seed_text(e.seed.file), e.code
    for code in ("PORTAL_AUTH_REFUSED", "EDS_NOT_CONFIRMED", "DOCS_DEFECTIVE", "HQO_DATA_NOT_OBTAINED",
                 "HQO_DOCS_DEFECTIVE", "PACKAGE_INCOMPLETE", "REASONED_REFUSAL", "RECEIPT_ACCEPTED"):  # fmt: skip
        assert code in refusals


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    src = ServiceCatalog.load().get("foster_care_patronage_placement")
    assert src is not None
    folder = tmp_path / "catalog"
    folder.mkdir()
    original = (Path(__file__).parents[1] / "egovsim/data/services/foster_care_patronage_placement.yaml").read_text(
        "utf-8"
    )
    assert old in original
    target = folder / "foster_care_patronage_placement.yaml"
    target.write_text(original.replace(old, new, 1), "utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("unit: calendar_days", "unit: fortnights", "overall_deadline.duration.unit"),
        ("    value: 27\n", "    value: -27\n", "routes[0].steps[2].duration.value"),
        ("number: 2\n", "number: two\n", "number"),
        ("checks_enis: false", "checks_enis: false\nbogus_field: 1", "bogus_field"),
    ],
)
def test_a_broken_catalogue_file_stops_start_up_naming_file_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    broken = _broken_copy(tmp_path, old, new)
    with pytest.raises(CatalogError) as info:
        build_app(Settings(data_dir=tmp_path / "d", catalog_dir=broken.parent))
    assert str(broken) in str(info.value) and f"field {field}:" in str(info.value)
    assert info.value.field == field


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, "id: foster_care_patronage_placement", "id: [unclosed")
    with pytest.raises(CatalogError, match=r"line \d+"):
        ServiceCatalog.load(broken.parent)
