"""Import, step "check identity": the id column of the layer schema (e.g. ``hazard_id``).

- a feature without an id is rejected (``missing_id``, or ``missing_value`` when the
  attribute check already found the id empty);
- ids repeated within the source: ``on_conflict="error"`` rejects every copy
  (``duplicate_id``), ``"skip"`` keeps the first, ``"replace"`` keeps the last;
- ids already in the store (only with ``mode="append"``): ``"error"`` refuses the whole
  import (:class:`IdConflictError`, nothing written), ``"skip"`` rejects the incoming
  feature (``id_in_store``), ``"replace"`` replaces the stored feature
  (``replaced_in_store``). Importing the same file twice with the defaults therefore
  fails cleanly the second time and stores nothing twice.

:func:`check_identity` runs the step; :func:`kosovo_cmr.importer.import_layer` calls it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.import_lookalikes import check_lookalikes
from kosovo_cmr.import_report import alive_mask, is_rejected
from kosovo_cmr.import_values import is_null
from kosovo_cmr.schema import LayerSchema

__all__ = ["IdConflictError", "ON_CONFLICT", "feature_ids", "check_ids", "check_identity"]

#: What to do with ids repeated in the source or already in the store.
ON_CONFLICT = ("error", "skip", "replace")


class IdConflictError(InputError):
    """Ids of the source are already in the store and ``on_conflict="error"``."""


def feature_ids(attrs: pd.DataFrame, idcol: str | None) -> list:
    """Each feature's id as text (``None`` where missing, or when the layer has no id)."""
    if idcol is None or idcol not in attrs.columns:
        return [None] * len(attrs)
    return [None if is_null(v) else str(v) for v in attrs[idcol]]


def check_ids(
    ids: list,
    alive: np.ndarray,
    issues: list[list[Issue]],
    existing: gpd.GeoDataFrame | None,
    idcol: str | None,
    *,
    on_conflict: str,
    dry_run: bool,
) -> set[str]:
    """Check ids within the source and against the store; return the ids to replace.

    Parameters
    ----------
    ids : list
        From :func:`feature_ids`.
    alive : numpy.ndarray of bool
        Features not rejected so far.
    issues : list of list of Issue
        Extended in place.
    existing : GeoDataFrame or None
        The stored layer (append mode), or ``None``.
    idcol : str or None
        The layer's id column.
    on_conflict : {"error", "skip", "replace"}
    dry_run : bool
        A dry run reports ids in the store as ``id_in_store`` instead of refusing.

    Returns
    -------
    set of str
        Stored ids that the import replaces (``on_conflict="replace"``).

    Raises
    ------
    IdConflictError
        If ids are already in the store, ``on_conflict="error"`` and not ``dry_run``.
    """
    if idcol is None:
        return set()
    for i, v in enumerate(ids):
        if v is None and alive[i] and not any(x.code == "missing_value" for x in issues[i]):
            issues[i].append(Issue("missing_id", idcol))
    live = [i for i in np.flatnonzero(alive) if ids[i] is not None]
    _check_repeats(ids, live, issues, idcol, on_conflict=on_conflict)
    if existing is None or not len(existing):
        return set()
    stored = set(existing[idcol].dropna().astype(str))
    clash = [i for i in live if ids[i] in stored and not is_rejected(issues[i])]
    if not clash:
        return set()
    if on_conflict == "error" and not dry_run:
        sample = ", ".join(sorted({ids[i] for i in clash})[:5])
        raise IdConflictError(
            f"{len(clash)} id(s) already in the store ({sample}); nothing imported. Pass "
            "--on-conflict skip to keep the stored features, --on-conflict replace to "
            "overwrite them, or --mode replace to replace the whole layer"
        )
    if on_conflict == "replace":
        for i in clash:
            issues[i].append(Issue("replaced_in_store", f"{idcol}={ids[i]!r}"))
        return {ids[i] for i in clash}
    for i in clash:
        issues[i].append(Issue("id_in_store", f"{idcol}={ids[i]!r}"))
    return set()


def _check_repeats(ids, live, issues, idcol, *, on_conflict) -> None:
    """Reject the copies of ids repeated within the source, as ``on_conflict`` says."""
    groups: dict[str, list[int]] = {}
    for i in live:
        groups.setdefault(ids[i], []).append(i)
    for value, members in groups.items():
        if len(members) < 2:
            continue
        if on_conflict == "error":
            losers = members
        elif on_conflict == "skip":
            losers = members[1:]
        else:
            losers = members[:-1]
        rows = ", ".join(f"#{m + 1}" for m in members)
        for i in losers:
            issues[i].append(Issue("duplicate_id", f"{idcol}={value!r} on rows {rows}"))


def check_identity(
    attrs: pd.DataFrame,
    schema: LayerSchema,
    issues: list[list[Issue]],
    existing: gpd.GeoDataFrame | None,
    *,
    on_conflict: str,
    dry_run: bool,
    notices: list[str] | None = None,
) -> tuple[list, set[str]]:
    """Run the step: read the ids and check them (see the module notes).

    Ids (and ``hazard_id`` references) are first normalised and compared by what they
    look like (:func:`kosovo_cmr.import_lookalikes.check_lookalikes`); ``attrs`` is
    updated in place with the normalised ids.

    Returns
    -------
    ids : list
        Each feature's id (``None`` where missing).
    replaced : set of str
        Stored ids that the import replaces.

    Raises
    ------
    IdConflictError
        As :func:`check_ids`.
    """
    check_lookalikes(
        attrs, schema, issues, existing, alive=alive_mask(issues),
        notices=notices if notices is not None else [],
    )  # fmt: skip
    ids = feature_ids(attrs, schema.id_column)
    replaced = check_ids(
        ids,
        alive_mask(issues),
        issues,
        existing,
        schema.id_column,
        on_conflict=on_conflict,
        dry_run=dry_run,
    )
    return ids, replaced
