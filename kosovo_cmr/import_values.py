"""Import, step "check attributes": every value read as its column's kind, or rejected.

Each value of a layer column is converted to the column's kind (``text``, ``int``,
``float``, ``bool``, ``date``; :func:`convert_value`) and checked against the schema's
allowed values and range. A value that fails rejects its feature with a reason code
(``missing_value``, ``bad_value``, ``value_not_allowed``, ``out_of_range``); the other
features are not affected. Columns that are not in the schema are kept as they are.

Dates keep the date written: ``2024-01-02T23:30:00-05:00`` is 2 January (the time zone
is reported, never used to move the date to UTC). ``01/02/2024`` is read day first, the
documented default for Kosovo, unless the column's other dates can only be month/day;
dates that could be either are reported (:func:`date_order`).
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.schema import LayerSchema
from kosovo_cmr.sources.tabular import parse_number

__all__ = ["is_null", "convert_value", "date_order", "filled_later", "check_attributes"]

_TRUE = {"true", "t", "yes", "y", "1", "po", "da"}
_FALSE = {"false", "f", "no", "n", "0", "jo", "ne"}

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


def convert_value(v: object, kind: str, *, day_first: bool = True) -> str | int | float | bool:
    """Convert one value to a schema kind.

    Parameters
    ----------
    v
        A value as read (text from tables, numbers and dates from vector formats).
    kind : {"text", "int", "float", "bool", "date"}
    day_first : bool, default True
        How to read ``01/02/2024``: day first (1 February, the default for Kosovo) or
        month first. :func:`date_order` decides it for a column.

    Returns
    -------
    str, int, float or bool
        Dates as ``YYYY-MM-DD`` text (ISO 8601, ``dd.mm.yyyy``, ``dd/mm/yyyy``... are
        read). A date written with a time zone keeps the date written there (the local
        date), never converted to UTC.

    Raises
    ------
    ValueError
        When the value cannot be read as ``kind`` (the message says why).

    Examples
    --------
    >>> convert_value("15.07.2024", "date"), convert_value("4,0", "int")
    ('2024-07-15', 4)
    >>> convert_value("2024-01-02T23:30:00-05:00", "date")  # not 2024-01-03 (UTC)
    '2024-01-02'
    >>> convert_value("01/02/2024", "date"), convert_value("01/02/2024", "date", day_first=False)
    ('2024-02-01', '2024-01-02')
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
        return _date(v, day_first=day_first)
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


#: ``d/m/y`` or ``m/d/y`` with ``/``, ``.`` or ``-``, a 2- or 4-digit year.
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})\s*$")


def _numeric_date(text: str, *, day_first: bool) -> datetime | None:
    match = _NUMERIC_DATE.match(text)
    if not match:
        return None
    a, b, year = int(match.group(1)), int(match.group(3)), match.group(4)
    day, month = (a, b) if day_first else (b, a)
    y = int(year) if len(year) == 4 else datetime.strptime(year, "%y").year
    if month > 12 and day <= 12:
        order = "day/month" if day_first else "month/day"
        raise ValueError(f"month {month} in a column read {order}")
    return datetime(y, month, day)  # ValueError for 31/02


def _date(v, *, day_first: bool = True) -> str:
    if isinstance(v, datetime | pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(v)
    else:
        text = str(v).strip()
        ts = None
        with contextlib.suppress(ValueError, TypeError):
            ts = pd.to_datetime(text, format="ISO8601")
        if ts is None:
            numeric = _numeric_date(text, day_first=day_first)
            ts = pd.Timestamp(numeric) if numeric is not None else None
        if ts is None:
            with contextlib.suppress(ValueError, TypeError):
                ts = pd.to_datetime(text, format="%Y/%m/%d")
        if ts is None:
            raise ValueError("not a date (use YYYY-MM-DD)")
    return ts.strftime("%Y-%m-%d")  # the date as written, whatever its time zone


def _parts(v) -> tuple[int, int] | None:
    match = _NUMERIC_DATE.match(v) if isinstance(v, str) else None
    return (int(match.group(1)), int(match.group(3))) if match else None


def date_order(values) -> tuple[bool, list[str]]:
    """Decide how a column writes its numeric dates: day first or month first.

    Kosovo writes day first (``15.07.2024``), the documented default. A column is read
    month first only when some of its dates can only be month/day (``02/13/2024``) and
    none can only be day/month. Dates that could be either (``01/02/2024``) follow the
    column's order and are reported; dates that can only be read one way are read so
    without a notice.

    Parameters
    ----------
    values : iterable
        The column's values (non-text values are ignored).

    Returns
    -------
    day_first : bool
    notes : list of str
        What was decided, for a notice (empty when nothing was ambiguous).

    Examples
    --------
    >>> date_order(["13/02/2024", "01/02/2024"])[0]
    True
    >>> day_first, notes = date_order(["02/13/2024", "03/01/2024"])
    >>> day_first, notes[0].startswith("read month/day")
    (False, True)
    """
    parts = [p for p in map(_parts, values) if p is not None]
    day_only = [p for p in parts if p[0] > 12 >= p[1]]
    month_only = [p for p in parts if p[1] > 12 >= p[0]]
    either = [p for p in parts if p[0] <= 12 and p[1] <= 12 and p[0] != p[1]]
    day_first = not (month_only and not day_only)
    example = next((v for v in values if _parts(v) in either), None)
    notes = []
    if not day_first:
        notes.append(
            f"read month/day: {len(month_only)} date(s) can only be month/day and none "
            "only day/month"
        )
    if either:
        order = "day/month, the default for Kosovo" if day_first else "month/day"
        notes.append(
            f"{len(either)} date(s) such as {example!r} could be day/month or month/day; "
            f"read {order} (write dates as YYYY-MM-DD to be sure)"
        )
    return day_first, notes


def _zone_note(values) -> str | None:
    """Return a note on the dates of a column that carry a time zone, if any."""
    zoned = []
    for v in values:
        ts = None
        if isinstance(v, pd.Timestamp | datetime):
            ts = pd.Timestamp(v)
        elif isinstance(v, str) and ":" in v:
            with contextlib.suppress(ValueError, TypeError):
                ts = pd.to_datetime(v.strip(), format="ISO8601")
        if ts is not None and ts.tzinfo is not None and ts.utcoffset() != pd.Timedelta(0):
            zoned.append(v)
    if not zoned:
        return None
    return (
        f"{len(zoned)} date(s) carry a time zone (e.g. {str(zoned[0])!r}); the date written "
        "there is kept, not converted to UTC"
    )


_FAILURES = (ValueError, TypeError, OverflowError)


def _converter(kind: str, *, day_first: bool = True):
    """``convert_value`` for one column, converting each distinct value once.

    Values repeat (dates, kinds): the result, or the failure, of each distinct text or
    number is kept and given again.
    """
    memo: dict = {}

    def convert(v):
        key = (type(v), v) if isinstance(v, str | int | float) else None
        if key is None:
            return convert_value(v, kind, day_first=day_first)
        if key not in memo:
            try:
                memo[key] = convert_value(v, kind, day_first=day_first)
            except _FAILURES as exc:
                memo[key] = exc
        if isinstance(memo[key], Exception):
            raise memo[key]
        return memo[key]

    return convert


def check_attributes(
    attrs: pd.DataFrame,
    schema: LayerSchema,
    alive: np.ndarray,
    issues: list[list[Issue]],
    *,
    notices: list[str] | None = None,
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
    notices : list of str, optional
        Extended with what was decided for date columns (the order of ambiguous dates,
        time zones: see :func:`date_order`).

    Returns
    -------
    pandas.DataFrame
        The values converted (``None`` where a value is missing or cannot be read; a
        column's default where it has one).
    """
    out = attrs.copy()
    for col in schema.columns:
        if col.name not in out.columns:
            continue
        values = list(out[col.name])
        day_first = True
        if col.kind == "date":
            day_first, notes = date_order(values)
            notes += [n for n in [_zone_note(values)] if n]
            if notices is not None:
                notices.extend(f"{col.name!r}: {note}" for note in notes)
        values = _check_column(values, col, schema, alive, issues, day_first=day_first)
        out[col.name] = pd.Series(values, index=out.index, dtype=object)
    return out


def _check_column(values, col, schema, alive, issues, *, day_first: bool = True) -> list:
    """Convert and check the values of one layer column."""
    convert = _converter(col.kind, day_first=day_first)
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
