"""A user's basemap (orthophoto, scanned map) on the interactive map, embedded in the page.

Leaflet draws an image overlay by stretching it linearly between its corners in Web
Mercator, so the basemap is warped onto a Web Mercator (EPSG:3857) grid first
(:func:`kosovo_cmr.outputs.basemap.read_basemap`): each pixel then lands where it
belongs. The image goes into the HTML as a PNG ``data:`` URL, so the offline map shows it
with no file beside it and no network.
"""

from __future__ import annotations

import html

from pyproj import Transformer

from kosovo_cmr.outputs.basemap import WEB_MERCATOR, RasterImage


def add_basemap(m, image: RasterImage) -> None:
    """Add ``image`` (on a Web Mercator grid) under every other layer of map ``m``."""
    from folium.raster_layers import ImageOverlay

    if image.crs.upper() != WEB_MERCATOR:
        raise ValueError(f"a map's basemap is warped to {WEB_MERCATOR}, not {image.crs}")
    left, bottom, right, top = image.bounds
    to_lonlat = Transformer.from_crs(WEB_MERCATOR, "EPSG:4326", always_xy=True)
    west, south = to_lonlat.transform(left, bottom)
    east, north = to_lonlat.transform(right, top)
    credit = f"Basemap: {image.name}" + (f" ({image.credit})" if image.credit else "")
    ImageOverlay(
        image=image.rgba,
        bounds=[[south, west], [north, east]],
        origin="upper",
        mercator_project=False,  # already on a Web Mercator grid
        pixelated=False,
        name=html.escape(credit),
        attribution=html.escape(credit),
        zIndex=1,
    ).add_to(m)
