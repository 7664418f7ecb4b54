"""The programme's operators: clearance capacity (teams, personnel) by year.

One source of truth for capacity: the editable table ``layers/capacity.csv``
(operator teams and personnel per year; the shipped rows are the Mine Action Review
2025's Table 3). The land release report reads it for its per-team indicators, the
forecast for the teams that work each operator's hazards (:func:`read_teams`).
"""

from __future__ import annotations

import os

import pandas as pd

from kosovo_cmr._resources import layer_file
from kosovo_cmr.errors import InputError

__all__ = ["read_capacity", "teams_by_operator", "read_teams"]

_TOTAL_ROWS = ("total", "totals")


def read_capacity(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the operators' clearance capacity table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``operator`` and ``teams``, and optionally ``year`` and
        ``personnel`` (and any note); lines starting with ``#`` are comments. Defaults to
        the shipped ``layers/capacity.csv`` (the report's Table 3).

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
    >>> teams_by_operator(read_capacity())
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
    {'KSF': 4, 'HALO': 9, 'NPA': 8}
    """
    return teams_by_operator(read_capacity(path), year=year)
