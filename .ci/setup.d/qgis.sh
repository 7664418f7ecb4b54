#!/usr/bin/env bash
# CI tools: the distribution's QGIS (python3-qgis, qgis-providers) for the headless tests
# of the QGIS Processing provider (kosovo_cmr/qgis). Debian's bindings are built for the
# system python (/usr/bin/python3); the tests make a venv from it with
# --system-site-packages (tests/qgis_env.sh). Idempotent; runs as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null \
   || [ ! -d /usr/share/qgis/python/plugins/processing ] \
   || ! dpkg -s qgis-providers >/dev/null 2>&1 || ! dpkg -s python3-venv >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-qgis qgis-providers \
    python3-venv python3-pip >/dev/null
fi
QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "from qgis.core import Qgis; print('QGIS', Qgis.QGIS_VERSION)"
