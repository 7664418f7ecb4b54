#!/usr/bin/env bash
# Headless Chromium (browser tests of the interactive maps) and poppler-utils (pdftoppm,
# field-sheet tests). Idempotent and quiet: does nothing when both are installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium chromium-driver poppler-utils \
  fonts-dejavu-core >/dev/null
command -v chromium >/dev/null && command -v pdftoppm >/dev/null
