#!/usr/bin/env bash
# The venv the QGIS tests run in: made from the system python (whose dist-packages hold
# Debian's QGIS bindings, python3-qgis) with --system-site-packages, kosovo_cmr installed
# editable into it. Idempotent: an existing venv whose kosovo_cmr points at this checkout
# is kept. Usage: tests/qgis_env.sh [VENV_DIR]   (default: .venv-qgis beside setup.cfg)
# Prints the venv's python on the last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv-qgis}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
if ! QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "import qgis.core" 2>/dev/null; then
  echo "QGIS python bindings missing for /usr/bin/python3: run .ci/setup.d/qgis.sh as root" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
# kosovo_cmr from this checkout, with the 'postgis' extra (the provider reads PostGIS stores)
where=$(cd / && "$venv/bin/python" -c "import psycopg, geoalchemy2, kosovo_cmr, os; print(os.path.dirname(os.path.dirname(kosovo_cmr.__file__)))" 2>/dev/null || true)
if [ "$where" != "$root" ]; then
  "$venv/bin/python" -m pip install -q -e "$root[postgis]" >&2
fi
echo "$venv/bin/python"
