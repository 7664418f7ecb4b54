"""Cells as a publication prints them: ``27 (35%)``, ``*9``, ``6 21%)``.

A published-figures file (``layers/published/``) transcribes a table exactly as printed,
typos included. Most cells are plain numbers; some tables print a count with its share in
percent (the Mine Action Review's Table 2: ``27 (35%)``), or a footnote mark before a
figure (Table 3: ``*9``, ``**58``: averages across the year). :func:`parse_cell` reads
such a cell into its number, its percent, its marks and what is odd about its print
(``6 21%)``: an opening parenthesis is missing). Shares are printed as whole percents
rounded half up (:func:`round_half_up`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kosovo_cmr._text import round_half_up  # the rounding rule of printed shares

__all__ = ["PrintedCell", "parse_cell", "round_half_up", "strip_marks", "MARKS"]

#: Footnote marks a printed figure or row label may carry.
MARKS = "*†‡"

_CELL = re.compile(
    r"^(?P<marks>[*†‡]*)\s*(?P<value>-?\d[\d,]*(?:\.\d+)?)"
    r"(?:\s*(?P<open>\()?\s*(?P<pct>\d+(?:\.\d+)?)\s*%\s*(?P<close>\))?)?\s*$"
)


@dataclass(frozen=True)
class PrintedCell:
    """One printed cell: its number, its share in percent, its marks, what is odd."""

    text: str
    value: float
    percent: float | None = None
    marks: str = ""
    remark: str | None = None


def parse_cell(cell) -> PrintedCell:
    """Read a printed cell: a number, or text such as ``27 (35%)`` or ``*9``.

    Raises
    ------
    ValueError
        If the text is not a number with an optional share and marks.

    Examples
    --------
    >>> parse_cell("27 (35%)").percent, parse_cell("**58").value, parse_cell(1510087).value
    (35.0, 58.0, 1510087.0)
    >>> parse_cell("6 21%)").remark
    "the opening parenthesis before '21%' is missing"
    """
    if isinstance(cell, bool):
        raise ValueError(f"not a printed figure: {cell!r}")
    if isinstance(cell, int | float):
        return PrintedCell(text=str(cell), value=float(cell))
    text = str(cell)
    m = _CELL.match(text.strip())
    if m is None:
        raise ValueError(f"not a printed figure: {text!r}")
    value = float(m["value"].replace(",", ""))
    percent = None if m["pct"] is None else float(m["pct"])
    remark = None
    if percent is not None and bool(m["open"]) != bool(m["close"]):
        side = "opening" if not m["open"] else "closing"
        where = "before" if side == "opening" else "after"
        remark = f"the {side} parenthesis {where} '{m['pct']}%' is missing"
    return PrintedCell(text=text, value=value, percent=percent, marks=m["marks"], remark=remark)


def strip_marks(label) -> str:
    """Return a printed row label without its footnote marks (``HALO*`` -> ``HALO``).

    Examples
    --------
    >>> strip_marks("HALO*"), strip_marks(2024)
    ('HALO', '2024')
    """
    return str(label).strip().rstrip(MARKS).strip()
