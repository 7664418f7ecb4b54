"""Plain-text rendering of tables for the terminal, and how shares are printed."""

from __future__ import annotations

import math

import pandas as pd


def round_half_up(value: float) -> int:
    """Round to a whole number, halves up (35.5 -> 36), as a report prints its shares.

    Examples
    --------
    >>> round_half_up(37.5), round_half_up(35.526), round_half_up(21.43)
    (38, 36, 21)
    """
    return int(math.floor(value + 0.5))


def render_table(frame: pd.DataFrame, *, max_width: int = 60) -> str:
    """Render a DataFrame as an aligned text table (no index).

    Numbers are right-aligned, text left-aligned; cells longer than ``max_width`` are
    cut with an ellipsis.
    """
    columns = [str(c) for c in frame.columns]
    cells = [
        ["" if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(columns)]

    def line(values):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=False)
        ).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)
