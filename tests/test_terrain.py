"""Slope and cover per hazard on synthetic rasters with a known answer."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin
from shapely.geometry import box

from kosovo_cmr.analysis.terrain import TerrainWarning, cell_spacing_m, slope_deg, terrain_stats
from kosovo_cmr.errors import CRSError, InputError

GEOD = Geod(ellps="WGS84")


def write_raster(path, data, *, transform, crs, nodata=None, dtype="float32"):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data.astype(dtype), 1)
    return path


def hazards_of(*geoms, crs):
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{i}" for i in range(1, len(geoms) + 1)]}, geometry=list(geoms), crs=crs
    )


@pytest.fixture
def projected_plane(tmp_path):
    """A plane rising 20 degrees to the east, 10 m cells, EPSG:9141 (no nodata)."""
    cell, n = 10.0, 80
    x0, y0 = 7_480_000.0, 4_720_000.0
    cols = np.arange(n)
    z = np.tile(cols * cell * math.tan(math.radians(20)), (n, 1)) + 500
    path = write_raster(
        tmp_path / "plane.tif",
        z,
        transform=from_origin(x0, y0, cell, cell),
        crs="EPSG:9141",
        nodata=-9999,
    )
    return path, (x0, y0, cell, n)


def test_slope_deg_kernel_plane():
    z = np.add.outer(np.zeros(5), np.arange(5) * 10.0)
    out = slope_deg(z, dx_m=10.0, dy_m=10.0)
    assert np.isnan(out[0]).all() and np.isnan(out[:, 0]).all()
    np.testing.assert_allclose(out[1:-1, 1:-1], 45.0)


def test_slope_deg_nan_spreads_to_neighbours_only():
    z = np.add.outer(np.arange(7) * 1.0, np.zeros(7))
    z[3, 3] = np.nan
    out = slope_deg(z, dx_m=1.0, dy_m=1.0)
    assert np.isnan(out[2:5, 2:5]).all()
    assert np.isfinite(out[1, 1]) and np.isfinite(out[5, 5])


def test_cell_spacing_geographic_matches_geodesic():
    t = from_origin(20.0, 43.0, 1 / 1200, 1 / 1200)
    dx, dy = cell_spacing_m(t, "EPSG:4326", np.array([0, 600]))
    lat = 43.0 - 600.5 / 1200
    _, _, expected = GEOD.inv(20.0, lat, 20.0 + 1 / 1200, lat)
    assert dx[1] == pytest.approx(expected, rel=1e-9)
    assert 60 < dx[1] < 70 and 90 < dy[1] < 94  # ~68 m east-west, ~92.6 m north-south
    assert dx[0] < dx[1]  # parallels shrink northwards


def test_cell_spacing_projected_in_feet():
    dx, dy = cell_spacing_m(from_origin(0, 0, 10, 10), "EPSG:2263", np.array([0]))
    assert dx[0] == pytest.approx(10 * 1200 / 3937, rel=1e-12)  # US survey feet


def test_cell_spacing_refuses_missing_crs():
    with pytest.raises(CRSError):
        cell_spacing_m(from_origin(0, 0, 1, 1), None, np.array([0]))


def test_plane_projected_crs(projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    h = hazards_of(box(x0 + 100, y0 - 500, x0 + 500, y0 - 100), crs="EPSG:9141")
    out = terrain_stats(h, dem=path, steep_deg=15)
    row = out.iloc[0]
    assert row.slope_mean_deg == pytest.approx(20.0, abs=1e-4)
    assert row.slope_p90_deg == pytest.approx(20.0, abs=1e-4)
    assert row.steep_share == 1.0
    assert row.dem_coverage == 1.0
    assert row.dem_cells == 40 * 40
    assert np.isnan(row.dense_veg_share)  # no cover given: missing, not 0


def test_hazards_in_other_crs_than_dem(projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    poly = gpd.GeoSeries([box(x0 + 100, y0 - 500, x0 + 500, y0 - 100)], crs="EPSG:9141")
    h = hazards_of(poly.to_crs(4326).iloc[0], crs="EPSG:4326")
    out = terrain_stats(h, dem=path, steep_deg=25)
    assert out.iloc[0].slope_mean_deg == pytest.approx(20.0, abs=1e-4)
    assert out.iloc[0].steep_share == 0.0


def _geographic_plane(tmp_path, *, degrees, direction):
    """A plane of known slope on a 1 arc-second EPSG:4326 grid near Prishtina."""
    res = 1 / 3600
    lon0, lat0, n = 21.1, 42.7, 90
    lats = lat0 - (np.arange(n) + 0.5) * res
    lons = lon0 + (np.arange(n) + 0.5) * res
    grade = math.tan(math.radians(degrees))
    if direction == "north":  # rises northwards: z = grade * metres north of the bottom row
        _, _, d = GEOD.inv(np.full(n, lon0), np.full(n, lats[-1]), np.full(n, lon0), lats)
        z = np.tile((grade * np.asarray(d))[:, None], (1, n))
    else:  # rises eastwards along each parallel
        z = np.empty((n, n))
        for r, lat in enumerate(lats):
            _, _, d = GEOD.inv(np.full(n, lons[0]), np.full(n, lat), lons, np.full(n, lat))
            z[r] = grade * np.asarray(d)
    path = write_raster(
        tmp_path / f"geo-{direction}.tif",
        z + 600,
        transform=from_origin(lon0, lat0, res, res),
        crs="EPSG:4326",
        dtype="float64",
    )
    return path, box(lons[10], lats[80], lons[80], lats[10])


@pytest.mark.parametrize("direction", ["north", "east"])
def test_plane_geographic_crs(tmp_path, direction):
    path, hazard = _geographic_plane(tmp_path, degrees=12.0, direction=direction)
    out = terrain_stats(hazards_of(hazard, crs="EPSG:4326"), dem=path)
    # degrees taken as metres would give ~90 degrees; a constant equatorial spacing ~9.
    assert out.iloc[0].slope_mean_deg == pytest.approx(12.0, abs=0.02)
    assert out.iloc[0].slope_p90_deg == pytest.approx(12.0, abs=0.02)


def test_nodata_holes_are_masked(tmp_path, projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    with rasterio.open(path) as src:
        z = src.read(1)
        profile = src.profile
    z[20:30, 20:30] = -9999
    holed = tmp_path / "holed.tif"
    with rasterio.open(holed, "w", **profile) as dst:
        dst.write(z, 1)
    h = hazards_of(box(x0 + 100, y0 - 500, x0 + 500, y0 - 100), crs="EPSG:9141")
    with pytest.warns(TerrainWarning, match="covers"):
        out = terrain_stats(h, dem=holed)
    row = out.iloc[0]
    assert row.slope_mean_deg == pytest.approx(20.0, abs=1e-4)
    # the 10x10 hole and the ring of cells whose kernel touches it: 12 x 12 cells lost
    assert row.dem_cells == 40 * 40 - 12 * 12
    assert row.dem_coverage == pytest.approx(1 - 144 / 1600)


def test_raster_covers_part_of_hazard(projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    # raster spans x0 .. x0 + 800; hazard runs from x0 + 600 to x0 + 1000
    h = hazards_of(box(x0 + 600, y0 - 400, x0 + 1000, y0 - 200), crs="EPSG:9141")
    with pytest.warns(TerrainWarning):
        out = terrain_stats(h, dem=path)
    row = out.iloc[0]
    # 20 of 40 columns lie on the raster, the last column has no kernel: 19/40
    assert row.dem_coverage == pytest.approx(19 / 40)
    assert row.slope_mean_deg == pytest.approx(20.0, abs=1e-4)


def test_hazard_outside_raster_is_missing_with_warning(projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    inside = box(x0 + 100, y0 - 300, x0 + 300, y0 - 100)
    outside = box(x0 + 5000, y0 - 300, x0 + 5200, y0 - 100)
    h = hazards_of(inside, outside, crs="EPSG:9141")
    with pytest.warns(TerrainWarning, match="H2: no valid DEM cell"):
        out = terrain_stats(h, dem=path)
    assert out.loc[0, "slope_mean_deg"] == pytest.approx(20.0, abs=1e-4)
    assert np.isnan(out.loc[1, "slope_mean_deg"]) and np.isnan(out.loc[1, "slope_p90_deg"])
    assert out.loc[1, "dem_coverage"] == 0.0 and out.loc[1, "dem_cells"] == 0


def test_cover_share_in_other_crs(tmp_path, projected_plane):
    dem, (x0, y0, cell, n) = projected_plane
    # cover in UTM 34N, 20 m cells: tree cover (10) west of a line, cropland (40) east
    hazard = gpd.GeoSeries([box(x0 + 100, y0 - 500, x0 + 500, y0 - 100)], crs="EPSG:9141")
    utm = hazard.to_crs(32634).total_bounds
    ox, oy = math.floor(utm[0] / 20) * 20 - 200, math.ceil(utm[3] / 20) * 20 + 200
    classes = np.full((60, 60), 40, dtype="uint8")
    mid_col = int(round(((utm[0] + utm[2]) / 2 - ox) / 20))
    classes[:, :mid_col] = 10
    cover = write_raster(
        tmp_path / "cover.tif",
        classes,
        transform=from_origin(ox, oy, 20, 20),
        crs="EPSG:32634",
        nodata=0,
        dtype="uint8",
    )
    h = hazards_of(hazard.iloc[0], crs="EPSG:9141")
    out = terrain_stats(h, dem=dem, cover=cover)
    assert out.iloc[0].dense_veg_share == pytest.approx(0.5, abs=0.06)
    assert out.iloc[0].cover_coverage == 1.0
    only_crops = terrain_stats(h, dem=dem, cover=cover, dense_classes=[20])
    assert only_crops.iloc[0].dense_veg_share == 0.0


def test_refuses_hazards_without_crs(projected_plane):
    path, _ = projected_plane
    h = gpd.GeoDataFrame({"hazard_id": ["H1"]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError):
        terrain_stats(h, dem=path)


def test_refuses_unreadable_raster(tmp_path):
    bad = tmp_path / "not.tif"
    bad.write_text("not a raster")
    h = hazards_of(box(21, 42, 21.01, 42.01), crs=4326)
    with pytest.raises(InputError, match="cannot open DEM"):
        terrain_stats(h, dem=bad)


def test_missing_raster_is_bad_input_but_a_bad_argument_is_not(tmp_path):
    h = hazards_of(box(21, 42, 21.01, 42.01), crs=4326)
    with pytest.raises(InputError, match="cannot open DEM"):
        terrain_stats(h, dem=tmp_path / "missing.tif")
    with pytest.raises(TypeError):  # a programming error is not reported as a bad raster
        terrain_stats(h, dem=123)


def test_empty_geometry_gives_missing(projected_plane):
    path, (x0, y0, cell, n) = projected_plane
    from shapely.geometry import Polygon

    h = hazards_of(box(x0 + 100, y0 - 300, x0 + 300, y0 - 100), Polygon(), crs="EPSG:9141")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TerrainWarning)
        out = terrain_stats(h, dem=path)
    assert np.isnan(out.loc[1, "slope_mean_deg"])
