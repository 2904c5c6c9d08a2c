"""IIN and BIN validation and generation (egovsim.iin), checked against egov-interfaces §11."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egovsim.iin import (
    TEST_NUMBERS,
    NumberError,
    Sex,
    century_digit,
    check_digit,
    iin_prefix,
    iins_for,
    is_valid_bin,
    is_valid_iin,
    is_valid_number,
    make_bin,
    make_iin,
    parse_bin,
    parse_iin,
)

# §11, written out independently of the module: weights 1..11, then 3..11, 1, 2.
PASS1 = tuple(range(1, 12))
PASS2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# No example database: every run starts fresh and no failing examples are replayed from disk.
QUICK = settings(database=None)
SLOW = settings(database=None, deadline=None, max_examples=15)


def weighted(first11: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, first11, strict=True))


def spec_check_digit(first11: str) -> int | None:
    c = weighted(first11, PASS1) % 11
    if c == 10:
        c = weighted(first11, PASS2) % 11
    return None if c == 10 else c


def never_issued(prefix: str) -> list[str]:
    """Every eleven-digit completion of ``prefix`` whose check digit is 10 on both passes."""
    width = 11 - len(prefix)
    candidates = (f"{prefix}{serial:0{width}d}" for serial in range(10**width))
    return [f for f in candidates if weighted(f, PASS1) % 11 == 10 and weighted(f, PASS2) % 11 == 10]


def issued(prefix: str) -> str:
    """The lowest-serial valid twelve-digit number starting with ``prefix``."""
    width = 11 - len(prefix)
    for serial in range(10**width):
        first11 = f"{prefix}{serial:0{width}d}"
        if (digit := spec_check_digit(first11)) is not None:
            return f"{first11}{digit}"
    raise AssertionError(f"no issuable number starts with {prefix}")


dates = st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31))
sexes = st.sampled_from(Sex)


def with_check_digit(first11: str) -> str:
    return f"{first11}{spec_check_digit(first11) or 0}"


# Uniform twelve-digit strings are almost never IINs, so half the strings are built IIN-shaped.
twelve_digits = st.text("0123456789", min_size=12, max_size=12) | st.builds(
    lambda born, digit, serial: with_check_digit(f"{born:%y%m%d}{digit}{serial:04d}"),
    dates,
    st.integers(0, 9),
    st.integers(0, 9999),
)


def reason(parse: Callable[[str], object], number: str) -> str:
    with pytest.raises(NumberError) as caught:
        parse(number)
    return caught.value.reason


# --- The worked examples of §11 -------------------------------------------------------------------


def test_the_male_1990_example_takes_its_check_digit_from_the_first_pass() -> None:
    assert (weighted("90011530001", PASS1), check_digit("90011530001")) == (80, 3)
    iin = parse_iin("900115300013")
    assert (iin.number, iin.birth_date, iin.sex, iin.serial) == ("900115300013", date(1990, 1, 15), Sex.MALE, "0001")
    assert make_iin(date(1990, 1, 15), Sex.MALE, 1) == "900115300013"


def test_the_female_1985_example_takes_its_check_digit_from_the_second_pass() -> None:
    assert (weighted("85071640060", PASS1), weighted("85071640060", PASS2), check_digit("85071640060")) == (175, 183, 7)
    iin = parse_iin("850716400607")
    assert (iin.birth_date, iin.sex, iin.serial) == (date(1985, 7, 16), Sex.FEMALE, "0060")
    assert make_iin(date(1985, 7, 16), Sex.FEMALE, 60) == "850716400607"


def test_the_stdnum_bin_example_decodes_registration_type_division_and_serial() -> None:
    assert (weighted("94014000038", PASS1), check_digit("94014000038")) == (159, 5)
    bin_ = parse_bin("940140000385")
    assert (bin_.registered, bin_.entity_type, bin_.division, bin_.serial) == ((94, 1), 4, 0, "00038")
    assert make_bin(1994, 1, 38) == "940140000385" and is_valid_number("940140000385")


@pytest.mark.parametrize("number", ["900115300013", "850716400607", "940140000385"])
@pytest.mark.parametrize("wrong", range(1, 10))
def test_any_other_last_digit_fails_the_check_digit(number: str, wrong: int) -> None:
    mutated = f"{number[:11]}{(int(number[11]) + wrong) % 10}"
    assert reason(parse_iin, mutated) == reason(parse_bin, mutated) == "check_digit"
    assert not is_valid_number(mutated)


# --- Never-issued numbers -------------------------------------------------------------------------


def test_a_number_whose_check_digit_is_ten_on_both_passes_is_never_issued() -> None:
    first11s = never_issued("9001153")  # male, 1990-01-15: every serial 0000-9999
    assert first11s, "about one serial in 121 is never issued"
    listed = set(iins_for(date(1990, 1, 15), Sex.MALE))
    assert len(listed) == 10_000 - len(first11s)
    for first11 in first11s:
        assert check_digit(first11) is None
        assert make_iin(date(1990, 1, 15), Sex.MALE, int(first11[7:])) is None
        for last in "0123456789":
            assert reason(parse_iin, first11 + last) == "never_issued"
            assert first11 + last not in listed and not is_valid_number(first11 + last)


def test_a_bin_whose_check_digit_is_ten_on_both_passes_is_never_issued() -> None:
    first11s = never_issued("940140")
    assert first11s
    for first11 in first11s[:20]:
        assert check_digit(first11) is None and make_bin(94, 1, int(first11[6:])) is None
        assert {reason(parse_bin, first11 + last) for last in "0123456789"} == {"never_issued"}


# --- Structural errors ----------------------------------------------------------------------------

FORMAT_ERRORS = ["90011530001", "9001153000130", "90011530001A", "٩٠٠١١٥٣٠٠٠١٣", "٠" * 12, "", " 900115300013"]


@pytest.mark.parametrize("number", FORMAT_ERRORS)
def test_anything_but_twelve_ascii_digits_is_a_format_error(number: str) -> None:
    assert reason(parse_iin, number) == reason(parse_bin, number) == "format"
    assert not is_valid_number(number)


@pytest.mark.parametrize("first11", ["٠" * 11, "²" * 11, "9001153000", "900115300013", "9001153000a"])
def test_the_check_digit_needs_exactly_eleven_ascii_digits(first11: str) -> None:
    with pytest.raises(NumberError) as caught:
        check_digit(first11)
    assert caught.value.reason == "format"


@pytest.mark.parametrize("digit", "0789")
def test_an_iin_century_digit_outside_one_to_six_is_a_century_error(digit: str) -> None:
    assert reason(parse_iin, issued(f"900115{digit}")) == "century"


@pytest.mark.parametrize("prefix", ["9002303", "9013153", "9001003", "0002293"])  # Feb 30, month 13, day 0, 1900-02-29
def test_an_iin_whose_first_six_digits_are_no_date_is_a_birth_date_error(prefix: str) -> None:
    assert reason(parse_iin, issued(prefix)) == "birth_date"


def test_february_29_is_a_birth_date_only_in_leap_years() -> None:
    assert parse_iin(issued("0002295")).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("940040", "month"),
        ("941340", "month"),
        ("940130", "entity_type"),
        ("940170", "entity_type"),
        ("940144", "division"),
        ("940169", "division"),
    ],
)
def test_a_bin_with_an_impossible_field_names_that_field(prefix: str, expected: str) -> None:
    assert reason(parse_bin, issued(prefix)) == expected


@pytest.mark.parametrize("number", sorted(TEST_NUMBERS))
def test_the_nca_test_numbers_are_accepted_as_numbers_but_not_as_iins(number: str) -> None:
    assert is_valid_number(number)
    assert not is_valid_iin(number) and not is_valid_bin(number)
    assert reason(parse_iin, number) == "check_digit"


# --- Century and sex ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "sex", "digit"),
    [
        (date(1899, 12, 31), Sex.MALE, 1),
        (date(1900, 1, 1), Sex.FEMALE, 4),
        (date(2000, 1, 1), Sex.MALE, 5),
        (date(2099, 12, 31), Sex.FEMALE, 6),
    ],
)
def test_the_century_digit_encodes_century_and_sex(born: date, sex: Sex, digit: int) -> None:
    assert century_digit(born, sex) == digit
    assert iin_prefix(born, sex) == f"{born:%y%m%d}{digit}"
    number = iins_for(born, sex)[0]
    assert (parse_iin(number).birth_date, parse_iin(number).sex) == (born, sex)


@pytest.mark.parametrize("born", [date(1799, 12, 31), date(2100, 1, 1)])
def test_births_outside_1800_to_2099_have_no_century_digit(born: date) -> None:
    for sex in Sex:
        with pytest.raises(NumberError) as caught:
            make_iin(born, sex, 1)
        assert caught.value.reason == "century"


# --- Properties -----------------------------------------------------------------------------------


@QUICK
@given(st.text("0123456789", min_size=11, max_size=11))
def test_check_digit_follows_the_two_pass_formula(first11: str) -> None:
    assert check_digit(first11) == spec_check_digit(first11)


@QUICK
@given(dates, sexes, st.integers(0, 9999))
def test_make_iin_encodes_birth_date_sex_and_serial_or_declines_a_never_issued_serial(
    born: date, sex: Sex, serial: int
) -> None:
    number = make_iin(born, sex, serial)
    if number is None:
        assert check_digit(f"{iin_prefix(born, sex)}{serial:04d}") is None
        return
    iin = parse_iin(number)
    assert (iin.number, iin.birth_date, iin.sex, iin.serial) == (number, born, sex, f"{serial:04d}")


@SLOW
@given(dates, sexes)
def test_iins_for_lists_every_issuable_iin_of_a_birth_date_and_sex_in_increasing_order(born: date, sex: Sex) -> None:
    numbers = iins_for(born, sex)
    assert all(a < b for a, b in pairwise(numbers))
    assert numbers == [n for s in range(10_000) if (n := make_iin(born, sex, s)) is not None]
    assert all((iin := parse_iin(n)).birth_date == born and iin.sex == sex for n in numbers)
    assert iins_for(born, sex, start=5000) == [n for n in numbers if int(n[7:11]) >= 5000]


@QUICK
@given(twelve_digits)
def test_a_twelve_digit_string_is_a_valid_iin_only_if_it_parses_consistently(number: str) -> None:
    checks = spec_check_digit(number[:11]) == int(number[11])
    assert is_valid_number(number) == (checks or number in TEST_NUMBERS)
    if not is_valid_iin(number):
        return
    iin = parse_iin(number)
    assert checks and int(number[6]) == century_digit(iin.birth_date, iin.sex)
    assert make_iin(iin.birth_date, iin.sex, int(iin.serial)) == number


@QUICK
@given(
    st.integers(1990, 2099), st.integers(1, 12), st.integers(0, 99_999), st.sampled_from([4, 5, 6]), st.integers(0, 3)
)
def test_make_bin_encodes_registration_type_division_and_serial(
    year: int, month: int, serial: int, entity_type: int, division: int
) -> None:
    number = make_bin(year, month, serial, entity_type=entity_type, division=division)
    if number is None:
        assert check_digit(f"{year % 100:02d}{month:02d}{entity_type}{division}{serial:05d}") is None
        return
    bin_ = parse_bin(number)
    assert bin_.registered == (year % 100, month)
    assert (bin_.entity_type, bin_.division, bin_.serial) == (entity_type, division, f"{serial:05d}")
