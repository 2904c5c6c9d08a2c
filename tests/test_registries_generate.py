"""The synthetic ГБД ФЛ population (mock_registries.generate) and its bulk loader (mock_registries.bulk).

Loads run on the backend of ``EGOVSIM_TEST_BACKEND`` (SQLite by default, or PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from egovsim.app import RunningSimulator
from egovsim.iin import Sex, parse_iin
from egovsim.storage import Database
from egovsim.tables import SCHEMA as KERNEL_SCHEMA
from mock_registries import bulk, dictionaries
from mock_registries.bulk import LoadError, PopulationExists, _copy_text, generate_ranges, load_persons
from mock_registries.generate import AS_OF, COLUMNS, FIRST_SERIAL, PersonGenerator, feminine_surname
from mock_registries.tables import SCHEMA
from mock_registries.tables import persons as persons_table
from tests.conftest import ADMIN, BACKEND, database_for, egovsim_cmd

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


# -- beside a running simulator, and failures ------------------------------------------------------
def _generate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = egovsim_cmd("registries", "generate", "--workers", "0", *args)
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)


def _one_line_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and "│" not in run.stderr, run.stderr
    message = run.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    return message


async def test_a_load_runs_beside_the_running_simulator_which_keeps_answering(
    sim: RunningSimulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    # the app holds its database open (on SQLite: its WAL file), as `egovsim up` does
    assert (await http.get("/healthz")).status_code == 200
    url = sim.kernel.settings.effective_database_url
    load = asyncio.create_task(
        asyncio.to_thread(_generate, "--persons", "3000", "--seed", "5", "--data-dir", str(tmp_path / "gen"),
                          env={"EGOVSIM_DATABASE_URL": url})
    )  # fmt: skip
    while not load.done():  # the app answers while the load runs
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(0.05)
    run = await load
    assert run.returncode == 0, run.stderr
    assert "persons written  3,000" in run.stdout
    iin = PersonGenerator(5, 3000).iins()[1234]
    found = await http.get(f"/registries/api/persons/{iin}", headers=ADMIN)
    assert found.status_code == 200, found.text
    assert found.json()["iin"] == iin
    assert (await http.get("/healthz")).status_code == 200


def _fresh_tables(url: str) -> None:
    db = Database(bulk._async_url(url))
    try:
        db.migrate([KERNEL_SCHEMA, SCHEMA])
    finally:
        db.engine.sync_engine.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="a lock held on the SQLite file")
def test_a_database_that_stays_locked_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database_for(tmp_path) as url:
        _fresh_tables(url)
        monkeypatch.setattr(bulk, "BUSY_TIMEOUT_S", 0.3)
        other = sqlite3.connect(tmp_path / "egovsim.sqlite3", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer's transaction that does not end
            with pytest.raises(LoadError, match="stayed locked by another writer") as raised:
                load_persons(url, 500, workers=0)
            assert "\n" not in str(raised.value)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert _count(url) == 0
        assert load_persons(url, 500, workers=0).persons == 500  # once the lock is gone, the load runs
        with sqlite3.connect(tmp_path / "egovsim.sqlite3") as con:  # it left WAL for the load and came back
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_person_added_meanwhile_fails_the_load_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer (the admin API of a running simulator) adds a generated IIN after the check."""
    generated = PersonGenerator(4, 800).rows()[100]
    checked = bulk._refuse_collisions

    def check_then_insert(generator: PersonGenerator, existing: list[str]) -> None:
        checked(generator, existing)
        row = dict(zip(COLUMNS, generated, strict=True))
        for column in ("birth_date", "reg_begin_date", "doc_begin_date", "doc_end_date", "death_date"):
            row[column] = row[column] and date.fromisoformat(row[column])
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(persons_table.insert().values(**row))
        finally:
            engine.dispose()

    with database_for(tmp_path) as url:
        monkeypatch.setattr(bulk, "_refuse_collisions", check_then_insert)
        with pytest.raises(LoadError, match="another writer added a person of this load") as raised:
            load_persons(url, 800, seed=4, workers=0)
        assert "\n" not in str(raised.value)
        assert _count(url) == 1  # only the other writer's person


@pytest.mark.parametrize(
    ("database_url", "says"),
    [
        ("postgresql://someone:secret@127.0.0.1:1/nowhere", "cannot connect to the database"),
        ("postgresql://someone@127.0.0.1:notaport/nowhere", "cannot use the database URL"),
        ("sqlite://", "not an in-memory database"),
    ],
)
def test_a_bad_or_unreachable_database_url_fails_in_one_line(tmp_path: Path, database_url: str, says: str) -> None:
    run = _generate("--persons", "10", "--database-url", database_url, "--data-dir", str(tmp_path))
    message = _one_line_error(run)
    assert says in message and "secret" not in message


def test_too_many_persons_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match=r"too many persons: 200,000,000 .* at most about 18\d million"):
        PersonGenerator(0, 200_000_000)
    with pytest.raises(ValueError, match="too many persons"):
        PersonGenerator(0, 10**12)
    near = PersonGenerator(0, 185_000_000)  # fits: its fullest birth dates make their IINs
    biggest = sorted(range(near.units), key=lambda u: near.persons_in(u, u + 1))[-20:]
    for u in biggest:
        assert len(near.iins(u, u + 1)) == near.persons_in(u, u + 1)


def test_the_cli_refuses_too_many_persons_before_touching_the_database(tmp_path: Path) -> None:
    with database_for(tmp_path) as url:
        run = _generate("--persons", "200000000", "--data-dir", str(tmp_path), env={"EGOVSIM_DATABASE_URL": url})
        assert "too many persons" in _one_line_error(run)
        if BACKEND == "sqlite":
            assert not (tmp_path / "egovsim.sqlite3").exists()
