"""Cluster-bomb strikes: recorded footprints, and footprints inferred from the evidence.

A strike is recorded as a point (the footprint's centre) with the footprint's size and
orientation: ``length_m`` along the long axis, ``width_m`` across it and
``bearing_deg``, the bearing of the long axis (degrees clockwise from grid north). The
footprint is the oval those three describe, built in the metric CRS
(:data:`kosovo_cmr.settings.metric_crs`): :func:`strike_footprints`.

Where no strike was recorded, the evidence still shows it: a cluster bomb leaves its
submunitions in an oval whose size and orientation depend on the bomb (a CBU-87 carries
202 BLU-97, an RBL755 147 BL755; footprints run from about 37 x 61 m to 123 x 244 m).
:func:`infer_strikes` clusters the evidence and fits an oriented oval to each cluster,
with its uncertainty; :func:`compare_strikes` sets inferred footprints against recorded
ones where both exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from pyproj import Transformer

from kosovo_cmr import settings
from kosovo_cmr._json import dumps, plain
from kosovo_cmr.analysis._ellipse import fit_ellipse
from kosovo_cmr.analysis._union import metric_points
from kosovo_cmr.analysis.rules import load_rule, values_or_unknown
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "UNKNOWN_SIZE_RADIUS_M",
    "MUNITION_OF",
    "MIN_ITEMS",
    "INFERRED_COLUMNS",
    "strike_footprints",
    "StrikeInference",
    "infer_strikes",
    "COMPARE_COLUMNS",
    "compare_strikes",
]

#: Radius (metres) of the disc drawn for a strike whose footprint size is not recorded.
UNKNOWN_SIZE_RADIUS_M: float = 10.0


def _oval(centre, length_m: float, width_m: float, bearing_deg: float, *, quad_segs: int = 16):
    """Return the oval of a footprint centred on ``centre`` (metric coordinates)."""
    circle = shapely.Point(0, 0).buffer(1.0, quad_segs=quad_segs)
    oval = shapely.affinity.scale(circle, width_m / 2.0, length_m / 2.0, origin=(0, 0))
    oval = shapely.affinity.rotate(oval, -bearing_deg, origin=(0, 0))
    return shapely.affinity.translate(oval, centre.x, centre.y)


def strike_footprints(strikes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the footprint of each strike as an oval, with the strike's attributes.

    Parameters
    ----------
    strikes : GeoDataFrame
        The ``strikes`` layer: points with ``length_m``, ``width_m`` and
        ``bearing_deg`` (a missing bearing counts as 0), with a CRS.

    Returns
    -------
    GeoDataFrame
        The same rows and columns, the geometry replaced by the footprint: an oval
        ``length_m`` long along the bearing and ``width_m`` wide, built in the metric
        CRS; a disc of :data:`UNKNOWN_SIZE_RADIUS_M` where the length or the width is
        missing or zero; an empty or missing point stays as it is. In the input's CRS.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the layer has no CRS.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"length_m": [200.0], "width_m": [100.0], "bearing_deg": [0.0]},
    ...                      geometry=[Point(7_500_000, 4_720_000)], crs=9141)
    >>> oval = strike_footprints(s).geometry.iloc[0]
    >>> [round(v) for v in (oval.bounds[2] - oval.bounds[0], oval.bounds[3] - oval.bounds[1])]
    [100, 200]
    """
    require_crs(strikes, name="strikes")
    metric = strikes.to_crs(settings.metric_crs)
    ovals = []
    for row in metric.itertuples(index=False):
        centre = getattr(row, metric.geometry.name)
        length = getattr(row, "length_m", None)
        width = getattr(row, "width_m", None)
        bearing = getattr(row, "bearing_deg", None)
        if centre is None or centre.is_empty:
            ovals.append(centre)
        elif not (length and width and length == length and width == width):
            ovals.append(centre.buffer(UNKNOWN_SIZE_RADIUS_M))  # size unknown: a disc
        else:
            ovals.append(_oval(centre, length, width, bearing or 0.0))
    return metric.set_geometry(ovals, crs=settings.metric_crs).to_crs(strikes.crs)


# --------------------------------------------------------------------------- inference

#: The bomb that carries each submunition type (public sources: a CBU-87 carries 202
#: BLU-97, an RBL755 147 BL755).
MUNITION_OF: dict[str, str] = {"BLU-97": "CBU-87", "BL755": "RBL755", "other": "other"}

#: DBSCAN's ``min_samples``: an item is a core item of a footprint when this many items
#: (itself included) lie within reach. 4 is the value Ester et al. (1996), who defined
#: DBSCAN, recommend for two-dimensional data.
MIN_ITEMS: int = 4

#: Columns of :attr:`StrikeInference.footprints` (besides the geometry).
INFERRED_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "source",
    "munition",
    "munition_share",
    "ordnance",
    "n_items",
    "hazard_ids",
    "length_m",
    "width_m",
    "azimuth_deg",
    "azimuth_true_deg",
    "convergence_deg",
    "area_m2",
    "coverage",
    "length_se_m",
    "width_se_m",
    "azimuth_se_deg",
    "centre_se_m",
    "lon",
    "lat",
    "synthetic",
)

#: How the azimuths are measured, stated in every JSON answer.
AZIMUTH_CONVENTION = (
    "azimuth_deg: bearing of the footprint's long axis, degrees clockwise from grid north "
    "of EPSG:9141 (KOSOVAREF01 / Balkans zone 7), 0-180; azimuth_true_deg: the same from "
    "true north (azimuth_deg - convergence_deg, the grid convergence at the centre)"
)


@dataclass
class StrikeInference:
    """Strike footprints inferred from evidence (:func:`infer_strikes`).

    Attributes
    ----------
    footprints : GeoDataFrame
        One row per cluster (columns :data:`INFERRED_COLUMNS`), the fitted oval as
        geometry, in the evidence's CRS.
    labels : pandas.Series
        The cluster of each evidence point (``cluster_id``; 0 for items in no cluster),
        aligned with the evidence's index.
    parameters : dict
        The rule, the reach of each ordnance, ``min_items``, ``coverage``,
        ``bootstrap`` and ``seed``.
    """

    footprints: gpd.GeoDataFrame
    labels: pd.Series
    parameters: dict

    @property
    def noise_items(self) -> int:
        """Evidence points left in no cluster."""
        return int((self.labels == 0).sum())

    def to_dict(self) -> dict:
        """Return ``parameters``, ``azimuth_convention``, ``noise_items`` and ``rows``."""
        rows = self.footprints.drop(columns=self.footprints.geometry.name)
        return plain(
            {
                "parameters": self.parameters,
                "azimuth_convention": AZIMUTH_CONVENTION,
                "clusters": len(rows),
                "noise_items": self.noise_items,
                "rows": rows.to_dict(orient="records"),
            }
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as strict JSON."""
        return dumps(self.to_dict(), indent=indent)


def _cluster_labels(x, y, reach, min_items: int) -> np.ndarray:
    """DBSCAN labels (-1: noise) where two items link when closer than their smaller reach."""
    from scipy.sparse import coo_matrix
    from scipy.spatial import cKDTree
    from sklearn.cluster import DBSCAN

    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(float(reach.max()), output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.zeros(0, int), np.zeros(0, int))
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    # distance in units of the pair's reach; linked when <= 1. A tiny offset keeps
    # coincident items as stored (non-zero) entries; the diagonal counts each item itself,
    # as DBSCAN's min_samples does.
    scaled = d / np.minimum(reach[i], reach[j]) + 1e-12
    keep = scaled <= 1.0
    i, j, scaled = i[keep], j[keep], scaled[keep]
    rows = np.concatenate([i, j, np.arange(n)])
    cols = np.concatenate([j, i, np.arange(n)])
    vals = np.concatenate([scaled, scaled, np.full(n, 1e-12)])
    graph = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    return DBSCAN(eps=1.0, min_samples=min_items, metric="precomputed").fit_predict(graph)


def _convergence_deg(x, y):
    """Grid convergence (degrees, the grid bearing of true north), lon and lat at x, y."""
    to_ll = Transformer.from_crs(settings.metric_crs, 4326, always_xy=True)
    to_grid = Transformer.from_crs(4326, settings.metric_crs, always_xy=True)
    lon, lat = to_ll.transform(x, y)
    nx, ny = to_grid.transform(lon, np.asarray(lat) + 1e-4)
    return np.degrees(np.arctan2(np.asarray(nx) - x, np.asarray(ny) - y)), lon, lat


def _munition(ordnance: np.ndarray) -> tuple[str, float, str]:
    """Likely munition of a cluster, the share of its known items that agree, the mix."""
    values, counts = np.unique(ordnance, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    mix = ", ".join(f"{values[k]}:{counts[k]}" for k in order)
    known = {v: c for v, c in zip(values, counts, strict=True) if v in MUNITION_OF}
    if not known:
        return "unknown", float("nan"), mix
    top = max(known, key=lambda v: (known[v], v))
    return MUNITION_OF[top], known[top] / sum(known.values()), mix


def infer_strikes(
    evidence: gpd.GeoDataFrame,
    rule=None,
    *,
    min_items: int = MIN_ITEMS,
    coverage: float = 0.95,
    bootstrap: int = 200,
    seed: int = 0,
) -> StrikeInference:
    """Infer strike footprints from evidence: cluster the items, fit an oval to each.

    Clustering is DBSCAN (scikit-learn) in the metric CRS (EPSG:9141). Two items are
    neighbours when they lie closer than the *smaller of their fade-out distances* under
    ``rule`` (25 m around BLU-97 and BL755 items under the default rule, 50 m around
    others): so two footprints whose items are farther apart than the fade-out are never
    merged through a direct link (only an item that itself has ``min_items`` neighbours
    within its reach can link two groups). A cluster needs ``min_items`` items within
    reach of a core item; items in no cluster are noise (label 0).

    Each cluster gets the oval with the shape of its items' covariance that holds
    ``coverage`` of them (the empirical quantile of their Mahalanobis distances), its
    standard errors from ``bootstrap`` resamples of the items, and the likely munition
    from the items' ordnance (BLU-97 -> CBU-87, BL755 -> RBL755).

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS (``ordnance``, ``item``, ``hazard_id`` used when
        present).
    rule : str, path or FadeoutRule, optional
        The fade-out rule whose distances set the reach (default ``kosovo-nmas-2024``).
    min_items : int, default :data:`MIN_ITEMS`
        DBSCAN's ``min_samples``.
    coverage : float, default 0.95
        Share of a cluster's items the fitted oval holds.
    bootstrap : int, default 200
        Resamples for the standard errors (0: none).
    seed : int, default 0
        Seed of the resampling, so that a run can be repeated.

    Returns
    -------
    StrikeInference
        ``footprints`` (azimuths clockwise from grid north, 0-180, and from true north;
        ``area_m2`` the geodesic area of the drawn oval), ``labels`` and ``parameters``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On evidence that is not points with a CRS, or bad options.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely.geometry import Point
    >>> rng = np.random.default_rng(1)
    >>> t = rng.uniform(0, 2 * np.pi, 60); r = np.sqrt(rng.uniform(0, 1, 60))
    >>> # an oval 160 m long, 60 m wide, long axis due grid north-east (45 degrees)
    >>> u, v = 80 * r * np.cos(t), 30 * r * np.sin(t)
    >>> x = 7_480_000 + (u + v) / np.sqrt(2); y = 4_700_000 + (u - v) / np.sqrt(2)
    >>> ev = gpd.GeoDataFrame({"ordnance": ["BLU-97"] * 60, "item": ["component"] * 60},
    ...                       geometry=[Point(a, b) for a, b in zip(x, y)], crs=9141)
    >>> row = infer_strikes(ev).footprints.iloc[0]
    >>> row.munition, int(row.n_items), bool(abs(row.azimuth_deg - 45) < 10)
    ('CBU-87', 60, True)
    """
    require_crs(evidence, name="evidence")
    if not isinstance(min_items, int | np.integer) or min_items < 2:
        raise InputError(f"min_items must be a whole number of at least 2, got {min_items!r}")
    if not 0 < coverage <= 1:
        raise InputError(f"coverage must be a share in (0, 1], got {coverage!r}")
    if not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise InputError(f"bootstrap must be a whole number >= 0, got {bootstrap!r}")
    rule = load_rule(rule)
    x, y = metric_points(evidence)
    reach = rule.distances_m(evidence)
    raw = _cluster_labels(x, y, reach, int(min_items))
    labels = np.where(raw >= 0, raw + 1, 0)
    rng = np.random.default_rng(seed)
    ordnance = values_or_unknown(evidence, "ordnance", len(evidence))
    hazards = (
        evidence["hazard_id"].astype(object).to_numpy(object)
        if "hazard_id" in evidence.columns
        else np.full(len(evidence), None, dtype=object)
    )
    rows, ovals = [], []
    for k in range(1, int(labels.max(initial=0)) + 1):
        m = labels == k
        fit = fit_ellipse(x[m], y[m], coverage=coverage, bootstrap=int(bootstrap), rng=rng)
        munition, share, mix = _munition(ordnance[m])
        ids = sorted({str(h) for h in hazards[m] if h is not None and h == h})
        rows.append(
            {
                "cluster_id": k,
                "munition": munition,
                "munition_share": share,
                "ordnance": mix,
                "n_items": int(m.sum()),
                "hazard_ids": ", ".join(ids),
                "fit": fit,
            }
        )
        ovals.append(
            _oval(
                shapely.Point(fit.cx, fit.cy),
                max(fit.length_m, 0.1),
                max(fit.width_m, 0.1),
                fit.azimuth_deg,
                quad_segs=64,
            )
        )
    footprints = _footprint_frame(rows, ovals, evidence, coverage)
    parameters = {
        "rule": rule.name,
        "reach_m": "smaller fade-out distance of each pair of items under the rule",
        "min_items": int(min_items),
        "coverage": float(coverage),
        "bootstrap": int(bootstrap),
        "seed": int(seed),
        "metric_crs": settings.metric_crs,
    }
    return StrikeInference(footprints, pd.Series(labels, index=evidence.index), parameters)


def _footprint_frame(rows, ovals, evidence, coverage) -> gpd.GeoDataFrame:
    """Build the footprints layer: one row per cluster, ovals in the evidence's CRS."""
    from kosovo_cmr.crs import geodesic_area

    cx = np.array([r["fit"].cx for r in rows], dtype=float)
    cy = np.array([r["fit"].cy for r in rows], dtype=float)
    gamma, lon, lat = _convergence_deg(cx, cy) if len(rows) else ([], [], [])
    synthetic = "synthetic" in evidence.columns and bool(
        evidence["synthetic"].fillna(False).astype(bool).any()
    )
    records = []
    for r, g, lo, la in zip(rows, gamma, lon, lat, strict=True):
        f = r.pop("fit")
        records.append(
            {
                **r,
                "source": "inferred",
                "length_m": f.length_m,
                "width_m": f.width_m,
                "azimuth_deg": f.azimuth_deg,
                "azimuth_true_deg": float(np.mod(f.azimuth_deg - g, 180.0)),
                "convergence_deg": float(g),
                "coverage": float(coverage),
                "length_se_m": f.length_se_m,
                "width_se_m": f.width_se_m,
                "azimuth_se_deg": f.azimuth_se_deg,
                "centre_se_m": f.centre_se_m,
                "lon": float(lo),
                "lat": float(la),
                "synthetic": synthetic,
            }
        )
    frame = pd.DataFrame(records, columns=[c for c in INFERRED_COLUMNS if c != "area_m2"])
    geoms = gpd.GeoSeries(list(ovals), crs=settings.metric_crs)
    frame.insert(
        INFERRED_COLUMNS.index("area_m2"), "area_m2", geodesic_area(geoms) if len(frame) else []
    )
    frame = frame.astype({"cluster_id": "int64", "n_items": "int64", "synthetic": "bool"})
    for col in ("source", "munition", "ordnance", "hazard_ids"):
        frame[col] = frame[col].astype("str")
    return gpd.GeoDataFrame(frame, geometry=geoms.to_crs(evidence.crs).values, crs=evidence.crs)


# --------------------------------------------------------------------------- comparison

#: Columns of :func:`compare_strikes`.
COMPARE_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "strike_id",
    "n_items",
    "munition_inferred",
    "munition_recorded",
    "centre_offset_m",
    "azimuth_diff_deg",
    "length_diff_m",
    "width_diff_m",
    "area_ratio",
    "overlap_iou",
)


def compare_strikes(inferred: gpd.GeoDataFrame, recorded: gpd.GeoDataFrame) -> pd.DataFrame:
    """Set inferred footprints against recorded strikes where both exist.

    Each inferred footprint is matched to the recorded footprint
    (:func:`strike_footprints`) it overlaps most (intersection over union, in the metric
    CRS); a footprint that overlaps none has no ``strike_id``. Several inferred
    footprints may match one strike (its evidence fell apart into clusters).

    Parameters
    ----------
    inferred : GeoDataFrame
        :attr:`StrikeInference.footprints`.
    recorded : GeoDataFrame
        The ``strikes`` layer (points with ``strike_id``, ``length_m``, ``width_m``,
        ``bearing_deg``, ``munition``).

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster_id``, ``strike_id``, ``n_items``, ``munition_inferred``,
        ``munition_recorded``, ``centre_offset_m`` (grid metres between the centres),
        ``azimuth_diff_deg`` (between the long axes, 0-90), ``length_diff_m`` and
        ``width_diff_m`` (inferred minus recorded), ``area_ratio`` (inferred / recorded)
        and ``overlap_iou``.
    """
    require_crs(inferred, name="inferred footprints")
    require_crs(recorded, name="strikes")
    a = inferred.to_crs(settings.metric_crs)
    rec = recorded[~recorded.geometry.isna() & ~recorded.geometry.is_empty]
    b = strike_footprints(rec).to_crs(settings.metric_crs) if len(rec) else rec
    centres = rec.to_crs(settings.metric_crs).geometry.values if len(rec) else []
    out = []
    tree = shapely.STRtree(b.geometry.values) if len(b) else None
    for row in a.itertuples(index=False):
        geom = row.geometry
        match = {"strike_id": None}
        if tree is not None and geom is not None and not geom.is_empty:
            hits = tree.query(geom, predicate="intersects")
            if len(hits):
                inter = shapely.area(shapely.intersection(geom, b.geometry.values[hits]))
                union = shapely.area(shapely.union(geom, b.geometry.values[hits]))
                best = int(hits[np.argmax(inter / union)])
                match = _match(row, b.iloc[best], centres[best], float(np.max(inter / union)))
        out.append(
            {
                "cluster_id": int(row.cluster_id),
                "n_items": int(row.n_items),
                "munition_inferred": row.munition,
                **match,
            }
        )
    return pd.DataFrame(out, columns=list(COMPARE_COLUMNS))


def _match(row, strike, centre, iou: float) -> dict:
    """Measure the differences between one inferred footprint and its recorded strike."""
    oval = row.geometry.centroid
    diff = abs(float(row.azimuth_deg) - float(strike.get("bearing_deg") or 0.0)) % 180.0
    length, width = strike.get("length_m"), strike.get("width_m")
    area = float(np.pi * length * width / 4) if length and width else float("nan")
    return {
        "strike_id": str(strike["strike_id"]),
        "munition_recorded": strike.get("munition"),
        "centre_offset_m": float(oval.distance(centre)),
        "azimuth_diff_deg": float(min(diff, 180.0 - diff)),
        "length_diff_m": float(row.length_m - length) if length else float("nan"),
        "width_diff_m": float(row.width_m - width) if width else float("nan"),
        "area_ratio": float(np.pi * row.length_m * row.width_m / 4 / area),
        "overlap_iou": iou,
    }
