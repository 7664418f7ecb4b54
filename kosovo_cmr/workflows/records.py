"""The programme's records in a store: verification, and what a report needs from history.

:func:`verify` records the national authority's verification of hazards and land
release records (``kcmr verify``): a write like any other, so the store's history keeps
the record as it was before, with the time of the change and who made it.
:func:`later_changes` lists what changed in the records of a year after it ended (later
verifications, resubmissions, late records), for the report's ledger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from kosovo_cmr.analysis.verification import set_verification
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import get_schema

__all__ = ["VERIFIABLE", "Verified", "verify", "later_changes", "LATER_COLUMNS"]

log = logging.getLogger(__name__)

#: The layers whose records carry a verification.
VERIFIABLE = ("hazards", "releases")


@dataclass(frozen=True)
class Verified:
    """What :func:`verify` wrote to one layer."""

    layer: str
    ids: tuple[str, ...]
    state: str
    changed: int
    import_id: int | None

    def as_dict(self) -> dict:
        """Return a JSON-ready dict."""
        return {
            "layer": self.layer,
            "ids": list(self.ids),
            "state": self.state,
            "changed": self.changed,
            "import_id": self.import_id,
        }


def _where(store, ids: list[str], layer: str | None) -> dict[str, list[str]]:
    """Return the layer of each id (refusing unknown and ambiguous ones)."""
    layers = [layer] if layer is not None else list(VERIFIABLE)
    for name in layers:
        if name not in VERIFIABLE:
            raise InputError(f"only {' and '.join(VERIFIABLE)} are verified, not {name!r}")
    found: dict[str, list[str]] = {}
    for name in layers:
        if not store.has_layer(name):
            continue
        present = set(store.read(name)[get_schema(name).id_column].astype(str))
        for i in ids:
            if i in present:
                found.setdefault(i, []).append(name)
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError(
            f"no {' or '.join(layers)} record {', '.join(missing[:10])} in store "
            f"{store.uri}; nothing was written"
        )
    both = [i for i, names in found.items() if len(names) > 1]
    if both:
        raise InputError(
            f"{', '.join(both)} is both a hazard and a release id: give --layer; nothing "
            "was written"
        )
    out: dict[str, list[str]] = {}
    for i in ids:
        out.setdefault(found[i][0], []).append(i)
    return out


def verify(
    store,
    ids,
    *,
    layer: str | None = None,
    state: str = "verified",
    on=None,
    by: str | None = None,
    valid_from=None,
    source: str = "kcmr verify",
) -> list[Verified]:
    """Record the verification of hazards and releases in a store.

    Each layer is written once (``mode="upsert"``: only these records are replaced,
    under the store's lock, so a concurrent writer's features are kept), and its
    history keeps each record's previous version.

    Parameters
    ----------
    store : kosovo_cmr.store.Store
    ids : iterable of str
        Hazard and release ids.
    layer : {"hazards", "releases"}, optional
        Where the ids are (default: found in either; an id in both is refused).
    state : {"verified", "rejected", "reported"}
        What the national authority decided (``reported`` withdraws a verification).
    on : date or str, optional
        The date of the verification (default today, UTC).
    by : str, optional
        Who verified (e.g. ``KMAC``).
    valid_from : date or str, optional
        When the change takes effect in the store's history (default now): a programme
        loading its archive gives the date it was recorded.
    source : str
        What the imports table records as the source.

    Returns
    -------
    list of Verified
        One per layer written.

    Raises
    ------
    kosovo_cmr.errors.InputError
        No id given, an id found nowhere or in both layers, a bad state or date.
    """
    ids = [str(i) for i in ids]
    if not ids:
        raise InputError("give the id of at least one hazard or release to verify")
    out = []
    options = {"state": state, "on": on, "by": by}
    for name, mine in _where(store, list(dict.fromkeys(ids)), layer).items():
        current, seen = _current(store, name, mine)
        marked = set_verification(current, mine, id_column=get_schema(name).id_column, **options)
        record = store.write(marked, name, mode="upsert", source=source, valid_from=valid_from)
        _reapply(store, name, seen, record, source=source, **options)
        out.append(Verified(name, tuple(mine), state, int(record.changed or 0), record.import_id))
        log.info("%s: %d record(s) %s (%d changed)", name, len(mine), state, record.changed or 0)
    return out


def _current(store, layer: str, ids: list[str]):
    """Return the records as their current versions hold them, and those versions' ids."""
    from kosovo_cmr.schema import conform

    versions = store.versions(layer, ids=ids)
    if not len(versions):  # a store without history for them: the layer as it reads
        return store.read(layer), {}
    now = versions[versions["valid_to"].isna()]
    idcol = get_schema(layer).id_column
    seen = dict(zip(now[idcol].astype(str), now["version_id"], strict=True))
    return conform(_features(now, layer), layer), seen


def _features(versions, layer: str):
    """Return the feature columns of versions: no bookkeeping, none empty for them all."""
    schema = get_schema(layer)
    frame = versions.drop(
        columns=["version_id", "valid_from", "valid_to", "import_id", "closed_by", "row_hash"]
    ).reset_index(drop=True)
    empty = [c for c in frame.columns if c not in schema.column_names
             and c != frame.geometry.name and frame[c].isna().all()]  # fmt: skip
    return frame.drop(columns=empty)


def _reapply(store, layer: str, seen: dict, record, *, source: str, **options) -> None:
    """Keep a change another writer made between this verification's read and its write.

    The verification replaced each record as it read it; if another import changed one
    in between, the history shows that the version this write closed is not the one it
    read. Its content is then written again with the verification applied, so that both
    changes stand (and a notice says so).
    """
    from kosovo_cmr.schema import conform

    if record.import_id is None or not seen:
        return
    idcol = get_schema(layer).id_column
    versions = store.versions(layer, ids=list(seen))
    closed = versions[(versions["closed_by"] == record.import_id).fillna(False).to_numpy()]
    stale = closed[[seen.get(str(i)) != v for i, v in zip(closed[idcol], closed["version_id"],
                                                          strict=True)]]  # fmt: skip
    if not len(stale):
        return
    theirs = conform(_features(stale, layer), layer)
    ids = theirs[idcol].astype(str).tolist()
    marked = set_verification(theirs, ids, id_column=idcol, **options)
    store.write(marked, layer, mode="upsert", source=f"{source} (kept a concurrent change)")
    log.warning(
        "%s: %s changed by another writer while being verified: the verification was "
        "applied to that change (both kept; kcmr history shows them)",
        layer,
        ", ".join(ids),
    )


#: Columns of :func:`later_changes`.
LATER_COLUMNS = (
    "layer", "id", "change", "changed_columns", "area_delta_m2", "verification",
    "verified_on", "verified_by", "when", "source",
)  # fmt: skip


def later_changes(store, *, year: int) -> pd.DataFrame:
    """Return what changed in the hazards and releases of a year after the year ended.

    From the store's history: the records as they were at the end of 31 December of
    ``year`` against the store (or its ``as_of`` view) now, for the hazards and the
    releases dated in ``year``. The first versions a migration made (the history began
    then) are no change. A store without history, or whose history of these layers begins
    after the year ended, gives an empty table; ``attrs["history_begins"]`` says when it
    begins (the ``valid_from`` of the first import of hazards or releases).

    Parameters
    ----------
    store : kosovo_cmr.store.Store
        A store, or a view of it as of a later date (:meth:`Store.as_of`).
    year : int

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LATER_COLUMNS`: the change (``added``, ``changed``, ``removed``),
        the columns that changed, the change of area (m2), the record's verification
        after the change, and when and from what source the change was written.
    """
    from kosovo_cmr.store.history import diff

    base = getattr(store, "store", store)
    until = getattr(store, "label", None)
    end = pd.Timestamp(year, 12, 31)
    empty = pd.DataFrame(columns=list(LATER_COLUMNS))
    try:
        prov = base.provenance()
        mine = prov[prov["layer"].isin(VERIFIABLE)] if len(prov) else prov
        dates = mine["valid_from"].dropna() if len(mine) else []
        begins = str(min(dates)) if len(dates) else None
        empty.attrs["history_begins"] = begins
        if begins is None or begins > f"{year}-12-31T23:59:59.999Z":
            return empty  # no state of the records at the end of the year to compare with
        if until is not None and pd.Timestamp(until) <= end:
            return empty
        changes = pd.concat(
            [diff(base, since=str(end.date()), until=until, layer=n) for n in VERIFIABLE],
            ignore_index=True,
        )
    except NotImplementedError:  # a store that keeps no history
        return empty
    out = _describe(base, changes, prov, year=year)
    out.attrs["history_begins"] = begins
    return out


def _describe(store, changes: pd.DataFrame, prov: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Keep the changes to records of ``year``; add the verification and the import."""
    rows = []
    made = prov.set_index("import_id") if len(prov) else prov
    for layer in VERIFIABLE:
        mine = changes[changes["layer"] == layer]
        if not len(mine):
            continue
        idcol = get_schema(layer).id_column
        versions = store.versions(layer, ids=mine["id"].tolist()).set_index("version_id")
        for c in mine.itertuples(index=False):
            after = c.version_after if c.version_after is not None else c.version_before
            v = versions.loc[int(after)]
            import_id = v["import_id"] if c.version_after is not None else v["closed_by"]
            imp = made.loc[int(import_id)] if int(import_id) in made.index else {}
            if imp.get("mode") == "migrate" or not _of_year(v, layer, year):
                continue
            rows.append(
                {
                    "layer": layer,
                    "id": str(v[idcol]),
                    "change": c.change,
                    "changed_columns": c.changed_columns,
                    "area_delta_m2": c.area_delta_m2,
                    "verification": v.get("verification"),
                    "verified_on": v.get("verified_on"),
                    "verified_by": v.get("verified_by"),
                    "when": imp.get("valid_from"),
                    "source": imp.get("source"),
                }
            )
    return pd.DataFrame(rows, columns=list(LATER_COLUMNS))


def _of_year(version: pd.Series, layer: str, year: int) -> bool:
    """Return whether a record belongs to the report of ``year``.

    A release dated in it; a hazard recorded by its end and not closed before it began.
    """
    if layer == "releases":
        return pd.Timestamp(version["date"]).year == year
    recorded = pd.Timestamp(version["recorded"])
    closed = version.get("closed")
    return recorded <= pd.Timestamp(year, 12, 31) and (
        pd.isna(closed) or pd.Timestamp(closed) >= pd.Timestamp(year, 1, 1)
    )
