"""The field sheet's labels in English, Albanian and Serbian (``layers/i18n/fieldsheet.toml``).

Albanian and Serbian are Kosovo's official languages. The labels are data, one table
per language in ``layers/i18n/fieldsheet.toml``, read by :func:`sheet_text`; Serbian is
in Latin script (the reason is given in the file), and ``sr-Cyrl`` gives the same
Serbian labels in Cyrillic, transliterated letter by letter (Serbian Latin and Cyrillic
map one to one; the digraphs lj, nj, dž are single letters). Codes, units, point labels
and command-line options stay as they are in every language (:data:`UNTRANSLATED`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from kosovo_cmr._resources import layer_file
from kosovo_cmr.errors import InputError

__all__ = ["LANGUAGES", "UNTRANSLATED", "SheetText", "sheet_text", "to_cyrillic"]

#: Languages of the sheet: English, Albanian, Serbian (Latin), Serbian (Cyrillic).
LANGUAGES: tuple[str, ...] = ("en", "sq", "sr", "sr-Cyrl")

#: Words every language keeps: codes, grid and datum names, units and point labels.
UNTRANSLATED: frozenset[str] = frozenset(
    {
        "CHA",
        "SHA",
        "UTM",
        "MGRS",
        "EPSG",
        "WGS",
        "KOSOVAREF01",
        "WMM",
        "TP1",
        "TP",
        "BM",
        "N",
        "E",
        "m",
        "m²",
        "34N",
        "PDF",
        "A4",
        "A3",
    }
)

_LATIN_TO_CYRILLIC = {
    "lj": "љ",
    "nj": "њ",
    "dž": "џ",
    "Lj": "Љ",
    "Nj": "Њ",
    "Dž": "Џ",
    "LJ": "Љ",
    "NJ": "Њ",
    "DŽ": "Џ",
    "a": "а",
    "b": "б",
    "c": "ц",
    "č": "ч",
    "ć": "ћ",
    "d": "д",
    "đ": "ђ",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "ј",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "r": "р",
    "s": "с",
    "š": "ш",
    "t": "т",
    "u": "у",
    "v": "в",
    "z": "з",
    "ž": "ж",
}
_LETTER = re.compile("|".join(sorted(map(re.escape, _LATIN_TO_CYRILLIC), key=len, reverse=True)))
_TOKEN = re.compile(r"(\{[^}]*\}|--[\w-]+|[^\s{]+)")


def _cyrillic_word(word: str) -> str:
    core = word.strip(".,;:()±°%-")
    if not core or core in UNTRANSLATED or any(ch.isdigit() for ch in core):
        return word
    out = _LETTER.sub(lambda m: _LATIN_TO_CYRILLIC[m.group(0)], word)
    upper = {k.upper(): v.upper() for k, v in _LATIN_TO_CYRILLIC.items() if len(k) == 1}
    return "".join(upper.get(ch, ch) for ch in out)


def to_cyrillic(text: str) -> str:
    """Transliterate Serbian Latin text to Cyrillic, keeping codes, fields and options.

    Examples
    --------
    >>> to_cyrillic("Prelomne tačke (nastavak)")
    'Преломне тачке (наставак)'
    >>> to_cyrillic("{n} prelomnih tačaka, TP1, --dem DATOTEKA")
    '{n} преломних тачака, TP1, --dem ДАТОТЕКА'
    """
    return _TOKEN.sub(
        lambda m: m.group(0) if m.group(0)[0] in "{-" else _cyrillic_word(m.group(0)), text
    )


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


@cache
def _tables() -> dict[str, dict[str, str]]:
    with open(layer_file("i18n", "fieldsheet.toml"), "rb") as fh:
        data = tomllib.load(fh)
    return {lang: _flatten(table) for lang, table in data.items()}


@dataclass(frozen=True)
class SheetText:
    """The labels of one language; call it with a key (and fields) to get a label.

    Examples
    --------
    >>> t = sheet_text("sq")
    >>> t("sheet", n=1, m=2)
    'fleta 1 nga 2'
    >>> t.value("priority", "high"), t.value("priority", None), t.value("operator", "HALO")
    ('e lartë', '–', 'HALO')
    """

    lang: str
    labels: dict[str, str]

    def __call__(self, key: str, **fields) -> str:
        """Return the label ``key`` with its ``{fields}`` filled in."""
        try:
            text = self.labels[key]
        except KeyError:
            raise KeyError(f"no field-sheet label {key!r} in {self.lang!r}") from None
        return text.format(**fields) if fields else text

    def value(self, field: str, value: str | None) -> str:
        """Return a data value for display: translated if it is a code, a dash if missing."""
        if value is None:
            return "–"
        return self.labels.get(f"{field}.{value}", value)


def sheet_text(lang: str = "en") -> SheetText:
    """Return the field sheet's labels in ``lang`` (one of :data:`LANGUAGES`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        On an unknown language.
    """
    if lang not in LANGUAGES:
        raise InputError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    tables = _tables()
    if lang == "sr-Cyrl":
        return SheetText(lang, {k: to_cyrillic(v) for k, v in tables["sr"].items()})
    return SheetText(lang, dict(tables[lang]))
