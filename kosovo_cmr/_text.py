"""Plain-text rendering of tables for the terminal."""

from __future__ import annotations

import pandas as pd


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
