"""Health: each component's database and migrations, and the aggregate at ``/healthz``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from egovsim.components import Component
from egovsim.kernel import Kernel
from egovsim.tables import SCHEMA as KERNEL_SCHEMA


async def check(component: Component, kernel: Kernel) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        await kernel.db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # health reports, it does not raise
        checks["database"] = f"down: {type(exc).__name__}"
    for schema in (KERNEL_SCHEMA, component.schema):
        if schema is None:
            continue
        revision = await kernel.db.current_revision(schema) if checks["database"] == "ok" else None
        checks[f"migrations:{schema.component}"] = revision or "missing"
    ok = checks["database"] == "ok" and all(v != "missing" for v in checks.values())
    return {"status": "ok" if ok else "down", "component": component.name, "checks": checks}


async def component_health(component: Component, kernel: Kernel) -> JSONResponse:
    body = await check(component, kernel)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


async def aggregate_health(components: list[Component], kernel: Kernel) -> JSONResponse:
    parts = {c.name: await check(c, kernel) for c in components}
    ok = all(p["status"] == "ok" for p in parts.values())
    body = {
        "status": "ok" if ok else "down",
        "backend": kernel.db.backend,
        "simulated_time": kernel.clock.now().isoformat(),
        "components": parts,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
