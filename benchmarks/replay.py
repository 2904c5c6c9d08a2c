"""QA replay benchmark: the whole scenario library (``egovsim replay --all``), serially and with
worker processes, next to a baseline measured in the same run.

Baseline: the floor of the isolation every scenario gets, a simulator of its own started from
the template database and stopped again with nothing done (the same ``runner.simulator`` the
scenarios run in), times the number of scenarios. The ratio of the library's serial time to it
says what the scenarios' own work costs on top of isolation.

Also reported: making the template (the CA and every key a chain signs with; made once per seed
and egovsim version and then taken from the cache folder, so a first run pays it once).
Target (issue 8): the whole library within 30 s serial.

    ./run python benchmarks/replay.py [--workers 2] [--runs 1]   (or .venv/bin/python benchmarks/replay.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this folder comes first on the path, and its signing.py would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from egovsim.qa import runner  # noqa: E402
from egovsim.qa.scenario import library, load_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--runs", type=int, default=1, help="runs of each mode (the median is reported)")
    args = parser.parse_args()
    paths = library()
    seed = 7

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        template, made = runner.cached_template(seed, Path(cache))
        template_s = time.perf_counter() - t0
        assert made

        async def empty_simulators() -> float:
            begun = time.perf_counter()
            for path in paths:
                async with runner.simulator(template, load_scenario(path), seed):
                    pass
            return time.perf_counter() - begun

        baseline = statistics.median(asyncio.run(empty_simulators()) for _ in range(args.runs))
        serial_runs, parallel_runs = [], []
        for _ in range(args.runs):
            serial = runner.run(paths, seed=seed, template=template, diagrams=False)
            parallel = runner.run(paths, seed=seed, template=template, workers=args.workers, diagrams=False)
            assert serial["failed"] == parallel["failed"] == 0, "the library does not pass"
            serial_runs.append(serial["duration_s"])
            parallel_runs.append(parallel["duration_s"])
    serial_s, parallel_s = statistics.median(serial_runs), statistics.median(parallel_runs)
    n = len(paths)
    print(json.dumps({
        "scenarios": n,
        "cpus": os.cpu_count(),
        "template_s": round(template_s, 2),
        "baseline_empty_simulators_s": round(baseline, 2),
        "serial_s": round(serial_s, 2),
        "serial_per_scenario_ms": round(1000 * serial_s / n),
        "serial_vs_baseline": round(serial_s / baseline, 2),
        f"workers_{args.workers}_s": round(parallel_s, 2),
        "speedup_with_workers": round(serial_s / parallel_s, 2),
        "target_serial_s": 30,
        "meets_target": serial_s <= 30,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
