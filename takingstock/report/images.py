"""Static images of the figures (SVG and PNG), drawn by plotly.js in the process's one browser.

Method
------
``figures.save_figure`` writes each figure's plotly spec as ``<name>.json`` beside its HTML.
This module draws the spec's ``<name>.svg`` and ``<name>.png`` (:data:`STATIC_FORMATS`, 900 x
560 px: ``style.WIDTH``, ``style.HEIGHT``) with plotly.js's public ``Plotly.toImage`` (the call
kaleido's own page makes) in one page of the process's browser
(:func:`takingstock.report.browser.session`, driven by playwright's public API), plotly.js
loaded once from a ``file:`` page. The PNGs are byte for byte those stock kaleido
(``plotly.io.write_image``) draws of the same figure, the SVGs the same but for the random ids
plotly puts in every SVG (checked on the 24 figures of a run; the tests check size and pixels).
Stock kaleido, through its public API, reloads its page after every image: ~0.2 s an image,
9.4 s for a run's 46 against 1.8 s here (``bench/README.md``).

Under ``pipeline.py`` (which passes the notebook parameter ``static_figures=False``, carried by
the run context to ``save_figure(..., static=False)``) notebooks write only the HTML and the
spec, and the runner draws the SVG and PNG of a notebook's figures (:func:`export_pending` with
the names its summary lists) in its one browser as soon as that notebook is done, on a
background thread, while the next notebooks run; the ``figures`` step then only waits for that
and draws whatever is still pending (:func:`pending_static`: an image missing or older than its
spec). A notebook run by hand exports its images at once (:func:`export_static`).

Caveats
-------
Static images need a Chrome or Chromium (:func:`takingstock.report.browser.find_browser`:
``BROWSER_PATH``, then ``/usr/bin/chromium`` and the usual names on ``PATH``). Without one
(or when the export fails or passes ``EXPORT_TIMEOUT_S``), the static files are skipped, a
single notice is printed per process, and static export stays off for the process: a run never
fails for want of a browser (the HTML figures are written all the same). Each image is written
to a temporary name and moved into place.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from takingstock.report import browser
from takingstock.report.style import HEIGHT, WIDTH

EXPORT_TIMEOUT_S = 120.0
STATIC_FORMATS = ("svg", "png")
#: The one shared copy of plotly.js beside the figures and the pages (and in the image page).
PLOTLYJS_NAME = "plotly.min.js"

_notice_given = False
_static_disabled = False
_lock = threading.Lock()


def _notice(message: str) -> None:
    """Print the static-export notice once per process."""
    global _notice_given
    if not _notice_given:
        _notice_given = True
        print(f"[figures] {message}", file=sys.stderr)


_pages: dict = {}  # the browser's image page, made on first use (touched only in the browser's thread)
_page_dir: tempfile.TemporaryDirectory | None = None


def _image_page(chromium):
    """The one page of ``chromium`` (a playwright ``Browser``) that draws images, local
    requests only: a blank page that loads plotly.js (``plotly.offline.get_plotlyjs()``, written
    once into a temporary folder) from disk (from a ``file:`` page Chromium reads it itself: ~1/3
    quicker than handing it over as text)."""
    global _page_dir
    page = _pages.get(id(chromium))
    if page is None or page.is_closed():
        if _page_dir is None:
            _page_dir = tempfile.TemporaryDirectory(prefix="takingstock-images-")
        plotlyjs = Path(_page_dir.name) / PLOTLYJS_NAME
        plotlyjs.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        blank = plotlyjs.with_name("images.html")
        blank.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                         f'<script src="{plotlyjs.as_uri()}"></script></head>'
                         '<body style="margin:0;padding:0"></body></html>', encoding="utf-8")
        page = chromium.new_page()
        page.route("**/*", browser.local_only)
        page.goto(blank.as_uri())
        _pages[id(chromium)] = page
    return page


_TO_IMAGE_JS = "([fig, opts]) => Plotly.toImage(fig, opts)"


def _draw(chromium, jobs: list[tuple[dict, Path, str]]) -> None:
    """In the browser's thread: draw each ``(spec, path, format)`` with plotly.js's public
    ``Plotly.toImage`` (what kaleido's page calls too) and write it to ``path``."""
    page = _image_page(chromium)
    for spec, path, fmt in jobs:
        opts = {"format": fmt, "width": WIDTH, "height": HEIGHT, "scale": pio.defaults.default_scale or 1,
                "imageDataOnly": True}
        fig = {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": {}}
        data = page.evaluate(_TO_IMAGE_JS, [fig, opts])
        path.write_bytes(data.encode("utf-8") if fmt == "svg" else base64.b64decode(data))


def start_browser() -> bool:
    """Start the process's browser now, without waiting for it; ``False`` when there is none
    (the pipeline's figures step calls this while notebooks run)."""
    if _static_disabled:
        return False
    return browser.session() is not None


def export_static(
    figs: "Sequence[go.Figure | dict]", paths: Sequence[Path], *, timeout: float | None = None
) -> list[Path]:
    """Write static images (format from each path's suffix) in one batch, in the process's browser.

    ``figs`` are figures, or their plotly specs as dicts (what ``<name>.json`` holds).

    Returns the paths written; returns [] (with one notice per process) when no browser is
    found, the export raises, or it takes longer than ``timeout`` seconds (default
    ``EXPORT_TIMEOUT_S``); after a failure static export stays off for the process.
    Each image is written to a temporary name and moved into place (atomic).
    """
    global _static_disabled
    if not figs or _static_disabled:
        return []
    session = browser.session()
    if session is None:
        _static_disabled = True
        _notice(
            "no Chrome/Chromium found: static SVG/PNG figures are skipped (the HTML figures "
            "are written). Install one with `apt-get install chromium` or set BROWSER_PATH."
        )
        return []
    timeout = EXPORT_TIMEOUT_S if timeout is None else timeout
    tmp_paths = [p.with_name(f".{p.stem}.tmp{os.getpid()}{p.suffix}") for p in paths]
    jobs = [(f if isinstance(f, dict) else json.loads(pio.to_json(f)), t, Path(p).suffix.lstrip("."))
            for f, t, p in zip(figs, tmp_paths, paths)]
    with _lock:
        failed = None
        future = session.submit(_draw, jobs)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            failed = f"static export took longer than {timeout:.0f} s"
        except Exception as exc:  # noqa: BLE001 - reported below
            failed = f"static export failed ({type(exc).__name__}: {exc})"
        if failed:
            _static_disabled = True
            for t in tmp_paths:
                t.unlink(missing_ok=True)
            _notice(f"{failed}; static SVG/PNG figures are skipped for this run.")
            return []
        for t, p in zip(tmp_paths, paths):
            os.replace(t, p)
    return list(paths)


def pending_static(figures_dir: str | os.PathLike, names: Iterable[str] | None = None) -> list[tuple[Path, Path]]:
    """``(spec, image)`` pairs whose image is missing or older than the figure's ``.json`` spec.

    ``names`` (figure file stems) limits the search to those figures; None means every figure
    of the folder.
    """
    folder = Path(figures_dir)
    specs = (sorted(folder.glob("*.json")) if names is None
             else [folder / f"{n}.json" for n in sorted(set(names)) if (folder / f"{n}.json").is_file()])
    todo = []
    for spec in specs:
        for fmt in STATIC_FORMATS:
            image = spec.with_suffix(f".{fmt}")
            if not image.exists() or image.stat().st_mtime_ns < spec.stat().st_mtime_ns:
                todo.append((spec, image))
    return todo


def export_pending(figures_dir: str | os.PathLike, names: Iterable[str] | None = None) -> list[Path]:
    """Draw every pending SVG and PNG of ``figures_dir`` (or of the figures ``names``) in one batch.

    Returns the images written ([] with one notice when no browser can be had: the run still
    succeeds, as with :func:`export_static`).
    """
    todo = pending_static(figures_dir, names)
    # the spec as it was saved (a figure's own JSON), handed to plotly.js as it is: building a
    # plotly Figure from it first would only validate every property again (~10 ms a figure)
    specs = {spec: json.loads(spec.read_text(encoding="utf-8")) for spec in dict.fromkeys(s for s, _ in todo)}
    return export_static([specs[spec] for spec, _ in todo], [image for _, image in todo])
