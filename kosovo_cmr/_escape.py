"""One escaping policy per output kind, the same in every writer.

Attributes come from operators' files: a name may hold ``=HYPERLINK(...)`` or
``<img onerror=...>``. Each output kind neutralises text in one way:

- **spreadsheet cells and CSV values** (:func:`spreadsheet_text`): the OWASP
  CSV-injection rule: a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is prefixed with a single quote, so that Excel, LibreOffice and
  Google Sheets show it as text instead of running it as a formula. Numbers stay
  numbers.
- **HTML and KML balloon text** (:func:`html_text`): ``&``, ``<``, ``>`` and quotes
  become entities, so that a KML client's balloon or a web page shows the text
  instead of rendering markup.
"""

from __future__ import annotations

import html

__all__ = ["FORMULA_PREFIXES", "spreadsheet_text", "spreadsheet_frame", "html_text"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """Return ``value`` safe for a spreadsheet cell or a CSV field.

    Text starting with a formula character gets a leading single quote; anything that
    is not text (numbers, dates, None) is returned unchanged.

    Examples
    --------
    >>> spreadsheet_text("=1+2"), spreadsheet_text("@SUM(A1)")
    ("'=1+2", "'@SUM(A1)")
    >>> spreadsheet_text("HALO"), spreadsheet_text(-5)
    ('HALO', -5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_frame(frame):
    """Return a copy of a table whose text cells and column names are spreadsheet-safe.

    Every column that is not numeric, boolean or a date goes through
    :func:`spreadsheet_text`, and so do the column names (a source's own columns are
    kept by the importer, so a name may be hostile too). Numbers stay numbers.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"operator": ["=1+2", "NPA"], "area_m2": [-1, 2]})
    >>> spreadsheet_frame(table).to_dict(orient="list")
    {'operator': ["'=1+2", 'NPA'], 'area_m2': [-1, 2]}
    """
    from pandas.api import types

    out = frame.copy()
    out.columns = [spreadsheet_text(c) for c in out.columns]
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if not (
            types.is_numeric_dtype(column.dtype)
            or types.is_bool_dtype(column.dtype)
            or types.is_datetime64_any_dtype(column.dtype)
        ):
            out.isetitem(i, column.astype(object).map(spreadsheet_text))
    return out


def html_text(value) -> str:
    """Return ``value`` as text safe inside HTML (and KML ``<description>``) markup.

    Examples
    --------
    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)
