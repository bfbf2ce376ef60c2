"""The briefings folder: every page, the index, the downloads, the PDF edition, swapped in at once.

Method
------
:func:`build_briefings` (the pipeline's ``publish`` step) turns the executed notebooks into
``output/briefings/``:

* **Every run's pages.** One page per executed notebook (:func:`takingstock.publish.pages.render_page`).
  A run for another recipient, or one run of a grid, has its own stem
  (``04_supply_chains__yemen``); :func:`other_runs` keeps the pages earlier runs left beside
  this run's notebooks, so no run removes another recipient's page.
* **The index.** ``index.html`` opens with the lead of the whole set (:func:`set_lead`: the first
  sentence of each page's lead and the caveat every page shares) and lists the pages, the
  claims ledger first (:data:`INDEX_FIRST`), with their leads and the headline numbers each
  notebook wrote through its :class:`takingstock.report.findings.Briefing`.
* **Downloads.** Given ``tables_dir`` and ``figures_dir``, the tables and figures each notebook
  saved are copied into ``downloads/`` with the tables' data package, and every page links them
  (:mod:`takingstock.publish.downloads`).
* **PDF edition.** With ``pdf=True`` the index and the pages are printed into one PDF by
  :mod:`takingstock.publish.pdf_edition` (static figures, build stamp) in the static figures'
  browser, started while the pages are written; the index links it only when it was printed.
* **Offline.** The one shared ``plotly.min.js`` (from the installed plotly package) is written
  beside the pages.
* **Atomic.** Everything is written to a temporary folder beside ``briefings_dir`` and swapped
  in at the end; if any page fails, the previous briefings stay as they were.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from plotly.offline import get_plotlyjs

from takingstock.core import atomic
from takingstock.core.summaries import read_summary
from takingstock.data import packages
from takingstock.data.runcontext import GRID_STEM_SEP
from takingstock.publish import pdf_edition
from takingstock.publish.downloads import (
    DOWNLOADS_DIR,
    collect_downloads,
    copy_downloads,
    copy_package,
    outputs_of_pages,
)
from takingstock.publish.pages import BriefingError, BuildInfo, render_page, template_env
from takingstock.publish.stamp import current_git_commit, data_versions_rows, read_sources, relative_paths
from takingstock.report import images
from takingstock.report.images import PLOTLYJS_NAME

INDEX_NAME = "index.html"
#: Notebooks listed first in the index, in this order; the rest follow by file name.
INDEX_FIRST = ("05_claims",)
#: Pages whose lead says how the data was prepared, not what it shows: left out of the index's lead.
INDEX_LEAD_SKIP = ("01_clean_catalogue",)


def _page_order(stems: Iterable[str]) -> list[str]:
    stems = list(stems)
    first = [s for s in INDEX_FIRST if s in stems]
    return first + sorted(s for s in stems if s not in first)


def set_lead(entries: list[dict], most: int = 5) -> list[str]:
    """The lead of the whole set, for the index: the first sentence of each page's lead, in the
    index's order (the ledger first; a sentence two pages share said once), then the caveat
    every page shares, at most ``most`` sentences in all."""
    firsts = [e["lead"][0] for e in entries if e.get("lead") and e["stem"] not in INDEX_LEAD_SKIP]
    said = list(dict.fromkeys(firsts))[: most - 1]  # two runs of a notebook may open alike: said once
    return said + ["Every number is recomputed from the raw data; SIPRI's register covers major conventional weapons "
                   "only and its trend-indicator values measure military capability, not money."]


def render_index(entries: list[dict], *, build: BuildInfo) -> str:
    """The ``index.html`` listing every page (entries already in display order).

    ``build.package_href`` and ``build.pdf_href`` (relative links to the tables' data package and
    the PDF edition) are offered in its Downloads section when given; the index lists no
    single table or figure (each page does).
    """
    return template_env().get_template("index.html.j2").render(
        pages=entries,
        lead=" ".join(set_lead(entries)) if entries else "",
        built_at=build.built_at,
        git_commit=build.git_commit,
        sipri_release=build.sipri_release,
        data_versions=build.data_versions,
        sources=build.sources,
        downloads=None,
        package_href=build.package_href,
        pdf_href=build.pdf_href,
    )


def _swap_in(tmp_dir: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp_dir``; put the old folder back if the move fails."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    try:
        os.replace(tmp_dir, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def other_runs(notebooks: list[Path], summaries_dir: str | os.PathLike) -> list[Path]:
    """Executed notebooks beside ``notebooks`` that an earlier run left for another recipient or
    grid value of the same notebooks (stem ``<notebook>`` or ``<notebook>__<run>``), each with
    its summary: the pages of those runs are kept in the briefings."""
    bases = {p.stem.split(GRID_STEM_SEP)[0] for p in notebooks}
    have = {p.stem for p in notebooks}
    found = []
    for folder in sorted({p.parent for p in notebooks}):
        for nb in sorted(folder.glob("*.ipynb")):
            if (nb.stem not in have and nb.stem.split(GRID_STEM_SEP)[0] in bases
                    and read_summary(summaries_dir, nb.stem) is not None):
                found.append(nb)
    return found


def _write_tables_package(tables, tables_dir, summaries_dir, order, common) -> None:
    """Write the tables' data package for the run (``tables``: :func:`packages.table_records`)."""
    parameters = {stem: relative_paths((read_summary(summaries_dir, stem) or {}).get("parameters") or {})
                  for stem in order}
    run = {"built_at": common["built_at"], "git_commit": common["git_commit"],
           "sipri_release": common["sipri_release"],
           "raw_data": [{"file": f, "sha256": h} for f, h in common["data_versions"]],
           "parameters": parameters}
    packages.write_tables_package(tables, tables_dir, run=run)


def _render_pages(order, by_stem, summaries_dir, build: BuildInfo, tmp_dir: Path, final: Path, body_cache):
    """Write every briefing page into ``tmp_dir``; return (index entries, final paths)."""
    entries, written = [], []
    for stem in order:
        page, entry = render_page(by_stem[stem], summary=read_summary(summaries_dir, stem), build=build,
                                  body_cache=body_cache)
        atomic.write_text(tmp_dir / entry["href"], page)
        entries.append(entry)
        written.append(final / entry["href"])
    return entries, written


def build_briefings(
    notebooks: list[Path],
    *,
    summaries_dir: str | os.PathLike,
    briefings_dir: str | os.PathLike,
    raw_dir: str | os.PathLike,
    sipri_release: str | _dt.date | None = None,
    git_commit: str | None = None,
    built_at: str | _dt.datetime | None = None,
    tables_dir: str | os.PathLike | None = None,
    figures_dir: str | os.PathLike | None = None,
    pdf: bool = False,
    keep_other_runs: bool = True,
    body_cache: str | os.PathLike | None = None,
) -> list[Path]:
    """Render the executed notebooks into ``briefings_dir`` (see the module docstring).

    Args:
        notebooks: executed notebooks (``output/notebooks/*.ipynb``); page ``<stem>.html``.
        summaries_dir: where the notebooks wrote ``<stem>.json`` summaries.
        briefings_dir: the folder to (re)build, e.g. ``output/briefings``.
        raw_dir: the raw data folder, for the checksums and ``sources.csv``.
        sipri_release: release date of the SIPRI export used, shown on SIPRI pages.
        git_commit: commit of the code; found with ``git`` when ``None``.
        built_at: build time; now (UTC) when ``None``.
        tables_dir: where the notebooks saved their tables. When given, the tables recorded
            in the summaries are described in ``<tables_dir>/datapackage.json``
            (:mod:`takingstock.data.packages`) and copied with it into ``downloads/tables/``.
        figures_dir: where the figures' SVG and PNG are; when given they are copied into
            ``downloads/figures/``. Each table and figure on a page links its files.
        pdf: also write the PDF edition ``taking-stock.pdf`` (:mod:`takingstock.publish.pdf_edition`;
            skipped with one notice when no Chromium can be started).
        keep_other_runs: also render the executed notebooks an earlier run left beside these
            for another recipient or grid value of the same notebooks (``04_supply_chains__yemen``
            beside ``04_supply_chains``; :func:`other_runs`), so a run for one recipient never
            removes another's page.
        body_cache: a folder where page bodies are kept between runs (the pipeline's
            ``output/.cache/bodies``): the body of a notebook that did not change since is taken
            from there (:mod:`takingstock.publish.rendered`). ``None``: every body is rendered.

    Returns:
        The pages written, in index order, then ``index.html`` (the PDF is not listed).

    Raises:
        BriefingError: naming the notebook, when one cannot be rendered. The previous
            ``briefings_dir`` is then left untouched.
    """
    final = Path(briefings_dir)
    notebooks = [Path(p) for p in notebooks]
    if keep_other_runs:
        notebooks += other_runs(notebooks, summaries_dir)
    stems = [p.stem for p in notebooks]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise BriefingError(f"two notebooks share the page name(s) {dupes}")
    if built_at is None:
        built_at = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    built = built_at.isoformat() if hasattr(built_at, "isoformat") else str(built_at)
    release = sipri_release.isoformat() if hasattr(sipri_release, "isoformat") else sipri_release
    common = {
        "data_versions": data_versions_rows(raw_dir),
        "sources": read_sources(raw_dir),
        "built_at": built,
        "git_commit": git_commit or current_git_commit(),
        "sipri_release": release or None,
    }
    pdf_href = None
    if pdf:
        pdf_href = pdf_edition.PDF_NAME if pdf_edition.find_chromium() else None
        if pdf_href:  # the browser (the static figures' one, if it runs) starts while the pages are written
            images.start_browser()
    by_stem = dict(zip(stems, notebooks))
    order = _page_order(stems)
    downloads = package_href = None
    tables: list = []
    if tables_dir is not None or figures_dir is not None:
        records = outputs_of_pages(summaries_dir, order)
        if tables_dir is not None:
            tables = packages.table_records(summaries_dir, order)
            package_href = f"{DOWNLOADS_DIR}/tables/{packages.PACKAGE_FILE}" if tables else None
        downloads = collect_downloads(records, tables_dir=tables_dir, figures_dir=figures_dir)
    build = BuildInfo(**common, downloads=downloads, package_href=package_href)  # the PDF: index only
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        os.chmod(tmp_dir, 0o755)
        entries, written = _render_pages(order, by_stem, summaries_dir, build, tmp_dir, final, body_cache)
        atomic.write_text(tmp_dir / PLOTLYJS_NAME, get_plotlyjs())
        if downloads is not None:
            copy_downloads(downloads, tmp_dir, tables_dir=tables_dir, figures_dir=figures_dir, package=False)
        atomic.write_text(tmp_dir / INDEX_NAME, render_index(entries, build=replace(build, pdf_href=pdf_href)))
        # Chromium prints the PDF edition while the tables' package is written
        job = None
        if pdf_href:
            pages = [tmp_dir / INDEX_NAME] + [tmp_dir / e["href"] for e in entries]
            job = pdf_edition.start_pdf_edition(pages, tmp_dir / pdf_edition.PDF_NAME, built_at=built,
                                                git_commit=common["git_commit"])
        if tables:
            _write_tables_package(tables, tables_dir, summaries_dir, order, common)
            if downloads is not None and downloads.tables:
                copy_package(tmp_dir, tables_dir)
        if pdf_href and (job is None or job.result() is None):
            # Chromium failed: the index must not offer a missing PDF
            atomic.write_text(tmp_dir / INDEX_NAME, render_index(entries, build=build))
        _swap_in(tmp_dir, final)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return written + [final / INDEX_NAME]
