"""Place names: municipalities, districts and KMAC regions, however a file spells them.

One source of truth for the places the package names: the editable table
``layers/regions.csv`` (municipality -> official district -> KMAC region; KMAC does not
publish its regions, so the grouping is the project's assumption, see :doc:`/concepts`),
the alias table ``layers/place_names.csv`` (canonical name, alias, language, source:
:func:`read_place_names`), the enclave parts of the 2018 boundaries, and one way to
compare names.

Operators, KMAC and the Mine Action Review spell the same place in Albanian and in
Serbian, in Latin or Cyrillic letters, with or without diacritics ("Mitrovicë",
"Mitrovica"; "Leposaviq", "Leposavić", "Leposavic", "Лепосавић"; "Graçanicë",
"Gracanica"), and Serbian names often differ entirely ("Peć" for Pejë, "Uroševac" for
Ferizaj, "Kosovska Mitrovica" for Mitrovicë). :func:`match_key` folds a name so that
spellings of one name compare equal (Serbian Cyrillic is transliterated first); the
alias table covers the names that differ. :func:`locate` gives the canonical
municipality (the region table's spelling), its district and region for any of them;
:func:`locate_region` does the same for the five KMAC regions. A name that matches
nothing gives ``None``: it is never guessed.
"""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import pandas as pd

from kosovo_cmr._resources import layer_file
from kosovo_cmr.errors import InputError

__all__ = [
    "ENCLAVES",
    "Place",
    "normalize",
    "match_key",
    "read_region_table",
    "PLACE_NAME_COLUMNS",
    "read_place_names",
    "locate",
    "locate_region",
]

#: Enclave parts in the 2018 boundaries and the municipality each belongs to.
ENCLAVES: dict[str, str] = {"Enclave-Kamenicë": "Kamenicë", "Enclave-Prishtine": "Prishtinë"}


class Place(NamedTuple):
    """A municipality as the region table names it, with its district and KMAC region."""

    municipality: str
    district: str | None
    region: str | None


def normalize(name) -> str:
    """Return a name as stored: Unicode NFC, surrounding spaces removed.

    Examples
    --------
    >>> normalize("  Prishtine\u0308 ")  # e + combining diaeresis -> ë
    'Prishtinë'
    """
    return unicodedata.normalize("NFC", str(name)).strip()


#: Serbian Cyrillic -> Serbian Latin (the official one-to-one transliteration).
_CYRILLIC = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџш",
        ["a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m", "n",
         "nj", "o", "p", "r", "s", "t", "ć", "u", "f", "h", "c", "č", "dž", "š"],
        strict=True,
    )
)  # fmt: skip


def match_key(name) -> str:
    """Fold a place name so that Albanian and Serbian spellings of it compare equal.

    Serbian Cyrillic is transliterated to Latin; case, accents and invisible characters
    go (ë -> e, ç/č/ć -> c, đ -> d), ``q`` becomes ``c`` (Leposaviq, Leposavić) and a
    final ``e`` of each word becomes ``a`` (Prishtinë / Prishtina, Pejë / Peja); hyphens
    count as spaces. A missing value folds to ``""``.

    Examples
    --------
    >>> match_key("Leposaviq") == match_key("Leposavić") == match_key("Лепосавић")
    True
    >>> match_key("Prishtinë") == match_key("Prishtina")
    True
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    text = "".join(_CYRILLIC.get(c, c) for c in text if unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("đ", "d").replace("q", "c")
    words = [w[:-1] + "a" if w.endswith("e") else w for w in text.replace("-", " ").split()]
    return " ".join(words)


def read_region_table(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the municipality -> district, region table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``municipality``, ``region`` and optionally ``district``.
        Defaults to the shipped ``layers/regions.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``municipality``, ``district``, ``region``; names in NFC.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a column is missing, or two rows name the same municipality (in any
        spelling :func:`match_key` folds together).

    Examples
    --------
    >>> table = read_region_table()
    >>> len(table), sorted(table["region"].unique())
    (38, ['Centre', 'East', 'North', 'South', 'West'])
    """
    path = layer_file("regions.csv") if path is None else path
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read region table {path}: {exc}") from exc
    missing = {"municipality", "region"} - set(table.columns)
    if missing:
        raise InputError(f"region table {path} lacks column(s): {', '.join(sorted(missing))}")
    table["municipality"] = table["municipality"].map(normalize)
    dup = table["municipality"][table["municipality"].map(match_key).duplicated()]
    if len(dup):
        raise InputError(f"region table {path} lists twice: {', '.join(dup)}")
    if "district" not in table.columns:
        table["district"] = None
    return table[["municipality", "district", "region"]]


#: Columns of the alias table.
PLACE_NAME_COLUMNS = ("canonical", "alias", "language", "source")


def read_place_names(
    path: str | os.PathLike | None = None, *, regions: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Read the alias table: other names of the municipalities and regions.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with the columns ``canonical`` (a municipality or region exactly as the
        region table spells it), ``alias``, ``language`` (``sq``, ``sr-Latn``,
        ``sr-Cyrl``, ``en``...) and ``source`` (where the name comes from). Defaults
        to the shipped ``layers/place_names.csv``.
    regions : str or path-like, optional
        The region table the canonical names belong to (default the shipped one).

    Returns
    -------
    pandas.DataFrame
        The four columns, names in NFC, and ``unit``: ``municipality`` or ``region``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a column is missing, a canonical name is not in the region table, or one
        alias names two places of the same kind.

    Examples
    --------
    >>> names = read_place_names()
    >>> names.set_index("alias").loc["Uroševac", ["canonical", "language"]].tolist()
    ['Ferizaj', 'sr-Latn']
    """
    path = layer_file("place_names.csv") if path is None else path
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read place names {path}: {exc}") from exc
    missing = set(PLACE_NAME_COLUMNS) - set(table.columns)
    if missing:
        raise InputError(f"place names {path} lack column(s): {', '.join(sorted(missing))}")
    table = table[list(PLACE_NAME_COLUMNS)].map(normalize)
    known = read_region_table(regions)
    units = {m: "municipality" for m in known["municipality"]}
    units.update({r: "region" for r in known["region"].dropna()})
    unknown = sorted(set(table["canonical"]) - set(units))
    if unknown:
        raise InputError(
            f"place names {path}: canonical name(s) not in the region table: {', '.join(unknown)}"
        )
    table["unit"] = table["canonical"].map(units)
    keys = table.assign(key=table["alias"].map(match_key))
    clash = keys.groupby(["unit", "key"])["canonical"].nunique()
    if (clash > 1).any():
        bad = [k for (_, k), n in clash.items() if n > 1]
        raise InputError(f"place names {path}: an alias names two places: {', '.join(bad)}")
    return table


def _source(path) -> str | None:
    return None if path is None else os.fspath(path)


@lru_cache(maxsize=8)
def _lookup(path: str | None, names: str | None = None) -> dict[str, Place]:
    table = read_region_table(path)
    out = {match_key(m): Place(m, d, r) for m, d, r in table.itertuples(index=False)}
    for part, whole in ENCLAVES.items():
        if match_key(whole) in out:
            out.setdefault(match_key(part), out[match_key(whole)])
    aliases = read_place_names(names, regions=path)
    for alias, canonical in aliases.loc[
        aliases["unit"] == "municipality", ["alias", "canonical"]
    ].itertuples(index=False):
        out.setdefault(match_key(alias), out[match_key(canonical)])
    return out


@lru_cache(maxsize=8)
def _region_lookup(path: str | None, names: str | None = None) -> dict[str, str]:
    regions = read_region_table(path)["region"].dropna().unique()
    out = {match_key(r): r for r in regions}
    aliases = read_place_names(names, regions=path)
    for alias, canonical in aliases.loc[
        aliases["unit"] == "region", ["alias", "canonical"]
    ].itertuples(index=False):
        out.setdefault(match_key(alias), canonical)
    return out


def locate(
    name,
    *,
    table: str | os.PathLike | None = None,
    names: str | os.PathLike | None = None,
) -> Place | None:
    """Return the municipality a name designates, with its district and region.

    Parameters
    ----------
    name : str
        A municipality in any spelling :func:`match_key` folds to the table's, or any
        alias of the alias table (Serbian names: "Uroševac", "Пећ"); an enclave part of
        the 2018 boundaries gives its municipality.
    table : path, optional
        A region table (default the shipped one, see :func:`read_region_table`).
    names : path, optional
        An alias table (default the shipped one, see :func:`read_place_names`).

    Returns
    -------
    Place or None
        None for a name that is no municipality (a missing value included): a name is
        never guessed.

    Examples
    --------
    >>> locate("Leposavic")
    Place(municipality='Leposaviq', district='Mitrovicë', region='North')
    >>> locate("Enclave-Prishtine").municipality, locate("Урошевац").municipality
    ('Prishtinë', 'Ferizaj')
    >>> locate("Kosovska Mitrovica").municipality, locate("Severna Mitrovica").municipality
    ('Mitrovicë', 'Mitrovicë e Veriut')
    >>> locate("Atlantis") is None
    True
    """
    key = match_key(name)
    if not key:
        return None
    return _lookup(_source(table), _source(names)).get(key)


def locate_region(
    name,
    *,
    table: str | os.PathLike | None = None,
    names: str | os.PathLike | None = None,
) -> str | None:
    """Return the KMAC region a name designates, as the region table spells it.

    Examples
    --------
    >>> locate_region("north"), locate_region("Lindje"), locate_region("Запад")
    ('North', 'East', 'West')
    """
    key = match_key(name)
    if not key:
        return None
    return _region_lookup(_source(table), _source(names)).get(key)
