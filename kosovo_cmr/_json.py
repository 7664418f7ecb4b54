"""Strict JSON for every output: plain Python values, no NaN or Infinity.

RFC 8259 has no NaN or Infinity; Python's :mod:`json` writes them by default, and
strict readers (browsers' ``JSON.parse``, ``jq``) then refuse the file. Every JSON
the package writes goes through :func:`dumps`, which turns numpy and pandas values into
plain ones (:func:`plain`) and refuses anything non-finite that is left.
"""

from __future__ import annotations

import datetime as _dt
import json
import math

import numpy as np
import pandas as pd

__all__ = ["plain", "dumps"]


def plain(value):
    """Return ``value`` as plain JSON-ready Python: dicts, lists, str, int, float, bool, None.

    numpy scalars become Python numbers, NaN, infinities and missing values (``pd.NA``,
    ``NaT``) become ``None``, timestamps and dates become ISO dates (``2024-12-31``, or
    the full ISO time when there is one), and containers are converted recursively.

    Examples
    --------
    >>> import numpy as np
    >>> plain({"a": np.int64(3), "b": [np.float64("nan"), 1.5], "c": np.bool_(True)})
    {'a': 3, 'b': [None, 1.5], 'c': True}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series | pd.Index):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        if value is pd.NaT:
            return None
        ts = pd.Timestamp(value)
        return str(ts.date()) if ts == ts.normalize() and ts.tz is None else ts.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def dumps(value, *, indent: int | None = 2) -> str:
    """Return strict JSON text for ``value`` (see :func:`plain`), UTF-8 characters kept.

    Raises
    ------
    ValueError
        If a non-finite number is left after :func:`plain` (it never is for values that
        :func:`plain` knows).

    Examples
    --------
    >>> dumps({"area_m2": float("nan")}, indent=None)
    '{"area_m2": null}'
    """
    return json.dumps(plain(value), indent=indent, ensure_ascii=False, allow_nan=False)
