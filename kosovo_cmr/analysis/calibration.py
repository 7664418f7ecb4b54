"""Calibration of the forecast: scale the report's rates to what the teams actually cleared.

The Mine Action Review gives clearance rates per day (Scorpion 168 m2, Large Loop Detector
82 m2: 2023 averages). Read as one *team's* output, they give far less than the 1.51 km2
Kosovo's 21 teams cleared in 2024 (Table 9): a team of about eight deminers runs several
detector systems or lanes at once. The forecast therefore scales every rate by the
observed year's clearance over what the model's teams would have cleared that year
(:func:`calibration`). The observed clearance is the store's own: the geodesic area of
the ``clearance`` releases dated in the effort file's ``[calibration] observed_year``
(:func:`observed_clearance`; by default the latest year before the forecast starts that
has clearance releases). Only when the releases hold no clearance that year does the
effort file's ``observed_clearance_m2`` apply, and the note says so.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import teams_by_operator

__all__ = ["observed_clearance", "calibration"]


def observed_clearance(releases: gpd.GeoDataFrame, *, year: int) -> float:
    """Area cleared in ``year``: geodesic m2 of the ``clearance`` releases dated in it.

    Parameters
    ----------
    releases : GeoDataFrame
        The ``releases`` layer (``method``, ``date``), any CRS.
    year : int
        Calendar year of the releases' ``date``.

    Returns
    -------
    float
        The sum of the releases' geodesic areas, m2 (0.0 without clearance that year).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the layer has no ``method`` or ``date`` column.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> releases = gpd.GeoDataFrame(
    ...     {"method": ["clearance", "reduction_ts"], "date": ["2024-05-02", "2024-06-01"]},
    ...     geometry=[box(21, 42, 21.01, 42.01)] * 2,
    ...     crs=4326,
    ... )
    >>> round(observed_clearance(releases, year=2024))
    920179
    """
    return float(geodesic_area(_clearance(releases, year=year)).sum())


def _clearance(releases: gpd.GeoDataFrame, *, year: int | None = None) -> gpd.GeoDataFrame:
    """Select the clearance releases (of ``year`` when given)."""
    require_crs(releases, name="releases")
    missing = {"method", "date"} - set(releases.columns)
    if missing:
        raise InputError(f"releases lack column(s) {', '.join(sorted(missing))}")
    sel = releases[releases["method"] == "clearance"]
    years = pd.to_datetime(sel["date"]).dt.year
    return sel if year is None else sel[(years == year).to_numpy()]


def _observed_year(releases: gpd.GeoDataFrame | None, effort: dict) -> int | None:
    """Return the effort file's ``observed_year``, else the latest full year of clearance."""
    year = effort.get("calibration", {}).get("observed_year")
    if year is not None:
        return int(year)
    if releases is None:
        return None
    start = int(effort["season"]["start_year"])
    years = pd.to_datetime(_clearance(releases)["date"]).dt.year
    years = years[years < start]
    return int(years.max()) if len(years) else None


def _observed(releases: gpd.GeoDataFrame | None, effort: dict) -> tuple[int | None, float, str]:
    """Return the observed year, its clearance (m2; 0 if none) and where it came from."""
    year = _observed_year(releases, effort)
    if releases is not None and year is not None:
        cleared = _clearance(releases, year=year)
        area = float(geodesic_area(cleared).sum())
        if area > 0:
            n = len(cleared)
            what = f"{n} clearance release{'s' if n != 1 else ''} dated {year}"
            return year, area, f"figure from the releases layer: {what}"
    if releases is None:
        why = "no releases layer given"
    elif year is None:
        why = f"the releases layer has no clearance before {effort['season']['start_year']}"
    else:
        why = f"the releases layer has no clearance in {year}"
    figure = effort.get("calibration", {}).get("observed_clearance_m2")
    return year, float(figure or 0.0), f"fallback: figure from effort.toml, {why}"


def calibration(
    base: pd.DataFrame,
    *,
    releases: gpd.GeoDataFrame | None,
    effort: dict,
    capacity: pd.DataFrame,
) -> dict:
    """Compute the factor that scales every rate to the observed year's clearance.

    ``factor = observed / (teams x working_days x mean rate)``, where the teams are those
    of the observed year in the capacity table (the nearest year it has when it has no
    row for the observed year, the earlier of two as near; the note says which) and the
    mean rate that of ``base`` (area to clear over team-days).

    Parameters
    ----------
    base : DataFrame
        :func:`kosovo_cmr.analysis.effort.clearance_effort` at the effort file's rates.
    releases : GeoDataFrame or None
        The ``releases`` layer (:func:`observed_clearance`).
    effort : dict
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result.
    capacity : DataFrame
        :func:`kosovo_cmr.programme.read_capacity`.

    Returns
    -------
    dict
        ``factor`` (1.0 when nothing was observed), ``year``, ``capacity_year`` (whose
        teams), ``observed_m2``, ``modelled_m2``, ``teams`` and ``note`` (the figures and
        where they came from).
    """
    year, observed, source = _observed(releases, effort)
    cap_year = _capacity_year(capacity, year)
    teams = teams_by_operator(capacity, year=cap_year)
    mean_rate = base["area_to_clear_m2"].sum() / base["team_days"].sum()
    modelled = sum(teams.values()) * effort["season"]["working_days"] * mean_rate
    if not observed or not modelled > 0:
        return dict(
            factor=1.0,
            year=year,
            capacity_year=cap_year,
            observed_m2=0.0,
            modelled_m2=float(modelled),
            teams=teams,
            note=f"not calibrated: no observed clearance ({source})",
        )
    factor = observed / modelled
    whose = f"the {sum(teams.values()):g} teams of {cap_year}" if cap_year else "the teams"
    when = f" in {year}" if year is not None else ""
    note = (
        f"rates x{factor:.2f}: scaled so that {whose} (capacity table) clear the "
        f"{observed:,.0f} m2 observed{when} (model: {modelled:,.0f} m2/year); {source}"
    )
    return dict(
        factor=float(factor),
        year=year,
        capacity_year=cap_year,
        observed_m2=float(observed),
        modelled_m2=float(modelled),
        teams=teams,
        note=note,
    )


def _capacity_year(capacity: pd.DataFrame, year: int | None) -> int | None:
    """Return the capacity table's year nearest ``year`` (None: a table without years)."""
    years = sorted(set(capacity["year"].dropna().astype(int)))
    if not years:
        return None
    if year is None:
        return years[-1]
    return min(years, key=lambda y: (abs(y - year), y))
