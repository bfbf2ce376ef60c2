"""Where the headless browser is: the one Chromium that draws static figures and prints the PDF.

The project installs Debian's ``chromium`` (``scripts/ensure-chromium.sh``); ``BROWSER_PATH``
names another. The figure export (kaleido, :mod:`takingstock.figures`), the PDF edition
(:mod:`takingstock.pdf_edition`, which prints in the figures' browser) and the publish step ask
:func:`find_browser` whether there is one; none ever downloads a browser: without one they say
so once and skip.
"""

from __future__ import annotations

import os
import shutil

__all__ = ["find_browser"]


def find_browser() -> str | None:
    """The path of an executable Chrome/Chromium (``BROWSER_PATH`` first), or None."""
    candidates = [os.environ.get("BROWSER_PATH", ""), "/usr/bin/chromium"]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None
