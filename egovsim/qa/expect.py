"""Expectations against an act's outcome: each mismatch a readable line of a diff."""

from __future__ import annotations

from typing import Any

from egovsim.catalog.refusals import RefusalCatalog
from egovsim.qa.acts import Outcome
from egovsim.qa.scenario import Expect

_SIMPLE = ("ok", "http", "code", "step", "status", "deadline")


def mismatches(expect: Expect, out: Outcome, refusals: RefusalCatalog) -> list[str]:
    """What differs, as ``- expected`` / ``+ actual`` pairs with a heading; empty when all holds."""
    lines: list[str] = []

    def differ(what: str, expected: Any, actual: Any) -> None:
        lines.extend([f"{what}:", f"  - expected: {expected!r}", f"  + actual:   {actual!r}"])

    for name in _SIMPLE:
        wanted = getattr(expect, name)
        if wanted is not None and wanted != getattr(out, name):
            differ(name, wanted, getattr(out, name))
    for lang, text in (expect.message or {}).items():
        got = (out.messages or {}).get(lang)
        if got is None or text not in got:
            differ(f"message[{lang}] contains", text, got)
    catalogue = expect.catalogue_texts if expect.catalogue_texts is not None else expect.code is not None
    entry = refusals.get(expect.code) if expect.code else None
    if catalogue and entry is not None and out.code == expect.code and out.messages is not None:
        for lang in ("kk", "ru", "en"):
            if not _matches_template(entry.texts.get(lang), out.messages.get(lang, "")):
                differ(f"message[{lang}] is the catalogue's text of {expect.code}", entry.texts.get(lang),
                       out.messages.get(lang))  # fmt: skip
    if catalogue and entry is not None and out.code == expect.code and out.messages is None:
        differ(f"kk/ru/en messages of {expect.code}", "present", None)
    if expect.trace is not None:
        missing = _subsequence_gap(expect.trace, out.trace or [])
        if missing is not None:
            differ("trace has, in this order", expect.trace, out.trace)
            lines.append(f"  (first not found in order: {missing!r})")
    if expect.trace_ends is not None:
        last = (out.trace or [None])[-1]
        if last != expect.trace_ends:
            differ("trace ends with", expect.trace_ends, last)
    for prefix in expect.trace_excludes or []:
        found = [e for e in out.trace or [] if e.startswith(prefix)]
        if found:
            differ(f"trace has no {prefix!r}", [], found)
    for path, wanted in (expect.result or {}).items():
        got = _dig(out.result, path)
        if got != wanted:
            differ(f"result.{path}", wanted, got)
    if expect.notifications is not None and sorted(expect.notifications) != sorted(out.notifications or []):
        differ("notifications", sorted(expect.notifications), out.notifications)
    return lines


def _subsequence_gap(wanted: list[str], events: list[str]) -> str | None:
    """The first wanted event not found after the previous one; None when all are, in order."""
    position = 0
    for event in wanted:
        try:
            position = events.index(event, position) + 1
        except ValueError:
            return event
    return None


def _matches_template(template: str, text: str) -> bool:
    """The text is the template with its ``{placeholders}`` filled in."""
    import re

    parts = re.split(r"\{[a-z_]+\}", template)
    pattern = ".*".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, text, flags=re.DOTALL) is not None


def _dig(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
