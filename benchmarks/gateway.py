"""Gateway benchmark: SyncChannel round trips per second and their latency, next to the same
provider called on its own, on one server in one run.

The server is the whole simulator in one process, as ``egovsim up`` runs it (a new data folder,
a free port). Set up through the public API only: a system certificate for a client system from
the НУЦ (``POST /nca/api/certificates``, profile ``system``), the client registered as a gateway
sender with that certificate (``POST /shep/api/senders``) and a route ``EGOVSIM_ECHO`` →
``component:gateway:/shep/diag/echo`` with the transport signature required
(``POST /shep/api/routes``). The echo provider (``gateway/echo.py``) answers ``SendMessage`` with
the request's own ``data`` (a lookup that finds what it was asked), signed with the gateway's key.

Measured, one after the other, with the same load client:

1. **bare** — the client POSTs its signed ``SendMessage`` straight to the provider,
   ``/shep/diag/echo``: the server parses it, builds the answer and signs it.
2. **gateway** — the same kind of request to ``/shep/bip-sync-wss-gost/``: the gateway reads it,
   authenticates the sender, checks the transport signature (condition 2: signature, chain,
   validity, revocation from a warm OCSP cache) and that it is the sender's certificate, signs the
   request with its own key and forwards it to the provider (in-process HTTP), checks the
   provider's signed answer the same way, re-signs it, journals the exchange and answers.
3. **fast-lane floor** (context) — a pre-produced OCSP answer (``POST /nca/ocsp/``, no nonce):
   what one request costs this server when it does next to no work.

In 1 and 2 the client checks every answer: HTTP 200, the gateway's signature (``verify_wsse``),
``SCSS001`` and ``correlationId`` = its ``messageId``. Client-side signing is not counted:
every client process signs its pool of distinct requests (distinct ``messageId``) before the
timed phases and only sends during them (the pool is cycled if a phase outruns it; the server
keeps nothing per ``messageId`` that a repeat would hit). Latency is from the first byte sent to
the last byte of the answer received; the client's verification follows, between requests.

The load client is ``--processes`` processes of ``--threads`` threads, one keep-alive connection
each (default 2 × 4). Each phase has ``--warmup`` seconds of load that are not counted, then
``--seconds`` measured; bare and gateway alternate for ``--rounds`` rounds and each figure is the
median over the rounds, the ratio the median of the rounds' own ratios (a bare and a gateway phase
of one round run seconds apart, so they share the machine's conditions).

The client must not be what limits the figures, and nothing else may run meanwhile: the report
gives the CPU the client processes used (per round trip and per process), the server's (with any
process it started) and its event-loop thread's busy share, what every other process on the
machine used (a warning names the disturbed rounds) and what stayed idle. On this project's 2-core
machine the client processes are busy ~20 % of a core each in the bare phase, ~0.5 core stays idle,
and more connections do not raise either rate: the server is the limit (its one interpreter lock,
shared by the event loop and the signing threads, rather than a core).

Target (the gateway issue): the gateway's round trips ≥ 30 % of the bare endpoint's.

    .venv/bin/python benchmarks/gateway.py [--seconds 10] [--warmup 2] [--rounds 3]
                                           [--processes 2] [--threads 4] [--no-floor]
                                           [--profile DIR]   (py-spy raw stacks of the server)

It writes its figures to ``benchmarks/results/gateway.json`` too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from statistics import median

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_TOKEN = "benchmark-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GATEWAY_BIN = "070340001000"  # the gateway operator's BIN, gateway.keys.GATEWAY_BIN
SYNC_PATH = "/shep/bip-sync-wss-gost/"
ECHO_PATH = "/shep/diag/echo"
OCSP_PATH = "/nca/ocsp/"
SERVICE_ID = "EGOVSIM_ECHO"
SENDER_ID = "benchclient"
PASSWORD = "bench-sender-password-1"
CLIENT_BIN = "180440001235"
# a ГБД ФЛ-style lookup: who is this IIN
LOOKUP = (
    "<data><request><iin>900115300013</iin><requestType>PERSON_INFO</requestType>"
    "<requesterBin>180440001235</requesterBin><consent>true</consent></request></data>"
)


@dataclass(frozen=True)
class Service:
    """What is measured: a provider endpoint, called directly (bare) and through its route."""

    service_id: str
    bare_path: str
    route: dict[str, object] | None  # added by the benchmark; None: the simulator routes it itself
    label: str


ECHO = Service(
    SERVICE_ID, ECHO_PATH,
    {"serviceId": SERVICE_ID, "target": f"component:gateway:{ECHO_PATH}", "transportSignature": True,
     "title": "EGOVSIM_ECHO"},
    "echo: parse, answer, sign",
)  # fmt: skip
# ГБД ФЛ (mock_registries/): a person looked up by IIN in the registry's table, the answer data
# business-signed and the envelope transport-signed by the registry's own system certificate
GBDFL = Service(
    "GBDFL_UniversalServiceSync",
    "/registries/shep/gbdfl",
    None,
    "ГБД ФЛ: check the gateway's signature, look up, sign data and envelope",
)
SERVICES = {"echo": ECHO, "gbdfl": GBDFL}


def lookup_data(service: Service, iin: str) -> str:
    if service is ECHO:
        return LOOKUP
    return (
        f"<data><messageId>{uuid.uuid4()}</messageId><messageDate>{datetime.now().astimezone().isoformat()}"
        f"</messageDate><senderCode>{SENDER_ID}</senderCode><iin>{iin}</iin></data>"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server ---------------------------------------------------------------------------------
def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EGOVSIM_ADMIN_TOKEN": ADMIN_TOKEN}
    server = subprocess.Popen(
        [sys.executable, "-m", "egovsim.cli", "up", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"egovsim up exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("egovsim up did not become healthy within 120 s")


@dataclass
class World:
    key_pem: bytes
    cert_pem: bytes
    hop_pem: tuple[bytes, bytes]  # (key, cert) the bare phase signs with: see ``set_up``
    gateway_cert_der: bytes
    provider_cert_der: bytes  # who signs the bare endpoint's answers
    ocsp_request: bytes


def set_up(base: str, service: Service, iin: str) -> World:
    """The client system, its sender account and the route, through the public API; then one
    round trip each way, which also has the gateway get its own certificate and warm its caches."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    from egovsim import xmldsig

    def system_certificate(bin_: str, name: str) -> tuple[bytes, bytes]:
        issued = http.post(
            "/nca/api/certificates",
            json={"profile": "system", "kind": "sign", "bin": bin_, "system_name": name,
                  "organization": f"{name} (benchmark)"},
            headers=ADMIN,
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        return issued.json()["privateKey"].encode(), issued.json()["certificate"].encode()

    with httpx.Client(base_url=base, timeout=120) as http:
        key_pem, cert_pem = system_certificate(CLIENT_BIN, "BENCHCLIENT")
        # a provider behind the gateway answers the gateway only (ГБД ФЛ checks the gateway
        # operator's BIN in the transport signature): the bare phase replays the gateway's hop
        # with a system certificate of that BIN, which the НУЦ's operator may issue
        hop_pem = system_certificate(GATEWAY_BIN, "SHEP") if service is GBDFL else (key_pem, cert_pem)
        r = http.post(
            "/shep/api/senders",
            json={"senderId": SENDER_ID, "password": PASSWORD, "certificate": cert_pem.decode(), "title": "benchmark"},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        if service.route is not None:
            r = http.post("/shep/api/routes", json=service.route, headers=ADMIN)
            assert r.status_code == 201, r.text
        else:  # the component adds its route on start
            deadline = time.monotonic() + 60
            while http.get(f"/shep/api/routes/{service.service_id}", headers=ADMIN).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no route {service.service_id} after 60 s")
                time.sleep(0.2)
        signers = {}
        for path in (SYNC_PATH, service.bare_path, SYNC_PATH):
            pems = hop_pem if path == service.bare_path else (key_pem, cert_pem)
            key = serialization.load_pem_private_key(pems[0], None)
            cert = x509.load_pem_x509_certificate(pems[1])
            body = _signed_request(key, cert, f"warm-{uuid.uuid4()}", service, iin)
            answer = http.post(path, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
            if answer.status_code != 200 or (service is GBDFL and b"<code>00000</code>" not in answer.content):
                raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:600]}")
            signer = xmldsig.verify_wsse(answer.content).certificate
            signers[path] = signer.public_bytes(serialization.Encoding.DER)
        issuer = x509.load_der_x509_certificate(http.get("/nca/cert/nca_rsa_test.cer").content)
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
        ocsp_der = request.public_bytes(serialization.Encoding.DER)
        assert http.post(OCSP_PATH, content=ocsp_der, headers={"Content-Type": "application/ocsp-request"}).is_success
    return World(key_pem, cert_pem, hop_pem, signers[SYNC_PATH], signers[service.bare_path], ocsp_der)


def populate(data_dir: Path, persons: int, wanted: int) -> list[str]:
    """Generate ``persons`` into the data folder's database (``egovsim registries generate``, as
    an operator would) before the server starts; IINs of ``wanted`` of them, spread over all."""
    import random

    from mock_registries.generate import PersonGenerator

    t = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "egovsim.cli", "registries", "generate", "--persons", str(persons),
         "--data-dir", str(data_dir)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    everyone = PersonGenerator(0, persons).iins()
    print(f"ГБД ФЛ: {persons:,} persons generated in {time.monotonic() - t:.1f} s")
    return random.Random(1).sample(everyone, min(wanted, len(everyone)))


# -- the client's messages ------------------------------------------------------------------------
def _signed_request(key, cert, message_id: str, service: Service, iin: str) -> bytes:  # type: ignore[no-untyped-def]
    from lxml import etree

    from egovsim import xmldsig
    from gateway import soap

    envelope = soap.build_sync_request(
        soap.SyncRequest(
            message_id=message_id,
            service_id=service.service_id,
            message_date=datetime.now().astimezone(),
            sender=soap.Sender(SENDER_ID, PASSWORD),
            data=etree.fromstring(lookup_data(service, iin)),
        )
    )
    return xmldsig.sign_wsse(envelope, key, cert)


def _sign_pool(job: tuple[bytes, bytes, int, int, str, list[str]]) -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key_pem, cert_pem, worker, n, service, iins = job
    key = serialization.load_pem_private_key(key_pem, None)
    cert = x509.load_pem_x509_certificate(cert_pem)
    return [
        _signed_request(key, cert, f"bench-{worker}-{i}-{uuid.uuid4()}", SERVICES[service], iins[i % len(iins)])
        for i in range(n)
    ]


def sign_pools(
    pems: tuple[bytes, bytes], processes: int, size: int, service: str, iins: list[str]
) -> list[list[bytes]]:
    """One pool of distinct signed requests per client process, signed in parallel, before any load
    (for ГБД ФЛ each asks for another existing person)."""
    jobs = [(*pems, w, size, service, iins[w::processes] or iins) for w in range(processes)]
    with ProcessPoolExecutor(min(processes, os.cpu_count() or 1)) as pool:
        return list(pool.map(_sign_pool, jobs))


# -- the load client ----------------------------------------------------------------------------
@dataclass
class Job:
    port: int
    path: str
    content_type: str
    bodies: list[bytes]
    threads: int
    warmup: float
    seconds: float
    check: str  # "soap": verify the answer's signer and the answer; "none": HTTP 200 only
    signer_der: bytes = b""  # who must have signed the answers: the gateway, or the bare provider
    found: bytes = b""  # a ГБД ФЛ answer must also say it found the person


_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


def _client_process(job: Job, barrier, results) -> None:  # type: ignore[no-untyped-def]
    from cryptography import x509

    from egovsim import xmldsig
    from gateway import soap

    signer = x509.load_der_x509_certificate(job.signer_der) if job.signer_der else None
    heads = [
        (
            f"POST {job.path} HTTP/1.1\r\nHost: 127.0.0.1:{job.port}\r\nContent-Type: {job.content_type}\r\n"
            f'SOAPAction: ""\r\nContent-Length: {len(body)}\r\n\r\n'
        ).encode()
        + body
        for body in job.bodies
    ]
    message_ids = [re.search(rb"<messageId>([^<]+)</messageId>", b).group(1).decode() if job.check == "soap" else ""
                   for b in job.bodies]  # fmt: skip
    sockets = [socket.create_connection(("127.0.0.1", job.port), timeout=30) for _ in range(job.threads)]
    for s in sockets:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies: list[list[float]] = [[] for _ in range(job.threads)]
    errors: list[str] = []
    barrier.wait()
    start = time.monotonic()
    window = (start + job.warmup, start + job.warmup + job.seconds)

    def client(i: int) -> None:
        s, mine = sockets[i], latencies[i]
        n = len(heads)
        k = i * (n // job.threads)  # each connection starts at its own part of the pool
        buffer = b""
        try:
            while True:
                request, message_id = heads[k % n], message_ids[k % n]
                k += 1
                sent = time.monotonic()
                if sent >= window[1]:
                    return
                s.sendall(request)
                while (end := buffer.find(b"\r\n\r\n")) < 0:
                    chunk = s.recv(262144)
                    if not chunk:
                        raise RuntimeError("the server closed the connection")
                    buffer += chunk
                head = buffer[: end + 2]
                length = int(_LENGTH.search(head).group(1))  # type: ignore[union-attr]
                while len(buffer) < end + 4 + length:
                    chunk = s.recv(262144)
                    if not chunk:
                        raise RuntimeError("the server closed the connection")
                    buffer += chunk
                body, buffer = buffer[end + 4 : end + 4 + length], buffer[end + 4 + length :]
                done = time.monotonic()
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{job.path} answered {head[:40]!r}: {body[:600]!r}")
                if job.check == "soap":
                    root = xmldsig.parse_xml(body)
                    verified = xmldsig.verify_wsse(root)
                    answer = soap.read_sync_response(root)
                    if verified.certificate != signer:
                        raise RuntimeError("the answer is not signed by the expected system")
                    if job.found and job.found not in body:
                        raise RuntimeError(f"{message_id}: the person was not found")
                    if answer.status_code != "SCSS001" or answer.correlation_id != message_id:
                        raise RuntimeError(f"unexpected answer {answer.status_code} to {message_id}")
                if window[0] <= done <= window[1]:  # answered within the measured seconds
                    mine.append(done - sent)
        except Exception as exc:  # reported by the parent, which stops the run
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(job.threads)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, window[0] - time.monotonic()))
    cpu0 = os.times()
    time.sleep(max(0.0, window[1] - time.monotonic()))
    cpu1 = os.times()
    for t in threads:
        t.join()
    for s in sockets:
        s.close()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    results.put(([x for mine in latencies for x in mine], cpu, errors))


@dataclass
class Figures:
    name: str
    rate: float  # round trips per second
    p50_ms: float
    p99_ms: float
    count: int
    client_cpu: float  # cores the client processes used
    client_us_per_request: float  # client CPU per round trip
    server_cpu: float  # cores the server process (and any process it started) used
    server_loop: float  # busy share of the server's event-loop thread
    other_cpu: float  # cores used by everything else on the machine meanwhile


_FIGURES = tuple(Figures.__dataclass_fields__)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _thread_times(proc: psutil.Process) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of the server and of any processes it started (by pid), and of its threads."""
    processes = {}
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        processes[p.pid] = t.user + t.system
    return processes, {th.id: th.user_time + th.system_time for th in proc.threads()}


def _busy() -> float:
    """CPU seconds the whole machine has been busy."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def load(name: str, server: psutil.Process, pools: list[list[bytes]], job: Job, profile: Path | None) -> Figures:
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(len(pools) + 1), ctx.Queue()
    workers = [
        ctx.Process(target=_client_process, args=(Job(**{**asdict(job), "bodies": pool}), barrier, results))
        for pool in pools
    ]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.monotonic()
    time.sleep(job.warmup)
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [str(Path(sys.executable).with_name("py-spy")), "record", "-p", str(server.pid), "-f", "raw", "-r", "200",
             "--nonblocking",
             "-d", str(int(job.seconds)), "-t", "-o", str(profile / f"{name.split()[0]}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    total0, threads0 = _thread_times(server)
    machine0 = _busy()
    time.sleep(max(0.0, start + job.warmup + job.seconds - time.monotonic()))
    total1, threads1 = _thread_times(server)
    machine1 = _busy()
    collected = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join()
    if spy is not None:
        spy.wait(timeout=60)
    errors = [e for _, _, errs in collected for e in errs]
    if errors:
        raise RuntimeError(f"{name}: {len(errors)} client errors, the first: {errors[0]}")
    latencies = sorted(x for lat, _, _ in collected for x in lat)
    cpu = sum(c for _, c, _ in collected)
    loop = threads1.get(server.pid, 0.0) - threads0.get(server.pid, 0.0)  # the main thread runs the loop
    server_cpu = sum(t - total0.get(pid, 0.0) for pid, t in total1.items())
    return Figures(
        name=name,
        rate=len(latencies) / job.seconds,
        p50_ms=1000 * _percentile(latencies, 0.50),
        p99_ms=1000 * _percentile(latencies, 0.99),
        count=len(latencies),
        client_cpu=cpu / job.seconds,
        client_us_per_request=1e6 * cpu / max(1, len(latencies)),
        server_cpu=server_cpu / job.seconds,
        server_loop=loop / job.seconds,
        other_cpu=max(0.0, (machine1 - machine0) - server_cpu - cpu) / job.seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured length of each phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="load before each phase's measurement")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="connections (threads) per client process")
    parser.add_argument("--pool", type=int, default=3000, help="signed requests per client process")
    parser.add_argument("--rounds", type=int, default=3, help="bare/gateway pairs; medians are reported")
    parser.add_argument("--no-floor", action="store_true", help="skip the fast-lane (OCSP) context figure")
    parser.add_argument("--profile", type=Path, help="record the server with py-spy (raw stacks) into this folder")
    parser.add_argument("--service", choices=sorted(SERVICES), default="echo",
                        help="echo: the gateway's diagnostic provider; gbdfl: ГБД ФЛ lookups by IIN")  # fmt: skip
    parser.add_argument("--persons", type=int, default=1_000_000, help="gbdfl: the population generated first")
    args = parser.parse_args()
    service = SERVICES[args.service]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    connections = args.processes * args.threads

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        iins = ["900115300013"]
        if service is GBDFL:
            iins = populate(Path(tmp) / "data", args.persons, args.processes * args.pool)
        started = time.monotonic()
        server = start_server(Path(tmp) / "data", port)
        try:
            print(f"egovsim up on port {port}, healthy after {time.monotonic() - started:.1f} s (pid {server.pid})")
            world = set_up(f"http://127.0.0.1:{port}", service, iins[0])
            t = time.monotonic()
            pools = sign_pools((world.key_pem, world.cert_pem), args.processes, args.pool, args.service, iins)
            bare_pools = (
                sign_pools(world.hop_pem, args.processes, args.pool, args.service, iins) if service is GBDFL else pools
            )
            print(
                f"client pools: {args.processes} × {args.pool} signed requests ({len(pools[0][0]):,} B each), "
                f"signed in {time.monotonic() - t:.1f} s before the load"
            )
            proc = psutil.Process(server.pid)
            soap_job = dict(port=port, content_type="text/xml; charset=utf-8", threads=args.threads,
                            warmup=args.warmup, seconds=args.seconds, check="soap", bodies=[],
                            found=b"<code>00000</code>" if service is GBDFL else b"")  # fmt: skip
            phases = (
                ("bare", service.bare_path, world.provider_cert_der, bare_pools),
                ("gateway", SYNC_PATH, world.gateway_cert_der, pools),
            )
            rounds: dict[str, list[Figures]] = {"bare": [], "gateway": []}
            for r in range(args.rounds):
                for name, path, signer, phase_pools in phases:
                    job = Job(path=path, signer_der=signer, **soap_job)  # type: ignore[arg-type]
                    figures = load(name, proc, phase_pools, job, args.profile if r == 0 else None)
                    rounds[name].append(figures)
                    print(
                        f"  round {r + 1} {name:8} {figures.rate:8,.0f}/s  p50 {figures.p50_ms:6.2f} ms  "
                        f"p99 {figures.p99_ms:6.2f} ms  server loop {100 * figures.server_loop:3.0f} %  "
                        f"server {figures.server_cpu:.2f} cores  client {figures.client_cpu:.2f} cores  "
                        f"({figures.client_us_per_request:.0f} µs/rt)  others {figures.other_cpu:.2f} cores"
                    )
            floor = None
            if not args.no_floor:
                floor_pools = [[world.ocsp_request] * 16 for _ in range(args.processes)]
                floor = load(
                    "fast-lane floor", proc, floor_pools,
                    Job(**{**soap_job, "path": OCSP_PATH, "content_type": "application/ocsp-request",
                           "check": "none", "found": b""}), None,
                )  # fmt: skip
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    def middle(name: str) -> Figures:
        """Each figure's median over the rounds."""
        runs = rounds[name]
        return Figures(name, *(median(getattr(f, field) for f in runs) for field in _FIGURES[1:]))  # type: ignore[arg-type]

    bare, gateway = middle("bare"), middle("gateway")
    # bare and gateway of one round ran a few seconds apart: their ratio is the least disturbed
    ratios = [g.rate / b.rate for b, g in zip(rounds["bare"], rounds["gateway"], strict=True)]
    ratio = median(ratios)
    rows = [
        (f"bare endpoint: POST {service.bare_path} ({service.label})", bare),
        (f"SyncChannel SendMessage → {service.service_id} (transport signatures checked and signed)", gateway),
    ]
    if floor is not None:
        rows.append(("context: fast-lane floor, pre-produced OCSP answer (no XML, no signing)", floor))
    print()
    print(
        f"Gateway benchmark: {connections} keep-alive connections ({args.processes} processes × {args.threads} "
        f"threads), {args.rounds} round(s) of {args.seconds:g} s per endpoint after {args.warmup:g} s warm-up, "
        f"medians; {os.cpu_count()} CPUs"
    )
    print()
    print("| endpoint | round trips/s | p50 | p99 | server CPU / round trip | server loop busy | client CPU / rt |")
    print("|---|---|---|---|---|---|---|")
    for label, f in rows:
        print(
            f"| {label} | {f.rate:,.0f} | {f.p50_ms:.2f} ms | {f.p99_ms:.2f} ms | {1e3 * f.server_cpu / f.rate:.2f} ms "
            f"| {100 * f.server_loop:.0f} % | {f.client_us_per_request / 1e3:.2f} ms |"
        )
    print()
    target = f"; target ≥ 30 %: {'met' if ratio >= 0.30 else 'MISSED'}" if service is ECHO else ""
    print(
        f"gateway / bare: {100 * ratio:.1f} % of the bare endpoint's round trips (median of the rounds' ratios "
        f"{', '.join(f'{100 * r:.1f}' for r in ratios)}{target}; X-Road is reported at ~11 % of direct calls)"
    )
    cores = os.cpu_count() or 1
    for f in (bare, gateway):
        idle = cores - f.server_cpu - f.client_cpu - f.other_cpu
        print(
            f"{f.name}: server {f.server_cpu:.2f} cores, load client {f.client_cpu:.2f} cores "
            f"({100 * f.client_cpu / args.processes:.0f} % of a core per client process), others "
            f"{f.other_cpu:.2f}, idle {max(0.0, idle):.2f} of {cores}"
        )
    disturbed = [
        f"round {i + 1} {f.name} ({f.other_cpu:.2f} cores)"
        for runs in rounds.values()
        for i, f in enumerate(runs)
        if f.other_cpu > 0.15
    ]
    if disturbed:
        print(f"warning: other processes used CPU during {', '.join(disturbed)}: the figures are disturbed")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    result = {
        "service": service.service_id,
        "persons": args.persons if service is GBDFL else None,
        "connections": connections,
        "seconds": args.seconds,
        "bare": asdict(bare),
        "gateway": asdict(gateway),
        "floor": asdict(floor) if floor else None,
        "ratio": round(ratio, 4),
        "rounds": {k: [asdict(f) for f in v] for k, v in rounds.items()},
    }
    name = "gateway.json" if service is ECHO else f"gateway-{args.service}.json"
    (out / name).write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
