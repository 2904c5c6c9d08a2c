"""The coded values of ГБД ФЛ records (egov-interfaces §8), each rendered as a dictionary entry
``{code, nameRu, nameKz}``.

Known from real answers [V]: gender 2 Женский/Әйел; nationality 005 КАЗАШКА; citizenship as ISO
3166 numeric (398 КАЗАХСТАН, 840 США); lifeStatus 0 Нормальный; document types 001 ПАСПОРТ РК,
002 УДОСТОВЕРЕНИЕ РК, 015 foreign passport; issuers 002 МВД РК, 003 foreign authority; document
statuses 00, 07, 17, 18. The rest is *proposed* and marked so: gender 1 (inferred), life status 1
(deceased), the capacity codes, the other nationalities, and the address codes, which follow the
KATO classifier's shape (region ``XX0000000``, district ``XXYY00000``) where the real ГБД ФЛ has
its own address dictionary (the real answer shows district ``1926``, region ``1926401``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    name_ru: str
    name_kz: str
    known: bool = True  # False: proposed by egovsim, not seen in a real answer

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "nameRu": self.name_ru, "nameKz": self.name_kz}


def _table(*entries: Entry) -> dict[str, Entry]:
    return {e.code: e for e in entries}


GENDER = _table(Entry("1", "Мужской", "Ер", known=False), Entry("2", "Женский", "Әйел"))

# nationality names differ by gender in Russian (005 КАЗАХ / КАЗАШКА); nameRu of the entry is the
# masculine form, ``nationality_entry`` gives the one that fits the person
_NATIONALITIES = (
    ("005", "КАЗАХ", "КАЗАШКА", "ҚАЗАҚ", True),
    ("001", "РУССКИЙ", "РУССКАЯ", "ОРЫС", False),
    ("002", "УКРАИНЕЦ", "УКРАИНКА", "УКРАИН", False),
    ("006", "УЗБЕК", "УЗБЕЧКА", "ӨЗБЕК", False),
    ("016", "ТАТАРИН", "ТАТАРКА", "ТАТАР", False),
    ("040", "УЙГУР", "УЙГУРКА", "ҰЙҒЫР", False),
    ("070", "НЕМЕЦ", "НЕМКА", "НЕМІС", False),
    ("080", "КОРЕЕЦ", "КОРЕЯНКА", "КӘРІС", False),
)
NATIONALITY = _table(*(Entry(code, m, kz, known) for code, m, _f, kz, known in _NATIONALITIES))
_NATIONALITY_FEMININE = {code: f for code, _m, f, _kz, _known in _NATIONALITIES}


def nationality_entry(code: str, gender: str) -> Entry:
    entry = NATIONALITY[code]
    if gender == "2":
        return Entry(code, _NATIONALITY_FEMININE[code], entry.name_kz, entry.known or code == "005")
    return entry


CITIZENSHIP = _table(
    Entry("398", "КАЗАХСТАН", "ҚАЗАҚСТАН"),
    Entry("840", "США", "АҚШ"),
    Entry("643", "РОССИЯ", "РЕСЕЙ", known=False),
    Entry("860", "УЗБЕКИСТАН", "ӨЗБЕКСТАН", known=False),
    Entry("417", "КЫРГЫЗСТАН", "ҚЫРҒЫЗСТАН", known=False),
    Entry("156", "КИТАЙ", "ҚЫТАЙ", known=False),
    Entry("496", "МОНГОЛИЯ", "МОҢҒОЛИЯ", known=False),
)

LIFE_STATUS = _table(Entry("0", "Нормальный", "Қалыпты"), Entry("1", "Умерший", "Қайтыс болған", known=False))

CAPABLE_STATUS = _table(
    Entry("1", "Недееспособный", "Әрекетке қабілетсіз", known=False),
    Entry("2", "Ограниченно дееспособный", "Әрекет қабілеттілігі шектеулі", known=False),
)

DOCUMENT_TYPE = _table(
    Entry("001", "ПАСПОРТ РК", "ҚР ПАСПОРТЫ"),
    Entry("002", "УДОСТОВЕРЕНИЕ РК", "ҚР ЖЕКЕ КУӘЛІГІ"),
    Entry("015", "ПАСПОРТ ИНОСТРАННОГО ГОСУДАРСТВА", "ШЕТЕЛ МЕМЛЕКЕТІНІҢ ПАСПОРТЫ"),
)

ISSUER = _table(
    Entry("002", "МВД РК", "ҚР ІІМ"),
    Entry("003", "КОМПЕТЕНТНЫЙ ОРГАН ИНОСТРАННОГО ГОСУДАРСТВА", "ШЕТЕЛ МЕМЛЕКЕТІНІҢ ҚҰЗЫРЕТТІ ОРГАНЫ"),
)

DOCUMENT_STATUS = _table(
    Entry("00", "ДОКУМЕНТ ДЕЙСТВИТЕЛЕН", "ҚҰЖАТ ЖАРАМДЫ"),
    Entry("07", "НЕПРИГОДЕН К ИСПОЛЬЗОВАНИЮ", "ПАЙДАЛАНУҒА ЖАРАМСЫЗ"),
    Entry("17", "ВЫДАН НОВЫЙ ДОКУМЕНТ", "ЖАҢА ҚҰЖАТ БЕРІЛДІ"),
    Entry("18", "ИЗМЕНЕНИЕ АКТОВОЙ ЗАПИСИ О СМЕРТИ", "ҚАЙТЫС БОЛУ ТУРАЛЫ АКТ ЖАЗБАСЫНЫҢ ӨЗГЕРУІ"),
)

REG_STATUS = _table(Entry("1", "Зарегистрирован", "Тіркелген"))

# (region code, nameRu, nameKz, population weight, ((district code, nameRu, nameKz, city), …))
_REGIONS: tuple[tuple[str, str, str, int, tuple[tuple[str, str, str, str], ...]], ...] = (
    (
        "710000000",
        "г. Астана",
        "Астана қ.",
        13,
        (
            ("711100000", "район Алматы", "Алматы ауданы", "Астана"),
            ("711300000", "район Есиль", "Есіл ауданы", "Астана"),
            ("711400000", "район Сарыарка", "Сарыарқа ауданы", "Астана"),
        ),
    ),
    (
        "750000000",
        "г. Алматы",
        "Алматы қ.",
        22,
        (
            ("751710000", "Алмалинский район", "Алмалы ауданы", "Алматы"),
            ("751910000", "Бостандыкский район", "Бостандық ауданы", "Алматы"),
            ("753610000", "Медеуский район", "Медеу ауданы", "Алматы"),
        ),
    ),
    (
        "790000000",
        "г. Шымкент",
        "Шымкент қ.",
        12,
        (
            ("791610000", "Абайский район", "Абай ауданы", "Шымкент"),
            ("791810000", "Аль-Фарабийский район", "Әл-Фараби ауданы", "Шымкент"),
        ),
    ),
    (
        "150000000",
        "Актюбинская область",
        "Ақтөбе облысы",
        9,
        (
            ("151010000", "г. Актобе", "Ақтөбе қ.", "Актобе"),
            ("153200000", "Мугалжарский район", "Мұғалжар ауданы", "Кандыагаш"),
        ),
    ),
    (
        "350000000",
        "Карагандинская область",
        "Қарағанды облысы",
        11,
        (
            ("351010000", "г. Караганда", "Қарағанды қ.", "Караганда"),
            ("352410000", "г. Темиртау", "Теміртау қ.", "Темиртау"),
        ),
    ),
    (
        "430000000",
        "Кызылординская область",
        "Қызылорда облысы",
        8,
        (
            ("431010000", "г. Кызылорда", "Қызылорда қ.", "Кызылорда"),
            ("434000000", "Казалинский район", "Қазалы ауданы", "Айтеке би"),
        ),
    ),
    (
        "630000000",
        "Восточно-Казахстанская область",
        "Шығыс Қазақстан облысы",
        7,
        (
            ("631010000", "г. Усть-Каменогорск", "Өскемен қ.", "Усть-Каменогорск"),
            ("634000000", "Глубоковский район", "Глубокое ауданы", "Глубокое"),
        ),
    ),
    (
        "100000000",
        "Область Абай",
        "Абай облысы",
        6,
        (
            ("101010000", "г. Семей", "Семей қ.", "Семей"),
            ("104000000", "Бескарагайский район", "Бесқарағай ауданы", "Бескарагай"),
        ),
    ),
    (
        "610000000",
        "Туркестанская область",
        "Түркістан облысы",
        10,
        (
            ("611010000", "г. Туркестан", "Түркістан қ.", "Туркестан"),
            ("614000000", "Сайрамский район", "Сайрам ауданы", "Аксукент"),
        ),
    ),
    (
        "550000000",
        "Павлодарская область",
        "Павлодар облысы",
        6,
        (
            ("551010000", "г. Павлодар", "Павлодар қ.", "Павлодар"),
            ("552210000", "г. Экибастуз", "Екібастұз қ.", "Экибастуз"),
        ),
    ),
    (
        "230000000",
        "Атырауская область",
        "Атырау облысы",
        5,
        (
            ("231010000", "г. Атырау", "Атырау қ.", "Атырау"),
            ("234000000", "Жылыойский район", "Жылыой ауданы", "Кульсары"),
        ),
    ),
)

REGIONS = _table(*(Entry(code, ru, kz, known=False) for code, ru, kz, _w, _d in _REGIONS))
DISTRICTS = _table(*(Entry(d[0], d[1], d[2], known=False) for *_r, districts in _REGIONS for d in districts))
DISTRICT_CITY = {d[0]: d[3] for *_r, districts in _REGIONS for d in districts}
REGION_OF_DISTRICT = {d[0]: r[0] for r in _REGIONS for d in r[4]}
REGION_WEIGHTS = tuple((code, weight, tuple(d[0] for d in districts)) for code, _ru, _kz, weight, districts in _REGIONS)

ALL = {
    "gender": GENDER,
    "nationality": NATIONALITY,
    "citizenship": CITIZENSHIP,
    "lifeStatus": LIFE_STATUS,
    "capableStatus": CAPABLE_STATUS,
    "documentType": DOCUMENT_TYPE,
    "issueOrganization": ISSUER,
    "documentStatus": DOCUMENT_STATUS,
    "regStatus": REG_STATUS,
    "region": REGIONS,
    "district": DISTRICTS,
}
