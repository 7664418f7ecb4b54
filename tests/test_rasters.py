"""GeoTIFF outputs re-read with rasterio: hazards, density grid, synthetic terrain.

(:mod:`kosovo_cmr.outputs.rasters` and :mod:`kosovo_cmr.synthetic.terrain`.)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Point, box

from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.outputs.rasters import density_grid, rasterize_hazards
from kosovo_cmr.synthetic.terrain import COVER_CLASSES, synthetic_terrain

X0, Y0 = 7_480_000.0, 4_720_000.0


def test_rasterize_hazards_cells(tmp_path):
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0 + 50, X0 + 250, Y0 + 100)],
        crs="EPSG:9141",
    )
    path = rasterize_hazards(hazards, tmp_path / "h.tif", cell_size_m=10)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 9141
        assert src.nodata == 0
        assert (src.transform.a, src.transform.e) == (10.0, -10.0)
        assert (src.transform.c, src.transform.f) == (X0, Y0 + 100)
        assert (src.width, src.height) == (25, 10)
        data = src.read(1)
        tags = src.tags()
    assert (data == 1).sum() == 100 and (data == 2).sum() == 25
    assert (data[:, :10] == 1).all()
    assert (data[:5, 20:25] == 2).all() and (data[5:, 20:25] == 0).all()
    assert (data[:, 10:20] == 0).all()
    assert tags["HAZARD_1"] == "A" and tags["HAZARD_2"] == "B"


def test_rasterize_from_geographic_hazards(tmp_path):
    square = gpd.GeoSeries([box(X0, Y0, X0 + 200, Y0 + 200)], crs="EPSG:9141").to_crs(4326)
    hazards = gpd.GeoDataFrame({"hazard_id": ["A"]}, geometry=square.values, crs=4326)
    with rasterio.open(rasterize_hazards(hazards, tmp_path / "h.tif", cell_size_m=10)) as src:
        # a 200 m square: 400 cells of 100 m2, give or take a cell on each edge
        assert abs(int((src.read(1) == 1).sum()) - 400) <= 20


def test_rasterize_refuses_no_crs_and_empty(tmp_path):
    with pytest.raises(CRSError):
        rasterize_hazards(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), tmp_path / "x.tif")
    empty = gpd.GeoDataFrame({"hazard_id": ["A"]}, geometry=[box(0, 0, 0, 0).buffer(0)], crs=9141)
    with pytest.raises(InputError):
        rasterize_hazards(empty, tmp_path / "x.tif")


def test_density_grid_counts_per_hectare(tmp_path):
    pts = [
        Point(X0 + 10, Y0 + 10),
        Point(X0 + 20, Y0 + 30),
        Point(X0 + 50, Y0 + 90),
        Point(X0 + 150, Y0 + 50),
    ]
    evidence = gpd.GeoDataFrame({"evidence_id": list("abcd")}, geometry=pts, crs="EPSG:9141")
    path = density_grid(
        evidence, tmp_path / "d.tif", cell_size_m=100, bounds=(X0, Y0, X0 + 200, Y0 + 100)
    )
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 9141 and src.nodata == -9999
        data = src.read(1)
    assert data.shape == (1, 2)
    np.testing.assert_array_equal(data, [[3.0, 1.0]])  # 100 m cells are 1 ha each


def test_synthetic_terrain_small_deterministic(tmp_path):
    bounds = (20.9, 42.5, 21.0, 42.6)
    dem1, cover1 = synthetic_terrain(tmp_path / "a", bounds=bounds, seed=7)
    dem2, _ = synthetic_terrain(tmp_path / "b", bounds=bounds, seed=7)
    dem3, _ = synthetic_terrain(tmp_path / "c", bounds=bounds, seed=8)
    with rasterio.open(dem1) as a, rasterio.open(dem2) as b, rasterio.open(dem3) as c:
        assert a.tags()["SYNTHETIC"] == "yes"
        assert a.crs.to_epsg() == 4326 and a.nodata == -32768
        za = a.read(1)
        np.testing.assert_array_equal(za, b.read(1))
        assert not np.array_equal(za, c.read(1))
        assert 260 <= za.min() and za.max() <= 2650
    with rasterio.open(cover1) as src:
        assert src.tags()["SYNTHETIC"] == "yes" and src.crs.to_epsg() == 32634
        codes = set(np.unique(src.read(1)).tolist()) - {0}
    assert codes and codes <= set(COVER_CLASSES)
