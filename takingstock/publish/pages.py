"""A briefing page: one executed notebook rendered into our own page template.

Method
------
Each analysis notebook, once executed by the pipeline, becomes one HTML page (:func:`render_page`;
the site around the pages is :mod:`takingstock.publish.briefings`):

* **The masthead.** The page ``h1`` is the title in the notebook's summary (the Briefing's,
  which names the run's recipient: every run of a notebook shares its Markdown heading), else the
  notebook's first level-1 Markdown heading, else the file stem; its inline Markdown (``*em*``,
  ``**strong**``, `` `code` ``) becomes tags, everything else is escaped (:func:`title_markup`).
  The lead (3-5 sentences from the data, :func:`summary_lead`) and the headline tiles follow,
  from the summary the notebook's :class:`takingstock.report.findings.Briefing` wrote.
* **The body** is the notebook's declared findings and Markdown (:mod:`takingstock.publish.body`),
  rendered ahead while the run went on when that render still holds.
* **The shell** (head, header, provenance box, downloads, footer) is our own Jinja template in
  ``takingstock/publish/templates/``, rendered with autoescaping, so no CDN ``<script>``
  (require.js, MathJax, jQuery) can sneak in. The provenance box lists the build time, the
  code's commit, the SIPRI release (on pages whose notebook reads the register), the
  parameters, the raw data files' checksums and the sources (:mod:`takingstock.publish.stamp`).
* **Offline.** Figures are plotly divs without plotly.js: every page loads the one shared
  ``plotly.min.js`` beside it from ``<head>`` by a relative path, so the folder works anywhere,
  from ``file://`` or a static host, with no network.
"""

from __future__ import annotations

import functools
import html as _html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import jinja2
import markupsafe
import nbformat

from takingstock.data.sipri_terms import SIPRI_CREDIT
from takingstock.publish.body import notebook_title
from takingstock.publish.rendered import body_for_page
from takingstock.publish.downloads import Downloads
from takingstock.publish.stamp import display_parameters
from takingstock.report.images import PLOTLYJS_NAME

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LICENCE_NOTE = (
    "Code: MIT licence. Our tables, texts and these briefings: CC BY 4.0 (see LICENSE). "
    "Source facts remain their publishers' (each raw file's sidecar names them); SIPRI data "
    "are used under SIPRI's terms and not redistributed."
)
#: Pages bigger than this (without plotly.js) are reported by the tests.
MAX_PAGE_BYTES = 1_000_000


class BriefingError(RuntimeError):
    """A briefing could not be built; the message names the notebook."""


@functools.lru_cache(maxsize=1)
def template_env():
    """The Jinja environment of every page and the index, built once; what all pages share is a
    global."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.globals.update(
        sipri_credit=SIPRI_CREDIT,
        licence=LICENCE_NOTE,
        css=markupsafe.Markup((TEMPLATES_DIR / "briefing.css").read_text(encoding="utf-8")),
    )
    return env


_INLINE_MD = (
    (re.compile(r"\*\*(.+?)\*\*"), "strong"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), "em"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), "em"),
    (re.compile(r"`(.+?)`"), "code"),
)


def title_markup(title: str):
    """A heading's inline Markdown (``*em*``, ``**strong**``, `` `code` ``) as safe HTML.

    The text is escaped first; only those three forms become tags. Returns ``(html, plain)``.
    """
    text = _html.escape(title, quote=True)
    plain = title
    for pattern, tag in _INLINE_MD:
        text = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", text)
        plain = pattern.sub(lambda m: m.group(1), plain)
    return markupsafe.Markup(text), plain


def _stem_title(stem: str) -> str:
    return re.sub(r"^\d+_", "", stem).replace("_", " ").strip().capitalize() or stem


@dataclass(frozen=True)
class BuildInfo:
    """What every page and the index say about the build they belong to: the raw files'
    checksums (``data_versions``: ``(file, sha256)``), the sources read, when and from which
    code it was built, the SIPRI release, and the relative links of the downloads folder
    (``downloads``), the tables' data package and the PDF edition (each ``None`` when absent)."""

    data_versions: list[tuple[str, str]]
    sources: list[dict]
    built_at: str
    git_commit: str
    sipri_release: str | None
    downloads: Downloads | None = None
    package_href: str | None = None
    pdf_href: str | None = None


def render_page(nb_path: str | os.PathLike, *, summary: Mapping | None, build: BuildInfo,
                body_cache: str | os.PathLike | None = None) -> tuple[str, dict]:
    """Render one executed notebook to a full HTML page.

    With ``build.downloads``, each saved table and figure links its files and the page ends with
    a Downloads section listing its notebook's tables and figures; ``build.package_href`` and
    ``build.pdf_href`` (relative links) are offered there too. With ``body_cache``, the body is
    taken from, or kept in, that folder (:mod:`takingstock.publish.rendered`).

    Returns the page HTML and an index entry ``{stem, href, title, summary, headlines}``.
    """
    nb_path = Path(nb_path)
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds
        raise BriefingError(f"{nb_path}: cannot read the executed notebook: {exc}") from exc
    stem = nb_path.stem
    summary = dict(summary or {})
    # the summary's title (the Briefing's, naming the run's recipient) tells the runs of one
    # notebook apart; the notebook's own heading is the fallback
    title = summary.get("title") or notebook_title(nb) or _stem_title(stem)
    params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    if not params and isinstance(summary.get("parameters"), Mapping):
        params = dict(summary["parameters"])
    try:
        body = body_for_page(nb_path, nb, build.downloads, body_cache)
    except Exception as exc:
        raise BriefingError(f"{nb_path}: rendering failed: {exc}") from exc
    headlines = [
        {"label": str(h.get("label", "")), "value": str(h.get("value", ""))}
        for h in summary.get("headlines") or []
        if isinstance(h, Mapping)
    ]
    uses_sipri = "sipri_register" in params
    title_html, title_plain = title_markup(title)
    page = template_env().get_template("briefing.html.j2").render(
        title=title_html,
        title_plain=title_plain,
        summary=summary.get("summary", ""),
        lead=" ".join(summary_lead(summary)),
        headlines=headlines,
        built_at=build.built_at,
        git_commit=build.git_commit,
        sipri_release=build.sipri_release if uses_sipri else None,
        parameters=display_parameters(params),
        data_versions=build.data_versions,
        sources=build.sources,
        plotlyjs=PLOTLYJS_NAME,
        body=markupsafe.Markup(body),  # built by nbconvert from sanitised outputs
        downloads=build.downloads.page_items(stem) if build.downloads is not None else None,
        package_href=build.package_href,
        pdf_href=build.pdf_href,
    )
    entry = {
        "stem": stem,
        "href": f"{stem}.html",
        "title": title_html,
        "title_plain": title_plain,
        "summary": summary.get("summary", ""),
        "lead": summary_lead(summary),
        "headlines": headlines,
    }
    return page, entry


def summary_lead(summary: Mapping) -> list[str]:
    """A page's lead sentences from its summary (``lead``; an older summary's ``summary`` line)."""
    lead = summary.get("lead")
    if isinstance(lead, list) and lead:
        return [str(s) for s in lead if str(s).strip()]
    return [str(summary["summary"])] if summary.get("summary") else []
