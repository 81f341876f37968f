#!/usr/bin/env bash
# The browser tests' own machine setup: Debian's Chromium and a CJK font (without one every screenshot is
# empty boxes). Run by tests/web/conftest.py when either is missing; needs root (apt-get), as CI has.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# grep reads the whole list: with -q it would stop at the first match, fc-list then dies of SIGPIPE and, under
# pipefail, the font would count as missing (then apt-get, which fails while another process holds its lock).
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig
