#!/usr/bin/env bash
# Make sure Debian's poppler-utils (pdftoppm, pdftotext, pdfinfo) are available: the tests
# render the PDF edition's pages with them. Installs the package when it is missing and we can
# (root + apt-get); otherwise a notice, and the PDF checks are skipped.
set -u
if command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 \
   && command -v pdfinfo >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's poppler-utils (to check the PDF edition)..."
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils) >/tmp/taking-stock-poppler.log 2>&1; then
    echo "poppler-utils installed: $(command -v pdftoppm)"
    exit 0
  fi
  echo "Could not install poppler-utils (see /tmp/taking-stock-poppler.log)."
fi
echo "Notice: pdftoppm/pdftotext not found. The PDF edition is still written; its checks are skipped."
echo "        Install them with: sudo apt-get install poppler-utils"
exit 0
