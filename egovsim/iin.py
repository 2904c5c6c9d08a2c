"""IIN and BIN: the twelve-digit numbers of individuals and legal entities (egov-interfaces §11).

One module for the whole project: validation (structure, birth date, century/sex digit, the
two-pass check digit) and generation of valid numbers.

IIN: ``YYMMDD`` birth date; digit 7 the century and sex (1/2 born in the 19th century, 3/4 in the
20th, 5/6 in the 21st; odd male, even female); digits 8–11 a serial; digit 12 the check digit.
BIN: ``YYMM`` of registration; digit 5 the entity type (4 resident legal entity, 5 non-resident,
6 individual entrepreneur in a joint venture); digit 6 the division (0 head office, 1 branch,
2 representative office, 3 peasant farm); digits 7–11 a serial; digit 12 the check digit.

Check digit: ``(1·a1 + 2·a2 + … + 11·a11) mod 11``; when that is 10, a second pass with the
weights 3, 4, …, 11, 1, 2; when that is 10 too, the number is never issued.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

# The NCA's own test numbers fail the check digit; certificates may carry them (§10).
TEST_NUMBERS = frozenset({"123456789011", "123456789021"})

_PASS1 = tuple(range(1, 12))
_PASS2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class Sex(enum.IntEnum):
    """As ГБД ФЛ codes ``gender``: 1 male, 2 female."""

    MALE = 1
    FEMALE = 2


class NumberError(ValueError):
    """Why a string is not a valid IIN/BIN; ``reason`` is a short machine word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_digit(first11: str) -> int | None:
    """The check digit of eleven digits, or None when such a number is never issued."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise NumberError("format", f"{first11!r} is not eleven digits")
    digits = [ord(c) - 48 for c in first11]
    c = sum(w * d for w, d in zip(_PASS1, digits, strict=True)) % 11
    if c == 10:
        c = sum(w * d for w, d in zip(_PASS2, digits, strict=True)) % 11
    return None if c == 10 else c


def _checked(number: str, what: str) -> str:
    if not isinstance(number, str) or len(number) != 12 or not number.isascii() or not number.isdigit():
        raise NumberError("format", f"an {what} is twelve digits, not {number!r}")
    expected = check_digit(number[:11])
    if expected is None:
        raise NumberError("never_issued", f"{number}: the check digit is 10 on both passes; never issued")
    if int(number[11]) != expected:
        raise NumberError("check_digit", f"{number}: the check digit should be {expected}")
    return number


def is_valid_number(number: str) -> bool:
    """Twelve digits with a correct check digit (IIN or BIN), or an NCA test number."""
    if number in TEST_NUMBERS:
        return True
    try:
        _checked(number, "IIN or BIN")
    except NumberError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Iin:
    number: str
    birth_date: date
    sex: Sex
    serial: str


def parse_iin(number: str) -> Iin:
    """The IIN's facts; raises NumberError (reason: format, century, birth_date, check_digit,
    never_issued) when it is not a valid IIN."""
    _checked(number, "IIN")
    digit = int(number[6])
    if digit not in _CENTURY:
        raise NumberError("century", f"{number}: digit 7 must be 1–6 (century and sex), not {digit}")
    try:
        born = date(_CENTURY[digit] + int(number[0:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        raise NumberError("birth_date", f"{number}: {number[:6]} is not a date (YYMMDD)") from None
    return Iin(number, born, Sex.MALE if digit % 2 else Sex.FEMALE, number[7:11])


def is_valid_iin(number: str) -> bool:
    try:
        parse_iin(number)
    except NumberError:
        return False
    return True


def century_digit(birth_date: date, sex: Sex) -> int:
    base = {1800: 1, 1900: 3, 2000: 5}.get(birth_date.year // 100 * 100)
    if base is None:
        raise NumberError("century", f"no IIN century digit for a birth in {birth_date.year}")
    return base + (0 if sex == Sex.MALE else 1)


def iin_prefix(birth_date: date, sex: Sex) -> str:
    """The first seven digits: birth date and the century/sex digit."""
    return f"{birth_date:%y%m%d}{century_digit(birth_date, sex)}"


def make_iin(birth_date: date, sex: Sex, serial: int) -> str | None:
    """The IIN with this serial (0–9999), or None when that serial gives a never-issued number."""
    if not 0 <= serial <= 9999:
        raise NumberError("format", f"an IIN serial is 0–9999, not {serial}")
    first11 = f"{iin_prefix(birth_date, sex)}{serial:04d}"
    digit = check_digit(first11)
    return None if digit is None else f"{first11}{digit}"


def iins_for(birth_date: date, sex: Sex, start: int = 0) -> list[str]:
    """Every issuable IIN of one birth date and sex, serials from ``start`` upwards, in order."""
    prefix = iin_prefix(birth_date, sex)
    found = []
    for serial in range(start, 10000):
        first11 = f"{prefix}{serial:04d}"
        digit = check_digit(first11)
        if digit is not None:
            found.append(f"{first11}{digit}")
    return found


@dataclass(frozen=True, slots=True)
class Bin:
    number: str
    registered: tuple[int, int]  # (two-digit year, month)
    entity_type: int
    division: int
    serial: str


def parse_bin(number: str) -> Bin:
    """The BIN's facts; raises NumberError (reason: format, month, entity_type, division,
    check_digit, never_issued)."""
    _checked(number, "BIN")
    month = int(number[2:4])
    if not 1 <= month <= 12:
        raise NumberError("month", f"{number}: digits 3–4 are the month of registration, not {number[2:4]}")
    if number[4] not in "456":
        raise NumberError("entity_type", f"{number}: digit 5 must be 4, 5 or 6 (the entity type), not {number[4]}")
    if number[5] not in "0123":
        raise NumberError("division", f"{number}: digit 6 must be 0–3 (the division), not {number[5]}")
    return Bin(number, (int(number[:2]), month), int(number[4]), int(number[5]), number[6:11])


def is_valid_bin(number: str) -> bool:
    try:
        parse_bin(number)
    except NumberError:
        return False
    return True


def make_bin(year: int, month: int, serial: int, *, entity_type: int = 4, division: int = 0) -> str | None:
    """The BIN registered in ``year``/``month`` with this serial (0–99999), or None when never issued."""
    if entity_type not in (4, 5, 6) or division not in (0, 1, 2, 3) or not 1 <= month <= 12:
        raise NumberError("format", "entity type 4–6, division 0–3 and a month 1–12")
    if not 0 <= serial <= 99999:
        raise NumberError("format", f"a BIN serial is 0–99999, not {serial}")
    first11 = f"{year % 100:02d}{month:02d}{entity_type}{division}{serial:05d}"
    digit = check_digit(first11)
    return None if digit is None else f"{first11}{digit}"
