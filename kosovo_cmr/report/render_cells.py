"""Formatting the cells of the report's tables (areas to the m2, shares in percent)."""

from __future__ import annotations

__all__ = ["fmt"]


def fmt(value, kind: str) -> str:
    """Format one cell: ``m2`` (rounded, thousands), ``int``, ``km2``, ``share`` (percent).

    A missing value is a dash.

    Examples
    --------
    >>> fmt(1510087.4, "m2"), fmt(0.131, "share"), fmt(None, "m2")
    ('1,510,087', '13.1 %', '–')
    """
    if value is None:
        return "–"
    if kind == "m2":
        return f"{round(value):,}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "km2":
        return f"{value / 1e6:,.2f}"
    if kind == "share":
        return f"{100 * value:.1f} %"
    return str(value)
