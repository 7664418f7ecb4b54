"""The programme's operators and money: capacity by year, unit costs, funding scenarios.

One source of truth per table, each an editable file of ``layers/`` read by one function:

- capacity (:func:`read_capacity`, ``layers/capacity.csv``): operator teams and personnel
  per year; the 2024 rows are the Mine Action Review 2025's Table 3, the 2025 rows the
  capacity as of April 2025 (NPA cut to five teams). The land release report reads it for
  its per-team indicators, the forecast for the teams that work each operator's hazards
  (:func:`read_teams`);
- unit costs (:func:`read_costs`, ``layers/costs.csv``): EUR per team per working day by
  operator and method, every figure an assumption (the report gives none);
- money and capacity scenarios (:func:`read_scenarios`, ``layers/scenarios.toml``): the
  funding the report states, the confirmed funding, and the scenarios named after the
  report (April 2025 capacity, HALO closing, EUR 3.5 M a year, confirmed funding only,
  international operators leaving in 2030).
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

import pandas as pd

from kosovo_cmr._resources import layer_file
from kosovo_cmr.errors import InputError

__all__ = [
    "read_capacity",
    "teams_by_operator",
    "read_teams",
    "read_costs",
    "unit_cost",
    "read_scenarios",
    "FUNDING_MODES",
    "STAFF_COLUMNS",
    "read_staff",
]

_TOTAL_ROWS = ("total", "totals")


def read_capacity(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the operators' clearance capacity table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``operator`` and ``teams``, and optionally ``year`` and
        ``personnel`` (and any note); lines starting with ``#`` are comments. Defaults to
        the shipped ``layers/capacity.csv`` (the report's Table 3 for 2024, the capacity
        as of April 2025 for 2025).

    Returns
    -------
    pandas.DataFrame
        ``year`` (nullable int), ``operator``, ``teams`` (float: HALO's 9 is an average
        across the year), ``personnel`` (nullable) and the other columns as read;
        printed total rows are left out.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read, a column is missing, or a team count is not a
        number.

    Examples
    --------
    >>> cap = read_capacity()
    >>> cap[cap["year"] == 2024][["operator", "teams", "personnel"]].values.tolist()
    [['KSF', 4.0, 50], ['HALO', 9.0, 58], ['NPA', 8.0, 80]]
    """
    path = layer_file("capacity.csv") if path is None else path
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", comment="#", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read capacity table {path}: {exc}") from exc
    missing = {"operator", "teams"} - set(table.columns)
    if missing:
        raise InputError(f"capacity table {path} lacks column(s): {', '.join(sorted(missing))}")
    table["operator"] = table["operator"].astype(str).str.strip()
    table = table[~table["operator"].str.lower().isin(_TOTAL_ROWS)].reset_index(drop=True)
    try:
        table["teams"] = pd.to_numeric(table["teams"]).astype(float)
        for col in ("year", "personnel"):
            if col in table.columns:
                table[col] = pd.to_numeric(table[col]).astype("Int64")
    except (TypeError, ValueError) as exc:
        raise InputError(f"capacity table {path}: {exc}") from exc
    if "year" not in table.columns:
        table.insert(0, "year", pd.array([pd.NA] * len(table), dtype="Int64"))
    if "personnel" not in table.columns:
        table["personnel"] = pd.array([pd.NA] * len(table), dtype="Int64")
    return table


def teams_by_operator(capacity: pd.DataFrame, *, year: int | None = None) -> dict[str, int]:
    """Return operator -> teams for one year of a capacity table.

    Parameters
    ----------
    capacity : DataFrame
        From :func:`read_capacity`.
    year : int, optional
        The year to take (default the latest year in the table; rows without a year
        count when no row has one).

    Returns
    -------
    dict
        Operator -> teams, rounded to whole teams.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the table has no row for ``year``.

    Examples
    --------
    >>> teams_by_operator(read_capacity())  # the latest year: April 2025
    {'KSF': 4, 'HALO': 9, 'NPA': 5}
    >>> teams_by_operator(read_capacity(), year=2024)  # Table 3
    {'KSF': 4, 'HALO': 9, 'NPA': 8}
    """
    rows = capacity
    years = capacity["year"].dropna()
    if year is None and len(years):
        year = int(years.max())
    if year is not None:
        rows = capacity[capacity["year"] == year]
        if rows.empty:
            raise InputError(f"the capacity table has no row for {year}")
    pairs = zip(rows["operator"], rows["teams"], strict=True)
    return {str(op): int(round(float(t))) for op, t in pairs}


def read_teams(path: str | os.PathLike | None = None, *, year: int | None = None) -> dict[str, int]:
    """Read the teams per operator of one year of a capacity table.

    Parameters
    ----------
    path : str or path-like, optional
        See :func:`read_capacity` (default the shipped ``layers/capacity.csv``).
    year : int, optional
        See :func:`teams_by_operator` (default the latest year).

    Returns
    -------
    dict
        Operator -> teams.

    Examples
    --------
    >>> read_teams()
    {'KSF': 4, 'HALO': 9, 'NPA': 5}
    """
    return teams_by_operator(read_capacity(path), year=year)


# --- unit costs ------------------------------------------------------------------------------


def read_costs(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the unit costs of clearance: EUR per team per working day, by operator and method.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``operator``, ``method`` and ``eur_per_team_day`` (``*`` in
        ``operator`` or ``method`` matches any); lines starting with ``#`` are comments.
        Defaults to the shipped ``layers/costs.csv``, whose every figure is an
        ASSUMPTION (the Mine Action Review gives no unit cost).

    Returns
    -------
    pandas.DataFrame
        ``operator``, ``method``, ``eur_per_team_day`` and the other columns as read.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read, a column is missing, or a cost is not a number >= 0.

    Examples
    --------
    >>> costs = read_costs()
    >>> unit_cost(costs, operator="NPA", method="lld"), unit_cost(costs, "HALO", "scorpion")
    (1100.0, 1250.0)
    """
    path = layer_file("costs.csv") if path is None else path
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", comment="#", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read cost table {path}: {exc}") from exc
    missing = {"operator", "method", "eur_per_team_day"} - set(table.columns)
    if missing:
        raise InputError(f"cost table {path} lacks column(s): {', '.join(sorted(missing))}")
    for col in ("operator", "method"):
        table[col] = table[col].astype(str).str.strip()
    cost = pd.to_numeric(table["eur_per_team_day"], errors="coerce")
    bad = table.loc[~(cost >= 0), ["operator", "method"]].values.tolist()
    if bad:
        raise InputError(f"cost table {path}: eur_per_team_day must be a number >= 0 for {bad}")
    table["eur_per_team_day"] = cost.astype(float)
    return table


def unit_cost(costs: pd.DataFrame, operator: str, method: str) -> float:
    """Return the EUR per team-day of an operator's team clearing with a method.

    The first row that matches wins: operator and method, then operator and ``*``, then
    ``*`` and method, then ``*`` and ``*``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no row matches.
    """
    for op, m in ((operator, method), (operator, "*"), ("*", method), ("*", "*")):
        rows = costs[(costs["operator"] == str(op)) & (costs["method"] == str(m))]
        if len(rows):
            return float(rows["eur_per_team_day"].iloc[0])
    raise InputError(
        f"the cost table has no row for operator {operator!r} and method {method!r}: "
        "add one (or a '*' row)"
    )


# --- money and capacity scenarios ------------------------------------------------------------

#: The ways a scenario's spending may be capped: none, the money the strategy needs, or the
#: confirmed funding only.
FUNDING_MODES = (None, "needed", "confirmed")


def read_scenarios(path: str | os.PathLike | None = None) -> dict:
    """Read and check a money and capacity scenario file (default ``layers/scenarios.toml``).

    Parameters
    ----------
    path : str or path-like, optional
        A TOML file laid out like the shipped ``layers/scenarios.toml``.

    Returns
    -------
    dict
        ``funding`` (``needed_eur_per_year``, ``needed_total_eur``, ``cmr_share``),
        ``confirmed`` (the confirmed funding pots: ``name``, ``operators``,
        ``eur_per_year``, ``first_year``, ``last_year`` (None: every year),
        ``programme_wide``, ``source``), ``scenarios`` (``name``, ``capacity_year``,
        ``changes`` as (operator, from year, teams), ``handover``, ``funding``,
        ``calibrated``, ``assumes``) and ``path``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read or an entry is missing or wrong.

    Examples
    --------
    >>> plan = read_scenarios()
    >>> [s["name"] for s in plan["scenarios"]][:2]
    ['April 2025 capacity', 'HALO closes end 2025']
    >>> plan["funding"]["needed_eur_per_year"]
    3500000.0
    """
    path = Path(path) if path is not None else layer_file("scenarios.toml")
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read scenario file {path}: {exc}") from exc
    try:
        funding = doc.get("funding", {})
        out = {
            "funding": {
                "needed_eur_per_year": float(funding.get("needed_eur_per_year", 0.0)),
                "needed_total_eur": float(funding.get("needed_total_eur", 0.0)),
                "cmr_share": float(funding.get("cmr_share", 1.0)),
            },
            "confirmed": [_pot(p) for p in funding.get("confirmed", [])],
            "scenarios": [_scenario(s) for s in doc["scenario"]],
            "path": str(path),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"scenario file {path}: missing or bad entry {exc}") from exc
    names = [s["name"] for s in out["scenarios"]]
    if len(set(names)) != len(names) or not names:
        raise InputError(f"scenario file {path}: scenario names must be unique, got {names}")
    if not 0 <= out["funding"]["cmr_share"] <= 1:
        raise InputError(f"scenario file {path}: cmr_share must lie in 0..1")
    return out


def _pot(pot: dict) -> dict:
    """Check one ``[[funding.confirmed]]`` pot."""
    last = pot.get("last_year")
    eur = float(pot["eur_per_year"])
    if not (eur >= 0 and math.isfinite(eur)):
        raise ValueError(f"eur_per_year of {pot['name']!r} must be >= 0")
    return {
        "name": str(pot["name"]),
        "operators": [str(op) for op in pot["operators"]],
        "eur_per_year": eur,
        "first_year": int(pot.get("first_year", 0)),
        "last_year": None if last is None else int(last),
        "programme_wide": bool(pot.get("programme_wide", False)),
        "source": str(pot.get("source", "")),
    }


def _scenario(spec: dict) -> dict:
    """Check one ``[[scenario]]``."""
    funding = spec.get("funding")
    if funding not in FUNDING_MODES:
        raise ValueError(f"funding of {spec['name']!r} must be 'needed' or 'confirmed'")
    changes = [
        (str(c["operator"]), int(c["from"]), float(c["teams"])) for c in spec.get("changes", [])
    ]
    if any(teams < 0 for _, _, teams in changes):
        raise ValueError(f"teams in the changes of {spec['name']!r} must be >= 0")
    handover = spec.get("handover")
    return {
        "name": str(spec["name"]),
        "capacity_year": None if spec.get("capacity_year") is None else int(spec["capacity_year"]),
        "changes": changes,
        "handover": None if handover is None else str(handover),
        "funding": funding,
        "calibrated": bool(spec.get("calibrated", True)),
        "assumes": str(spec.get("assumes", "")),
    }


# --- issue 15: staff by sex and role (the report's Table 2) ------------------------------

#: The counts of a staff table, in the order of the Mine Action Review's Table 2.
STAFF_COLUMNS = (
    "total_staff",
    "women_staff",
    "managerial_staff",
    "women_managerial",
    "operational_staff",
    "women_operational",
)


def read_staff(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the staff of the programme by operator and year, by sex and role.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with ``year``, ``operator`` and the counts of :data:`STAFF_COLUMNS` (and
        any note); lines starting with ``#`` are comments. Defaults to the shipped
        ``layers/staff.csv`` (the Mine Action Review 2025's Table 2, for 2024).

    Returns
    -------
    pandas.DataFrame
        ``year`` (int), ``operator`` and the counts (int); printed total rows are left
        out.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read, a column is missing, a count is not a whole number,
        or a count of women exceeds its total.

    Examples
    --------
    >>> staff = read_staff()
    >>> staff[staff["operator"] == "NPA"][["total_staff", "women_staff"]].values.tolist()
    [[76, 27]]
    """
    path = layer_file("staff.csv") if path is None else path
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", comment="#", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read staff table {path}: {exc}") from exc
    missing = {"year", "operator", *STAFF_COLUMNS} - set(table.columns)
    if missing:
        raise InputError(f"staff table {path} lacks column(s): {', '.join(sorted(missing))}")
    table["operator"] = table["operator"].astype(str).str.strip()
    table = table[~table["operator"].str.lower().isin(_TOTAL_ROWS)].reset_index(drop=True)
    for col in ("year", *STAFF_COLUMNS):
        values = pd.to_numeric(table[col], errors="coerce")
        if values.isna().any() or not (values % 1 == 0).all() or (values < 0).any():
            raise InputError(f"staff table {path}: {col} must hold whole numbers >= 0")
        table[col] = values.astype("int64")
    for women, total in (
        ("women_staff", "total_staff"),
        ("women_managerial", "managerial_staff"),
        ("women_operational", "operational_staff"),
    ):
        bad = table[table[women] > table[total]]
        if len(bad):
            raise InputError(
                f"staff table {path}: {women} exceeds {total} for {', '.join(bad['operator'])}"
            )
    return table
