"""Check published figures: their own arithmetic, and against the figures of the layers.

A yearly report such as the Mine Action Review chapter on Kosovo is typed by hand from
database exports and e-mails, and its figures do not always agree with each other. A
*published figures* file (TOML, in ``layers/published/``) transcribes what a report
prints, typos included: its tables (rows and printed totals), figures quoted in the text,
and relations that should hold between them. This module

1. checks the publication against itself (:func:`check_internal`): every printed total
   against the sum of its printed rows, and every relation (a fall in the estimate is
   the start minus the end, a release total the sum of its methods, a ratio its parts),
   each printed figure taken with its rounding interval, so that a rounding is never
   called an error;
2. compares every printed figure with the one computed from the layers
   (:func:`compare`), from a report of :func:`kosovo_cmr.report.land_release_report`.

Rounding. A figure printed as ``1.51`` km2 stands for any area in [1.505, 1.515] km2; an
integer m2 for +-0.5 m2; a count is exact. ``over 1.93`` means at least 1.93 (and less
than 10 % more), ``almost 0.2`` at most 0.2 (and less than 10 % below). Relations are
evaluated with interval arithmetic on these intervals: a relation fails only when no
choice of the true values within the printed roundings satisfies it.

>>> pub = read_published()
>>> internal = check_internal(pub)
>>> bad = [r for r in internal if not r["ok"]]
>>> bad[0]["id"], bad[0]["printed"], bad[0]["expected"]
('table1.total.total_area_m2', 6269292.0, [6265289.5, 6265294.5])
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

from kosovo_cmr._resources import layer_file
from kosovo_cmr.errors import InputError
from kosovo_cmr.places import match_key
from kosovo_cmr.report.printed import parse_cell, round_half_up, strip_marks

__all__ = [
    "PUBLISHED",
    "read_published",
    "figures",
    "check_internal",
    "compare",
    "check",
    "printing_remarks",
]

#: Name of the shipped published-figures file (``layers/published/<name>.toml``).
PUBLISHED = "mar-2025-kosovo"

#: Units of printed figures: base unit scale and default printed decimals.
_UNITS = {
    "count": (1.0, 0),
    "m2": (1.0, 0),
    "km2": (1e6, 2),
    "m2_per_item": (1.0, 0),
    "percent": (1.0, 0),  # a share printed as a whole percent, rounded half up
}


def read_published(source: str | os.PathLike | None = None) -> dict:
    """Read a published-figures file.

    Parameters
    ----------
    source : str or path-like, optional
        A TOML file, or the name of a shipped one (default :data:`PUBLISHED`).

    Returns
    -------
    dict
        The parsed file with ``path``; ``table``, ``text`` and ``relation`` lists.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read or is malformed (the message names the entry).
    """
    shipped = isinstance(source, str) and "/" not in source and not source.endswith(".toml")
    if source is None or shipped:
        name = source or PUBLISHED
        try:
            path = layer_file("published", f"{name}.toml")
        except FileNotFoundError:
            raise InputError(f"no shipped published-figures file {name!r}") from None
    else:
        path = Path(source)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read published figures {path}: {exc}") from exc
    doc.setdefault("table", [])
    doc.setdefault("text", [])
    doc.setdefault("relation", [])
    doc["path"] = str(path)
    figures(doc)  # validates
    return doc


def _interval(value: float, unit: str, *, decimals=None, qualifier=None) -> tuple[float, float]:
    """Return the interval, in base units, that a printed figure stands for."""
    if unit not in _UNITS:
        raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(_UNITS)}")
    scale, default = _UNITS[unit]
    v = float(value) * scale
    if qualifier == "over":
        return v, v * 1.1
    if qualifier == "almost":
        return v * 0.9, v
    if qualifier is not None:
        raise InputError(f"unknown qualifier {qualifier!r}; expected 'over' or 'almost'")
    if unit == "count":
        return v, v
    places = default if decimals is None else int(decimals)
    half = 0.5 * 10.0 ** (-places) * scale
    return v - half, v + half


def _row_id(table: dict, keys: list) -> str:
    return ".".join([table["id"], *(strip_marks(k) for k in keys)])


def _cell_figures(t: dict, where: str, base: str, values: list, computed) -> dict[str, dict]:
    """Return the figures of one printed row (or the totals): each cell, and its share.

    ``computed(field)`` says how to find a field in a report. A cell printed with a share
    (``27 (35%)``) also gives ``<field>_pct``, in percent, rounded half up.
    """
    out = {}
    for field, unit, value in zip(t["fields"], t["units"], values, strict=True):
        try:
            cell = parse_cell(value)
        except ValueError as exc:
            raise InputError(f"table {t['id']}: {exc}") from None
        out[f"{base}.{field}"] = {
            "printed": value,
            "unit": unit,
            "interval": _interval(cell.value, unit),
            "where": where,
            "computed": computed(field),
        }
        if cell.percent is not None:
            out[f"{base}.{field}_pct"] = {
                "printed": cell.percent,
                "unit": "percent",
                "interval": (cell.percent - 0.5, cell.percent + 0.5),
                "half_up": True,
                "where": where,
                "computed": computed(f"{field}_pct"),
                "cell": cell,
            }
    return out


def figures(published: dict) -> dict[str, dict]:
    """Every printed figure of a published-figures file, by id.

    Parameters
    ----------
    published : dict
        From :func:`read_published`.

    Returns
    -------
    dict
        Id -> ``{"printed", "unit", "interval" (base units), "where", "computed"}``
        where ``computed`` says how to find the figure in a report (a tuple
        ``("cell", report_key, row_keys, key values, field)``, ``("total", key,
        field)``, ``("path", path)`` or ``("difference", path, path)``).
    """
    out: dict[str, dict] = {}
    for t in published["table"]:
        try:
            tid, fields, units = t["id"], t["fields"], t["units"]
            row_keys = t.get("row_keys", [])
            if len(fields) != len(units):
                raise InputError(f"table {tid}: fields and units differ in length")
            for row in t["rows"]:
                keys, values = row[: len(row_keys)], row[len(row_keys) :]
                if len(values) != len(fields):
                    raise InputError(f"table {tid}: row {row} has {len(values)} values")
                cell = ("cell", t["report_key"], tuple(row_keys), tuple(map(strip_marks, keys)))
                out.update(
                    _cell_figures(
                        t, t.get("title", tid), _row_id(t, keys), values,
                        lambda f, cell=cell: (*cell, f),
                    )
                )  # fmt: skip
            if "totals" in t:
                if len(t["totals"]) != len(fields):
                    raise InputError(f"table {tid}: totals and fields differ in length")
                key = t.get("report_totals", t["report_key"])
                out.update(
                    _cell_figures(
                        t, f"{t.get('title', tid)}, totals", f"{tid}.total", t["totals"],
                        lambda f, key=key: ("total", key, f),
                    )
                )  # fmt: skip
        except KeyError as exc:
            raise InputError(f"published table {t.get('id', '?')}: missing {exc}") from None
    for f in published["text"]:
        try:
            how = (
                ("difference", *f["computed_difference"])
                if "computed_difference" in f
                else ("path", f["computed"])
            )
            out[f"text.{f['id']}"] = {
                "printed": f["value"],
                "unit": f["unit"],
                "interval": _interval(
                    f["value"], f["unit"], decimals=f.get("decimals"), qualifier=f.get("qualifier")
                ),
                "where": f'"{f.get("quote", f["id"])}"',
                "computed": how,
            }
        except KeyError as exc:
            raise InputError(f"published text figure {f.get('id', '?')}: missing {exc}") from None
    for r in published["relation"]:
        for ref in (r.get("figure"), *r.get("of", [])):
            if ref not in out:
                raise InputError(f"relation {r.get('what', '?')!r}: no figure {ref!r}")
        if r.get("op") not in ("sum", "difference", "ratio", "product"):
            raise InputError(f"relation {r.get('what', '?')!r}: unknown op {r.get('op')!r}")
    return out


def _combine(op: str, intervals: list[tuple[float, float]]) -> tuple[float, float]:
    lo, hi = intervals[0]
    for a, b in intervals[1:]:
        if op == "sum":
            lo, hi = lo + a, hi + b
        elif op == "difference":
            lo, hi = lo - b, hi - a
        elif op in ("product", "ratio"):
            if op == "ratio":
                if a <= 0 <= b:
                    return -math.inf, math.inf
                a, b = 1.0 / b, 1.0 / a
            products = (lo * a, lo * b, hi * a, hi * b)
            lo, hi = min(products), max(products)
    return lo, hi


def _gap(x: tuple[float, float], y: tuple[float, float]) -> float:
    """Distance between two intervals (0 when they overlap)."""
    return max(0.0, y[0] - x[1], x[0] - y[1])


def check_internal(published: dict) -> list[dict]:
    """Check a publication against itself: printed totals and relations.

    Parameters
    ----------
    published : dict
        From :func:`read_published`.

    Returns
    -------
    list of dict
        One per check: ``id``, ``what``, ``printed`` (in base units: m2 or count),
        ``expected`` (the
        interval the other printed figures allow, base units), ``gap`` (how far the
        printed figure lies outside it, base units; 0 when consistent) and ``ok``.
    """
    figs = figures(published)
    out = []
    for t in published["table"]:
        if "totals" not in t:
            continue
        n_keys = len(t.get("row_keys", []))
        for i, (field, unit) in enumerate(zip(t["fields"], t["units"], strict=True)):
            cells = [_interval(parse_cell(row[n_keys + i]).value, unit) for row in t["rows"]]
            expected = _combine("sum", cells)
            total = figs[f"{t['id']}.total.{field}"]
            gap = _gap(total["interval"], expected)
            out.append(
                {
                    "id": f"{t['id']}.total.{field}",
                    "what": f"{t.get('title', t['id'])}: printed total of {field} against the "
                    f"sum of its {len(cells)} printed rows",
                    "printed": parse_cell(total["printed"]).value * _UNITS[total["unit"]][0],
                    "expected": _finite(expected),
                    "gap": gap,
                    "ok": gap == 0.0,
                }
            )
    out += _share_checks(published, figs)
    for r in published["relation"]:
        fig = figs[r["figure"]]
        expected = _combine(r["op"], [figs[ref]["interval"] for ref in r["of"]])
        gap = _gap(fig["interval"], expected)
        out.append(
            {
                "id": f"relation: {r['what']}",
                "what": f"{r['figure']} = {r['op']} of {', '.join(r['of'])}",
                "printed": fig["printed"] * _UNITS[fig["unit"]][0],
                "expected": _finite(expected),
                "gap": gap,
                "ok": gap == 0.0,
            }
        )
    return out


def _share_checks(published: dict, figs: dict) -> list[dict]:
    """Each printed share against its printed count and base, rounded half up.

    A table's ``percent_of`` names the base of each share (``women_staff`` of
    ``total_staff``); the share of ``n`` of ``base`` is printed right when
    ``round_half_up(100 n / base)`` is the printed percent.
    """
    out = []
    for t in published["table"]:
        bases = t.get("percent_of", {})
        for fid, fig in figs.items():
            if not (fid.startswith(f"{t['id']}.") and fig.get("half_up")):
                continue
            field = fid.rsplit(".", 1)[1].removesuffix("_pct")
            if field not in bases:
                raise InputError(f"table {t['id']}: no percent_of for the share of {field}")
            row = fid[: -len(f".{field}_pct")]
            count = parse_cell(figs[f"{row}.{field}"]["printed"]).value
            base = parse_cell(figs[f"{row}.{bases[field]}"]["printed"]).value
            share = 100.0 * count / base if base else None
            gap, ok = (None, False) if share is None else _share_gap(share, fig["printed"])
            out.append(
                {
                    "id": fid,
                    "what": f"{fig['where']}: printed share {fig['printed']:g} % against "
                    f"{count:g} of {base:g} printed ({'–' if share is None else f'{share:.2f}'} %,"
                    f" rounds half up to {'–' if share is None else round_half_up(share)} %)",
                    "printed": fig["printed"],
                    "expected": [share, share],
                    "gap": gap,
                    "ok": ok,
                }
            )
    return out


def _share_gap(share: float, printed: float) -> tuple[float, bool]:
    """Return how far a share lies outside a printed percent, and whether it rounds to it.

    Rounded half up, a share of exactly ``printed + 0.5`` lies on the edge (gap 0) but
    rounds up: not ok.
    """
    gap = max(printed - 0.5 - share, share - (printed + 0.5), 0.0)
    return gap, round_half_up(share) == printed


def printing_remarks(published: dict) -> list[dict]:
    """Return what is odd in how the publication printed its cells (a missing parenthesis).

    Returns
    -------
    list of dict
        ``id`` (the figure), ``printed`` (the cell as printed) and ``remark``. These
        are typography: the figures are read as the print means them, and checked as
        figures by :func:`check_internal` and :func:`compare`.
    """
    return [
        {"id": fid, "printed": fig["cell"].text, "remark": fig["cell"].remark}
        for fid, fig in figures(published).items()
        if fig.get("cell") is not None and fig["cell"].remark
    ]


def _finite(interval: tuple[float, float]) -> list:
    """Return an interval as a JSON-ready list (an unbounded end as None)."""
    return [v if math.isfinite(v) else None for v in interval]


def _get(report: dict, path: str):
    node = report
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _fold(value) -> str:
    return match_key(strip_marks(value)) if isinstance(value, str) else str(value)


def _computed(report: dict, how: tuple):
    kind = how[0]
    if kind == "path":
        return _get(report, how[1])
    if kind == "difference":
        a, b = _get(report, how[1]), _get(report, how[2])
        return None if a is None or b is None else a - b
    if kind == "total":
        return _get(report, f"totals.{how[1]}.{how[2]}")
    _, key, row_keys, keys, field = how
    node = report.get(key)
    if isinstance(node, dict):  # a table of one unnamed row (Table 4)
        return node.get(field)
    rows = node or []
    for fold in (str, _fold):  # the exact label first, then the folded spelling
        wanted = tuple(fold(k) for k in keys)
        for row in rows:
            if tuple(fold(row.get(k)) for k in row_keys) == wanted:
                return row.get(field)
    return 0.0  # the layers have no such row: nothing of it


def _unpublished_rows(report: dict, published: dict) -> list[dict]:
    """Rows of the report's tables that the publication does not print."""
    out = []
    for t in published["table"]:
        row_keys = t.get("row_keys", [])
        rows = report.get(t["report_key"])
        if not row_keys or not isinstance(rows, list):
            continue
        printed = {tuple(_fold(k) for k in r[: len(row_keys)]) for r in t["rows"]}
        for row in rows:
            keys = tuple(row.get(k) for k in row_keys)
            if tuple(_fold(k) for k in keys) not in printed:
                out.append(
                    {
                        "id": _row_id(t, keys),
                        "where": f"{t.get('title', t['id'])}: a row the publication does not print",
                        "printed": None,
                        "unit": "",
                        "computed": None,
                        "gap": None,
                        "ok": False,
                    }
                )
    return out


def compare(report: dict, published: dict) -> list[dict]:
    """Compare every printed figure with the one computed from the layers.

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report` (its year should be the
        publication's).
    published : dict
        From :func:`read_published`.

    Returns
    -------
    list of dict
        One per printed figure: ``id``, ``where``, ``printed`` (as printed), ``unit``,
        ``computed`` (base units: m2 or count; None when the report has no such
        figure), ``gap`` (how far the computed value lies outside the printed figure's
        rounding interval, base units) and ``ok``. Rows of the report's tables that the
        publication does not print follow, with ``printed`` None and ``ok`` False; a
        printed row the layers lack counts as 0.
    """
    out = []
    for fid, fig in figures(published).items():
        value = _computed(report, fig["computed"])
        if value is None:
            gap, ok = None, False
        elif fig.get("half_up"):
            gap, ok = _share_gap(float(value), fig["printed"])
        else:
            gap = _gap(fig["interval"], (float(value), float(value)))
            ok = gap == 0.0
        out.append(
            {
                "id": fid,
                "where": fig["where"],
                "printed": fig["printed"],
                "unit": fig["unit"],
                "computed": None if value is None else float(value),
                "gap": gap,
                "ok": ok,
            }
        )
    return out + _unpublished_rows(report, published)


def check(report: dict, published: dict | str | os.PathLike | None = None) -> dict:
    """Both checks, as the JSON-ready ``published_check`` section of a report.

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.
    published : dict or path or name, optional
        A :func:`read_published` result or what it reads (default the shipped file).

    Returns
    -------
    dict
        ``source`` (title and file), ``year``, ``internal`` (:func:`check_internal`),
        ``against_layers`` (:func:`compare`), and the counts ``internal_failures`` and
        ``mismatches``. A publication about another year than the report's is
        compared with nothing (``against_layers`` empty, with a ``note``).
    """
    if not isinstance(published, dict):
        published = read_published(published)
    source = published.get("source", {})
    out = {
        "source": {"title": source.get("title", ""), "file": published["path"]},
        "year": source.get("year"),
        "internal": check_internal(published),
        "against_layers": [],
        "note": "",
        "printing": printing_remarks(published),  # issue 15
    }
    if source.get("year") is not None and int(source["year"]) != int(report["year"]):
        out["note"] = (
            f"the publication is about {source['year']}, the report about {report['year']}: "
            "only its own arithmetic was checked"
        )
    else:
        out["against_layers"] = compare(report, published)
    out["internal_failures"] = sum(not r["ok"] for r in out["internal"])
    out["mismatches"] = sum(not r["ok"] for r in out["against_layers"])
    return out
