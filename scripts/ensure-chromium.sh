#!/usr/bin/env bash
# Make sure a Chromium is available for kaleido (static figures) and the browser tests.
# Installs Debian's `chromium` package when it is missing and we can (root + apt-get).
# Never downloads a browser build of its own.
set -u
for candidate in "${BROWSER_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium (for static figures and browser checks)..."
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/taking-stock-chromium.log 2>&1; then
    echo "chromium installed: /usr/bin/chromium"
    exit 0
  fi
  echo "Could not install chromium (see /tmp/taking-stock-chromium.log)."
fi
echo "Notice: no Chromium found. Static SVG/PNG figures and browser checks will be skipped."
echo "        Install it with: sudo apt-get install chromium  (or set BROWSER_PATH)."
exit 0
