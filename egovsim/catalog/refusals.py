"""The refusal catalogue: stable codes, the regulation step that produces each, kk/ru/en texts.

Principle 5: the same code appears in the API, the cabinet, the trace and the QA report.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from egovsim.catalog.loader import _field_path, load_yaml
from egovsim.catalog.models import SeedRef, Strict, Texts
from egovsim.errors import CatalogError


class RefusalEntry(Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    kind: Literal["refusal", "notification", "receipt", "result", "fault", "error"]
    step: Annotated[str, Field(pattern=r"^[a-z_]+:\S+$")]
    http_status: int = Field(ge=200, le=599)
    texts: Texts
    seed: SeedRef | None = None

    def message(self, lang: str, params: dict[str, object] | None = None) -> str:
        """The text in ``lang`` with its placeholders filled; a parameter given as a mapping of
        languages (``{"kk": …, "ru": …, "en": …}``) fills each text in its own language."""
        text = self.texts.get(lang)
        if params:
            params = {k: (v.get(lang, v.get("en", "")) if isinstance(v, dict) else v) for k, v in params.items()}
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def messages(self, params: dict[str, object] | None = None) -> dict[str, str]:
        return {lang: self.message(lang, params) for lang in ("kk", "ru", "en")}


def default_refusals_file() -> Path:
    return Path(str(resources.files("egovsim.data").joinpath("refusals.yaml")))


@dataclass(frozen=True)
class RefusalCatalog:
    entries: tuple[RefusalEntry, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> RefusalCatalog:
        path = path or default_refusals_file()
        try:
            raw = load_yaml(path.read_text(encoding="utf-8"))
            entries = TypeAdapter(list[RefusalEntry]).validate_python(raw)
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path}: not valid YAML: {exc}", file=str(path)) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            field = _field_path(first["loc"])
            raise CatalogError(f"{path}: field {field}: {first['msg']}", file=str(path), field=field) from exc
        codes = [e.code for e in entries]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise CatalogError(f"{path}: codes repeat: {dupes}", file=str(path), field="code")
        return cls(tuple(entries))

    def get(self, code: str) -> RefusalEntry | None:
        return next((e for e in self.entries if e.code == code), None)

    def __contains__(self, code: object) -> bool:
        return any(e.code == code for e in self.entries)
