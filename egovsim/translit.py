"""The Latin line of a Kazakh or Russian name, as an identity document prints it: the Kazakh Latin
alphabet of 2021, simplified (one table, used by the registries' generator and the personas)."""

from __future__ import annotations

_LATIN = str.maketrans({
    "А": "A", "Ә": "Á", "Б": "B", "В": "V", "Г": "G", "Ғ": "Ǵ", "Д": "D", "Е": "E", "Ё": "E", "Ж": "J",
    "З": "Z", "И": "I", "Й": "I", "К": "K", "Қ": "Q", "Л": "L", "М": "M", "Н": "N", "Ң": "Ń", "О": "O",
    "Ө": "Ó", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "Ý", "Ұ": "U", "Ү": "Ú", "Ф": "F", "Х": "H",
    "Һ": "H", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "", "Ы": "Y", "І": "I", "Ь": "",
    "Э": "E", "Ю": "IÝ", "Я": "IA",
})  # fmt: skip


def latin(text: str) -> str:
    """The Latin spelling of an upper-case Cyrillic name (other characters are kept)."""
    return text.upper().translate(_LATIN)
