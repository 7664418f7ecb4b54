"""What the history says: a feature's versions, and what changed between two states.

>>> from kosovo_cmr.store import open_store
>>> from kosovo_cmr.store.history import feature_history, diff
>>> store = open_store("kmac.gpkg")                               # doctest: +SKIP
>>> feature_history(store, "DEMO-HZ-0007")                        # doctest: +SKIP
>>> diff(store, since="2024-12-31")                               # doctest: +SKIP
>>> diff(store, from_import=12, to_import=15)                     # doctest: +SKIP

Areas are geodesic (m2, on the WGS 84 ellipsoid) for the polygon layers and empty for
point layers. A state "since a day" is the layers at the end of that day (UTC); a state
"after an import" is the layers once that import and every earlier one had been
written (imports are numbered in the order they were committed).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import LAYERS, get_schema
from kosovo_cmr.store.base import Store
from kosovo_cmr.store.versions import VERSION_COLUMNS, end_of_day

__all__ = ["feature_history", "diff", "HISTORY_COLUMNS", "DIFF_COLUMNS"]

#: Columns of :func:`feature_history`.
HISTORY_COLUMNS = (
    "layer", "id", "version_id", "valid_from", "valid_to", "area_m2", "area_change_m2",
    "changed_columns", "import_id", "mode", "source", "source_sha256", "written_at", "user",
    "command", "closed_by",
)  # fmt: skip
#: Columns of :func:`diff`.
DIFF_COLUMNS = (
    "layer", "id", "change", "area_before_m2", "area_after_m2", "area_delta_m2",
    "changed_columns", "version_before", "version_after",
)  # fmt: skip


def _area(frame: gpd.GeoDataFrame, layer: str) -> np.ndarray:
    if get_schema(layer).geometry_type != "MultiPolygon" or not len(frame):
        return np.full(len(frame), np.nan)
    return geodesic_area(frame.geometry)


def _changed_columns(before: pd.Series | None, after: pd.Series, geom: str) -> str:
    """Return the attributes (and ``geometry``) that differ between two versions."""
    if before is None:
        return ""
    names = []
    for col in after.index:
        if col in ("version_id", *VERSION_COLUMNS):
            continue
        a, b = before.get(col), after.get(col)
        if col == geom:
            same = a is not None and b is not None and a.equals_exact(b, 0)
        else:
            same = (pd.isna(a) and pd.isna(b)) if _scalar_na(a) or _scalar_na(b) else a == b
        if not same:
            names.append("geometry" if col == geom else col)
    return ", ".join(names)


def _scalar_na(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _layers(store: Store, layer: str | None) -> list[str]:
    if layer is None:
        return list(LAYERS)
    return [get_schema(layer).name]


def feature_history(store: Store, feature_id, *, layer: str | None = None) -> pd.DataFrame:
    """Return every version of one feature, oldest first, with its area change and its import.

    Parameters
    ----------
    store : Store
    feature_id : str
        The value of the layer's id column (``hazard_id``, ``release_id`` ...).
    layer : str, optional
        The layer to look in (default: every layer holding that id).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HISTORY_COLUMNS`: the version's id and validity (``valid_to``
        empty while current; ``closed_by`` the import that changed or removed it), its
        geodesic area and the change from the version before (m2), the attributes that
        changed, and the import that made it (mode, source file and SHA-256, time, user,
        command).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no layer has a feature with that id.
    """
    imports = store.provenance().set_index("import_id")
    rows = []
    for name in _layers(store, layer):
        versions = store.versions(name, ids=[str(feature_id)])
        if not len(versions):
            continue
        areas = _area(versions, name)
        geom = versions.geometry.name
        previous = None
        for i, (_, version) in enumerate(versions.iterrows()):
            made = (
                imports.loc[version["import_id"]] if version["import_id"] in imports.index else {}
            )
            rows.append(
                {
                    "layer": name,
                    "id": str(feature_id),
                    "version_id": int(version["version_id"]),
                    "valid_from": version["valid_from"],
                    "valid_to": version["valid_to"],
                    "area_m2": areas[i],
                    "area_change_m2": areas[i] - areas[i - 1] if i else np.nan,
                    "changed_columns": _changed_columns(previous, version, geom),
                    "import_id": int(version["import_id"]),
                    **{
                        k: made.get(k)
                        for k in (
                            "mode",
                            "source",
                            "source_sha256",
                            "written_at",
                            "user",
                            "command",
                        )
                    },  # fmt: skip
                    "closed_by": version["closed_by"],
                }
            )
            previous = version
    if not rows:
        where = f"layer {layer!r}" if layer else "any layer"
        raise InputError(f"no feature with id {feature_id!r} in {where} of store {store.uri}")
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


def _state_after(versions: gpd.GeoDataFrame, import_id: int) -> gpd.GeoDataFrame:
    opened = versions["import_id"] <= import_id
    still = versions["closed_by"].isna() | (versions["closed_by"] > import_id)
    return versions[(opened & still).fillna(False).to_numpy()]


def _states(store: Store, name: str, bounds: dict):
    if bounds["kind"] == "time":
        before = store.versions(name, at=bounds["before"])
        if bounds["after"] is not None:
            return before, store.versions(name, at=bounds["after"])
        every = store.versions(name)
        return before, every[every["valid_to"].isna().to_numpy()]
    every = store.versions(name)
    return _state_after(every, bounds["before"]), _state_after(every, bounds["after"])


def _bounds(store, since, until, from_import, to_import) -> dict:
    by_time = since is not None or until is not None
    by_import = from_import is not None or to_import is not None
    if by_time == by_import:
        raise InputError("give either --since DATE (and --until) or --from IMPORT (and --to)")
    if by_time:
        if since is None:
            raise InputError("--until needs --since")
        return {
            "kind": "time",
            "before": end_of_day(since, what="--since"),
            "after": None if until is None else end_of_day(until, what="--until"),
        }
    if from_import is None:
        raise InputError("--to needs --from")
    last = store.provenance()["import_id"].max() if len(store.provenance()) else 0
    to_import = int(last) if to_import is None else int(to_import)
    if int(from_import) > to_import:
        raise InputError(f"--from {from_import} comes after --to {to_import}")
    return {"kind": "import", "before": int(from_import), "after": to_import}


def diff(
    store: Store,
    *,
    since=None,
    until=None,
    from_import: int | None = None,
    to_import: int | None = None,
    layer: str | None = None,
) -> pd.DataFrame:
    """Return the features added, removed and changed between two states, with area deltas.

    Parameters
    ----------
    store : Store
    since, until : date or str, optional
        Compare the layers at the end of ``since`` (UTC) with those at the end of
        ``until`` (default: now).
    from_import, to_import : int, optional
        Or compare the layers after import ``from_import`` with those after
        ``to_import`` (default: the latest import): what imports ``from_import + 1`` to
        ``to_import`` did.
    layer : str, optional
        Only this layer (default: every layer).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIFF_COLUMNS`, one row per feature that differs; ``change`` is
        ``added``, ``removed`` or ``changed``; areas are geodesic m2 (empty for points).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If neither or both kinds of bounds are given.
    """
    bounds = _bounds(store, since, until, from_import, to_import)
    rows = []
    for name in _layers(store, layer):
        before, after = _states(store, name, bounds)
        rows.extend(_compare(before, after, name))
    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    order = {"added": 0, "changed": 1, "removed": 2}
    frame = frame.assign(_o=frame["change"].map(order)).sort_values(["layer", "_o", "id"])
    return frame.drop(columns="_o").reset_index(drop=True)


def _compare(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, name: str) -> list[dict]:
    idcol = get_schema(name).id_column
    a_area = dict(zip(before[idcol], _area(before, name), strict=True))
    b_area = dict(zip(after[idcol], _area(after, name), strict=True))
    a_rows = {r[idcol]: r for _, r in before.iterrows()}
    b_rows = {r[idcol]: r for _, r in after.iterrows()}
    geom = after.geometry.name
    rows = []
    for fid in sorted(set(a_rows) | set(b_rows)):
        old, new = a_rows.get(fid), b_rows.get(fid)
        if old is not None and new is not None:
            if old["version_id"] == new["version_id"] or old["row_hash"] == new["row_hash"]:
                continue
            change = "changed"
        else:
            change = "added" if old is None else "removed"
        before_m2, after_m2 = a_area.get(fid, np.nan), b_area.get(fid, np.nan)
        if get_schema(name).geometry_type == "MultiPolygon":
            before_m2 = 0.0 if old is None else before_m2
            after_m2 = 0.0 if new is None else after_m2
        rows.append(
            {
                "layer": name,
                "id": fid,
                "change": change,
                "area_before_m2": before_m2,
                "area_after_m2": after_m2,
                "area_delta_m2": after_m2 - before_m2,
                "changed_columns": _changed_columns(old, new, geom) if change == "changed" else "",
                "version_before": None if old is None else int(old["version_id"]),
                "version_after": None if new is None else int(new["version_id"]),
            }
        )
    return rows
