"""Coverage ellipses of point clusters, with bootstrap standard errors.

Private plumbing of :mod:`kosovo_cmr.analysis.strikes`. Everything is planar (metric
coordinates) and vectorised over bootstrap samples.

The ellipse of a cluster has the shape of the points' covariance (its axes along the
eigenvectors) and the size that holds a stated share of the points (``coverage``): the
empirical ``coverage`` quantile of the points' Mahalanobis distances from their mean.
For points spread evenly over an oval, the 95 % ellipse is the oval shrunk by
``sqrt(0.95)`` (95 % of its area). The covariance's axes were chosen over the
minimum-area enclosing ellipse (the maximum-likelihood estimate for evenly spread
points, whose azimuth is more precise: on ovals of 1.65-2 : 1 with 20 points, 5.5 % of
azimuths off by more than 15 degrees against 13 %) because Khachiyan's algorithm for it
was two orders of magnitude slower with bootstrap resampling, and one stray item
stretches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EllipseFit:
    """One fitted ellipse (metric units; azimuth in degrees clockwise from grid north)."""

    cx: float
    cy: float
    length_m: float
    width_m: float
    azimuth_deg: float
    length_se_m: float
    width_se_m: float
    azimuth_se_deg: float
    centre_se_m: float


def _fit_many(x: np.ndarray, y: np.ndarray, coverage: float):
    """Fit one ellipse per row of ``x``, ``y`` (shape (k, n)): centre, axes, azimuth."""
    cx, cy = x.mean(axis=1), y.mean(axis=1)
    dx, dy = x - cx[:, None], y - cy[:, None]
    n = x.shape[1]
    sxx = (dx * dx).sum(axis=1) / (n - 1)
    syy = (dy * dy).sum(axis=1) / (n - 1)
    sxy = (dx * dy).sum(axis=1) / (n - 1)
    half_trace = (sxx + syy) / 2
    root = np.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
    l1, l2 = half_trace + root, np.maximum(half_trace - root, 0.0)
    # angle of the major axis from grid east, counter-clockwise (radians)
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    # Mahalanobis distance of each point, in the principal axes
    u = dx * np.cos(theta)[:, None] + dy * np.sin(theta)[:, None]
    v = -dx * np.sin(theta)[:, None] + dy * np.cos(theta)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        d2 = np.where(l1[:, None] > 0, u**2 / l1[:, None], 0.0)
        d2 = d2 + np.where(l2[:, None] > 0, v**2 / l2[:, None], 0.0)
    k = np.sqrt(np.quantile(d2, coverage, axis=1))
    length = 2 * k * np.sqrt(l1)
    width = 2 * k * np.sqrt(l2)
    azimuth = np.mod(90.0 - np.degrees(theta), 180.0)
    return cx, cy, length, width, azimuth


def _axial_sd_deg(azimuth_deg: np.ndarray) -> float:
    """Circular standard deviation of axial angles (0-180 degrees), in degrees."""
    a = np.radians(2 * azimuth_deg[np.isfinite(azimuth_deg)])
    if not len(a):
        return float("nan")
    r = float(np.hypot(np.cos(a).mean(), np.sin(a).mean()))
    if r <= 0:
        return 90.0
    return float(np.degrees(np.sqrt(-2 * np.log(min(r, 1.0))) / 2))


def fit_ellipse(
    x: np.ndarray, y: np.ndarray, *, coverage: float, bootstrap: int, rng: np.random.Generator
) -> EllipseFit:
    """Fit the coverage ellipse of one cluster, with bootstrap standard errors.

    ``bootstrap`` resamples of the points (with replacement) are fitted the same way;
    the standard errors are their standard deviations (circular, for the azimuth; the
    root mean square distance of the resampled centres from their mean, for the centre).
    """
    ox, oy = float(np.mean(x)), float(np.mean(y))  # fit near the origin, for precision
    x = np.asarray(x, float)[None, :] - ox
    y = np.asarray(y, float)[None, :] - oy
    cx, cy, length, width, azimuth = _fit_many(x, y, coverage)
    se = (float("nan"),) * 4
    if bootstrap > 0 and x.shape[1] >= 3:
        idx = rng.integers(0, x.shape[1], size=(bootstrap, x.shape[1]))
        bx, by, bl, bw, ba = _fit_many(x[0][idx], y[0][idx], coverage)
        centre = float(np.sqrt(np.mean((bx - bx.mean()) ** 2 + (by - by.mean()) ** 2)))
        se = (float(np.std(bl, ddof=1)), float(np.std(bw, ddof=1)), _axial_sd_deg(ba), centre)
    return EllipseFit(
        float(cx[0]) + ox,
        float(cy[0]) + oy,
        float(length[0]),
        float(width[0]),
        float(azimuth[0]),
        *se,
    )
