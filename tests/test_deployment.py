"""Deployments as a user runs them: `egovsim up`, the compose file's `egovsim serve` targets,
the CLI's error messages, and the wheel that the Dockerfile installs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from egovsim.cli import app as cli
from egovsim.components import REGISTRY
from egovsim.settings import Settings
from tests.conftest import ADMIN, ADMIN_TOKEN, egovsim_cmd, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
EGOVSIM_SERVICES = {name: svc for name, svc in COMPOSE["services"].items() if name != "postgres"}
SETTING_ENV_NAMES = {f"EGOVSIM_{name.upper()}" for name in Settings.model_fields}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out.decode(errors="replace")


# -- docker-compose.yml ---------------------------------------------------------------------------
def test_compose_runs_one_serve_target_per_component_plus_postgres() -> None:
    assert "postgres" in COMPOSE["services"]
    targets = {}
    for name, svc in EGOVSIM_SERVICES.items():
        command = svc["command"]
        assert command[:2] == ["egovsim", "serve"], name
        targets[name] = command[2]
    assert sorted(targets.values()) == sorted(REGISTRY), "every component has exactly one service"
    for name, svc in EGOVSIM_SERVICES.items():
        assert svc["healthcheck"]["test"], name
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_compose_env_name_is_a_real_setting() -> None:
    for name, svc in EGOVSIM_SERVICES.items():
        unknown = {k for k in svc["environment"] if k.startswith("EGOVSIM_")} - SETTING_ENV_NAMES
        assert not unknown, f"{name}: {unknown}"
        assert svc["environment"]["EGOVSIM_DATABASE_URL"].startswith("postgresql")


def compose_env_here(svc: dict, ports: dict[str, int], database_url: str) -> dict[str, str]:
    """The compose environment, with compose's host names and ports swapped for this machine's."""
    env = {k: str(v) for k, v in svc["environment"].items()}
    env["EGOVSIM_DATABASE_URL"] = database_url
    env["EGOVSIM_HOST"] = "127.0.0.1"
    env["EGOVSIM_ADMIN_TOKEN"] = ADMIN_TOKEN
    for other, port in ports.items():
        key = f"EGOVSIM_{other.upper()}_URL"
        if key in env:
            env[key] = f"http://127.0.0.1:{port}"
    return env


def test_each_compose_service_starts_with_the_settings_compose_gives_it(database_url: str, tmp_path: Path) -> None:
    targets = {name: svc["command"][2] for name, svc in EGOVSIM_SERVICES.items()}
    ports = {targets[name]: free_port() for name in EGOVSIM_SERVICES}
    procs = {}
    try:
        for name, svc in EGOVSIM_SERVICES.items():  # all at once, as compose does: migrations must not race
            env = compose_env_here(svc, ports, database_url)
            env["EGOVSIM_DATA_DIR"] = str(tmp_path / name)
            env["EGOVSIM_PUBLIC_URL"] = f"http://127.0.0.1:{ports[targets[name]]}"
            procs[name] = start([*egovsim_cmd("serve", targets[name]), "--port", str(ports[targets[name]])], env)
        for name, proc in procs.items():
            wait_healthy(f"http://127.0.0.1:{ports[targets[name]]}/healthz", proc, timeout=30)
        # the clock is shared: frozen through the kernel, every other process reads the same instant
        kernel = f"http://127.0.0.1:{ports['kernel']}"
        r = httpx.post(f"{kernel}/api/catalog/clock/freeze", json={"at": "2026-03-20T10:00:00+05:00"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        time.sleep(float(EGOVSIM_SERVICES["gateway"]["environment"]["EGOVSIM_CLOCK_SYNC_SECONDS"]) + 0.3)
        for component, port in ports.items():
            health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
            assert health["simulated_time"] == "2026-03-20T10:00:00+05:00", component
            assert list(health["components"]) == [component]
        assert httpx.get(f"http://127.0.0.1:{ports['gateway']}/rshep/healthz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ports['gateway']}/api/catalog/services").status_code == 404
    finally:
        outputs = {name: stop(p) for name, p in procs.items()}
    for name, (code, out) in outputs.items():
        assert code == 0, f"{name} exited {code}:\n{out}"


# -- egovsim up ------------------------------------------------------------------------------------------
def test_up_starts_everything_prints_the_urls_and_stops_cleanly_keeping_its_data(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    env = {"EGOVSIM_ADMIN_TOKEN": ADMIN_TOKEN}
    if not database_url.startswith("sqlite"):
        env["EGOVSIM_DATABASE_URL"] = database_url
    args = [*egovsim_cmd("up", "--port", str(port), "--data-dir", str(tmp_path / "data"))]
    base = f"http://127.0.0.1:{port}"
    first = start(args, env)
    try:
        wait_healthy(f"{base}/healthz", first)
        services = httpx.get(f"{base}/api/catalog/services").json()
        assert services["count"] == 18
        httpx.post(f"{base}/api/catalog/clock/freeze", json={"at": "2026-05-07T09:00:00+05:00"}, headers=ADMIN)
    finally:
        code, out = stop(first)
    assert code == 0, out
    for mount in ("/api/catalog/", "/nca/", "/shep/", "/rshep/", "/registries/", "/portal/", "/hqo/", "/cabinet/"):
        assert f"{base}{mount}" in out
    assert "egovsim stopped." in out and "Traceback" not in out
    assert "senders gbdfl, hqo, portal, provider (password Qwerty12" in " ".join(out.split()), out
    index = json.loads((tmp_path / "data" / "personas.json").read_text(encoding="utf-8"))
    people = {p["id"]: p for p in index["personas"]}
    assert people["aset"]["gbdfl"] == "alive" and people["kairat"]["gbdfl"] == "deceased 2024-03-15"
    assert people["ghost"]["gbdfl"].startswith("absent")
    assert {w["registryNumber"]: w["status"] for w in people["bolat"]["powersOfAttorney"]} == {
        "N2025-000101": "ACTIVE", "N2021-000202": "EXPIRED", "N2024-000303": "REVOKED",
    }  # fmt: skip
    for p in people.values():
        assert p["password"] == "Qwerty12" and {k["kind"] for k in p["keys"]} == {"AUTH", "SIGN"}
        assert all(Path(k["file"]).is_file() and k["certificate"]["status"] for k in p["keys"])
    assert {s["senderId"] for s in index["gatewaySenders"]} == {"gbdfl", "hqo", "portal", "provider"}

    second = start(args, env)
    try:
        wait_healthy(f"{base}/healthz", second)
        clock = httpx.get(f"{base}/api/catalog/clock").json()
        senders = httpx.get(f"{base}/shep/api/senders", headers=ADMIN).json()["senders"]
    finally:
        code, out = stop(second)
    assert clock["now"] == "2026-05-07T09:00:00+05:00" and clock["mode"] == "frozen"
    assert {s["senderId"] for s in senders} >= {"portal", "hqo"} and all(s["certificateSerial"] for s in senders)
    assert code == 0, out


def test_up_with_a_broken_catalogue_exits_with_the_file_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    good = (ROOT / "egovsim/data/services/oralman_status.yaml").read_text(encoding="utf-8")
    (folder / "oralman_status.yaml").write_text(good.replace("checks_enis: false", "checks_enis: perhaps"), "utf-8")
    proc = subprocess.run(
        [*egovsim_cmd("up", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"))],
        env={**os.environ, "EGOVSIM_CATALOG_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "oralman_status.yaml" in proc.stderr and "field checks_enis" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- CLI errors ---------------------------------------------------------------------------------------
runner = CliRunner()


def test_wrong_clock_commands_get_a_clear_error_without_a_server() -> None:
    result = runner.invoke(cli, ["clock", "advance", "banana"])
    assert result.exit_code == 2 and "cannot read 'banana' as a duration" in result.output
    result = runner.invoke(cli, ["clock", "set", "tomorrow"])
    assert result.exit_code == 2 and "ISO 8601" in result.output
    result = runner.invoke(cli, ["clock", "speed", "0"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["clock", "rewind"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_clock_commands_say_when_egovsim_is_not_running() -> None:
    result = runner.invoke(cli, ["clock", "show", "--url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1 and "not reachable" in result.output


def test_catalog_commands_list_and_show() -> None:
    listed = runner.invoke(cli, ["catalog", "list", "--json"])
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 18
    assert runner.invoke(cli, ["catalog", "list", "--lang", "kk"]).exit_code == 0
    shown = runner.invoke(cli, ["catalog", "show", "foster_care_patronage_placement", "--json"])
    steps = json.loads(shown.output)["routes"][0]["steps"]
    assert shown.exit_code == 0 and steps[2]["duration"]["value"] == 27
    table = runner.invoke(cli, ["catalog", "show", "foster_care_patronage_placement", "--lang", "kk"])
    assert table.exit_code == 0 and "4-үдеріс" in table.output
    missing = runner.invoke(cli, ["catalog", "show", "nope"])
    assert missing.exit_code == 1 and "SERVICE_NOT_FOUND" in missing.output


def test_serve_refuses_an_unknown_component() -> None:
    result = runner.invoke(cli, ["serve", "mainframe"])
    assert result.exit_code == 2 and "unknown component" in result.output


# -- packaging ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_wheel_the_dockerfile_installs_carries_data_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("egovsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    services = [n for n in names if n.startswith("egovsim/data/services/") and n.endswith(".yaml")]
    assert len(services) == 18
    for needed in ("egovsim/data/refusals.yaml", "egovsim/migrations/env.py", "egovsim/migrations/script.py.mako",
                   "egovsim/kernel_migrations/k0001_initial.py", "signing/migrations/s0001_initial.py",
                   "egovsim/data/personas.yaml", "signing/__init__.py", "gateway/router.py",
                   "portal/__init__.py", "cabinet/__init__.py", "mock_registries/__init__.py",
                   "gateway/migrations/g0001_initial.py", "gateway/data/providers.yaml",
                   "mock_registries/migrations/r0001_initial.py", "mock_registries/data/names.yaml"):  # fmt: skip
        assert needed in names, needed
    assert len([n for n in names if n.startswith("egovsim/data/seeds/")]) == 5
