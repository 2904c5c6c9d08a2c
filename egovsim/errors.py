"""The one exceptions module of egovsim.

Hierarchy::

    EgovsimError                 anything egovsim raises on purpose
    ├── CatalogError             a data file (service, refusal catalogue) is broken: stops start-up
    ├── ConfigurationError       settings that cannot work together
    └── CodedError               a refusal or fault with a stable code from the refusal catalogue;
                                 one handler per interface turns it into that interface's wire
                                 format (JSON problem, SOAP fault, a page in the cabinet)
"""

from __future__ import annotations

from typing import Any


class EgovsimError(Exception):
    """Base of every error egovsim raises on purpose."""


class CatalogError(EgovsimError):
    """A catalogue data file is broken; the message names the file and the field."""

    def __init__(self, message: str, *, file: str, field: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.field = field


class ConfigurationError(EgovsimError):
    """Settings that cannot work (a bad database URL, an unknown component)."""


class CodedError(EgovsimError):
    """A refusal or fault carrying a stable code of the refusal catalogue.

    ``detail`` is a plain-English explanation of this occurrence (which field, which value);
    the catalogue supplies the regulation step label, the HTTP status and the kk/ru/en texts.
    ``params`` fill ``{placeholders}`` in those texts.
    """

    def __init__(self, code: str, detail: str | None = None, /, **params: Any) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.params = params
        self.extra: dict[str, Any] = {}  # more members of the HTTP problem (e.g. ``traceId``)
