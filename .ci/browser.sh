#!/usr/bin/env bash
# The browser tests (tests/test_browser.py) drive Debian's Chromium at /usr/bin/chromium through
# Playwright; Playwright's own browser downloads are never used. Install it when it is missing.
# The same command is in the README's development section.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
/usr/bin/chromium --version
