"""Start-up benchmark: time from `egovsim up` to a healthy /healthz, and idle memory.

Baseline, measured in the same run the same way: a bare FastAPI app with one /healthz route
served by uvicorn. Reported as medians over N runs and as ratios to the baseline.
Targets (issue 2): healthy within 3 s, idle RSS under 250 MB.

    ./run python benchmarks/startup.py [--runs 5]    (or .venv/bin/python benchmarks/startup.py)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/healthz")
def healthz():
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(args: list[str], port: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds until /healthz answers 200, and RSS (MB) after one second idle."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args} exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        healthy = time.perf_counter() - start
        time.sleep(1.0)
        rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        return healthy, rss
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {
        "bare uvicorn app (baseline)": [],
        "egovsim up, new data folder": [],
        "egovsim up, existing data folder": [],
    }
    for _ in range(opts.runs):
        port = free_port()
        rows["bare uvicorn app (baseline)"].append(measure([sys.executable, "-c", BARE_APP, str(port)], port))
        with tempfile.TemporaryDirectory() as data:
            for label in ("egovsim up, new data folder", "egovsim up, existing data folder"):
                port = free_port()
                cmd = [sys.executable, "-m", "egovsim.cli", "up", "--port", str(port), "--data-dir", data]
                rows[label].append(measure(cmd, port))
    base_t = statistics.median(t for t, _ in rows["bare uvicorn app (baseline)"])
    base_m = statistics.median(m for _, m in rows["bare uvicorn app (baseline)"])
    result = {}
    print(f"| start-up ({opts.runs} runs, medians) | healthy after | × baseline | idle RSS | × baseline |")
    print("|---|---|---|---|---|")
    for label, samples in rows.items():
        t = statistics.median(s[0] for s in samples)
        m = statistics.median(s[1] for s in samples)
        result[label] = {
            "healthy_s": round(t, 3),
            "rss_mb": round(m, 1),
            "time_ratio": round(t / base_t, 2),
            "rss_ratio": round(m / base_m, 2),
        }
        print(f"| {label} | {t:.2f} s | {t / base_t:.1f} | {m:.0f} MB | {m / base_m:.1f} |")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "startup.json").write_text(json.dumps(result, indent=2))
    worst = max(v["healthy_s"] for k, v in result.items() if k.startswith("egovsim"))
    most = max(v["rss_mb"] for k, v in result.items() if k.startswith("egovsim"))
    print(f"target healthy within 3 s: {'met' if worst < 3 else 'MISSED'} ({worst:.2f} s)")
    print(f"target idle RSS under 250 MB: {'met' if most < 250 else 'MISSED'} ({most:.0f} MB)")


if __name__ == "__main__":
    main()
