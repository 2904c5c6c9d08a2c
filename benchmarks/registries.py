"""ГБД ФЛ registry benchmark: how fast a synthetic population is generated and loaded, how big it
is, and how fast a person is found by IIN, in both backends, in one run on one machine.

For each backend (a SQLite file in a new temporary folder; PostgreSQL in a new schema of
``--postgres-url``, dropped afterwards):

1. **generation alone** — :func:`mock_registries.bulk.generate_ranges` with the loader's form of
   the rows (tuples for SQLite, COPY text for PostgreSQL) on the same pool of ``--workers``
   processes, consumed and thrown away: the ceiling the writer could reach.
2. **generation + load** — :func:`mock_registries.bulk.load_persons`, as
   ``egovsim registries generate`` runs it: migrations, the collision check, generation on the
   pool and the writer (``executemany`` / ``COPY``) in one transaction. Persons per second end to
   end, and the database's size (SQLite file with WAL; PostgreSQL ``pg_total_relation_size``).
3. **direct lookups** — on one connection, ``--lookups`` calls of a prepared
   ``SELECT * FROM registry_persons WHERE iin = ?`` for random existing IINs and as many for
   absent ones (valid IINs of the same birth dates with serials below 1000, never generated),
   each timed alone with ``perf_counter_ns``; p50 and p99. Next to them, the same connection's
   ``SELECT 1`` round trip as the baseline (the ratio says what the lookup adds to a round trip).
4. **gateway lookups** — measured by ``benchmarks/gateway.py --service gbdfl --persons N``: it
   generates the population the same way, starts ``egovsim up`` on it and times
   ``GBDFL_UniversalServiceSync`` SOAP lookups (signed requests, signed answers) directly at the
   registry's endpoint and through the gateway, in one run.

Targets (the registries issue): 20 million persons loaded within 10 minutes on this machine
(≥ ~35,000 persons/s end to end); a direct IIN lookup's p99 under 1 ms.

    .venv/bin/python benchmarks/registries.py [--persons 1000000] [--lookups 5000] [--workers 2]
                                              [--backends sqlite,postgresql] [--postgres-url URL]

Nothing else should run meanwhile (two cores: the generators, the writer and PostgreSQL's own
backend share them). It writes its figures to ``benchmarks/results/registries.json`` too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from egovsim.iin import make_iin, parse_iin  # noqa: E402
from mock_registries.bulk import generate_ranges, load_persons  # noqa: E402
from mock_registries.generate import FIRST_SERIAL, PersonGenerator  # noqa: E402

LOOKUP = "SELECT * FROM registry_persons WHERE iin = {}"


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50_ms": ordered[len(ordered) // 2] / 1e6,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6,
        "mean_ms": sum(ordered) / len(ordered) / 1e6,
        "count": len(ordered),
    }


def sample_iins(seed: int, persons: int, lookups: int) -> tuple[list[str], list[str]]:
    """Random existing IINs, and as many absent ones (same birth dates, serials under 1000)."""
    rng = random.Random(12345)
    existing = rng.sample(PersonGenerator(seed, persons).iins(), min(lookups, persons))
    absent = []
    for iin in existing:
        facts = parse_iin(iin)
        while (candidate := make_iin(facts.birth_date, facts.sex, rng.randrange(FIRST_SERIAL))) is None:
            pass
        absent.append(candidate)
    return existing, absent


def time_calls(call: Any, args: list[Any]) -> list[int]:
    samples = []
    for a in args:
        t = time.perf_counter_ns()
        call(a)
        samples.append(time.perf_counter_ns() - t)
    return samples


def lookups_sqlite(path: str, existing: list[str], absent: list[str]) -> dict[str, Any]:
    con = sqlite3.connect(path)  # the sqlite3 module keeps the statement prepared (its cache)
    sql = LOOKUP.format("?")
    found = [con.execute(sql, (iin,)).fetchone() for iin in existing[:100]]  # warm-up, and a check
    assert all(found), "a generated IIN was not found"
    result = {
        "existing": percentiles(time_calls(lambda iin: con.execute(sql, (iin,)).fetchone(), existing)),
        "absent": percentiles(time_calls(lambda iin: con.execute(sql, (iin,)).fetchone(), absent)),
        "select_1": percentiles(time_calls(lambda _: con.execute("SELECT 1").fetchone(), existing)),
    }
    con.close()
    return result


def lookups_postgresql(url: str, existing: list[str], absent: list[str]) -> dict[str, Any]:
    engine = create_engine(url)
    raw = engine.raw_connection()
    conn: Any = raw.driver_connection  # psycopg: prepare=True makes a server-side prepared statement
    conn.autocommit = True
    cur = conn.cursor()
    sql = LOOKUP.format("%s")
    for iin in existing[:100]:
        assert cur.execute(sql, (iin,), prepare=True).fetchone(), "a generated IIN was not found"
    result = {
        "existing": percentiles(time_calls(lambda iin: cur.execute(sql, (iin,), prepare=True).fetchone(), existing)),
        "absent": percentiles(time_calls(lambda iin: cur.execute(sql, (iin,), prepare=True).fetchone(), absent)),
        "select_1": percentiles(time_calls(lambda _: cur.execute("SELECT 1", prepare=True).fetchone(), existing)),
    }
    raw.close()
    engine.dispose()
    return result


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    form = "rows" if backend == "sqlite" else "copy"
    started = time.perf_counter()
    generated = sum(n for n, _payload in generate_ranges(args.seed, args.persons, form=form, workers=args.workers))
    generation_s = time.perf_counter() - started
    assert generated == args.persons
    with tempfile.TemporaryDirectory(prefix="egovsim-registries-") as tmp:
        schema = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'egovsim.sqlite3'}"
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
        try:
            load = load_persons(url, args.persons, args.seed, workers=args.workers)
            existing, absent = sample_iins(args.seed, args.persons, args.lookups)
            if backend == "sqlite":
                lookups = lookups_sqlite(str(Path(tmp) / "egovsim.sqlite3"), existing, absent)
            else:
                lookups = lookups_postgresql(url, existing, absent)
        finally:
            if schema:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return {
        "persons": args.persons,
        "generation_s": round(generation_s, 2),
        "generation_rate": round(args.persons / generation_s),
        "load_s": round(load.seconds, 2),
        "load_rate": round(load.rate),
        "projected_20m_minutes": round(20_000_000 / load.rate / 60, 1),
        "size_bytes": load.size_bytes,
        "bytes_per_person": round(load.size_bytes / args.persons, 1),
        "lookups": lookups,
        "lookup_vs_select_1": round(lookups["existing"]["p50_ms"] / lookups["select_1"]["p50_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="generating processes")
    parser.add_argument("--lookups", type=int, default=5000, help="timed lookups of each kind")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("EGOVSIM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "registries.json")
    args = parser.parse_args()

    results: dict[str, Any] = {"persons": args.persons, "workers": args.workers, "cpus": os.cpu_count()}
    for backend in args.backends.split(","):
        print(f"{backend}: {args.persons:,} persons …", flush=True)
        results[backend] = r = run_backend(backend, args)
        lk = r["lookups"]
        print(
            f"  generation alone {r['generation_rate']:>9,}/s ({r['generation_s']} s)   "
            f"generation + load {r['load_rate']:>9,}/s ({r['load_s']} s; 20 M in ~{r['projected_20m_minutes']} min)"
        )
        print(f"  size {r['size_bytes'] / 2**20:,.0f} MiB ({r['bytes_per_person']} B/person)")
        for kind in ("existing", "absent", "select_1"):
            print(f"  {kind:9} p50 {lk[kind]['p50_ms']:.3f} ms  p99 {lk[kind]['p99_ms']:.3f} ms")
    print()
    print("| backend | generated/s | generated+loaded/s | 20 M in | size | lookup p50 | p99 | absent p99 | SELECT 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        r = results[backend]
        lk = r["lookups"]
        print(
            f"| {backend} | {r['generation_rate']:,} | {r['load_rate']:,} | {r['projected_20m_minutes']} min "
            f"| {r['size_bytes'] / 2**20:,.0f} MiB | {lk['existing']['p50_ms']:.3f} ms "
            f"| {lk['existing']['p99_ms']:.3f} ms | {lk['absent']['p99_ms']:.3f} ms "
            f"| {lk['select_1']['p50_ms']:.3f} ms |"
        )
    verdicts = {b: results[b]["projected_20m_minutes"] <= 10 for b in args.backends.split(",")}
    print("target 20 M in 10 min: " + ", ".join(f"{b} {'met' if ok else 'MISSED'}" for b, ok in verdicts.items()))
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
