"""The PDF edition: the index and every briefing in one PDF, in reading order.

Method
------
:func:`write_pdf_edition` is called by ``publish.build_briefings(pdf=True)`` on the pages it
has just written (index first, then the briefings in index order):

1. :func:`print_html` joins the pages' ``<body>`` contents into one print document, each page
   a ``<section class="print-part">`` that starts on a new sheet. The footer every page
   repeats (sources, SIPRI's credit, licence) is printed once, as the last part. Every interactive plotly
   figure is replaced by its static SVG from ``downloads/figures/<name>.svg`` (the name is the
   one ``figures.save_figure`` put in the figure's ``layout.meta``), with the alt text as the
   image's ``alt``; every ``<script>`` is dropped, so the document needs no JavaScript. A
   figure without an SVG (no browser drew it) is replaced by its alt text, marked as such.
   The pages' own CSS is kept; its print rules hide the download links and set the breaks.
2. The document is written beside the pages (so the relative image paths resolve), opened from
   ``file://`` in Debian's Chromium through playwright (``executable_path``: the project never
   downloads a browser build), every request other than ``file:`` or ``data:`` is aborted, and
   ``page.pdf`` prints it on A4 with a footer on every sheet: the build stamp (time and code
   version) and the page number. The temporary document is then removed. The browser is
   driven from a thread of its own (playwright's sync API refuses to run inside an asyncio
   loop, as in Jupyter or beside another playwright session).

When no Chromium is found, or playwright cannot start it, one notice is printed and the PDF is
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
import re
import sys
import threading
from pathlib import Path
from typing import Sequence

PDF_NAME = "taking-stock.pdf"
PRINT_DOCUMENT = ".print-edition.html"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIGURES_HREF = "downloads/figures"
PRINT_TIMEOUT_S = 300.0

_BODY_RE = re.compile(r"<body[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
_STYLE_RE = re.compile(r"<style[^>]*>.*?</style>", re.IGNORECASE | re.DOTALL)
_SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_FIGURE_RE = re.compile(r'<figure\b[^>]*\bclass="ts-figure"[^>]*>.*?</figure>', re.DOTALL)
_ARIA_RE = re.compile(r'aria-label="([^"]*)"')
_FOOTER_RE = re.compile(r'<footer class="colophon">.*?</footer>', re.DOTALL)
_META_NAME_RE = re.compile(r'"meta":\{(?:"alt":"(?:[^"\\]|\\.)*",)?"name":"([A-Za-z0-9][A-Za-z0-9_.-]*)"')

_notice_given = False


def _notice(message: str) -> None:
    global _notice_given
    if not _notice_given:
        _notice_given = True
        print(f"[pdf] {message}", file=sys.stderr)


def find_chromium() -> str | None:
    """The Chromium the project uses (``BROWSER_PATH``, Debian's ``/usr/bin/chromium``...)."""
    from takingstock.browser import find_browser

    return find_browser()


def static_figure(figure_html: str, folder: Path) -> str:
    """Replace one ``<figure class="ts-figure">`` by its static SVG (or its alt text)."""
    alt_match = _ARIA_RE.search(figure_html)
    alt = alt_match.group(1) if alt_match else "Figure"  # already escaped in the page
    name = _META_NAME_RE.search(figure_html)
    if name and (folder / FIGURES_HREF / f"{name.group(1)}.svg").is_file():
        src = f"{FIGURES_HREF}/{name.group(1)}.svg"
        return (f'<figure class="ts-figure"><img class="ts-static-figure" src="{src}" '
                f'alt="{alt}"></figure>')
    return f'<figure class="ts-figure"><p><em>Figure (no static image was drawn):</em> {alt}</p></figure>'


def print_html(pages: Sequence[Path], *, built_at: str, git_commit: str) -> str:
    """One print document of ``pages`` (all in one folder), in the order given."""
    if not pages:
        raise ValueError("print_html: no pages")
    folder = Path(pages[0]).parent
    style = colophon = ""
    parts = []
    for path in pages:
        text = Path(path).read_text(encoding="utf-8")
        if not style:
            found = _STYLE_RE.search(text)
            style = found.group(0) if found else ""
        body = _BODY_RE.search(text)
        if body is None:
            raise ValueError(f"{path}: no <body> to print")
        content = _FIGURE_RE.sub(lambda m: static_figure(m.group(0), folder), body.group(1))
        content = _SCRIPT_RE.sub("", content)
        footer = _FOOTER_RE.search(content)
        if footer is not None:  # the same sources, credit and licence on every page: once
            colophon = colophon or footer.group(0)
            content = content[:footer.start()] + content[footer.end():]
        parts.append(f'<section class="print-part" data-page="{_html.escape(Path(path).name)}">'
                     f"{content}</section>")
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


class Printer:
    """A Chromium, started now on a thread of its own, that prints one document when asked.

    Starting the browser (playwright's driver, then Chromium, then a page) takes a second or
    two; the publish step starts it before it renders the pages, so both happen at once.
    :meth:`print` hands over the document; :meth:`close` ends the browser unused. The thread is
    needed anyway: playwright's sync API refuses to run inside an asyncio loop.
    """

    def __init__(self, browser: str):
        import queue

        self.browser = browser
        self._jobs: queue.Queue = queue.Queue()
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._work, name="pdf-edition", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                chromium = pw.chromium.launch(executable_path=self.browser, headless=True, args=CHROMIUM_ARGS)
                try:
                    page = chromium.new_page()
                    page.route("**/*", lambda route: route.continue_()
                               if route.request.url.startswith(("file:", "data:")) else route.abort())
                    job = self._jobs.get()
                    if job is not None:
                        _print_page(page, *job)
                finally:
                    chromium.close()
        except BaseException as exc:  # noqa: BLE001 - reported by print()
            self._error.append(exc)

    def print(self, document: Path, target: Path, footer: str, timeout: float = PRINT_TIMEOUT_S) -> str | None:
        """Print ``document`` into ``target`` (atomically); return why it failed, or ``None``."""
        from takingstock import atomic

        try:
            with atomic.atomic_path(target) as tmp:
                self._jobs.put((document, tmp, footer))
                self._thread.join(timeout)
                if self._thread.is_alive():
                    raise TimeoutError(f"took longer than {timeout:.0f} s")
                if self._error:
                    raise self._error[0]
        except BaseException as exc:  # noqa: BLE001 - a browser failure must not fail the run
            return str(exc) if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return None

    def close(self) -> None:
        """End the browser if nothing was printed (no wait)."""
        self._jobs.put(None)


def _print_page(page, document: Path, target: Path, footer: str) -> None:
    """Open ``document`` in ``page`` and print it to ``target`` on A4 with ``footer`` on each sheet."""
    page.goto(document.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    page.pdf(path=str(target), format="A4", print_background=True,
             display_header_footer=True, header_template="<div></div>",
             footer_template=footer,
             margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})


_prepared: Printer | None = None
_prepared_lock = threading.Lock()


def prepare_printer() -> None:
    """Start a :class:`Printer` now for the next :func:`start_printer` of this process (the
    pipeline does this while the notebooks run); :func:`discard_prepared` ends it if unused."""
    global _prepared
    printer = _new_printer(None)
    with _prepared_lock:
        if _prepared is None:
            _prepared, printer = printer, None
    if printer is not None:  # one was prepared meanwhile
        printer.close()


def discard_prepared() -> None:
    """End the printer :func:`prepare_printer` started, if no :func:`start_printer` took it."""
    global _prepared
    with _prepared_lock:
        printer, _prepared = _prepared, None
    if printer is not None:
        printer.close()


def start_printer(browser: str | None = None) -> Printer | None:
    """A :class:`Printer` on ``browser`` (:func:`find_chromium` when ``None``; the one
    :func:`prepare_printer` started, when there is one), or ``None`` with one notice when there
    is no Chromium or no playwright."""
    global _prepared
    with _prepared_lock:
        printer, _prepared = _prepared, None
    if printer is not None and browser in (None, printer.browser):
        return printer
    if printer is not None:
        printer.close()
    return _new_printer(browser)


def _new_printer(browser: str | None) -> Printer | None:
    browser = browser or find_chromium()
    if browser is None:
        _notice("no Chrome/Chromium found: the PDF edition is skipped (install Debian's "
                "chromium, `make chromium`, or set BROWSER_PATH).")
        return None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - playwright is pinned in requirements
        _notice(f"playwright is not installed ({exc}): the PDF edition is skipped.")
        return None
    return Printer(browser)


def write_pdf_edition(
    pages: Sequence[Path],
    pdf_path: str | os.PathLike,
    *,
    built_at: str,
    git_commit: str,
    browser: str | None = None,
    printer: Printer | None = None,
) -> Path | None:
    """Print ``pages`` (index first) into ``pdf_path``; return it, or ``None`` when skipped.

    Args:
        pages: the published HTML pages in reading order, all in one folder (the one holding
            ``downloads/figures``).
        pdf_path: where to write the PDF (written atomically).
        built_at, git_commit: the build stamp printed on every sheet.
        browser: the Chromium to drive; :func:`find_chromium` when ``None``.
        printer: a :func:`start_printer` already started (it is used up); else one is started.
    """
    from takingstock import atomic

    printer = printer or start_printer(browser)
    if printer is None:
        return None
    folder = Path(pages[0]).parent
    document = folder / PRINT_DOCUMENT
    pdf_path = Path(pdf_path)
    try:
        atomic.write_text(document, print_html(pages, built_at=built_at, git_commit=git_commit))
        failed = printer.print(document, pdf_path, _footer(built_at, git_commit))
    finally:
        printer.close()
        document.unlink(missing_ok=True)
    if failed:  # a browser failure must not fail the run
        _notice(f"Chromium could not print the PDF edition ({failed}); it is skipped.")
        return None
    return pdf_path
