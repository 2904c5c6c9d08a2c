"""НУЦ benchmark: condition-2 checks per second, OCSP responses per second, and the limits they
sit under, all measured in one run on one machine.

1. Raw RSA-2048 sign and verify rates (cryptography / OpenSSL): the ceiling for anything that
   verifies (condition 2) or signs (OCSP answers).
2. Condition-2 checks per second in one process: an enveloped-signed application (1.5 KB) through
   :class:`egovsim.condition2.EdsVerifier` (signature + chain + key usage + revocation + IIN), with
   verified revocation answers from a warm cache. Target: ≥ 20 % of the raw verify rate.
3. OCSP responses per second (median of three rounds), from one load client (two processes of two
   threads, a connection per request) against
   egovsim's responder (``egovsim serve signing``, one process) and, side by side, ``openssl ocsp``
   as a responder over an index of the same certificates with the same responder key:
   - requests without a nonce (RFC 5019 clients): egovsim serves pre-produced answers;
   - requests with a nonce (NCANode's way): every answer is signed anew by both.
   Target: egovsim ≥ 2 × openssl ocsp.

    .venv/bin/python benchmarks/signing.py [--seconds 5] [--rounds 3]     (needs openssl)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_TOKEN = "benchmark-admin-token"
APPLICATION = (
    '<application xmlns="urn:egovsim:bench"><iin>900115300013</iin><service>Мектепке дейінгі ұйымдарға '
    "кезекке қою</service>" + "".join(f"<field n='{i}'>мәні {i}</field>" for i in range(12)) + "</application>"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rate(fn, seconds: float = 2.0) -> float:  # type: ignore[no-untyped-def]
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed


def raw_rsa() -> tuple[float, float]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public, data = key.public_key(), os.urandom(64)
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    sign = rate(lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
    verify = rate(lambda: public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256()))
    return sign, verify


async def condition2_rate(seconds: float) -> tuple[float, int]:
    from egovsim import xmldsig
    from egovsim.app import running
    from egovsim.condition2 import EdsVerifier, RevocationPolicy
    from egovsim.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), admin_token=ADMIN_TOKEN)
        async with running(settings) as sim, sim.client() as http:
            issued = (
                await http.post(
                    "/nca/api/certificates",
                    json={"iin": "900115300013", "surname": "АХМЕТОВ", "name": "АСЕТ", "kind": "sign"},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
            ).json()
            key = serialization.load_pem_private_key(issued["privateKey"].encode(), None)
            cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
            document = xmldsig.sign_enveloped(APPLICATION, key, cert)  # type: ignore[arg-type]
            verifier = EdsVerifier(
                lambda: sim.kernel.client_for("signing"), sim.kernel.clock.now, RevocationPolicy(cache_seconds=3600)
            )
            verdict, _ = await verifier.check_xml(document, iin="900115300013")  # warms the caches
            assert verdict.valid, verdict.detail
            n, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                for _ in range(100):
                    verdict, _ = await verifier.check_xml(document, iin="900115300013")
                n += 100
            assert verdict.valid
            await verifier.aclose()
            return n / elapsed, len(document)


def load(url: str, body: Path, seconds: float, processes: int = 2, threads: int = 2) -> float:
    """Responses per second from ``processes`` × ``threads`` concurrent clients, one connection per
    request (as OCSP clients such as openssl and NCANode connect, and as ``openssl ocsp`` serves
    them). Several processes, so that the client is not what limits the figure."""
    with ProcessPoolExecutor(processes) as pool:
        start = time.perf_counter()
        counts = list(pool.map(_load_process, [(url, body.read_bytes(), seconds, threads)] * processes))
        return sum(counts) / (time.perf_counter() - start)


def _load_process(job: tuple[str, bytes, float, int]) -> int:
    url, payload, seconds, threads = job
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/ocsp-request\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    deadline = time.perf_counter() + seconds
    counts = [0] * threads

    def client(i: int) -> None:
        while time.perf_counter() < deadline:
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(request)
                answer = b""
                while b"\r\n\r\n" not in answer:
                    answer += s.recv(65536)
                head, _, rest = answer.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                while len(rest) < length:  # openssl keeps the socket open after its answer
                    rest += s.recv(65536)
            if not answer.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
                raise RuntimeError(f"{url} answered {answer[:80]!r}")
            counts[i] += 1

    with ThreadPoolExecutor(threads) as pool:
        try:
            list(pool.map(client, range(threads)))
        except OSError as exc:
            raise RuntimeError(f"{url}: {exc}") from exc
    return sum(counts)


def wait_port(port: int) -> None:
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def ocsp_rates(seconds: float, rounds: int) -> dict[str, float]:
    """egovsim's responder and openssl's, on the same certificates, the same responder key and wrk."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        env = {**os.environ, "EGOVSIM_DATA_DIR": str(folder / "data"), "EGOVSIM_ADMIN_TOKEN": ADMIN_TOKEN}
        server = subprocess.Popen(
            [sys.executable, "-m", "egovsim.cli", "serve", "signing", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_port(port)
            base = f"http://127.0.0.1:{port}"
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            certs = []
            for i in range(20):  # an index of twenty certificates, a few of them revoked
                issued = httpx.post(
                    f"{base}/nca/api/certificates",
                    json={"iin": "900115300013", "surname": f"ТЕСТОВ{i}", "kind": "sign"},
                    headers=admin, timeout=60,
                ).json()  # fmt: skip
                certs.append(x509.load_pem_x509_certificate(issued["certificate"].encode()))
                if i % 5 == 0:
                    httpx.post(f"{base}/nca/api/certificates/{issued['serial']}/revoke", headers=admin, json={})
            issuer = x509.load_der_x509_certificate(httpx.get(f"{base}/nca/cert/nca_rsa_test.cer").content)
            request_plain = ocsp.OCSPRequestBuilder().add_certificate(certs[1], issuer, hashes.SHA1()).build()
            request_nonce = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(certs[1], issuer, hashes.SHA1())
                .add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
                .build()
            )
            bodies = {}
            for name, request in (("plain", request_plain), ("nonce", request_nonce)):
                bodies[name] = folder / f"{name}.der"
                bodies[name].write_bytes(request.public_bytes(serialization.Encoding.DER))
            for name in ("plain", "nonce"):
                results[f"egovsim {name}"] = median(
                    load(f"{base}/nca/ocsp/", bodies[name], seconds) for _ in range(rounds)
                )
            # the same responder key and certificate for openssl (a test key, read from our own tables)
            responder_key, responder_cert = _responder(folder / "data")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        index = folder / "index.txt"
        lines = []
        for i, cert in enumerate(certs):
            expiry = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
            serial = format(cert.serial_number, "X")
            subject = "/" + "/".join(a.rfc4514_string() for a in cert.subject)
            if i % 5 == 0:
                revoked = datetime.now(UTC).strftime("%y%m%d%H%M%SZ")
                lines.append(f"R\t{expiry}\t{revoked}\t{serial}\tunknown\t{subject}")
            else:
                lines.append(f"V\t{expiry}\t\t{serial}\tunknown\t{subject}")
        index.write_text("\n".join(lines) + "\n")
        (folder / "ca.pem").write_bytes(issuer.public_bytes(serialization.Encoding.PEM))
        (folder / "rsigner.pem").write_bytes(responder_cert)
        (folder / "rkey.pem").write_bytes(responder_key)
        oport = free_port()
        log = (folder / "openssl.log").open("wb")
        responder = subprocess.Popen(
            ["openssl", "ocsp", "-index", str(index), "-port", str(oport), "-CA", str(folder / "ca.pem"),
             "-rsigner", str(folder / "rsigner.pem"), "-rkey", str(folder / "rkey.pem"), "-ndays", "1"],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            time.sleep(1.0)  # no port probe: a connection that sends nothing stalls openssl's one-at-a-time loop
            for name in ("plain", "nonce"):
                try:
                    results[f"openssl {name}"] = median(
                        load(f"http://127.0.0.1:{oport}/", bodies[name], seconds) for _ in range(rounds)
                    )
                except RuntimeError:
                    print((folder / "openssl.log").read_text()[-2000:], file=sys.stderr)
                    raise
        finally:
            responder.kill()
            responder.wait()
            log.close()
    return results


def _responder(data_dir: Path) -> tuple[bytes, bytes]:
    import sqlite3

    with sqlite3.connect(data_dir / "egovsim.sqlite3") as db:
        key_pem, der = db.execute("SELECT key_pem, cert_der FROM signing_keypairs WHERE role='responder'").fetchone()
    return key_pem.encode(), x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="OCSP loads per responder; the median is reported")
    args = parser.parse_args()
    sign, verify = raw_rsa()
    print(f"raw RSA-2048 (cryptography): sign {sign:,.0f}/s, verify {verify:,.0f}/s")
    checks, size = asyncio.run(condition2_rate(args.seconds))
    print(
        f"condition-2 checks ({size} B enveloped XML, warm revocation cache): {checks:,.0f}/s "
        f"= {100 * checks / verify:.1f} % of raw RSA verify (target ≥ 20 %)"
    )
    results = ocsp_rates(args.seconds, args.rounds)
    for name in ("plain", "nonce"):
        ours, theirs = results[f"egovsim {name}"], results[f"openssl {name}"]
        label = "no nonce (RFC 5019)" if name == "plain" else "with nonce"
        print(
            f"OCSP {label}: egovsim {ours:,.0f}/s, openssl ocsp {theirs:,.0f}/s = {ours / theirs:.2f} × "
            f"(RSA sign ceiling {sign:,.0f}/s)"
        )


if __name__ == "__main__":
    main()
