"""Demo personas (``egovsim/data/personas.yaml``): their key files, registry records and the
index a tester reads.

``egovsim up`` gives each citizen an AUTH and a SIGN key file and each gateway sender a system
key file, issued by the running НУЦ through its public API (as an operator would), written to
``DATA_DIR/keys/<id>/`` with the NCA's file names; seeds each citizen's ГБД ФЛ record and the
ЕНИС powers of attorney through the registries' admin API; and writes ``DATA_DIR/personas.json``:
every persona with its role, IIN or BIN, names, password, key files with their certificates'
states, registry record and powers of attorney with their states, and the gateway senders. A
second ``up`` on the same data folder reuses what exists and leaves an operator's edits alone.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml

from egovsim.translit import latin

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
    known = {(r["id"], r["kind"]): r for r in _known_key_files(data_dir / "personas.json")}
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
        p12 = write_key_file(data_dir / "keys", persona_id, issued)
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
    return rows


def write_key_file(keys: Path, folder: str, issued: dict[str, Any]) -> Path:
    """An issued key file (the НУЦ's answer to ``POST /nca/api/certificates``) as ``egovsim up``
    keeps it: ``keys/<folder>/<NCA file name>.p12``, its ``.crt.pem`` and ``.key.pem`` beside it,
    and the CA chain in ``keys/ca-chain.pem``; the .p12's path."""
    (keys / folder).mkdir(parents=True, exist_ok=True)
    p12 = keys / folder / issued["fileName"]
    p12.write_bytes(base64.b64decode(issued["pkcs12"]))
    p12.with_name(f"{p12.stem}.crt.pem").write_text(issued["certificate"], encoding="utf-8")
    p12.with_name(f"{p12.stem}.key.pem").write_text(issued["privateKey"], encoding="utf-8")
    (keys / "ca-chain.pem").write_text(issued["chain"], encoding="utf-8")
    return p12


def _known_key_files(index_file: Path) -> list[dict[str, Any]]:
    """The key files an earlier ``up`` listed (personas.json, or its first, list-only form)."""
    if not index_file.exists():
        return []
    try:
        data = json.loads(index_file.read_text(encoding="utf-8"))
    except ValueError:
        return []
    rows = data if isinstance(data, list) else data.get("keyFiles", [])
    return [r for r in rows if isinstance(r, dict) and {"id", "kind", "file", "serial"} <= r.keys()]


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


# -- registry records ---------------------------------------------------------------------------
PERSONS_API = "/registries/api/persons"
POWERS_API = "/registries/api/powers-of-attorney"


def person_record(citizen: dict[str, Any]) -> dict[str, Any] | None:
    """The ГБД ФЛ record (the registries' admin API shape) of a persona; None when absent."""
    from egovsim.iin import parse_iin

    wanted = citizen.get("registry") or {}
    if wanted.get("absent"):
        return None
    facts = parse_iin(citizen["iin"])
    born = facts.birth_date
    death = wanted.get("deathDate")
    # the ID card of the latest ten-year renewal since the 16th birthday, before death or today
    until = date.fromisoformat(death) if death else date.today()
    first = date(born.year + 16, born.month, min(born.day, 28))
    years = until.year - first.year - ((until.month, until.day) < (first.month, first.day))
    id_card_from = date(first.year + max(0, years) // 10 * 10, first.month, first.day)
    region, district = wanted.get("region", "150000000"), wanted.get("district", "151010000")
    return {
        "iin": citizen["iin"],
        "surname": citizen["surname"],
        "name": citizen["name"],
        "patronymic": citizen.get("patronymic"),
        "surnameLat": latin(citizen["surname"]),
        "nameLat": latin(citizen["name"]),
        "birthDate": born.isoformat(),
        "gender": str(int(facts.sex)),
        "nationality": wanted.get("nationality", "005"),
        "citizenship": wanted.get("citizenship", "398"),
        "birthPlace": {"country": "398", "region": region, "district": district, "city": None},
        "regAddress": {
            "region": region,
            "district": district,
            "street": wanted.get("street"),
            "building": wanted.get("building"),
            "flat": wanted.get("flat"),
            "beginDate": first.isoformat(),
        },
        "document": {
            "type": "002",
            "number": f"0{citizen['iin'][3:11]}",
            "beginDate": id_card_from.isoformat(),
            "endDate": date(id_card_from.year + 10, id_card_from.month, id_card_from.day).isoformat(),
            "issueOrganization": "002",
            "status": "07" if death else "00",  # a dead person's document is unfit for use
        },
        "lifeStatus": "1" if death else "0",
        "deathDate": death,
        "capableStatus": None,
        "missing": False,
        "removed": False,
    }


def power_of_attorney_record(power: dict[str, Any], people: dict[str, dict[str, Any]], notary: dict[str, Any]) -> dict:
    """A ЕНИС power of attorney (all fields proposed, egov-interfaces §9) from personas.yaml."""

    def party(persona_id: str) -> dict[str, str]:
        p = people[persona_id]
        return {"iin": p["iin"], "name": " ".join(x for x in (p["surname"], p["name"], p.get("patronymic")) if x)}

    return {
        "registryNumber": power["registryNumber"],
        "registrationDate": power["registrationDate"],
        "notary": notary,
        "grantor": party(power["grantor"]),
        "representative": party(power["representative"]),
        "powers": "представлять интересы доверителя при получении государственных услуг",
        "services": power.get("services"),
        "validFrom": power["validFrom"],
        "validTo": power["validTo"],
        "substitutionAllowed": False,
        "revocation": power.get("revocation"),
    }


async def _ensure(http: httpx.AsyncClient, admin: dict[str, str], api: str, key: str, record: dict) -> dict:
    """The stored record (created when missing; an existing one is left as the operator set it)."""
    found = await http.get(f"{api}/{key}", headers=admin)
    if found.status_code == 200:
        return found.json()  # type: ignore[no-any-return]
    if found.status_code != 404:
        found.raise_for_status()  # an error of the registries: say so, never seed half silently
    created = await http.post(api, json=record, headers=admin)
    created.raise_for_status()
    return created.json()  # type: ignore[no-any-return]


async def ensure_registry_records(http: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """Seed the personas' ГБД ФЛ records and ЕНИС powers of attorney; what is stored, by persona
    id (``persons``) and registry number (``powers``). Empty when no registries run here."""
    personas = load_personas()
    people = {c["id"]: c for c in personas["citizens"]}
    probe = await http.get(f"{PERSONS_API}/{personas['citizens'][0]['iin']}", headers=admin)
    if probe.status_code not in (200, 404) or probe.headers.get("content-type", "").startswith("text/html"):
        return {"persons": {}, "powers": {}}
    persons: dict[str, Any] = {}
    for citizen in personas["citizens"]:
        record = person_record(citizen)
        persons[citizen["id"]] = (
            None if record is None else await _ensure(http, admin, PERSONS_API, citizen["iin"], record)
        )
    powers = {}
    for power in personas.get("powersOfAttorney", []):
        record = power_of_attorney_record(power, people, personas["notary"])
        powers[power["registryNumber"]] = await _ensure(http, admin, POWERS_API, power["registryNumber"], record)
    return {"persons": persons, "powers": powers}


# -- the index ----------------------------------------------------------------------------------
async def certificate_states(http: httpx.AsyncClient, admin: dict[str, str], rows: list[dict]) -> dict[str, dict]:
    """Each key file's certificate as the НУЦ has it now: status, validity, revocation."""
    states = {}
    for row in rows:
        r = await http.get(f"/nca/api/certificates/{row['serial']}", headers=admin)
        if r.status_code == 200:
            c = r.json()
            states[row["serial"]] = {k: c[k] for k in ("status", "notBefore", "notAfter", "revokedAt", "reason")}
    return states


def _registry_state(record: dict | None, citizen: dict[str, Any]) -> str:
    if (citizen.get("registry") or {}).get("absent"):
        return "absent"
    if record is None:
        return "unknown"  # no registries in this process
    if record.get("removed"):
        return "removed"
    return f"deceased {record['deathDate']}" if record.get("lifeStatus") == "1" else "alive"


def build_index(
    rows: list[dict], states: dict[str, dict], registry: dict[str, Any], senders: list[str]
) -> dict[str, Any]:
    """personas.json: everything a tester needs to use each persona."""
    personas = load_personas()
    keys_of: dict[str, list[dict]] = {}
    for row in rows:
        keys_of.setdefault(row["id"], []).append(
            {
                "kind": row["kind"].upper(),
                "file": row["file"],
                "certificatePem": str(Path(row["file"]).with_name(f"{Path(row['file']).stem}.crt.pem")),
                "password": row["password"],
                "serial": row["serial"],
                "certificate": states.get(row["serial"]),
            }
        )
    powers = registry.get("powers", {})
    entries = []
    for c in personas["citizens"]:
        held = []
        for p in personas.get("powersOfAttorney", []):
            if c["id"] not in (p["grantor"], p["representative"]):
                continue
            stored = powers.get(p["registryNumber"]) or {}
            held.append(
                {
                    "registryNumber": p["registryNumber"],
                    "as": "representative" if p["representative"] == c["id"] else "grantor",
                    "grantor": p["grantor"],
                    "representative": p["representative"],
                    "services": p.get("services"),
                    "validFrom": p["validFrom"],
                    "validTo": p["validTo"],
                    "status": stored.get("status"),
                    "meant": p.get("state"),
                }
            )
        entries.append(
            {
                "id": c["id"],
                "role": c.get("role"),
                "iin": c["iin"],
                "surname": c["surname"],
                "name": c["name"],
                "patronymic": c.get("patronymic"),
                "organization": c.get("organization"),
                "note": c.get("note"),
                "password": DEFAULT_PASSWORD,
                "keys": keys_of.get(c["id"], []),
                "gbdfl": _registry_state(registry.get("persons", {}).get(c["id"]), c),
                "powersOfAttorney": held,
            }
        )
    systems = [
        {
            "senderId": s["id"],
            "password": DEFAULT_PASSWORD,
            "bin": s["bin"],
            "name": s["name"],
            "organization": s["organization"],
            "keys": keys_of.get(s["id"], []),
        }
        for s in personas["systems"]
        if s["id"] in senders
    ]
    operators = [
        {"login": o["login"], "password": DEFAULT_PASSWORD, "iin": o["iin"],
         "name": " ".join(x for x in (o["surname"], o["name"], o.get("patronymic")) if x), "centre": o["centre"]}
        for o in personas.get("operators", [])
    ]  # fmt: skip
    return {"personas": entries, "hqoOperators": operators, "gatewaySenders": systems, "keyFiles": rows}


def write_index(data_dir: Path, index: dict[str, Any]) -> Path:
    path = data_dir / "personas.json"
    path.write_text(json.dumps(index, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
