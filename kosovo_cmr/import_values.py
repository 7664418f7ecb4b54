"""Import, step "check attributes": every value read as its column's kind, or rejected.

Each value of a layer column is converted to the column's kind (``text``, ``int``,
``float``, ``bool``, ``date``; :func:`convert_value`) and checked against the schema's
allowed values and range. A value that fails rejects its feature with a reason code
(``missing_value``, ``bad_value``, ``value_not_allowed``, ``out_of_range``); the other
features are not affected. Columns that are not in the schema are kept as they are.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.schema import LayerSchema
from kosovo_cmr.sources.tabular import parse_number

__all__ = ["is_null", "convert_value", "filled_later", "check_attributes"]

_TRUE = {"true", "t", "yes", "y", "1", "po", "da"}
_FALSE = {"false", "f", "no", "n", "0", "jo", "ne"}
_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%y")

#: Required columns a source may leave empty because the store fills them on writing
#: (``cmr_found`` of a release: "submunitions were destroyed" where not reported).
_FILLED_LATER = {("releases", "cmr_found")}


def filled_later(layer: str, column: str) -> bool:
    """Whether a required column may be missing from a source (the store fills it)."""
    return (layer, column) in _FILLED_LATER


def is_null(v: object) -> bool:
    """Whether a value counts as missing: ``None``, NaN, NaT, or blank text.

    Examples
    --------
    >>> is_null(" "), is_null(float("nan")), is_null(0)
    (True, True, False)
    """
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def convert_value(v: object, kind: str) -> str | int | float | bool:
    """Convert one value to a schema kind.

    Parameters
    ----------
    v
        A value as read (text from tables, numbers and dates from vector formats).
    kind : {"text", "int", "float", "bool", "date"}

    Returns
    -------
    str, int, float or bool
        Dates as ``YYYY-MM-DD`` text (ISO 8601, ``dd.mm.yyyy``, ``dd/mm/yyyy``... are read).

    Raises
    ------
    ValueError
        When the value cannot be read as ``kind`` (the message says why).

    Examples
    --------
    >>> convert_value("15.07.2024", "date"), convert_value("4,0", "int")
    ('2024-07-15', 4)
    """
    if kind == "text":
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    if kind in ("int", "float"):
        return _number(v, kind)
    if kind == "bool":
        return _boolean(v)
    if kind == "date":
        return _date(v)
    raise AssertionError(kind)


def _number(v, kind: str):
    if isinstance(v, bool | np.bool_):
        raise ValueError("a boolean")
    if isinstance(v, str):
        try:
            num = parse_number(v)
        except InputError as exc:
            raise ValueError(str(exc)) from exc
    else:
        num = float(v)
    if not np.isfinite(num):
        raise ValueError("not finite")
    if kind == "int":
        if not float(num).is_integer():
            raise ValueError("not a whole number")
        return int(num)
    return float(num)


def _boolean(v) -> bool:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    text = str(v).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not yes/no")


def _date(v) -> str:
    if isinstance(v, datetime | pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(v)
    else:
        text = str(v).strip()
        ts = None
        with contextlib.suppress(ValueError, TypeError):
            ts = pd.to_datetime(text, format="ISO8601")
        for fmt in _DATE_FORMATS:
            if ts is not None:
                break
            with contextlib.suppress(ValueError, TypeError):
                ts = pd.to_datetime(text, format=fmt)
        if ts is None:
            raise ValueError("not a date (use YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.strftime("%Y-%m-%d")


_FAILURES = (ValueError, TypeError, OverflowError)


def _converter(kind: str):
    """``convert_value`` for one column, converting each distinct value once.

    Values repeat (dates, kinds): the result, or the failure, of each distinct text or
    number is kept and given again.
    """
    memo: dict = {}

    def convert(v):
        key = (type(v), v) if isinstance(v, str | int | float) else None
        if key is None:
            return convert_value(v, kind)
        if key not in memo:
            try:
                memo[key] = convert_value(v, kind)
            except _FAILURES as exc:
                memo[key] = exc
        if isinstance(memo[key], Exception):
            raise memo[key]
        return memo[key]

    return convert


def check_attributes(
    attrs: pd.DataFrame, schema: LayerSchema, alive: np.ndarray, issues: list[list[Issue]]
) -> pd.DataFrame:
    """Run the step: check each feature's values against the schema.

    Parameters
    ----------
    attrs : pandas.DataFrame
        One row per feature read, under the layer's column names
        (:func:`kosovo_cmr.import_fields.map_attributes`).
    schema : kosovo_cmr.schema.LayerSchema
    alive : numpy.ndarray of bool
        Features not rejected so far; only these get new issues.
    issues : list of list of Issue
        One list per feature, extended in place.

    Returns
    -------
    pandas.DataFrame
        The values converted (``None`` where a value is missing or cannot be read; a
        column's default where it has one).
    """
    out = attrs.copy()
    for col in schema.columns:
        if col.name in out.columns:
            values = _check_column(list(out[col.name]), col, schema, alive, issues)
            out[col.name] = pd.Series(values, index=out.index, dtype=object)
    return out


def _check_column(values, col, schema, alive, issues) -> list:
    """Convert and check the values of one layer column."""
    convert = _converter(col.kind)
    converted: list = []
    for i, v in enumerate(values):
        if is_null(v):
            if col.default is not None:
                converted.append(col.default)
                continue
            if not col.nullable and alive[i] and not filled_later(schema.name, col.name):
                issues[i].append(Issue("missing_value", col.name))
            converted.append(None)
            continue
        try:
            value = convert(v)
        except _FAILURES as exc:
            if alive[i]:
                issues[i].append(Issue("bad_value", f"{col.name}={str(v)[:40]!r}: {exc}"))
            converted.append(None)
            continue
        if col.allowed is not None and value not in col.allowed:
            if alive[i]:
                detail = f"{col.name}={value!r} not in {list(col.allowed)}"
                issues[i].append(Issue("value_not_allowed", detail))
        elif (col.minimum is not None and value < col.minimum) or (
            col.maximum is not None and value > col.maximum
        ):
            if alive[i]:
                issues[i].append(Issue("out_of_range", f"{col.name}={value!r}"))
        converted.append(value)
    return converted
