"""Clearance effort per hazard and a completion forecast, with scenarios, to 2030.

The model, end to end (every number comes from ``layers/effort.toml``, which says which
figures are the report's and which are assumptions):

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
3. **Team-days** = area to clear / the method's rate (m2 per team per working day).
4. **Schedule** (:func:`schedule`): each operator's teams work its hazards one after the
   other, high priority first, then medium, then low (ties by ``hazard_id``), all teams
   on one task at a time; a hazard takes ``team_days / teams`` working days. A season
   (April-November) holds ``working_days`` days. A capacity given as m2 a year (the
   1.8 km2 target) replaces the operators by one national queue.
5. **Completion** of a priority class is the season in which its last hazard finishes;
   the burn-down counts each hazard cleared evenly over its working days.
"""

from __future__ import annotations

import csv
import math
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr._resources import layer_file
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError, KcmrError

__all__ = [
    "PRIORITIES",
    "read_effort",
    "read_capacity",
    "choose_method",
    "area_to_clear",
    "clearance_effort",
    "schedule",
    "completion",
    "burndown",
    "scenarios",
    "burndown_curves",
    "plot_burndown",
    "inputs_from_store",
    "forecast_section",
    "scenario_section",
    "demo_step",
]

#: Priority classes in the order they are worked.
PRIORITIES: tuple[str, ...] = ("high", "medium", "low")


class ForecastWarning(UserWarning):
    """A hazard cannot be scheduled, or a scenario cannot be computed as asked."""


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
    effort["methods"] = methods
    effort["path"] = str(path)
    return effort


def read_capacity(path: str | Path | None = None, *, effort: dict | None = None) -> dict:
    """Teams per operator: a capacity CSV if there is one, else the effort file's table.

    Parameters
    ----------
    path : path, optional
        CSV with columns ``operator`` and ``teams`` (and optionally ``year``: the latest
        year's rows are used). Default: the shipped
        ``layers/capacity.csv`` if it exists, else the ``[capacity]`` table of ``effort``.
    effort : dict, optional
        A :func:`read_effort` result (default the shipped file).

    Returns
    -------
    dict
        Operator -> number of teams (int).
    """
    if path is None:
        try:
            path = layer_file("capacity.csv")
        except FileNotFoundError:
            effort = effort if effort is not None else read_effort()
            return {str(k): int(v) for k, v in effort.get("capacity", {}).items()}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
        if rows and "year" in rows[0]:  # several years: the latest one is current
            latest = max(int(r["year"]) for r in rows if r.get("year"))
            rows = [r for r in rows if r.get("year") and int(r["year"]) == latest]
        teams = {r["operator"].strip(): int(float(r["teams"])) for r in rows if r.get("operator")}
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read capacity {path} (operator,teams): {exc}") from exc
    return {k: v for k, v in teams.items() if k.lower() not in ("total", "totals")}


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


# --- schedule and completion -------------------------------------------------------------


def _priority_rank(p) -> int:
    return PRIORITIES.index(p) if p in PRIORITIES else len(PRIORITIES)


def season_to_year(t, *, start_year: int, first_month: int = 4, last_month: int = 11):
    """Decimal calendar year at which ``t`` seasons of work are done.

    Season-time ``t`` counts working seasons from the first day of the first season
    (1 April of ``start_year`` by default): ``t = 1.5`` is mid-season of the second
    year. Work done exactly at a season's end maps to that season's last day.

    Examples
    --------
    >>> round(season_to_year(0.5, start_year=2025), 3)  # mid-season: 1 April + 4 months
    2025.583
    >>> round(season_to_year(1.0, start_year=2025), 4)  # end of the first season: 30 November
    2025.9167
    """
    t = np.asarray(t, dtype=float)
    n = np.where(t > 0, np.ceil(t) - 1, 0)
    frac = t - n
    months = last_month - first_month + 1
    out = start_year + n + (first_month - 1 + frac * months) / 12
    return float(out) if out.ndim == 0 else out


def schedule(
    effort_table: pd.DataFrame,
    *,
    teams: dict | None = None,
    annual_m2: float | None = None,
    effort: dict | None = None,
    working_days: int | None = None,
    start_year: int | None = None,
) -> pd.DataFrame:
    """When each hazard is cleared: priorities first, per operator (or national queue).

    Parameters
    ----------
    effort_table : DataFrame
        :func:`clearance_effort` output.
    teams : dict, optional
        Operator -> teams (default :func:`read_capacity`). A hazard whose operator has
        no team is not scheduled (NaN finish, a :class:`ForecastWarning`).
    annual_m2 : float, optional
        Clear this many m2 a year on one national queue instead (team-days unused).
    effort : dict, optional
        A :func:`read_effort` result (default the shipped file): season and start year.
    working_days : int, optional
        Working days per season (default the effort file's).
    start_year : int, optional
        First season of the forecast (default the effort file's).

    Returns
    -------
    pandas.DataFrame
        ``effort_table`` in working order with ``queue``, ``teams``, ``working_days``
        (elapsed working days the hazard takes), ``start_season`` and ``finish_season``
        (seasons from the start), ``finish`` (decimal calendar year) and
        ``finish_year``.
    """
    effort = effort if effort is not None else read_effort()
    season = effort["season"]
    days = int(working_days if working_days is not None else season["working_days"])
    start = int(start_year if start_year is not None else season["start_year"])
    if days <= 0:
        raise InputError(f"working_days must be positive, got {days}")
    table = effort_table.copy()
    table["_rank"] = table["priority"].map(_priority_rank)
    table = table.sort_values(["_rank", "hazard_id"], kind="stable").drop(columns="_rank")
    if annual_m2 is not None:
        if not annual_m2 > 0:
            raise InputError(f"annual_m2 must be positive, got {annual_m2}")
        table["queue"] = "national"
        table["teams"] = np.nan
        work = table["area_to_clear_m2"].astype(float)
        capacity = pd.Series(float(annual_m2), index=table.index)
        table["working_days"] = work / annual_m2 * days
    else:
        teams = teams if teams is not None else read_capacity(effort=effort)
        table["queue"] = table["operator"].fillna("(none)").astype(str)
        table["teams"] = table["queue"].map(lambda op: teams.get(op, 0)).astype(float)
        work = table["team_days"].astype(float)
        capacity = table["teams"] * days
        with np.errstate(divide="ignore", invalid="ignore"):
            table["working_days"] = np.where(table["teams"] > 0, work / table["teams"], np.nan)
        idle = table.loc[table["teams"] <= 0, "queue"].unique()
        if len(idle):
            warnings.warn(
                f"no team for operator(s) {', '.join(sorted(idle))}: their hazards are not "
                "scheduled",
                ForecastWarning,
                stacklevel=2,
            )
    cum = work.groupby(table["queue"], sort=False).cumsum()
    with np.errstate(divide="ignore", invalid="ignore"):
        finish = np.where(capacity > 0, cum / capacity, np.nan)
        begin = np.where(capacity > 0, (cum - work) / capacity, np.nan)
    table["start_season"] = begin
    table["finish_season"] = finish
    fm, lm = season["first_month"], season["last_month"]
    table["finish"] = season_to_year(finish, start_year=start, first_month=fm, last_month=lm)
    fy = np.where(np.isfinite(finish), start + np.ceil(np.maximum(finish, 1e-12)) - 1, np.nan)
    table["finish_year"] = pd.array(fy, dtype="Float64").astype("Int64")
    return table.reset_index(drop=True)


def completion(sched: pd.DataFrame) -> dict:
    """Year in which each priority class, and all the work, is completed.

    Returns
    -------
    dict
        ``{"high": 2027, "medium": ..., "low": ..., "all": ...}``: an int year; None
        for a class with no hazard; ``pd.NA`` if a hazard of the class is never
        scheduled (no team).
    """
    out = {}
    for name in (*PRIORITIES, "all"):
        part = sched if name == "all" else sched[sched["priority"] == name]
        if part.empty:
            out[name] = None
        elif part["finish_year"].isna().any():
            out[name] = pd.NA
        else:
            out[name] = int(part["finish_year"].max())
    return out


def burndown(
    sched: pd.DataFrame,
    *,
    effort: dict | None = None,
    until: int = 2030,
    start_year: int | None = None,
) -> pd.DataFrame:
    """Area still to clear through time, by priority class.

    Each hazard is cleared evenly over its working days; nothing is cleared between
    seasons. Unscheduled hazards stay.

    Returns
    -------
    pandas.DataFrame
        ``year`` (decimal calendar year, sampled at season starts, ends and within
        seasons), one column per priority class and ``all``: m2 remaining.
    """
    effort = effort if effort is not None else read_effort()
    season = effort["season"]
    start = int(start_year if start_year is not None else season["start_year"])
    n_seasons = max(until - start + 1, 1)
    frac = np.linspace(0, 1, 9)
    months = season["last_month"] - season["first_month"] + 1
    # each season sampled from its first to its last day: winters come out flat
    t = np.concatenate([[0.0]] + [y + frac for y in range(n_seasons)])
    years = np.concatenate(
        [[float(start)]]
        + [start + y + (season["first_month"] - 1 + frac * months) / 12 for y in range(n_seasons)]
    )
    s0 = sched["start_season"].to_numpy(float)
    s1 = sched["finish_season"].to_numpy(float)
    area = sched["area_to_clear_m2"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        done = np.clip((t[:, None] - s0[None, :]) / (s1 - s0)[None, :], 0, 1)
    done = np.where(np.isfinite(done), done, np.where(np.isfinite(s1)[None, :], 1.0, 0.0))
    remaining = area[None, :] * (1 - done)
    out = pd.DataFrame({"year": years})
    for name in PRIORITIES:
        out[name] = remaining[:, (sched["priority"] == name).to_numpy()].sum(axis=1)
    out["all"] = remaining.sum(axis=1)
    return out


def _remaining_at_end(sched: pd.DataFrame, year: int, start: int) -> float:
    t = year - start + 1
    s0 = sched["start_season"].to_numpy(float)
    s1 = sched["finish_season"].to_numpy(float)
    area = sched["area_to_clear_m2"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        done = np.clip((t - s0) / (s1 - s0), 0, 1)
    done = np.where(np.isfinite(done), done, np.where(np.isfinite(s1), 1.0, 0.0))
    return float((area * (1 - done)).sum())


# --- scenarios -----------------------------------------------------------------------------


def _teams_text(teams: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in teams.items())


def scenarios(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    fadeout_rules: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Run the scenarios: current capacity, NPA at 5 teams, the 1.8 km2 target, fade-outs.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain : DataFrame, optional
        Their :func:`kosovo_cmr.analysis.terrain.terrain_stats`.
    evidence : GeoDataFrame, optional
        Evidence points, for the fade-out scenarios.
    effort : dict, optional
        A :func:`read_effort` result.
    teams : dict, optional
        Current capacity (default :func:`read_capacity`).
    fadeout_rules : dict, optional
        Scenario label -> fade-out rule (see :func:`area_to_clear`), or a dict
        ``{"rule": ..., "basis": "union" | "redrawn"}``. Default: the
        effort file's ``[fadeout]`` table (50 m and 25 m). A scenario that cannot be
        computed (no evidence layer, unknown rule) is reported in the table's ``note``.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario: ``scenario``, ``capacity``, ``area_to_clear_m2``,
        ``team_days``, ``area_per_year_m2`` (mean while work lasts), completion years
        ``high``, ``medium``, ``low``, ``all``, ``remaining_end_<deadline>_m2``,
        ``high_medium_by_<deadline>`` and ``note``.
    schedules : dict
        Scenario -> :func:`schedule` table.
    """
    effort = effort if effort is not None else read_effort()
    teams = dict(teams if teams is not None else read_capacity(effort=effort))
    deadline = int(effort.get("target", {}).get("deadline_year", 2030))
    target = float(effort.get("target", {}).get("annual_clearance_m2", 1_800_000))
    start = effort["season"]["start_year"]
    days = effort["season"]["working_days"]
    base = clearance_effort(hazards, terrain=terrain, effort=effort)
    runs: list[tuple[str, str, pd.DataFrame, dict, str]] = []
    runs.append(("current capacity", _teams_text(teams), base, {"teams": teams}, ""))
    npa5 = {**teams, "NPA": 5}
    runs.append(("NPA at 5 teams", _teams_text(npa5), base, {"teams": npa5}, ""))
    runs.append(
        (
            f"target {target / 1e6:g} km2/year",
            f"{target:,.0f} m2/year national",
            base,
            {"annual_m2": target},
            "area rate, methods not used",
        )
    )
    cal = effort.get("calibration", {})
    if cal.get("observed_clearance_m2"):
        total_teams = sum(teams.values())
        mean_rate = base["area_to_clear_m2"].sum() / base["team_days"].sum()
        modelled = total_teams * days * mean_rate
        factor = float(cal["observed_clearance_m2"]) / modelled
        calibrated = clearance_effort(hazards, terrain=terrain, effort=effort, rate_factor=factor)
        runs.append(
            (
                f"current, rates x{factor:.2f}",
                _teams_text(teams),
                calibrated,
                {"teams": teams},
                f"rates scaled to the {cal.get('observed_year', '')} output of "
                f"{float(cal['observed_clearance_m2']):,.0f} m2 (model: {modelled:,.0f} m2/year)",
            )
        )
    if fadeout_rules is None:
        fadeout_rules = dict(effort.get("fadeout", {}))
    for label, spec in fadeout_rules.items():
        rule, basis = (
            (spec.get("rule"), spec.get("basis", "union"))
            if isinstance(spec, dict)
            else (spec, "union")
        )
        try:
            table = clearance_effort(
                hazards,
                terrain=terrain,
                evidence=evidence,
                fadeout_rule=rule,
                fadeout_basis=basis,
                effort=effort,
            )
        except KcmrError as exc:  # e.g. no evidence layer: say so in the table
            runs.append((label, "", None, {}, f"not computed: {exc}"))
            continue
        what = "hazard + fade-out" if basis == "union" else "CHAs redrawn from evidence"
        runs.append((label, _teams_text(teams), table, {"teams": teams}, f"{what}, rule {rule}"))

    rows, schedules = [], {}
    for label, capacity, table, kwargs, note in runs:
        row = {"scenario": label, "capacity": capacity, "note": note}
        if table is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ForecastWarning)
                sched = schedule(table, effort=effort, **kwargs)
            schedules[label] = sched
            done = completion(sched)
            seasons = np.nanmax(sched["finish_season"].to_numpy(float), initial=0.0)
            row.update(
                area_to_clear_m2=float(table["area_to_clear_m2"].sum()),
                team_days=float(table["team_days"].sum()),
                area_per_year_m2=float(table["area_to_clear_m2"].sum() / seasons)
                if seasons > 0
                else np.nan,
                **{k: done[k] for k in (*PRIORITIES, "all")},
            )
            row[f"remaining_end_{deadline}_m2"] = _remaining_at_end(sched, deadline, start)
            hm = [done[p] for p in ("high", "medium")]
            row[f"high_medium_by_{deadline}"] = all(
                y is None or (y is not pd.NA and y <= deadline) for y in hm
            )
        rows.append(row)
    cols = [
        "scenario",
        "capacity",
        "area_to_clear_m2",
        "team_days",
        "area_per_year_m2",
        *PRIORITIES,
        "all",
        f"remaining_end_{deadline}_m2",
        f"high_medium_by_{deadline}",
        "note",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for col in (*PRIORITIES, "all"):
        out[col] = out[col].astype("Int64")
    return out, schedules


# --- outputs -------------------------------------------------------------------------------


def burndown_curves(
    schedules: dict, *, effort: dict | None = None, until: int = 2035
) -> dict[str, pd.DataFrame]:
    """Return the :func:`burndown` curve of each scenario.

    Parameters
    ----------
    schedules : dict
        Scenario label -> :func:`schedule` table (as :func:`scenarios` returns).
    effort : dict, optional
        A :func:`read_effort` result (season and start year).
    until : int, optional
        Last year of the curves.

    Returns
    -------
    dict
        Scenario label -> :func:`burndown` table.
    """
    effort = effort if effort is not None else read_effort()
    return {label: burndown(s, effort=effort, until=until) for label, s in schedules.items()}


def plot_burndown(
    schedules: dict,
    path: str | Path | None = None,
    *,
    effort: dict | None = None,
    until: int = 2035,
    title: str = "CMR clearance burn-down",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw remaining area against time for each scenario to a PNG (matplotlib, Agg).

    The first scenario is also drawn by priority class (stacked); a line marks the end
    of the deadline year. No pyplot state is touched (a bare Agg figure), so it is safe
    in servers and threads.

    Parameters
    ----------
    schedules : dict
        Scenario label -> :func:`schedule` table (as :func:`scenarios` returns).
    path : path, optional
        The PNG to write; None returns the PNG bytes instead (for an HTML report).
    effort : dict, optional
        A :func:`read_effort` result (season, start year, deadline).
    until : int, optional
        Last year drawn.
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
        The written PNG, or its bytes when ``path`` is None.
    """
    from kosovo_cmr.outputs.charts import plot_burndown_curves

    effort = effort if effort is not None else read_effort()
    return plot_burndown_curves(
        burndown_curves(schedules, effort=effort, until=until),
        path,
        start_year=int(effort["season"]["start_year"]),
        deadline=int(effort.get("target", {}).get("deadline_year", 2030)),
        title=title,
        synthetic=synthetic,
    )


def inputs_from_store(
    store, *, dem=None, cover=None, effort: dict | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Read what the forecast works on: active hazards, evidence and their terrain.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards`` and, for the fade-out scenarios, ``evidence``.
    dem, cover : path, optional
        A DEM (and land cover) GeoTIFF: slope and vegetation then choose each hazard's
        method (:func:`kosovo_cmr.analysis.terrain.terrain_stats`).
    effort : dict, optional
        A :func:`read_effort` result (its steep-slope threshold).

    Returns
    -------
    hazards : GeoDataFrame
        The hazards with status ``active``.
    evidence : GeoDataFrame or None
        The evidence layer, when the store has one.
    terrain : DataFrame or None
        The terrain statistics, when a DEM is given.

    Raises
    ------
    kosovo_cmr.errors.InputError
        For a land cover without a DEM.
    """
    if cover is not None and dem is None:
        raise InputError("a land cover raster needs a DEM too (--dem)")
    effort = effort if effort is not None else read_effort()
    hazards = store.read("hazards")
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    evidence = store.read("evidence") if store.has_layer("evidence") else None
    terrain = None
    if dem is not None:
        from kosovo_cmr.analysis.terrain import terrain_stats

        terrain = terrain_stats(
            active, dem=dem, cover=cover, steep_deg=effort["terrain"].get("steep_slope_deg", 15.0)
        )
    return active, evidence, terrain


def forecast_section(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    until: int = 2035,
) -> dict:
    """Compute the completion forecast as a JSON-ready section of the land release report.

    Runs :func:`scenarios` on the hazards still to clear and keeps what a report shows:
    the scenario table, the burn-down curve of each scenario (so the chart can be drawn
    again from the JSON) and the assumptions behind them.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain, evidence, effort, teams
        As for :func:`scenarios`.
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        ``scenarios`` (rows of the :func:`scenarios` table; a completion year is null
        when the class is never completed, or has no hazard: see
        ``hazards_by_priority``), ``burndown`` (scenario ->
        ``{"year": [...], "high": [...], "medium": [...], "low": [...], "all": [...]}``,
        m2 remaining), ``deadline_year``, ``start_year``, ``terrain`` (whether slope and
        cover chose the methods) and ``assumptions`` (working days, season, teams,
        rates, effort file).
    """
    effort = effort if effort is not None else read_effort()
    teams = dict(teams if teams is not None else read_capacity(effort=effort))
    table, schedules = scenarios(
        hazards, terrain=terrain, evidence=evidence, effort=effort, teams=teams
    )
    return scenario_section(
        table, schedules, effort=effort, teams=teams, terrain=terrain is not None, until=until
    )


def scenario_section(
    table: pd.DataFrame,
    schedules: dict,
    *,
    effort: dict,
    teams: dict,
    terrain: bool = False,
    until: int = 2035,
) -> dict:
    """Turn a :func:`scenarios` result into the JSON-ready :func:`forecast_section`.

    Parameters
    ----------
    table, schedules
        What :func:`scenarios` returned.
    effort : dict
        The :func:`read_effort` result the scenarios used.
    teams : dict
        The current capacity they used.
    terrain : bool, optional
        Whether terrain statistics chose the methods.
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        See :func:`forecast_section`.
    """
    import json

    curves = burndown_curves(schedules, effort=effort, until=until)
    season = effort["season"]
    first = next(iter(schedules.values()), None)
    return {
        "deadline_year": int(effort.get("target", {}).get("deadline_year", 2030)),
        "start_year": int(season["start_year"]),
        "hazards": 0 if first is None else int(len(first)),
        "hazards_by_priority": {
            p: 0 if first is None else int((first["priority"] == p).sum()) for p in PRIORITIES
        },
        "terrain": bool(terrain),
        "scenarios": json.loads(table.to_json(orient="records")),
        "burndown": {
            label: {col: [float(v) for v in curve[col]] for col in curve.columns}
            for label, curve in curves.items()
        },
        "assumptions": {
            "working_days_per_season": int(season["working_days"]),
            "season_months": [int(season["first_month"]), int(season["last_month"])],
            "teams": teams,
            "rates_m2_per_team_day": {
                k: float(m["rate_m2_per_team_day"]) for k, m in effort["methods"].items()
            },
            "effort_file": str(effort.get("path", "")),
        },
    }


#: Columns of the per-hazard plan shown to users: enough to recompute team-days by hand.
PLAN_COLUMNS = (
    "hazard_id",
    "priority",
    "operator",
    "area_to_clear_m2",
    "slope_p90_deg",
    "dense_veg_share",
    "method",
    "rate_m2_per_team_day",
    "team_days",
    "teams",
    "working_days",
    "finish_year",
)

#: Columns of the scenario table shown in the terminal.
SCENARIO_COLUMNS = (
    "scenario",
    "capacity",
    "area_to_clear_m2",
    "team_days",
    "area_per_year_m2",
    "high",
    "medium",
    "low",
    "all",
)


def _year_text(v) -> str:
    if v is None:
        return "-"
    if v is pd.NA or (isinstance(v, float) and v != v):
        return "never"
    return str(int(v))


def display_plan(sched: pd.DataFrame) -> pd.DataFrame:
    """Return the per-hazard plan as text columns for a terminal table."""
    out = pd.DataFrame(index=sched.index)
    for col in PLAN_COLUMNS:
        v = sched[col] if col in sched else pd.Series(np.nan, index=sched.index)
        if col in ("area_to_clear_m2", "team_days", "working_days"):
            out[col] = [f"{x:,.1f}" if col != "area_to_clear_m2" else f"{x:,.0f}" for x in v]
        elif col in ("slope_p90_deg",):
            out[col] = ["" if pd.isna(x) else f"{x:.1f}" for x in v]
        elif col == "dense_veg_share":
            out[col] = ["" if pd.isna(x) else f"{x:.2f}" for x in v]
        elif col == "rate_m2_per_team_day":
            out[col] = [f"{x:g}" for x in v]
        elif col == "teams":
            out[col] = ["" if pd.isna(x) else f"{x:g}" for x in v]
        elif col == "finish_year":
            out[col] = [_year_text(x) for x in v]
        else:
            out[col] = v.astype(str)
    out = out.replace({"nan": "", "None": "", "<NA>": ""})
    return out


def display_scenarios(table: pd.DataFrame) -> pd.DataFrame:
    """Return the scenario table as text columns for a terminal table (notes left out)."""
    deadline_cols = [c for c in table.columns if c.startswith("remaining_end_")]
    out = pd.DataFrame(index=table.index)
    for col in (*SCENARIO_COLUMNS, *deadline_cols):
        v = table[col]
        if col in PRIORITIES or col == "all":
            out[col] = [
                _year_text(x) if pd.notna(table.at[i, "team_days"]) else ""
                for i, x in zip(table.index, v, strict=True)
            ]
        elif col.endswith("_m2") or col == "team_days":
            out[col] = ["" if pd.isna(x) else f"{x:,.0f}" for x in v]
        else:
            out[col] = v.astype(str)
    return out


def demo_step(ctx) -> None:
    """Terrain, effort and completion forecast on a SYNTHETIC DEM and land cover."""
    import logging

    from kosovo_cmr._text import render_table
    from kosovo_cmr.analysis.rasters import synthetic_terrain
    from kosovo_cmr.analysis.terrain import TerrainWarning

    log = logging.getLogger(__name__)
    dem, cover = synthetic_terrain(ctx.out_dir)
    ctx.add_output("SYNTHETIC DEM (EPSG:4326, 3 arc-seconds)", dem)
    ctx.add_output("SYNTHETIC land cover (EPSG:32634, 100 m)", cover)
    effort = read_effort()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        active, evidence, terrain = inputs_from_store(
            ctx.store, dem=dem, cover=cover, effort=effort
        )
    for w in caught:
        if issubclass(w.category, TerrainWarning):
            log.warning("%s", w.message)
    table, schedules = scenarios(active, terrain=terrain, evidence=evidence, effort=effort)
    current = schedules["current capacity"]
    per_hazard = current.merge(
        terrain.drop(columns=["slope_p90_deg", "dense_veg_share"]), on="hazard_id", how="left"
    )
    per_hazard.to_csv(ctx.output("plan-hazards.csv"), index=False)
    ctx.add_output("terrain, method and schedule per hazard (CSV)", ctx.output("plan-hazards.csv"))
    table.to_csv(ctx.output("forecast-scenarios.csv"), index=False)
    ctx.add_output("forecast scenarios (CSV)", ctx.output("forecast-scenarios.csv"))
    png = plot_burndown(
        schedules,
        ctx.output("burndown.png"),
        effort=effort,
        synthetic=True,
    )
    ctx.add_output("burn-down chart to 2030 (PNG)", png)
    ctx.results["forecast"] = scenario_section(
        table, schedules, effort=effort, teams=read_capacity(effort=effort), terrain=True
    )
    days = effort["season"]["working_days"]
    methods = per_hazard["method"].value_counts().to_dict()
    ctx.summary.append(
        f"planning: {len(active)} active hazards, {per_hazard['area_to_clear_m2'].sum():,.0f} m2, "
        f"methods {methods}, {per_hazard['team_days'].sum():,.0f} team-days "
        f"({days} working days a season, Apr-Nov)"
    )
    first = per_hazard.iloc[0]
    ctx.summary.append(
        f"  e.g. {first['hazard_id']}: {first['area_to_clear_m2']:,.0f} m2 / "
        f"{first['rate_m2_per_team_day']:g} m2 per team-day ({first['method']}) = "
        f"{first['team_days']:,.1f} team-days; {first['operator']} {first['teams']:.0f} teams "
        f"-> {first['working_days']:,.1f} working days"
    )
    ctx.summary.append("  completion forecast (year each priority class completes):")
    for line in render_table(display_scenarios(table)).splitlines():
        ctx.summary.append("    " + line)
    for row in table.itertuples(index=False):
        if row.note:
            ctx.summary.append(f"    note: {row.scenario}: {row.note}")
