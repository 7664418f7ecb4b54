"""Tables 2 and 3 of the Mine Action Review: staff by sex and role, and capacity.

* Table 2 — staff of each operator, women among them, among managerial or supervisory
  staff and among operational staff, with each share in percent
  (:func:`staff_by_operator`, from :func:`kosovo_cmr.programme.read_staff`);
* Table 3 — manual CMR clearance teams and clearance personnel per operator
  (:func:`capacity_by_operator`, from :func:`kosovo_cmr.programme.read_capacity`).

Shares are kept exact in the report (``women_staff_pct`` ...) and printed as whole
percents rounded half up (:func:`kosovo_cmr.report.printed.round_half_up`), as the
publication prints them; its own print is checked by :mod:`kosovo_cmr.report.published`.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "SHARES",
    "STAFF_TABLE_COLUMNS",
    "staff_by_operator",
    "staff_totals",
    "capacity_by_operator",
]

#: Each share of women, its count and its base.
SHARES = {
    "women_staff_pct": ("women_staff", "total_staff"),
    "women_managerial_pct": ("women_managerial", "managerial_staff"),
    "women_operational_pct": ("women_operational", "operational_staff"),
}

#: Columns of :func:`staff_by_operator`.
STAFF_TABLE_COLUMNS = (
    "operator", "total_staff", "women_staff", "women_staff_pct", "managerial_staff",
    "women_managerial", "women_managerial_pct", "operational_staff", "women_operational",
    "women_operational_pct",
)  # fmt: skip


def _share(count, base) -> float | None:
    return 100.0 * float(count) / float(base) if base else None


def staff_by_operator(staff: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Table 2: staff of each operator in ``year``, women among them, and their shares.

    Parameters
    ----------
    staff : DataFrame
        From :func:`kosovo_cmr.programme.read_staff`.
    year : int

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STAFF_TABLE_COLUMNS`, in the table's order; shares in percent,
        exact (None where the base is 0). Empty when the table has no row for the year.

    Examples
    --------
    >>> from kosovo_cmr.programme import read_staff
    >>> t = staff_by_operator(read_staff(), year=2024)
    >>> row = t[t["operator"] == "NPA"].iloc[0]
    >>> int(row["women_staff"]), int(row["total_staff"]), round(float(row["women_staff_pct"]), 2)
    (27, 76, 35.53)
    """
    rows = staff[staff["year"] == year]
    out = rows[[c for c in STAFF_TABLE_COLUMNS if c in rows.columns]].copy()
    for name, (count, base) in SHARES.items():
        out[name] = [_share(c, b) for c, b in zip(rows[count], rows[base], strict=True)]
    return out[list(STAFF_TABLE_COLUMNS)].reset_index(drop=True)


def staff_totals(table: pd.DataFrame) -> dict:
    """Return the totals of Table 2: the counts summed, the shares of the sums."""
    out = {c: int(table[c].sum()) for c in STAFF_TABLE_COLUMNS[1:] if not c.endswith("_pct")}
    for name, (count, base) in SHARES.items():
        out[name] = _share(out[count], out[base])
    return out


def capacity_by_operator(capacity: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Table 3: manual CMR clearance teams and clearance personnel per operator in ``year``.

    Parameters
    ----------
    capacity : DataFrame
        From :func:`kosovo_cmr.programme.read_capacity`.
    year : int

    Returns
    -------
    pandas.DataFrame
        ``operator``, ``teams`` (float: an average across the year may be fractional),
        ``personnel`` (None where not known), ``note``.

    Examples
    --------
    >>> from kosovo_cmr.programme import read_capacity
    >>> capacity_by_operator(read_capacity(), year=2024)[["operator", "teams"]].values.tolist()
    [['KSF', 4.0], ['HALO', 9.0], ['NPA', 8.0]]
    """
    rows = capacity[(capacity["year"] == year).fillna(False).astype(bool)]
    note = rows["note"] if "note" in rows.columns else pd.Series(None, index=rows.index)
    return pd.DataFrame(
        {
            "operator": rows["operator"].astype(str).to_numpy(),
            "teams": rows["teams"].astype(float).to_numpy(),
            "personnel": [None if pd.isna(p) else int(p) for p in rows["personnel"]],
            "note": [None if pd.isna(n) else str(n) for n in note],
        }
    )
