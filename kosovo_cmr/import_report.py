"""Import, step "account": what became of every feature read.

A feature with any issue of severity ``reject`` (:data:`kosovo_cmr.geometry_checks.REASONS`)
is rejected; every other one is imported, as ``repaired`` when its geometry was mended.
:func:`account` turns the per-feature issues into an :class:`ImportReport`, and
:func:`check_balance` makes sure the counts add up before anything is written::

    read == imported + rejected

An import whose accounting does not balance raises :class:`AccountingError` and writes
nothing: a feature is never lost without a trace.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kosovo_cmr.errors import KcmrError
from kosovo_cmr.geometry_checks import REASONS, Issue

__all__ = [
    "ImportReport",
    "AccountingError",
    "is_rejected",
    "alive_mask",
    "account",
    "check_balance",
]

#: Outcomes of a feature, as in :attr:`ImportReport.features`.
OUTCOMES = ("imported", "repaired", "rejected")


class AccountingError(KcmrError, RuntimeError):
    """The features of an import do not add up; nothing was written.

    This is a defect of kosovo_cmr, never of the source: please report it with the
    source file.
    """


@dataclass
class ImportReport:
    """What an import (or a validation) did with every feature.

    Attributes
    ----------
    read, imported, repaired, rejected, replaced : int
        Counts; ``read == imported + rejected`` always. ``repaired`` and ``replaced``
        are among ``imported``.
    reasons : dict
        Reason code -> number of features with it (any severity).
    features : pandas.DataFrame
        One row per feature read: ``row`` (1-based), ``id``, ``outcome`` (``imported``,
        ``repaired`` or ``rejected``), ``reasons``, ``details``, ``area_change_m2``.
    rejects_path : str or None
        The rejects file written (also holding the originals of repaired features).
    encoding : str or None
        How the source's text was decoded and why (``"cp1250 (no .cpg; detected from its
        letters)"``); ``None`` for formats that fix their encoding (GeoPackage, GeoJSON).
    """

    source: str
    layer: str
    dry_run: bool
    store: str | None
    crs: str
    read: int
    imported: int
    repaired: int
    rejected: int
    replaced: int
    reasons: dict[str, int]
    notices: list[str]
    features: pd.DataFrame = field(repr=False)
    rejects_path: str | None = None
    encoding: str | None = None

    @property
    def balanced(self) -> bool:
        """Whether ``read == imported + rejected``."""
        return self.read == self.imported + self.rejected

    def as_dict(self) -> dict:
        """Return the report as a JSON-ready dict (without the per-feature table)."""
        return {
            "source": self.source,
            "layer": self.layer,
            "dry_run": self.dry_run,
            "store": self.store,
            "crs": self.crs,
            "read": self.read,
            "imported": self.imported,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "replaced": self.replaced,
            "rejects_path": self.rejects_path,
            "encoding": self.encoding,
            "reasons": dict(sorted(self.reasons.items())),
            "notices": list(self.notices),
        }

    def summary(self) -> str:
        """Return a short human summary, several lines."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{self.source} -> {self.layer}"
            + (" (dry run, nothing written)" if self.dry_run else ""),
            f"read {self.read} = {verb} {self.imported} + rejected {self.rejected}"
            f"   (repaired {self.repaired}, replaced {self.replaced})",
        ]
        if self.encoding:
            lines.append(f"encoding: {self.encoding}")
        for note in self.notices:
            lines.append(f"note: {note}")
        if self.reasons:
            lines.append("reasons:")
            for code, n in sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {code:<24} {n:>6}  ({REASONS[code][0]})")
        rejected = self.features[self.features["outcome"] == "rejected"]
        for row in rejected.head(10).itertuples(index=False):
            lines.append(f"  rejected #{row.row} {row.id or ''}: {row.details}")
        if len(rejected) > 10:
            lines.append(f"  ... and {len(rejected) - 10} more")
        if self.rejects_path:
            lines.append(f"rejects: {self.rejects_path}")
        return "\n".join(lines)


def is_rejected(issues: list[Issue]) -> bool:
    """Whether one feature's issues reject it (any issue of severity ``reject``)."""
    return any(i.severity == "reject" for i in issues)


def alive_mask(issues: list[list[Issue]]) -> np.ndarray:
    """Return which features are not rejected so far, as a boolean array."""
    return np.array([not is_rejected(i) for i in issues], dtype=bool)


def _codes(issues: list[Issue]) -> list[str]:
    """Return a feature's reason codes, each once, in the order they were found."""
    return list(dict.fromkeys(x.code for x in issues))


def account(
    issues: list[list[Issue]],
    *,
    ids: list,
    repaired: np.ndarray,
    area_change: list,
    replaced: int,
    source,
    layer: str,
    dry_run: bool,
    store: str | None,
    crs: str,
    notices: list[str],
) -> ImportReport:
    """Run the step: decide each feature's outcome and count them.

    Parameters
    ----------
    issues : list of list of Issue
        One list per feature read (every step's findings).
    ids : list
        The feature ids (``None`` where there is none).
    repaired : numpy.ndarray of bool
        Whether each feature's geometry was mended.
    area_change : list
        Geodesic area change of each repair, m2 (``None`` where not measured).
    replaced : int
        Number of stored features the import replaces.
    source, layer, dry_run, store, crs, notices
        Recorded in the report as they are.

    Returns
    -------
    ImportReport
    """
    alive = alive_mask(issues)
    outcome = np.where(alive, np.where(repaired, "repaired", "imported"), "rejected")
    features = pd.DataFrame(
        {
            "row": np.arange(1, len(issues) + 1),
            "id": ids,
            "outcome": outcome,
            "reasons": [";".join(_codes(i)) for i in issues],
            "details": [" | ".join(str(x) for x in i) for i in issues],
            "area_change_m2": area_change,
        }
    )
    reasons = Counter(code for i in issues for code in _codes(i))
    return ImportReport(
        source=str(source),
        layer=layer,
        dry_run=dry_run,
        store=store,
        crs=crs,
        read=len(issues),
        imported=int(alive.sum()),
        repaired=int((alive & repaired).sum()),
        rejected=int((~alive).sum()),
        replaced=replaced,
        reasons=dict(reasons),
        notices=notices,
        features=features,
    )


def check_balance(report: ImportReport, *, read: int) -> None:
    """Check that every feature read is accounted for, once.

    Parameters
    ----------
    report : ImportReport
    read : int
        The number of features the reader returned, counted independently of the report.

    Raises
    ------
    AccountingError
        If ``read != imported + rejected``, if the report's counts disagree with its
        per-feature table, or if the table does not hold one row per feature read.
    """
    counts = report.features["outcome"].value_counts()
    problems = []
    if not report.balanced or report.read != read:
        problems.append(
            f"read {read} (report: {report.read}) != imported {report.imported} + "
            f"rejected {report.rejected}"
        )
    if len(report.features) != read or list(report.features["row"]) != list(range(1, read + 1)):
        problems.append(f"{len(report.features)} feature row(s) for {read} feature(s) read")
    table = {k: int(counts.get(k, 0)) for k in OUTCOMES}
    if (table["imported"] + table["repaired"], table["repaired"], table["rejected"]) != (
        report.imported,
        report.repaired,
        report.rejected,
    ):
        problems.append(f"the feature table counts {table}")
    if set(counts.index) - set(OUTCOMES):
        problems.append(f"unknown outcome(s) {sorted(set(counts.index) - set(OUTCOMES))}")
    if problems:
        raise AccountingError(
            f"{report.source} -> {report.layer}: the accounting does not balance ("
            + "; ".join(problems)
            + "); nothing was written. This is a kosovo_cmr defect: please report it"
        )
