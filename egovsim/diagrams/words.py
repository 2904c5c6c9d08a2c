"""The diagrams' vocabulary in kk / ru / en: the information systems a chain names, the provider
actors' roles in Russian, durations, and the few words a diagram adds (start, end, yes, no).

The catalogue names a chain's systems by their Kazakh abbreviations (``ЭҮШ``, ``ЖТ МДҚ``); a
system missing here still gets a lane, under the catalogue's own name. Actors come with kk and en
names only; their Russian lane names are the roles' usual Russian titles below (not the seed's
wording, which the catalogue does not hold).
"""

from __future__ import annotations

from dataclasses import dataclass

from egovsim.catalog.models import Duration, DurationQualifier, DurationUnit
from egovsim.web import Phrase

Words = Phrase


@dataclass(frozen=True)
class System:
    key: str  # ASCII: a lane id
    words: Phrase


SYSTEMS: dict[str, System] = {
    "portal": System("portal", Phrase("Портал (egov.kz)", "Портал (egov.kz)", "Portal (egov.kz)")),
    "ЭЦҚ": System("eds", Phrase("ЭЦҚ (ҰКО)", "ЭЦП (НУЦ)", "EDS (NCA)")),
    "ХҚО": System("hqo", Phrase("ХҚО", "ЦОН", "Population service centre (ХҚО)")),
    "ХҚО ЫАЖ АЖО": System("arm_hqo", Phrase("ХҚО ЫАЖ АЖО", "АРМ ИИС ЦОН", "ХҚО operator workstation")),
    "ЭҮШ": System("shep", Phrase("ЭҮШ", "ШЭП", "E-government gateway (ShEP)")),
    "ЭҮӨШ": System("rshep", Phrase("ЭҮӨШ", "РШЭП", "Regional e-government gateway")),
    "ЖТ МДҚ": System("gbdfl", Phrase("ЖТ МДҚ", "ГБД ФЛ", "Individuals database (GBD FL)")),
    "БНАЖ": System("enis", Phrase("БНАЖ", "ЕНИС", "Notaries' information system (ENIS)")),
    "ЭҮАШ АЖО": System("arm_rshep", Phrase("ЭҮАШ АЖО", "АРМ РШЭП", "Provider's workstation (ARM RShEP)")),
    "Электрондық тізілім": System("queue", Phrase("Электрондық тізілім", "Электронный реестр", "Electronic register")),
    "жеке кабинет": System("cabinet", Phrase("Жеке кабинет", "Личный кабинет", "Personal cabinet")),
}

ACTOR_ROLES_RU: dict[str, str] = {
    "recipient": "услугополучатель",
    "representative": "представитель услугополучателя",
    "office_clerk": "сотрудник канцелярии услугодателя",
    "head": "руководитель услугодателя",
    "department_head": "руководитель отдела",
    "responsible_executor": "ответственный исполнитель услугодателя",
    "executor": "исполнитель",
    "specialists": "специалисты услугодателя",
    "commission": "комиссия",
    "pedagogical_council": "педагогический совет",
    "hqo_employee": "сотрудник ЦОН (Государственной корпорации)",
    "hqo_accumulation_dept": "сотрудник накопительного отдела ЦОН",
    "rural_akim_office": "специалист аппарата акима сельского округа",
    "rural_akim": "аким сельского округа",
    "rural_akim_executor": "ответственный исполнитель аппарата акима сельского округа",
    "provider": "услугодатель",
    "pension_centre": "центр по выплате пенсий",
}

WORDS: dict[str, Phrase] = {
    "start": Phrase("Басталуы", "Начало", "Start"),
    "end": Phrase("Аяқталуы", "Конец", "End"),
    "refused": Phrase("Бас тарту", "Отказ", "Refused"),
    "yes": Phrase("иә", "да", "yes"),
    "no": Phrase("жоқ", "нет", "no"),
    "otherwise": Phrase("әйтпесе", "иначе", "otherwise"),
    "applicant": Phrase("Көрсетілетін қызметті алушы", "Услугополучатель", "Applicant"),
    "operator": Phrase("ХҚО қызметкері", "Оператор ЦОН", "ХҚО operator"),
    "registered": Phrase("Тіркеу", "Регистрация", "Registration"),
    "registered_text": Phrase(
        "құжаттар кеңсеге тапсырылады және тіркеледі",
        "документы сдаются в канцелярию и регистрируются",
        "the documents are handed in at the office and registered",
    ),
    "result": Phrase("Нәтиже", "Результат", "Result"),
    "issued": Phrase("Нәтиже берілді", "Результат выдан", "Result issued"),
    "office_flow": Phrase(
        "көрсетілетін қызметті берушінің кеңсесі", "канцелярия услугодателя", "the provider's office"
    ),
    "portal": Phrase("портал", "портал", "portal"),
    "hqo": Phrase("ХҚО", "ЦОН", "ХҚО"),
    "interaction": Phrase(
        "Функционалдық өзара іс-қимыл диаграммасы",
        "Диаграмма функционального взаимодействия",
        "Functional interaction diagram",
    ),
    "business": Phrase("Бизнес-процестер диаграммасы", "Диаграмма бизнес-процессов", "Business-process diagram"),
    "not_stated": Phrase("мерзімі көрсетілмеген", "срок не указан", "duration not stated"),
    "condition": Phrase("Шарт (en)", "Условие (en)", "If"),
    "also": Phrase("Қатысады", "Участвуют", "Also"),
    "code": Phrase("коды", "код", "code"),
    "done": Phrase("орындалды", "выполнено", "done"),
    "failed": Phrase("бас тартылды", "отказ", "failed"),
    "pending": Phrase("күтуде", "ожидает", "pending"),
    "legend": Phrase("Белгілер", "Условные обозначения", "Legend"),
}


def word(name: str) -> Phrase:
    return WORDS[name]


# unit: kk (no plural), ru (one, few, many), en (one, many)
_UNITS: dict[DurationUnit, tuple[str, tuple[str, str, str], tuple[str, str]]] = {
    DurationUnit.minutes: ("минут", ("минута", "минуты", "минут"), ("minute", "minutes")),
    DurationUnit.hours: ("сағат", ("час", "часа", "часов"), ("hour", "hours")),
    DurationUnit.working_days: (
        "жұмыс күні",
        ("рабочий день", "рабочих дня", "рабочих дней"),
        ("working day", "working days"),
    ),
    DurationUnit.calendar_days: (
        "күнтізбелік күн",
        ("календарный день", "календарных дня", "календарных дней"),
        ("calendar day", "calendar days"),
    ),
    DurationUnit.days_24h: ("тәулік", ("сутки", "суток", "суток"), ("day (24 h)", "days (24 h)")),
    DurationUnit.months: ("ай", ("месяц", "месяца", "месяцев"), ("month", "months")),
}


def _ru_form(n: int) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    return 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2


def unit_text(lang: str, unit: DurationUnit, n: int) -> str:
    kk, ru, en = _UNITS[unit]
    if lang == "ru":
        return ru[_ru_form(n)]
    return en[0 if n == 1 else 1] if lang == "en" else kk


def duration_text(lang: str, duration: Duration | None) -> str:
    """``30 минут``, ``1 жұмыс күні``, ``≤ 8 working days``, ``90–180 календарных дней``."""
    if duration is None:
        return word("not_stated")(lang)
    last = duration.max_value if duration.max_value is not None else duration.value
    amount = f"{duration.value}–{last}" if duration.max_value is not None else str(duration.value)
    upto = duration.qualifier in (DurationQualifier.not_more_than, DurationQualifier.no_later_than)
    return f"{'≤ ' if upto else ''}{amount} {unit_text(lang, duration.unit, last)}"
