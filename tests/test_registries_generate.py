"""The synthetic ГБД ФЛ population (mock_registries.generate) and its bulk loader (mock_registries.bulk).

Loads run on the backend of ``EGOVSIM_TEST_BACKEND`` (SQLite by default, or PostgreSQL).
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from egovsim.iin import Sex, parse_iin
from mock_registries import dictionaries
from mock_registries.bulk import PopulationExists, _copy_text, generate_ranges, load_persons
from mock_registries.generate import AS_OF, COLUMNS, FIRST_SERIAL, PersonGenerator, feminine_surname
from mock_registries.tables import persons as persons_table
from tests.conftest import database_for, egovsim_cmd

N = 5000


@pytest.fixture(scope="module")
def rows() -> list[tuple]:
    return PersonGenerator(7, N).rows()


def test_rows_have_the_columns_of_registry_persons_in_order(rows: list[tuple]) -> None:
    assert tuple(c.name for c in persons_table.columns) == COLUMNS
    assert {len(r) for r in rows} == {len(COLUMNS)}
    assert len(rows) == N


def test_same_seed_gives_the_same_rows_however_the_work_is_cut(rows: list[tuple]) -> None:
    generator = PersonGenerator(7, N)
    for size in (1, 333, 4999):
        assert [r for lo, hi in generator.chunks(size) for r in generator.rows(lo, hi)] == rows
    in_processes = [r for _n, chunk in generate_ranges(7, N, workers=2, chunk_rows=700) for r in chunk]
    assert in_processes == rows
    in_one = [r for _n, chunk in generate_ranges(7, N, workers=0, chunk_rows=2500) for r in chunk]
    assert in_one == rows


def test_another_seed_gives_other_persons(rows: list[tuple]) -> None:
    other = PersonGenerator(8, N).rows()
    assert len(other) == N
    assert sum(a != b for a, b in zip(rows, other, strict=True)) > N * 0.9


def test_every_iin_is_valid_unique_ascending_and_agrees_with_birth_date_and_sex(rows: list[tuple]) -> None:
    iins = [r[0] for r in rows]
    assert iins == sorted(iins)
    assert len(set(iins)) == N
    for r in rows:
        facts = parse_iin(r[0])
        assert facts.birth_date.isoformat() == r[6]
        assert str(int(facts.sex)) == r[7]
        assert int(facts.serial) > FIRST_SERIAL  # 0000–0999 stay free for personas and tests
    assert PersonGenerator(7, N).iins() == iins


def test_sexes_are_even_and_ages_follow_a_pyramid(rows: list[tuple]) -> None:
    sexes = Counter(r[7] for r in rows)
    assert abs(sexes["1"] - sexes["2"]) < N * 0.05
    years = [int(r[6][:4]) for r in rows]
    assert min(years) >= AS_OF.year - 100 and max(years) <= AS_OF.year
    assert sum(1935 <= y <= 2025 for y in years) > N * 0.99
    assert sum(y >= 2005 for y in years) > N * 0.3  # a young population


def test_names_take_the_forms_of_the_persons_sex(rows: list[tuple]) -> None:
    for r in rows:
        surname, patronymic, sex = r[1], r[3], r[7]
        male = ("ҰЛЫ", "ВИЧ", "ИЧ")
        female = ("ҚЫЗЫ", "ВНА", "ИЧНА")
        if sex == "1":
            assert patronymic.endswith(male) and not patronymic.endswith(female), r
            assert not surname.endswith(("ОВА", "ЕВА", "ИНА", "СКАЯ")), r
        else:
            assert patronymic.endswith(female), r
            # German and Korean surnames (ШМИДТ, ШИН) do not change
            assert r[8] in ("070", "080") or not surname.endswith(("ОВ", "ЕВ", "ИН", "СКИЙ")), r
        assert r[4].isascii() or set(r[4]) <= set("ÁǴŃÓÝÚ") | set(map(chr, range(128))), r
        assert r[4] and r[5] and r[4].upper() == r[4]
    kazakh = [r for r in rows if r[8] == "005"]
    assert any(r[3].endswith("ҰЛЫ") for r in kazakh) and any(r[3].endswith("ОВИЧ") for r in kazakh)
    assert any(not r[1].endswith(("ОВ", "ЕВ", "ИН", "ОВА", "ЕВА", "ИНА")) for r in kazakh)  # without a suffix
    assert feminine_surname("ИВАНОВ") == "ИВАНОВА" and feminine_surname("ВЫСОЦКИЙ") == "ВЫСОЦКАЯ"
    assert feminine_surname("СЕЙТҚАЛИ") == "СЕЙТҚАЛИ"


def test_coded_values_come_from_the_dictionaries(rows: list[tuple]) -> None:
    col = {name: i for i, name in enumerate(COLUMNS)}
    nationalities = Counter(r[col["nationality"]] for r in rows)
    assert set(nationalities) <= set(dictionaries.NATIONALITY)
    assert 0.65 < nationalities["005"] / N < 0.75 and nationalities.most_common(2)[1][0] == "001"
    assert {r[col["citizenship"]] for r in rows} <= set(dictionaries.CITIZENSHIP)
    assert sum(r[col["citizenship"]] == "398" for r in rows) > N * 0.98
    assert {r[col["birth_country"]] for r in rows} <= set(dictionaries.CITIZENSHIP)
    for r in rows:
        v = dict(zip(COLUMNS, r, strict=True))
        if v["birth_country"] == "398":
            assert dictionaries.REGION_OF_DISTRICT[v["birth_district"]] == v["birth_region"]
            assert dictionaries.DISTRICT_CITY[v["birth_district"]] == v["birth_city"]
        assert dictionaries.REGION_OF_DISTRICT[v["reg_district"]] == v["reg_region"]
        assert v["birth_date"] <= v["reg_begin_date"] <= (v["death_date"] or AS_OF.isoformat())
        assert v["gender"] in dictionaries.GENDER and v["life_status"] in dictionaries.LIFE_STATUS
        assert v["capable_status"] is None or v["capable_status"] in dictionaries.CAPABLE_STATUS
        if v["doc_type"] is None:  # under 16 (on AS_OF, or when they died): no identity document yet
            born, last = date.fromisoformat(v["birth_date"]), date.fromisoformat(v["death_date"] or AS_OF.isoformat())
            assert (last.year - born.year, last.month, last.day) < (16, born.month, born.day)
            continue
        assert v["doc_type"] in dictionaries.DOCUMENT_TYPE and v["doc_issuer"] in dictionaries.ISSUER
        assert v["doc_status"] in dictionaries.DOCUMENT_STATUS
        if v["doc_type"] == "002":
            assert len(v["doc_number"]) == 9 and v["doc_number"].isdigit()
        elif v["doc_type"] == "001":
            assert v["doc_number"][0] == "N" and len(v["doc_number"]) == 9 and v["doc_number"][1:].isdigit()
        begin, end = date.fromisoformat(v["doc_begin_date"]), date.fromisoformat(v["doc_end_date"])
        assert end.year - begin.year == 10 and begin <= AS_OF
        if v["life_status"] == "0":
            assert end > AS_OF and v["doc_status"] == "00"
    assert len({r[col["doc_number"]] for r in rows if r[col["doc_number"]]}) == sum(
        1 for r in rows if r[col["doc_number"]]
    )


def test_about_one_in_a_hundred_is_deceased_after_birth_and_before_the_day() -> None:
    rows = PersonGenerator(3, 50_000).rows()
    dead = [r for r in rows if r[26] == "1"]
    assert 0.007 < len(dead) / len(rows) < 0.013
    assert all(r[6] <= r[27] <= AS_OF.isoformat() for r in dead)
    assert all(r[27] is None for r in rows if r[26] == "0")
    assert 0 < sum(r[28] is not None for r in rows) < 0.004 * len(rows)
    assert 0 < sum(r[29] for r in rows) < 0.0015 * len(rows)
    assert sum(r[30] for r in rows) < 0.0005 * len(rows)


def test_values_need_no_escaping_in_copy_text(rows: list[tuple]) -> None:
    block = _copy_text(rows).decode()
    assert "\\" not in block.replace("\\N", "")
    assert block.count("\n") == N and all(line.count("\t") == len(COLUMNS) - 1 for line in block.splitlines())


def test_collisions_are_found_from_the_birth_dates_alone(rows: list[tuple]) -> None:
    generator = PersonGenerator(7, N)
    assert generator.collisions([rows[10][0], rows[-1][0], "900115300013"]) == [rows[10][0], rows[-1][0]]
    assert parse_iin("900115300013").sex == Sex.MALE  # a persona's IIN: serial 0001, never generated


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM registry_persons")).scalar_one())
    finally:
        engine.dispose()


def test_a_load_writes_every_person_and_a_lookup_by_iin_finds_the_row(tmp_path: Path, rows: list[tuple]) -> None:
    with database_for(tmp_path) as url:
        result = load_persons(url, N, seed=7, chunk_rows=1000)
        assert result.persons == N and result.size_bytes > 0
        assert _count(url) == N
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                wanted = rows[1234]
                found = conn.execute(persons_table.select().where(persons_table.c.iin == wanted[0])).one()
                assert found.surname == wanted[1] and found.birth_date == date.fromisoformat(wanted[6])
                assert found.missing is wanted[29] and found.patronymic == wanted[3]
                stored = [r[0] for r in conn.execute(text("SELECT iin FROM registry_persons ORDER BY iin"))]
                assert stored == [r[0] for r in rows]
        finally:
            engine.dispose()
        with pytest.raises(PopulationExists, match="nothing was written"):
            load_persons(url, N, seed=8)
        assert _count(url) == N


def test_the_cli_generates_and_a_second_run_is_refused(tmp_path: Path) -> None:
    with database_for(tmp_path) as url:
        args = [*egovsim_cmd("registries", "generate", "--persons", "2000", "--data-dir", str(tmp_path / "data"))]
        env = {**os.environ, "EGOVSIM_DATABASE_URL": url}
        first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert first.returncode == 0, first.stderr
        assert "persons written  2,000" in first.stdout and "rows/s" in first.stdout
        assert "database size" in first.stdout
        second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert second.returncode == 1
        assert "nothing was written" in second.stderr
        assert _count(url) == 2000
