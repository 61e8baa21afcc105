#!/usr/bin/env bash
# The visualiser's browser tests drive Debian's Chromium through Playwright
# (never `playwright install`: that downloads a browser). Installs it when we
# are root on a Debian-like machine and it is missing; otherwise says why the
# browser tests will skip, and carries on. What it reports is checked after
# the attempt: apt-get can exit non-zero (a failed trigger) and still install.
set -uo pipefail
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
have_chromium && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed, and this is not root, so it was not installed:" \
       "the visualiser's browser tests will skip. Install it with: sudo apt-get install chromium" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and there is no apt-get here: the visualiser's browser tests" \
       "will skip. Install Chromium with your system's package manager." >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests..." >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/tmp/trunkline-chromium-install.log 2>&1 \
  || { apt-get update -qq >>/tmp/trunkline-chromium-install.log 2>&1 \
       && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>/tmp/trunkline-chromium-install.log 2>&1; }
if have_chromium; then
  echo "chromium installed." >&2
else
  echo "apt-get could not install chromium (log: /tmp/trunkline-chromium-install.log):" \
       "the visualiser's browser tests will skip." >&2
fi
exit 0
