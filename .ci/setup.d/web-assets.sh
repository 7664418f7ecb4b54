#!/usr/bin/env bash
# npm packages whose JavaScript/CSS offline maps inline (kosovo_cmr.outputs._offline): installed
# into a cache OUTSIDE the repository (KCMR_WEB_ASSETS, default ~/.cache/kosovo_cmr/web).
# Idempotent and quiet: does nothing when every package is there.
set -euo pipefail
home="${HOME:-$(python3 -c 'import pathlib; print(pathlib.Path.home())')}"
dir="${KCMR_WEB_ASSETS:-$home/.cache/kosovo_cmr/web}"
packages=(leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.fullscreen@3.0.0 leaflet-measure@3.1.0)
have=1
for pkg in "${packages[@]}"; do
  name="${pkg%@*}"; version="${pkg##*@}"
  grep -q "\"version\": \"$version\"" "$dir/node_modules/$name/package.json" 2>/dev/null || have=0
done
[ "$have" = 1 ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
mkdir -p "$dir"
npm install --prefix "$dir" --no-save --no-audit --no-fund --silent "${packages[@]}" >/dev/null
