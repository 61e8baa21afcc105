#!/usr/bin/env bash
# The visualiser's browser tests drive Debian's Chromium through Playwright
# (never `playwright install`: that downloads a browser). Installs it when we
# are root on a Debian-like machine and it is missing; otherwise says why the
# browser tests will skip, and carries on.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..." >&2
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "chromium is not installed (and could not be installed here): the visualiser's browser tests will skip." >&2
echo "Install it with: sudo apt-get install chromium" >&2
exit 0
