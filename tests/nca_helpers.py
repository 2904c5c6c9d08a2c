"""Helpers for the НУЦ tests: issuing through the public API, running openssl and other
independent tools without blocking the event loop, and serving the in-process simulator on a
real port for tools that need a URL (``openssl ocsp -url``, the CLI)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from egovsim.app import RunningSimulator
from tests.conftest import ADMIN, free_port

ASET = {"iin": "900115300013", "surname": "АХМЕТОВ", "name": "АСЕТ", "patronymic": "ЕРЛАНҰЛЫ"}


async def issue(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    request = ASET | body
    response = await http.post("/nca/api/certificates", json=request, headers=ADMIN)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def key_and_cert(issued: dict[str, Any], password: str = "Qwerty12") -> tuple[Any, x509.Certificate]:
    loaded = pkcs12.load_pkcs12(base64.b64decode(issued["pkcs12"]), password.encode())
    assert loaded.key is not None and loaded.cert is not None
    return loaded.key, loaded.cert.certificate


def save(folder: Path, issued: dict[str, Any]) -> dict[str, Path]:
    """Write an issued certificate's files as the CLI does; return their paths."""
    p12 = folder / issued["fileName"]
    p12.write_bytes(base64.b64decode(issued["pkcs12"]))
    paths = {"p12": p12, "cert": folder / f"{p12.stem}.crt.pem", "key": folder / f"{p12.stem}.key.pem"}
    paths["cert"].write_text(issued["certificate"])
    paths["key"].write_text(issued["privateKey"])
    return paths


async def run(*args: str | Path, stdin: bytes | None = None) -> tuple[int, str]:
    """Run an independent tool; return its exit code and its stdout+stderr."""
    proc = await asyncio.create_subprocess_exec(
        *[str(a) for a in args],
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout=120)
    return proc.returncode or 0, out.decode(errors="replace")


async def ca_files(http: httpx.AsyncClient, folder: Path) -> dict[str, Path]:
    """root.pem, ca.pem (the issuing intermediate) and chain.pem, fetched from /nca/cert/…"""
    files = {}
    for name, path in (("root", "root_rsa_test.cer"), ("ca", "nca_rsa_test.cer")):
        der = (await http.get(f"/nca/cert/{path}")).content
        cert = x509.load_der_x509_certificate(der)
        files[name] = folder / f"{name}.pem"
        files[name].write_bytes(cert.public_bytes(Encoding.PEM))
    files["chain"] = folder / "chain.pem"
    files["chain"].write_bytes((await http.get("/nca/cert/chain.pem")).content)
    return files


@contextlib.asynccontextmanager
async def served(sim: RunningSimulator) -> AsyncIterator[str]:
    """Serve the already started in-process simulator on a real port (no second lifespan)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(sim.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
