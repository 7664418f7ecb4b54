"""Place names: municipalities, districts and KMAC regions, however a file spells them.

One source of truth for the places the package names: the editable table
``layers/regions.csv`` (municipality -> official district -> KMAC region; KMAC does not
publish its regions, so the grouping is the project's assumption, see :doc:`/concepts`),
the enclave parts of the 2018 boundaries, and one way to compare names.

Operators, KMAC and the Mine Action Review spell the same place in Albanian and in
Serbian Latin, with or without diacritics ("Mitrovicë", "Mitrovica"; "Leposaviq",
"Leposavić", "Leposavic"; "Graçanicë", "Gracanica"). :func:`match_key` folds a name so
that those spellings compare equal; :func:`locate` gives the canonical municipality,
its district and region for any spelling the table knows.
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
    "locate",
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


def match_key(name) -> str:
    """Fold a place name so that Albanian and Serbian Latin spellings compare equal.

    Case and accents go (ë -> e, ç/č/ć -> c, đ -> d), ``q`` becomes ``c`` (Leposaviq,
    Leposavić) and a final ``e`` of each word becomes ``a`` (Prishtinë / Prishtina,
    Pejë / Peja); hyphens count as spaces. A missing value folds to ``""``.

    Examples
    --------
    >>> match_key("Leposaviq") == match_key("Leposavić") == match_key("leposavic")
    True
    >>> match_key("Prishtinë") == match_key("Prishtina")
    True
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
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


@lru_cache(maxsize=8)
def _lookup(path: str | None) -> dict[str, Place]:
    table = read_region_table(path)
    out = {match_key(m): Place(m, d, r) for m, d, r in table.itertuples(index=False)}
    for part, whole in ENCLAVES.items():
        if match_key(whole) in out:
            out.setdefault(match_key(part), out[match_key(whole)])
    return out


def locate(name, *, table: str | os.PathLike | None = None) -> Place | None:
    """Return the municipality a name designates, with its district and region.

    Parameters
    ----------
    name : str
        A municipality in any spelling :func:`match_key` folds to the table's (an
        enclave part of the 2018 boundaries gives its municipality).
    table : path, optional
        A region table (default the shipped one, see :func:`read_region_table`).

    Returns
    -------
    Place or None
        None for a name that is no municipality of the table (a missing value
        included).

    Examples
    --------
    >>> locate("Leposavic")
    Place(municipality='Leposaviq', district='Mitrovicë', region='North')
    >>> locate("Enclave-Prishtine").municipality
    'Prishtinë'
    """
    key = match_key(name)
    if not key:
        return None
    return _lookup(None if table is None else os.fspath(table)).get(key)
