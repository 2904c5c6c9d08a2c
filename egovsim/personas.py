"""Demo personas (``egovsim/data/personas.yaml``) and their key files.

``egovsim up`` gives each citizen an AUTH and a SIGN key file and each gateway sender a system
key file, issued by the running НУЦ through its public API (as an operator would), written to
``DATA_DIR/keys/<id>/`` with the NCA's file names and listed in ``DATA_DIR/personas.json``.
A second ``up`` on the same data folder reuses them.
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml

DEFAULT_PASSWORD = "Qwerty12"  # as on the NCA's own test keys


def load_personas() -> dict[str, Any]:
    text = resources.files("egovsim.data").joinpath("personas.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _requests(personas: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(persona id, key kind, issuance request) for every key file the personas need."""
    wanted: list[tuple[str, str, dict[str, Any]]] = []
    for p in personas["citizens"]:
        org = p.get("organization")
        person = {"iin": p["iin"], "surname": p["surname"], "name": p["name"], "patronymic": p["patronymic"]}
        if org:
            person |= {"profile": org["role"], "bin": org["bin"], "organization": org["name"]}
        for kind in ("auth", "sign"):
            wanted.append((p["id"], kind, person | {"kind": kind, "label": f"persona:{p['id']}"}))
    for s in personas["systems"]:
        body = {"profile": "system", "kind": "sign", "bin": s["bin"], "system_name": s["name"]}
        wanted.append((s["id"], "sign", body | {"organization": s["organization"], "label": f"system:{s['id']}"}))
    return wanted


async def ensure_key_files(http: httpx.AsyncClient, data_dir: Path, admin_headers: dict[str, str]) -> list[dict]:
    """Issue what is missing; return one row per key file for the banner and personas.json."""
    index_file = data_dir / "personas.json"
    known = (
        {(r["id"], r["kind"]): r for r in json.loads(index_file.read_text(encoding="utf-8"))}
        if index_file.exists()
        else {}
    )
    rows: list[dict] = []
    for persona_id, kind, body in _requests(load_personas()):
        row = known.get((persona_id, kind))
        if row is not None and Path(row["file"]).exists():
            status = await http.get(f"/nca/api/certificates/{row['serial']}", headers=admin_headers)
            if status.status_code == 200:
                rows.append(row)
                continue
        response = await http.post(
            "/nca/api/certificates", json=body | {"password": DEFAULT_PASSWORD}, headers=admin_headers
        )
        response.raise_for_status()
        issued = response.json()
        folder = data_dir / "keys" / persona_id
        folder.mkdir(parents=True, exist_ok=True)
        p12 = folder / issued["fileName"]
        p12.write_bytes(base64.b64decode(issued["pkcs12"]))
        (folder / f"{p12.stem}.crt.pem").write_text(issued["certificate"], encoding="utf-8")
        (folder / f"{p12.stem}.key.pem").write_text(issued["privateKey"], encoding="utf-8")
        (data_dir / "keys" / "ca-chain.pem").write_text(issued["chain"], encoding="utf-8")
        rows.append(
            {
                "id": persona_id,
                "kind": kind,
                "iin": body.get("iin"),
                "bin": body.get("bin"),
                "name": issued["commonName"],
                "serial": issued["serial"],
                "file": str(p12.resolve()),
                "password": DEFAULT_PASSWORD,
            }
        )
    index_file.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    return rows


async def ensure_gateway_senders(http: httpx.AsyncClient, admin_headers: dict[str, str], rows: list[dict]) -> list[str]:
    """Register each demo system as a gateway sender (senderId = its id, password Qwerty12, its
    system certificate bound); senders that exist already are left as the operator set them."""
    existing = await http.get("/shep/api/senders", headers=admin_headers)
    if existing.status_code != 200:  # no gateway in this process
        return []
    known = {s["senderId"] for s in existing.json()["senders"]}
    systems = {s["id"] for s in load_personas()["systems"]}
    registered = []
    for row in rows:
        if row["id"] not in systems:
            continue
        registered.append(row["id"])
        if row["id"] in known:
            continue
        certificate = Path(row["file"]).with_name(f"{Path(row['file']).stem}.crt.pem").read_text(encoding="utf-8")
        body = {"senderId": row["id"], "password": DEFAULT_PASSWORD, "certificate": certificate, "title": row["name"]}
        (await http.post("/shep/api/senders", json=body, headers=admin_headers)).raise_for_status()
    return registered
