"""Fade-out rules: the distance to clear beyond each evidence point.

Clearance continues a *fade-out distance* beyond the last evidence. Rules are data
(:func:`load_rule`): TOML files naming a default distance and distances per ordnance,
per item kind and per (ordnance, item) pair, and (issue 15) per evidence class
(``direct``/``indirect``) and source (``observed``/``reported``/``records``): how sure
the point is may decide its distance, e.g. 50 m around an item only a witness reported.
Three are shipped in ``layers/rules/``: ``kosovo-pre-2024`` (50 m everywhere) and the
two readings of the 2024 national standard (:data:`NMAS_2024_READINGS`):
``kosovo-nmas-2024`` (the default: 25 m around every BLU-97 and BL755 item, 50 m
otherwise) and ``kosovo-nmas-2024-components-only`` (25 m around BLU-97 and BL755
component parts only). :mod:`kosovo_cmr.analysis.fadeout`
delineates the area a rule gives and measures what a change of rule does.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_cmr._resources import layer_file, layers_dir
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import EVIDENCE_CLASSES, EVIDENCE_SOURCES, ORDNANCE, SCHEMAS

__all__ = ["DEFAULT_RULE", "NMAS_2024_READINGS", "FadeoutRule", "shipped_rules", "load_rule"]

#: The rule used when none is named.
DEFAULT_RULE = "kosovo-nmas-2024"

#: The two readings of the 2024 national standard's change, which the Mine Action Review
#: states as "reducing the required fade-out distance around component parts of BLU-97
#: and BL755 submunitions from 50m to 25m": reading -> shipped rule. The first is the
#: default (:data:`DEFAULT_RULE`): every BLU-97/BL755 item at 25 m. The second reads
#: "component parts" literally: whole submunitions, craters, containers and fragments
#: keep 50 m.
NMAS_2024_READINGS: dict[str, str] = {
    "all BLU-97/BL755 items at 25 m (default)": "kosovo-nmas-2024",
    "BLU-97/BL755 component parts only at 25 m": "kosovo-nmas-2024-components-only",
}

_ITEMS = SCHEMAS["evidence"].column("item").allowed


@dataclass(frozen=True)
class FadeoutRule:
    """A fade-out rule: the distance to clear beyond each evidence point.

    The distance of a point is, by precedence, its evidence source's ``source_m`` entry,
    else its evidence class's ``class_m`` entry, else the ``specific_m`` entry for its
    (ordnance, item) pair, else its ordnance's ``ordnance_m`` entry, else its item's
    ``item_m`` entry, else ``default_m``. A point with no class or source recorded
    matches no class or source entry.

    Attributes
    ----------
    name : str
        The rule's name (``kosovo-nmas-2024``).
    default_m : float
        Distance in metres for evidence that no other entry names.
    ordnance_m : dict
        Ordnance (``BLU-97``, ``BL755``, ``other``, ``unknown``) -> distance in metres.
    item_m : dict
        Item kind (``submunition``, ``component``, ...) -> distance in metres.
    specific_m : dict
        ``(ordnance, item)`` -> distance in metres.
    class_m : dict
        Evidence class (``direct``, ``indirect``) -> distance in metres (issue 15).
    source_m : dict
        Evidence source (``observed``, ``reported``, ``records``) -> distance in metres.
    title : str
        One line saying what the rule is.
    source : str or None
        The file the rule was read from.
    """

    name: str
    default_m: float
    ordnance_m: Mapping[str, float] = field(default_factory=dict, hash=False)
    item_m: Mapping[str, float] = field(default_factory=dict, hash=False)
    specific_m: Mapping[tuple[str, str], float] = field(default_factory=dict, hash=False)
    title: str = ""
    source: str | None = None
    class_m: Mapping[str, float] = field(default_factory=dict, hash=False)
    source_m: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        values = [self.default_m, *self.ordnance_m.values(), *self.item_m.values()]
        values += [*self.specific_m.values(), *self.class_m.values(), *self.source_m.values()]
        for v in values:
            if not isinstance(v, int | float) or not np.isfinite(v) or v <= 0:
                raise InputError(
                    f"fade-out rule {self.name!r}: distances must be positive numbers of "
                    f"metres, got {v!r}"
                )
        bad = sorted(set(self.ordnance_m) - set(ORDNANCE))
        bad += [o for o, _ in self.specific_m if o not in ORDNANCE]
        if bad:
            raise InputError(
                f"fade-out rule {self.name!r}: unknown ordnance {', '.join(map(repr, bad))}; "
                f"expected one of {', '.join(ORDNANCE)}"
            )
        bad = sorted(set(self.item_m) - set(_ITEMS))
        bad += [i for _, i in self.specific_m if i not in _ITEMS]
        if bad:
            raise InputError(
                f"fade-out rule {self.name!r}: unknown item {', '.join(map(repr, bad))}; "
                f"expected one of {', '.join(_ITEMS)}"
            )
        for what, table, allowed in (
            ("evidence class", self.class_m, EVIDENCE_CLASSES),
            ("evidence source", self.source_m, EVIDENCE_SOURCES),
        ):
            bad = sorted(set(table) - set(allowed))
            if bad:
                raise InputError(
                    f"fade-out rule {self.name!r}: unknown {what} {', '.join(map(repr, bad))}; "
                    f"expected one of {', '.join(allowed)}"
                )

    @property
    def max_m(self) -> float:
        """The largest distance the rule can give."""
        values = [self.default_m, *self.ordnance_m.values(), *self.item_m.values()]
        values += [*self.class_m.values(), *self.source_m.values()]
        return float(max(values + list(self.specific_m.values())))

    def distances_m(self, evidence, *, use_accuracy: bool = False) -> np.ndarray:
        """Fade-out distance of each evidence point, in metres.

        Parameters
        ----------
        evidence : DataFrame
            Evidence rows with ``ordnance`` and ``item`` columns (a missing column counts
            as unknown for every row).
        use_accuracy : bool, optional
            Add each point's recorded ``accuracy_m`` (missing values count 0).

        Returns
        -------
        numpy.ndarray of float
            Aligned with the rows of ``evidence``.

        Examples
        --------
        >>> import pandas as pd
        >>> rule = load_rule("kosovo-nmas-2024")
        >>> rule.distances_m(pd.DataFrame({"ordnance": ["BLU-97", "other"],
        ...                                "item": ["component", "crater"]})).tolist()
        [25.0, 50.0]
        >>> sure = FadeoutRule("observed-only", 50.0, ordnance_m={"BLU-97": 25.0},
        ...                    source_m={"reported": 50.0, "records": 50.0})
        >>> sure.distances_m(pd.DataFrame({"ordnance": ["BLU-97"] * 3,
        ...     "evidence_source": ["observed", "reported", None]})).tolist()
        [25.0, 50.0, 25.0]
        """
        n = len(evidence)
        ordn = values_or_unknown(evidence, "ordnance", n)
        item = values_or_unknown(evidence, "item", n)
        out = np.full(n, float(self.default_m))
        for name, dist in self.item_m.items():
            out[item == name] = dist
        for name, dist in self.ordnance_m.items():
            out[ordn == name] = dist
        for (o, i), dist in self.specific_m.items():
            out[(ordn == o) & (item == i)] = dist
        for column, table in (("evidence_class", self.class_m), ("evidence_source", self.source_m)):
            values = values_or_unknown(evidence, column, n)
            for name, dist in table.items():
                out[values == name] = dist
        if use_accuracy:
            if "accuracy_m" not in evidence.columns:
                raise InputError("use_accuracy needs an 'accuracy_m' column in the evidence")
            acc = pd.to_numeric(evidence["accuracy_m"], errors="coerce").to_numpy(float)
            if np.any(acc < 0):
                raise InputError("evidence accuracy_m must not be negative")
            out = out + np.nan_to_num(acc, nan=0.0)
        return out

    def describe(self) -> str:
        """One line: the rule's name and distances."""
        parts = [f"default {self.default_m:g} m"]
        parts += [f"{k} {v:g} m" for k, v in self.ordnance_m.items()]
        parts += [f"{k} {v:g} m" for k, v in self.item_m.items()]
        parts += [f"{o}/{i} {v:g} m" for (o, i), v in self.specific_m.items()]
        parts += [f"{k} evidence {v:g} m" for k, v in self.class_m.items()]
        parts += [f"{k} evidence {v:g} m" for k, v in self.source_m.items()]
        return f"{self.name}: " + ", ".join(parts)


def values_or_unknown(frame, name: str, n: int) -> np.ndarray:
    """Return column ``name`` of ``frame`` as objects, ``"unknown"`` where missing.

    A frame without the column gives ``"unknown"`` for each of its ``n`` rows.
    """
    if name not in frame.columns:
        return np.full(n, "unknown", dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), "unknown").to_numpy(object)


def shipped_rules() -> list[str]:
    """Names of the rules shipped in ``layers/rules/``.

    Examples
    --------
    >>> shipped_rules()
    ['kosovo-nmas-2024', 'kosovo-nmas-2024-components-only', 'kosovo-pre-2024']
    """
    return sorted(p.stem for p in (layers_dir() / "rules").glob("*.toml"))


def _rule_from_toml(path: Path) -> FadeoutRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read fade-out rule {path}: {exc}") from exc
    known = {
        "name", "title", "default_m", "ordnance", "item", "specific",
        "evidence_class", "evidence_source",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"fade-out rule {path}: unknown key(s) {', '.join(unknown)}; "
            f"expected {', '.join(sorted(known))}"
        )
    if "default_m" not in data:
        raise InputError(f"fade-out rule {path} has no default_m (the distance for the rest)")
    specific = {}
    for entry in data.get("specific", []):
        try:
            specific[(entry["ordnance"], entry["item"])] = entry["distance_m"]
        except (KeyError, TypeError) as exc:
            raise InputError(
                f"fade-out rule {path}: each [[specific]] entry needs ordnance, item and distance_m"
            ) from exc
    for key in ("ordnance", "item", "evidence_class", "evidence_source"):
        if not isinstance(data.get(key, {}), dict):
            raise InputError(f"fade-out rule {path}: [{key}] must be a table of distances")
    return FadeoutRule(
        name=str(data.get("name", path.stem)),
        default_m=data["default_m"],
        ordnance_m=dict(data.get("ordnance", {})),
        item_m=dict(data.get("item", {})),
        specific_m=specific,
        title=str(data.get("title", "")),
        source=str(path),
        class_m=dict(data.get("evidence_class", {})),
        source_m=dict(data.get("evidence_source", {})),
    )


def load_rule(rule=None, *, distance_m: float | None = None) -> FadeoutRule:
    """Return a fade-out rule.

    Parameters
    ----------
    rule : str, path or FadeoutRule, optional
        A shipped rule's name (see :func:`shipped_rules`), the path of a rule file
        (TOML), or a rule (returned as is). Default :data:`DEFAULT_RULE` unless
        ``distance_m`` is given.
    distance_m : float, optional
        A uniform rule: this distance around every evidence point.

    Returns
    -------
    FadeoutRule

    Raises
    ------
    kosovo_cmr.errors.InputError
        If both arguments are given, the name is neither shipped nor a file, the file is
        not a valid rule, or a distance is not positive.

    Examples
    --------
    >>> load_rule("kosovo-pre-2024").default_m
    50.0
    >>> load_rule(distance_m=30).name
    'uniform-30m'
    """
    if distance_m is not None:
        if rule is not None:
            raise InputError("give a rule or a uniform distance_m, not both")
        try:
            d = float(distance_m)
        except (TypeError, ValueError) as exc:
            raise InputError(f"distance_m must be a number of metres, got {distance_m!r}") from exc
        return FadeoutRule(name=f"uniform-{d:g}m", default_m=d, title=f"{d:g} m around all")
    if rule is None:
        rule = DEFAULT_RULE
    if isinstance(rule, FadeoutRule):
        return rule
    if not isinstance(rule, str | os.PathLike):
        raise InputError(f"rule must be a name, a path or a FadeoutRule, got {type(rule).__name__}")
    text = str(rule)
    if text in shipped_rules():
        return _rule_from_toml(layer_file("rules", f"{text}.toml"))
    path = Path(text)
    if path.is_file():
        return _rule_from_toml(path)
    raise InputError(
        f"no fade-out rule {text!r}: give a shipped rule ({', '.join(shipped_rules())}), "
        "the path of a rule file, or a uniform distance (--distance M)"
    )
