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
    # the regulation's one refusal this code gives a particular reason of, at the same step
    # (EDS_CERT_REVOKED refines the 4-процесс refusal EDS_NOT_CONFIRMED)
    refines: Annotated[str | None, Field(pattern=r"^[A-Z][A-Z0-9_]*$")] = None

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


_LOADED: dict[tuple[str, int, int], RefusalCatalog] = {}


def default_refusals_file() -> Path:
    return Path(str(resources.files("egovsim.data").joinpath("refusals.yaml")))


@dataclass(frozen=True)
class RefusalCatalog:
    entries: tuple[RefusalEntry, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> RefusalCatalog:
        """The catalogue of ``path`` (the built-in one by default), parsed once per version of the
        file in a process: it is immutable, and a process that builds many simulators (a test
        suite, a QA replay) would parse it for each."""
        path = path or default_refusals_file()
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _LOADED:
            _LOADED[key] = cls._parse(path)
        return _LOADED[key]

    @classmethod
    def _parse(cls, path: Path) -> RefusalCatalog:
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
        unknown = sorted({e.refines for e in entries if e.refines and e.refines not in codes})
        if unknown:
            raise CatalogError(f"{path}: refines unknown codes: {unknown}", file=str(path), field="refines")
        return cls(tuple(entries))

    def get(self, code: str) -> RefusalEntry | None:
        return next((e for e in self.entries if e.code == code), None)

    def __contains__(self, code: object) -> bool:
        return any(e.code == code for e in self.entries)
