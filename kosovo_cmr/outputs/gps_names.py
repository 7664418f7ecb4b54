"""Names and texts for GPS files: names a unit shows whole, XML names, attribute text.

:func:`short_names` shortens waypoint and track names to what a handheld unit shows
(:data:`NAME_LENGTH`), keeping them unique; :func:`element_names` turns column names
into the XML element names of the GPX extensions (:mod:`kosovo_cmr.outputs.gps`);
:func:`attribute_text` writes a value as GPX and KML files carry it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError

__all__ = ["NAME_LENGTH", "short_names", "element_names", "attribute_text"]

#: Default length of waypoint and track names. Garmin's chartplotters keep 10 characters
#: of a waypoint name ("Waypoint - 10 characters", Garmin support, "Limited Character
#: Space for User Data Names"), and handhelds such as the GPSMAP 276C cut uploaded names
#: to 10: longer names arrive truncated, and ``DEMO-HZ-0001-TP1`` and ``DEMO-HZ-0001-TP12``
#: would both show as ``DEMO-HZ-00``. Newer units show more; ``--name-length`` sets it.
NAME_LENGTH: int = 10

_SEPARATORS = re.compile(r"[-_ ./:]+")


def _shorten(name: str, length: int) -> str:
    if len(name) <= length:
        return name
    # drop leading parts, at the separators, until the rest fits: the end of an id
    # (its number, the turning point) is what tells two features apart
    for sep in _SEPARATORS.finditer(name):
        rest = name[sep.end() :]
        if rest and len(rest) <= length:
            return rest
    return name[-length:]


def short_names(names, *, length: int | None = NAME_LENGTH) -> list[str]:
    """Return names of at most ``length`` characters, unique in the list.

    A name that fits is kept. A longer one loses its leading parts, at its separators
    (``-``, ``_``, space, ``.``, ``/``, ``:``), until it fits; a name whose last part
    alone is too long keeps its last ``length`` characters. A name that would repeat an
    earlier one ends in ``~2``, ``~3`` ... instead. ``length`` None or 0 keeps every
    name (repeats too).

    Parameters
    ----------
    names : iterable of str
    length : int or None, default :data:`NAME_LENGTH`
        At least 4.

    Returns
    -------
    list of str

    Examples
    --------
    >>> short_names(["DEMO-HZ-0001", "DEMO-HZ-0001-TP12", "DEMO-EV-00001", "H7"])
    ['HZ-0001', '0001-TP12', 'EV-00001', 'H7']
    >>> short_names(["A-0001-TP1", "B-0001-TP1"])
    ['A-0001-TP1', 'B-0001-TP1']
    >>> short_names(["AA-0001-TP1", "BB-0001-TP1"])
    ['0001-TP1', '0001-TP1~2']
    """
    names = [str(n) for n in names]
    if not length:
        return names
    if length < 4:
        raise InputError(f"name length must be 0 (keep names) or at least 4, got {length}")
    out, seen = [], set()
    for name in names:
        short = _shorten(name, length)
        k = 2
        candidate = short
        while candidate in seen:
            suffix = f"~{k}"
            candidate = short[: length - len(suffix)] + suffix
            k += 1
        seen.add(candidate)
        out.append(candidate)
    return out


def element_names(columns) -> dict[str, str]:
    """Return column -> XML element name (an NCName), unique.

    Characters an element name cannot hold become ``_``; a name that would start with
    a digit, ``-`` or ``.``, or with ``xml``, gets a leading ``_``; repeats get ``_2`` ...

    Examples
    --------
    >>> element_names(["hazard_id", "area m2", "2nd", "<svg onload=x>"])
    {'hazard_id': 'hazard_id', 'area m2': 'area_m2', '2nd': '_2nd', '<svg onload=x>': '_svg_onload_x_'}
    """  # noqa: E501
    out, seen = {}, set()
    for column in columns:
        text = re.sub(r"[^\w.-]", "_", str(column), flags=re.ASCII) or "_"
        if text[0].isdigit() or text[0] in "-." or text.lower().startswith("xml"):
            text = "_" + text
        candidate, k = text, 2
        while candidate in seen:
            candidate, k = f"{text}_{k}", k + 1
        seen.add(candidate)
        out[str(column)] = candidate
    return out


def attribute_text(value) -> str:
    """Return an attribute value as GPX and KML files write it.

    Dates as ``YYYY-MM-DD``, booleans as ``true``/``false``, floats in full
    (``repr``), missing values (None, NaN, NaT) as "".

    Examples
    --------
    >>> [attribute_text(v) for v in (None, float("nan"), True, 2.5, pd.Timestamp("2024-01-02"))]
    ['', '', 'true', '2.5', '2024-01-02']
    """
    if value is None:
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)
