"""A synthetic ЖТ МДҚ / ГБД ФЛ population: a deterministic generator of ``registry_persons`` rows.

The same ``seed`` and ``persons`` give the same rows, byte for byte, however the work is split:
the population is a sequence of *units*, one per (birth date, sex), in the order of their IIN
prefix (``YYMMDD`` then the century/sex digit), so the rows come out in ascending IIN order and a
clustered primary key is only ever appended to. How many persons each unit holds is fixed up
front for the whole run (integer shares of a cumulative weight: an age pyramid with per-day
jitter from ``seed``), so any range of units can be generated on its own, by any process, from
its own random stream (seeded by ``seed``, birth date and sex); ranges concatenate in order.

Within a unit the IIN serials (digits 8–11) ascend from 1001 with small random gaps, skipping the
serials whose check digit is 10 on both passes (egov-interfaces §11); 0000–0999 are left to
hand-made records (the demo personas, tests), which never collide with generated ones. So one
unit holds at most about 5,900 persons, a population about 186 million: :class:`PersonGenerator`
refuses more up front (:class:`ValueError`), never halfway through a run.

What the rows hold (egov-interfaces §8; codes from :mod:`mock_registries.dictionaries`): names in
upper case as ГБД ФЛ writes them, Kazakh in Kazakh orthography, with gendered forms (surnames
-ОВ/-ОВА, -ЕВ/-ЕВА, -ИН/-ИНА, -СКИЙ/-СКАЯ, Kazakh ones also without a suffix; patronymics -ҰЛЫ/-ҚЫЗЫ
or -ОВИЧ/-ОВНА) and their Latin lines; nationality 005 for ~70 %; citizenship 398 for nearly all;
birth place and registered address weighted by region population; an identity document (ID card
002, passport 001, or a foreign passport 015 for foreign citizens) issued in the last ten years to
everyone of 16 or older; ~1 % deceased, 0.2 % with a capacity status, 0.05 % missing, 0.01 %
removed. The population stands at :data:`AS_OF`, a fixed date, so a run does not depend on the
day it is made. Dates are ISO strings (``YYYY-MM-DD``: SQLite's storage form and COPY's text
form), booleans Python ``bool``; ``extra`` is always NULL.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from egovsim.iin import Sex, iin_prefix
from egovsim.translit import latin
from mock_registries import dictionaries

AS_OF = date(2025, 12, 31)
"""The day the synthetic population stands at: ages, document validity and deaths are counted to it."""

OLDEST_AGE = 100
FIRST_SERIAL = 1000  # serials below are left to hand-made records (personas, tests)
LAST_SERIAL = 9999

COLUMNS = (
    "iin", "surname", "name", "patronymic", "surname_lat", "name_lat", "birth_date", "gender",
    "nationality", "citizenship", "birth_country", "birth_region", "birth_district", "birth_city",
    "reg_region", "reg_district", "reg_street", "reg_building", "reg_flat", "reg_begin_date",
    "doc_type", "doc_number", "doc_begin_date", "doc_end_date", "doc_issuer", "doc_status",
    "life_status", "death_date", "capable_status", "missing", "removed", "extra",
)  # fmt: skip
"""The columns of ``registry_persons``, in table order: the shape of every row."""

Row = tuple[Any, ...]

# Share of the population (per cent) by five-year age band, youngest first: Kazakhstan's pyramid
# around 2024 (a young population: a birth boom in the 2010s, the 1990s' dip at 25–34).
_AGE_BANDS = (9.6, 9.8, 8.6, 7.2, 6.2, 6.6, 8.2, 8.0, 7.0, 6.0, 5.6, 5.4, 5.0, 4.0, 2.6, 1.3, 0.9, 0.45, 0.15, 0.04)
# the 2021 census' shares of the nationalities in dictionaries.NATIONALITY (per cent)
_NATIONALITY_SHARES = {
    "005": 70.4, "001": 15.5, "006": 3.3, "002": 1.9, "040": 1.5, "070": 1.1, "016": 1.1, "080": 0.6,
}  # fmt: skip
# nationality → (surname list, given-name list); Turkic given names for the Central Asian peoples
_NAMING = {
    "005": ("kazakh", "kazakh"), "001": ("russian", "russian"), "002": ("ukrainian", "russian"),
    "006": ("uzbek", "kazakh"), "016": ("tatar", "kazakh"), "040": ("uighur", "kazakh"),
    "070": ("german", "russian"), "080": ("korean", "russian"),
}  # fmt: skip
_INVARIANT_SURNAMES = frozenset({"german", "korean"})  # the same for women
# foreign citizens (per ten thousand) and their citizenships; they carry a foreign passport (015)
_FOREIGN_CITIZENS = 40
_FOREIGN_CITIZENSHIPS = ("643", "643", "860", "417", "156")
# born abroad (per thousand): mostly in the other Soviet republics, and the returning Kazakhs
# (қандастар) from China and Mongolia
_BORN_ABROAD = 25
_BIRTH_COUNTRIES = ("643",) * 10 + ("860",) * 4 + ("417",) * 2 + ("156",) * 2 + ("496",) * 2
_SAME_REGION = 65  # per cent registered in the region of their birth
_ID_CARD = 85  # per cent of the citizens' documents that are ID cards (002), the rest passports (001)
# rare statuses, per million (mutually exclusive): deceased, then capacity, missing, removed
_DECEASED, _INCAPABLE, _MISSING, _REMOVED = 10_000, 2_000, 500, 100
_DEATHS_WITHIN_DAYS = 20 * 365  # the registry's deceased died within the last twenty years
_DOC_ISSUED_WITHIN_DAYS = 3650  # a valid document was issued in the last ten years

_VOWELS = frozenset("АӘЕЁИЫІОӨУҰҮЭЮЯ")

# the two passes of the IIN check digit (egov-interfaces §11): weights of digits 1–7 and 8–11
_PASS1, _PASS2 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_SERIAL_TEXT = tuple(f"{s:04d}" for s in range(10000))
_SERIAL_PASS1 = tuple(sum(w * int(d) for w, d in zip(_PASS1[7:], t, strict=True)) for t in _SERIAL_TEXT)
_SERIAL_PASS2 = tuple(sum(w * int(d) for w, d in zip(_PASS2[7:], t, strict=True)) for t in _SERIAL_TEXT)
# the most serials of 1001–9999 one prefix loses to a check digit of 10 on both passes (75), from
# the 121 remainders of the prefix's two sums
_MOST_SKIPPED = max(
    sum(
        (p1 + _SERIAL_PASS1[s]) % 11 == 10 and (p2 + _SERIAL_PASS2[s]) % 11 == 10
        for s in range(FIRST_SERIAL + 1, LAST_SERIAL + 1)
    )
    for p1 in range(11)
    for p2 in range(11)
)
# a unit of at most this many persons fits however its gaps fall (each gap 2 at worst)
_ALWAYS_FITS = (LAST_SERIAL - FIRST_SERIAL - _MOST_SKIPPED) // 2

_BUILDINGS = tuple(str(b) for b in range(1, 151)) + tuple(f"{b}{s}" for b in range(1, 41) for s in "АБ")
_FLATS = tuple(str(f) for f in range(1, 301))  # a draw of 301–400 is a house: no flat

# document numbers: a bijection of the person's ordinal in the run (never repeated within a run)
_ID_CARD_MULTIPLIER, _PASSPORT_MULTIPLIER = 387_420_489, 43_046_721  # powers of 3: coprime to 10


def feminine_surname(surname: str) -> str:
    """ИВАНОВ → ИВАНОВА, АБДУЛЛИН → АБДУЛЛИНА, ВЫСОЦКИЙ → ВЫСОЦКАЯ; СЕЙТҚАЛИ, ШЕВЧЕНКО stay."""
    if surname.endswith(("ОВ", "ЕВ", "ЁВ", "ИН", "ЫН")):
        return surname + "А"
    if surname.endswith(("СКИЙ", "ЦКИЙ")):
        return surname[:-2] + "АЯ"
    return surname


def surname_from_name(name: str) -> str:
    """A Kazakh surname made from a forefather's name: НҰРЛАН → НҰРЛАНОВ, АБАЙ → АБАЕВ, ҚАЛИ → ҚАЛИЕВ."""
    if name.endswith("Й"):
        return name[:-1] + "ЕВ"
    return name + ("ЕВ" if name[-1] in _VOWELS else "ОВ")


def kazakh_patronymics(father: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """((son, daughter) Kazakh style, (son, daughter) Russian style) of a Kazakh father's name:
    СЕРІК → (СЕРІКҰЛЫ, СЕРІКҚЫЗЫ), (СЕРІКОВИЧ, СЕРІКОВНА); АБАЙ → … (АБАЕВИЧ, АБАЕВНА)."""
    stem = father[:-1] + "Е" if father.endswith("Й") else father + ("Е" if father[-1] in _VOWELS else "О")
    return (father + "ҰЛЫ", father + "ҚЫЗЫ"), (stem + "ВИЧ", stem + "ВНА")


@dataclass(frozen=True, slots=True)
class _Naming:
    """The names one nationality's people are drawn from, Latin lines precomputed."""

    code: str
    surnames: tuple[tuple[tuple[str, str], tuple[str, str]], ...]  # ((male, Latin), (female, Latin))
    given: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]  # male, female: (name, Latin)
    patronymics: tuple[tuple[str, str], ...]  # (son's, daughter's), one per father's name
    kazakh_patronymics: tuple[tuple[str, str], ...] | None  # -ҰЛЫ/-ҚЫЗЫ forms, when the people use them


@functools.cache
def _namings() -> dict[str, _Naming]:
    data = yaml.safe_load((Path(__file__).parent / "data" / "names.yaml").read_text(encoding="utf-8"))
    given, surnames = data["given_names"], data["surnames"]
    kazakh_fathers = given["kazakh"]["male"]
    kazakh_forms = [kazakh_patronymics(f) for f in kazakh_fathers]
    lists = dict(surnames)
    # Kazakh surnames come from a forefather's name: the list, and one made from every male name
    lists["kazakh"] = list(dict.fromkeys([*surnames["kazakh"], *map(surname_from_name, kazakh_fathers)]))
    namings = {}
    for code, (surname_list, given_list) in _NAMING.items():
        invariant = surname_list in _INVARIANT_SURNAMES
        pairs = tuple(
            ((s, latin(s)), (s, latin(s)) if invariant else (feminine_surname(s), latin(feminine_surname(s))))
            for s in lists[surname_list]
        )
        if given_list == "kazakh":
            male = tuple(given["kazakh"]["male"])
            patronymics = tuple(russian for _kazakh, russian in kazakh_forms)
            kazakh = tuple(k for k, _russian in kazakh_forms) if code == "005" else None
        else:
            male = tuple(name for name, _son, _daughter in given["russian"]["male"])
            patronymics = tuple((son, daughter) for _name, son, daughter in given["russian"]["male"])
            kazakh = None
        female = tuple(given[given_list]["female"])
        namings[code] = _Naming(
            code,
            pairs,
            (tuple((n, latin(n)) for n in male), tuple((n, latin(n)) for n in female)),
            patronymics,
            kazakh,
        )
    return namings


@functools.cache
def _places() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Street names, and birth cities abroad by country."""
    data = yaml.safe_load((Path(__file__).parent / "data" / "names.yaml").read_text(encoding="utf-8"))
    cities = {country: tuple(names) for country, names in data["foreign_birth_cities"].items()}
    return tuple(data["streets"]), cities


@functools.cache
def _tables() -> tuple[tuple[_Naming, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """One-index choices: the nationality (with its names) and the region (with its districts)."""
    namings = _namings()
    nationalities = _weighted_table([namings[c] for c in _NATIONALITY_SHARES], list(_NATIONALITY_SHARES.values()))
    weights = dictionaries.REGION_WEIGHTS
    regions = _weighted_table([(code, districts) for code, _w, districts in weights], [w for _c, w, _d in weights])
    return nationalities, regions


def _weighted_table(items: Sequence[Any], weights: Sequence[float], size: int = 4096) -> tuple[Any, ...]:
    """``size`` slots, each item in a share of them proportional to its weight: a choice is one index."""
    total = sum(weights)
    bounds, acc = [], 0.0
    for w in weights:
        acc += w
        bounds.append(acc / total * size)
    return tuple(items[min(bisect.bisect_right(bounds, i + 0.5), len(items) - 1)] for i in range(size))


def _band_weight(age: int) -> float:
    """The share of one year of birth in the pyramid (per cent)."""
    return _AGE_BANDS[min(age // 5, len(_AGE_BANDS) - 1)] / 5


class PersonGenerator:
    """The rows of ``persons`` synthetic people for ``seed``, in ascending IIN order.

    The work is split by *units* (one per birth date and sex, in IIN order): :meth:`chunks` cuts
    them into ranges of about ``rows`` persons, :meth:`rows` makes one range; the ranges
    concatenate to the whole population whichever way it is cut.
    """

    def __init__(self, seed: int, persons: int, as_of: date = AS_OF) -> None:
        if persons < 0 or seed < 0:
            raise ValueError("the seed and the number of persons are not negative")
        self.seed, self.persons, self.as_of = seed, persons, as_of
        first = date(as_of.year - OLDEST_AGE, 1, 1)
        self._first_ordinal = first.toordinal()
        last_index = as_of.toordinal() - self._first_ordinal
        # ISO text of every day from the oldest birth to ten years past AS_OF (document ends)
        end = date(as_of.year + 11, 1, 1).toordinal() - self._first_ordinal
        self._iso = [(first + timedelta(days=i)).isoformat() for i in range(end)]
        self._as_of_index = last_index
        # a document is valid for ten years (egov-interfaces §8): its end day, for every issue day
        self._plus10 = [
            _years_later(first + timedelta(days=i), 10).toordinal() - self._first_ordinal for i in range(last_index + 1)
        ]
        jitter = random.Random(seed)
        units: list[tuple[str, int, int, float]] = []
        for index in range(last_index + 1):
            born = first + timedelta(days=index)
            per_day = _band_weight(as_of.year - born.year) / (366 if born.year % 4 == 0 else 365)
            for sex in (Sex.MALE, Sex.FEMALE):
                units.append((iin_prefix(born, sex), index, int(sex), per_day * (0.8 + 0.4 * jitter.random())))
        units.sort()
        self._prefix = [u[0] for u in units]
        self._day = [u[1] for u in units]
        self._sex = [u[2] for u in units]
        # integer shares: unit u holds persons·W(<u)//W .. persons·W(≤u)//W, exactly ``persons`` in all
        weights = [int(u[3] * 1e9) for u in units]
        total, acc = sum(weights), 0
        self._start = [0]
        for w in weights:
            acc += w
            self._start.append(persons * acc // total)
        self._refuse_overflow()

    def _refuse_overflow(self) -> None:
        """Raise :class:`ValueError` now, not mid-load, if a unit would run out of IIN serials.

        Unit ``u`` of ``n`` persons ends at serial ``FIRST_SERIAL + n + (its gaps of 2) + (serials
        skipped)``. Most units are small enough to fit however the gaps fall; for the others the
        gaps are drawn (one call, as :meth:`_unit` draws them), and only those within the skips'
        margin are walked serial by serial.
        """
        room = LAST_SERIAL - FIRST_SERIAL
        for u in range(self.units):
            count = self._start[u + 1] - self._start[u]
            if count <= _ALWAYS_FITS:
                continue
            least = (count + self._rng(u).getrandbits(count).bit_count()) if count <= room else count
            if least + _MOST_SKIPPED <= room:
                continue
            if least <= room:
                with contextlib.suppress(ValueError):
                    self._unit(u)
                    continue
            biggest = max(self._start[v + 1] - self._start[v] for v in range(self.units))
            most = self.persons * (room - _MOST_SKIPPED - 150) * 2 // 3 // biggest  # gaps average 1.5
            born = date.fromordinal(self._first_ordinal + self._day[u])
            raise ValueError(
                f"too many persons: {self.persons:,} would give {count:,} persons one birth date and sex "
                f"({born.isoformat()}, {Sex(self._sex[u]).name.lower()}), more than its IIN serials hold; "
                f"one population holds at most about {most // 1_000_000:,} million persons"
            )

    @property
    def units(self) -> int:
        return len(self._prefix)

    def persons_in(self, lo: int, hi: int) -> int:
        """How many persons the units ``lo``..``hi`` hold."""
        return self._start[hi] - self._start[lo]

    def chunks(self, rows: int) -> list[tuple[int, int]]:
        """Ranges of units, in order, of about ``rows`` persons each (at least one unit each)."""
        ranges, lo = [], 0
        while lo < self.units:
            hi = bisect.bisect_left(self._start, self._start[lo] + max(rows, 1), lo + 1)
            hi = min(max(hi, lo + 1), self.units)
            ranges.append((lo, hi))
            lo = hi
        return ranges

    def _rng(self, u: int) -> random.Random:
        return random.Random((self.seed << 24) | (self._day[u] << 1) | (self._sex[u] - 1))

    def _unit(self, u: int) -> tuple[random.Random, list[str]]:
        """The unit's random stream and its IINs (drawn first, so IINs alone are cheap to list)."""
        count = self._start[u + 1] - self._start[u]
        rng = self._rng(u)
        prefix = self._prefix[u]
        digits = [ord(c) - 48 for c in prefix]
        p1 = sum(w * d for w, d in zip(_PASS1, digits, strict=False))
        p2 = sum(w * d for w, d in zip(_PASS2, digits, strict=False))
        gaps = rng.getrandbits(count) if count else 0
        iins, serial = [], FIRST_SERIAL
        for _ in range(count):
            serial += 1 + (gaps & 1)
            gaps >>= 1
            while True:
                if serial > LAST_SERIAL:
                    raise ValueError(f"more than the IIN serials of {prefix}: too many persons for one birth date")
                check = (p1 + _SERIAL_PASS1[serial]) % 11
                if check == 10:
                    check = (p2 + _SERIAL_PASS2[serial]) % 11
                if check != 10:
                    break
                serial += 1
            iins.append(f"{prefix}{_SERIAL_TEXT[serial]}{check}")
        return rng, iins

    def iins(self, lo: int = 0, hi: int | None = None) -> list[str]:
        """The IINs of units ``lo``..``hi`` (all by default), ascending: what :meth:`rows` would key."""
        out: list[str] = []
        for u in range(lo, self.units if hi is None else hi):
            if self._start[u + 1] > self._start[u]:
                out.extend(self._unit(u)[1])
        return out

    def collisions(self, existing: Iterable[str]) -> list[str]:
        """Which of ``existing`` IINs this population would also hold (only their birth dates' units
        are made, so the check costs next to nothing)."""
        existing = set(existing)
        units = {bisect.bisect_left(self._prefix, iin[:7]) for iin in existing}
        found = (iin for u in sorted(units) if u < self.units for iin in self.iins(u, u + 1))
        return [iin for iin in found if iin in existing]

    def __iter__(self) -> Iterator[Row]:
        for lo, hi in self.chunks(50_000):
            yield from self.rows(lo, hi)

    def rows(self, lo: int = 0, hi: int | None = None) -> list[Row]:
        """The rows of units ``lo``..``hi`` (all by default), in ascending IIN order."""
        nationality_table, region_table = _tables()
        district_city = dictionaries.DISTRICT_CITY
        streets, foreign_cities = _places()
        buildings, flats = _BUILDINGS, _FLATS
        iso, plus10, as_of_index, first_ordinal = (self._iso, self._plus10, self._as_of_index, self._first_ordinal)
        out: list[Row] = []
        append = out.append
        for u in range(lo, self.units if hi is None else hi):
            ordinal = self._start[u]
            if self._start[u + 1] == ordinal:
                continue
            rng, iins = self._unit(u)
            bits = rng.getrandbits
            born = self._day[u]
            born_iso = iso[born]
            born_date = date.fromordinal(first_ordinal + born)
            sex = self._sex[u]
            gender = "1" if sex == 1 else "2"
            female = sex - 1
            age = (
                self.as_of.year
                - born_date.year
                - ((self.as_of.month, self.as_of.day) < (born_date.month, born_date.day))
            )
            sixteen = _years_later(born_date, 16).toordinal() - first_ordinal
            adult = age >= 18
            # Kazakh-style patronymics (-ҰЛЫ/-ҚЫЗЫ) are the rule for the young, rarer for their elders
            kazakh_style = 75 if born_date.year >= 1995 else 35 if born_date.year >= 1970 else 10
            for iin in iins:
                r = bits(224)
                naming = nationality_table[r & 4095]
                r >>= 12
                r, x = divmod(r, len(naming.surnames))
                surname, surname_lat = naming.surnames[x][female]
                given = naming.given[female]
                r, x = divmod(r, len(given))
                name, name_lat = given[x]
                r, x = divmod(r, len(naming.patronymics))
                r, style = divmod(r, 100)
                if naming.kazakh_patronymics is not None and style < kazakh_style:
                    patronymic = naming.kazakh_patronymics[x][female]
                else:
                    patronymic = naming.patronymics[x][female]
                r, rare = divmod(r, 1_000_000)
                end = as_of_index
                life, death = "0", None
                capable, missing, removed = None, False, False
                if rare < _DECEASED:
                    r, x = divmod(r, min(as_of_index - born + 1, _DEATHS_WITHIN_DAYS))
                    end = as_of_index - x
                    life, death = "1", iso[end]
                elif rare < _DECEASED + _INCAPABLE:
                    capable = ("1" if rare & 1 else "2") if adult else None
                elif rare < _DECEASED + _INCAPABLE + _MISSING:
                    missing = True
                elif rare < _DECEASED + _INCAPABLE + _MISSING + _REMOVED:
                    removed = True
                r, x = divmod(r, 10_000)
                citizenship = _FOREIGN_CITIZENSHIPS[x % 5] if x < _FOREIGN_CITIZENS else "398"
                r, x = divmod(r, 1000)
                if x < _BORN_ABROAD:
                    birth_country = _BIRTH_COUNTRIES[x % 20]
                    birth_region = birth_district = None
                    cities = foreign_cities[birth_country]
                    birth_city = cities[x % len(cities)]
                    reg_region, districts = region_table[r & 4095]
                else:
                    birth_country = "398"
                    birth_region, districts = region_table[r & 4095]
                    birth_district = districts[(r >> 12) % len(districts)]
                    birth_city = district_city[birth_district]
                    reg_region = birth_region
                r >>= 16
                r, x = divmod(r, 100)
                if x >= _SAME_REGION:
                    reg_region, districts = region_table[r & 4095]
                r >>= 12
                r, x = divmod(r, len(districts))
                reg_district = districts[x]
                r, x = divmod(r, len(streets))
                street = streets[x]
                r, x = divmod(r, len(buildings))
                building = buildings[x]
                r, x = divmod(r, 400)
                flat = flats[x] if x < len(flats) else None
                r, x = divmod(r, end - born + 1)
                reg_begin = iso[born + x]
                if sixteen <= end:
                    r, x = divmod(r, _DOC_ISSUED_WITHIN_DAYS)
                    issued = max(sixteen, end - x)
                    doc_begin, doc_end = iso[issued], iso[plus10[issued]]
                    if citizenship != "398":
                        doc_type, doc_issuer = "015", "003"
                        doc_number = f"{(ordinal * _PASSPORT_MULTIPLIER + 7) % 100_000_000:08d}"
                    elif r % 100 < _ID_CARD:
                        doc_type, doc_issuer = "002", "002"
                        doc_number = f"{(ordinal * _ID_CARD_MULTIPLIER + 12_345) % 1_000_000_000:09d}"
                    else:
                        doc_type, doc_issuer = "001", "002"
                        doc_number = f"N{(ordinal * _PASSPORT_MULTIPLIER + 54_321) % 100_000_000:08d}"
                    doc_status = "00" if death is None else "07"  # a dead person's document is unfit for use
                else:
                    doc_type = doc_number = doc_begin = doc_end = doc_issuer = doc_status = None
                append((
                    iin, surname, name, patronymic, surname_lat, name_lat, born_iso, gender,
                    naming.code, citizenship, birth_country, birth_region, birth_district, birth_city,
                    reg_region, reg_district, street, building, flat, reg_begin,
                    doc_type, doc_number, doc_begin, doc_end, doc_issuer, doc_status,
                    life, death, capable, missing, removed, None,
                ))  # fmt: skip
                ordinal += 1
        return out


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def generate_persons(seed: int, persons: int, as_of: date = AS_OF) -> Iterator[Row]:
    """Every row, in ascending IIN order."""
    return iter(PersonGenerator(seed, persons, as_of))
