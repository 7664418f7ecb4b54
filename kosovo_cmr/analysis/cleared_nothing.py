"""The chance that clearing a hazard finds nothing: a small, open logistic model.

In 2024, 198,252 m2 of Kosovo were cleared with no CMR found (the Mine Action Review's
Table 8), "a persistent problem with survey". From the releases of past years (each
clearance, whether CMR were found, and what the evidence said *before* it), a logistic
regression with five named inputs gives, per hazard, the chance that clearing it finds
nothing. No black box: the inputs are standardised, the coefficients are printed, and
every score is explained in one sentence by the inputs that move it most.

The inputs (:data:`INPUTS`), measured by :func:`kosovo_cmr.analysis.audit.evidence_audit`
with the evidence known on the day (for a past clearance, the evidence found before it):

``log_evidence_per_ha``
    log(1 + evidence points per hectare of the hazard).
``years_since_evidence``
    years from the newest evidence to the day (none: from the hazard's recording).
``spent_share``
    share of the evidence that is fragments or craters, left by submunitions that
    functioned (Table 8's note on HALO's areas: "fragmentation from exploded
    submunitions and ... craters").
``unsupported_share``
    share of the hazard no evidence or footprint supports.
``is_sha``
    1 for a suspected hazardous area, 0 for a confirmed one.

The model is scikit-learn's ``LogisticRegression`` (L2 penalty, ``C = 1``) on inputs
standardised over the training records; an input with no variation there is left out
(coefficient 0, said so). When the training records hold only one outcome (no
cleared-nothing record at all, or only such records), no regression can be fitted: the
chance is then the share of that outcome with Jeffreys' half-count, ``(k + 0.5) / (n +
1)``, for every hazard, and the result says so. :func:`leave_years_out` validates it by
fitting on all years but one and scoring the year left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kosovo_cmr._json import plain
from kosovo_cmr.errors import InputError

__all__ = [
    "INPUTS",
    "ClearedNothingModel",
    "inputs_of",
    "fit_model",
    "leave_years_out",
    "clearance_history",
    "score_hazards",
]

#: The model's inputs, with the words a sentence uses for each.
INPUTS: dict[str, str] = {
    "log_evidence_per_ha": "evidence density",
    "years_since_evidence": "age of the newest evidence",
    "spent_share": "share of fragments and craters",
    "unsupported_share": "share of the area no evidence supports",
    "is_sha": "being an SHA",
}


def inputs_of(audit_rows: pd.DataFrame) -> pd.DataFrame:
    """Return the model's inputs from audit rows (:attr:`AuditResult.hazards`), one row each.

    Missing values (a hazard without evidence has no spent share) count 0, except the
    age, which counts as the largest age among the rows.
    """
    rows = audit_rows
    age = pd.to_numeric(rows["years_since_evidence"], errors="coerce")
    return pd.DataFrame(
        {
            "log_evidence_per_ha": np.log1p(rows["evidence_per_ha"].fillna(0.0).astype(float)),
            "years_since_evidence": age.fillna(age.max() if age.notna().any() else 0.0),
            "spent_share": rows["spent_share"].fillna(0.0).astype(float),
            "unsupported_share": rows["unsupported_pct"].astype(float) / 100.0,
            "is_sha": (rows["kind"] == "SHA").astype(float),
        },
        index=rows.index,
    )


@dataclass
class ClearedNothingModel:
    """A fitted model (:func:`fit_model`): standardisation, coefficients, intercept.

    Attributes
    ----------
    mean, scale : dict
        Training mean and standard deviation of each input.
    coef : dict
        Coefficient of each standardised input (0 for inputs left out).
    intercept : float
        Log-odds of finding nothing at the training mean.
    fitted : bool
        False when the training records had one outcome only (see the module notes).
    records, nothing : int
        Training records, and how many of them found nothing.
    note : str
        What was left out or could not be fitted.
    """

    mean: dict
    scale: dict
    coef: dict
    intercept: float
    fitted: bool
    records: int
    nothing: int
    note: str = ""
    years: list = field(default_factory=list)

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Each input's part of the log-odds: coefficient times standardised value."""
        return pd.DataFrame(
            {k: self.coef[k] * (x[k] - self.mean[k]) / self.scale[k] for k in INPUTS},
            index=x.index,
        )

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """Chance of finding nothing for each row of inputs."""
        z = self.intercept + self.contributions(x).sum(axis=1).to_numpy(float)
        return 1.0 / (1.0 + np.exp(-z))

    def explain(self, x: pd.DataFrame) -> list[str]:
        """One sentence per row: the chance, and the inputs that raise and lower it most."""
        p = self.predict(x)
        parts = self.contributions(x)
        out = []
        for i, (_, c) in enumerate(parts.iterrows()):
            text = f"{100 * p[i]:.0f} % chance of clearing nothing"
            if not self.fitted:
                out.append(
                    text + f" for every hazard: the training records ({self.records}) "
                    f"hold {'no' if self.nothing == 0 else 'only'} cleared-nothing "
                    "records, so no input can be weighed."
                )
                continue
            up, down = c.idxmax(), c.idxmin()
            bits = []
            if c[up] > 0.05:
                bits.append(f"raised most by {INPUTS[up]} ({_value(up, x.iloc[i][up])})")
            if c[down] < -0.05:
                bits.append(f"lowered most by {INPUTS[down]} ({_value(down, x.iloc[i][down])})")
            out.append(text + (": " + " and ".join(bits) if bits else ", near the average") + ".")
        return out

    def to_dict(self) -> dict:
        """Return the model as JSON-ready data: inputs, coefficients, intercept, fit and note."""
        return plain(
            {
                "inputs": [
                    {
                        "input": k,
                        "meaning": INPUTS[k],
                        "mean": self.mean[k],
                        "scale": self.scale[k],
                        "coefficient": self.coef[k],
                    }
                    for k in INPUTS
                ],
                "intercept": self.intercept,
                "fitted": self.fitted,
                "records": self.records,
                "nothing": self.nothing,
                "years": self.years,
                "note": self.note,
            }
        )


def _value(name: str, v: float) -> str:
    if name == "log_evidence_per_ha":
        return f"{np.expm1(v):.1f} points/ha"
    if name == "years_since_evidence":
        return f"{v:.1f} years"
    if name == "is_sha":
        return "yes" if v else "no"
    return f"{100 * v:.0f} %"


def fit_model(x: pd.DataFrame, nothing, *, years=None, c: float = 1.0) -> ClearedNothingModel:
    """Fit the model on training inputs and outcomes (True: cleared, nothing found).

    Parameters
    ----------
    x : DataFrame
        Inputs (:func:`inputs_of`), one row per past clearance.
    nothing : array_like of bool
        Whether each clearance found no CMR.
    years : list, optional
        The years the records come from (kept in the model, for the reader).
    c : float, default 1
        Inverse L2 penalty of scikit-learn's ``LogisticRegression``.

    Returns
    -------
    ClearedNothingModel
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(nothing, dtype=bool)
    if len(y) != len(x) or not len(y):
        raise InputError("the model needs one outcome per training record, and some records")
    mean = {k: float(x[k].mean()) for k in INPUTS}
    sd = {k: float(x[k].std(ddof=0)) for k in INPUTS}
    used = [k for k in INPUTS if sd[k] > 1e-12]
    scale = {k: sd[k] if k in used else 1.0 for k in INPUTS}
    coef = dict.fromkeys(INPUTS, 0.0)
    left = [k for k in INPUTS if k not in used]
    note = f"left out, no variation in the training records: {', '.join(left)}. " if left else ""
    k, n = int(y.sum()), len(y)
    years = sorted({int(v) for v in years}) if years is not None else []
    if k in (0, n) or not used:
        p = (k + 0.5) / (n + 1.0)
        note += "one outcome only in the training records: no regression fitted."
        return ClearedNothingModel(
            mean, scale, coef, float(np.log(p / (1 - p))), False, n, k, note.strip(), years
        )
    z = np.column_stack([(x[u] - mean[u]) / scale[u] for u in used])
    reg = LogisticRegression(C=c).fit(z, y)
    coef.update(dict(zip(used, map(float, reg.coef_[0]), strict=True)))
    return ClearedNothingModel(
        mean, scale, coef, float(reg.intercept_[0]), True, n, k, note.strip(), years
    )


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve, or None when only one outcome is present."""
    if y.all() or not y.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def leave_years_out(x: pd.DataFrame, nothing, years) -> tuple[pd.DataFrame, dict]:
    """Validate by leaving each year out: fit on the others, score the year left out.

    Returns
    -------
    table : DataFrame
        One row per year: ``year``, ``records``, ``nothing`` (observed),
        ``expected_nothing`` (sum of the chances), ``brier`` (mean squared error of the
        chances), ``brier_base`` (of the training share of cleared-nothing records, the
        model without inputs), ``auc`` (None when the year holds one outcome only),
        ``fitted`` (whether a regression could be fitted on the other years).
    pooled : dict
        The same over every record, each scored by the model that did not see its year.
    """
    y = np.asarray(nothing, dtype=bool)
    years = np.asarray(years, dtype=int)
    rows, p_all, base_all = [], np.zeros(len(y)), np.zeros(len(y))
    for year in sorted(set(years.tolist())):
        test = years == year
        if test.all():
            break
        model = fit_model(x[~test], y[~test], years=years[~test])
        p = model.predict(x[test])
        base = y[~test].mean()
        p_all[test], base_all[test] = p, base
        rows.append(
            {
                "year": year,
                "records": int(test.sum()),
                "nothing": int(y[test].sum()),
                "expected_nothing": float(p.sum()),
                "brier": float(np.mean((p - y[test]) ** 2)),
                "brier_base": float(np.mean((base - y[test]) ** 2)),
                "auc": _auc(y[test], p),
                "fitted": model.fitted,
            }
        )
    table = pd.DataFrame(rows)
    scored = np.isin(years, table["year"]) if len(table) else np.zeros(len(y), bool)
    pooled = {
        "records": int(scored.sum()),
        "nothing": int(y[scored].sum()),
        "expected_nothing": float(p_all[scored].sum()),
        "brier": float(np.mean((p_all[scored] - y[scored]) ** 2)) if scored.any() else None,
        "brier_base": float(np.mean((base_all[scored] - y[scored]) ** 2)) if scored.any() else None,
        "auc": _auc(y[scored], p_all[scored]),
    }
    return table, pooled


def clearance_history(
    hazards, evidence, releases, *, strikes=None, rule=None, footprints: str = "both"
) -> pd.DataFrame:
    """One row per past clearance: its year, outcome and the model's inputs on the day.

    Each clearance record (``method = clearance`` with a ``hazard_id``) is audited as
    its hazard stood on the day (:func:`kosovo_cmr.analysis.audit.evidence_audit` with
    ``as_of`` the release date and only the evidence found before it: the items the
    clearance itself found are not an input).

    Returns
    -------
    DataFrame
        ``release_id``, ``hazard_id``, ``year``, ``area_m2``, ``nothing`` (no CMR
        found) and the :data:`INPUTS`.
    """
    from kosovo_cmr.analysis.audit import evidence_audit

    rel = releases[(releases["method"] == "clearance") & releases["hazard_id"].notna()]
    found = pd.to_datetime(evidence.get("found"), errors="coerce")
    rows = []
    for r in rel.itertuples(index=False):
        hz = hazards[hazards["hazard_id"] == r.hazard_id]
        if not len(hz):
            continue
        day = pd.Timestamp(r.date)
        before = evidence[(found < day).to_numpy()] if found is not None else evidence.iloc[:0]
        audit = evidence_audit(
            hz, before, strikes=strikes, rule=rule, footprints=footprints, as_of=day
        )
        x = inputs_of(audit.hazards)
        cmr = bool(r.cmr_found) if r.cmr_found == r.cmr_found else bool(r.submunitions)
        rows.append(
            {
                "release_id": r.release_id,
                "hazard_id": r.hazard_id,
                "year": day.year,
                "area_m2": float(audit.hazards["area_m2"].iloc[0]),
                "nothing": not cmr,
                **x.iloc[0].to_dict(),
            }
        )
    columns = ["release_id", "hazard_id", "year", "area_m2", "nothing", *INPUTS]
    return pd.DataFrame(rows, columns=columns)


def score_hazards(audit_rows: pd.DataFrame, history: pd.DataFrame) -> dict:
    """Fit on the whole history, score the audited hazards, validate by leaving years out.

    Returns
    -------
    dict
        ``model`` (:meth:`ClearedNothingModel.to_dict`), ``hazards`` (``hazard_id``,
        ``chance_nothing``, ``explanation`` and the inputs), ``validation``
        (``years``: :func:`leave_years_out`'s table, ``pooled``) and ``history``
        (records per year and how many found nothing).
    """
    if not len(history):
        raise InputError("no past clearance with a hazard to learn from")
    xh = history[list(INPUTS)]
    model = fit_model(xh, history["nothing"], years=history["year"])
    x = inputs_of(audit_rows)
    scored = pd.DataFrame(
        {
            "hazard_id": audit_rows["hazard_id"].to_numpy(),
            "chance_nothing": model.predict(x),
            "explanation": model.explain(x),
        }
    ).join(x.reset_index(drop=True))
    table, pooled = leave_years_out(xh, history["nothing"], history["year"])
    per_year = history.groupby("year").agg(records=("nothing", "size"), nothing=("nothing", "sum"))
    return plain(
        {
            "model": model.to_dict(),
            "hazards": scored.to_dict(orient="records"),
            "validation": {"years": table.to_dict(orient="records"), "pooled": pooled},
            "history": per_year.reset_index().to_dict(orient="records"),
        }
    )
