"""The national interactive map of the synthetic demo layers, online and offline.

Loads the demo layers and the real municipal boundaries into a temporary GeoPackage,
draws the map (CHAs, SHAs, releases by method, evidence clusters, fade-out rings, strike
footprints, boundaries; SYNTHETIC banner), and writes ``map.html`` (OpenStreetMap tiles;
a message on the page when they cannot load) and ``map-offline.html`` (one file, no
network: Leaflet and its plugins come with the folium-offline package, nothing to
install), and an offline map with a basemap under the layers, into a temporary folder.

Run from anywhere::

    python examples/national_map.py
"""

import tempfile
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.maps import save_map
from kosovo_cmr.synthetic.terrain import synthetic_terrain
from kosovo_cmr.workflows.maps import map_from_store

out = Path(tempfile.mkdtemp(prefix="kcmr-map-"))

# 1. A store holding the SYNTHETIC demo layers and the real 2018 boundaries.
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])

# 2. The online map: a folium.Map, so it can be changed before saving. The workflow reads
#    the store and computes the fade-out rings and strike footprints the map shows.
m = map_from_store(ctx.store, title="Kosovo CMR - synthetic demo")
online = save_map(m, out / "map.html")
print(f"online map:  {online} ({online.stat().st_size / 1e6:.1f} MB)")

# 3. The offline map carries Leaflet and its plugins inside the page (from the folium-offline
#    package, installed with kosovo_cmr): it opens with the network cut.
offline = save_map(map_from_store(ctx.store, offline=True), out / "map-offline.html")
print(f"offline map: {offline} ({offline.stat().st_size / 1e6:.1f} MB)")

# 4. Offline with a team's own imagery under the layers (``kcmr map --basemap``): a GeoTIFF
#    or MBTiles orthophoto. The demo has no imagery, so its SYNTHETIC DEM stands in (shown
#    in grey, credited "SYNTHETIC"): the part the layers cover, warped to Web Mercator and
#    embedded in the page.
dem, _ = synthetic_terrain(out)
with_basemap = save_map(
    map_from_store(ctx.store, offline=True, basemap=dem), out / "map-offline-basemap.html"
)
print(f"offline map with a basemap: {with_basemap} ({with_basemap.stat().st_size / 1e6:.1f} MB)")
