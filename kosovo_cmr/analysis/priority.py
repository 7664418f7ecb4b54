"""A transparent priority model: KMAC's criteria as data, a score whose parts add up.

The Mine Action Review 2025 reports KMAC's priorities in one sentence: KMAC "prioritises
clearance based on risk reduction, development, environmental protection, and poverty
reduction, with contaminated land whose clearance would reduce emissions by enabling
better land management or support climate adaptation given the highest priority". A
priority model file (``layers/priority/*.toml``, :func:`read_model`) names a criterion for
each, and computes each from context layers the user supplies:

- an **indicator** measures one layer per hazard (:mod:`kosovo_cmr.analysis._priority_measures`):
  ``distance`` to the nearest feature (m), ``overlap`` (share of the hazard covered by the
  layer's polygons), ``zonal`` (a raster statistic over the hazard, optionally buffered:
  people within 1 km), or ``attribute`` (a column of the polygon holding the hazard: a
  municipality's poverty rate); its two thresholds turn the value into a 0-1 score,
  linearly from ``zero`` to ``full``;
- a **criterion**'s score (0-1) is the weighted mean of its indicators' scores;
- the hazard's **score** (0-100) is ``100 x sum(w_c x s_c) / sum(w_c)``, and its **parts**
  are the terms ``100 x w_c x s_c / sum(w_c)``: they add up to the score exactly;
- its **class** is high at or over the file's ``high`` threshold, medium at or over
  ``medium``, low below; an ``[[override]]`` may raise a class whatever the score (the
  second reading of "given the highest priority", see the shipped files).

:func:`priority_scores` also runs the **sensitivity** analysis: how many hazards change
class when each criterion's weight moves by -20 % and +20 % (the others kept), and which.
The model file's SHA-256 travels with every score, so a table of scores says which
version of the model made it.
"""

from __future__ import annotations

import hashlib
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr._json import plain
from kosovo_cmr._resources import layer_file
from kosovo_cmr.analysis._priority_measures import MEASURES, linear_score, measure
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "CLASSES",
    "DEFAULT_MODEL",
    "PriorityWarning",
    "PriorityResult",
    "read_model",
    "priority_scores",
    "sensitivity",
]

#: The classes, highest first (those of the hazards layer's ``priority``).
CLASSES: tuple[str, ...] = ("high", "medium", "low")

#: The shipped model that ``kcmr prioritise`` uses by default.
DEFAULT_MODEL = "kmac-2025"


class PriorityWarning(UserWarning):
    """A hazard lacks an indicator's value (scored 0 for it), or a model looks odd."""


# --- the model file ---------------------------------------------------------------------------


def read_model(model: str | Path | None = None) -> dict:
    """Read and check a priority model file.

    Parameters
    ----------
    model : str or path, optional
        A TOML file, or the name of a shipped model (``layers/priority/<name>.toml``:
        ``kmac-2025``, the default, or ``kmac-2025-climate-first``).

    Returns
    -------
    dict
        ``name``, ``title``, ``source``, ``classes`` (``high``, ``medium`` thresholds),
        ``criteria`` (each ``name``, ``label``, ``weight``, ``indicators``), ``overrides``,
        ``layers`` (the context layers it needs, sorted), ``path`` and ``sha256`` (of the
        file's bytes).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read, or an entry is missing or wrong.

    Examples
    --------
    >>> m = read_model()
    >>> [c["name"] for c in m["criteria"]]
    ['risk_reduction', 'development', 'environment', 'poverty', 'climate']
    >>> len(m["sha256"])
    64
    """
    path = _model_path(model)
    try:
        data = path.read_bytes()
        doc = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read priority model {path}: {exc}") from exc
    try:
        criteria = [_criterion(c) for c in doc["criterion"]]
        classes = {k: float(doc["classes"][k]) for k in ("high", "medium")}
        overrides = [_override(o, criteria) for o in doc.get("override", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"priority model {path}: missing or bad entry {exc}") from exc
    names = [c["name"] for c in criteria]
    if len(set(names)) != len(names):
        raise InputError(f"priority model {path}: criterion names must be unique, got {names}")
    if not sum(c["weight"] for c in criteria) > 0:
        raise InputError(f"priority model {path}: the weights must add up to more than 0")
    if not 0 <= classes["medium"] <= classes["high"] <= 100:
        raise InputError(f"priority model {path}: need 0 <= medium <= high <= 100")
    head = doc.get("model", {})
    return {
        "name": str(head.get("name", path.stem)),
        "title": str(head.get("title", "")),
        "source": str(head.get("source", "")),
        "classes": classes,
        "criteria": criteria,
        "overrides": overrides,
        "layers": sorted({i["layer"] for c in criteria for i in c["indicators"]}),
        "path": str(path),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _model_path(model) -> Path:
    if model is None:
        model = DEFAULT_MODEL
    path = Path(model)
    if path.suffix.lower() == ".toml" or path.exists():
        return path
    shipped = layer_file("priority", f"{model}.toml")
    if not Path(shipped).exists():
        raise InputError(f"no priority model {model!r}: give a TOML file or a shipped name")
    return Path(shipped)


def _indicator(spec: dict, criterion: str) -> dict:
    kind = spec["measure"]
    if kind not in MEASURES:
        raise ValueError(f"measure of an indicator of {criterion!r} must be one of {MEASURES}")
    full = float(spec.get("full", 1.0 if kind == "overlap" else np.nan))
    zero = float(spec.get("zero", 0.0 if kind == "overlap" else np.nan))
    if not (np.isfinite(full) and np.isfinite(zero)) or full == zero:
        raise ValueError(f"indicator {spec['layer']!r} of {criterion!r} needs full != zero")
    weight = float(spec.get("weight", 1.0))
    if weight < 0:
        raise ValueError(f"indicator weights of {criterion!r} must be >= 0")
    return {**spec, "layer": str(spec["layer"]), "full": full, "zero": zero, "weight": weight}


def _criterion(spec: dict) -> dict:
    name = str(spec["name"])
    weight = float(spec["weight"])
    if weight < 0:
        raise ValueError(f"weight of {name!r} must be >= 0")
    indicators = [_indicator(i, name) for i in spec["indicator"]]
    if not sum(i["weight"] for i in indicators) > 0:
        raise ValueError(f"the indicator weights of {name!r} must add up to more than 0")
    return {
        "name": name,
        "label": str(spec.get("label", name)),
        "weight": weight,
        "indicators": indicators,
    }


def _override(spec: dict, criteria: list[dict]) -> dict:
    if spec["criterion"] not in {c["name"] for c in criteria}:
        raise ValueError(f"override names unknown criterion {spec['criterion']!r}")
    if spec["class"] not in CLASSES:
        raise ValueError(f"override class must be one of {CLASSES}")
    return {
        "criterion": str(spec["criterion"]),
        "min_score": float(spec["min_score"]),
        "class": str(spec["class"]),
    }


# --- scores -----------------------------------------------------------------------------------


@dataclass
class PriorityResult:
    """What :func:`priority_scores` computed.

    Attributes
    ----------
    table : DataFrame
        Per hazard: ``hazard_id``, ``recorded`` (the priority in the hazards layer),
        ``score`` (0-100), ``part_<criterion>`` (they add up to ``score``), ``class``,
        ``class_reason``, ``changed`` (class differs from ``recorded``), ``missing``
        (indicators without a value, scored 0), ``model`` and ``model_sha256``.
    criteria : DataFrame
        Per hazard, each criterion's 0-1 score (columns named after the criteria).
    indicators : DataFrame
        Per hazard and indicator: ``criterion``, ``layer``, ``measure``, ``value`` and
        ``score``.
    sensitivity : DataFrame
        :func:`sensitivity`.
    model : dict
        The :func:`read_model` result.
    """

    table: pd.DataFrame
    criteria: pd.DataFrame
    indicators: pd.DataFrame
    sensitivity: pd.DataFrame
    model: dict

    def to_dict(self) -> dict:
        """Return the result as one JSON-ready object: model, scores, sensitivity."""
        model = {k: self.model[k] for k in ("name", "title", "source", "path", "sha256")}
        model["classes"] = self.model["classes"]
        model["weights"] = {c["name"]: c["weight"] for c in self.model["criteria"]}
        return plain(
            {
                "model": model,
                "scores": self.table.to_dict(orient="records"),
                "sensitivity": self.sensitivity.to_dict(orient="records"),
            }
        )


def _indicator_rows(hazards, layers: dict, model: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure every indicator: per-criterion 0-1 scores and the indicator table."""
    criteria = pd.DataFrame(index=hazards.index)
    rows = []
    for c in model["criteria"]:
        total = np.zeros(len(hazards))
        for spec in c["indicators"]:
            if spec["layer"] not in layers:
                raise InputError(
                    f"the priority model needs context layer {spec['layer']!r}: pass it "
                    f"(--layer {spec['layer']}=FILE)"
                )
            value = measure(hazards, layers[spec["layer"]], spec)
            score = np.nan_to_num(linear_score(value, full=spec["full"], zero=spec["zero"]))
            score[np.isnan(value)] = 0.0
            total += spec["weight"] * score
            rows.append(
                pd.DataFrame(
                    {
                        "hazard_id": hazards["hazard_id"].to_numpy(),
                        "criterion": c["name"],
                        "layer": spec["layer"],
                        "measure": spec["measure"],
                        "value": value,
                        "score": score,
                    }
                )
            )
        criteria[c["name"]] = total / sum(i["weight"] for i in c["indicators"])
    return criteria, pd.concat(rows, ignore_index=True)


def _scores(criteria: pd.DataFrame, weights: dict) -> tuple[pd.Series, pd.DataFrame]:
    """Score (0-100) and its parts from criterion scores and weights."""
    total = sum(weights.values())
    parts = pd.DataFrame(
        {f"part_{c}": 100.0 * w * criteria[c] / total for c, w in weights.items()},
        index=criteria.index,
    )
    return parts.sum(axis=1), parts


def _classify(score: pd.Series, criteria: pd.DataFrame, model: dict) -> tuple[list, list]:
    """Class and reason per hazard: the thresholds, then any override that raises it."""
    high, medium = model["classes"]["high"], model["classes"]["medium"]
    classes, reasons = [], []
    for i, s in score.items():
        cls = "high" if s >= high else "medium" if s >= medium else "low"
        reason = f"score {s:.1f}"
        for o in model["overrides"]:
            if criteria.at[i, o["criterion"]] >= o["min_score"] and CLASSES.index(
                o["class"]
            ) < CLASSES.index(cls):
                cls = o["class"]
                reason += f"; override: {o['criterion']} >= {o['min_score']:g}"
        classes.append(cls)
        reasons.append(reason)
    return classes, reasons


def priority_scores(
    hazards: gpd.GeoDataFrame,
    layers: dict,
    *,
    model: dict | str | Path | None = None,
    step: float = 0.2,
) -> PriorityResult:
    """Score, parts and class of each hazard under a priority model, and the sensitivity.

    Distances, overlaps and buffers are measured in the metric CRS
    (:data:`kosovo_cmr.settings.metric_crs`); rasters are read in their own CRS.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to score (usually the active ones), with ``hazard_id`` and a CRS.
    layers : dict
        Context layer name -> GeoDataFrame (vector, any CRS) or raster path, one for
        each layer the model names (``read_model(...)["layers"]``).
    model : dict, str or path, optional
        A :func:`read_model` result, a file or a shipped name (default ``kmac-2025``).
    step : float, optional
        The weight change of the sensitivity analysis (0.2: -20 % and +20 %).

    Returns
    -------
    PriorityResult

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a layer the model needs is missing or of the wrong kind.

    Warns
    -----
    PriorityWarning
        For hazards an indicator has no value for (a raster that does not cover them, a
        polygon layer with no polygon under them): scored 0 there and listed in
        ``missing``.
    """
    model = model if isinstance(model, dict) else read_model(model)
    require_crs(hazards, name="hazards")
    metric = hazards.to_crs(settings.metric_crs).reset_index(drop=True)
    criteria, indicators = _indicator_rows(metric, layers, model)
    weights = {c["name"]: c["weight"] for c in model["criteria"]}
    score, parts = _scores(criteria, weights)
    classes, reasons = _classify(score, criteria, model)
    missing = _missing(indicators, metric)
    recorded = metric["priority"] if "priority" in metric else pd.Series(None, index=metric.index)
    table = pd.DataFrame({"hazard_id": metric["hazard_id"], "recorded": recorded, "score": score})
    table = pd.concat([table, parts], axis=1)
    table["class"] = classes
    table["class_reason"] = reasons
    table["changed"] = table["class"] != table["recorded"]
    table["missing"] = missing
    table["model"] = model["name"]
    table["model_sha256"] = model["sha256"]
    return PriorityResult(
        table=table,
        criteria=criteria.assign(hazard_id=metric["hazard_id"]),
        indicators=indicators,
        sensitivity=sensitivity(
            criteria, model, classes=classes, step=step, ids=metric["hazard_id"]
        ),
        model=model,
    )


def _missing(indicators: pd.DataFrame, hazards: gpd.GeoDataFrame) -> list[str]:
    lost = indicators[indicators["value"].isna()]
    by_hazard = lost.groupby("hazard_id")["layer"].apply(lambda s: ", ".join(sorted(set(s))))
    out = [by_hazard.get(h, "") for h in hazards["hazard_id"]]
    if len(by_hazard):
        warnings.warn(
            f"{len(by_hazard)} hazard(s) lack a value of {', '.join(sorted(set(lost['layer'])))} "
            "(outside the layer): scored 0 for it, listed in 'missing'",
            PriorityWarning,
            stacklevel=3,
        )
    return out


def sensitivity(
    criteria: pd.DataFrame,
    model: dict,
    *,
    classes: list | None = None,
    step: float = 0.2,
    ids=None,
) -> pd.DataFrame:
    """How many hazards change class when each criterion's weight moves by -step and +step.

    One weight moves at a time, the others are kept; the scores are recomputed with the
    moved weight (their sum changes too) and classed again with the same thresholds and
    overrides.

    Parameters
    ----------
    criteria : DataFrame
        Per hazard, each criterion's 0-1 score (:attr:`PriorityResult.criteria`).
    model : dict
        The :func:`read_model` result.
    classes : list, optional
        The classes at the file's weights (computed when not given).
    step : float, optional
        The relative change of a weight (0.2: -20 % and +20 %).
    ids : sequence, optional
        Hazard ids aligned with ``criteria`` (default its ``hazard_id`` column).

    Returns
    -------
    pandas.DataFrame
        One row per criterion: ``criterion``, ``weight``, ``weight_down``,
        ``changed_down`` (hazards that change class), ``weight_up``, ``changed_up``,
        ``hazards_down`` and ``hazards_up`` (their ids, "id: old->new", comma-separated).
    """
    ids = list(criteria["hazard_id"] if ids is None else ids)
    scores = criteria[[c["name"] for c in model["criteria"]]]
    weights = {c["name"]: c["weight"] for c in model["criteria"]}
    if classes is None:
        classes = _classify(_scores(scores, weights)[0], scores, model)[0]
    rows = []
    for name, w in weights.items():
        row = {"criterion": name, "weight": w}
        for side, factor in (("down", 1 - step), ("up", 1 + step)):
            moved = {**weights, name: w * factor}
            new = _classify(_scores(scores, moved)[0], scores, model)[0]
            changes = [
                f"{h}: {a}->{b}" for h, a, b in zip(ids, classes, new, strict=True) if a != b
            ]
            row[f"weight_{side}"] = w * factor
            row[f"changed_{side}"] = len(changes)
            row[f"hazards_{side}"] = ", ".join(changes)
        rows.append(row)
    cols = [
        "criterion",
        "weight",
        "weight_down",
        "changed_down",
        "weight_up",
        "changed_up",
        "hazards_down",
        "hazards_up",
    ]
    return pd.DataFrame(rows, columns=cols)
