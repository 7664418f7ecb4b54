"""Import, step "check identity" (first part): ids that look alike but are not the same.

Ids were accepted as distinct when they differed only by characters nobody sees or
tells apart (issue 14): a zero-width space (``H-1`` and ``H\u200b-1``), a right-to-left
override that shows ``1-H`` for ``H-1``, a Cyrillic ``Н`` for a Latin ``H``. Two such
ids name one hazard to every reader; the store would hold them as two.

Before ids are compared (:mod:`kosovo_cmr.import_identity`), every id, and every
``hazard_id`` a feature refers to, is:

- **normalised**: Unicode NFKC (compatibility forms: full-width ``Ｈ`` -> ``H``,
  ligatures, non-breaking spaces), invisible format characters removed (Unicode category
  Cf: zero-width spaces and joiners, bidirectional marks, embeddings, overrides and
  isolates, the BOM, soft hyphens) and, in an id that mixes Latin letters with Cyrillic
  or Greek ones, the Cyrillic and Greek letters that look Latin replaced by the Latin
  letter. A changed id gets the note ``id_normalised`` naming what was removed or
  replaced, and the feature is stored under the normalised id;
- **compared by skeleton**: every look-alike letter mapped to Latin
  (:data:`CONFUSABLES`, the Cyrillic and Greek rows of Unicode's confusables table for
  the Latin letters, UTS #39). Different ids with the same skeleton, within the source
  or against an id already in the store, are rejected as ``lookalike_id`` (both copies
  within the source): which one was meant cannot be known.
"""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.import_values import is_null
from kosovo_cmr.schema import LayerSchema

__all__ = [
    "CONFUSABLES",
    "invisible",
    "normalise_id",
    "skeleton",
    "check_lookalikes",
]

#: Cyrillic and Greek letters drawn like a Latin letter -> that Latin letter (Unicode
#: Technical Standard #39, confusables.txt, the rows whose target is one Latin letter).
CONFUSABLES: dict[str, str] = {
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q",
    "Ԝ": "W", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "ѕ": "s", "і": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v",
    "ι": "i", "κ": "k", "ρ": "p", "υ": "u",
}  # fmt: skip


def invisible(ch: str) -> bool:
    """Whether a character is an invisible format character (Unicode category Cf).

    Examples
    --------
    >>> [invisible(c) for c in ("\u200b", "\u202e", "\ufeff", "-", "H")]
    [True, True, True, False, False]
    """
    return unicodedata.category(ch) == "Cf"


def _names(chars) -> str:
    return ", ".join(sorted({unicodedata.name(c, f"U+{ord(c):04X}").lower() for c in chars}))


def _scripts(text: str) -> set[str]:
    out = set()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        out.add(name.split(" ", 1)[0])  # LATIN, CYRILLIC, GREEK...
    return out


def normalise_id(text: str) -> tuple[str, list[str]]:
    """Normalise an id (see the module notes); say what changed.

    Returns
    -------
    id : str
    changes : list of str
        One phrase per kind of change, empty when the id was already normal.

    Examples
    --------
    >>> normalise_id("H\u200b-1")
    ('H-1', ['removed zero width space'])
    >>> normalise_id("HАZ-7")  # a Cyrillic А among Latin letters
    ('HAZ-7', ['replaced Cyrillic/Greek look-alike(s) а by Latin'])
    >>> normalise_id("ХАЗ-7")  # all Cyrillic: kept (its skeleton is still compared)
    ('ХАЗ-7', [])
    """
    changes = []
    out = unicodedata.normalize("NFKC", text)
    if out != text:
        changes.append("Unicode compatibility forms (NFKC)")
    hidden = [c for c in out if invisible(c)]
    if hidden:
        out = "".join(c for c in out if not invisible(c))
        changes.append(f"removed {_names(hidden)}")
    if {"LATIN"} < _scripts(out) and _scripts(out) & {"CYRILLIC", "GREEK"}:
        swapped = [c for c in out if c in CONFUSABLES]
        if swapped:
            out = "".join(CONFUSABLES.get(c, c) for c in out)
            changes.append(
                f"replaced Cyrillic/Greek look-alike(s) {''.join(sorted(set(swapped))).lower()}"
                " by Latin"
            )
    return out.strip(), changes


def skeleton(text: str) -> str:
    """Return what an id looks like: normalised, every look-alike letter made Latin.

    Examples
    --------
    >>> skeleton("Н-1") == skeleton("H-1") == skeleton("H\u200b-1")
    True
    """
    out, _ = normalise_id(text)
    return "".join(CONFUSABLES.get(c, c) for c in out)


def _normalise_column(attrs, column, issues, alive, *, label) -> list:
    """Normalise the ids of one column in place; note each change on its feature."""
    values = list(attrs[column])
    for i, v in enumerate(values):
        if is_null(v) or not isinstance(v, str):
            continue
        new, changes = normalise_id(v)
        if new != v:
            values[i] = new
            if alive[i]:
                detail = f"{label} {v!r} stored as {new!r}: {'; '.join(changes)}"
                issues[i].append(Issue("id_normalised", detail))
    attrs[column] = pd.Series(values, index=attrs.index, dtype=object)
    return values


def _reject_lookalikes(raw, ids, issues, alive, stored: set[str], idcol: str) -> None:
    """Reject ids that look like another id of the source or of the store."""
    groups: dict[str, set[str]] = {}
    for i in np.flatnonzero(alive):
        if ids[i] is not None:
            groups.setdefault(skeleton(ids[i]), set()).add(raw[i])
    by_skeleton = {skeleton(s): s for s in stored}
    for i in np.flatnonzero(alive):
        if ids[i] is None:
            continue
        key = skeleton(ids[i])
        others = sorted(groups[key] - {raw[i]})
        if others:
            issues[i].append(
                Issue("lookalike_id", f"{idcol}={raw[i]!r} looks like {others[0]!r} in the source")
            )
        elif key in by_skeleton and by_skeleton[key] != ids[i]:
            issues[i].append(
                Issue(
                    "lookalike_id",
                    f"{idcol}={raw[i]!r} looks like {by_skeleton[key]!r} already in the store",
                )
            )


def check_lookalikes(
    attrs: pd.DataFrame,
    schema: LayerSchema,
    issues: list[list[Issue]],
    existing: gpd.GeoDataFrame | None,
    *,
    alive: np.ndarray,
    notices: list[str],
) -> None:
    """Run the step: normalise ids and references, reject look-alike ids (in place).

    Parameters
    ----------
    attrs : pandas.DataFrame
        The features' converted attributes; id columns are rewritten normalised.
    schema : kosovo_cmr.schema.LayerSchema
    issues : list of list of Issue
        Extended in place (``id_normalised`` notes, ``lookalike_id`` rejections).
    existing : GeoDataFrame or None
        The stored layer (append mode), for ids that look like stored ones.
    alive : numpy.ndarray of bool
        Features not rejected so far.
    notices : list of str
        Extended with one line counting the normalised ids.
    """
    idcol = schema.id_column
    columns = [c for c in dict.fromkeys([idcol, "hazard_id"]) if c and c in attrs.columns]
    before = sum(1 for iss in issues for x in iss if x.code == "id_normalised")
    raw = list(attrs[idcol]) if idcol in columns else []
    for column in columns:
        _normalise_column(attrs, column, issues, alive, label=column)
    changed = sum(1 for iss in issues for x in iss if x.code == "id_normalised") - before
    if changed:
        notices.append(
            f"{changed} id(s) held invisible or look-alike characters and were normalised "
            "(see id_normalised on each feature)"
        )
    if idcol not in columns:
        return
    ids = [None if is_null(v) else str(v) for v in attrs[idcol]]
    raw = [None if is_null(v) else str(v) for v in raw]
    stored = set()
    if existing is not None and len(existing) and idcol in existing.columns:
        stored = set(existing[idcol].dropna().astype(str))
    _reject_lookalikes(raw, ids, issues, alive, stored, idcol)
