"""Ground context readers: GeoTIFF and MBTiles basemaps, DEM relief, GeoPackage layers.

Every file is written here by GDAL itself (rasterio, pyogrio), including the MBTiles.
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.shutil
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin

from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs.basemap import hillshade, read_basemap, read_context, read_relief, sniff

UTM = "EPSG:32634"
LON, LAT = 21.10, 42.60
X, Y = Transformer.from_crs(4326, UTM, always_xy=True).transform(LON, LAT)


def _rgb_tiff(path, *, crs="EPSG:4326", copyright_="(c) Test Orthophoto 2024"):
    """A 0.01-degree RGB image around (LON, LAT): red west half, blue east half."""
    res = 1e-5
    n = 1000
    data = np.zeros((3, n, n), dtype="uint8")
    data[0, :, : n // 2] = 200  # red
    data[2, :, n // 2 :] = 180  # blue
    transform = from_origin(LON - n * res / 2, LAT + n * res / 2, res, res)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=3,
        dtype="uint8",
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(data)
        dst.update_tags(TIFFTAG_COPYRIGHT=copyright_)
    return path


def test_geotiff_basemap_is_warped_to_the_map(tmp_path):
    tif = _rgb_tiff(tmp_path / "ortho.tif")
    # the image is 0.01 degree square, ~820 m x 1110 m: this extent is wider
    bounds = (X - 600, Y - 700, X + 600, Y + 700)
    img = read_basemap(tif, bounds=bounds, crs=UTM, resolution_m=2.0)
    assert img.rgba.shape == (700, 600, 4) and img.credit == "(c) Test Orthophoto 2024"
    assert img.name == "ortho.tif"
    west, east = img.rgba[350, 275], img.rgba[350, 325]  # 50 m each side of the centre
    assert tuple(west) == (200, 0, 0, 255) and tuple(east) == (0, 0, 180, 255)
    assert img.rgba[5, 5, 3] == 0 and img.rgba[350, 5, 3] == 0  # outside the image
    assert 0.4 < img.coverage < 0.8


def test_basemap_grid_is_capped(tmp_path):
    tif = _rgb_tiff(tmp_path / "ortho.tif")
    img = read_basemap(
        tif,
        bounds=(X - 300, Y - 300, X + 300, Y + 300),
        crs=UTM,
        resolution_m=0.01,
        max_pixels=10_000,
    )
    assert img.rgba.shape[0] * img.rgba.shape[1] <= 10_201


def test_mbtiles_basemap(tmp_path):
    tif = _rgb_tiff(tmp_path / "web.tif")
    web = tmp_path / "web3857.tif"
    with rasterio.open(tif) as src:
        from rasterio.warp import calculate_default_transform, reproject

        transform, w, h = calculate_default_transform(
            src.crs, "EPSG:3857", src.width, src.height, *src.bounds
        )
        with rasterio.open(
            web,
            "w",
            driver="GTiff",
            width=w,
            height=h,
            count=3,
            dtype="uint8",
            crs="EPSG:3857",
            transform=transform,
        ) as dst:
            for b in (1, 2, 3):
                reproject(rasterio.band(src, b), rasterio.band(dst, b))
    mbt = tmp_path / "tiles.mbtiles"
    rasterio.shutil.copy(web, mbt, driver="MBTiles")
    with sqlite3.connect(mbt) as con:
        con.execute("INSERT INTO metadata VALUES ('attribution', 'Tiles (c) Test Agency')")
    assert sniff(mbt) == "MBTiles"
    img = read_basemap(mbt, bounds=(X - 200, Y - 100, X + 200, Y + 100), crs=UTM, resolution_m=1.0)
    assert img.credit == "Tiles (c) Test Agency"
    west, east = img.rgba[100, 150], img.rgba[100, 250]
    assert west[0] > 150 and west[2] < 40 and east[2] > 130 and east[0] < 40
    assert west[3] == 255


def test_files_are_judged_by_content(tmp_path):
    vrt = tmp_path / "disguised.tif"
    vrt.write_text('<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>')
    with pytest.raises(InputError, match="not a GeoTIFF, MBTiles or GeoPackage"):
        read_basemap(vrt, bounds=(0, 0, 1, 1), crs=UTM, resolution_m=1)
    with pytest.raises(InputError, match="only local files"):
        read_basemap("https://example.org/x.tif", bounds=(0, 0, 1, 1), crs=UTM, resolution_m=1)
    with pytest.raises(InputError, match="only local files"):
        sniff("/vsicurl/http://example.org/x.tif")
    tif = _rgb_tiff(tmp_path / "named.gpkg")  # a TIFF by content whatever its name
    assert sniff(tif) == "GTiff"
    with pytest.raises(InputError, match="GeoPackage"):
        read_context(tif, bounds=(0, 0, 1, 1), crs=UTM)


def _dem(path, *, synthetic=True):
    """A tilted plane: 500 m at the west edge rising 0.1 m per metre eastward (UTM)."""
    n, res = 400, 5.0
    x0, y0 = X - n * res / 2, Y + n * res / 2
    cols = np.arange(n) * res
    z = np.tile(500 + 0.1 * cols, (n, 1)).astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=from_origin(x0, y0, res, res),
        nodata=-9999,
    ) as dst:
        dst.write(z, 1)
        if synthetic:
            dst.update_tags(SYNTHETIC="yes")
    return path, x0


def test_relief_reads_the_dem_and_shades_it(tmp_path):
    dem, x0 = _dem(tmp_path / "dem.tif")
    relief = read_relief(
        dem, bounds=(X - 100, Y - 100, X + 100, Y + 100), crs=UTM, resolution_m=2.0
    )
    assert relief.synthetic and relief.coverage == 1.0
    centre = relief.elevation[50, 50]  # x = X - 100 + 101 m
    assert centre == pytest.approx(500 + 0.1 * (X - 100 + 101 - x0 - 2.5), abs=0.3)
    # a plane rising eastward faces west; lit from the north-west (315 degrees, 45 up):
    # cos(angle to the light) = sin 45 cos s + cos 45 sin s cos(315 - 270), s = atan 0.1
    s, a = np.arctan(0.1), np.radians(45)
    expected = np.sin(a) * np.cos(s) + np.cos(a) * np.sin(s) * np.cos(a)
    inner = relief.shade[5:-5, 5:-5]
    assert np.nanstd(inner) < 1e-3 and inner.mean() == pytest.approx(expected, abs=1e-3)
    outside = read_relief(dem, bounds=(X + 5000, Y, X + 5200, Y + 200), crs=UTM, resolution_m=2.0)
    assert outside.coverage == 0.0


def test_hillshade_faces_the_light():
    ramp = np.tile(np.arange(10.0), (10, 1))  # rising eastward: faces west
    west_facing = hillshade(ramp, cell_m=1.0)[5, 5]
    east_facing = hillshade(ramp[:, ::-1], cell_m=1.0)[5, 5]
    assert west_facing > east_facing  # light from the north-west


def test_context_layers_from_a_geopackage(tmp_path):
    gpkg = tmp_path / "context.gpkg"
    roads = gpd.GeoDataFrame(
        {"name": ["near", "far"]},
        geometry=[
            shapely.LineString([(LON - 0.01, LAT), (LON + 0.01, LAT)]),
            shapely.LineString([(LON + 1, LAT), (LON + 1.1, LAT)]),
        ],
        crs=4326,
    )
    roads.to_file(gpkg, layer="roads", driver="GPKG", layer_options={"DESCRIPTION": "OSM 2024"})
    houses = gpd.GeoDataFrame(geometry=[shapely.Point(X, Y).buffer(10)], crs=UTM)
    houses.to_file(gpkg, layer="buildings", driver="GPKG")
    bounds = (X - 300, Y - 300, X + 300, Y + 300)
    layers = read_context(gpkg, bounds=bounds, crs=UTM)
    assert [layer.name for layer in layers] == ["roads", "buildings"]
    road = layers[0]
    assert road.credit == "OSM 2024" and road.file == "context.gpkg"
    assert list(road.frame["name"]) == ["near"]  # read by bbox
    assert road.frame.crs == UTM and road.frame.total_bounds[0] >= X - 300 - 1e-6  # clipped
    assert len(read_context(gpkg, layer="buildings", bounds=bounds, crs=UTM)) == 1
    with pytest.raises(InputError, match="has no layer 'rivers'; it has: roads, buildings"):
        read_context(gpkg, layer="rivers", bounds=bounds, crs=UTM)
