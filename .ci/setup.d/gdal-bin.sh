#!/usr/bin/env bash
# CI tools: GDAL's command-line programs (ogrinfo) and Python bindings, used by the tests
# of the GeoPackage store to read what the store writes back with the distribution's
# GDAL (no "Non-conformant content" warning) and to run validate_gpkg.py from gdal-utils.
# Idempotent; runs as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v ogrinfo >/dev/null 2>&1 || ! /usr/bin/python3 -c "import osgeo.ogr" 2>/dev/null; then
  apt-get update -qq
  apt-get install -y -qq gdal-bin python3-gdal >/dev/null
fi
ogrinfo --version
