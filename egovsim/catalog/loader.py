"""Loading the service catalogue from its data files, failing loudly on a broken file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from egovsim.catalog.models import Service
from egovsim.errors import CatalogError

SERVICES_PACKAGE = "egovsim.data"


def default_services_dir() -> Path:
    return Path(str(resources.files(SERVICES_PACKAGE).joinpath("services")))


def _field_path(loc: Iterable[object]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with libyaml's safe loader when PyYAML has it."""
    return yaml.load(text, Loader=_YAML_LOADER)


# files already parsed and validated, by (path, mtime, size): services are immutable, and a process
# that builds many simulators (a test suite) parses each file once
_PARSED: dict[tuple[str, int, int], Service] = {}


def load_service_file(path: Path) -> Service:
    """Parse and validate one service file; a problem raises CatalogError naming file and field."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}", file=str(path)) from exc
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        _PARSED[key] = _parse_service_file(path)
    return _PARSED[key]


def _parse_service_file(path: Path) -> Service:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CatalogError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=str(path)) from exc
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}", file=str(path)) from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping of service fields at the top level", file=str(path))
    try:
        service = Service.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first["loc"])
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise CatalogError(f"{path}: field {field}: {first['msg']}{more}", file=str(path), field=field) from exc
    if service.id != path.stem:
        raise CatalogError(
            f"{path}: field id: {service.id!r} must equal the file name {path.stem!r}", file=str(path), field="id"
        )
    return service


@dataclass(frozen=True)
class ServiceCatalog:
    """The 18 services of the seeds, validated, in the order of the seed catalogue's index."""

    services: tuple[Service, ...]

    @classmethod
    def load(cls, directory: Path | None = None) -> ServiceCatalog:
        directory = directory or default_services_dir()
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise CatalogError(f"{directory}: no service files (*.yaml) found", file=str(directory))
        services = [load_service_file(f) for f in files]
        numbers = [s.number for s in services]
        dupes = sorted({n for n in numbers if numbers.count(n) > 1})
        if dupes:
            raise CatalogError(f"{directory}: service numbers repeat: {dupes}", file=str(directory), field="number")
        return cls(tuple(sorted(services, key=lambda s: s.number)))

    def get(self, service_id: str) -> Service | None:
        for s in self.services:
            if s.id == service_id:
                return s
        return None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)
