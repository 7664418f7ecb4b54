"""The dask engine's working folder, and the tasks that read and write it.

Private plumbing of :mod:`kosovo_cmr.analysis._dask` (see the notes of
:mod:`kosovo_cmr.analysis.engine`). The dask engine keeps no points in the workers'
memory between its steps: the points are written once, in pieces, to a working folder,
and every task reads only what it needs (one partition, the halo strips of its
neighbours) and returns small results. The folder (all pickles, written and read only
by these tasks):

.. code-block:: text

   meta.pkl                an empty frame with the evidence's columns and CRS
   in/00012.pkl            input chunk 12 (rows of an in-memory GeoDataFrame)
   a/00012.pkl             chunk 12 with id, metric x, y, radius and Z-order key
   p/00003/00012.rows.pkl  the rows of chunk 12 that fall in partition 3
   p/00003/00012.pts.pkl   their id, x, y and radius (all the clustering reads)
   l/00003.pkl             the cluster label of each point of partition 3

The tasks are the steps of the engine: :func:`annotate` (1), :func:`scatter` (2),
:func:`summary` (3), :func:`cluster` and :func:`links` (4), :func:`run` (5).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
import time
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.analysis._halo import COLUMNS, bounds, cells, clip, components, morton
from kosovo_cmr.errors import InputError

#: One Z-order key in this many is sent back to choose the partitions' key ranges.
KEY_SAMPLE_EVERY = 64


@contextlib.contextmanager
def workdir(*, remote: bool):
    """Yield a fresh working folder for the spill files, removed afterwards.

    ``remote``: the tasks run on other machines, so the folder must be the shared one of
    :data:`kosovo_cmr.settings.dask_spill_dir` (there is no default).
    """
    base = settings.dask_spill_dir or None
    if base is None and remote:
        raise InputError(
            "the dask engine on a cluster needs a folder that the workers all read and "
            "write (a shared file system): set KCMR_DASK_SPILL_DIR (or "
            "kosovo_cmr.settings.dask_spill_dir) to it"
        )
    try:
        root = tempfile.mkdtemp(prefix="kcmr-dask-", dir=base)
        for sub in ("in", "a", "p", "l"):
            os.mkdir(os.path.join(root, sub))
    except OSError as exc:
        raise InputError(f"cannot make the dask engine's working folder in {base}: {exc}") from exc
    try:
        yield root
    finally:
        # after a failed task others may still be running: they cannot make the folder
        # again (see dump), but one may be writing a last file while it is removed
        for _ in range(100):
            shutil.rmtree(root, ignore_errors=True)
            if not os.path.exists(root):
                break
            time.sleep(0.1)


def dump(obj, path: str) -> None:
    """Write ``obj`` to ``path`` atomically (a retried task rewrites the same file).

    Only the file's own folder is made, never the working folder: once that is removed
    (the run failed) a task still running fails instead of leaving files behind.
    """
    with contextlib.suppress(FileExistsError):
        os.mkdir(os.path.dirname(path))
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=5)
    os.replace(tmp, path)


def load(path: str):
    """Read what :func:`dump` wrote to ``path``."""
    with open(path, "rb") as f:
        return pickle.load(f)


def spill_path(root: str, *parts: str) -> str:
    """Return the path of a file or folder in the working folder ``root``."""
    return os.path.join(root, *parts)


def _pieces(root: str, b: int, kind: str) -> list[str]:
    folder = spill_path(root, "p", f"{b:05d}")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(f".{kind}.pkl"))
    except FileNotFoundError:
        return []
    return [spill_path(folder, n) for n in names]


def partition_points(root: str, b: int) -> pd.DataFrame:
    """Return the id, metric x, y and radius of the points of partition ``b``."""
    frames = [load(f) for f in _pieces(root, b, "pts")]
    if not frames:
        return pd.DataFrame({c: np.zeros(0, np.int64 if c == "_pid" else float) for c in COLUMNS})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def partition_rows(root: str, b: int) -> gpd.GeoDataFrame:
    """Return the evidence rows of partition ``b``, in the order of :func:`partition_points`."""
    frames = [load(f) for f in _pieces(root, b, "rows")]
    if not frames:
        return load(spill_path(root, "meta.pkl"))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def annotate(source, points_of, number: int, root: str) -> tuple[int, float, np.ndarray]:
    """Step 1, one input chunk: write it with id, metric x, y, radius and Z-order key.

    ``points_of(chunk)`` returns the metric x, y and radius of each of its points.
    Returns the number of points, their largest radius and a sample of their keys.
    """
    part = load(source) if isinstance(source, str) else source
    part = part.reset_index(drop=True)
    if len(part):
        x, y, r = points_of(part)
    else:
        x = y = r = np.zeros(0)
    x, y, r = np.asarray(x, float), np.asarray(y, float), np.asarray(r, float)
    pts = pd.DataFrame(
        {
            "_pid": np.arange(len(part), dtype=np.int64) + (np.int64(number) << np.int64(40)),
            "_x": x,
            "_y": y,
            "_r": r,
        }
    )
    key = morton(x, y)
    dump((part, pts, key), spill_path(root, "a", f"{number:05d}.pkl"))
    if isinstance(source, str):
        os.remove(source)
    return len(part), float(r.max()) if len(r) else 0.0, np.sort(key)[::KEY_SAMPLE_EVERY]


def scatter(number: int, edges: np.ndarray, root: str) -> None:
    """Step 2, one chunk: split it into the partitions of its points' key ranges."""
    path = spill_path(root, "a", f"{number:05d}.pkl")
    part, pts, key = load(path)
    bucket = np.searchsorted(edges, key, side="right")
    order = np.argsort(bucket, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=len(edges) + 1))])
    for b in np.flatnonzero(np.diff(starts)):
        take = order[starts[b] : starts[b + 1]]
        folder = spill_path(root, "p", f"{b:05d}")
        dump(part.iloc[take], spill_path(folder, f"{number:05d}.rows.pkl"))
        dump(pts.iloc[take].reset_index(drop=True), spill_path(folder, f"{number:05d}.pts.pkl"))
    os.remove(path)


def summary(root: str, b: int, cell: float) -> tuple[tuple, np.ndarray]:
    """Step 3, one partition: its bounds and the grid squares its points occupy (halos)."""
    pts = partition_points(root, b)
    return bounds(pts), cells(pts, cell)


def cluster(root: str, b: int, halos: list, cell: float) -> dict:
    """Step 4, one partition: its clusters, with the halo strips of its neighbours.

    The label of each of its points is written to the working folder; the halo points'
    ids and labels, all that step 5 needs, are returned.
    """
    own = partition_points(root, b)
    strips = [clip(partition_points(root, j), shared, cell) for j, shared in halos]
    comp = components(own, strips)
    dump((comp["pid"], comp["own"]), spill_path(root, "l", f"{b:05d}.pkl"))
    return {"n": comp["n"], "halo_pid": comp["halo_pid"], "halo_label": comp["halo_label"]}


def links(root: str, comp_i: dict, i: int, j: int) -> np.ndarray:
    """Step 4, joining: rows (i, label in i, j, label in j) for j's points in i's halo."""
    pid_j, own_j = load(spill_path(root, "l", f"{j:05d}.pkl"))
    pos = pd.Index(pid_j).get_indexer(comp_i["halo_pid"])
    mine = pos >= 0
    if not mine.any():
        return np.zeros((0, 4), np.int64)
    rows = np.column_stack(
        [
            np.full(mine.sum(), i),
            comp_i["halo_label"][mine],
            np.full(mine.sum(), j),
            own_j[pos[mine]],
        ]
    )
    return np.unique(rows, axis=0)


def partition(root: str, b: int, staying: np.ndarray, incoming: list) -> gpd.GeoDataFrame:
    """Step 5: the rows of partition ``b`` that stay, with the clusters moved into it."""
    rows = partition_rows(root, b)
    _, own = load(spill_path(root, "l", f"{b:05d}.pkl"))
    frames = [rows[np.isin(own, staying)]]
    for src, labels in incoming:  # one source partition in memory at a time
        _, theirs = load(spill_path(root, "l", f"{src:05d}.pkl"))
        frames.append(partition_rows(root, src)[np.isin(theirs, labels)])
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=rows.geometry.name, crs=rows.crs)


def run(func, root: str, b: int, staying, incoming, *args):
    """Assemble partition ``b`` and run ``func`` on it: nothing is kept between the two."""
    return func(partition(root, b, staying, incoming), *args)
