"""The effort model: clearance method, rate and team-days per hazard.

Steps 1-3 of the forecast (:mod:`kosovo_cmr.analysis.forecast` runs them all); every
number comes from ``layers/effort.toml``, which says which figures are the Mine Action
Review's and which are assumptions:

1. **Area to clear** per active hazard (:func:`area_to_clear`), geodesic m2. Without a
   fade-out rule it is the hazard's recorded area. With a rule it is the area of the
   union of the hazard polygon with the fade-out area that
   :func:`kosovo_cmr.analysis.fadeout.delineate` draws around the hazard's own evidence points
   (``evidence.hazard_id``): clearance covers the recorded polygon and goes on the
   fade-out distance beyond the last evidence, which near the polygon's edge takes it
   outside. A hazard without evidence (most SHAs) keeps its recorded area.
2. **Method** per hazard (:func:`choose_method`): the first rule of the effort file whose
   slope and vegetation limits the hazard's terrain
   (:func:`kosovo_cmr.analysis.terrain.terrain_stats`) meets; unknown terrain gets the
   file's ``unknown_terrain_method``.
3. **Team-days** = area to clear / the method's rate (m2 per team per working day)
   (:func:`clearance_effort`).
"""

from __future__ import annotations

import math
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr._resources import layer_file
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "ForecastWarning",
    "read_effort",
    "choose_method",
    "area_to_clear",
    "clearance_effort",
]


class ForecastWarning(UserWarning):
    """An effort file, a hazard or a scenario cannot be used or computed as asked."""


# --- the effort file ---------------------------------------------------------------------


def read_effort(path: str | Path | None = None) -> dict:
    """Read and check an effort file (default the shipped ``layers/effort.toml``).

    Parameters
    ----------
    path : path, optional
        A TOML file laid out like ``layers/effort.toml``.

    Returns
    -------
    dict
        The parsed file, with ``methods`` (name -> method table) added.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read or misses a required entry.

    Warns
    -----
    ForecastWarning
        If the file holds a ``[capacity]`` table: teams come from
        :func:`kosovo_cmr.programme.read_capacity` (``layers/capacity.csv``) only.

    Examples
    --------
    >>> effort = read_effort()
    >>> effort["methods"]["scorpion"]["rate_m2_per_team_day"], effort["season"]["working_days"]
    (168.0, 160)
    """
    path = Path(path) if path is not None else layer_file("effort.toml")
    try:
        with open(path, "rb") as fh:
            effort = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read effort file {path}: {exc}") from exc
    try:
        methods = {m["name"]: m for m in effort["method"]}
        for m in methods.values():
            if not float(m["rate_m2_per_team_day"]) > 0:
                raise InputError(f"effort file {path}: method {m['name']!r} needs a rate > 0")
        season = effort["season"]
        for key in ("first_month", "last_month", "working_days", "start_year"):
            season[key] = int(season[key])
        rules = effort["rule"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"effort file {path}: missing or bad entry {exc}") from exc
    unknown = effort.setdefault("terrain", {}).setdefault("unknown_terrain_method", "lld")
    for name in [r.get("method") for r in rules] + [unknown]:
        if name not in methods:
            raise InputError(f"effort file {path}: rule names unknown method {name!r}")
    if not 1 <= season["first_month"] <= season["last_month"] <= 12:
        raise InputError(f"effort file {path}: season months must run 1..12, first <= last")
    if "capacity" in effort:
        warnings.warn(
            f"effort file {path}: its [capacity] table is not read; teams come from "
            "layers/capacity.csv, or --capacity FILE and --teams OP=N",
            ForecastWarning,
            stacklevel=2,
        )
    effort["methods"] = methods
    effort["path"] = str(path)
    return effort


# --- effort per hazard -------------------------------------------------------------------


def choose_method(terrain: pd.DataFrame | None, *, index, effort: dict) -> pd.Series:
    """Choose the clearance method per hazard from its terrain and the effort file's rules.

    Parameters
    ----------
    terrain : DataFrame or None
        :func:`kosovo_cmr.analysis.terrain.terrain_stats` output aligned with ``index`` (or None).
    index : pandas.Index
        The hazards' index.
    effort : dict
        A :func:`read_effort` result.

    Returns
    -------
    pandas.Series of str
        Method names; the unknown-terrain method where slope is missing.
    """
    unknown = effort["terrain"]["unknown_terrain_method"]
    out = pd.Series(unknown, index=index, dtype="str")
    if terrain is None:
        return out
    slope = terrain["slope_p90_deg"].reindex(index).astype(float)
    dense = terrain.get("dense_veg_share", pd.Series(np.nan, index=terrain.index))
    dense = dense.reindex(index).astype(float)
    for label in index:
        s, d = slope[label], dense[label]
        if not np.isfinite(s):
            continue
        for rule in effort["rule"]:
            ok = s <= rule.get("max_slope_p90_deg", math.inf)
            # unknown cover does not block a rule: only the slope is then known
            ok &= not np.isfinite(d) or d <= rule.get("max_dense_veg_share", math.inf)
            if ok:
                out[label] = rule["method"]
                break
    return out


def area_to_clear(
    hazards: gpd.GeoDataFrame,
    *,
    evidence: gpd.GeoDataFrame | None = None,
    fadeout_rule=None,
    basis: str = "union",
) -> pd.Series:
    """Area to clear per hazard, geodesic m2 (see the module notes for the definition).

    Parameters
    ----------
    hazards : GeoDataFrame
        Hazard polygons with ``hazard_id`` (any CRS).
    evidence : GeoDataFrame, optional
        Evidence points with ``hazard_id``; needed with ``fadeout_rule``.
    fadeout_rule : optional
        Anything :func:`kosovo_cmr.analysis.fadeout.load_rule` accepts: a rule name
        (``"kosovo-nmas-2024"``), a TOML file or a rule. None: the hazard's recorded area.
    basis : {"union", "redrawn"}, optional
        With a rule, for a hazard that has evidence: ``"union"`` (default) clears the
        recorded polygon and the fade-out area around its evidence; ``"redrawn"`` clears
        only the fade-out area (the hazard redrawn from its evidence under the rule,
        exact geodesic area from :func:`kosovo_cmr.analysis.fadeout.delineate`).

    Returns
    -------
    pandas.Series of float
        Aligned with ``hazards``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a rule is given without evidence, or the rule cannot be loaded.
    """
    require_crs(hazards, name="hazards")
    recorded = pd.Series(geodesic_area(hazards), index=hazards.index, name="area_to_clear_m2")
    if fadeout_rule is None:
        return recorded
    if basis not in ("union", "redrawn"):
        raise InputError(f"basis must be 'union' or 'redrawn', got {basis!r}")
    if evidence is None:
        raise InputError("a fade-out rule needs the evidence layer (evidence=)")
    from kosovo_cmr.analysis import fadeout

    rule = fadeout.load_rule(fadeout_rule)
    require_crs(evidence, name="evidence")
    ev = evidence.to_crs(hazards.crs)
    out = recorded.copy()
    for label, row in hazards.iterrows():
        own = ev[ev["hazard_id"] == row["hazard_id"]]
        if own.empty or row.geometry is None or row.geometry.is_empty:
            continue
        drawn = fadeout.delineate(own, rule)
        if basis == "redrawn":
            out[label] = float(drawn["area_m2"].sum())
            continue
        drawn_geom = drawn.to_crs(hazards.crs).union_all()
        union = row.geometry.union(drawn_geom)
        out[label] = float(geodesic_area([union], crs=hazards.crs)[0])
    return out


def clearance_effort(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    fadeout_rule=None,
    fadeout_basis: str = "union",
    effort: dict | None = None,
    rate_factor: float = 1.0,
) -> pd.DataFrame:
    """Compute method, rate and team-days per hazard.

    Parameters
    ----------
    hazards : GeoDataFrame
        Hazards to clear (usually the ``status == "active"`` ones), with ``hazard_id``,
        ``priority`` and ``operator``.
    terrain : DataFrame, optional
        :func:`kosovo_cmr.analysis.terrain.terrain_stats` for these hazards.
    evidence : GeoDataFrame, optional
        Evidence points, for ``fadeout_rule``.
    fadeout_rule : optional
        See :func:`area_to_clear`.
    fadeout_basis : {"union", "redrawn"}, optional
        See ``basis`` in :func:`area_to_clear`.
    effort : dict, optional
        A :func:`read_effort` result (default the shipped file).
    rate_factor : float, optional
        Multiplies every rate (the calibrated scenario uses it).

    Returns
    -------
    pandas.DataFrame
        One row per hazard: ``hazard_id``, ``kind``, ``priority``, ``operator``,
        ``area_m2`` (recorded), ``area_to_clear_m2``, ``slope_p90_deg``,
        ``dense_veg_share``, ``method``, ``rate_m2_per_team_day``, ``team_days``
        (= area_to_clear_m2 / rate_m2_per_team_day).
    """
    require_crs(hazards, name="hazards")
    effort = effort if effort is not None else read_effort()
    out = pd.DataFrame(index=hazards.index)
    for col in ("hazard_id", "kind", "priority", "operator"):
        out[col] = hazards[col].to_numpy() if col in hazards else None
    out["area_m2"] = geodesic_area(hazards)
    out["area_to_clear_m2"] = area_to_clear(
        hazards, evidence=evidence, fadeout_rule=fadeout_rule, basis=fadeout_basis
    )
    for col in ("slope_p90_deg", "dense_veg_share"):
        out[col] = terrain[col].reindex(hazards.index) if terrain is not None else np.nan
    out["method"] = choose_method(terrain, index=hazards.index, effort=effort)
    rates = {
        k: float(m["rate_m2_per_team_day"]) * rate_factor for k, m in effort["methods"].items()
    }
    out["rate_m2_per_team_day"] = out["method"].map(rates).astype(float)
    out["team_days"] = out["area_to_clear_m2"] / out["rate_m2_per_team_day"]
    return out.reset_index(drop=True)
