"""The PDF edition: the index and every briefing in one PDF, in reading order.

Method
------
:func:`start_pdf_edition` is called by ``briefings.build_briefings(pdf=True)`` on the pages it
has just written (index first, then the briefings in index order):

1. :func:`print_html` reads each page with an HTML parser (BeautifulSoup with Python's own
   ``html.parser``) and joins the pages' ``<body>`` contents into one print document, each page
   a ``<section class="print-part">`` that starts on a new sheet. The footer every page
   repeats (sources, SIPRI's credit, licence) is printed once, as the last part. Every
   interactive plotly figure is replaced by its static SVG from ``downloads/figures/<name>.svg``
   (the name is the one ``figures.save_figure`` put in the figure's ``layout.meta``, read from
   the figure's script by ``sanitise.parse_plotly_script``), with the alt text as the image's
   ``alt``; every ``<script>`` is dropped, so the document needs no JavaScript. A figure
   without an SVG (no browser drew it) is replaced by its alt text, marked as such. The pages'
   own CSS is kept; its print rules hide the download links and set the breaks.
2. The document is written beside the pages (so the relative image paths resolve) and printed
   by playwright's public ``page.pdf`` in the process's browser, the one that draws the static
   figures (:func:`takingstock.report.browser.session`: Debian's Chromium, one for the run), on that
   browser's thread while the caller goes on: every
   request other than ``file:`` or ``data:`` is refused, the page is shown with print media,
   and printed on A4 (:data:`PRINT_OPTIONS`) with a footer on every sheet: the build stamp
   (time and code version) and the page number. The temporary document is then removed.

When no Chromium is found, or it cannot print, one notice is printed and the PDF is
skipped (``None`` is returned): a run never fails for want of a browser, as with static
figures.

Caveats
-------
* The PDF's text comes from the same escaped HTML as the pages; links keep their targets
  (relative ones point into the published folder and work only beside it).
* ``<details>`` blocks (parameters, raw-file checksums) print closed, as on screen.
* Page count depends on the fonts installed; the tests check order and titles, not layout.
"""

from __future__ import annotations

import html as _html
import os
import sys
from pathlib import Path
from typing import Sequence

from bs4 import BeautifulSoup

from takingstock.core import atomic
from takingstock.report import browser
from takingstock.publish.downloads import figure_name
from takingstock.publish.sanitise import UnsafeOutputError, parse_plotly_script

PDF_NAME = "taking-stock.pdf"
PRINT_DOCUMENT = ".print-edition.html"
FIGURES_HREF = "downloads/figures"
PRINT_TIMEOUT_S = 300.0

_notice_given = False


def _notice(message: str) -> None:
    global _notice_given
    if not _notice_given:
        _notice_given = True
        print(f"[pdf] {message}", file=sys.stderr)


def find_chromium() -> str | None:
    """The Chromium the project uses (``BROWSER_PATH``, Debian's ``/usr/bin/chromium``...)."""
    return browser.find_browser()


def _figure_name(figure) -> str | None:
    """The saved name of the plotly figure inside a parsed ``<figure>`` (None when unknown)."""
    for script in figure.find_all("script"):
        try:
            _, _, layout, _ = parse_plotly_script(script.get_text())
        except UnsafeOutputError:
            continue
        return figure_name({"layout": layout})
    return None


def static_figure(figure, folder: Path, soup: BeautifulSoup):
    """A new ``<figure class="ts-figure">`` for the parsed ``figure``: its static SVG (or its alt text)."""
    alt = figure.get("aria-label") or "Figure"
    name = _figure_name(figure)
    out = soup.new_tag("figure", attrs={"class": "ts-figure"})
    if name and (folder / FIGURES_HREF / f"{name}.svg").is_file():
        out.append(soup.new_tag("img", attrs={"class": "ts-static-figure", "src": f"{FIGURES_HREF}/{name}.svg",
                                              "alt": alt}))
    else:
        p = soup.new_tag("p")
        em = soup.new_tag("em")
        em.string = "Figure (no static image was drawn):"
        p.extend([em, f" {alt}"])
        out.append(p)
    return out


def print_html(pages: Sequence[Path], *, built_at: str, git_commit: str) -> str:
    """One print document of ``pages`` (all in one folder), in the order given."""
    if not pages:
        raise ValueError("print_html: no pages")
    folder = Path(pages[0]).parent
    style = colophon = ""
    parts = []
    for path in pages:
        soup = BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")
        if not style and soup.style is not None:
            style = str(soup.style)
        body = soup.body
        if body is None:
            raise ValueError(f"{path}: no <body> to print")
        for figure in body.select("figure.ts-figure"):
            figure.replace_with(static_figure(figure, folder, soup))
        for script in body.find_all("script"):
            script.decompose()
        footer = body.find("footer", class_="colophon")
        if footer is not None:  # the same sources, credit and licence on every page: once
            colophon = colophon or str(footer)
            footer.decompose()
        parts.append(f'<section class="print-part" data-page="{_html.escape(Path(path).name)}">'
                     f"{body.decode_contents()}</section>")
    if colophon:
        parts.append(f'<section class="print-part" data-page="colophon">{colophon}</section>')
    stamp = _html.escape(f"Built {built_at}, code {git_commit}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>taking-stock briefings: PDF edition</title>\n"
        f"{style}\n</head>\n<body>\n"
        f'<p class="kicker">taking-stock briefings, PDF edition. {stamp}.</p>\n'
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def _footer(built_at: str, git_commit: str) -> str:
    stamp = _html.escape(f"taking-stock briefings · built {built_at} · code {git_commit}")
    return ('<div style="font-size:7pt; font-family:Arial, sans-serif; width:100%; '
            'padding:0 12mm; color:#444; display:flex; justify-content:space-between;">'
            f'<span>{stamp}</span><span>page <span class="pageNumber"></span> of '
            '<span class="totalPages"></span></span></div>')


#: playwright's ``page.pdf`` options: A4, the margins, a footer on every sheet (the footer's
#: text is added per run by :func:`start_pdf_edition`).
PRINT_OPTIONS = {"format": "A4", "print_background": True, "display_header_footer": True,
                 "header_template": "<div></div>", "prefer_css_page_size": False,
                 "margin": {"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                 "tagged": False, "outline": False}


def print_pdf(chromium, uri: str, options: dict) -> bytes:
    """In the browser's thread (:meth:`takingstock.report.browser.Session.submit`): the PDF of the page at
    ``uri``, printed by playwright's ``page.pdf`` (``options``), with print media and local
    requests only."""
    page = chromium.new_page()
    try:
        page.route("**/*", browser.local_only)
        page.emulate_media(media="print")
        page.goto(uri, wait_until="load", timeout=PRINT_TIMEOUT_S * 1000)
        return page.pdf(**options)
    finally:
        page.close()


class PdfJob:
    """A PDF edition being printed (:func:`start_pdf_edition`); :meth:`result` waits for it."""

    def __init__(self, future, document: Path, pdf_path: Path):
        self._future, self._document, self.pdf_path = future, document, pdf_path

    def result(self, timeout: float = PRINT_TIMEOUT_S) -> Path | None:
        """Write the PDF and return its path, or ``None`` (one notice) when Chromium failed."""
        try:
            atomic.write_bytes(self.pdf_path, self._future.result(timeout))
        except Exception as exc:  # noqa: BLE001 - a browser failure must not fail the run
            self._future.cancel()
            _notice(f"Chromium could not print the PDF edition ({type(exc).__name__}: {exc}); it is skipped.")
            return None
        finally:
            self._document.unlink(missing_ok=True)
        return self.pdf_path


def start_pdf_edition(
    pages: Sequence[Path],
    pdf_path: str | os.PathLike,
    *,
    built_at: str,
    git_commit: str,
) -> PdfJob | None:
    """Start printing ``pages`` (index first) into ``pdf_path``; ``None`` (one notice) when skipped.

    The browser prints while the caller goes on; :meth:`PdfJob.result` writes the file.

    Args:
        pages: the published HTML pages in reading order, all in one folder (the one holding
            ``downloads/figures``, which must hold the figures' SVGs by now).
        pdf_path: where to write the PDF (written atomically).
        built_at, git_commit: the build stamp printed on every sheet.
    """
    if find_chromium() is None:
        _notice("no Chrome/Chromium found: the PDF edition is skipped (install Debian's "
                "chromium, `make chromium`, or set BROWSER_PATH).")
        return None
    text = print_html(pages, built_at=built_at, git_commit=git_commit)  # a page without a body raises
    document = Path(pages[0]).parent / PRINT_DOCUMENT
    options = {**PRINT_OPTIONS, "footer_template": _footer(built_at, git_commit)}
    try:
        atomic.write_text(document, text)
        future = browser.session().submit(print_pdf, document.resolve().as_uri(), options)
    except Exception as exc:  # noqa: BLE001 - a browser failure must not fail the run
        document.unlink(missing_ok=True)
        _notice(f"Chromium could not print the PDF edition ({type(exc).__name__}: {exc}); it is skipped.")
        return None
    return PdfJob(future, document, Path(pdf_path))


def write_pdf_edition(
    pages: Sequence[Path],
    pdf_path: str | os.PathLike,
    *,
    built_at: str,
    git_commit: str,
) -> Path | None:
    """Print ``pages`` (index first) into ``pdf_path`` and wait; return it, or ``None`` when
    skipped (:func:`start_pdf_edition`, then :meth:`PdfJob.result`)."""
    job = start_pdf_edition(pages, pdf_path, built_at=built_at, git_commit=git_commit)
    return None if job is None else job.result()
