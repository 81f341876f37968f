#!/usr/bin/env bash
# The browser tests' own machine setup: Debian's Chromium and a CJK font (without one every screenshot is
# empty boxes). Run by tests/web/conftest.py when either is missing; needs root (apt-get), as CI has.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig
