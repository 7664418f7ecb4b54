"""Documented defaults for the whole package, in one place.

Every default the package uses lives here, and this is the only module that reads
the environment. Change a value for a session by assignment::

    from kosovo_cmr import settings
    settings.store_path = "/data/kmac.gpkg"

Environment variables (read once, at import):

``KCMR_STORE``
    Default store: a GeoPackage path or a ``postgresql://`` URL.
``KCMR_BOUNDARIES``
    Path to the municipal boundaries (see :data:`boundaries_path`).
``KCMR_DASK_SCHEDULER``
    Where the dask engine runs (see :data:`dask_scheduler`).
``KCMR_DASK_WORKER_MEMORY``
    Memory budget of one dask worker (see :data:`dask_worker_memory`).
``KCMR_DASK_SPILL_DIR``
    Where the dask engine writes its working files (see :data:`dask_spill_dir`).
"""

from __future__ import annotations

import os
from pathlib import Path

#: CRS in which layers are stored and exchanged (IMSMA, GPX and KML use it).
storage_crs: str = "EPSG:4326"

#: Metric CRS for buffers and planar work: KOSOVAREF01 / Balkans zone 7, Kosovo's
#: national grid (TM, lon_0 = 21, k = 0.9999); scale error under 0.01 % in Kosovo.
metric_crs: str = "EPSG:9141"

#: Operators' GPS grid: WGS 84 / UTM zone 34N (MGRS grid zone 34T).
utm_crs: str = "EPSG:32634"

#: Legacy Yugoslav-era grid: MGI 1901 / Balkans zone 7.
legacy_crs: str = "EPSG:6316"

#: Deprecated EPSG codes of the legacy grid, accepted and mapped to :data:`legacy_crs`.
legacy_crs_aliases: tuple[str, ...] = ("EPSG:3909", "EPSG:31277")

#: Ellipsoid on which every reported ``area_m2`` is measured.
ellipsoid: str = "WGS84"

#: Kosovo's extent in EPSG:4326 (lon_min, lat_min, lon_max, lat_max).
kosovo_bounds: tuple[float, float, float, float] = (20.01, 41.85, 21.79, 43.27)

#: Margin, in degrees, around :data:`kosovo_bounds` within which imported features are
#: accepted (about 5 km).
kosovo_margin_deg: float = 0.05

# --- import limits and geometry checks (kosovo_cmr.importer) ----------------------------

#: Largest source file the importer reads, in bytes; larger files are refused.
import_max_bytes: int = 512 * 1024**2

#: Most features one import reads; sources with more are refused.
import_max_features: int = 1_000_000

#: ZIP/KMZ/XLSX pre-scan: largest total uncompressed size, in bytes.
archive_max_uncompressed_bytes: int = 1024**3

#: ZIP/KMZ/XLSX pre-scan: largest compression ratio of the archive and of any entry.
archive_max_ratio: float = 100.0

#: ZIP/KMZ/XLSX pre-scan: most entries in an archive.
archive_max_entries: int = 1000

#: A polygon vertex whose angle is below this many degrees is flagged as a spike.
spike_max_angle_deg: float = 1.0

#: A polygon part whose thinness 4*pi*area/perimeter**2 is below this is flagged as a sliver.
sliver_max_thinness: float = 0.02

#: Turning-point traverses whose misclosure exceeds this many metres are rejected.
traverse_max_misclosure_m: float = 5.0

#: A GPX track becomes a polygon if its ends are at most this many metres apart.
gpx_max_ring_gap_m: float = 25.0

# --- issue 16: geocheck-grade QA (kosovo_cmr.qa) -------------------------------------------

#: Consecutive vertices of a polygon farther apart than this many metres (geodesic) are
#: reported as ``long_segment``. GICHD geocheck's ``geocheck_distance_polygon_points``
#: view: "a distance between 2 consecutive points higher than the value defined in the
#: query (default is 5000 m)".
qa_max_segment_m: float = 5000.0

#: Two polygons under different ids whose outlines are at most this many metres apart
#: (Hausdorff distance, in :data:`metric_crs`) are reported as ``duplicate_polygon``.
qa_duplicate_tolerance_m: float = 1.0

#: Overlaps (hazards of the same kind, boundary units) and gaps between boundary units
#: smaller than this many square metres (geodesic) are not reported.
qa_min_area_m2: float = 1.0

# --- issue 14: MGRS precision (kosovo_cmr.sources.tabular) ----------------------------------

#: An MGRS reference stands for a square (``34TDN9020`` a 1 km square): its point is the
#: square's centre and its ``accuracy_m`` half the square's side. A reference whose
#: accuracy is coarser than this many metres (a 1 km square and coarser, by default) is
#: rejected as ``mgrs_too_coarse``.
mgrs_max_accuracy_m: float = 100.0

#: Default GeoPackage store (relative to the working directory).
store_path: str = os.environ.get("KCMR_STORE", "kcmr.gpkg")

#: The project's checkout, when the package runs from one (editable install).
_checkout = Path(__file__).resolve().parent.parent

#: Candidate locations of the real municipal boundaries: the ``shared/`` folder beside
#: the project, seen from the working directory and from the checkout.
_boundary_candidates = (
    Path("../shared/data/kosovo-municipalities-2018/XK_EA_2018.shp"),
    _checkout.parent / "shared/data/kosovo-municipalities-2018/XK_EA_2018.shp",
)

#: Path to the municipal boundaries Shapefile (40 features, attribute ``XK_NAME``).
#: ``None`` means: ``KCMR_BOUNDARIES`` if set, else the first of the candidates that
#: exists. The data are read by path and never copied into the project.
boundaries_path: str | None = os.environ.get("KCMR_BOUNDARIES")

#: Attribute of the boundaries file that holds the municipality name.
boundaries_name_field: str = "XK_NAME"

#: Default output folder of ``kcmr demo``.
demo_dir: str = "kcmr-demo"

#: Where the dask engine (:mod:`kosovo_cmr.analysis.engine`) runs: ``None`` or ``"threads"``
#: (this process), ``"processes"``, ``"local"`` (a local dask distributed cluster) or the
#: address of a dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``. Env: ``KCMR_DASK_SCHEDULER``.
dask_scheduler: str | None = os.environ.get("KCMR_DASK_SCHEDULER") or None

#: Memory budget of one dask worker, e.g. ``"2GB"``, or ``None`` for dask's default.
#: The dask engine then makes its partitions small enough for one to be worked on in a
#: quarter of it (a worker's memory follows the partition size, not the number of
#: points), and a local cluster (``dask_scheduler = "local"``) gives each worker this
#: memory limit.
#: Env: ``KCMR_DASK_WORKER_MEMORY``.
dask_worker_memory: str | None = os.environ.get("KCMR_DASK_WORKER_MEMORY") or None

#: Folder in which the dask engine writes the evidence, in pieces, while it works (a
#: fresh sub-folder, removed afterwards), or ``None`` for the system's temporary folder.
#: On a cluster it must be a folder every worker reads and writes (a shared file
#: system). Env: ``KCMR_DASK_SPILL_DIR``.
dask_spill_dir: str | None = os.environ.get("KCMR_DASK_SPILL_DIR") or None

#: Seed of the synthetic demo generator. Changing it changes every demo feature.
demo_seed: int = 20241231


def resolve_boundaries_path(path: str | os.PathLike | None = None) -> Path:
    """Return the municipal boundaries path to use.

    Parameters
    ----------
    path : str or path-like, optional
        An explicit path; wins over the settings.

    Returns
    -------
    pathlib.Path
        The path, which exists.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no boundaries file can be found; the message says how to give one.
    """
    from kosovo_cmr.errors import InputError

    chosen = path if path is not None else boundaries_path
    if chosen is not None:
        p = Path(chosen)
        if not p.exists():
            raise InputError(f"boundaries file not found: {p}")
        return p.resolve()
    for candidate in _boundary_candidates:
        if candidate.exists():
            return candidate.resolve()
    raise InputError(
        "municipal boundaries not found; pass --boundaries PATH or set KCMR_BOUNDARIES "
        "(expected ../shared/data/kosovo-municipalities-2018/XK_EA_2018.shp)"
    )


def __getattr__(name: str):
    # 0.1 setting, gone in 0.3: offline maps took Leaflet from npm packages in this folder;
    # they come with the folium-offline package now, and nothing reads a folder
    if name == "web_assets_dir":
        from kosovo_cmr import _deprecated

        _deprecated.warn(
            "settings.web_assets_dir is no longer used: the maps' scripts come from the "
            "folium-offline package (no npm step)"
        )
        return None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
