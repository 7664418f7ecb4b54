"""Import, step "set": ``--set FIELD=VALUE`` gives every feature a value the source lacks.

A source without a required column is refused whole (a hazards file with no ``recorded``
date, say); ``kcmr import --set recorded=2024-12-31`` supplies it. The value is checked
against the layer's schema before anything is read further (its kind, its allowed
values, its range), then:

* when the source has no column for the field (after ``--map-fields`` and the built-in
  aliases), every feature gets the value;
* when it has one, only its empty cells are filled: a value the source gives is never
  replaced.

Either way the import's summary says what was set, and for how many features.
:func:`kosovo_cmr.importer.import_layer` runs the step right after reading the source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.import_fields import map_fields
from kosovo_cmr.import_values import is_null
from kosovo_cmr.schema import Column, LayerSchema
from kosovo_cmr.sources import SourceData

__all__ = ["parse_set", "set_value", "fill_columns"]


def parse_set(items) -> dict[str, str]:
    """Parse ``FIELD=VALUE`` items (``--set``, repeatable) into a dict.

    Raises
    ------
    kosovo_cmr.errors.InputError
        An item without ``=``, an empty field, or a field given twice.

    Examples
    --------
    >>> parse_set(["recorded=2024-12-31", "operator = HALO"])
    {'recorded': '2024-12-31', 'operator': 'HALO'}
    """
    out: dict[str, str] = {}
    for item in items or ():
        field, sep, value = str(item).partition("=")
        field, value = field.strip(), value.strip()
        if not sep or not field:
            raise InputError(f"--set takes FIELD=VALUE, got {item!r}")
        if field in out:
            raise InputError(f"--set gives {field} twice")
        out[field] = value
    return out


def set_value(column: Column, text: str):
    """Return ``text`` as a value of ``column``, checked against the schema.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Naming the column, what was given and what it takes.

    Examples
    --------
    >>> from kosovo_cmr.schema import get_schema
    >>> set_value(get_schema("hazards").column("recorded"), "2024-12-31")
    Timestamp('2024-12-31 00:00:00')
    >>> set_value(get_schema("hazards").column("kind"), "CHA")
    'CHA'
    """
    what = f"--set {column.name}={text}"
    try:
        if column.kind == "date":
            value = pd.Timestamp(text)
            if pd.isna(value):
                raise ValueError
            value = value.tz_localize(None) if value.tzinfo else value
        elif column.kind == "int":
            value = int(text)
        elif column.kind == "float":
            value = float(text)
        elif column.kind == "bool":
            value = {"true": True, "yes": True, "1": True, "false": False, "no": False,
                     "0": False}[text.lower()]  # fmt: skip
        else:
            value = text
    except (ValueError, TypeError, KeyError):
        raise InputError(f"{what}: {column.name} takes a {column.kind}, got {text!r}") from None
    if column.allowed is not None and value not in column.allowed:
        raise InputError(f"{what}: {column.name} takes one of {', '.join(column.allowed)}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low = -np.inf if column.minimum is None else column.minimum
        high = np.inf if column.maximum is None else column.maximum
        if not low <= value <= high:
            raise InputError(f"{what}: {column.name} lies in [{low}, {high}]")
    return value


def fill_columns(
    src: SourceData,
    schema: LayerSchema,
    values: dict[str, str],
    *,
    field_map: dict[str, str],
    notices: list[str],
) -> None:
    """Run the step on a source as read (in place): set or fill each field.

    Parameters
    ----------
    src : kosovo_cmr.sources.SourceData
        The source as read; a field it lacks goes to ``src.extra``, a column it has is
        filled where empty.
    schema : kosovo_cmr.schema.LayerSchema
    values : dict
        ``{field: text}`` from :func:`parse_set`.
    field_map : dict
        ``--map-fields``, to find the source's column for a field.
    notices : list of str
        Extended with one line per field (what was set, for how many features).

    Raises
    ------
    kosovo_cmr.errors.InputError
        A field that is not a column of the layer, or a value its column does not take.
    """
    if not values:
        return
    unknown = [f for f in values if f not in schema.column_names]
    if unknown:
        raise InputError(
            f"--set {', '.join(unknown)}: not a column of layer {schema.name!r} "
            f"({', '.join(schema.column_names)})"
        )
    typed = {f: set_value(schema.column(f), text) for f, text in values.items()}
    mapping = {k: v for k, v in field_map.items() if k in src.frame.columns}
    renames, _ = map_fields(src.frame.columns, schema.name, mapping=mapping)
    source_of = {renames.get(c, c): c for c in src.frame.columns}
    n = len(src.frame)
    for field, value in typed.items():
        col = source_of.get(field)
        if col is None and field not in src.extra:
            src.extra[field] = pd.Series([value] * n, dtype=object)
            notices.append(
                f"--set {field}={values[field]}: the source has no {field}; set for all {n} "
                "feature(s)"
            )
            continue
        cells = src.frame[col] if col is not None else src.extra[field]
        empty = np.array([is_null(v) for v in cells], dtype=bool)
        filled = cells.astype(object).where(~empty, value)
        if col is not None:
            src.frame[col] = filled
        else:
            src.extra[field] = filled
        notices.append(
            f"--set {field}={values[field]}: {int(empty.sum())} empty value(s) of "
            f"{col or field!r} filled; {n - int(empty.sum())} kept as the source gives them"
        )
