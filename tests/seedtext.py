"""An independent reader of the Kazakh seed texts, for checking the catalogue against them.

It shares no code with the catalogue models: it finds a quote in the seed (whitespace
normalised) and reads durations out of Kazakh words ("27 (жиырма жеті) күнтізбелік күн
ішінде", "он бес минуттан аспайды"), so a catalogue value that disagrees with the seed fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

NUMBER_WORDS = {
    "бір": 1, "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7, "сегіз": 8,
    "тоғыз": 9, "он": 10, "жиырма": 20, "отыз": 30, "қырық": 40, "елу": 50, "алпыс": 60,
    "жетпіс": 70, "сексен": 80, "тоқсан": 90, "жүз": 100,
}  # fmt: skip

UNITS = [
    (r"күнтізбелік\s+күн", "calendar_days"),
    (r"жұмыс\s+күн", "working_days"),
    (r"тәулік", "days_24h"),
    (r"сағат", "hours"),
    (r"минут", "minutes"),
    (r"ай(?:\s|ға|да|дан|\b)", "months"),
]
QUALIFIERS = {
    "within": r"ішінде",
    "not_more_than": r"аспай",
    "no_later_than": r"кешіктірмей",
}
_WORD_NUM = (
    r"(?:(?:"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")\s+)*(?:"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")"
)
_DURATION = re.compile(
    r"(?:(?P<digits>\d+)\s*[-–]?\s*(?:\((?P<paren>[^)]{1,40})\))?|(?<![\w])(?P<words>" + _WORD_NUM + r"))"
    r"\s*[-–]?\s*(?P<unit>" + "|".join(u for u, _ in UNITS) + r")",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seeds_dir() -> Path:
    return Path(str(resources.files("egovsim.data").joinpath("seeds")))


@cache
def seed_text(file_code: str) -> str:
    """The whole seed file ``000``…``004``, whitespace normalised."""
    (path,) = seeds_dir().glob(f"{file_code}_*.txt")
    return normalise(path.read_text(encoding="utf-8"))


def words_to_int(words: str) -> int:
    """Kazakh number words: units and tens add up; жүз (hundred) multiplies what precedes it."""
    total = 0
    for w in words.lower().split():
        if w == "жүз":
            total = max(total, 1) * 100
        else:
            total += NUMBER_WORDS[w]
    return total


def despaced(text: str) -> str:
    """Undo letter-spacing the seeds sometimes print ("а с п а й д ы", "2 0 м и н у т")."""
    return re.sub(r"(?<=\b\w) (?=\w\b)", "", text)


@dataclass(frozen=True)
class SeedDuration:
    value: int
    unit: str


def durations_in(text: str) -> list[SeedDuration]:
    """Every number-with-unit in a piece of seed text (also read with letter-spacing undone)."""
    found = _durations(text)
    if (plain := despaced(text)) != text:
        found += [d for d in _durations(plain) if d not in found]
    return found


def _durations(text: str) -> list[SeedDuration]:
    """Digits and the words in brackets after them must agree: "27 (жиырма жеті)"."""
    found: list[SeedDuration] = []
    for m in _DURATION.finditer(text):
        if m.group("digits"):
            value = int(m.group("digits"))
            paren = m.group("paren")
            if paren and all(w in NUMBER_WORDS for w in paren.lower().split()):
                assert words_to_int(paren) == value, f"seed says {value} ({paren}): digits and words disagree"
        else:
            value = words_to_int(m.group("words"))
        unit_text = m.group("unit")
        unit = next(
            name
            for pattern, name in UNITS
            if re.fullmatch(pattern, unit_text, re.IGNORECASE) or re.match(pattern, unit_text + " ", re.IGNORECASE)
        )
        found.append(SeedDuration(value, unit))
    return found


def qualifier_in(text: str, qualifier: str) -> bool:
    return any(re.search(QUALIFIERS[qualifier], t) for t in (text, despaced(text)))
