"""Writing a command's result: to stdout or, atomically, to its ``-o`` file.

Tables go out as text, CSV or strict JSON. CSV values and column names are
spreadsheet-safe (:func:`kosovo_cmr._escape.spreadsheet_frame`: text starting with ``=``,
``+``, ``-`` or ``@`` gets a leading single quote), JSON goes through
:func:`kosovo_cmr._json.dumps` (no NaN), and a file is written via a temporary file
beside it, renamed over it (:func:`kosovo_cmr._files.atomic_output`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from kosovo_cmr._escape import spreadsheet_frame
from kosovo_cmr._files import atomic_output


def csv_text(frame) -> str:
    """Return a table as CSV text whose values cannot run as spreadsheet formulas."""
    return spreadsheet_frame(frame).to_csv(index=False)


def write_text(path: str | os.PathLike, text: str, *, overwrite: bool) -> Path:
    """Write ``text`` (UTF-8, ending with a newline) via a temporary file beside ``path``."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return Path(path)


def emit(text: str, output: str | os.PathLike | None = None, *, overwrite: bool = False) -> None:
    """Print ``text`` on stdout, or write it to ``output`` and say so on stderr."""
    if output is None:
        click.echo(text.rstrip("\n"))
        return
    write_text(output, text, overwrite=overwrite)
    click.echo(f"wrote {output}", err=True)
