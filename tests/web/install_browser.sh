#!/usr/bin/env bash
# The browser tests' own machine setup: Debian's Chromium, its Chinese UI and a CJK font (without one every
# screenshot is empty boxes). Run by tests/web/conftest.py, installs what is missing; needs root (apt-get), as CI has.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Its Chinese UI, which draws a date input as yyyy/mm/dd (Debian's chromium ships en-US only); of the installed
# chromium's own version, or apt would upgrade chromium to match a newer chromium-l10n.
if [ ! -f /usr/lib/chromium/locales/zh-CN.pak ]; then
    installed=$(dpkg-query -W -f='${Version}' chromium 2>/dev/null || true)
    missing+=("chromium-l10n${installed:+=$installed}")
fi
# grep reads the whole list: with -q it would stop at the first match, fc-list then dies of SIGPIPE and, under
# pipefail, the font would count as missing (then apt-get, which fails while another process holds its lock).
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig
